//! `/analytics`: a whole table in one request, every cell what `/aggregates` answers for it,
//! relative periods resolved in Vietnam's calendar, every bad parameter listed, an `ETag` that
//! changes when the data does, and complete CSV and xlsx tables. (Scope narrowing is in the
//! authorization matrix, `authz.rs`.)

use innoreport_core::Role;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem, at, error_codes, muong_la, token};
use crate::trust::{Rng, annual, communes_of, open_moment, quarterly};

/// Indicators of the dashboard a third party builds: reported and derived, all quarterly.
const EIGHT: [&str; 8] = [
    "dossiers_total",
    "online_dossier_rate",
    "staff_trained",
    "staff_trained_rate",
    "business_innovation_rate",
    "ocop_high_star_share",
    "digital_team_members",
    "initiatives_recognized",
];

const QUARTERS: [&str; 8] = [
    "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3", "2026Q4",
];

const READ_AT: &str = "2026-12-20T03:00:00Z";

/// Six communes of Sơn La and three of Hà Nội report every quarter of 2025–2026 and both years,
/// with some values left out.
pub(crate) async fn fixture(seed: u64) -> (TestApp, Vec<String>) {
    let app = TestApp::spawn_at(READ_AT).await;
    let mut rng = Rng(seed);
    let son_la = communes_of(&app, "14").await;
    let ha_noi = communes_of(&app, "01").await;
    let communes: Vec<String> = son_la
        .iter()
        .take(6)
        .chain(ha_noi.iter().take(3))
        .cloned()
        .collect();
    let admin = token(Role::Admin, None, None);
    for c in &communes {
        for period in QUARTERS.iter().chain(["2025", "2026"].iter()) {
            let (dataset, values) = if period.len() == 4 {
                ("dmst-annual", annual(&mut rng))
            } else {
                ("dmst-quarterly", quarterly(&mut rng))
            };
            let moment = match *period {
                "2025Q1" => "2025-03-01T03:00:00Z",
                "2025Q2" => "2025-06-01T03:00:00Z",
                p => open_moment(p),
            };
            app.clock.set(at(moment));
            let res = app
                .submit(
                    &admin,
                    &json!({"commune": c, "dataset": dataset, "period": period, "values": values}),
                )
                .await;
            assert!(res.status.is_success(), "{}", res.text());
        }
    }
    app.clock.set(at(READ_AT));
    (app, communes)
}

fn rows_of<'a>(table: &'a Value, indicator: &str, period: &str) -> Vec<&'a Value> {
    table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["indicator"] == indicator && r["period"] == period)
        .collect()
}

/// The rows of the table for one cell equal `/aggregates`' items for it, field by field.
async fn assert_cell(
    app: &TestApp,
    who: &str,
    table: &Value,
    indicator: &str,
    period: &str,
    scope: &str,
) {
    let agg = app
        .get_as(
            who,
            &format!("/api/v1/aggregates?indicator={indicator}&period={period}{scope}"),
        )
        .await;
    assert_eq!(agg.status, 200, "{}", agg.text());
    let items = agg.json()["items"].as_array().unwrap().clone();
    let rows = rows_of(table, indicator, period);
    assert_eq!(rows.len(), items.len(), "{indicator} {period}{scope}");
    for (row, item) in rows.iter().zip(&items) {
        for field in [
            "unit",
            "name",
            "name_en",
            "value",
            "numerator",
            "denominator",
            "communes_reporting",
            "communes_expected",
        ] {
            assert_eq!(
                row[field], item[field],
                "{indicator} {period}{scope}: {field} of {}",
                item["unit"]
            );
        }
    }
}

