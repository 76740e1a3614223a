//! Rollups, compliance, targets and the dashboard over a small hand-made province. (One file:
//! every scenario reads the same hand-made province, whose numbers are checked by hand.)

use innoreport_core::Role;
use serde_json::json;

use crate::support::{TestApp, assert_problem, at, muong_la, son_la_admin, token};

struct Fixture {
    app: TestApp,
    /// Xã Mường La and three other communes of Sơn La.
    a: String,
    b: String,
    c: String,
}

fn q(period: &str, values: serde_json::Value) -> serde_json::Value {
    json!({"dataset": "dmst-quarterly", "period": period, "values": values})
}

/// Sơn La: A reports Q1 on time and Q2; B reports Q1 on time and a Q2 stock; C reports Q1
/// late (10 March, deadline 5 March); the 72 others report nothing. The clock ends on 10 May 2026.
async fn fixture() -> Fixture {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let list = app.get("/api/v1/provinces/14/communes").await.json();
    let others: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .filter(|c| c != "03808")
        .collect();
    let (a, b, c) = ("03808".to_owned(), others[0].clone(), others[1].clone());
    let officer = |code: &str| token(Role::CommuneOfficer, Some("14"), Some(code));
    let ok = |res: crate::support::Answer| assert_eq!(res.status, 201, "{}", res.text());
    ok(app
        .submit(
            &officer(&a),
            &q(
                "2026Q1",
                json!({"dossiers_total": 100, "dossiers_online_full": 90, "staff_total": 20}),
            ),
        )
        .await);
    ok(app
        .submit(
            &officer(&b),
            &q(
                "2026Q1",
                json!({"dossiers_total": 10, "dossiers_online_full": 1}),
            ),
        )
        .await);
    app.clock.set(at("2026-03-10T03:00:00Z"));
    ok(app
        .submit(
            &officer(&c),
            &q(
                "2026Q1",
                json!({"dossiers_total": 50, "dossiers_online_full": 25}),
            ),
        )
        .await);
    app.clock.set(at("2026-05-10T03:00:00Z"));
    ok(app
        .submit(
            &officer(&a),
            &q(
                "2026Q2",
                json!({"dossiers_total": 100, "dossiers_online_full": 50, "staff_total": 25}),
            ),
        )
        .await);
    ok(app
        .submit(&officer(&b), &q("2026Q2", json!({"staff_total": 7})))
        .await);
    Fixture { app, a, b, c }
}

fn row<'a>(body: &'a serde_json::Value, unit: &str) -> &'a serde_json::Value {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit"] == unit)
        .unwrap_or_else(|| panic!("no row {unit}: {body}"))
}

#[actix_web::test]
async fn a_province_ratio_is_the_sum_of_numerators_over_the_sum_of_denominators() {
    let f = fixture().await;
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    let body = f
        .app
        .get_as(
            &analyst,
            "/api/v1/aggregates?indicator=online_dossier_rate&period=2026&level=province",
        )
        .await
        .json();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "a province analyst sees her province");
    let p = row(&body, "14");
    assert_eq!(p["name"], "Sơn La");
    assert_eq!(
        (p["numerator"].as_f64(), p["denominator"].as_f64()),
        (Some(166.0), Some(260.0))
    );
    let expected = 100.0 * 166.0 / 260.0;
    assert!(
        (p["value"].as_f64().unwrap() - expected).abs() < 1e-9,
        "{p}"
    );
    let mean_of_rates = (70.0 + 10.0 + 50.0) / 3.0;
    assert!(
        (p["value"].as_f64().unwrap() - mean_of_rates).abs() > 10.0,
        "not a mean of rates"
    );
    assert_eq!(
        (
            p["communes_reporting"].as_i64(),
            p["communes_expected"].as_i64()
        ),
        (Some(3), Some(75))
    );

    let communes = f
        .app
        .get_as(
            &analyst,
            "/api/v1/aggregates?indicator=online_dossier_rate&period=2026&level=commune",
        )
        .await
        .json();
    assert_eq!(communes["items"].as_array().unwrap().len(), 75);
    assert!((row(&communes, &f.a)["value"].as_f64().unwrap() - 70.0).abs() < 1e-9);
    assert!((row(&communes, &f.b)["value"].as_f64().unwrap() - 10.0).abs() < 1e-9);
    assert!((row(&communes, &f.c)["value"].as_f64().unwrap() - 50.0).abs() < 1e-9);
}

