//! Submitting a report: the checks, the decision, the write, the warnings.
//!
//! A submission is checked field by field first (every problem at once); then, in one
//! transaction holding the report's lock, it is merged with the current values, checked as a
//! whole (a part never above its whole), compared (an identical re-submission is a harmless
//! retry), and refused when the report is locked ([`innoreport_core::lock_reason`], the same
//! rule that tells readers `locked`) or changed since the client's `base_revision`. Otherwise a
//! new revision is written, and values far from the commune's own history come back as
//! warnings.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use innoreport_core::plans::{Progress, ProgressChanges};
use innoreport_core::validation::{
    self, Changes, Issue, OUTLIER_THRESHOLD, Values, check_parts, merge, modified_z_score,
};
use innoreport_core::{
    Action, Catalog, CommuneCode, Dataset, LockReason, Period, Principal, ReportStatus,
    ReviewAction, Target, Timeliness, lock_reason,
};
use innoreport_store::reports::{self as store, NewRevision, ReportView, StoredReport};
use innoreport_store::{DbConnection, StoreError};

use crate::{Reference, Service, ServiceError};

/// The longest comment accepted.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// How many earlier periods of a commune an outlier warning compares with (three years of
/// quarters): enough for a robust median, and a bounded cost per submission however long the
/// history grows.
pub const OUTLIER_HISTORY: i64 = 12;

/// A report as a client sends it, nothing checked yet.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct Draft {
    /// May be omitted by a commune officer (their own commune).
    pub commune: Option<String>,
    pub dataset: String,
    pub period: String,
    /// Indicator code → number or null (null clears the indicator).
    pub values: BTreeMap<String, serde_json::Value>,
    pub comment: Option<String>,
    /// The revision the client last saw (0: expects no report yet).
    pub base_revision: Option<i32>,
    /// Plan task code → progress object, or null to remove the task's progress.
    #[serde(default)]
    pub tasks: BTreeMap<String, serde_json::Value>,
    /// `highlights`, `difficulties`, `proposals` → text, or null to clear it.
    #[serde(default)]
    pub texts: BTreeMap<String, serde_json::Value>,
}

/// A submission checked field by field, ready for its transaction.
#[derive(Debug, Clone)]
pub struct Submission {
    pub dataset: Dataset,
    pub period: Period,
    pub commune: String,
    pub province: String,
    pub changes: Changes,
    /// Problems found field by field, answered together with those of the whole report.
    pub field_issues: Vec<Issue>,
    pub comment: Option<String>,
    pub base_revision: Option<i32>,
    pub author: String,
    /// The changes to the plan part (tasks' progress and the three texts).
    pub progress: ProgressChanges,
}

#[derive(Debug, Clone)]
pub enum Checked {
    Ready(Box<Submission>),
    Invalid(Vec<Issue>),
}

