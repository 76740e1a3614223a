//! Audit: who changed what, and when, is always recoverable from a report's revisions and review
//! records — whoever made the change (the commune's system, a province import, a review), and
//! nothing in the API can rewrite that history.

use std::collections::BTreeMap;

use innoreport_core::Role;
use serde_json::{Value, json};

use crate::support::{TestApp, at, muong_la, son_la_admin, token};

const REPORT: &str = "/api/v1/reports/dmst-quarterly/2026Q1/03808";

#[actix_web::test]
async fn every_change_and_review_of_a_report_names_its_author_time_and_values() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let officer = muong_la();
    let province = son_la_admin();
    let admin = token(Role::Admin, None, None);

    // 1. The commune's system submits; 2. corrects one value and clears another.
    let body =
        |values: Value| json!({"dataset": "dmst-quarterly", "period": "2026Q1", "values": values});
    let res = app
        .submit(
            &officer,
            &body(json!({"dossiers_total": 120, "dossiers_online_full": 90, "staff_total": 30})),
        )
        .await;
    assert_eq!(res.status, 201);
    app.clock.set(at("2026-02-11T03:00:00Z"));
    let res = app
        .submit(
            &officer,
            &body(json!({"dossiers_online_full": 96, "staff_total": null})),
        )
        .await;
    assert_eq!(res.status, 201);
    // 3. The province imports a correction; 4. the province returns it, the commune corrects.
    app.clock.set(at("2026-02-12T03:00:00Z"));
    let csv = "commune,dataset,period,indicator,value,comment\n03808,dmst-quarterly,2026Q1,dossiers_total,125,Sở sửa theo hồ sơ gốc\n";
    let res = app
        .post_raw(&province, "/api/v1/imports", "text/csv", csv)
        .await;
    assert_eq!(res.json()["updated"], 1, "{}", res.text());
    app.clock.set(at("2026-02-13T03:00:00Z"));
    let res = app
        .post_json(
            Some(&province),
            &format!("{REPORT}/review"),
            &json!({"action": "return", "comment": "Kiểm tra lại"}),
        )
        .await;
    assert_eq!(res.status, 200);
    app.clock.set(at("2026-02-14T03:00:00Z"));
    assert_eq!(
        app.submit(&officer, &body(json!({"staff_total": 28})))
            .await
            .status,
        201
    );
    // 5. The national admin approves.
    app.clock.set(at("2026-02-15T03:00:00Z"));
    let res = app
        .post_json(
            Some(&admin),
            &format!("{REPORT}/review"),
            &json!({"action": "approve"}),
        )
        .await;
    assert_eq!(res.status, 200);

    let revisions = app
        .get_as(&province, &format!("{REPORT}/revisions"))
        .await
        .json();
    let revisions = revisions["items"].as_array().unwrap();
    let who: Vec<(i64, &str, &str)> = revisions
        .iter()
        .map(|r| {
            (
                r["revision"].as_i64().unwrap(),
                r["author"].as_str().unwrap(),
                r["received_at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        who,
        vec![
            (1, "commune_officer-03808", "2026-02-10T03:00:00Z"),
            (2, "commune_officer-03808", "2026-02-11T03:00:00Z"),
            (3, "province_admin-14", "2026-02-12T03:00:00Z"),
            (4, "commune_officer-03808", "2026-02-14T03:00:00Z"),
        ]
    );
    assert_eq!(revisions[2]["comment"], "Sở sửa theo hồ sơ gốc");
    // The changes chain: replaying old → new from nothing gives every revision's values, and
    // each change's old value is what the revision before held.
    let mut state: BTreeMap<String, f64> = BTreeMap::new();
    for r in revisions {
        for c in r["changes"].as_array().unwrap() {
            let indicator = c["indicator"].as_str().unwrap().to_owned();
            assert_eq!(
                c["old"].as_f64(),
                state.get(&indicator).copied(),
                "revision {}: {indicator}",
                r["revision"]
            );
            match c["new"].as_f64() {
                Some(v) => state.insert(indicator, v),
                None => state.remove(&indicator),
            };
        }
        let values: BTreeMap<String, f64> = r["values"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_f64().unwrap()))
            .collect();
        assert_eq!(values, state, "revision {}", r["revision"]);
    }
    let current = app.get_as(&officer, REPORT).await.json();
    assert_eq!(current["values"]["dossiers_total"], 125.0);
    assert_eq!(current["values"]["staff_total"], 28.0);
    assert_eq!(current["status"], "approved");

    let reviews = app
        .get_as(&officer, &format!("{REPORT}/reviews"))
        .await
        .json();
    let reviews: Vec<(&str, &str, i64, &str)> = reviews["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap(),
                r["actor"].as_str().unwrap(),
                r["revision"].as_i64().unwrap(),
                r["at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reviews,
        vec![
            ("return", "province_admin-14", 3, "2026-02-13T03:00:00Z"),
            ("approve", "admin-all", 4, "2026-02-15T03:00:00Z"),
        ]
    );

    // The author is the token's subject: a body cannot claim another.
    let forged = json!({"dataset": "dmst-quarterly", "period": "2026Q2", "values": {"dossiers_total": 1}, "author": "someone-else"});
    assert_eq!(app.submit(&officer, &forged).await.status, 400);
    // Nothing rewrites history: no method but GET on the records.
    for method in ["PUT", "DELETE", "PATCH"] {
        for path in [
            format!("{REPORT}/revisions"),
            format!("{REPORT}/reviews"),
            REPORT.to_owned(),
        ] {
            let res = app
                .request(method, &path, Some(&admin), Some(&json!({})))
                .await;
            assert!(
                matches!(res.status.as_u16(), 404 | 405),
                "{method} {path}: {}",
                res.status
            );
        }
    }
    let after = app
        .get_as(&province, &format!("{REPORT}/revisions"))
        .await
        .json();
    assert_eq!(after["items"].as_array().unwrap().len(), 4);
}

#[actix_web::test]
async fn targets_framework_and_logins_are_in_the_change_log_with_old_and_new_values() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let province = son_la_admin();
    let admin = token(Role::Admin, None, None);
    let put = |c: &str, values: Value| {
        (
            format!("/api/v1/targets/2026/{c}"),
            json!({"values": values}),
        )
    };

    let (path, body) = put(
        "03808",
        json!({"online_dossier_rate": 60, "ocop_products": 2}),
    );
    assert_eq!(app.put_json(&province, &path, &body).await.status, 200);
    let (path, body) = put(
        "03808",
        json!({"online_dossier_rate": 65, "ocop_products": null}),
    );
    assert_eq!(app.put_json(&province, &path, &body).await.status, 200);
    // The same values again change nothing, and log nothing.
    assert_eq!(app.put_json(&province, &path, &body).await.status, 200);
    let hanoi = app
        .get("/api/v1/provinces/01/communes?limit=1")
        .await
        .json()["items"][0]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let (path, body) = put(&hanoi, json!({"online_dossier_rate": 80}));
    assert_eq!(app.put_json(&admin, &path, &body).await.status, 200);
    let framework = app.get("/api/v1/index/framework").await.json();
    assert_eq!(
        app.put_json(&admin, "/api/v1/index/framework", &framework)
            .await
            .status,
        200
    );
    let res = app
        .post_json(
            Some(&province),
            "/api/v1/users",
            &json!({"username": "xa-muong-la-2", "role": "commune_officer", "commune": "03808"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    // A taken name writes neither the login nor a log entry.
    let again = app
        .post_json(
            Some(&province),
            "/api/v1/users",
            &json!({"username": "xa-muong-la-2", "role": "commune_officer", "commune": "03808"}),
        )
        .await;
    assert_eq!(again.status, 409);

    let all = app.get_as(&admin, "/api/v1/changes").await.json();
    let items = all["items"].as_array().unwrap();
    let summary: Vec<(&str, &str, &str)> = items
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap(),
                c["actor"].as_str().unwrap(),
                c["subject"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("targets.set", "province_admin-14", "2026/03808"),
            ("targets.set", "province_admin-14", "2026/03808"),
            ("targets.set", "admin-all", &*format!("2026/{hanoi}")),
            ("framework.replace", "admin-all", "index framework"),
            ("user.create", "province_admin-14", "xa-muong-la-2"),
        ]
    );
    let second = &items[1]["detail"]["changes"];
    assert_eq!(
        second,
        &json!([
            {"indicator": "ocop_products", "old": 2.0, "new": null},
            {"indicator": "online_dossier_rate", "old": 60.0, "new": 65.0},
        ])
    );
    assert_eq!(
        items[3]["detail"]["old"], items[3]["detail"]["new"],
        "the same framework, saved again"
    );
    assert!(
        items[4]["detail"].get("password").is_none(),
        "no password in the log"
    );

    // Scope: Sơn La sees only its own changes (who edits the framework or creates national
    // logins is national business); its officer only their commune's.
    let son_la: Vec<String> = app.get_as(&province, "/api/v1/changes").await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(son_la, vec!["2026/03808", "2026/03808", "xa-muong-la-2"]);
    assert_eq!(
        app.get_as(&province, "/api/v1/changes?province=01")
            .await
            .status,
        403
    );
    let officer = app
        .get_as(&muong_la(), "/api/v1/changes?action=targets.set")
        .await
        .json();
    assert_eq!(officer["items"].as_array().unwrap().len(), 2);
    // And as a spreadsheet.
    let csv = app
        .get_as(&admin, "/api/v1/changes?format=csv&lang=vi")
        .await;
    assert!(
        csv.text().contains("Người thay đổi") && csv.text().contains("Thay khung chỉ số"),
        "Vietnamese headers and action names"
    );
}
