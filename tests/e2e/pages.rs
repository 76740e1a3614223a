//! The dashboard pages as the binary serves them (their behaviour in a browser is tested by
//! tests/browser/run in headless Chromium).

use crate::support::TestApp;

#[actix_web::test]
async fn every_page_url_serves_the_shell_with_a_strict_content_security_policy() {
    let app = TestApp::spawn().await;
    for path in [
        "/",
        "/signin",
        "/national",
        "/province/14?period=2025Q4&dataset=dmst-quarterly",
        "/commune/03808?year=2025",
        "/accounts?role=commune_officer",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status, 200, "{path}");
        assert_eq!(res.content_type(), "text/html; charset=utf-8");
        let csp = res.header("content-security-policy").unwrap();
        assert!(csp.contains("default-src 'self'") && csp.contains("script-src 'self'"));
        assert!(!csp.contains("unsafe"), "{csp}");
        let html = res.text();
        assert!(html.contains(r#"<html lang="vi">"#));
        assert!(html.contains("/assets/app.js"));
        // The shell carries no data: figures come from the API with the user's token.
        assert!(!html.contains("Sơn La"));
    }
    let js = app.get("/assets/app.js").await;
    assert_eq!(js.status, 200);
    assert!(js.content_type().starts_with("text/javascript"));
    assert!(js.text().contains("/api/v1/auth/token"));
    // The modules the script imports are served as scripts too.
    for module in ["/assets/sheets.js", "/assets/accounts.js"] {
        let res = app.get(module).await;
        assert_eq!(res.status, 200, "{module}");
        assert!(res.content_type().starts_with("text/javascript"));
        assert!(
            js.text().contains(&format!("\"./{}\"", &module[8..])),
            "{module}"
        );
    }
    assert_eq!(app.get("/assets/app.css").await.status, 200);
    assert_eq!(app.get("/assets/icon.svg").await.status, 200);
    // Anything else is still a problem+json 404.
    let res = app.get("/province/14/secret").await;
    assert_eq!(res.status, 404);
    assert_eq!(res.content_type(), "application/problem+json");
}