/// Resolves the commune of a draft and checks the caller's scope (403), then data set, period
/// and values (every problem listed).
pub fn check(
    who: &Principal,
    catalog: &Catalog,
    reference: &Reference,
    draft: &Draft,
    now: DateTime<Utc>,
) -> Result<Checked, ServiceError> {
    let mut issues = Vec::new();
    let commune = match (&draft.commune, who.own_commune()) {
        (Some(c), _) => Some(c.clone()),
        (None, Some(own)) => Some(own.to_owned()),
        (None, None) => {
            issues.push(Issue::new(
                "commune",
                "required",
                "name the commune (5-digit code)",
            ));
            None
        }
    };
    let mut province = None;
    if let Some(c) = &commune {
        if CommuneCode::parse(c).is_err() {
            issues.push(Issue::new(
                "commune",
                "invalid_commune",
                format!("{:?} is not a 5-digit commune code", clip(c)),
            ));
        } else if let Some(p) = reference.province_of(c) {
            province = Some(p.to_owned());
        } else {
            issues.push(Issue::new(
                "commune",
                "unknown_commune",
                format!("there is no commune {c}"),
            ));
        }
    }
    if let (Some(c), Some(p)) = (&commune, &province) {
        who.require(
            Action::Submit,
            Target::Commune {
                commune: c,
                province: p,
            },
        )?;
    }
    if let Some(comment) = &draft.comment
        && comment.chars().count() > MAX_COMMENT_CHARS
    {
        issues.push(Issue::new(
            "comment",
            "too_long",
            format!("a comment has at most {MAX_COMMENT_CHARS} characters"),
        ));
    }
    let Some(dataset) = catalog.dataset(&draft.dataset) else {
        issues.push(Issue::new(
            "dataset",
            "unknown_dataset",
            format!("there is no data set {:?}", clip(&draft.dataset)),
        ));
        return Ok(Checked::Invalid(issues));
    };
    let period = match validation::check_period(dataset, &draft.period, now) {
        Ok(p) => Some(p),
        Err(issue) => {
            issues.push(issue);
            None
        }
    };
    let (changes, value_issues) = validation::check_values(catalog, dataset, &draft.values);
    // A submission of tasks' progress or texts alone changes no value.
    let states_plan = !draft.tasks.is_empty() || !draft.texts.is_empty();
    issues.extend(
        value_issues
            .into_iter()
            .filter(|i| !(states_plan && i.field == "values" && i.code == "empty")),
    );
    let progress = crate::plans::check_progress(&draft.tasks, &draft.texts, &mut issues);
    match (commune, province, period) {
        (Some(commune), Some(province), Some(period)) => Ok(Checked::Ready(Box::new(Submission {
            dataset: dataset.clone(),
            period,
            commune,
            province,
            changes,
            field_issues: issues,
            comment: draft.comment.clone().filter(|c| !c.trim().is_empty()),
            base_revision: draft.base_revision,
            author: who.subject.clone(),
            progress,
        }))),
        _ => Ok(Checked::Invalid(issues)),
    }
}

/// At most 64 characters of an input echoed in a message.
pub fn clip(s: &str) -> String {
    if s.chars().count() <= 64 {
        s.to_owned()
    } else {
        s.chars().take(63).chain(['…']).collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The first revision of a new report.
    Created,
    /// A new revision of an existing report.
    Updated,
    /// Nothing changed: no revision was made.
    Unchanged,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
        }
    }
}

/// A value accepted but far from the commune's own history.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub indicator: String,
    pub value: f64,
    /// The modified z-score; `None` when the earlier values were all the same (no spread, so
    /// any other value is infinitely far and no score says more than "different").
    pub score: Option<f64>,
    /// The median of the earlier values.
    pub median: f64,
    /// How many earlier values it was compared with.
    pub history: usize,
}

#[derive(Debug, Clone)]
pub struct Submitted {
    pub outcome: Outcome,
    /// The report as stored, with its facts at the transaction's instant.
    pub report: ReportNow,
    pub warnings: Vec<Warning>,
}

/// A report as it stands, with its facts (deadline, lock, why it is locked, timeliness) at the
/// instant it was read or written: what every answer that shows a report says of it.
#[derive(Debug, Clone)]
pub struct ReportNow {
    pub report: ReportView,
    pub facts: Facts,
    /// The plan part (tasks' progress and texts), when it was read (a single report, not a list).
    pub progress: Option<Progress>,
}

impl ReportNow {
    /// The report with its facts at `now` under `catalog` (a stored report of a data set the
    /// catalog does not know is a bug: data sets are never removed).
    pub fn at(
        catalog: &Catalog,
        report: ReportView,
        now: DateTime<Utc>,
    ) -> Result<Self, ServiceError> {
        let facts = facts_of(catalog, &report, now).ok_or_else(|| {
            ServiceError::bug(format!(
                "report {} of {} {} has no facts in the catalog",
                report.id, report.dataset, report.period
            ))
        })?;
        Ok(ReportNow {
            report,
            facts,
            progress: None,
        })
    }
}

/// Deadline, lock and standing of a report at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub deadline: DateTime<Utc>,
    pub lock: Option<DateTime<Utc>>,
    /// Why the commune cannot change it now, if it cannot.
    pub locked: Option<LockReason>,
    pub timeliness: Timeliness,
}