#[actix_web::test]
async fn the_dashboard_table_is_one_request_and_every_sampled_cell_equals_aggregates() {
    let (app, communes) = fixture(20_261_203).await;
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    let list = EIGHT.join(",");
    let table = app
        .get_as(
            &analyst,
            &format!("/api/v1/analytics?indicator={list}&period=2025Q1..2026Q4&level=commune"),
        )
        .await;
    assert_eq!(table.status, 200, "{}", table.text());
    let table = table.json();
    let son_la = communes_of(&app, "14").await.len();
    assert_eq!(
        table["rows"].as_array().unwrap().len(),
        8 * 8 * son_la,
        "8 indicators × 8 quarters × the province's communes"
    );
    assert_eq!(table["periods"], json!(QUARTERS));
    assert_eq!(table["skipped"], json!([]));
    assert!(
        table["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["unit"].as_str().unwrap().len() == 5),
        "communes only"
    );
    // The reported values are there (not just empty rows).
    let reported = table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["value"].is_null() && communes.contains(&r["unit"].as_str().unwrap().into()))
        .count();
    assert!(reported > 8 * 8 * 4, "{reported} values");
    // A random sample of cells, each compared with /aggregates.
    let mut rng = Rng(7);
    for _ in 0..12 {
        let indicator = *rng.pick(&EIGHT);
        let period = *rng.pick(&QUARTERS);
        assert_cell(
            &app,
            &analyst,
            &table,
            indicator,
            period,
            "&level=commune&province=14",
        )
        .await;
    }
    // Every indicator (years of quarterly ones by their temporal rule; quarters of yearly ones
    // listed as skipped), provinces and the nation, for a national analyst.
    let national = token(Role::NationalAnalyst, None, None);
    let indicators = app.get("/api/v1/indicators").await.json();
    let mut codes: Vec<String> = indicators["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_owned())
        .collect();
    codes.sort();
    for (level, scope) in [
        ("province", "&level=province"),
        ("national", "&level=national"),
    ] {
        let all = app
            .get_as(
                &national,
                &format!("/api/v1/analytics?period=2026Q3,2025,2026&level={level}"),
            )
            .await;
        assert_eq!(all.status, 200, "{}", all.text());
        let all = all.json();
        let mut listed: Vec<&str> = all["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap())
            .collect();
        listed.sort_unstable();
        assert_eq!(listed, codes, "omitted: every indicator");
        let skipped = all["skipped"].as_array().unwrap();
        assert!(
            skipped
                .iter()
                .all(|s| s["period"] == "2026Q3" && !s["reason"].as_str().unwrap().is_empty()),
            "{skipped:?}"
        );
        for _ in 0..10 {
            let indicator = rng.pick(&codes).clone();
            let period = *rng.pick(&["2026Q3", "2025", "2026"]);
            if skipped
                .iter()
                .any(|s| s["indicator"] == indicator.as_str() && s["period"] == period)
            {
                let agg = app
                    .get_as(
                        &national,
                        &format!("/api/v1/aggregates?indicator={indicator}&period={period}{scope}"),
                    )
                    .await;
                assert_eq!(agg.status, 400, "a skipped cell is one /aggregates refuses");
                continue;
            }
            assert_cell(&app, &national, &all, &indicator, period, scope).await;
        }
    }
    // A commune officer's table: their commune's rows, their province's totals.
    let officer = muong_la();
    let own = app
        .get_as(
            &officer,
            &format!("/api/v1/analytics?indicator={list}&period=LAST_8_QUARTERS&level=commune"),
        )
        .await
        .json();
    assert_eq!(own["rows"].as_array().unwrap().len(), 64);
    assert!(
        own["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["unit"] == "03808")
    );
    assert_cell(
        &app,
        &officer,
        &own,
        "online_dossier_rate",
        "2026Q2",
        "&level=commune",
    )
    .await;
}

#[actix_web::test]
async fn the_csv_and_the_workbook_hold_every_row_of_the_json_table() {
    let (app, _) = fixture(5).await;
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    let q = "indicator=online_dossier_rate,dossiers_total,population&period=2026Q1..2026Q4,2026&level=commune";
    let json = app
        .get_as(&analyst, &format!("/api/v1/analytics?{q}"))
        .await
        .json();
    let rows = json["rows"].as_array().unwrap();
    // population is yearly: its four quarters are skipped, its year is not.
    assert_eq!(json["skipped"].as_array().unwrap().len(), 4);
    for path in [
        format!("/api/v1/analytics.csv?{q}"),
        format!("/api/v1/analytics?{q}&format=csv"),
    ] {
        let csv = app.get_as(&analyst, &path).await;
        assert_eq!(csv.status, 200);
        assert!(csv.content_type().starts_with("text/csv"));
        let text = csv.text();
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(
            header,
            [
                "indicator",
                "period",
                "unit",
                "name",
                "name_en",
                "value",
                "numerator",
                "denominator",
                "communes_reporting",
                "communes_expected"
            ]
        );
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), rows.len(), "{path}");
        for (record, row) in records.iter().zip(rows) {
            assert_eq!(record[0], *row["indicator"].as_str().unwrap());
            assert_eq!(record[2], *row["unit"].as_str().unwrap());
            match row["value"].as_f64() {
                Some(v) => assert!((record[5].parse::<f64>().unwrap() - v).abs() < 1e-9),
                None => assert_eq!(&record[5], ""),
            }
        }
    }
    let xlsx = app
        .get_as(&analyst, &format!("/api/v1/analytics.xlsx?{q}&lang=vi"))
        .await;
    assert_eq!(xlsx.status, 200);
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx.body.clone())).expect("a workbook");
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(sheet.get_size().0, rows.len() + 1);
    assert_eq!(
        sheet.get((0, 1)).map(ToString::to_string).as_deref(),
        Some("Kỳ báo cáo")
    );
}

