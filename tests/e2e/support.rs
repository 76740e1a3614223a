//! Starting the application for a test and talking to it.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use chrono::{DateTime, Utc};
use innoreport_api::Clock;
use innoreport_api::http::auth::TokenKeys;
use innoreport_core::{CommuneCode, Principal, ProvinceCode, Role};
use innoreport_server::startup::prepare_store;
use innoreport_server::{Application, Config};
use innoreport_store::testing::TestDatabase;
use serde_json::Value;

/// The signing secret of test applications (tests mint their own tokens with it).
pub const TEST_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
pub const ISSUER: &str = "innoreport";
pub const AUDIENCE: &str = "innoreport-api";

/// A running application on its own fresh database.
pub struct TestApp {
    pub address: String,
    pub db: std::sync::Arc<TestDatabase>,
    pub clock: Clock,
    client: awc::Client,
}

/// An HTTP answer, body read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn content_type(&self) -> &str {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub fn test_config(db: &TestDatabase) -> Config {
    Config {
        database_url: db.url.clone(),
        bind: "127.0.0.1:0".into(),
        workers: Some(2),
        jwt_secret: Some(TEST_SECRET.into()),
        // Tests send many requests with one token; the rate limit has its own test.
        rate_limit: 0,
        // Tests run the notifier themselves, at the instants they choose, and receive webhooks
        // on loopback.
        notify_interval: 0,
        webhook_allow_loopback: true,
        ..Config::defaults()
    }
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Keys equal to the test application's, for minting tokens.
pub fn keys() -> TokenKeys {
    TokenKeys::new(
        TEST_SECRET.as_bytes(),
        ISSUER,
        AUDIENCE,
        Duration::from_secs(3600),
    )
    .unwrap()
}

/// A token for a role in a scope.
pub fn token(role: Role, province: Option<&str>, commune: Option<&str>) -> String {
    let principal = Principal {
        subject: format!(
            "{}-{}",
            role.as_str(),
            commune.or(province).unwrap_or("all")
        ),
        role,
        province: province.map(|p| ProvinceCode::parse(p).unwrap()),
        commune: commune.map(|c| CommuneCode::parse(c).unwrap()),
    };
    keys().mint(&principal, Duration::from_secs(3600))
}

/// The officer of Xã Mường La (Sơn La).
pub fn muong_la() -> String {
    token(Role::CommuneOfficer, Some("14"), Some("03808"))
}

/// The province admin of Sơn La.
pub fn son_la_admin() -> String {
    token(Role::ProvinceAdmin, Some("14"), None)
}

impl TestApp {
    /// A fresh database, migrated and seeded, and the application serving it.
    pub async fn spawn() -> TestApp {
        Self::spawn_on(std::sync::Arc::new(TestDatabase::new())).await
    }

    /// A second server process on the same database, as a replica behind a load balancer.
    pub async fn replica(&self) -> TestApp {
        let app = Self::spawn_on(std::sync::Arc::clone(&self.db)).await;
        app.clock.set(self.clock.now());
        app
    }

    /// The application over an existing test database (as a restart would start it).
    pub async fn spawn_on(db: std::sync::Arc<TestDatabase>) -> TestApp {
        Self::spawn_configured(db, |_| {}).await
    }

