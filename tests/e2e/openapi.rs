//! The API document: served, browsable, and equal to the committed file.

use crate::support::TestApp;

#[actix_web::test]
async fn the_served_document_is_the_committed_one() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/openapi.json").await;
    assert_eq!(res.status, 200);
    let served = res.json();
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../openapi/openapi.json"
        ))
        .expect("openapi/openapi.json exists"),
    )
    .unwrap();
    assert_eq!(
        served, committed,
        "openapi/openapi.json is stale: regenerate it with `cargo run -- openapi > openapi/openapi.json`"
    );
    for path in [
        "/api/v1/provinces",
        "/api/v1/provinces/{code}/communes",
        "/api/v1/indicators",
        "/api/v1/datasets",
        "/health",
        "/ready",
    ] {
        assert!(served["paths"][path].is_object(), "{path} is documented");
    }
}

#[actix_web::test]
async fn swagger_ui_is_served_offline_from_the_binary() {
    let app = TestApp::spawn().await;
    let page = app.get("/docs/").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("swagger"), "{}", page.text());
    let bundle = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status, 200);
    assert!(
        bundle.body.len() > 100_000,
        "the Swagger UI bundle is vendored"
    );
    let init = app.get("/docs/swagger-initializer.js").await;
    assert!(init.text().contains("/api/v1/openapi.json"));
}
