//! Reference data as a dashboard reads it.

use crate::support::{TestApp, assert_problem};

#[actix_web::test]
async fn lists_the_34_provinces_with_vietnamese_and_english_names() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/provinces").await;
    assert_eq!(res.status, 200);
    let body = res.json();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 34);
    assert!(body["next_cursor"].is_null());
    let son_la = items.iter().find(|p| p["code"] == "14").unwrap();
    assert_eq!(son_la["name"], "Sơn La");
    assert_eq!(son_la["name_en"], "Son La Province");
    assert_eq!(son_la["communes"], 75);
    let hanoi = items.iter().find(|p| p["code"] == "01").unwrap();
    assert_eq!(hanoi["name"], "Thành phố Hà Nội");
    let total: i64 = items.iter().map(|p| p["communes"].as_i64().unwrap()).sum();
    assert_eq!(total, 3321);
}

#[actix_web::test]
async fn a_province_lists_its_communes_with_official_codes() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/provinces/14/communes").await;
    assert_eq!(res.status, 200);
    let body = res.json();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 75);
    let muong_la = items
        .iter()
        .find(|c| c["code"] == "03808")
        .expect("Xã Mường La is listed");
    assert_eq!(muong_la["name"], "Xã Mường La");
    assert_eq!(muong_la["name_en"], "Muong La Commune");
    assert_eq!(muong_la["province"], "14");
    assert_eq!(muong_la["division_type"], "xã");

    let one = app.get("/api/v1/provinces/14").await.json();
    assert_eq!(one["name"], "Sơn La");
    assert_eq!(one["communes"], 75);
    assert_eq!(
        app.get("/api/v1/communes/03808").await.json()["name"],
        "Xã Mường La"
    );
}

#[actix_web::test]
async fn commune_pages_are_stable_and_cover_every_commune_once() {
    let app = TestApp::spawn().await;
    // Hồ Chí Minh City has 168 communes: two pages of 100.
    let mut seen = Vec::new();
    let mut url = "/api/v1/provinces/79/communes?limit=100".to_owned();
    loop {
        let body = app.get(&url).await.json();
        seen.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["code"].as_str().unwrap().to_owned()),
        );
        match body["next_cursor"].as_str() {
            Some(cursor) => {
                url = format!("/api/v1/provinces/79/communes?limit=100&cursor={cursor}")
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 168);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique, seen, "in code order, no repeats");
}

#[actix_web::test]
async fn unknown_codes_and_bad_paging_are_problems() {
    let app = TestApp::spawn().await;
    assert_problem(&app.get("/api/v1/provinces/99").await, 404);
    assert_problem(&app.get("/api/v1/provinces/abc").await, 404);
    assert_problem(&app.get("/api/v1/provinces/99/communes").await, 404);
    assert_problem(&app.get("/api/v1/communes/00001").await, 404);
    assert_problem(&app.get("/api/v1/indicators/nope").await, 404);
    assert_problem(&app.get("/api/v1/datasets/nope").await, 404);
    assert_problem(&app.get("/api/v1/nothing-here").await, 404);
    let p = assert_problem(
        &app.get("/api/v1/provinces/14/communes?limit=5000").await,
        400,
    );
    assert_eq!(p["errors"][0]["field"], "limit");
    let p = assert_problem(
        &app.get("/api/v1/provinces/14/communes?cursor=garbage")
            .await,
        400,
    );
    assert_eq!(p["errors"][0]["field"], "cursor");
    assert_problem(
        &app.get("/api/v1/provinces/14/communes?limit=abc").await,
        400,
    );
}

