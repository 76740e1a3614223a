//! Starting the application for a test and talking to it.

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use innoreport_server::{Application, Config};
use innoreport_store::testing::TestDatabase;
use serde_json::Value;

/// A running application on its own fresh database.
pub struct TestApp {
    pub address: String,
    pub db: TestDatabase,
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
}

pub fn test_config(db: &TestDatabase) -> Config {
    Config {
        database_url: db.url.clone(),
        bind: "127.0.0.1:0".into(),
        workers: Some(2),
        ..Config::defaults()
    }
}

impl TestApp {
    /// A fresh database, migrated and seeded, and the application serving it.
    pub async fn spawn() -> TestApp {
        Self::spawn_on(TestDatabase::new()).await
    }

    /// The application over an existing test database (as a restart would start it).
    pub async fn spawn_on(db: TestDatabase) -> TestApp {
        let app = Application::build(&test_config(&db)).expect("the application starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        actix_web::rt::spawn(app.run_until_stopped());
        TestApp {
            address,
            db,
            client: awc::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .finish(),
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        let res = self
            .client
            .get(format!("{}{}", self.address, path))
            .send()
            .await;
        read(res.expect("the request is answered")).await
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