/// The facts of a report (its data set's rules applied to its period and state).
pub fn facts(
    dataset: &Dataset,
    period: Period,
    status: ReportStatus,
    reopened: bool,
    first_received_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Facts {
    let lock = dataset.lock(period);
    Facts {
        deadline: dataset.deadline(period),
        lock,
        locked: lock_reason(Some(status), reopened, lock, now),
        timeliness: if dataset.is_on_time(period, first_received_at) {
            Timeliness::OnTime
        } else {
            Timeliness::Late
        },
    }
}

/// Facts of a stored report, when its data set and period are known to the catalog.
pub fn facts_of(catalog: &Catalog, r: &ReportView, now: DateTime<Utc>) -> Option<Facts> {
    let dataset = catalog.dataset(&r.dataset)?;
    let period = Period::parse(&r.period).ok()?;
    Some(facts(
        dataset,
        period,
        r.status,
        r.reopened,
        r.first_received_at,
        now,
    ))
}

/// Why a checked submission was not stored.
#[derive(Debug)]
enum Stop {
    Refused(ServiceError),
    /// Carries a dry run's result out of the rolled-back transaction.
    DryRun(Box<Submitted>),
    /// Another transaction stored this new report first: the whole submission is retried.
    Raced,
    /// The write must be made under the report's lock.
    NeedsLock,
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        if store::is_unique_violation(&e) {
            Stop::Raced
        } else {
            Stop::Refused(e.into())
        }
    }
}

fn refused(e: ServiceError) -> Stop {
    Stop::Refused(e)
}

/// The 423 of a lock.
pub fn locked_error(reason: LockReason, revision: i32) -> ServiceError {
    let (code, message) = match reason {
        LockReason::Approved => (
            "approved",
            "the report is approved; the province must unapprove it first",
        ),
        LockReason::PastLock => (
            "past_lock",
            "the report is past its lock date; the province must reopen it",
        ),
    };
    ServiceError::Locked {
        message: format!("The report is locked at revision {revision}: {message}."),
        issues: vec![Issue::new("report", code, message)],
    }
}

/// Stores a checked submission (with `dry_run`, decides everything and stores nothing).
///
/// On PostgreSQL the report is read without a lock and the revision written by one statement
/// that applies only if the report is still as read, committing on its own: two round trips.
/// When it changed meanwhile, or when more than one row must change together (a report opened
/// by the province is filed), the submission falls back to the locked way: in one transaction
/// holding the report's lock (as SQLite always does, with its single writer).
pub fn store_submission(
    conn: &mut DbConnection,
    catalog: &Catalog,
    sub: &Submission,
    now: DateTime<Utc>,
    dry_run: bool,
) -> Result<Submitted, ServiceError> {
    if !dry_run && let DbConnection::Pg(_) = conn {
        for _ in 0..3 {
            let DbConnection::Pg(c) = conn else {
                unreachable!("checked above")
            };
            let (existing, earlier) = store::find_with_history(
                c,
                sub.dataset.code.as_str(),
                &sub.period.to_string(),
                &sub.commune,
                OUTLIER_HISTORY,
            )?;
            match decide(
                conn,
                catalog,
                sub,
                now,
                existing,
                earlier,
                Mode::IfUnchanged,
            ) {
                Ok(Some(done)) => return Ok(done),
                // Changed since it was read: read it again.
                Ok(None) | Err(Stop::Raced) => continue,
                Err(Stop::NeedsLock) => break,
                Err(Stop::Refused(e)) => return Err(e),
                Err(Stop::DryRun(_)) => unreachable!("not a dry run"),
            }
        }
    }
    // Two first submissions of one report meet at its unique key: the later one is retried
    // once, and then finds the report the other stored.
    for _ in 0..2 {
        let result = innoreport_store::transaction(conn, |conn| {
            let (existing, earlier) = store::find_for_update(
                conn,
                sub.dataset.code.as_str(),
                &sub.period.to_string(),
                &sub.commune,
                OUTLIER_HISTORY,
            )?;
            let done = decide(conn, catalog, sub, now, existing, earlier, Mode::Locked)?
                .ok_or_else(|| refused(ServiceError::bug("a locked write did not apply")))?;
            if dry_run {
                Err(Stop::DryRun(Box::new(done)))
            } else {
                Ok(done)
            }
        });
        match result {
            Ok(done) => return Ok(done),
            Err(Stop::DryRun(done)) => return Ok(*done),
            Err(Stop::Refused(e)) => return Err(e),
            Err(Stop::Raced) => continue,
            Err(Stop::NeedsLock) => unreachable!("the lock is held"),
        }
    }
    Err(ServiceError::Conflict {
        message: "Another submission of this report is being stored; retry.".into(),
        issues: vec![Issue::new("report", "busy", "retry in a moment")],
    })
}

