//! The progress a commune states on its plan's tasks with a periodic report, and when a task is
//! overdue.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{MAX_PROGRESS_CHARS, Task, check_long_text};
use crate::validation::Issue;

/// How far a task got, as the commune reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Chưa triển khai.
    NotStarted,
    /// Đang triển khai.
    InProgress,
    /// Hoàn thành.
    Completed,
    /// Không thực hiện được.
    NotFeasible,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 4] = [
        TaskStatus::NotStarted,
        TaskStatus::InProgress,
        TaskStatus::Completed,
        TaskStatus::NotFeasible,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::NotStarted => "not_started",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Completed => "completed",
            TaskStatus::NotFeasible => "not_feasible",
        }
    }

    pub fn name_vi(self) -> &'static str {
        match self {
            TaskStatus::NotStarted => "Chưa triển khai",
            TaskStatus::InProgress => "Đang triển khai",
            TaskStatus::Completed => "Hoàn thành",
            TaskStatus::NotFeasible => "Không thực hiện được",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            TaskStatus::NotStarted => "Not started",
            TaskStatus::InProgress => "In progress",
            TaskStatus::Completed => "Completed",
            TaskStatus::NotFeasible => "Cannot be carried out",
        }
    }
}

/// A task's progress as stated in a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaskProgress {
    pub status: TaskStatus,
    /// How far, in percent (0 to 100).
    pub percent: Option<u8>,
    /// The result achieved.
    pub result: Option<String>,
    pub difficulties: Option<String>,
    pub proposals: Option<String>,
}

/// The plan part of a report: its tasks' progress and its three texts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Task code → progress.
    #[serde(default)]
    pub tasks: BTreeMap<String, TaskProgress>,
    /// `highlights`, `difficulties`, `proposals` → text.
    #[serde(default)]
    pub texts: BTreeMap<String, String>,
}

impl Progress {
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty() && self.texts.is_empty()
    }
}

/// What changed between two plan parts: `(field, old, new)`, with fields `texts.<name>` and
/// `tasks.<code>.<status|percent|result|difficulties|proposals>`.
pub fn progress_diff(
    old: &Progress,
    new: &Progress,
) -> Vec<(String, Option<String>, Option<String>)> {
    let mut out = Vec::new();
    let keys: BTreeSet<&String> = old.texts.keys().chain(new.texts.keys()).collect();
    for k in keys {
        let (a, b) = (old.texts.get(k), new.texts.get(k));
        if a != b {
            out.push((format!("texts.{k}"), a.cloned(), b.cloned()));
        }
    }
    let codes: BTreeSet<&String> = old.tasks.keys().chain(new.tasks.keys()).collect();
    let parts = |p: Option<&TaskProgress>| -> [(&'static str, Option<String>); 5] {
        [
            ("status", p.map(|p| p.status.as_str().to_owned())),
            ("percent", p.and_then(|p| p.percent).map(|x| x.to_string())),
            ("result", p.and_then(|p| p.result.clone())),
            ("difficulties", p.and_then(|p| p.difficulties.clone())),
            ("proposals", p.and_then(|p| p.proposals.clone())),
        ]
    };
    for c in codes {
        for ((name, a), (_, b)) in parts(old.tasks.get(c))
            .into_iter()
            .zip(parts(new.tasks.get(c)))
        {
            if a != b {
                out.push((format!("tasks.{c}.{name}"), a, b));
            }
        }
    }
    out
}

/// The three texts of a report.
pub const REPORT_TEXTS: [&str; 3] = ["highlights", "difficulties", "proposals"];

/// The changes a submission makes to the plan part: a task's entry replaces the stored one
/// whole, `None` removes it; a text replaces the stored one, `None` (or an empty text) clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgressChanges {
    pub tasks: BTreeMap<String, Option<TaskProgress>>,
    pub texts: BTreeMap<String, Option<String>>,
}

impl ProgressChanges {
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty() && self.texts.is_empty()
    }

    /// The plan part after these changes.
    pub fn apply(&self, current: &Progress) -> Progress {
        let mut next = current.clone();
        for (code, change) in &self.tasks {
            match change {
                Some(p) => next.tasks.insert(code.clone(), p.clone()),
                None => next.tasks.remove(code),
            };
        }
        for (key, change) in &self.texts {
            match change {
                Some(t) => next.texts.insert(key.clone(), t.clone()),
                None => next.texts.remove(key),
            };
        }
        next
    }
}

/// Checks one task's stated progress (`field` names it in problems).
pub fn check_task_progress(issues: &mut Vec<Issue>, field: &str, p: &TaskProgress) -> TaskProgress {
    if let Some(pc) = p.percent {
        let fits = match p.status {
            _ if pc > 100 => false,
            TaskStatus::Completed => pc == 100,
            TaskStatus::NotStarted => pc == 0,
            _ => true,
        };
        if !fits {
            issues.push(Issue::new(
                format!("{field}.percent"),
                "invalid_percent",
                format!(
                    "{pc}% does not fit status {} (0 to 100; 100 when completed, 0 when not started)",
                    p.status.as_str()
                ),
            ));
        }
    }
    let mut text = |name: &str, v: &Option<String>| {
        v.as_deref().and_then(|t| {
            check_long_text(
                issues,
                &format!("{field}.{name}"),
                t,
                false,
                MAX_PROGRESS_CHARS,
            )
        })
    };
    TaskProgress {
        status: p.status,
        percent: p.percent,
        result: text("result", &p.result),
        difficulties: text("difficulties", &p.difficulties),
        proposals: text("proposals", &p.proposals),
    }
}

/// A task's standing at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// The last status stated, if any.
    pub status: Option<TaskStatus>,
    /// Its due day in the year judged, if it has one.
    pub due: Option<NaiveDate>,
    /// Days past the due day while not completed (`None`: not overdue).
    pub days_overdue: Option<i64>,
}

/// A task judged on `today` (a day in Vietnam) for `year`, with its last stated status: overdue
/// when its due day has passed and it is not completed.
pub fn standing(task: &Task, status: Option<TaskStatus>, year: i32, today: NaiveDate) -> Standing {
    let due = task.schedule.due(year);
    let days_overdue = match due {
        Some(d) if today > d && status != Some(TaskStatus::Completed) => {
            Some((today - d).num_days())
        }
        _ => None,
    };
    Standing {
        status,
        due,
        days_overdue,
    }
}

/// Completion counts over a set of tasks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub tasks: u32,
    pub completed: u32,
    pub in_progress: u32,
    pub not_started: u32,
    pub not_feasible: u32,
    /// No status stated yet.
    pub not_reported: u32,
    pub overdue: u32,
}

impl Counts {
    pub fn add(&mut self, s: &Standing) {
        self.tasks += 1;
        match s.status {
            Some(TaskStatus::Completed) => self.completed += 1,
            Some(TaskStatus::InProgress) => self.in_progress += 1,
            Some(TaskStatus::NotStarted) => self.not_started += 1,
            Some(TaskStatus::NotFeasible) => self.not_feasible += 1,
            None => self.not_reported += 1,
        }
        if s.days_overdue.is_some() {
            self.overdue += 1;
        }
    }

    /// Completed tasks over all tasks (`None` without tasks).
    pub fn completion_rate(&self) -> Option<f64> {
        (self.tasks > 0).then(|| f64::from(self.completed) / f64::from(self.tasks))
    }
}
