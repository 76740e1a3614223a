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
    let ready = loop {
        if let Ok(res) = client.get(format!("{url}/ready")).send().await {
            break res.status();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the binary did not start"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(ready, 200);
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