/// How a decided revision is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// In a transaction that holds the report's lock.
    Locked,
    /// Only if the report is still as read (PostgreSQL, one statement).
    IfUnchanged,
}

/// Decides a submission against the report as read (`existing`, and the commune's earlier
/// values when they came along) and writes it: refused (422, 423, 409), answered unchanged, or
/// a new revision. `Ok(None)`: written only if unchanged, and it had changed.
fn decide(
    conn: &mut DbConnection,
    catalog: &Catalog,
    sub: &Submission,
    now: DateTime<Utc>,
    existing: Option<StoredReport>,
    earlier: Option<Vec<Values>>,
    mode: Mode,
) -> Result<Option<Submitted>, Stop> {
    let dataset = sub.dataset.code.as_str();
    let period = sub.period.to_string();
    let current = existing
        .as_ref()
        .map(|r| r.values.clone())
        .unwrap_or_default();
    let merged = merge(&current, &sub.changes);
    // The plan part is read, and written, only by a submission that changes it, under the lock.
    let carries_progress = !sub.progress.is_empty();
    if carries_progress && mode == Mode::IfUnchanged {
        return Err(Stop::NeedsLock);
    }
    let mut issues = sub.field_issues.clone();
    let (current_progress, merged_progress) = if carries_progress {
        let current = match &existing {
            Some(r) => crate::plans::stored_progress(conn, r.id, r.revision).map_err(refused)?,
            None => Progress::default(),
        };
        issues.extend(crate::plans::check_task_codes(conn, sub).map_err(refused)?);
        let merged = sub.progress.apply(&current);
        (current, merged)
    } else {
        (Progress::default(), Progress::default())
    };
    issues.extend(check_parts(catalog, &sub.dataset, &merged));
    if existing.is_none() && merged.is_empty() && merged_progress.is_empty() && issues.is_empty() {
        issues.push(Issue::new(
            "values",
            "empty",
            "a new report needs at least one value (or a task's progress or a text)",
        ));
    }
    if !issues.is_empty() {
        return Err(refused(ServiceError::invalid("report", issues)));
    }
    // An identical re-submission is a harmless retry: answer the current revision.
    if existing.is_some() && current == merged && current_progress == merged_progress {
        let Some(report) = store::get_report(conn, dataset, &period, &sub.commune)? else {
            return Ok(None);
        };
        let mut report = ReportNow::at(catalog, report, now).map_err(refused)?;
        report.progress = carries_progress.then_some(merged_progress);
        return Ok(Some(Submitted {
            outcome: Outcome::Unchanged,
            report,
            warnings: Vec::new(),
        }));
    }
    // A report never filed may be filed past its lock only once the province opened it: the
    // openings are read only then.
    let lock = sub.dataset.lock(sub.period);
    let opening = match &existing {
        None if lock_reason(None, false, lock, now).is_some() => {
            store::opening(conn, dataset, &period, &sub.commune)?
        }
        _ => None,
    };
    let reopened = existing.as_ref().map_or(opening.is_some(), |r| r.reopened);
    let revision = existing.as_ref().map_or(0, |r| r.revision);
    if let Some(reason) = lock_reason(existing.as_ref().map(|r| r.status), reopened, lock, now) {
        return Err(refused(locked_error(reason, revision)));
    }
    if let Some(given) = sub.base_revision
        && given != revision
    {
        return Err(refused(ServiceError::Conflict {
            message: format!(
                "base_revision {given} is not the current revision {revision}; reload and resubmit."
            ),
            issues: vec![Issue::new(
                "base_revision",
                "stale",
                format!("the current revision is {revision}"),
            )],
        }));
    }
    if opening.is_some() && mode == Mode::IfUnchanged {
        // The revision and the opening's review record are written together, under the lock.
        return Err(Stop::NeedsLock);
    }
    let history = match earlier {
        Some(h) => h,
        None => store::history(conn, &sub.commune, dataset, &period, OUTLIER_HISTORY)?,
    };
    let new = NewRevision {
        report: existing.as_ref(),
        dataset,
        period: &period,
        commune: &sub.commune,
        reopened,
        author: &sub.author,
        comment: sub.comment.as_deref(),
        at: now,
        values: &merged,
    };
    let written = match (mode, &mut *conn) {
        (Mode::IfUnchanged, DbConnection::Pg(c)) => {
            match store::write_revision_if_unchanged(c, &new)? {
                Some(w) => w,
                None => return Ok(None),
            }
        }
        _ => store::write_revision(conn, &new)?,
    };
    if carries_progress && merged_progress != current_progress {
        crate::plans::write_progress(conn, written.report_id, written.revision, &merged_progress)
            .map_err(refused)?;
    }
    if let Some(o) = &opening {
        // The opening joins the report's review history, as the reopening it is.
        store::record_review(
            conn,
            written.report_id,
            ReviewAction::Reopen,
            &o.actor,
            o.comment.as_deref(),
            0,
            o.at,
        )?;
    }
    let warnings = outliers(&current, &merged, &history);
    let report = ReportView {
        id: written.report_id,
        dataset: dataset.to_owned(),
        period: period.clone(),
        commune: sub.commune.clone(),
        province: sub.province.clone(),
        revision: written.revision,
        status: ReportStatus::Submitted,
        reopened,
        first_received_at: existing
            .as_ref()
            .map_or(written.at, |r: &StoredReport| r.first_received_at),
        received_at: written.at,
        author: sub.author.clone(),
        comment: sub.comment.clone(),
        values: merged,
    };
    let mut report = ReportNow::at(catalog, report, now).map_err(refused)?;
    report.progress = carries_progress.then_some(merged_progress);
    Ok(Some(Submitted {
        outcome: if existing.is_some() {
            Outcome::Updated
        } else {
            Outcome::Created
        },
        report,
        warnings,
    }))
}

