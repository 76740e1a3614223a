//! The submission rules on hand-made drafts: scope, every problem at once, facts, outliers.

use super::*;

fn v(pairs: &[(&str, f64)]) -> Values {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn a_value_unlike_a_constant_history_is_warned_without_a_score() {
    let history = vec![v(&[("a", 5.0)]), v(&[("a", 5.0)]), v(&[("a", 5.0)])];
    let w = outliers(&Values::new(), &v(&[("a", 9.0)]), &history);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].score, None);
    assert_eq!((w[0].median, w[0].history), (5.0, 3));
}

#[test]
fn only_changed_values_far_from_history_are_warned() {
    let history = vec![
        v(&[("a", 10.0), ("b", 10.0)]),
        v(&[("a", 12.0), ("b", 11.0)]),
        v(&[("a", 11.0), ("b", 12.0)]),
    ];
    let before = v(&[("b", 500.0)]);
    let after = v(&[("a", 400.0), ("b", 500.0)]);
    let w = outliers(&before, &after, &history);
    assert_eq!(w.len(), 1, "b did not change");
    assert_eq!(w[0].indicator, "a");
    assert!(w[0].score.is_some_and(|z| z > OUTLIER_THRESHOLD));
}

fn muong_la_reference() -> Reference {
    crate::testing::reference(&[("03808", "14"), ("03811", "14"), ("00004", "01")])
}

