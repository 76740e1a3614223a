//! The plan part of a report: checked with the rest of a submission, read and written with its
//! revisions.

use std::collections::BTreeMap;

use innoreport_core::plans::{
    MAX_REPORT_TEXT_CHARS, PlanBody, Progress, ProgressChanges, REPORT_TEXTS, TaskProgress,
    check_long_text, check_task_progress,
};
use innoreport_core::validation::Issue;
use innoreport_store::DbConnection;
use innoreport_store::plans as store;

use crate::ServiceError;
use crate::reports::{Submission, clip};

/// The most tasks one report states progress for.
pub const MAX_REPORT_TASKS: usize = 500;

/// Reads a submission's `tasks` and `texts` (every problem into `issues`).
pub fn check_progress(
    tasks: &BTreeMap<String, serde_json::Value>,
    texts: &BTreeMap<String, serde_json::Value>,
    issues: &mut Vec<Issue>,
) -> ProgressChanges {
    let mut changes = ProgressChanges::default();
    if tasks.len() > MAX_REPORT_TASKS {
        issues.push(Issue::new(
            "tasks",
            "too_many",
            format!("at most {MAX_REPORT_TASKS} tasks"),
        ));
        return changes;
    }
    for (code, value) in tasks {
        let field = format!("tasks.{}", clip(code));
        if value.is_null() {
            changes.tasks.insert(code.clone(), None);
            continue;
        }
        match serde_json::from_value::<TaskProgressIn>(value.clone()) {
            Ok(p) => {
                let p = check_task_progress(issues, &field, &p.into());
                changes.tasks.insert(code.clone(), Some(p));
            }
            Err(e) => issues.push(Issue::new(
                field,
                "invalid_progress",
                format!(
                    "{e}: give {{\"status\": \"not_started\" | \"in_progress\" | \"completed\" | \"not_feasible\", \"percent\", \"result\", \"difficulties\", \"proposals\"}} or null"
                ),
            )),
        }
    }
    for (key, value) in texts {
        let field = format!("texts.{}", clip(key));
        if !REPORT_TEXTS.contains(&key.as_str()) {
            issues.push(Issue::new(
                field,
                "unknown_text",
                "the texts are highlights, difficulties and proposals",
            ));
            continue;
        }
        match value {
            serde_json::Value::Null => {
                changes.texts.insert(key.clone(), None);
            }
            serde_json::Value::String(t) => {
                let t = check_long_text(issues, &field, t, false, MAX_REPORT_TEXT_CHARS);
                changes.texts.insert(key.clone(), t);
            }
            _ => issues.push(Issue::new(field, "invalid_text", "a text or null")),
        }
    }
    changes
}

/// A task's progress as a client sends it (unknown fields refused).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskProgressIn {
    status: innoreport_core::plans::TaskStatus,
    #[serde(default)]
    percent: Option<u8>,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    difficulties: Option<String>,
    #[serde(default)]
    proposals: Option<String>,
}

impl From<TaskProgressIn> for TaskProgress {
    fn from(p: TaskProgressIn) -> Self {
        TaskProgress {
            status: p.status,
            percent: p.percent,
            result: p.result,
            difficulties: p.difficulties,
            proposals: p.proposals,
        }
    }
}

pub fn decode(what: &str, text: &str) -> Result<Progress, ServiceError> {
    serde_json::from_str(text)
        .map_err(|e| ServiceError::internal(format!("the plan part of {what} is unreadable"), e))
}

/// The plan part of a report at its revision `revision`.
pub fn stored_progress(
    conn: &mut DbConnection,
    report: i64,
    revision: i32,
) -> Result<Progress, ServiceError> {
    match store::progress_at(conn, report, revision)? {
        Some(text) => decode(&format!("report {report}"), &text),
        None => Ok(Progress::default()),
    }
}

pub fn write_progress(
    conn: &mut DbConnection,
    report: i64,
    revision: i32,
    progress: &Progress,
) -> Result<(), ServiceError> {
    let body = serde_json::to_string(progress).expect("progress serializes");
    Ok(store::write_progress(conn, report, revision, &body)?)
}

/// The commune's plan covering `year`, if any.
pub fn commune_plan(
    conn: &mut DbConnection,
    commune: &str,
    year: i32,
) -> Result<Option<PlanBody>, ServiceError> {
    match store::covering(conn, "commune", commune, year)? {
        Some(p) => Ok(Some(super::decode_body(&p)?)),
        None => Ok(None),
    }
}

/// Problems with the task codes a submission states progress for: each must be a task of the
/// commune's plan for the report's year (progress already stored for a task no longer in the
/// plan may be removed with null).
pub fn check_task_codes(
    conn: &mut DbConnection,
    sub: &Submission,
) -> Result<Vec<Issue>, ServiceError> {
    let stated: Vec<&String> = sub
        .progress
        .tasks
        .iter()
        .filter(|(_, p)| p.is_some())
        .map(|(c, _)| c)
        .collect();
    let mut issues = Vec::new();
    if stated.is_empty() {
        return Ok(issues);
    }
    let year = sub.period.year();
    let Some(plan) = commune_plan(conn, &sub.commune, year)? else {
        issues.push(Issue::new(
            "tasks",
            "no_plan",
            format!(
                "commune {} has no plan for {year}: adopt the province's template or upload a plan first",
                sub.commune
            ),
        ));
        return Ok(issues);
    };
    for code in stated {
        if plan.task(code).is_none() {
            issues.push(Issue::new(
                format!("tasks.{}", clip(code)),
                "unknown_task",
                format!("the commune's plan for {year} has no task {:?}", clip(code)),
            ));
        }
    }
    Ok(issues)
}
