//! Numbers you can trust: every answer is the same whichever role asked first and whether the
//! result cache is on or off; the dashboard never counts a flow twice; a month is never answered
//! with its quarter; a report never filed can be opened by the province. (Strict parameters and
//! complete exports are in `contract.rs`.)

use innoreport_core::Role;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem, at, muong_la, son_la_admin, token};

/// A tiny fixed generator (SplitMix64), so a failure replays from its seed.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

pub(crate) async fn communes_of(app: &TestApp, province: &str) -> Vec<String> {
    app.get(&format!("/api/v1/provinces/{province}/communes?limit=1000"))
        .await
        .json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .collect()
}

/// A full quarterly report: parts never above their wholes; some values left out (null), so
/// missing terms and unpaired quarters occur.
pub(crate) fn quarterly(rng: &mut Rng) -> Value {
    let total = 20 + rng.below(500);
    let staff = 10 + rng.below(40);
    let businesses = 5 + rng.below(300);
    let teams = rng.below(6);
    let mut values = vec![
        ("dossiers_total", total),
        ("dossiers_online_full", rng.below(total + 1)),
        ("staff_total", staff),
        ("staff_trained", rng.below(staff + 1)),
        ("businesses_total", businesses),
        ("businesses_innovating", rng.below(businesses / 5 + 1)),
        ("digital_teams", teams),
        ("digital_team_members", teams * (2 + rng.below(5))),
    ];
    for k in [
        "ocop_3star",
        "ocop_4star",
        "ocop_5star",
        "initiatives_proposed",
        "initiatives_recognized",
        "st_models",
        "outreach_sessions",
    ] {
        values.push((k, rng.below(6)));
    }
    let mut out = serde_json::Map::new();
    for (k, x) in values {
        let value = if rng.chance(0.93) {
            json!(x)
        } else {
            Value::Null
        };
        out.insert(k.to_owned(), value);
    }
    Value::Object(out)
}

pub(crate) fn annual(rng: &mut Rng) -> Value {
    let budget = (rng.below(9_000_000) as f64 + 100_000.0) / 1000.0 + 0.125;
    let mut v = json!({
        "population": 3000 + rng.below(40_000),
        "budget_total": budget,
        "budget_st": (budget * 0.02 * 1000.0).floor() / 1000.0,
        "st_results_applied": rng.below(4),
        "st_enterprises": rng.below(4),
        "startup_projects": rng.below(3),
    });
    if rng.chance(0.2) {
        v["budget_st"] = Value::Null;
    }
    v
}

/// Periods any read may ask for (including a month, refused, and a half).
const READ_PERIODS: [&str; 12] = [
    "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3", "2026Q4", "2026S1", "2026S2", "2025", "2026",
    "202608", "2025S2",
];

/// A moment when the report of `period` is open (before its lock), to write it at.
pub(crate) fn open_moment(period: &str) -> &'static str {
    match period {
        "2025Q3" => "2025-09-01T03:00:00Z",
        "2025Q4" => "2025-12-01T03:00:00Z",
        "2026Q1" => "2026-03-01T03:00:00Z",
        "2026Q2" => "2026-06-01T03:00:00Z",
        "2026Q3" => "2026-09-01T03:00:00Z",
        "2026Q4" => "2026-12-01T03:00:00Z",
        "2025" => "2025-12-01T03:00:00Z",
        _ => "2026-12-01T03:00:00Z",
    }
}

const READ_AT: &str = "2026-12-20T03:00:00Z";

