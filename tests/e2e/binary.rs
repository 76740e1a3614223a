//! The `innoreport` binary itself, as an operator runs it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use innoreport_store::testing::TestDatabase;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn openapi_subcommand_prints_the_committed_document() {
    let out = Command::new(env!("CARGO_BIN_EXE_innoreport"))
        .arg("openapi")
        .output()
        .unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../openapi/openapi.json"
    ))
    .unwrap();
    assert!(
        String::from_utf8(out.stdout).unwrap() == committed,
        "openapi/openapi.json is stale: regenerate it with `cargo run -- openapi > openapi/openapi.json`"
    );
}

#[actix_web::test]
async fn serve_migrates_seeds_answers_and_stops_gracefully_on_sigterm() {
    let db = TestDatabase::new();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_innoreport"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--workers",
            "1",
        ])
        .env("DATABASE_URL", &db.url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = awc::Client::default();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    // Ready once it listens and has loaded its live view (503 with Retry-After before).
    loop {
        if let Ok(res) = client.get(format!("{url}/ready")).send().await {
            if res.status() == 200 {
                break;
            }
            assert_eq!(res.status(), 503);
            assert!(res.headers().contains_key("retry-after"));
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the binary did not become ready"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let mut res = client
        .get(format!("{url}/api/v1/provinces"))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().limit(1 << 20).await.unwrap();
    assert_eq!(body["items"].as_array().unwrap().len(), 34);

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(40),
            "the binary did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "clean exit after SIGTERM: {status:?}");
}

pub(crate) struct Process(pub std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) async fn start(db: &TestDatabase) -> (Process, String) {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_innoreport"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--workers",
            "1",
        ])
        .env("DATABASE_URL", &db.url)
        .env("INNOREPORT_JWT_SECRET", crate::support::TEST_SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let client = awc::Client::default();
    let started = Instant::now();
    loop {
        if let Ok(res) = client.get(format!("{url}/ready")).send().await
            && res.status() == 200
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the binary did not start"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    (Process(child), url)
}

#[actix_web::test]
async fn two_server_processes_on_one_database_read_each_others_writes() {
    let db = TestDatabase::new();
    let (_a, a) = start(&db).await;
    let (_b, b) = start(&db).await;
    let client = awc::Client::default();
    let analyst = crate::support::token(innoreport_core::Role::ProvinceAnalyst, Some("14"), None);
    let officer = crate::support::muong_la();
    let quarter = {
        let now = chrono::Utc::now() + chrono::Duration::hours(7);
        use chrono::Datelike;
        format!("{}Q{}", now.year(), (now.month() - 1) / 3 + 1)
    };
    let path = format!("/api/v1/aggregates?indicator=dossiers_total&period={quarter}");
    let value = |body: serde_json::Value| body["items"][0]["value"].clone();
    let mut res = client
        .get(format!("{b}{path}"))
        .bearer_auth(&analyst)
        .send()
        .await
        .unwrap();
    assert_eq!(value(res.json().await.unwrap()), serde_json::Value::Null);

    let body = serde_json::json!({"dataset": "dmst-quarterly", "period": quarter, "values": {"dossiers_total": 42}});
    let res = client
        .post(format!("{a}/api/v1/reports"))
        .bearer_auth(&officer)
        .send_json(&body)
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    // Read-your-writes across processes, immediately.
    let mut res = client
        .get(format!("{b}{path}"))
        .bearer_auth(&analyst)
        .send()
        .await
        .unwrap();
    assert_eq!(value(res.json().await.unwrap()), serde_json::json!(42.0));

    // Every answer carries the request id of its log line; probing random paths does not grow
    // the metrics.
    let probe = client
        .get(format!("{a}/no/such/path-7f3a"))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 404);
    assert!(
        probe
            .headers()
            .get("x-request-id")
            .is_some_and(|v| v.len() >= 16)
    );
    let mut metrics = client.get(format!("{a}/metrics")).send().await.unwrap();
    let text = String::from_utf8(metrics.body().await.unwrap().to_vec()).unwrap();
    assert!(
        text.contains("innoreport_submissions_total{outcome=\"created\"} 1"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("http_requests_total") && l.contains("/api/v1/reports")),
        "per-route request counts: {text}"
    );
    assert!(
        !text.contains("path-7f3a") && text.contains("UNMATCHED"),
        "unknown paths share one label"
    );
    let mut metrics = client.get(format!("{b}/metrics")).send().await.unwrap();
    let text = String::from_utf8(metrics.body().await.unwrap().to_vec()).unwrap();
    assert!(
        text.contains("innoreport_view_refresh_seconds_count"),
        "aggregator refresh timing"
    );
}

#[actix_web::test]
async fn demo_data_fills_the_province_dashboard() {
    let db = TestDatabase::new();
    let out = Command::new(env!("CARGO_BIN_EXE_innoreport"))
        .args(["demo", "--province", "14", "--years", "2", "--seed", "3"])
        .env("DATABASE_URL", &db.url)
        .env("INNOREPORT_JWT_SECRET", crate::support::TEST_SECRET)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(printed.starts_with("demo: 75 communes,"), "{printed}");
    let (_server, url) = start(&db).await;
    let year = {
        use chrono::Datelike;
        (chrono::Utc::now() + chrono::Duration::hours(7)).year() - 1
    };
    let analyst = crate::support::token(innoreport_core::Role::ProvinceAnalyst, Some("14"), None);
    let mut res = awc::Client::default()
        .get(format!("{url}/api/v1/provinces/14/dashboard?period={year}"))
        .bearer_auth(&analyst)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let dash: serde_json::Value = res.json().limit(1 << 22).await.unwrap();
    let headline = dash["headline"].as_array().unwrap();
    assert!(
        headline.iter().all(|h| h["value"].is_number()),
        "every headline figure is filled: {headline:?}"
    );
    assert!(dash["compliance"][0]["received"].as_i64().unwrap() > 50);
    assert_eq!(dash["top_communes"].as_array().unwrap().len(), 5);
    assert!(
        dash["commune_index"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["rank"] == 1)
    );
}

/// Runs `innoreport <args>` on `database`; returns (success, stdout, stderr).
fn cli(database: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_innoreport"))
        .args(args)
        .env("DATABASE_URL", database)
        .env("INNOREPORT_JWT_SECRET", crate::support::TEST_SECRET)
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[actix_web::test]
async fn the_cli_mints_named_bounded_tokens_runs_logins_and_never_creates_a_database() {
    // Asked to read a database that does not exist, it refuses and creates nothing.
    let dir = std::env::temp_dir().join(format!("innoreport-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let absent = dir.join("absent.db");
    let url = format!("sqlite://{}", absent.display());
    for args in [
        vec!["token", "--sub", "ops", "--role", "admin"],
        vec!["user", "list"],
    ] {
        let (ok, _, err) = cli(&url, &args);
        assert!(!ok, "{args:?}");
        assert!(err.contains("there is no database"), "{err}");
        assert!(!absent.exists(), "{args:?} created a database");
    }
    std::fs::remove_dir_all(&dir).ok();

    let db = TestDatabase::new();
    let (_server, base) = start(&db).await;
    // Tokens name their subject, live at most 30 days, and fit a real scope.
    for (args, why) in [
        (vec!["token", "--role", "admin"], "--sub"),
        (
            vec!["token", "--sub", "ops", "--role", "admin", "--ttl", "31d"],
            "30 days",
        ),
        (
            vec!["token", "--sub", "ops", "--role", "commune_officer"],
            "commune",
        ),
        (
            vec![
                "token",
                "--sub",
                "ops",
                "--role",
                "province_admin",
                "--province",
                "99",
            ],
            "province",
        ),
        (
            vec![
                "token",
                "--sub",
                "ops",
                "--role",
                "commune_officer",
                "--commune",
                "99999",
            ],
            "commune",
        ),
    ] {
        let (ok, _, err) = cli(&db.url, &args);
        assert!(!ok, "{args:?} was accepted");
        assert!(err.contains(why), "{args:?}: {err}");
    }
    let (ok, token, err) = cli(
        &db.url,
        &[
            "token",
            "--sub",
            "he-thong-muong-la",
            "--role",
            "commune_officer",
            "--commune",
            "03808",
            "--ttl",
            "10m",
        ],
    );
    assert!(ok, "{err}");
    let client = awc::Client::default();
    let mut res = client
        .get(format!("{base}/api/v1/reports"))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    drop(res.body().await);

    // Logins: created with a password printed once, disabled, listed.
    let (ok, out, err) = cli(
        &db.url,
        &[
            "user",
            "create",
            "--username",
            "quan-tri",
            "--role",
            "admin",
        ],
    );
    assert!(ok, "{err}");
    assert!(out.contains("password: "), "{out}");
    let (ok, _, err) = cli(&db.url, &["user", "disable", "quan-tri"]);
    assert!(ok, "{err}");
    let (ok, out, _) = cli(&db.url, &["user", "list", "--disabled", "true"]);
    assert!(ok);
    assert!(
        out.lines()
            .any(|l| l.starts_with("quan-tri\tadmin") && l.contains("disabled")),
        "{out}"
    );

    // The minting and the account actions are in the change log, by the operator.
    let admin = crate::support::token(innoreport_core::Role::Admin, None, None);
    let mut res = client
        .get(format!("{base}/api/v1/changes?limit=1000"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let changes: serde_json::Value = res.json().limit(1 << 22).await.unwrap();
    let actions: Vec<(&str, &str)> = changes["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap(),
                c["subject"].as_str().unwrap(),
            )
        })
        .collect();
    for expected in [
        ("token.mint", "he-thong-muong-la"),
        ("user.create", "quan-tri"),
        ("user.disable", "quan-tri"),
    ] {
        assert!(actions.contains(&expected), "{expected:?} in {actions:?}");
    }
}

#[test]
fn a_replica_is_ready_only_once_its_live_view_is_loaded() {
    use innoreport_service::{Clock, Options, Service, ServiceError};
    let db = TestDatabase::new();
    let service = Service::new(db.store(), Clock::system(), Options::default());
    match service.ready() {
        Err(ServiceError::Unavailable { message, .. }) => {
            assert!(message.contains("live view"), "{message}")
        }
        other => panic!("ready before the live view was loaded: {other:?}"),
    }
    service.warm_up().unwrap();
    assert!(service.ready().is_ok());
}
