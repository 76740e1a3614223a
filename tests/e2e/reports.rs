//! Report submission, correction, locks and review, as a commune system and a province use them.

use innoreport_core::Role;
use serde_json::json;

use crate::support::{TestApp, assert_problem, at, error_codes, muong_la, son_la_admin, token};

const REPORT: &str = "/api/v1/reports/dmst-quarterly/2026Q1/03808";

async fn another_son_la_commune(app: &TestApp) -> String {
    let list = app.get("/api/v1/provinces/14/communes").await.json();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .find(|c| c != "03808")
        .unwrap()
}

#[actix_web::test]
async fn a_commune_submits_retries_corrects_and_is_refused_when_stale() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let officer = muong_la();
    let first = json!({
        "dataset": "dmst-quarterly", "period": "2026Q1",
        "values": {"dossiers_total": 120, "dossiers_online_full": 96, "staff_total": 30, "staff_trained": 12},
        "comment": "Báo cáo quý I"
    });
    let res = app.submit(&officer, &first).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.header("location"), Some(REPORT));
    let body = res.json();
    assert_eq!(body["revision"], 1);
    assert_eq!(body["commune"], "03808");
    assert_eq!(body["province"], "14");
    assert_eq!(body["status"], "submitted");
    assert_eq!(body["timeliness"], "on_time");
    assert_eq!(body["deadline"], "2026-03-05T16:59:59Z");
    assert_eq!(body["received_at"], "2026-02-10T03:00:00Z");
    assert_eq!(body["first_received_at"], "2026-02-10T03:00:00Z");
    assert_eq!(body["values"]["dossiers_online_full"], 96.0);
    assert_eq!(body["locked"], false);

    // A retry of the same values changes nothing and answers the current revision.
    app.clock.set(at("2026-02-10T03:05:00Z"));
    let retry = app.submit(&officer, &first).await;
    assert_eq!(retry.status, 200);
    assert_eq!(retry.json()["revision"], 1);
    assert_eq!(retry.json()["received_at"], "2026-02-10T03:00:00Z");

    // A correction of one value keeps the others and makes revision 2.
    let change = json!({"dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_online_full": 100}, "base_revision": 1});
    let res = app.submit(&officer, &change).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let body = res.json();
    assert_eq!(body["revision"], 2);
    assert_eq!(body["values"]["dossiers_online_full"], 100.0);
    assert_eq!(body["values"]["staff_total"], 30.0);
    assert_eq!(body["first_received_at"], "2026-02-10T03:00:00Z");
    // The same base revision again, with a new change, is stale.
    let stale = json!({"dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_online_full": 101}, "base_revision": 1});
    let p = assert_problem(&app.submit(&officer, &stale).await, 409);
    assert_eq!(
        error_codes(&p),
        vec![("base_revision".into(), "stale".into())]
    );
    // ...but a retry of the accepted change is harmless even with its old base revision.
    assert_eq!(app.submit(&officer, &change).await.status, 200);

    // The revisions tell who changed what, when, old → new.
    let revisions = app
        .get_as(&officer, &format!("{REPORT}/revisions"))
        .await
        .json();
    let items = revisions["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["comment"], "Báo cáo quý I");
    assert_eq!(items[0]["author"], "commune_officer-03808");
    assert_eq!(items[0]["changes"].as_array().unwrap().len(), 4);
    assert_eq!(
        items[1]["changes"],
        json!([{"indicator": "dossiers_online_full", "old": 96.0, "new": 100.0}])
    );
    assert_eq!(items[1]["received_at"], "2026-02-10T03:05:00Z");
}