#[actix_web::test]
async fn relative_periods_are_the_whole_periods_before_today_in_vietnam() {
    let app = TestApp::spawn_at("2026-12-31T18:30:00Z").await; // 01:30 on 1 January 2027 in Vietnam
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    let table = app
        .get_as(
            &analyst,
            "/api/v1/analytics?indicator=dossiers_total&period=THIS_QUARTER,LAST_4_QUARTERS,LAST_YEAR,LAST_5_YEARS",
        )
        .await;
    assert_eq!(table.status, 200, "{}", table.text());
    assert_eq!(
        table.json()["periods"],
        json!([
            "2027Q1", "2026Q1", "2026Q2", "2026Q3", "2026Q4", "2026", "2022", "2023", "2024",
            "2025"
        ])
    );
}

#[actix_web::test]
async fn every_bad_parameter_is_listed_in_one_problem() {
    let app = TestApp::spawn_at(READ_AT).await;
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    let res = app
        .get_as(
            &analyst,
            "/api/v1/analytics?indicator=nope,dossiers_total,nada&period=2026Q5,LAST_9_DAYS,2026Q4..2026Q1&level=commune&unit=99999",
        )
        .await;
    let problem = assert_problem(&res, 400);
    assert_eq!(
        error_codes(&problem),
        [
            ("indicator".to_owned(), "unknown_indicator".to_owned()),
            ("indicator".into(), "unknown_indicator".into()),
            ("period".into(), "invalid_period".into()),
            ("period".into(), "invalid_period".into()),
            ("period".into(), "invalid_period".into()),
            ("unit".into(), "unknown_unit".into()),
        ]
    );
    // A misspelt parameter is refused, not ignored (it would answer every indicator).
    let typo = app
        .get_as(
            &analyst,
            "/api/v1/analytics?indicators=dossiers_total&period=2026Q1",
        )
        .await;
    assert_eq!(
        error_codes(&assert_problem(&typo, 400)),
        [("indicators".to_owned(), "unknown_parameter".to_owned())]
    );
    let missing = app
        .get_as(&analyst, "/api/v1/analytics?indicator=dossiers_total")
        .await;
    assert_eq!(
        error_codes(&assert_problem(&missing, 400)),
        [("period".to_owned(), "required".to_owned())]
    );
    // A table too large to be a request: refused before anything is computed.
    let admin = token(Role::Admin, None, None);
    let huge = app
        .get_as(
            &admin,
            "/api/v1/analytics?period=2017Q1..2026Q4&level=commune",
        )
        .await;
    let problem = assert_problem(&huge, 400);
    assert_eq!(error_codes(&problem)[0].1, "too_many_rows");
    // A national workbook of 8 quarters is refused before anything is computed (CSV streams it).
    let workbook = app
        .get_as(
            &admin,
            "/api/v1/analytics.xlsx?period=2025Q1..2026Q4&level=commune",
        )
        .await;
    assert_eq!(
        error_codes(&assert_problem(&workbook, 400)),
        [("format".to_owned(), "too_many_rows".to_owned())]
    );
}

