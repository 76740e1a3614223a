//! Reports, their revisions and their review.
//!
//! A submission runs in one transaction that first takes a lock on the report's key (a
//! transaction-scoped advisory lock on PostgreSQL, the write lock on SQLite), so concurrent
//! submissions of one report are serialised: revision numbers are consecutive and none is
//! lost. Nothing is ever updated in place: every change is a new revision with its full set
//! of values.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use innoreport_core::validation::{
    self, Changes, Issue, OUTLIER_THRESHOLD, Values, check_parts, merge, modified_z_score,
};
use innoreport_core::{Catalog, Dataset, Period, ReportStatus, ReviewAction, review_transition};

use crate::db::DbConnection;
use crate::schema::{communes, report_reviews, reports, revision_values, revisions};
use crate::{StoreError, with_backend};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = reports)]
struct ReportRow {
    id: i64,
    dataset_code: String,
    period: String,
    commune_code: String,
    current_revision: i32,
    status: String,
    first_received_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    reopened: bool,
}

/// A report as it stands (its current revision).
#[derive(Debug, Clone, PartialEq)]
pub struct ReportView {
    pub id: i64,
    pub dataset: String,
    pub period: String,
    pub commune: String,
    pub province: String,
    pub revision: i32,
    pub status: ReportStatus,
    pub reopened: bool,
    pub first_received_at: DateTime<Utc>,
    /// When the current revision was received.
    pub received_at: DateTime<Utc>,
    pub author: String,
    pub comment: Option<String>,
    pub values: Values,
}

/// A value accepted but far from the commune's own history.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub indicator: String,
    pub value: f64,
    pub score: f64,
    pub history: usize,
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

#[derive(Debug, Clone)]
pub struct Submitted {
    pub outcome: Outcome,
    pub report: ReportView,
    pub warnings: Vec<Warning>,
}

/// Why a submission was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("invalid report")]
    Invalid(Vec<Issue>),
    #[error("the report is locked ({reason:?})")]
    Locked { reason: LockReason, revision: i32 },
    #[error("base revision {given} is not the current revision {current}")]
    Stale { given: i32, current: i32 },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Internal: carries a dry run's result out of the rolled-back transaction.
    #[error("dry run")]
    DryRun(Box<Submitted>),
}