#[actix_web::test]
async fn an_officer_reading_the_dashboard_first_never_doubles_the_analysts_numbers() {
    let app = TestApp::spawn_at("2026-09-01T03:00:00Z").await;
    let communes = communes_of(&app, "14").await;
    let admin = token(Role::Admin, None, None);
    let (mut online, mut total) = (0.0, 0.0);
    for (i, c) in communes.iter().take(6).enumerate() {
        for (period, at_) in [
            ("2026Q2", "2026-06-01T03:00:00Z"),
            ("2026Q3", "2026-09-01T03:00:00Z"),
        ] {
            app.clock.set(at(at_));
            let t = 100 + 17 * i as u64;
            let o = 40 + 3 * i as u64;
            if period == "2026Q3" {
                total += t as f64;
                online += o as f64;
            }
            let res = app
                .submit(
                    &admin,
                    &json!({"commune": c, "dataset": "dmst-quarterly", "period": period,
                            "values": {"dossiers_total": t, "dossiers_online_full": o}}),
                )
                .await;
            assert_eq!(res.status, 201, "{}", res.text());
        }
    }
    app.clock.set(at("2026-10-01T03:00:00Z"));
    // The officer reads first...
    let dash = app
        .get_as(&muong_la(), "/api/v1/provinces/14/dashboard?period=2026Q3")
        .await;
    assert_eq!(dash.status, 200, "{}", dash.text());
    // ...then the analyst, in JSON, CSV and xlsx.
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    let path =
        "/api/v1/aggregates?indicator=online_dossier_rate&period=2026Q3&level=province&province=14";
    let agg = app.get_as(&analyst, path).await.json();
    assert_eq!(agg["items"][0]["numerator"], json!(online));
    assert_eq!(agg["items"][0]["denominator"], json!(total));
    let csv = app
        .get_as(&analyst, &path.replace("/aggregates?", "/aggregates.csv?"))
        .await
        .text();
    assert!(
        csv.contains(&format!(",{online},{total},6,75")),
        "the CSV has the same numbers: {csv}"
    );
    // The dashboard's headline is the very number the aggregate serves, for every kind of period.
    for period in ["2026Q2", "2026Q3", "2026S1", "2026S2", "2026"] {
        let dash = app
            .get_as(
                &muong_la(),
                &format!("/api/v1/provinces/14/dashboard?period={period}"),
            )
            .await
            .json();
        for h in dash["headline"].as_array().unwrap() {
            let indicator = h["indicator"].as_str().unwrap();
            let agg = app
                .get_as(
                    &analyst,
                    &format!(
                        "/api/v1/aggregates?indicator={indicator}&period={period}&province=14"
                    ),
                )
                .await;
            let expected = if agg.status == 200 {
                agg.json()["items"][0]["value"].clone()
            } else {
                Value::Null
            };
            assert_eq!(h["value"], expected, "{indicator} {period}");
        }
    }
}

/// Sends one read to both applications, in a random order, and compares the answers.
async fn same_answer(
    cached: &TestApp,
    uncached: &TestApp,
    rng: &mut Rng,
    bearer: &str,
    path: &str,
    seed: u64,
) -> Option<Value> {
    let (first, second) = if rng.chance(0.5) {
        (cached, uncached)
    } else {
        (uncached, cached)
    };
    let a = first.get_as(bearer, path).await;
    let b = second.get_as(bearer, path).await;
    assert_eq!(
        a.status,
        b.status,
        "seed {seed}: {path}: {} vs {}",
        a.text(),
        b.text()
    );
    if a.content_type().starts_with("application/json") {
        assert_eq!(a.json(), b.json(), "seed {seed}: {path}");
        (a.status == 200).then(|| a.json())
    } else {
        assert_eq!(a.body, b.body, "seed {seed}: {path}");
        None
    }
}