#[actix_web::test]
async fn a_stock_takes_the_last_quarter_and_a_flow_sums_over_the_year() {
    let f = fixture().await;
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    let stock = f
        .app
        .get_as(
            &analyst,
            "/api/v1/aggregates?indicator=staff_total&period=2026&level=commune",
        )
        .await
        .json();
    assert_eq!(row(&stock, &f.a)["value"], 25.0, "Q2's 25, not 20 + 25");
    assert_eq!(row(&stock, &f.b)["value"], 7.0);
    assert!(row(&stock, &f.c)["value"].is_null());
    let province = f
        .app
        .get_as(
            &analyst,
            "/api/v1/aggregates?indicator=staff_total&period=2026",
        )
        .await
        .json();
    assert_eq!(row(&province, "14")["value"], 32.0);
    let flow = f
        .app
        .get_as(
            &analyst,
            "/api/v1/aggregates?indicator=dossiers_total&period=2026",
        )
        .await
        .json();
    assert_eq!(row(&flow, "14")["value"], 260.0);
    let national = f
        .app
        .get_as(
            &token(Role::NationalAnalyst, None, None),
            "/api/v1/aggregates?indicator=dossiers_total&period=2026&level=national",
        )
        .await
        .json();
    assert_eq!(row(&national, "VN")["value"], 260.0);
    assert_eq!(row(&national, "VN")["communes_expected"], 3321);
    let all = f
        .app
        .get_as(
            &token(Role::NationalAnalyst, None, None),
            "/api/v1/aggregates?indicator=dossiers_total&period=2026Q1",
        )
        .await
        .json();
    assert_eq!(all["items"].as_array().unwrap().len(), 34);
    assert_eq!(row(&all, "14")["value"], 160.0);
    assert!(row(&all, "01")["value"].is_null());
}