impl From<diesel::result::Error> for SubmitError {
    fn from(e: diesel::result::Error) -> Self {
        SubmitError::Store(e.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockReason {
    /// Approved by the province.
    Approved,
    /// Past the data set's lock instant, and not reopened.
    PastLock,
}

/// One submission, validated field by field by the caller (`field_issues` carries what it
/// found, so that every problem is answered at once).
#[derive(Debug, Clone)]
pub struct Submission<'a> {
    pub dataset: &'a Dataset,
    pub period: Period,
    pub commune: String,
    pub changes: Changes,
    pub field_issues: Vec<Issue>,
    pub comment: Option<String>,
    pub base_revision: Option<i32>,
    pub author: String,
    pub now: DateTime<Utc>,
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// A stable 64-bit key of a report, for PostgreSQL's advisory lock (FNV-1a).
fn lock_key(dataset: &str, period: &str, commune: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in dataset
        .bytes()
        .chain([0])
        .chain(period.bytes())
        .chain([0])
        .chain(commune.bytes())
    {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// Serialises writers of one report for the rest of the transaction.
fn lock_report(
    conn: &mut DbConnection,
    dataset: &str,
    period: &str,
    commune: &str,
) -> Result<(), StoreError> {
    match conn {
        DbConnection::Pg(c) => {
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                .bind::<diesel::sql_types::BigInt, _>(lock_key(dataset, period, commune))
                .execute(c)?;
        }
        // Any write statement takes SQLite's single write lock (waiting up to busy_timeout),
        // even when it changes no row; taking it first avoids a read-then-write upgrade.
        DbConnection::Sqlite(c) => {
            diesel::sql_query("UPDATE reports SET id = id WHERE id = -1").execute(c)?;
        }
    }
    Ok(())
}

fn find_row(
    conn: &mut DbConnection,
    dataset: &str,
    period: &str,
    commune: &str,
) -> Result<Option<ReportRow>, StoreError> {
    Ok(reports::table
        .filter(reports::dataset_code.eq(dataset))
        .filter(reports::period.eq(period))
        .filter(reports::commune_code.eq(commune))
        .select(ReportRow::as_select())
        .first(conn)
        .optional()?)
}

/// The current revision of a report.
struct CurrentRevision {
    author: String,
    received_at: NaiveDateTime,
    comment: Option<String>,
    values: Values,
}

/// The current revisions of `rows`, by report id.
fn current_revisions(
    conn: &mut DbConnection,
    rows: &[ReportRow],
) -> Result<HashMap<i64, CurrentRevision>, StoreError> {
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let wanted: HashMap<i64, i32> = rows.iter().map(|r| (r.id, r.current_revision)).collect();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let revs: Vec<(i64, i64, i32, String, NaiveDateTime, Option<String>)> = revisions::table
            .filter(revisions::report_id.eq_any(chunk))
            .select((
                revisions::id,
                revisions::report_id,
                revisions::number,
                revisions::author,
                revisions::received_at,
                revisions::comment,
            ))
            .load(conn)?;
        let revs: Vec<_> = revs
            .into_iter()
            .filter(|r| wanted.get(&r.1) == Some(&r.2))
            .collect();
        let rev_ids: Vec<i64> = revs.iter().map(|r| r.0).collect();
        let mut by_rev = values_of_revisions(conn, &rev_ids)?;
        for (rid, report_id, _, author, received_at, comment) in revs {
            let values = by_rev.remove(&rid).unwrap_or_default();
            out.insert(
                report_id,
                CurrentRevision {
                    author,
                    received_at,
                    comment,
                    values,
                },
            );
        }
    }
    Ok(out)
}

/// The current values of `rows`, by report id (one query).
fn current_values_of(
    conn: &mut DbConnection,
    rows: &[ReportRow],
) -> Result<HashMap<i64, Values>, StoreError> {
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    let wanted: HashMap<i64, i32> = rows.iter().map(|r| (r.id, r.current_revision)).collect();
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let found: Vec<(i64, i32, String, Option<f64>)> = revision_values::table
        .inner_join(revisions::table)
        .filter(revisions::report_id.eq_any(&ids))
        .select((
            revisions::report_id,
            revisions::number,
            revision_values::indicator_code,
            revision_values::value,
        ))
        .load(conn)?;
    let mut out: HashMap<i64, Values> = HashMap::new();
    for (report, number, code, value) in found {
        if wanted.get(&report) == Some(&number)
            && let Some(v) = value
        {
            out.entry(report).or_default().insert(code, v);
        }
    }
    Ok(out)
}

/// The values of revisions, by revision id (in chunks, to stay under parameter limits).
pub(crate) fn values_of_revisions(
    conn: &mut DbConnection,
    ids: &[i64],
) -> Result<HashMap<i64, Values>, StoreError> {
    let mut out: HashMap<i64, Values> = HashMap::new();
    for chunk in ids.chunks(5000) {
        let vals: Vec<(i64, String, Option<f64>)> = revision_values::table
            .filter(revision_values::revision_id.eq_any(chunk))
            .select((
                revision_values::revision_id,
                revision_values::indicator_code,
                revision_values::value,
            ))
            .load(conn)?;
        for (rid, code, v) in vals {
            if let Some(v) = v {
                out.entry(rid).or_default().insert(code, v);
            }
        }
    }
    Ok(out)
}

fn province_of(conn: &mut DbConnection, commune: &str) -> Result<String, StoreError> {
    communes::table
        .find(commune)
        .select(communes::province_code)
        .first(conn)
        .optional()?
        .ok_or_else(|| StoreError::Corrupt(format!("report of unknown commune {commune}")))
}

fn views(conn: &mut DbConnection, rows: Vec<ReportRow>) -> Result<Vec<ReportView>, StoreError> {
    let mut current = current_revisions(conn, &rows)?;
    let codes: Vec<&str> = rows.iter().map(|r| r.commune_code.as_str()).collect();
    let provinces: HashMap<String, String> = communes::table
        .filter(communes::code.eq_any(&codes))
        .select((communes::code, communes::province_code))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    rows.into_iter()
        .map(|r| {
            let CurrentRevision {
                author,
                received_at,
                comment,
                values,
            } = current.remove(&r.id).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "report {} has no revision {}",
                    r.id, r.current_revision
                ))
            })?;
            Ok(ReportView {
                id: r.id,
                province: provinces.get(&r.commune_code).cloned().unwrap_or_default(),
                dataset: r.dataset_code,
                period: r.period,
                commune: r.commune_code,
                revision: r.current_revision,
                status: r.status.parse().map_err(StoreError::Corrupt)?,
                reopened: r.reopened,
                first_received_at: utc(r.first_received_at),
                received_at: utc(received_at),
                author,
                comment,
                values,
            })
        })
        .collect()
}

