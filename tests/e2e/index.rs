//! The innovation index over provinces and over the communes of a province.

use innoreport_core::Role;
use serde_json::json;

use crate::support::{TestApp, assert_problem, muong_la, token};

/// Four communes in three provinces report a full year (Q1 and the annual report of 2026);
/// `k` scales how innovative each one is.
async fn fixture() -> TestApp {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let admin = token(Role::Admin, None, None);
    let communes = [
        ("03808", 1.0),
        ("03646", 2.0),
        ("00070", 3.0),
        ("25747", 4.0),
    ];
    for (commune, k) in communes {
        let quarterly = json!({"commune": commune, "dataset": "dmst-quarterly", "period": "2026Q1", "values": {
            "dossiers_total": 100, "dossiers_online_full": 20.0 * k, "outreach_sessions": 2.0 * k,
            "staff_total": 40, "staff_trained": 5.0 * k, "digital_teams": 2, "digital_team_members": 5.0 * k + 3.0,
            "businesses_total": 200, "businesses_innovating": 3.0 * k + 1.0, "initiatives_recognized": k,
            "st_models": k + 1.0, "ocop_3star": 2, "ocop_4star": k, "ocop_5star": 0
        }});
        let res = app.submit(&admin, &quarterly).await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    app.clock.set(crate::support::at("2026-11-20T03:00:00Z"));
    for (commune, k) in communes {
        let annual = json!({"commune": commune, "dataset": "dmst-annual", "period": "2026", "values": {
            "population": 10000, "budget_total": 50000, "budget_st": 500.0 * k, "st_enterprises": k,
            "startup_projects": k, "st_results_applied": k + 2.0
        }});
        let res = app.submit(&admin, &annual).await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    app
}

#[actix_web::test]
async fn provinces_are_scored_ranked_and_given_rank_uncertainty() {
    let app = fixture().await;
    let analyst = token(Role::NationalAnalyst, None, None);
    let body = app
        .get_as(&analyst, "/api/v1/index?period=2026")
        .await
        .json();
    assert_eq!(body["draws"], 1000);
    assert_eq!(body["seed"], 20250701);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 34);
    let scored: Vec<&serde_json::Value> = items.iter().filter(|r| !r["score"].is_null()).collect();
    assert_eq!(
        scored.len(),
        3,
        "Hà Nội, Sơn La and Hồ Chí Minh City report"
    );
    let rank_of = |code: &str| items.iter().find(|r| r["unit"] == code).unwrap()["rank"].as_i64();
    // Hồ Chí Minh City's commune is the most innovative (k = 4), Hà Nội's next (k = 3), Sơn La's
    // two communes (k = 1, 2) pool to the lowest rates.
    assert_eq!(
        (rank_of("79"), rank_of("01"), rank_of("14")),
        (Some(1), Some(2), Some(3))
    );
    let hcm = items.iter().find(|r| r["unit"] == "79").unwrap();
    assert_eq!(hcm["name"], "Thành phố Hồ Chí Minh");
    assert!(
        (hcm["score"].as_f64().unwrap() - 100.0).abs() < 1e-9,
        "best on every indicator"
    );
    let sum: f64 = hcm["contributions"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((sum - 100.0).abs() < 1e-9);
    assert_eq!(hcm["pillars"].as_object().unwrap().len(), 5);
    assert!(hcm["rank_p5"].as_i64().unwrap() <= hcm["rank_median"].as_i64().unwrap());
    assert!(hcm["rank_median"].as_i64().unwrap() <= hcm["rank_p95"].as_i64().unwrap());
    let silent = items.iter().find(|r| r["unit"] == "04").unwrap();
    assert!(silent["score"].is_null() && silent["rank"].is_null());
    assert_eq!(silent["coverage"], 0.0);
    // Every indicator is constant-free here except none: the excluded list names constants.
    assert!(
        body["excluded"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["reason"] == "constant" || e["reason"] == "no_values")
    );
    // The same request gives the same numbers (fixed seed).
    let again = app
        .get_as(&analyst, "/api/v1/index?period=2026")
        .await
        .json();
    assert_eq!(again["items"], body["items"]);

    let communes = app
        .get_as(
            &token(Role::ProvinceAnalyst, Some("14"), None),
            "/api/v1/index?period=2026&level=commune&province=14",
        )
        .await
        .json();
    let ranked: Vec<(&str, i64)> = communes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["rank"].as_i64().map(|k| (r["unit"].as_str().unwrap(), k)))
        .collect();
    assert_eq!(ranked, vec![("03646", 1), ("03808", 2)]);
    assert_problem(
        &app.get_as(
            &muong_la(),
            "/api/v1/index?period=2026&level=commune&province=14",
        )
        .await,
        403,
    );
    assert_problem(
        &app.get_as(
            &token(Role::ProvinceAnalyst, Some("01"), None),
            "/api/v1/index?period=2026&level=commune&province=14",
        )
        .await,
        403,
    );
    assert_eq!(
        app.get_as(&muong_la(), "/api/v1/index?period=2026&uncertainty=false")
            .await
            .status,
        200
    );
    let csv = app
        .get_as(
            &analyst,
            "/api/v1/index?period=2026&uncertainty=false&format=csv&lang=vi",
        )
        .await
        .text();
    assert!(csv.starts_with("\u{feff}Mã đơn vị,Tên đơn vị,Độ phủ dữ liệu,Điểm chỉ số,Xếp hạng"));

    let dash = app
        .get_as(
            &token(Role::ProvinceAdmin, Some("14"), None),
            "/api/v1/provinces/14/dashboard?period=2026",
        )
        .await
        .json();
    assert_eq!(
        (
            dash["index_rank"].as_i64(),
            dash["provinces_ranked"].as_i64()
        ),
        (Some(3), Some(3))
    );
    assert_eq!(dash["commune_index"].as_array().unwrap().len(), 75);
}

#[actix_web::test]
async fn what_if_changes_the_ranks_without_storing_anything() {
    let app = fixture().await;
    let analyst = token(Role::NationalAnalyst, None, None);
    let body = json!({"period": "2026", "uncertainty": false, "overrides": [
        {"unit": "14", "indicator": "online_dossier_rate", "value": 100},
        {"unit": "14", "indicator": "budget_st_share", "value": 50},
        {"unit": "14", "indicator": "ocop_products_per_10k", "value": 50},
        {"unit": "14", "indicator": "initiatives_recognized_per_10k", "value": 50},
        {"unit": "14", "indicator": "st_models_per_10k", "value": 50},
        {"unit": "14", "indicator": "staff_trained_rate", "value": 100}
    ]});
    let res = app
        .post_json(Some(&analyst), "/api/v1/index/what-if", &body)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let rank = |doc: &serde_json::Value, code: &str| {
        doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["unit"] == code)
            .unwrap()["rank"]
            .as_i64()
    };
    let what_if = res.json();
    assert!(rank(&what_if, "14").unwrap() < 3, "Sơn La climbs");
    let stored = app
        .get_as(&analyst, "/api/v1/index?period=2026&uncertainty=false")
        .await
        .json();
    assert_eq!(rank(&stored, "14"), Some(3), "nothing stored");
    let bad = json!({"period": "2026", "overrides": [{"unit": "99", "indicator": "population", "value": 1}]});
    let p = assert_problem(
        &app.post_json(Some(&analyst), "/api/v1/index/what-if", &bad)
            .await,
        422,
    );
    assert_eq!(p["errors"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn the_framework_is_data_an_admin_edits() {
    let app = fixture().await;
    let framework = app.get("/api/v1/index/framework").await.json();
    let pillars = framework["pillars"].as_array().unwrap();
    assert_eq!(pillars.len(), 5);
    assert_eq!(
        pillars
            .iter()
            .map(|p| p["indicators"].as_array().unwrap().len())
            .sum::<usize>(),
        13
    );
    assert_eq!(pillars[0]["name"], "Thể chế");
    assert_eq!(
        pillars[0]["indicators"][0]["name"],
        "Tỷ lệ hồ sơ giải quyết trực tuyến toàn trình"
    );

    let mut edited = framework.clone();
    edited["pillars"][0]["indicators"][0]["weight"] = json!(2.0);
    assert_problem(
        &app.put_json(
            &token(Role::ProvinceAdmin, Some("14"), None),
            "/api/v1/index/framework",
            &edited,
        )
        .await,
        403,
    );
    let mut broken = framework.clone();
    broken["pillars"][0]["indicators"][0]["indicator"] = json!("no_such_indicator");
    broken["pillars"][1]["indicators"][0]["weight"] = json!(-1);
    let p = assert_problem(
        &app.put_json(
            &token(Role::Admin, None, None),
            "/api/v1/index/framework",
            &broken,
        )
        .await,
        422,
    );
    assert_eq!(p["errors"].as_array().unwrap().len(), 2, "{p}");
    let res = app
        .put_json(
            &token(Role::Admin, None, None),
            "/api/v1/index/framework",
            &edited,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let now = app.get("/api/v1/index/framework").await.json();
    assert_eq!(now["pillars"][0]["indicators"][0]["weight"], 2.0);
}
