//! Integration keys: created by a province admin or an admin, shown once, read-only with the
//! powers of an analyst of their scope, sent as a bearer token or as the password of HTTP Basic
//! (what Power BI and Excel send), never taken from a URL, and refused at once after revocation
//! on every replica. (Who may manage which keys is in the authorization matrix, `authz.rs`.)

use std::time::Duration;

use base64::Engine;
use innoreport_core::Role;
use serde_json::json;

use crate::support::{TestApp, assert_problem, error_codes, son_la_admin, token, within};

const TABLE: &str = "/api/v1/analytics?indicator=dossiers_total&period=2026Q4&level=commune";

fn basic(username: &str, password: &str) -> String {
    let raw = format!("{username}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

async fn create(app: &TestApp, by: &str, body: serde_json::Value) -> serde_json::Value {
    let res = app.post_json(Some(by), "/api/v1/keys", &body).await;
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

#[actix_web::test]
async fn a_key_reads_its_province_as_an_analyst_by_bearer_or_basic_and_nothing_more() {
    let app = TestApp::spawn_at("2026-12-01T03:00:00Z").await;
    let created = create(
        &app,
        &son_la_admin(),
        json!({"name": "Power BI – Sở KH&CN"}),
    )
    .await;
    let key = created["secret"].as_str().unwrap().to_owned();
    let id = created["key"]["id"].as_str().unwrap().to_owned();
    assert!(key.starts_with(&format!("irk_{id}_")), "{key}");
    assert_eq!(
        created["key"]["province"], "14",
        "a province admin's key reads their province"
    );
    assert_eq!(created["key"]["role"], "province_analyst");

    let by_bearer = app.get_as(&key, TABLE).await;
    assert_eq!(by_bearer.status, 200, "{}", by_bearer.text());
    let rows = by_bearer.json()["rows"].as_array().unwrap().len();
    assert!(rows > 50, "the communes of Sơn La: {rows}");
    for username in ["powerbi", "", "anything at all"] {
        let by_basic = app
            .request_with(
                "GET",
                TABLE,
                None,
                None,
                &[("authorization", &basic(username, &key))],
            )
            .await;
        assert_eq!(
            by_basic.status,
            200,
            "Basic with username {username:?}: {}",
            by_basic.text()
        );
        assert_eq!(by_basic.body, by_bearer.body);
    }
    // Read-only, and only its province.
    let other = app
        .get_as(
            &key,
            "/api/v1/aggregates?indicator=dossiers_total&period=2026Q4&province=01",
        )
        .await;
    assert_problem(&other, 403);
    let write = app
        .submit(
            &key,
            &json!({"commune": "03808", "dataset": "dmst-quarterly", "period": "2026Q4", "values": {"dossiers_total": 1}}),
        )
        .await;
    assert_problem(&write, 403);
    let more = app
        .post_json(Some(&key), "/api/v1/keys", &json!({"name": "a key's key"}))
        .await;
    assert_problem(&more, 403);
    let password = app
        .post_json(
            Some(&key),
            "/api/v1/auth/password",
            &json!({"current_password": "x", "new_password": "y"}),
        )
        .await;
    assert!(
        password.status == 403 || password.status == 422,
        "a key has no password to change: {}",
        password.text()
    );

    // Listed with its last use, never with its secret; on record in the change log.
    let list = app.get_as(&son_la_admin(), "/api/v1/keys").await;
    assert_eq!(list.status, 200);
    assert!(
        !list.text().contains(&key[id.len() + 5..]),
        "the secret is never shown again"
    );
    let listed = list.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id.as_str())
        .cloned()
        .unwrap();
    assert!(listed["last_used_at"].is_string(), "{listed}");
    assert_eq!(listed["name"], "Power BI – Sở KH&CN");
    let changes = app
        .get_as(&son_la_admin(), "/api/v1/changes?action=key.create")
        .await
        .json();
    assert_eq!(changes["items"][0]["subject"], id.as_str(), "{changes}");
}

#[actix_web::test]
async fn a_wrong_or_misplaced_key_is_refused() {
    let app = TestApp::spawn_at("2026-12-01T03:00:00Z").await;
    let admin = token(Role::Admin, None, None);
    let created = create(&app, &admin, json!({"name": "national dashboard"})).await;
    assert_eq!(created["key"]["province"], serde_json::Value::Null);
    assert_eq!(created["key"]["role"], "national_analyst");
    let key = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get_as(
            &key,
            "/api/v1/analytics?indicator=dossiers_total&period=2026Q4&level=national"
        )
        .await
        .status,
        200
    );
    // A wrong secret for a real id; a made-up key; a password that is not a key.
    let (head, secret) = key.split_at(key.len() - 8);
    let wrong = format!("{head}{}", secret.chars().rev().collect::<String>());
    for bad in [
        wrong.as_str(),
        "irk_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        assert_problem(&app.get_as(bad, TABLE).await, 401);
    }
    let not_a_key = app
        .request_with(
            "GET",
            TABLE,
            None,
            None,
            &[("authorization", &basic("admin", "a-password"))],
        )
        .await;
    let problem = assert_problem(&not_a_key, 401);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("integration key")
    );
    assert!(
        not_a_key
            .header("www-authenticate")
            .unwrap()
            .contains("Basic"),
        "Power BI and Excel are asked for Basic credentials"
    );
    // Never from the URL.
    for param in ["access_token", "key", "api_key", "token"] {
        let res = app.get(&format!("{TABLE}&{param}={key}")).await;
        assert_eq!(res.status, 401, "?{param}= is not a credential");
    }
    // Names and provinces are checked, every problem listed.
    let res = app
        .post_json(
            Some(&admin),
            "/api/v1/keys",
            &json!({"name": " ", "province": "99"}),
        )
        .await;
    let problem = assert_problem(&res, 422);
    assert_eq!(
        error_codes(&problem),
        [
            ("name".to_owned(), "required".to_owned()),
            ("province".into(), "unknown_province".into())
        ]
    );
}

#[actix_web::test]
async fn a_revoked_key_is_refused_at_once_here_and_within_a_second_on_another_replica() {
    let a = TestApp::spawn_at("2026-12-01T03:00:00Z").await;
    let b = a.replica().await;
    let created = create(&a, &son_la_admin(), json!({"name": "dashboard"})).await;
    let key = created["secret"].as_str().unwrap().to_owned();
    let id = created["key"]["id"].as_str().unwrap().to_owned();
    // Both replicas know the key (and keep what they read).
    assert_eq!(a.get_as(&key, TABLE).await.status, 200);
    assert_eq!(b.get_as(&key, TABLE).await.status, 200);
    let revoked = a
        .request(
            "DELETE",
            &format!("/api/v1/keys/{id}"),
            Some(&son_la_admin()),
            None,
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text());
    assert!(revoked.json()["revoked_at"].is_string());
    assert_problem(&a.get_as(&key, TABLE).await, 401);
    let took = within(Duration::from_secs(3), async || {
        b.get_as(&key, TABLE).await.status == 401
    })
    .await;
    println!("revoked on the other replica after {} ms", took.as_millis());
    assert!(took <= Duration::from_millis(1500), "{took:?}");
    // Revoking again changes nothing; the key stays listed, with who revoked it.
    let again = a
        .request(
            "DELETE",
            &format!("/api/v1/keys/{id}"),
            Some(&son_la_admin()),
            None,
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["revoked_at"], revoked.json()["revoked_at"]);
    let changes = a
        .get_as(&son_la_admin(), "/api/v1/changes?action=key.revoke")
        .await
        .json();
    assert_eq!(changes["items"].as_array().unwrap().len(), 1, "{changes}");
}
