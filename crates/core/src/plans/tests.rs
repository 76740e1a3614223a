use chrono::NaiveDate;

use super::*;

fn task(code: &str, timeframe: &str) -> TaskDraft {
    TaskDraft {
        code: code.into(),
        section: Some("I".into()),
        title: format!("Nhiệm vụ {code}"),
        content: String::new(),
        lead: "Phòng Văn hóa - Xã hội".into(),
        partners: None,
        timeframe: timeframe.into(),
        expected: None,
        indicators: vec![],
    }
}

fn draft(tasks: Vec<TaskDraft>) -> PlanDraft {
    PlanDraft {
        title: "Kế hoạch năm 2026".into(),
        last_year: None,
        sections: vec![Section {
            code: "I".into(),
            title: "NHIỆM VỤ VỀ THỂ CHẾ".into(),
        }],
        tasks,
    }
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn a_valid_plan_is_read_with_its_timeframes_understood() {
    let plan = check_plan(
        &draft(vec![task("I.1", "Năm 2026"), task("I.2", "Quý II/2026")]),
        2026,
        &|_| true,
    )
    .unwrap();
    assert_eq!((plan.first_year, plan.last_year), (2026, 2026));
    assert_eq!(plan.tasks[1].schedule.due(2026), Some(day("2026-06-30")));
    assert_eq!(
        plan.tasks[0].content, "Nhiệm vụ I.1",
        "content defaults to the title"
    );
}

#[test]
fn every_problem_of_a_plan_is_listed_at_once() {
    let mut bad = task("I.1", "sớm");
    bad.section = Some("IX".into());
    bad.indicators = vec!["nope".into()];
    bad.lead = " ".into();
    let mut d = draft(vec![
        bad,
        task("I.1", "Năm 2026"),
        task("bad code", "Năm 2026"),
    ]);
    d.title = "x\u{202E}y".into();
    d.last_year = Some(2040);
    let issues = check_plan(&d, 2026, &|c| c != "nope").unwrap_err();
    let fields: Vec<(&str, &str)> = issues
        .iter()
        .map(|i| (i.field.as_str(), i.code.as_str()))
        .collect();
    for want in [
        ("title", "invalid_character"),
        ("last_year", "invalid_span"),
        ("tasks[0].section", "unknown_section"),
        ("tasks[0].lead", "required"),
        ("tasks[0].timeframe", "invalid_timeframe"),
        ("tasks[0].indicators[0]", "unknown_indicator"),
        ("tasks[1].code", "duplicate"),
        ("tasks[2].code", "invalid_code"),
    ] {
        assert!(fields.contains(&want), "{want:?} missing from {fields:?}");
    }
}

#[test]
fn timeframes_outside_the_plans_years_are_refused_and_long_texts_keep_their_lines() {
    let issues = check_plan(
        &draft(vec![
            task("I.1", "Quý I/2025"),
            task("I.2", "2026-2040"),
            task("I.3", "Hằng năm"),
        ]),
        2026,
        &|_| true,
    )
    .unwrap_err();
    let codes: Vec<(&str, &str)> = issues
        .iter()
        .map(|i| (i.field.as_str(), i.code.as_str()))
        .collect();
    assert_eq!(
        codes,
        [
            ("tasks[0].timeframe", "outside_plan"),
            ("tasks[1].timeframe", "outside_plan")
        ]
    );
    assert_eq!(
        tidy_lines("  A\r\n\r\n\r\nB   b \n- C\n\n"),
        "A\n\nB b\n- C"
    );
    assert_eq!(tidy("Vie\u{0302}\u{0323}t"), "Việt", "composed (NFC)");
}

#[test]
fn a_task_is_overdue_once_its_due_day_has_passed_unless_completed() {
    let plan = check_plan(
        &draft(vec![
            task("I.1", "Quý II/2026"),
            task("I.2", "Thường xuyên"),
            task("I.3", "Hằng năm"),
        ]),
        2026,
        &|_| true,
    )
    .unwrap();
    let q2 = &plan.tasks[0];
    assert_eq!(
        standing(q2, None, 2026, day("2026-06-30")).days_overdue,
        None
    );
    assert_eq!(
        standing(q2, Some(TaskStatus::InProgress), 2026, day("2026-07-05")).days_overdue,
        Some(5)
    );
    assert_eq!(
        standing(q2, Some(TaskStatus::NotFeasible), 2026, day("2026-07-01")).days_overdue,
        Some(1),
        "a task that could not be done is not done"
    );
    assert_eq!(
        standing(q2, Some(TaskStatus::Completed), 2026, day("2026-12-01")).days_overdue,
        None
    );
    assert_eq!(
        standing(&plan.tasks[1], None, 2026, day("2030-01-01")).days_overdue,
        None
    );
    assert_eq!(
        standing(&plan.tasks[2], None, 2027, day("2027-06-01")).due,
        Some(day("2027-12-31"))
    );
}

#[test]
fn progress_changes_replace_tasks_whole_and_clear_with_null() {
    let p = |s| TaskProgress {
        status: s,
        percent: None,
        result: None,
        difficulties: None,
        proposals: None,
    };
    let mut current = Progress::default();
    current
        .tasks
        .insert("I.1".into(), p(TaskStatus::InProgress));
    current
        .tasks
        .insert("I.2".into(), p(TaskStatus::NotStarted));
    current.texts.insert("highlights".into(), "old".into());
    let mut changes = ProgressChanges::default();
    changes
        .tasks
        .insert("I.1".into(), Some(p(TaskStatus::Completed)));
    changes.tasks.insert("I.2".into(), None);
    changes.texts.insert("highlights".into(), None);
    changes.texts.insert("proposals".into(), Some("new".into()));
    let next = changes.apply(&current);
    assert_eq!(next.tasks.len(), 1);
    assert_eq!(next.tasks["I.1"].status, TaskStatus::Completed);
    assert_eq!(next.texts.get("proposals").map(String::as_str), Some("new"));
    assert!(!next.texts.contains_key("highlights"));
}

#[test]
fn a_percentage_must_fit_its_status() {
    let mut issues = Vec::new();
    for (status, pc, ok) in [
        (TaskStatus::Completed, 100, true),
        (TaskStatus::Completed, 90, false),
        (TaskStatus::NotStarted, 0, true),
        (TaskStatus::NotStarted, 10, false),
        (TaskStatus::InProgress, 101, false),
        (TaskStatus::InProgress, 40, true),
    ] {
        let before = issues.len();
        check_task_progress(
            &mut issues,
            "tasks.I.1",
            &TaskProgress {
                status,
                percent: Some(pc),
                result: None,
                difficulties: None,
                proposals: None,
            },
        );
        assert_eq!(issues.len() == before, ok, "{status:?} {pc}");
    }
}

#[test]
fn completion_counts_add_up() {
    let mut c = Counts::default();
    for (status, overdue) in [
        (Some(TaskStatus::Completed), None),
        (Some(TaskStatus::InProgress), Some(3)),
        (None, Some(1)),
        (Some(TaskStatus::Completed), None),
    ] {
        c.add(&Standing {
            status,
            due: None,
            days_overdue: overdue,
        });
    }
    assert_eq!(
        (c.tasks, c.completed, c.overdue, c.not_reported),
        (4, 2, 2, 1)
    );
    assert_eq!(c.completion_rate(), Some(0.5));
}