#[actix_web::test]
async fn an_unchanged_table_is_not_sent_again_and_a_submission_changes_its_tag() {
    let app = TestApp::spawn_at("2026-12-01T03:00:00Z").await;
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    let path = "/api/v1/analytics?indicator=dossiers_total&period=2026Q4&level=commune";
    let first = app.get_as(&analyst, path).await;
    assert_eq!(first.status, 200);
    let tag = first.header("etag").unwrap().to_owned();
    let again = app
        .get_with(&analyst, path, &[("if-none-match", &tag)])
        .await;
    assert_eq!(again.status, 304);
    // The CSV of the same table has its own tag.
    let csv = app.get_as(&analyst, &format!("{path}&format=csv")).await;
    assert_ne!(csv.header("etag").unwrap(), tag);
    // Another province's analyst never shares a tag.
    let other = app
        .get_with(
            &token(Role::ProvinceAnalyst, Some("01"), None),
            "/api/v1/analytics?indicator=dossiers_total&period=2026Q4&level=commune",
            &[("if-none-match", &tag)],
        )
        .await;
    assert_eq!(other.status, 200);
    let res = app
        .submit(
            &muong_la(),
            &json!({"dataset": "dmst-quarterly", "period": "2026Q4", "values": {"dossiers_total": 42}}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let after = app
        .get_with(&analyst, path, &[("if-none-match", &tag)])
        .await;
    assert_eq!(after.status, 200, "the data changed");
    assert_ne!(after.header("etag").unwrap(), tag);
    let row = after.json()["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit"] == "03808")
        .cloned()
        .unwrap();
    assert_eq!(row["value"], 42.0);
}

#[actix_web::test]
async fn a_table_spends_the_callers_budget_by_its_size_and_a_304_spends_nothing() {
    // 20 units a minute: a commune table of one indicator and period nationally (3,321 rows)
    // costs 4.
    let app = TestApp::spawn_with(|c| c.compute_budget = 20).await;
    let analyst = token(Role::NationalAnalyst, None, None);
    let path = "/api/v1/analytics?indicator=dossiers_total&period=2026Q1&level=commune";
    let first = app.get_as(&analyst, path).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let tag = first.header("etag").unwrap().to_owned();
    for _ in 0..10 {
        let again = app
            .get_with(&analyst, path, &[("if-none-match", &tag)])
            .await;
        assert_eq!(again.status, 304, "a table the client has costs nothing");
    }
    let mut served = 1;
    let refused = loop {
        let res = app.get_as(&analyst, path).await;
        if res.status != 200 {
            break res;
        }
        served += 1;
        assert!(served <= 5, "the budget was never spent");
    };
    let problem = assert_problem(&refused, 429);
    assert!(refused.header("retry-after").is_some(), "{problem}");
    assert_eq!(served, 5, "20 units buy five tables of 4");
    // Another caller's budget is their own.
    let other = token(Role::ProvinceAnalyst, Some("14"), None);
    assert_eq!(app.get_as(&other, path).await.status, 200);
}
