//! Logins and tokens as a commune system and an attacker meet them.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use innoreport_core::Role;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::support::{AUDIENCE, ISSUER, TEST_SECRET, TestApp, assert_problem, muong_la, token};

fn report() -> serde_json::Value {
    json!({"dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_total": 10}})
}

fn signed(claims: serde_json::Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn claims(now: i64) -> serde_json::Value {
    json!({
        "sub": "xa-muong-la", "role": "commune_officer", "province": "14", "commune": "03808",
        "iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + 600, "jti": "abc"
    })
}

#[actix_web::test]
async fn requests_without_a_valid_token_are_401_with_a_bearer_challenge() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let now = chrono::Utc::now().timestamp();
    let valid = signed(claims(now), TEST_SECRET);
    // Sanity: the hand-made token is accepted.
    assert_eq!(app.submit(&valid, &report()).await.status, 201);

    let mut expired = claims(now - 7200);
    expired["exp"] = json!(now - 3600);
    let mut future = claims(now);
    future["nbf"] = json!(now + 3600);
    let mut wrong_aud = claims(now);
    wrong_aud["aud"] = json!("another-service");
    let mut wrong_iss = claims(now);
    wrong_iss["iss"] = json!("someone-else");
    let mut no_exp = claims(now);
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut bad_role = claims(now);
    bad_role["role"] = json!("superuser");
    let mut officer_without_commune = claims(now);
    officer_without_commune
        .as_object_mut()
        .unwrap()
        .remove("commune");

    // Tampered: the payload says national_analyst, the signature is the officer's.
    let parts: Vec<&str> = valid.split('.').collect();
    let mut payload = claims(now);
    payload["role"] = json!("admin");
    payload.as_object_mut().unwrap().remove("province");
    payload.as_object_mut().unwrap().remove("commune");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(payload.to_string()),
        parts[2]
    );
    // alg "none": no signature at all.
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims(now).to_string())
    );
    let attempts = [
        ("expired", signed(expired, TEST_SECRET)),
        ("not yet valid", signed(future, TEST_SECRET)),
        ("wrong audience", signed(wrong_aud, TEST_SECRET)),
        ("wrong issuer", signed(wrong_iss, TEST_SECRET)),
        ("missing exp", signed(no_exp, TEST_SECRET)),
        ("unknown role", signed(bad_role, TEST_SECRET)),
        (
            "officer without commune",
            signed(officer_without_commune, TEST_SECRET),
        ),
        (
            "other key",
            signed(claims(now), "another-secret-another-secret-another-secret"),
        ),
        ("tampered", tampered),
        ("alg none", none),
        ("garbage", "not.a.token".to_owned()),
        ("oversized", format!("{}{}", valid, "A".repeat(10_000))),
    ];
    for (what, bad) in attempts {
        let res = app.submit(&bad, &report()).await;
        let p = assert_problem(&res, 401);
        assert_eq!(
            res.header("www-authenticate"),
            Some("Bearer realm=\"innoreport\""),
            "{what}"
        );
        assert!(
            !p["detail"].as_str().unwrap().contains("InvalidSignature"),
            "{what}: no internals leak"
        );
    }
    let none = app.post_json(None, "/api/v1/reports", &report()).await;
    assert_problem(&none, 401);
    let res = app.get_as("", "/api/v1/reports").await;
    assert_problem(&res, 401);
}

#[actix_web::test]
async fn a_province_admin_creates_a_commune_service_account_that_logs_in() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let admin = token(Role::ProvinceAdmin, Some("14"), None);
    let created = app
        .post_json(
            Some(&admin),
            "/api/v1/users",
            &json!({"username": "xa-muong-la", "role": "commune_officer", "commune": "03808", "password": "mật-khẩu-đủ-dài-123"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    assert_eq!(created.json()["province"], "14");
    // The same username again is a conflict; another province's commune is out of scope.
    let again = app
        .post_json(
            Some(&admin),
            "/api/v1/users",
            &json!({"username": "xa-muong-la", "role": "commune_officer", "commune": "03808"}),
        )
        .await;
    assert_problem(&again, 409);
    let elsewhere = app
        .post_json(
            Some(&admin),
            "/api/v1/users",
            &json!({"username": "hoan-kiem", "role": "commune_officer", "commune": "00070"}),
        )
        .await;
    assert_problem(&elsewhere, 403);
    let national = app
        .post_json(
            Some(&admin),
            "/api/v1/users",
            &json!({"username": "boss", "role": "national_analyst"}),
        )
        .await;
    assert_problem(&national, 403);
    let weak = app
        .post_json(Some(&admin), "/api/v1/users", &json!({"username": "x y", "role": "province_analyst", "province": "14", "password": "short"}))
        .await;
    let p = assert_problem(&weak, 422);
    assert_eq!(p["errors"].as_array().unwrap().len(), 2);

    let login = app
        .post_json(
            None,
            "/api/v1/auth/token",
            &json!({"username": "xa-muong-la", "password": "mật-khẩu-đủ-dài-123"}),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.text());
    let body = login.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();
    let res = app.submit(token, &report()).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(
        res.json()["commune"],
        "03808",
        "the commune comes from the token"
    );
    assert_eq!(res.json()["author"], "xa-muong-la");

    for (user, password) in [
        ("xa-muong-la", "wrong password!"),
        ("nobody", "mật-khẩu-đủ-dài-123"),
    ] {
        let res = app
            .post_json(
                None,
                "/api/v1/auth/token",
                &json!({"username": user, "password": password}),
            )
            .await;
        let p = assert_problem(&res, 401);
        assert_eq!(p["detail"], "wrong username or password");
    }
}

#[actix_web::test]
async fn tokens_minted_by_the_cli_key_are_accepted() {
    // `innoreport token` and the server share the key; the test helper mints the same way.
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let t = muong_la();
    assert_eq!(app.get_as(&t, "/api/v1/reports").await.status, 200);
    let _ = Duration::from_secs(1);
}

#[actix_web::test]
async fn password_guessing_is_slowed_to_ten_attempts_a_minute_per_username() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let admin = token(Role::Admin, None, None);
    let created = app
        .post_json(Some(&admin), "/api/v1/users", &json!({"username": "xa-muong-la", "role": "commune_officer", "commune": "03808", "password": "mật-khẩu-đủ-dài-123"}))
        .await;
    assert_eq!(created.status, 201);
    for i in 0..10 {
        let res = app
            .post_json(
                None,
                "/api/v1/auth/token",
                &json!({"username": "xa-muong-la", "password": format!("guess {i}")}),
            )
            .await;
        assert_problem(&res, 401);
    }
    // The eleventh attempt within the minute is refused, even with the right password.
    let res = app
        .post_json(
            None,
            "/api/v1/auth/token",
            &json!({"username": "Xa-Muong-La", "password": "mật-khẩu-đủ-dài-123"}),
        )
        .await;
    let p = assert_problem(&res, 429);
    assert_eq!(res.header("retry-after"), Some("60"));
    assert_eq!(p["type"], "urn:innoreport:problem:too-many-requests");
    // Other accounts are not affected.
    let res = app
        .post_json(
            None,
            "/api/v1/auth/token",
            &json!({"username": "someone-else", "password": "x"}),
        )
        .await;
    assert_problem(&res, 401);
}
