//! Admission limits as a misbehaving client meets them: a per-client rate (429), a cap on the
//! requests worked on at once (503), body sizes (413) — each answered at once, as problem+json,
//! with `Retry-After` where waiting helps.

use futures_util::future::join_all;
use innoreport_core::Role;
use serde_json::json;

use crate::support::{TestApp, assert_problem, muong_la, token};

#[actix_web::test]
async fn a_client_over_its_rate_gets_429_with_retry_after_and_other_clients_do_not() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limit = 5;
        c.rate_burst = 5;
    })
    .await;
    let officer = muong_la();
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let res = app.get_as(&officer, "/api/v1/reports").await;
        if res.status == 429 {
            let p = assert_problem(&res, 429);
            assert_eq!(p["type"], "urn:innoreport:problem:too-many-requests");
            let wait: u64 = res.header("retry-after").unwrap().parse().unwrap();
            assert!((1..=60).contains(&wait), "Retry-After {wait}");
        }
        statuses.push(res.status.as_u16());
    }
    assert_eq!(&statuses[..5], &[200; 5], "the burst passes: {statuses:?}");
    assert!(statuses.contains(&429), "then the rate holds: {statuses:?}");

    // Another client (another token subject) has its own allowance.
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    assert_eq!(app.get_as(&analyst, "/api/v1/reports").await.status, 200);
    // Anonymous requests count per address; health and readiness are never limited.
    let mut anonymous = Vec::new();
    for _ in 0..12 {
        anonymous.push(app.get("/api/v1/provinces").await.status.as_u16());
    }
    assert!(anonymous.contains(&429), "{anonymous:?}");
    for _ in 0..20 {
        assert_eq!(app.get("/health").await.status, 200);
        assert_eq!(app.get("/ready").await.status, 200);
    }
}

#[actix_web::test]
async fn beyond_the_requests_worked_on_at_once_the_service_sheds_with_503_at_once() {
    let app = TestApp::spawn_with(|c| {
        c.max_in_flight = 1;
        // One client sends everything here: its share and budget are not what is tested.
        c.max_per_client = 64;
        c.compute_budget = 0;
    })
    .await;
    let admin = token(Role::Admin, None, None);
    let body = json!({"period": "2025", "level": "province", "overrides": [],
                      "uncertainty": true, "draws": 2000});
    let answers = join_all(
        (0..24).map(|_| app.request("POST", "/api/v1/index/what-if", Some(&admin), Some(&body))),
    )
    .await;
    let shed: Vec<_> = answers.iter().filter(|a| a.status == 503).collect();
    let served = answers.iter().filter(|a| a.status == 200).count();
    assert_eq!(shed.len() + served, answers.len(), "only 200 or 503");
    assert!(served >= 1, "the admitted requests are served");
    assert!(!shed.is_empty(), "24 at once over a cap of 1 sheds some");
    for a in shed {
        let p = assert_problem(a, 503);
        assert_eq!(p["type"], "urn:innoreport:problem:overloaded");
        assert_eq!(a.header("retry-after"), Some("1"));
    }
    // Every slot was given back: one at a time, everything passes.
    for _ in 0..5 {
        let res = app
            .request("POST", "/api/v1/index/what-if", Some(&admin), Some(&body))
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
    }
    let metrics = app.get("/metrics").await.text();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("innoreport_shed_total ") && !l.ends_with(" 0")),
        "shedding is counted"
    );
}

#[actix_web::test]
async fn a_json_body_over_the_limit_is_413_and_nothing_is_stored() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let officer = muong_la();
    let huge = json!({"dataset": "dmst-quarterly", "period": "2026Q1",
                      "values": {"dossiers_total": 1}, "comment": "x".repeat(5 * 1024 * 1024)});
    let res = app.submit(&officer, &huge).await;
    let p = assert_problem(&res, 413);
    assert_eq!(p["type"], "urn:innoreport:problem:payload-too-large");
    let listed = app.get_as(&officer, "/api/v1/reports").await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 0);
}

#[actix_web::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    async fn statuses(app: &TestApp, from: &str) -> Vec<u16> {
        let mut out = Vec::new();
        for _ in 0..4 {
            let res = app
                .get_with("", "/api/v1/provinces", &[("x-forwarded-for", from)])
                .await;
            out.push(res.status.as_u16());
        }
        out
    }
    let limited = |c: &mut innoreport_server::Config| {
        c.rate_limit = 1;
        c.rate_burst = 2;
    };
    // Not trusted: the header is the client's word, so every request is the peer's.
    let direct = TestApp::spawn_with(limited).await;
    let first = statuses(&direct, "198.51.100.1").await;
    let second = statuses(&direct, "198.51.100.2").await;
    assert!(first.contains(&429));
    assert!(
        second.iter().all(|s| *s == 429),
        "a new header does not buy a new allowance"
    );
    // Trusted (behind nginx): each forwarded address has its own allowance.
    let proxied = TestApp::spawn_with(|c| {
        limited(c);
        c.trust_forwarded_for = true;
    })
    .await;
    let first = statuses(&proxied, "10.0.0.9, 198.51.100.1").await;
    let second = statuses(&proxied, "10.0.0.9, 198.51.100.2").await;
    assert_eq!(&first[..2], &[200, 200]);
    assert!(first.contains(&429));
    assert_eq!(&second[..2], &[200, 200], "another client behind the proxy");
}