#[actix_web::test]
async fn no_commune_writes_or_reads_another_communes_report() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let officer = muong_la();
    let neighbour = another_son_la_commune(&app).await;
    let theirs = json!({"commune": neighbour, "dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_total": 1}});
    assert_problem(&app.submit(&officer, &theirs).await, 403);
    let hanoi = json!({"commune": "00070", "dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_total": 1}});
    assert_problem(&app.submit(&officer, &hanoi).await, 403);
    // Analysts read but never write.
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    let mine = json!({"commune": "03808", "dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_total": 1}});
    assert_problem(&app.submit(&analyst, &mine).await, 403);
    assert_problem(
        &app.submit(&token(Role::NationalAnalyst, None, None), &mine)
            .await,
        403,
    );

    // The neighbour's own officer submits; Mường La cannot read it, Sơn La's analyst can.
    let neighbour_officer = token(Role::CommuneOfficer, Some("14"), Some(&neighbour));
    assert_eq!(app.submit(&neighbour_officer, &json!({"dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_total": 7}})).await.status, 201);
    assert_eq!(app.submit(&officer, &mine).await.status, 201);
    let path = format!("/api/v1/reports/dmst-quarterly/2026Q1/{neighbour}");
    assert_problem(&app.get_as(&officer, &path).await, 403);
    assert_problem(
        &app.get_as(&officer, &format!("{path}/revisions")).await,
        403,
    );
    assert_eq!(app.get_as(&analyst, &path).await.status, 200);
    assert_problem(
        &app.get_as(&token(Role::ProvinceAnalyst, Some("01"), None), &path)
            .await,
        403,
    );

    // Lists are narrowed to the caller's scope.
    let own = app.get_as(&officer, "/api/v1/reports").await.json();
    assert_eq!(own["items"].as_array().unwrap().len(), 1);
    assert_eq!(own["items"][0]["commune"], "03808");
    assert_problem(
        &app.get_as(&officer, &format!("/api/v1/reports?commune={neighbour}"))
            .await,
        403,
    );
    let province = app.get_as(&analyst, "/api/v1/reports").await.json();
    assert_eq!(province["items"].as_array().unwrap().len(), 2);
    let hanoi_analyst = token(Role::ProvinceAnalyst, Some("01"), None);
    assert_eq!(
        app.get_as(&hanoi_analyst, "/api/v1/reports").await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_problem(
        &app.get_as(&hanoi_analyst, "/api/v1/reports?province=14")
            .await,
        403,
    );
    let national = app
        .get_as(
            &token(Role::NationalAnalyst, None, None),
            "/api/v1/reports?province=14",
        )
        .await
        .json();
    assert_eq!(national["items"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn invalid_reports_list_every_problem_and_store_nothing() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let officer = muong_la();
    let good = json!({"dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_total": 120, "dossiers_online_full": 96}});
    assert_eq!(app.submit(&officer, &good).await.status, 201);

    let bad = json!({"dataset": "dmst-quarterly", "period": "2026Q1", "values": {
        "dossiers_total": -5,
        "staff_trained": 1.5,
        "made_up": 3,
        "population": 100,
        "online_dossier_rate": 50,
        "digital_teams": "three",
        "dossiers_online_full": 500,
    }});
    let p = assert_problem(&app.submit(&officer, &bad).await, 422);
    assert_eq!(
        error_codes(&p),
        vec![
            ("values.digital_teams".into(), "not_a_number".into()),
            ("values.dossiers_online_full".into(), "exceeds_whole".into()),
            ("values.dossiers_total".into(), "negative".into()),
            ("values.made_up".into(), "unknown_indicator".into()),
            (
                "values.online_dossier_rate".into(),
                "derived_indicator".into()
            ),
            ("values.population".into(), "wrong_dataset".into()),
            ("values.staff_trained".into(), "not_integer".into()),
        ]
    );
    let current = app.get_as(&officer, REPORT).await.json();
    assert_eq!(current["revision"], 1, "nothing was written");
    assert_eq!(current["values"]["dossiers_total"], 120.0);

    let periods = [
        ("2026Q2", "future_period"),
        ("2026", "wrong_period_type"),
        ("2026Q5", "invalid_period"),
    ];
    for (period, code) in periods {
        let body =
            json!({"dataset": "dmst-quarterly", "period": period, "values": {"dossiers_total": 1}});
        let p = assert_problem(&app.submit(&officer, &body).await, 422);
        assert_eq!(
            error_codes(&p),
            vec![("period".into(), code.into())],
            "{period}"
        );
    }
    let p = assert_problem(
        &app.submit(
            &officer,
            &json!({"dataset": "nope", "period": "2026Q1", "values": {"x": 1}}),
        )
        .await,
        422,
    );
    assert_eq!(
        error_codes(&p),
        vec![("dataset".into(), "unknown_dataset".into())]
    );
    let admin = son_la_admin();
    let p = assert_problem(
        &app.submit(&admin, &json!({"commune": "99999", "dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_total": 1}})).await,
        422,
    );
    assert_eq!(
        error_codes(&p),
        vec![("commune".into(), "unknown_commune".into())]
    );
    // Malformed JSON and unknown fields are 400 problems.
    let res = app
        .post_json(
            Some(&officer),
            "/api/v1/reports",
            &json!({"dataset": "dmst-quarterly", "period": "2026Q1", "valeus": {}}),
        )
        .await;
    assert_problem(&res, 400);
}