/// Random submissions, corrections and targets; random reads by random roles in random order:
/// every answer equals the same request answered by a replica with the result cache off.
/// `DIFF_SEED` replays a run; `DIFF_ROUNDS` makes it longer.
#[actix_web::test]
async fn every_answer_equals_the_answer_computed_without_the_cache() {
    let seed: u64 = std::env::var("DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_202);
    let rounds: usize = std::env::var("DIFF_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let mut rng = Rng(seed);
    let cached = TestApp::spawn_at(READ_AT).await;
    let uncached = TestApp::spawn_configured(std::sync::Arc::clone(&cached.db), |c| {
        c.result_cache = false;
    })
    .await;
    let son_la = communes_of(&cached, "14").await;
    let ha_noi = communes_of(&cached, "01").await;
    let tuyen_quang = communes_of(&cached, "08").await;
    let communes: Vec<(String, &str)> = son_la
        .iter()
        .take(7)
        .map(|c| (c.clone(), "14"))
        .chain(ha_noi.iter().take(4).map(|c| (c.clone(), "01")))
        .chain(tuyen_quang.iter().take(3).map(|c| (c.clone(), "08")))
        .collect();
    let admin = token(Role::Admin, None, None);
    let readers: Vec<String> = vec![
        muong_la(),
        token(Role::CommuneOfficer, Some("14"), Some(&son_la[3])),
        token(Role::ProvinceAnalyst, Some("14"), None),
        son_la_admin(),
        token(Role::ProvinceAnalyst, Some("01"), None),
        token(Role::NationalAnalyst, None, None),
        admin.clone(),
    ];
    let catalog = cached.get("/api/v1/indicators").await.json();
    let indicators: Vec<String> = catalog["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["code"].as_str().unwrap().to_owned())
        .collect();
    let write_periods = [
        "2025Q3", "2025Q4", "2026Q1", "2026Q2", "2026Q3", "2026Q4", "2025", "2026",
    ];
    let write = |commune: String, period: &'static str, rng: &mut Rng| {
        let (dataset, values) = if period.len() == 4 {
            ("dmst-annual", annual(rng))
        } else {
            ("dmst-quarterly", quarterly(rng))
        };
        (
            open_moment(period),
            json!({"commune": commune, "dataset": dataset, "period": period, "values": values}),
        )
    };
    // Every commune reports every period once, then the rounds correct and add at random.
    for (commune, _) in &communes {
        for period in write_periods {
            let (moment, body) = write(commune.clone(), period, &mut rng);
            cached.clock.set(at(moment));
            let res = cached.submit(&admin, &body).await;
            assert!(res.status.is_success(), "seed {seed}: {}", res.text());
        }
    }
    let mut dashboards_checked = 0;
    let mut indexes_scored = 0;
    for _round in 0..rounds {
        // Writes: corrections (a report written again is a new revision).
        for _ in 0..(2 + rng.below(6)) {
            let (commune, _) = rng.pick(&communes).clone();
            let period = *rng.pick(&write_periods);
            let (moment, body) = write(commune, period, &mut rng);
            cached.clock.set(at(moment));
            let res = cached.submit(&admin, &body).await;
            assert!(
                res.status.is_success() || res.status == 422,
                "seed {seed}: {}",
                res.text()
            );
        }
        if rng.chance(0.5) {
            let (commune, _) = rng.pick(&communes).clone();
            let res = cached
                .put_json(
                    &admin,
                    &format!("/api/v1/targets/2026/{commune}"),
                    &json!({"values": {"online_dossier_rate": rng.below(100),
                                       "ocop_products": rng.below(5),
                                       "dossiers_total": rng.below(2000)}}),
                )
                .await;
            assert_eq!(res.status, 200, "seed {seed}: {}", res.text());
        }
        cached.clock.set(at(READ_AT));
        uncached.clock.set(at(READ_AT));
        // Reads, by random roles, in random order.
        for _ in 0..16 {
            let who = rng.pick(&readers).clone();
            let period = *rng.pick(&READ_PERIODS);
            let province = *rng.pick(&["14", "01", "08"]);
            let path = match rng.below(9) {
                0 | 1 => format!("/api/v1/provinces/{province}/dashboard?period={period}"),
                2 | 3 => {
                    let indicator = rng.pick(&indicators).clone();
                    let level = *rng.pick(&["commune", "province", "national"]);
                    let filter = if level != "national" && rng.chance(0.6) {
                        format!("&province={province}")
                    } else {
                        String::new()
                    };
                    let ext = *rng.pick(&["", "", ".csv"]);
                    format!(
                        "/api/v1/aggregates{ext}?indicator={indicator}&period={period}&level={level}{filter}"
                    )
                }
                4 => {
                    let (dataset, p) = if rng.chance(0.5) {
                        ("dmst-quarterly", *rng.pick(&["2025Q4", "2026Q2", "2026Q4"]))
                    } else {
                        ("dmst-annual", *rng.pick(&["2025", "2026"]))
                    };
                    format!("/api/v1/compliance?dataset={dataset}&period={p}&province={province}")
                }
                5 => format!("/api/v1/targets?year=2026&province={province}"),
                _ => {
                    let p = *rng.pick(&["2025", "2026", "2026Q2", "2025Q4"]);
                    if rng.chance(0.5) {
                        format!("/api/v1/index?period={p}&draws=30")
                    } else {
                        format!(
                            "/api/v1/index?period={p}&level=commune&province={province}&uncertainty={}",
                            rng.chance(0.5)
                        )
                    }
                }
            };
            let answer = same_answer(&cached, &uncached, &mut rng, &who, &path, seed).await;
            if path.contains("/index") {
                let scored = answer.as_ref().map_or(0, |a| {
                    a["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|i| !i["score"].is_null())
                        .count()
                });
                indexes_scored += usize::from(scored > 1);
            }
            // A dashboard's headline is the province's aggregate, bit for bit.
            if let (Some(dash), true) = (answer, path.contains("/dashboard")) {
                dashboards_checked += 1;
                for h in dash["headline"].as_array().unwrap() {
                    let indicator = h["indicator"].as_str().unwrap();
                    let agg = cached
                        .get_as(
                            &admin,
                            &format!(
                                "/api/v1/aggregates?indicator={indicator}&period={period}&province={province}"
                            ),
                        )
                        .await;
                    let expected = if agg.status == 200 {
                        agg.json()["items"][0]["value"].clone()
                    } else {
                        Value::Null
                    };
                    assert_eq!(h["value"], expected, "seed {seed}: {indicator} {period}");
                }
            }
        }
    }
    assert!(dashboards_checked > 0, "seed {seed}: no dashboard was read");
    assert!(
        indexes_scored > 2,
        "seed {seed}: too few index runs with scores"
    );
}

#[actix_web::test]
async fn a_month_of_a_quarterly_indicator_is_refused_not_answered_with_the_quarter() {
    let app = TestApp::spawn_at("2026-05-10T03:00:00Z").await;
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    for path in [
        "/api/v1/aggregates?indicator=dossiers_total&period=202603",
        "/api/v1/aggregates?indicator=online_dossier_rate&period=202603&level=commune",
        "/api/v1/aggregates?indicator=population&period=2026Q1",
    ] {
        let p = assert_problem(&app.get_as(&analyst, path).await, 400);
        assert_eq!(p["errors"][0]["field"], "period", "{path}");
        assert_eq!(p["errors"][0]["code"], "period_too_fine", "{path}");
    }
    // The per-10k form of a quarterly indicator has a quarter, over the year's population.
    let res = app
        .get_as(
            &analyst,
            "/api/v1/aggregates?indicator=ocop_products_per_10k&period=2026Q1",
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
}

#[actix_web::test]
async fn a_report_never_filed_before_its_lock_is_opened_by_the_province_and_then_late() {
    // 2026Q1 locks at the end of 4 April 2026.
    let app = TestApp::spawn_at("2026-04-20T03:00:00Z").await;
    let body =
        json!({"dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_total": 12}});
    let refused = assert_problem(&app.submit(&muong_la(), &body).await, 423);
    assert_eq!(refused["errors"][0]["code"], "past_lock");
    // The officer may not open it; the province admin may.
    let open = json!({"action": "reopen", "comment": "nộp bổ sung"});
    let path = "/api/v1/reports/dmst-quarterly/2026Q1/03808/review";
    assert_problem(&app.post_json(Some(&muong_la()), path, &open).await, 403);
    let opened = app.post_json(Some(&son_la_admin()), path, &open).await;
    assert_eq!(opened.status, 201, "{}", opened.text());
    assert_eq!(opened.json()["opened_by"], "province_admin-14");
    // Other review actions still need a report.
    assert_problem(
        &app.post_json(Some(&son_la_admin()), path, &json!({"action": "approve"}))
            .await,
        404,
    );
    let filed = app.submit(&muong_la(), &body).await;
    assert_eq!(filed.status, 201, "{}", filed.text());
    let report = filed.json();
    assert_eq!(report["timeliness"], "late");
    assert_eq!(report["reopened"], true);
    assert_eq!(report["locked"], false);
    let reviews = app
        .get_as(
            &son_la_admin(),
            "/api/v1/reports/dmst-quarterly/2026Q1/03808/reviews",
        )
        .await
        .json();
    assert_eq!(reviews["items"][0]["action"], "reopen");
    assert_eq!(reviews["items"][0]["revision"], 0);
    assert_eq!(reviews["items"][0]["actor"], "province_admin-14");
    // It counts as received late.
    let compliance = app
        .get_as(
            &son_la_admin(),
            "/api/v1/compliance?dataset=dmst-quarterly&period=2026Q1&province=14",
        )
        .await
        .json();
    assert_eq!(compliance["late"], 1);
    // A future period cannot be opened.
    let p = assert_problem(
        &app.post_json(
            Some(&son_la_admin()),
            "/api/v1/reports/dmst-quarterly/2027Q1/03808/review",
            &open,
        )
        .await,
        422,
    );
    assert_eq!(p["errors"][0]["code"], "future_period");
}

#[actix_web::test]
async fn a_value_unlike_a_constant_history_is_warned_without_a_score() {
    let app = TestApp::spawn_at("2026-12-01T03:00:00Z").await;
    let admin = token(Role::Admin, None, None);
    for (period, moment) in [
        ("2026Q1", "2026-03-01T03:00:00Z"),
        ("2026Q2", "2026-06-01T03:00:00Z"),
        ("2026Q3", "2026-09-01T03:00:00Z"),
    ] {
        app.clock.set(at(moment));
        let res = app
            .submit(
                &admin,
                &json!({"commune": "03808", "dataset": "dmst-quarterly", "period": period, "values": {"st_models": 2}}),
            )
            .await;
        assert_eq!(res.status, 201);
    }
    app.clock.set(at("2026-12-01T03:00:00Z"));
    let res = app
        .submit(
            &admin,
            &json!({"commune": "03808", "dataset": "dmst-quarterly", "period": "2026Q4", "values": {"st_models": 9}}),
        )
        .await;
    assert_eq!(res.status, 201);
    let text = res.text();
    let w = &res.json()["warnings"][0];
    assert_eq!(w["code"], "differs_from_constant_history");
    assert!(w.get("score").is_none(), "no score without spread: {w}");
    assert_eq!(w["median"], 2.0);
    assert!(!text.contains("inf"), "{text}");
}
