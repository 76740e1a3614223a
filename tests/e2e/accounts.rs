//! Logins a province can run: list, show, disable and enable, re-role, reset; revocation that
//! takes effect at once, across two server processes; sane passwords and usernames.

use std::time::Duration;

use innoreport_core::Role;
use innoreport_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::binary::start;
use crate::support::{TestApp, assert_problem, son_la_admin, token, within};

struct Http {
    client: awc::Client,
}

impl Http {
    fn new() -> Http {
        Http {
            client: awc::Client::builder()
                .timeout(Duration::from_secs(30))
                .finish(),
        }
    }

    async fn call(
        &self,
        method: &str,
        url: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.client.request(method, url);
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let mut res = match body {
            Some(b) => req.send_json(&b).await.unwrap(),
            None => req.send().await.unwrap(),
        };
        let bytes = res.body().limit(16 * 1024 * 1024).await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (res.status().as_u16(), json)
    }

    async fn sign_in(&self, base: &str, username: &str, password: &str) -> (u16, Value) {
        self.call(
            "POST",
            &format!("{base}/api/v1/auth/token"),
            None,
            Some(json!({"username": username, "password": password})),
        )
        .await
    }
}

#[actix_web::test]
async fn disabling_re_roling_and_resetting_end_tokens_at_once_on_both_processes() {
    let db = TestDatabase::new();
    let (_a, a) = start(&db).await;
    let (_b, b) = start(&db).await;
    let http = Http::new();
    let admin = token(Role::Admin, None, None);
    let password = "trời hôm nay nhiều mây cực";
    let (status, created) = http
        .call(
            "POST",
            &format!("{a}/api/v1/users"),
            Some(&admin),
            Some(json!({"username": "quan-tri-son-la", "role": "province_admin", "province": "14", "password": password})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let (status, signed) = http.sign_in(&a, "quan-tri-son-la", password).await;
    assert_eq!(status, 200, "{signed}");
    let t = signed["access_token"].as_str().unwrap().to_owned();
    let list = |base: &str| format!("{base}/api/v1/users?province=14");
    for base in [&a, &b] {
        assert_eq!(http.call("GET", &list(base), Some(&t), None).await.0, 200);
    }

    // Disabled on one process: refused there at once, and on the other within a second.
    let (status, body) = http
        .call(
            "PATCH",
            &format!("{a}/api/v1/users/quan-tri-son-la"),
            Some(&admin),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!((status, body["disabled"].clone()), (200, json!(true)));
    assert_eq!(http.call("GET", &list(&a), Some(&t), None).await.0, 401);
    let took = within(Duration::from_millis(1500), async || {
        http.call("GET", &list(&b), Some(&t), None).await.0 == 401
    })
    .await;
    // A disabled province admin creates nothing and sets no target.
    let (status, _) = http
        .call(
            "POST",
            &format!("{b}/api/v1/users"),
            Some(&t),
            Some(json!({"username": "thu-tao", "role": "commune_officer", "commune": "03808"})),
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(http.sign_in(&b, "quan-tri-son-la", password).await.0, 401);
    eprintln!("revoked on the other process after {took:?}");

    // Enabled again: a new sign-in works, the old token stays ended.
    let (status, _) = http
        .call(
            "PATCH",
            &format!("{b}/api/v1/users/quan-tri-son-la"),
            Some(&admin),
            Some(json!({"disabled": false})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, signed) = http.sign_in(&b, "Quan-Tri-Son-La", password).await;
    assert_eq!(status, 200, "{signed}");
    let t2 = signed["access_token"].as_str().unwrap().to_owned();
    assert_eq!(http.call("GET", &list(&a), Some(&t), None).await.0, 401);
    assert_eq!(http.call("GET", &list(&a), Some(&t2), None).await.0, 200);

    // Re-roled: the old powers are gone at once.
    let (status, body) = http
        .call(
            "PATCH",
            &format!("{a}/api/v1/users/quan-tri-son-la"),
            Some(&admin),
            Some(json!({"role": "province_analyst"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["role"].clone(), body["province"].clone()),
        (json!("province_analyst"), json!("14"))
    );
    assert_eq!(http.call("GET", &list(&a), Some(&t2), None).await.0, 401);
    let (_, signed) = http.sign_in(&a, "quan-tri-son-la", password).await;
    let t3 = signed["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        http.call("GET", &list(&a), Some(&t3), None).await.0,
        403,
        "an analyst manages no logins"
    );
    let (status, _) = http
        .call(
            "GET",
            &format!("{a}/api/v1/aggregates?indicator=dossiers_total&period=2025&province=14"),
            Some(&t3),
            None,
        )
        .await;
    assert_eq!(status, 200, "an analyst reads");

    // Reset: the old password and every token are refused.
    let (status, body) = http
        .call(
            "POST",
            &format!("{b}/api/v1/users/quan-tri-son-la/password"),
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let generated = body["generated_password"].as_str().unwrap().to_owned();
    assert!(generated.len() >= 20);
    assert_eq!(http.sign_in(&a, "quan-tri-son-la", password).await.0, 401);
    assert_eq!(
        http.call("GET", &format!("{b}/api/v1/reports"), Some(&t3), None)
            .await
            .0,
        401
    );
    assert_eq!(http.sign_in(&a, "quan-tri-son-la", &generated).await.0, 200);

    // Every action is in the change log.
    let (_, changes) = http
        .call(
            "GET",
            &format!("{a}/api/v1/changes?province=14"),
            Some(&admin),
            None,
        )
        .await;
    let actions: Vec<&str> = changes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["subject"] == "quan-tri-son-la")
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            "user.create",
            "user.disable",
            "user.enable",
            "user.update",
            "user.reset_password"
        ]
    );
}

#[actix_web::test]
async fn a_login_changes_its_own_password_and_its_other_tokens_end() {
    let app = TestApp::spawn().await;
    let admin = token(Role::Admin, None, None);
    let first = "một câu mật khẩu dài đủ";
    let created = app
        .post_json(
            Some(&admin),
            "/api/v1/users",
            &json!({"username": "xa-muong-la", "role": "commune_officer", "commune": "03808", "password": first}),
        )
        .await;
    assert_eq!(created.status, 201);
    let sign_in = |pw: &'static str| {
        let app = &app;
        async move {
            app.post_json(
                None,
                "/api/v1/auth/token",
                &json!({"username": "xa-muong-la", "password": pw}),
            )
            .await
        }
    };
    let old = sign_in(first).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = assert_problem(
        &app.post_json(
            Some(&old),
            "/api/v1/auth/password",
            &json!({"current_password": "sai rồi", "new_password": "aaaaaaaaaaaa"}),
        )
        .await,
        422,
    );
    let codes: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["wrong"]);
    let second = "bầu trời xanh và mây trắng";
    let changed = app
        .post_json(
            Some(&old),
            "/api/v1/auth/password",
            &json!({"current_password": first, "new_password": second}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    let fresh = changed.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get_as(&old, "/api/v1/reports").await.status, 401);
    assert_eq!(app.get_as(&fresh, "/api/v1/reports").await.status, 200);
    assert_eq!(sign_in(first).await.status, 401);
    assert_eq!(sign_in(second).await.status, 200);
    // An operator token is not a login: it has no password to change.
    assert_problem(
        &app.post_json(
            Some(&admin),
            "/api/v1/auth/password",
            &json!({"current_password": "x", "new_password": second}),
        )
        .await,
        403,
    );
}

#[actix_web::test]
async fn weak_passwords_are_refused_naming_the_rule_and_usernames_ignore_case() {
    let app = TestApp::spawn().await;
    let admin = token(Role::Admin, None, None);
    let create = |username: &'static str, password: String| {
        let app = &app;
        let admin = &admin;
        async move {
            app.post_json(
                Some(admin),
                "/api/v1/users",
                &json!({"username": username, "role": "commune_officer", "commune": "03808", "password": password}),
            )
            .await
        }
    };
    for (password, rule) in [
        (" ".repeat(12), "blank"),
        ("\u{200B}".repeat(12), "blank"),
        ("aaaaaaaaaaaa".to_owned(), "too_simple"),
        ("123456789012".to_owned(), "too_simple"),
        ("qwerty123456".to_owned(), "common_password"),
        ("victim14-mat-khau".to_owned(), "contains_username"),
        ("ngắn".to_owned(), "too_short"),
    ] {
        let p = assert_problem(&create("victim14", password.clone()).await, 422);
        let codes: Vec<&str> = p["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&rule), "{password:?}: {codes:?}");
    }
    assert_eq!(
        create("victim14", "một mật khẩu thật dài".into())
            .await
            .status,
        201
    );
    let p = assert_problem(
        &create("Victim14", "một mật khẩu khác dài".into()).await,
        409,
    );
    assert_eq!(p["errors"][0]["code"], "taken");
    // 256 characters are accepted.
    assert_eq!(
        create(
            "dai-nhat",
            "ương ưởng ừng ứng ựng ".chars().cycle().take(256).collect()
        )
        .await
        .status,
        201
    );
}

#[actix_web::test]
async fn a_province_admin_manages_only_its_provinces_logins() {
    let app = TestApp::spawn().await;
    let admin = token(Role::Admin, None, None);
    for (username, role, province, commune) in [
        ("can-bo-muong-la", "commune_officer", None, Some("03808")),
        ("phan-tich-son-la", "province_analyst", Some("14"), None),
        ("phan-tich-ha-noi", "province_analyst", Some("01"), None),
        ("phan-tich-quoc-gia", "national_analyst", None, None),
        ("quan-tri-quoc-gia", "admin", None, None),
    ] {
        let res = app
            .post_json(
                Some(&admin),
                "/api/v1/users",
                &json!({"username": username, "role": role, "province": province, "commune": commune}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let own = son_la_admin();
    let listed: Vec<String> = app.get_as(&own, "/api/v1/users").await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["username"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, vec!["can-bo-muong-la", "phan-tich-son-la"]);
    assert_eq!(
        app.get_as(&own, "/api/v1/users?province=01").await.status,
        403
    );
    for path in [
        "/api/v1/users/phan-tich-ha-noi",
        "/api/v1/users/phan-tich-quoc-gia",
        "/api/v1/users/quan-tri-quoc-gia",
    ] {
        assert_eq!(app.get_as(&own, path).await.status, 403, "{path}");
    }
    let res = app
        .request(
            "PATCH",
            "/api/v1/users/phan-tich-ha-noi",
            Some(&own),
            Some(&json!({"disabled": true})),
        )
        .await;
    assert_problem(&res, 403);
    // Not even by moving its own login elsewhere, or making it national.
    for patch in [
        json!({"province": "01"}),
        json!({"role": "national_analyst", "province": null}),
    ] {
        let res = app
            .request(
                "PATCH",
                "/api/v1/users/phan-tich-son-la",
                Some(&own),
                Some(&patch),
            )
            .await;
        assert_problem(&res, 403);
    }
    let res = app
        .post_json(
            Some(&own),
            "/api/v1/users/phan-tich-ha-noi/password",
            &json!({}),
        )
        .await;
    assert_problem(&res, 403);
    // Its own province's logins it runs, and lists as a spreadsheet.
    let res = app
        .request(
            "PATCH",
            "/api/v1/users/can-bo-muong-la",
            Some(&own),
            Some(&json!({"disabled": true, "display_name": "Cán bộ xã Mường La"})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let csv = app
        .get_as(&own, "/api/v1/users.csv?disabled=true&lang=vi")
        .await
        .text();
    assert!(
        csv.contains("can-bo-muong-la") && csv.contains("Cán bộ xã") && csv.contains("Có"),
        "{csv}"
    );
    assert!(!csv.contains("phan-tich-son-la"));
}

/// How many account actions the change log holds.
async fn account_changes(app: &TestApp, admin: &str) -> usize {
    app.get_as(admin, "/api/v1/changes?limit=1000").await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"].as_str().unwrap().starts_with("user."))
        .count()
}

#[actix_web::test]
async fn a_change_that_changes_nothing_keeps_the_tokens_and_the_log_quiet() {
    let app = TestApp::spawn().await;
    let admin = token(Role::Admin, None, None);
    let password = "một câu mật khẩu dài đủ";
    let created = app
        .post_json(
            Some(&admin),
            "/api/v1/users",
            &json!({"username": "xa-muong-la", "role": "commune_officer", "commune": "03808", "password": password}),
        )
        .await;
    assert_eq!(created.status, 201);
    let signed = app
        .post_json(
            None,
            "/api/v1/auth/token",
            &json!({"username": "xa-muong-la", "password": password}),
        )
        .await;
    let officer = signed.json()["access_token"].as_str().unwrap().to_owned();
    let stamp = app.get_as(&admin, "/api/v1/users/xa-muong-la").await.json()["updated_at"].clone();
    let before = account_changes(&app, &admin).await;
    let patch = async |body: &Value| {
        app.request(
            "PATCH",
            "/api/v1/users/xa-muong-la",
            Some(&admin),
            Some(body),
        )
        .await
    };
    for body in [
        json!({}),
        json!({"role": "commune_officer"}),
        json!({"commune": "03808", "disabled": false}),
        json!({"display_name": ""}),
    ] {
        let res = patch(&body).await;
        assert_eq!(res.status, 200, "{body}: {}", res.text());
        assert_eq!(res.json()["updated_at"], stamp, "{body}: not a change");
    }
    assert_eq!(
        account_changes(&app, &admin).await,
        before,
        "nothing was logged"
    );
    assert_eq!(
        app.get_as(&officer, "/api/v1/reports").await.status,
        200,
        "the login's token lives on"
    );
    // Disabling twice logs once.
    for _ in 0..2 {
        assert_eq!(patch(&json!({"disabled": true})).await.status, 200);
    }
    assert_eq!(account_changes(&app, &admin).await, before + 1);
    assert_eq!(app.get_as(&officer, "/api/v1/reports").await.status, 401);
    // A display name is text a list can show as it is.
    for name in [
        "a\u{0}b".to_owned(),
        "\u{202E}gnp.exe".to_owned(),
        "x".repeat(201),
    ] {
        let p = assert_problem(&patch(&json!({"display_name": name})).await, 422);
        assert_eq!(p["errors"][0]["field"], "display_name", "{name:?}");
    }
    assert_eq!(
        patch(&json!({"display_name": "Cán bộ Mường La"}))
            .await
            .status,
        200
    );
    assert_eq!(account_changes(&app, &admin).await, before + 2);
}