#[actix_web::test]
async fn locks_reopen_approval_and_timeliness_follow_the_data_set_rules() {
    // Quarter 1 of 2026: due end of 5 March, locked after 4 April (Vietnam time).
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let officer = muong_la();
    let admin = son_la_admin();
    let submit = |v: i64| json!({"dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_total": v}});
    assert_eq!(app.submit(&officer, &submit(10)).await.status, 201);

    // After the lock instant the commune cannot change it; an identical retry still answers.
    app.clock.set(at("2026-04-04T17:00:00Z")); // 00:00 on 5 April in Vietnam
    let p = assert_problem(&app.submit(&officer, &submit(11)).await, 423);
    assert_eq!(p["errors"][0]["code"], "past_lock");
    assert_eq!(app.submit(&officer, &submit(10)).await.status, 200);
    assert_eq!(app.get_as(&officer, REPORT).await.json()["locked"], true);

    // The province reopens it: the correction is accepted, and stays on time.
    assert_problem(
        &app.post_json(
            Some(&officer),
            &format!("{REPORT}/review"),
            &json!({"action": "reopen"}),
        )
        .await,
        403,
    );
    let res = app
        .post_json(
            Some(&admin),
            &format!("{REPORT}/review"),
            &json!({"action": "reopen", "comment": "Cho phép sửa"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["reopened"], true);
    let res = app.submit(&officer, &submit(11)).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["revision"], 2);
    assert_eq!(
        res.json()["timeliness"],
        "on_time",
        "a later correction does not make it late"
    );

    // Approval locks it until unapproved.
    let res = app
        .post_json(
            Some(&admin),
            &format!("{REPORT}/review"),
            &json!({"action": "approve"}),
        )
        .await;
    assert_eq!(res.json()["status"], "approved");
    let p = assert_problem(&app.submit(&officer, &submit(12)).await, 423);
    assert_eq!(p["errors"][0]["code"], "approved");
    assert_problem(
        &app.post_json(
            Some(&admin),
            &format!("{REPORT}/review"),
            &json!({"action": "approve"}),
        )
        .await,
        409,
    );
    assert_problem(
        &app.post_json(
            Some(&admin),
            &format!("{REPORT}/review"),
            &json!({"action": "return"}),
        )
        .await,
        409,
    );
    let res = app
        .post_json(
            Some(&admin),
            &format!("{REPORT}/review"),
            &json!({"action": "unapprove"}),
        )
        .await;
    assert_eq!(res.json()["status"], "submitted");
    // Unapproved, the time lock is back (approval closed the reopening).
    assert_problem(&app.submit(&officer, &submit(12)).await, 423);
    // Returning it for correction lets the commune correct it, even past the lock date.
    let res = app
        .post_json(
            Some(&admin),
            &format!("{REPORT}/review"),
            &json!({"action": "return", "comment": "Kiểm tra lại số hồ sơ"}),
        )
        .await;
    assert_eq!(res.json()["status"], "returned");
    let res = app.submit(&officer, &submit(12)).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(
        res.json()["status"],
        "submitted",
        "a correction answers the return"
    );

    // Every action is on record, with who and why.
    let reviews = app
        .get_as(&officer, &format!("{REPORT}/reviews"))
        .await
        .json();
    let actions: Vec<&str> = reviews["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["reopen", "approve", "unapprove", "return"]);
    assert_eq!(reviews["items"][0]["actor"], "province_admin-14");
    assert_eq!(reviews["items"][0]["comment"], "Cho phép sửa");

    // A report first received after the deadline is late.
    let neighbour = another_son_la_commune(&app).await;
    app.clock.set(at("2026-03-10T03:00:00Z"));
    let late = app
        .submit(
            &token(Role::CommuneOfficer, Some("14"), Some(&neighbour)),
            &submit(3),
        )
        .await;
    assert_eq!(late.status, 201, "{}", late.text());
    assert_eq!(late.json()["timeliness"], "late");
    // A new report for a locked period is refused too.
    app.clock.set(at("2026-06-01T03:00:00Z"));
    let p = assert_problem(
        &app.submit(&token(Role::CommuneOfficer, Some("14"), Some(&neighbour)), &json!({"dataset": "dmst-quarterly", "period": "2025Q4", "values": {"dossiers_total": 1}})).await,
        423,
    );
    assert_eq!(p["errors"][0]["code"], "past_lock");
}

#[actix_web::test]
async fn reports_carry_etags_and_answer_304_when_unchanged() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let officer = muong_la();
    app.submit(
        &officer,
        &json!({"dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_total": 5}}),
    )
    .await;
    let first = app.get_as(&officer, REPORT).await;
    let tag = first.header("etag").unwrap().to_owned();
    let again = app
        .get_with(&officer, REPORT, &[("if-none-match", &tag)])
        .await;
    assert_eq!(again.status, 304);
    app.submit(
        &officer,
        &json!({"dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_total": 6}}),
    )
    .await;
    let changed = app
        .get_with(&officer, REPORT, &[("if-none-match", &tag)])
        .await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.header("etag").unwrap(), tag);
    assert_problem(
        &app.get_as(&officer, "/api/v1/reports/dmst-quarterly/2025Q1/03808")
            .await,
        404,
    );
}