fn officer() -> Principal {
    crate::testing::who(
        innoreport_core::Role::CommuneOfficer,
        Some("14"),
        Some("03808"),
    )
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn draft(commune: Option<&str>, period: &str, values: serde_json::Value) -> Draft {
    Draft {
        commune: commune.map(str::to_owned),
        dataset: "dmst-quarterly".into(),
        period: period.into(),
        values: serde_json::from_value(values).unwrap(),
        comment: None,
        base_revision: None,
        ..Draft::default()
    }
}

fn codes(issues: &[Issue]) -> Vec<(String, String)> {
    let mut c: Vec<_> = issues
        .iter()
        .map(|i| (i.field.clone(), i.code.clone()))
        .collect();
    c.sort();
    c
}

#[test]
fn an_officer_reports_for_their_own_commune_when_none_is_named() {
    let catalog = innoreport_store::seed::default_catalog().unwrap();
    let now = at("2026-02-01T00:00:00Z");
    let d = draft(None, "2026Q1", serde_json::json!({"dossiers_total": 120}));
    let Checked::Ready(sub) = check(&officer(), &catalog, &muong_la_reference(), &d, now).unwrap()
    else {
        panic!("a valid draft is ready")
    };
    assert_eq!(
        (sub.commune.as_str(), sub.province.as_str()),
        ("03808", "14")
    );
    assert_eq!(sub.author, "t");
    assert!(sub.field_issues.is_empty());
}

#[test]
fn another_commune_is_refused_before_its_values_are_read() {
    let catalog = innoreport_store::seed::default_catalog().unwrap();
    let now = at("2026-02-01T00:00:00Z");
    for other in ["03811", "00004"] {
        let d = draft(Some(other), "2026Q1", serde_json::json!({"nonsense": "x"}));
        let e = check(&officer(), &catalog, &muong_la_reference(), &d, now).unwrap_err();
        assert!(matches!(e, ServiceError::Forbidden(_)), "{other}: {e:?}");
    }
}

#[test]
fn every_problem_of_a_draft_is_listed_at_once() {
    let catalog = innoreport_store::seed::default_catalog().unwrap();
    let now = at("2026-02-01T00:00:00Z");
    let mut d = draft(
        Some("03808"),
        "2026Q3",
        serde_json::json!({"dossiers_total": -1, "no_such_indicator": 1, "online_dossier_rate": 50}),
    );
    d.comment = Some("x".repeat(MAX_COMMENT_CHARS + 1));
    let Checked::Invalid(issues) =
        check(&officer(), &catalog, &muong_la_reference(), &d, now).unwrap()
    else {
        panic!("an invalid draft is not ready")
    };
    let found = codes(&issues);
    for (field, _) in [
        ("comment", "too_long"),
        ("period", "future_period"),
        ("values.dossiers_total", ""),
        ("values.no_such_indicator", ""),
        ("values.online_dossier_rate", ""),
    ] {
        assert!(
            found.iter().any(|(f, _)| f == field),
            "{field} in {found:?}"
        );
    }
    // A month is not a quarter: refused, never read as its quarter.
    let d = draft(Some("03808"), "2026-01", serde_json::json!({}));
    let Checked::Invalid(issues) =
        check(&officer(), &catalog, &muong_la_reference(), &d, now).unwrap()
    else {
        panic!("a month is refused")
    };
    assert_eq!(issues[0].field, "period");
}

#[test]
fn an_unknown_or_malformed_commune_is_a_problem_not_a_refusal() {
    let catalog = innoreport_store::seed::default_catalog().unwrap();
    let admin = crate::testing::who(innoreport_core::Role::Admin, None, None);
    let now = at("2026-02-01T00:00:00Z");
    for (commune, code) in [("99999", "unknown_commune"), ("38", "invalid_commune")] {
        let d = draft(
            Some(commune),
            "2026Q1",
            serde_json::json!({"dossiers_total": 1}),
        );
        let Checked::Invalid(issues) =
            check(&admin, &catalog, &muong_la_reference(), &d, now).unwrap()
        else {
            panic!("{commune} is not a commune")
        };
        assert_eq!(codes(&issues), [("commune".to_owned(), code.to_owned())]);
    }
    let d = draft(None, "2026Q1", serde_json::json!({"dossiers_total": 1}));
    let Checked::Invalid(issues) = check(&admin, &catalog, &muong_la_reference(), &d, now).unwrap()
    else {
        panic!("an admin must name the commune")
    };
    assert_eq!(
        codes(&issues),
        [("commune".to_owned(), "required".to_owned())]
    );
}

#[test]
fn facts_give_the_deadline_the_lock_and_why_a_report_is_locked() {
    let catalog = innoreport_store::seed::default_catalog().unwrap();
    let q = catalog.dataset("dmst-quarterly").unwrap();
    let period = Period::parse("2026Q1").unwrap();
    // Day 5 of the quarter's last month, end of day in Vietnam; locked 30 days later.
    let deadline = at("2026-03-05T16:59:59Z");
    let lock = at("2026-04-04T16:59:59Z");
    let f = facts(
        q,
        period,
        ReportStatus::Submitted,
        false,
        deadline,
        deadline,
    );
    assert_eq!((f.deadline, f.lock), (deadline, Some(lock)));
    assert_eq!(
        f.timeliness,
        Timeliness::OnTime,
        "the whole last second counts"
    );
    assert_eq!(f.locked, None);
    let late = facts(
        q,
        period,
        ReportStatus::Submitted,
        false,
        at("2026-03-05T17:00:00Z"),
        lock,
    );
    assert_eq!((late.timeliness, late.locked), (Timeliness::Late, None));
    let after = at("2026-04-04T17:00:00Z");
    let past = facts(q, period, ReportStatus::Submitted, false, deadline, after);
    assert_eq!(past.locked, Some(LockReason::PastLock));
    let reopened = facts(q, period, ReportStatus::Submitted, true, deadline, after);
    assert_eq!(reopened.locked, None, "a reopened report takes corrections");
    let approved = facts(q, period, ReportStatus::Approved, true, deadline, deadline);
    assert_eq!(approved.locked, Some(LockReason::Approved));
    match locked_error(LockReason::PastLock, 3) {
        ServiceError::Locked { issues, message } => {
            assert_eq!(issues[0].code, "past_lock");
            assert!(message.contains("revision 3"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn long_inputs_are_clipped_in_messages() {
    let long = "x".repeat(10_000);
    assert_eq!(clip(&long).chars().count(), 64);
    assert_eq!(clip("03808"), "03808");
}