#[actix_web::test]
async fn the_catalog_lists_indicators_with_both_names_and_rules() {
    let app = TestApp::spawn().await;
    let body = app.get("/api/v1/indicators").await.json();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 35, "21 reported and 14 derived");
    assert!(
        items.iter().all(|i| !i["name"].as_str().unwrap().is_empty()
            && !i["name_en"].as_str().unwrap().is_empty())
    );
    let rate = items
        .iter()
        .find(|i| i["code"] == "online_dossier_rate")
        .unwrap();
    assert_eq!(rate["kind"], "derived");
    assert_eq!(rate["name"], "Tỷ lệ hồ sơ giải quyết trực tuyến toàn trình");
    assert_eq!(rate["formula"]["kind"], "ratio");
    assert_eq!(
        rate["expression"],
        "100 × dossiers_online_full / dossiers_total"
    );
    let staff = items.iter().find(|i| i["code"] == "staff_trained").unwrap();
    assert_eq!(staff["kind"], "reported");
    assert_eq!(staff["dataset"], "dmst-quarterly");
    assert_eq!(staff["temporal"], "last");
    assert_eq!(staff["spatial"], "sum");
    assert_eq!(staff["at_most"], "staff_total");
    let annual = app
        .get("/api/v1/indicators?dataset=dmst-annual")
        .await
        .json();
    assert_eq!(annual["items"].as_array().unwrap().len(), 6);
}

#[actix_web::test]
async fn data_sets_carry_their_rules_and_the_schedule_of_a_period() {
    let app = TestApp::spawn().await;
    let body = app.get("/api/v1/datasets").await.json();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let q = &items[0];
    assert_eq!(q["code"], "dmst-quarterly");
    assert_eq!(q["period_type"], "quarter");
    assert_eq!(
        q["deadline_rule"],
        serde_json::json!({"kind": "day_of_last_month", "day": 5})
    );
    assert_eq!(
        q["lock_rule"],
        serde_json::json!({"kind": "days_after_deadline", "days": 30})
    );
    assert_eq!(q["indicators"].as_array().unwrap().len(), 15);

    let one = app
        .get("/api/v1/datasets/dmst-quarterly?period=2026Q1")
        .await
        .json();
    assert_eq!(
        one["schedule"]["deadline"], "2026-03-05T16:59:59Z",
        "end of 5 March in Vietnam"
    );
    assert_eq!(one["schedule"]["lock"], "2026-04-04T16:59:59Z");
    let annual = app
        .get("/api/v1/datasets/dmst-annual?period=2026")
        .await
        .json();
    assert_eq!(annual["schedule"]["deadline"], "2026-12-05T16:59:59Z");
    assert_eq!(annual["schedule"]["lock"], "2027-01-31T16:59:59Z");
    let p = assert_problem(
        &app.get("/api/v1/datasets/dmst-annual?period=2026Q1").await,
        400,
    );
    assert_eq!(p["errors"][0]["code"], "wrong_period_type");
    assert_problem(
        &app.get("/api/v1/datasets/dmst-quarterly?period=2026Q7")
            .await,
        400,
    );
}

#[actix_web::test]
async fn restarting_twice_does_not_duplicate_reference_data() {
    let app = TestApp::spawn().await;
    let db = app.db;
    // Two more starts on the same database, as two restarts would do.
    let again = TestApp::spawn_on(db).await;
    let third = TestApp::spawn_on(again.db).await;
    let provinces = third.get("/api/v1/provinces").await.json();
    assert_eq!(provinces["items"].as_array().unwrap().len(), 34);
    let total: i64 = provinces["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["communes"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 3321);
    assert_eq!(
        third.get("/api/v1/indicators").await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        35
    );
}

#[actix_web::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let health = app.get("/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    // Ready once the live view has loaded (503 with Retry-After until then).
    crate::support::within(std::time::Duration::from_secs(10), async || {
        let ready = app.get("/ready").await;
        assert!(
            ready.status == 200 || ready.header("retry-after").is_some(),
            "{}",
            ready.text()
        );
        ready.status == 200
    })
    .await;
    let ready = app.get("/ready").await;
    assert_eq!(ready.json()["database"], app.db.backend().name());
}