fn view(conn: &mut DbConnection, row: ReportRow) -> Result<ReportView, StoreError> {
    Ok(views(conn, vec![row])?.remove(0))
}

/// The report of a commune for a data set and period, if any.
pub fn get_report(
    conn: &mut DbConnection,
    dataset: &str,
    period: &str,
    commune: &str,
) -> Result<Option<ReportView>, StoreError> {
    match find_row(conn, dataset, period, commune)? {
        Some(row) => Ok(Some(view(conn, row)?)),
        None => Ok(None),
    }
}

/// Submits (creates or changes) a report. With `dry_run`, everything is checked and the
/// outcome computed as it would be, and then rolled back.
pub fn submit(
    conn: &mut DbConnection,
    catalog: &Catalog,
    sub: &Submission<'_>,
    dry_run: bool,
) -> Result<Submitted, SubmitError> {
    let result = conn.transaction::<Submitted, SubmitError, _>(|conn| {
        let done = submit_in_transaction(conn, catalog, sub)?;
        if dry_run {
            Err(SubmitError::DryRun(Box::new(done)))
        } else {
            Ok(done)
        }
    });
    match result {
        Err(SubmitError::DryRun(done)) => Ok(*done),
        other => other,
    }
}

fn submit_in_transaction(
    conn: &mut DbConnection,
    catalog: &Catalog,
    sub: &Submission<'_>,
) -> Result<Submitted, SubmitError> {
    let dataset = sub.dataset.code.as_str();
    let period = sub.period.to_string();
    lock_report(conn, dataset, &period, &sub.commune)?;
    let existing = find_row(conn, dataset, &period, &sub.commune)?;
    let current_values = match &existing {
        Some(row) => current_values_of(conn, std::slice::from_ref(row))?
            .remove(&row.id)
            .unwrap_or_default(),
        None => Values::new(),
    };
    let merged = merge(&current_values, &sub.changes);

    let mut issues = sub.field_issues.clone();
    issues.extend(check_parts(catalog, sub.dataset, &merged));
    if existing.is_none() && merged.is_empty() && issues.is_empty() {
        issues.push(Issue::new(
            "values",
            "empty",
            "a new report needs at least one value",
        ));
    }
    if !issues.is_empty() {
        return Err(SubmitError::Invalid(issues));
    }

    // An identical re-submission is a harmless retry: answer the current revision.
    if let Some(row) = existing.as_ref().filter(|_| current_values == merged) {
        return Ok(Submitted {
            outcome: Outcome::Unchanged,
            report: view(conn, row.clone())?,
            warnings: Vec::new(),
        });
    }

    let current_revision = existing.as_ref().map_or(0, |r| r.current_revision);
    if let Some(row) = &existing
        && row.status == ReportStatus::Approved.as_str()
    {
        return Err(SubmitError::Locked {
            reason: LockReason::Approved,
            revision: current_revision,
        });
    }
    let reopened = existing.as_ref().is_some_and(|r| r.reopened);
    if !reopened && sub.dataset.is_locked_at(sub.period, sub.now) {
        return Err(SubmitError::Locked {
            reason: LockReason::PastLock,
            revision: current_revision,
        });
    }
    if let Some(given) = sub.base_revision
        && given != current_revision
    {
        return Err(SubmitError::Stale {
            given,
            current: current_revision,
        });
    }

    // Stored to the microsecond on both backends; the answer shows what is stored.
    let now = chrono::SubsecRound::trunc_subsecs(sub.now, 6).naive_utc();
    let number = current_revision + 1;
    let report_id = match &existing {
        Some(row) => {
            diesel::update(reports::table.find(row.id))
                .set((
                    reports::current_revision.eq(number),
                    reports::updated_at.eq(now),
                    reports::status.eq(ReportStatus::Submitted.as_str()),
                ))
                .execute(conn)?;
            row.id
        }
        None => {
            let insert = diesel::insert_into(reports::table)
                .values((
                    reports::dataset_code.eq(dataset),
                    reports::period.eq(&period),
                    reports::commune_code.eq(&sub.commune),
                    reports::current_revision.eq(number),
                    reports::status.eq(ReportStatus::Submitted.as_str()),
                    reports::first_received_at.eq(now),
                    reports::updated_at.eq(now),
                    reports::reopened.eq(false),
                ))
                .returning(reports::id);
            with_backend!(conn, c => insert.get_result::<i64>(c))?
        }
    };
    let insert = diesel::insert_into(revisions::table)
        .values((
            revisions::report_id.eq(report_id),
            revisions::number.eq(number),
            revisions::author.eq(&sub.author),
            revisions::received_at.eq(now),
            revisions::comment.eq(&sub.comment),
        ))
        .returning(revisions::id);
    let revision_id: i64 = with_backend!(conn, c => insert.get_result::<i64>(c))?;
    let rows: Vec<_> = merged
        .iter()
        .map(|(code, v)| {
            (
                revision_values::revision_id.eq(revision_id),
                revision_values::indicator_code.eq(code.as_str()),
                revision_values::value.eq(Some(*v)),
            )
        })
        .collect();
    for chunk in rows.chunks(200) {
        with_backend!(conn, c => diesel::insert_into(revision_values::table).values(chunk).execute(c))?;
    }

    let warnings = outlier_warnings(conn, sub, &current_values, &merged)?;
    // Everything the answer shows is known here: no need to read the report back.
    let report = ReportView {
        id: report_id,
        dataset: dataset.to_owned(),
        period: period.clone(),
        commune: sub.commune.clone(),
        province: province_of(conn, &sub.commune)?,
        revision: number,
        status: ReportStatus::Submitted,
        reopened: existing.as_ref().is_some_and(|r| r.reopened),
        first_received_at: utc(existing.as_ref().map_or(now, |r| r.first_received_at)),
        received_at: utc(now),
        author: sub.author.clone(),
        comment: sub.comment.clone(),
        values: merged,
    };
    let outcome = if existing.is_some() {
        Outcome::Updated
    } else {
        Outcome::Created
    };
    Ok(Submitted {
        outcome,
        report,
        warnings,
    })
}