#[actix_web::test]
async fn compliance_counts_on_time_late_missing_and_pending() {
    let f = fixture().await;
    let admin = son_la_admin();
    let body = f
        .app
        .get_as(
            &admin,
            "/api/v1/compliance?dataset=dmst-quarterly&period=2026Q1",
        )
        .await
        .json();
    assert_eq!(
        (
            body["expected"].as_i64(),
            body["received"].as_i64(),
            body["on_time"].as_i64(),
            body["late"].as_i64(),
            body["missing"].as_i64(),
            body["pending"].as_i64()
        ),
        (Some(75), Some(3), Some(2), Some(1), Some(72), Some(0))
    );
    assert!((body["reporting_rate"].as_f64().unwrap() - 3.0 / 75.0).abs() < 1e-12);
    assert!((body["on_time_rate"].as_f64().unwrap() - 2.0 / 75.0).abs() < 1e-12);
    assert_eq!(body["deadline"], "2026-03-05T16:59:59Z");
    let communes = body["communes"].as_array().unwrap();
    let c = communes
        .iter()
        .find(|r| r["commune"] == f.c.as_str())
        .unwrap();
    assert_eq!(c["status"], "late");
    assert_eq!(
        c["days_late"], 5,
        "end of 5 March → 10 March 10:00: 5 days started"
    );
    assert_eq!(
        communes
            .iter()
            .find(|r| r["commune"] == f.a.as_str())
            .unwrap()["status"],
        "on_time"
    );
    assert_eq!(body["by_province"][0]["unit"], "14");

    // Before the deadline, nothing is missing yet; C's report had not arrived.
    let early = f
        .app
        .get_as(
            &admin,
            "/api/v1/compliance?dataset=dmst-quarterly&period=2026Q1&as_of=2026-03-01T00:00:00Z",
        )
        .await
        .json();
    assert_eq!(
        (
            early["on_time"].as_i64(),
            early["late"].as_i64(),
            early["pending"].as_i64(),
            early["missing"].as_i64()
        ),
        (Some(2), Some(0), Some(73), Some(0))
    );
    let q2 = f
        .app
        .get_as(
            &admin,
            "/api/v1/compliance?dataset=dmst-quarterly&period=2026Q2",
        )
        .await
        .json();
    assert_eq!(
        (q2["on_time"].as_i64(), q2["pending"].as_i64()),
        (Some(2), Some(73))
    );
    assert_problem(
        &f.app
            .get_as(
                &admin,
                "/api/v1/compliance?dataset=dmst-quarterly&period=2026",
            )
            .await,
        400,
    );
    assert_problem(
        &f.app
            .get_as(&admin, "/api/v1/compliance?dataset=nope&period=2026Q1")
            .await,
        400,
    );
    assert_problem(
        &f.app
            .get_as(
                &admin,
                "/api/v1/compliance?dataset=dmst-quarterly&period=2026Q1&province=01",
            )
            .await,
        403,
    );

    // A commune officer sees the province's totals and only its own row.
    let own = f
        .app
        .get_as(
            &muong_la(),
            "/api/v1/compliance?dataset=dmst-quarterly&period=2026Q1",
        )
        .await
        .json();
    assert_eq!(own["expected"], 75);
    assert_eq!(own["communes"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn a_submission_is_visible_in_the_next_aggregate_on_every_replica() {
    let f = fixture().await;
    let replica = f.app.replica().await;
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    let path = "/api/v1/aggregates?indicator=dossiers_total&period=2026Q2";
    let before = f.app.get_as(&analyst, path).await;
    let tag = before.header("etag").unwrap().to_owned();
    assert_eq!(row(&before.json(), "14")["value"], 100.0);
    assert_eq!(
        f.app
            .get_with(&analyst, path, &[("if-none-match", &tag)])
            .await
            .status,
        304
    );
    assert_eq!(
        row(&replica.get_as(&analyst, path).await.json(), "14")["value"],
        100.0
    );

    let res = replica
        .submit(&muong_la(), &q("2026Q2", json!({"dossiers_total": 130})))
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    // Immediately, through the other replica too.
    let after = f
        .app
        .get_with(&analyst, path, &[("if-none-match", &tag)])
        .await;
    assert_eq!(after.status, 200);
    assert_eq!(row(&after.json(), "14")["value"], 130.0);
    assert_eq!(
        row(&replica.get_as(&analyst, path).await.json(), "14")["value"],
        130.0
    );
}

#[actix_web::test]
async fn scopes_apply_to_aggregates() {
    let f = fixture().await;
    let officer = muong_la();
    let own = f
        .app
        .get_as(
            &officer,
            "/api/v1/aggregates?indicator=dossiers_total&period=2026&level=commune",
        )
        .await
        .json();
    assert_eq!(
        own["items"].as_array().unwrap().len(),
        1,
        "only their commune"
    );
    assert_eq!(own["items"][0]["unit"], "03808");
    let province = f
        .app
        .get_as(
            &officer,
            "/api/v1/aggregates?indicator=dossiers_total&period=2026",
        )
        .await
        .json();
    assert_eq!(
        row(&province, "14")["value"],
        260.0,
        "province totals are visible"
    );
    assert_problem(
        &f.app
            .get_as(
                &officer,
                "/api/v1/aggregates?indicator=dossiers_total&period=2026&level=national",
            )
            .await,
        403,
    );
    assert_problem(
        &f.app
            .get_as(
                &officer,
                "/api/v1/aggregates?indicator=dossiers_total&period=2026&province=01",
            )
            .await,
        403,
    );
    let hanoi = token(Role::ProvinceAnalyst, Some("01"), None);
    assert_problem(
        &f.app
            .get_as(
                &hanoi,
                "/api/v1/aggregates?indicator=dossiers_total&period=2026&level=commune&province=14",
            )
            .await,
        403,
    );
    assert_problem(
        &f.app
            .get_as(&hanoi, "/api/v1/provinces/14/dashboard?period=2026")
            .await,
        403,
    );
    assert_problem(
        &f.app
            .get("/api/v1/aggregates?indicator=dossiers_total&period=2026")
            .await,
        401,
    );
    assert_problem(
        &f.app
            .get_as(&hanoi, "/api/v1/aggregates?indicator=nope&period=2026")
            .await,
        400,
    );
    assert_problem(
        &f.app
            .get_as(
                &hanoi,
                "/api/v1/aggregates?indicator=dossiers_total&period=2026Q9",
            )
            .await,
        400,
    );
}

#[actix_web::test]
async fn exports_open_in_excel_with_vietnamese_intact() {
    let f = fixture().await;
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    let csv = f.app.get_as(&analyst, "/api/v1/aggregates?indicator=dossiers_total&period=2026&level=commune&format=csv&lang=vi").await;
    assert_eq!(csv.status, 200);
    assert!(csv.content_type().starts_with("text/csv"));
    let text = csv.text();
    assert!(
        text.starts_with("\u{feff}Mã đơn vị,Tên đơn vị,"),
        "{}",
        &text[..80]
    );
    assert!(
        text.contains("03808,Xã Mường La,Muong La Commune,200,,,1,1"),
        "{text}"
    );
    let accept = f
        .app
        .get_with(
            &analyst,
            "/api/v1/compliance?dataset=dmst-quarterly&period=2026Q1",
            &[("accept", "text/csv")],
        )
        .await;
    assert!(
        accept
            .text()
            .starts_with("\u{feff}commune,name,province,status")
    );

    let xlsx = f.app.get_as(&analyst, "/api/v1/aggregates?indicator=online_dossier_rate&period=2026&level=commune&format=xlsx&lang=vi").await;
    assert_eq!(xlsx.status, 200);
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(xlsx.body.clone())).expect("a valid workbook");
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(range.get_size(), (76, 8), "a header and 75 communes");
    assert_eq!(range.get((0, 1)), Some(&Data::String("Tên đơn vị".into())));
    let muong_la = (1..76)
        .find(|r| range.get((*r, 0)) == Some(&Data::String("03808".into())))
        .unwrap();
    assert_eq!(
        range.get((muong_la, 1)),
        Some(&Data::String("Xã Mường La".into()))
    );
    assert_eq!(
        range.get((muong_la, 3)),
        Some(&Data::Float(70.0)),
        "a typed number cell"
    );
}

#[actix_web::test]
async fn targets_and_their_attainment() {
    let f = fixture().await;
    let admin = son_la_admin();
    let res = f
        .app
        .put_json(
            &admin,
            "/api/v1/targets/2026/03808",
            &json!({"values": {"dossiers_total": 400, "online_dossier_rate": 80}}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let items = res.json()["items"].clone();
    let t = |code: &str| {
        items
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["indicator"] == code)
            .unwrap()
            .clone()
    };
    assert_eq!(t("dossiers_total")["actual"], 200.0);
    assert_eq!(t("dossiers_total")["attainment"], 0.5);
    assert!((t("online_dossier_rate")["attainment"].as_f64().unwrap() - 70.0 / 80.0).abs() < 1e-9);
    let p = assert_problem(
        &f.app
            .put_json(
                &admin,
                "/api/v1/targets/2026/03808",
                &json!({"values": {"nope": 1, "staff_total": -1}}),
            )
            .await,
        422,
    );
    assert_eq!(p["errors"].as_array().unwrap().len(), 2);
    assert_problem(
        &f.app
            .put_json(
                &muong_la(),
                "/api/v1/targets/2026/03808",
                &json!({"values": {"staff_total": 1}}),
            )
            .await,
        403,
    );
    assert_problem(
        &f.app
            .put_json(
                &admin,
                "/api/v1/targets/2026/00070",
                &json!({"values": {"staff_total": 1}}),
            )
            .await,
        403,
    );
    let own = f
        .app
        .get_as(&muong_la(), "/api/v1/targets?year=2026")
        .await
        .json();
    assert_eq!(own["items"].as_array().unwrap().len(), 2);
    let hanoi = f
        .app
        .get_as(
            &token(Role::ProvinceAnalyst, Some("01"), None),
            "/api/v1/targets?year=2026",
        )
        .await
        .json();
    assert_eq!(hanoi["items"].as_array().unwrap().len(), 0);

    let dash = f
        .app
        .get_as(&admin, "/api/v1/provinces/14/dashboard?period=2026")
        .await
        .json();
    assert_eq!(dash["name"], "Sơn La");
    let h = dash["headline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["indicator"] == "online_dossier_rate")
        .unwrap();
    assert!((h["value"].as_f64().unwrap() - 100.0 * 166.0 / 260.0).abs() < 1e-9);
    assert_eq!(h["previous_period"], "2025");
    assert!(h["previous"].is_null());
    // Attainment above a commune is Σ actual ÷ Σ target over the communes with both: only
    // Mường La has a target (80) and its actual is 70 (not the province's 63.8 over the target).
    assert!((h["target_attainment"].as_f64().unwrap() - 70.0 / 80.0).abs() < 1e-9);
    let top: Vec<&str> = dash["top_communes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["commune"].as_str().unwrap())
        .collect();
    assert_eq!(top, vec![f.a.as_str(), f.c.as_str(), f.b.as_str()]);
    assert_eq!(dash["bottom_communes"][0]["commune"], f.b.as_str());
    assert_eq!(dash["compliance"][0]["dataset"], "dmst-annual");
    let q1 = f
        .app
        .get_as(&admin, "/api/v1/provinces/14/dashboard?period=2026Q2")
        .await
        .json();
    let h = q1["headline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["indicator"] == "online_dossier_rate")
        .unwrap();
    assert_eq!(h["previous_period"], "2026Q1");
    assert!((h["change"].as_f64().unwrap() - (50.0 - 100.0 * 116.0 / 160.0)).abs() < 1e-9);
    assert_eq!(q1["compliance"][0]["on_time"], 2);
    let officer_view = f
        .app
        .get_as(&muong_la(), "/api/v1/provinces/14/dashboard?period=2026")
        .await
        .json();
    assert!(
        officer_view["top_communes"].as_array().unwrap().is_empty(),
        "no other commune's values"
    );
}

#[actix_web::test]
async fn lists_export_too() {
    let f = fixture().await;
    let admin = son_la_admin();
    let reports = f
        .app
        .get_as(&admin, "/api/v1/reports?period=2026Q1&format=csv&lang=vi")
        .await
        .text();
    assert!(
        reports.starts_with("\u{feff}Mã xã,Mã tỉnh,Biểu mẫu,Kỳ báo cáo"),
        "{reports}"
    );
    assert!(
        reports.contains("Hồ sơ thủ tục hành chính tiếp nhận"),
        "indicator columns carry Vietnamese names"
    );
    assert_eq!(reports.lines().count(), 4, "a header and three reports");
    let provinces = f.app.get("/api/v1/provinces?format=csv").await.text();
    assert!(provinces.contains("14,Sơn La,Son La Province,tỉnh,75"));
    let communes = f.app.get("/api/v1/provinces/14/communes?format=xlsx").await;
    assert!(communes.content_type().contains("spreadsheetml"));
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(communes.body.clone())).unwrap();
    assert_eq!(
        book.worksheet_range_at(0).unwrap().unwrap().get_size(),
        (76, 5)
    );
}
