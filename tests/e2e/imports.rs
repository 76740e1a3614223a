//! Bulk import from CSV and JSON, with its dry run.

use serde_json::json;

use crate::support::{TestApp, assert_problem, son_la_admin};

async fn two_son_la_communes(app: &TestApp) -> (String, String) {
    let list = app.get("/api/v1/provinces/14/communes").await.json();
    let codes: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .filter(|c| c != "03808")
        .collect();
    (codes[0].clone(), codes[1].clone())
}

#[actix_web::test]
async fn a_csv_import_applies_good_reports_and_lists_every_bad_row() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let admin = son_la_admin();
    let (b, c) = two_son_la_communes(&app).await;
    let csv = format!(
        "\u{feff}commune,dataset,period,indicator,value\n\
         03808,dmst-quarterly,2026Q1,dossiers_total,100\n\
         03808,dmst-quarterly,2026Q1,dossiers_online_full,80\n\
         {b},dmst-quarterly,2026Q1,dossiers_total,50\n\
         {b},dmst-quarterly,2026Q1,dossiers_online_full,70\n\
         00070,dmst-quarterly,2026Q1,dossiers_total,5\n\
         {c},dmst-quarterly,2026Q1,staff_total,abc\n\
         {c},dmst-quarterly,2026Q1,ocop_3star,2\n"
    );
    let dry = app
        .post_raw(&admin, "/api/v1/imports?dry_run=true", "text/csv", &csv)
        .await;
    assert_eq!(dry.status, 200, "{}", dry.text());
    let summary = dry.json();
    assert_eq!(summary["dry_run"], true);
    assert_eq!(summary["reports"], 4);
    assert_eq!(summary["created"], 1);
    assert_eq!(summary["rejected"], 3);
    let conflicts: Vec<(i64, String)> = summary["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["row"].as_i64().unwrap(),
                c["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        conflicts,
        vec![
            (5, "exceeds_whole".into()),
            (6, "forbidden".into()),
            (7, "not_a_number".into())
        ]
    );
    // The dry run stored nothing.
    assert_problem(
        &app.get_as(&admin, "/api/v1/reports/dmst-quarterly/2026Q1/03808")
            .await,
        404,
    );

    let real = app
        .post_raw(&admin, "/api/v1/imports", "text/csv; charset=utf-8", &csv)
        .await
        .json();
    assert_eq!(real["dry_run"], false);
    assert_eq!(
        (real["created"].as_i64(), real["rejected"].as_i64()),
        (Some(1), Some(3))
    );
    let stored = app
        .get_as(&admin, "/api/v1/reports/dmst-quarterly/2026Q1/03808")
        .await
        .json();
    assert_eq!(
        stored["values"],
        json!({"dossiers_total": 100.0, "dossiers_online_full": 80.0})
    );
    assert_eq!(stored["author"], "province_admin-14");
    assert_problem(
        &app.get_as(
            &admin,
            &format!("/api/v1/reports/dmst-quarterly/2026Q1/{b}"),
        )
        .await,
        404,
    );

    // The same file again changes nothing.
    let again = app
        .post_raw(&admin, "/api/v1/imports", "text/csv", &csv)
        .await
        .json();
    assert_eq!(
        (again["unchanged"].as_i64(), again["created"].as_i64()),
        (Some(1), Some(0))
    );
}

#[actix_web::test]
async fn a_json_import_takes_an_array_of_reports() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let admin = son_la_admin();
    let (b, _) = two_son_la_communes(&app).await;
    let body = json!([
        {"commune": "03808", "dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_total": 9}},
        {"commune": b, "dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_total": -1}},
        {"commune": b, "dataset": "dmst-quarterly", "period": "2026Q1"}
    ]);
    let res = app
        .post_raw(
            &admin,
            "/api/v1/imports",
            "application/json",
            &body.to_string(),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let s = res.json();
    assert_eq!(
        (s["created"].as_i64(), s["rejected"].as_i64()),
        (Some(1), Some(1))
    );
    let codes: Vec<(i64, &str)> = s["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["row"].as_i64().unwrap(), c["code"].as_str().unwrap()))
        .collect();
    assert_eq!(codes, vec![(2, "negative"), (3, "malformed_report")]);
    let p = assert_problem(
        &app.post_raw(&admin, "/api/v1/imports", "text/plain", "x")
            .await,
        415,
    );
    assert!(p["detail"].as_str().unwrap().contains("text/csv"));
    assert_problem(
        &app.post_raw(&admin, "/api/v1/imports", "text/csv", "a,b\n1,2\n")
            .await,
        422,
    );
}

#[actix_web::test]
async fn oversized_uploads_are_refused_with_a_problem() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let admin = son_la_admin();
    let huge = "x".repeat(17 * 1024 * 1024);
    let res = app
        .post_raw(&admin, "/api/v1/imports", "text/csv", &huge)
        .await;
    assert_problem(&res, 413);
    let big_json = format!("{{\"dataset\":\"{}\"}}", "y".repeat(5 * 1024 * 1024));
    let res = app
        .post_raw(&admin, "/api/v1/reports", "application/json", &big_json)
        .await;
    assert_problem(&res, 413);
}