/// How many earlier periods of a commune an outlier warning compares with (three years of
/// quarters): enough for a robust median, and a bounded cost per submission however long the
/// history grows.
const OUTLIER_HISTORY: i64 = 12;

/// Warnings for changed values far from the same commune's earlier periods of the data set.
fn outlier_warnings(
    conn: &mut DbConnection,
    sub: &Submission<'_>,
    before: &Values,
    after: &Values,
) -> Result<Vec<Warning>, StoreError> {
    let changed: Vec<(&String, f64)> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, v)| (k, *v))
        .collect();
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    // The most recent earlier periods: periods of one kind sort as their text does.
    let earlier: Vec<ReportRow> = reports::table
        .filter(reports::commune_code.eq(&sub.commune))
        .filter(reports::dataset_code.eq(sub.dataset.code.as_str()))
        .filter(reports::period.lt(sub.period.to_string()))
        .order(reports::period.desc())
        .limit(OUTLIER_HISTORY)
        .select(ReportRow::as_select())
        .load(conn)?
        .into_iter()
        .filter(|r| Period::parse(&r.period).is_ok_and(|p| p < sub.period))
        .collect();
    let history = current_values_of(conn, &earlier)?;
    let mut warnings = Vec::new();
    for (code, value) in changed {
        let past: Vec<f64> = history
            .values()
            .filter_map(|h| h.get(code).copied())
            .collect();
        if let Some(score) = modified_z_score(value, &past)
            && score.abs() > OUTLIER_THRESHOLD
        {
            warnings.push(Warning {
                indicator: code.clone(),
                value,
                score,
                history: past.len(),
            });
        }
    }
    Ok(warnings)
}

/// One revision of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct RevisionView {
    pub number: i32,
    pub author: String,
    pub received_at: DateTime<Utc>,
    pub comment: Option<String>,
    pub values: Values,
    /// What changed from the previous revision: indicator → (old, new).
    pub changes: BTreeMap<String, (Option<f64>, Option<f64>)>,
}

/// Every revision of a report, oldest first, with what each one changed.
pub fn list_revisions(
    conn: &mut DbConnection,
    report_id: i64,
) -> Result<Vec<RevisionView>, StoreError> {
    let revs: Vec<(i64, i32, String, NaiveDateTime, Option<String>)> = revisions::table
        .filter(revisions::report_id.eq(report_id))
        .order(revisions::number)
        .select((
            revisions::id,
            revisions::number,
            revisions::author,
            revisions::received_at,
            revisions::comment,
        ))
        .load(conn)?;
    let ids: Vec<i64> = revs.iter().map(|r| r.0).collect();
    let mut by_rev = values_of_revisions(conn, &ids)?;
    let mut previous = Values::new();
    let mut out = Vec::with_capacity(revs.len());
    for (id, number, author, at, comment) in revs {
        let values = by_rev.remove(&id).unwrap_or_default();
        let mut changes = BTreeMap::new();
        for code in previous.keys().chain(values.keys()) {
            let (old, new) = (previous.get(code).copied(), values.get(code).copied());
            if old != new {
                changes.insert(code.clone(), (old, new));
            }
        }
        previous = values.clone();
        out.push(RevisionView {
            number,
            author,
            received_at: utc(at),
            comment,
            values,
            changes,
        });
    }
    Ok(out)
}