/// Warnings for changed values far from the same commune's earlier periods (`history`, the
/// current values of its latest earlier reports).
pub fn outliers(before: &Values, after: &Values, history: &[Values]) -> Vec<Warning> {
    let mut warnings = Vec::new();
    for (code, &value) in after.iter().filter(|(k, v)| before.get(*k) != Some(v)) {
        let past: Vec<f64> = history
            .iter()
            .filter_map(|h| h.get(code).copied())
            .collect();
        let Some(z) = modified_z_score(value, &past) else {
            continue;
        };
        if z.abs() <= OUTLIER_THRESHOLD {
            continue;
        }
        let mut sorted = past.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        warnings.push(Warning {
            indicator: code.clone(),
            value,
            score: z.is_finite().then_some(z),
            median,
            history: n,
        });
    }
    warnings
}

impl Service {
    /// Submits (creates or changes) a report as `who`.
    pub fn submit(
        &self,
        who: &Principal,
        draft: &Draft,
        dry_run: bool,
    ) -> Result<Submitted, ServiceError> {
        let result = self.submit_inner(who, draft, dry_run);
        self.observer().submission(match &result {
            Ok(done) => done.outcome.as_str(),
            Err(ServiceError::Forbidden(_)) => "forbidden",
            Err(ServiceError::Invalid { .. }) => "invalid",
            Err(ServiceError::Locked { .. }) => "locked",
            Err(ServiceError::Conflict { .. }) => "stale",
            Err(_) => "error",
        });
        result
    }

    fn submit_inner(
        &self,
        who: &Principal,
        draft: &Draft,
        dry_run: bool,
    ) -> Result<Submitted, ServiceError> {
        let now = self.now();
        let mut conn = self.conn()?;
        let catalog = self.catalog(&mut conn)?;
        let named = draft
            .commune
            .clone()
            .or_else(|| who.own_commune().map(str::to_owned));
        let reference = self.reference(&mut conn, |r| {
            named.as_deref().is_none_or(|c| r.commune(c).is_some())
        })?;
        match check(who, &catalog, &reference, draft, now)? {
            Checked::Ready(sub) => store_submission(&mut conn, &catalog, &sub, now, dry_run),
            Checked::Invalid(issues) => Err(ServiceError::invalid("report", issues)),
        }
    }
}

#[cfg(test)]
mod tests;