    /// A fresh database and an application with some settings changed.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_configured(std::sync::Arc::new(TestDatabase::new()), configure).await
    }

    pub async fn spawn_configured(
        db: std::sync::Arc<TestDatabase>,
        configure: impl FnOnce(&mut Config),
    ) -> TestApp {
        let mut config = test_config(&db);
        configure(&mut config);
        let store = prepare_store(&config).expect("the store is ready");
        let clock = Clock::system();
        let app =
            Application::with_clock(&config, store, clock.clone()).expect("the application starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        actix_web::rt::spawn(app.run_until_stopped());
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish();
        let app = TestApp {
            address,
            db,
            clock,
            client,
        };
        // As a load balancer would: traffic once /ready says so (its live view is loaded).
        within(Duration::from_secs(30), async || {
            app.get("/ready").await.status == 200
        })
        .await;
        app
    }

    /// A fresh application whose clock reads `now`.
    pub async fn spawn_at(now: &str) -> TestApp {
        let app = Self::spawn().await;
        app.clock.set(at(now));
        app
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Answer {
        read(
            self.client
                .get(self.url(path))
                .send()
                .await
                .expect("answered"),
        )
        .await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Answer {
        let req = self.client.get(self.url(path)).bearer_auth(token);
        read(req.send().await.expect("answered")).await
    }

    pub async fn get_with(&self, token: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut req = self.client.get(self.url(path)).bearer_auth(token);
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        read(req.send().await.expect("answered")).await
    }

    pub async fn post_json(&self, token: Option<&str>, path: &str, body: &Value) -> Answer {
        let mut req = self.client.post(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        read(req.send_json(body).await.expect("answered")).await
    }

    pub async fn post_raw(
        &self,
        token: &str,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> Answer {
        let req = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .insert_header(("content-type", content_type));
        read(req.send_body(body.to_owned()).await.expect("answered")).await
    }

    /// Any method, with an optional token, JSON body and extra headers.
    pub async fn request_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let sent = match body {
            Some(body) => req.send_json(body).await,
            None => req.send().await,
        };
        read(sent.expect("answered")).await
    }

    /// POST a body of the given content type, with an optional token.
    pub async fn post_bytes(
        &self,
        token: Option<&str>,
        path: &str,
        content_type: &str,
        body: impl AsRef<[u8]>,
    ) -> Answer {
        let mut req = self
            .client
            .post(self.url(path))
            .insert_header(("content-type", content_type));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        read(
            req.send_body(body.as_ref().to_vec())
                .await
                .expect("answered"),
        )
        .await
    }

    /// Any method, with an optional token and JSON body.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let sent = match body {
            Some(body) => req.send_json(body).await,
            None => req.send().await,
        };
        read(sent.expect("answered")).await
    }

    /// POST JSON with the Authorization header exactly as given.
    pub async fn post_authorized(&self, authorization: &str, path: &str, body: &Value) -> Answer {
        let req = self
            .client
            .post(self.url(path))
            .insert_header(("authorization", authorization));
        read(req.send_json(body).await.expect("answered")).await
    }

    pub async fn put_json(&self, token: &str, path: &str, body: &Value) -> Answer {
        let req = self.client.put(self.url(path)).bearer_auth(token);
        read(req.send_json(body).await.expect("answered")).await
    }

    /// POST /api/v1/reports.
    pub async fn submit(&self, token: &str, body: &Value) -> Answer {
        self.post_json(Some(token), "/api/v1/reports", body).await
    }
}

async fn read<S>(mut res: awc::ClientResponse<S>) -> Answer
where
    S: futures_core::Stream<Item = Result<actix_web::web::Bytes, actix_web::error::PayloadError>>
        + Unpin,
{
    let body = res
        .body()
        .limit(64 * 1024 * 1024)
        .await
        .expect("the body is read");
    Answer {
        status: res.status(),
        headers: res.headers().clone(),
        body: body.to_vec(),
    }
}

/// Asserts a problem+json answer with the given status.
pub fn assert_problem(answer: &Answer, status: u16) -> Value {
    assert_eq!(answer.status.as_u16(), status, "{}", answer.text());
    assert_eq!(answer.content_type(), "application/problem+json");
    let p = answer.json();
    assert_eq!(p["status"], status);
    assert!(
        p["type"]
            .as_str()
            .unwrap()
            .starts_with("urn:innoreport:problem:")
    );
    assert!(!p["title"].as_str().unwrap().is_empty());
    assert!(!p["detail"].as_str().unwrap().is_empty());
    p
}

/// The (field, code) pairs of a problem's errors, sorted.
pub fn error_codes(problem: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Polls until `check` holds, every 50 ms, failing the test after `limit`: how tests wait for
/// something that happens elsewhere (another process, a restart), never a fixed sleep.
pub async fn within(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "not within {limit:?}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs the `innoreport` binary on the test database with `args`; its output, once it exited
/// successfully.
pub fn innoreport(db: &TestDatabase, args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_innoreport"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("INNOREPORT_JWT_SECRET", TEST_SECRET)
        .env("INNOREPORT_WEBHOOK_ALLOW_LOOPBACK", "true")
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "innoreport {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Sơn La from `innoreport demo` (two years, ending with the current one), served by a test
/// application.
pub async fn demo_app(seed: u64) -> TestApp {
    let db = TestDatabase::new();
    let seed = seed.to_string();
    innoreport(
        &db,
        &["demo", "--province", "14", "--years", "2", "--seed", &seed],
    );
    TestApp::spawn_on(std::sync::Arc::new(db)).await
}