/// Filters of the report list; `None` is "any".
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub dataset: Option<String>,
    pub period: Option<String>,
    pub province: Option<String>,
    pub commune: Option<String>,
    pub status: Option<ReportStatus>,
}

/// One page of reports in the order they were first received (stable while new reports
/// arrive: they are appended at the end).
pub fn list_reports(
    conn: &mut DbConnection,
    filter: &ReportFilter,
    after_id: Option<i64>,
    limit: i64,
) -> Result<Vec<ReportView>, StoreError> {
    let mut q = reports::table
        .inner_join(communes::table)
        .select(ReportRow::as_select())
        .order(reports::id)
        .limit(limit)
        .into_boxed();
    if let Some(d) = &filter.dataset {
        q = q.filter(reports::dataset_code.eq(d.clone()));
    }
    if let Some(p) = &filter.period {
        q = q.filter(reports::period.eq(p.clone()));
    }
    if let Some(p) = &filter.province {
        q = q.filter(communes::province_code.eq(p.clone()));
    }
    if let Some(c) = &filter.commune {
        q = q.filter(reports::commune_code.eq(c.clone()));
    }
    if let Some(s) = filter.status {
        q = q.filter(reports::status.eq(s.as_str()));
    }
    if let Some(after) = after_id {
        q = q.filter(reports::id.gt(after));
    }
    let rows = q.load(conn)?;
    views(conn, rows)
}

/// A recorded review action.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewView {
    pub action: ReviewAction,
    pub actor: String,
    pub comment: Option<String>,
    pub revision: i32,
    pub at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("no such report")]
    NotFound,
    #[error("{0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for ReviewError {
    fn from(e: diesel::result::Error) -> Self {
        ReviewError::Store(e.into())
    }
}

/// Applies a review action and records it.
#[allow(clippy::too_many_arguments)]
pub fn review(
    conn: &mut DbConnection,
    dataset: &str,
    period: &str,
    commune: &str,
    action: ReviewAction,
    actor: &str,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ReportView, ReviewError> {
    conn.transaction(|conn| {
        lock_report(conn, dataset, period, commune)?;
        let row = find_row(conn, dataset, period, commune)?.ok_or(ReviewError::NotFound)?;
        let status: ReportStatus = row.status.parse().map_err(StoreError::Corrupt)?;
        let (next, reopened) = review_transition(status, action).map_err(ReviewError::Conflict)?;
        diesel::update(reports::table.find(row.id))
            .set((
                reports::status.eq(next.as_str()),
                reports::reopened.eq(reopened),
            ))
            .execute(conn)?;
        diesel::insert_into(report_reviews::table)
            .values((
                report_reviews::report_id.eq(row.id),
                report_reviews::action.eq(action.as_str()),
                report_reviews::actor.eq(actor),
                report_reviews::comment.eq(comment),
                report_reviews::revision.eq(row.current_revision),
                report_reviews::created_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
        let row = find_row(conn, dataset, period, commune)?.ok_or(ReviewError::NotFound)?;
        Ok(view(conn, row)?)
    })
}

/// Every review action on a report, oldest first.
pub fn list_reviews(
    conn: &mut DbConnection,
    report_id: i64,
) -> Result<Vec<ReviewView>, StoreError> {
    let rows: Vec<(String, String, Option<String>, i32, NaiveDateTime)> = report_reviews::table
        .filter(report_reviews::report_id.eq(report_id))
        .order(report_reviews::id)
        .select((
            report_reviews::action,
            report_reviews::actor,
            report_reviews::comment,
            report_reviews::revision,
            report_reviews::created_at,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(action, actor, comment, revision, at)| {
            Ok(ReviewView {
                action: action.parse().map_err(StoreError::Corrupt)?,
                actor,
                comment,
                revision,
                at: utc(at),
            })
        })
        .collect()
}

/// The province of a commune (None when the commune does not exist).
pub fn commune_province(
    conn: &mut DbConnection,
    commune: &str,
) -> Result<Option<String>, StoreError> {
    match province_of(conn, commune) {
        Ok(p) => Ok(Some(p)),
        Err(StoreError::Corrupt(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Re-exported for callers that validate before submitting.
pub use validation::check_values;
