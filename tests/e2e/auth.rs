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
        // A bearer challenge, and Basic for integration keys (what BI tools answer).
        assert_eq!(
            res.header("www-authenticate"),
            Some("Bearer realm=\"innoreport\", Basic realm=\"innoreport\""),
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

/// A token with any header, signed with HMAC `alg` over `secret` (how an attacker who knows or
/// guesses a key would build one).
fn forged(
    header: serde_json::Value,
    claims: &serde_json::Value,
    alg: Algorithm,
    secret: &[u8],
) -> String {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &EncodingKey::from_secret(secret), alg)
            .unwrap();
    format!("{message}.{signature}")
}

#[actix_web::test]
async fn tokens_of_another_algorithm_key_or_header_are_401_rfc8725() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let now = chrono::Utc::now().timestamp();
    let ours = TEST_SECRET.as_bytes();
    let c = claims(now);
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    // Sanity: a token forged exactly like ours is accepted, so every refusal below is the attack.
    let genuine = forged(hs256.clone(), &c, Algorithm::HS256, ours);
    assert_eq!(app.submit(&genuine, &report()).await.status, 201);

    let without = |claim: &str| {
        let mut c = claims(now);
        c.as_object_mut().unwrap().remove(claim);
        forged(
            json!({"alg": "HS256", "typ": "JWT"}),
            &c,
            Algorithm::HS256,
            ours,
        )
    };
    // RS256 header with a signature of RSA size: key-kind confusion must not even reach a key.
    let rs256 = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(c.to_string()),
        URL_SAFE_NO_PAD.encode([7u8; 256])
    );
    // HS/RS confusion: an attacker signs HS256 with a public key (here an RSA public key in PEM,
    // as a server with RS256 keys would publish it) and names it in the header.
    let public_pem = b"-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----\n";
    let attempts: Vec<(&str, String)> = vec![
        ("RS256 header", rs256),
        (
            "HS256 signed with a public key",
            forged(hs256.clone(), &c, Algorithm::HS256, public_pem),
        ),
        (
            "HS384 with our secret",
            forged(
                json!({"alg": "HS384", "typ": "JWT"}),
                &c,
                Algorithm::HS384,
                ours,
            ),
        ),
        (
            "HS512 with our secret",
            forged(
                json!({"alg": "HS512", "typ": "JWT"}),
                &c,
                Algorithm::HS512,
                ours,
            ),
        ),
        (
            "alg None",
            format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"None"}"#),
                URL_SAFE_NO_PAD.encode(c.to_string())
            ),
        ),
        (
            "alg NONE with a signature",
            format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"NONE"}"#),
                URL_SAFE_NO_PAD.encode(c.to_string()),
                genuine.rsplit('.').next().unwrap()
            ),
        ),
        (
            "embedded jwk",
            forged(
                json!({"alg": "HS256", "jwk": {"kty": "oct", "k": URL_SAFE_NO_PAD.encode("attacker-key-attacker-key-attacker-key")}}),
                &c,
                Algorithm::HS256,
                b"attacker-key-attacker-key-attacker-key",
            ),
        ),
        (
            "jku pointing elsewhere",
            forged(
                json!({"alg": "HS256", "jku": "http://127.0.0.1:1/keys"}),
                &c,
                Algorithm::HS256,
                ours,
            ),
        ),
        (
            "kid path traversal",
            forged(
                json!({"alg": "HS256", "kid": "../../../../dev/null"}),
                &c,
                Algorithm::HS256,
                b"",
            ),
        ),
        (
            "crit extension",
            forged(
                json!({"alg": "HS256", "crit": ["exp"]}),
                &c,
                Algorithm::HS256,
                ours,
            ),
        ),
        (
            "typ other than JWT",
            forged(
                json!({"alg": "HS256", "typ": "at+jwt+x"}),
                &c,
                Algorithm::HS256,
                ours,
            ),
        ),
        ("missing sub", without("sub")),
        ("missing aud", without("aud")),
        ("missing iss", without("iss")),
        ("missing iat", without("iat")),
        ("missing nbf", without("nbf")),
        ("missing jti", without("jti")),
        ("missing role", without("role")),
        (
            "exp as text",
            forged(
                hs256.clone(),
                &{
                    let mut c = claims(now);
                    c["exp"] = json!("never");
                    c
                },
                Algorithm::HS256,
                ours,
            ),
        ),
        (
            "header not JSON",
            format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode("not json"),
                URL_SAFE_NO_PAD.encode(c.to_string()),
                genuine.rsplit('.').next().unwrap()
            ),
        ),
        ("four segments", format!("{genuine}.AAAA")),
        ("payload padding swapped", genuine.replacen('.', "=.", 1)),
    ];
    let tried = attempts.len();
    for (what, bad) in attempts {
        let res = app.submit(&bad, &report()).await;
        let p = assert_problem(&res, 401);
        assert_eq!(
            p["detail"], "the token is invalid or expired",
            "{what}: one answer, nothing leaks"
        );
    }
    // The token only counts in the Authorization header with the Bearer scheme.
    let in_query = app
        .post_json(
            None,
            &format!("/api/v1/reports?access_token={genuine}"),
            &report(),
        )
        .await;
    assert_problem(&in_query, 401);
    for header in [
        format!("Basic {genuine}"),
        format!("Bearer  Bearer {genuine}"),
        genuine.clone(),
    ] {
        let res = app
            .post_authorized(&header, "/api/v1/reports", &report())
            .await;
        assert_problem(&res, 401);
    }
    assert!(tried >= 20);
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
    let mut codes: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    codes.sort();
    // "short" is also a common word a password must not be built on.
    assert_eq!(codes, ["common_password", "invalid_username", "too_short"]);

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