#[actix_web::test]
async fn values_far_from_the_communes_history_are_accepted_with_a_warning() {
    let app = TestApp::spawn_at("2026-11-20T03:00:00Z").await;
    let officer = muong_la();
    let admin = son_la_admin();
    // History: 2025Q4, 2026Q1..Q3 around 100 dossiers. Entered by the province (reopened past periods).
    for (period, v) in [("2026Q1", 98), ("2026Q2", 103), ("2026Q3", 100)] {
        app.clock.set(at(match period {
            "2026Q1" => "2026-02-10T03:00:00Z",
            "2026Q2" => "2026-05-10T03:00:00Z",
            _ => "2026-08-10T03:00:00Z",
        }));
        let res = app.submit(&officer, &json!({"dataset": "dmst-quarterly", "period": period, "values": {"dossiers_total": v}})).await;
        assert_eq!(res.status, 201);
        assert!(res.json()["warnings"].as_array().unwrap().is_empty());
    }
    let _ = admin;
    app.clock.set(at("2026-11-20T03:00:00Z"));
    let res = app.submit(&officer, &json!({"dataset": "dmst-quarterly", "period": "2026Q4", "values": {"dossiers_total": 1000}})).await;
    assert_eq!(res.status, 201, "accepted, not rejected");
    let warnings = res.json()["warnings"].clone();
    assert_eq!(warnings.as_array().unwrap().len(), 1, "{warnings}");
    assert_eq!(warnings[0]["indicator"], "dossiers_total");
    assert_eq!(warnings[0]["code"], "far_from_history");
    assert!(warnings[0]["score"].as_f64().unwrap() > 3.5);
}

#[actix_web::test]
async fn fifty_concurrent_submissions_to_one_report_keep_every_revision() {
    // One client sends all fifty at once: its share of the service, and the service's
    // capacity (writes may fill three quarters of 64 slots), are not what is tested here.
    let app = TestApp::spawn_with(|c| {
        c.max_per_client = 64;
        c.max_in_flight = 128;
    })
    .await;
    app.clock.set(crate::support::at("2026-02-10T03:00:00Z"));
    let officer = muong_la();
    let requests = (1..=50).map(|i| {
        let body = json!({"dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_total": i}, "comment": format!("lần {i}")});
        let app = &app;
        let officer = &officer;
        async move { (i, app.submit(officer, &body).await) }
    });
    let answers = futures_util::future::join_all(requests).await;
    let mut acknowledged = Vec::new();
    for (i, res) in &answers {
        assert_eq!(res.status, 201, "submission {i}: {}", res.text());
        acknowledged.push((res.json()["revision"].as_i64().unwrap(), *i));
    }
    acknowledged.sort();
    let numbers: Vec<i64> = acknowledged.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        numbers,
        (1..=50).collect::<Vec<_>>(),
        "consecutive, no duplicates"
    );

    let revisions = app
        .get_as(&officer, &format!("{REPORT}/revisions"))
        .await
        .json();
    let items = revisions["items"].as_array().unwrap();
    assert_eq!(items.len(), 50);
    for (number, value) in acknowledged {
        let stored = &items[number as usize - 1];
        assert_eq!(stored["revision"], number);
        assert_eq!(
            stored["values"]["dossiers_total"], value as f64,
            "revision {number} holds what was acknowledged"
        );
        assert_eq!(stored["comment"], format!("lần {value}"));
    }
}
