//! Reading reports: one report as it stands, lists of reports, a report's revisions (with the
//! values each changed) and its reviews. Writing is in `reports`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use innoreport_core::validation::Values;
use innoreport_core::{ReportStatus, ReviewAction};

use crate::StoreError;
use crate::db::DbConnection;
use crate::reports::{decode_values, utc};
use crate::schema::{communes, report_reviews, reports, revision_values, revisions};

/// A report as it stands (its current revision), for reading.
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

type ViewRow = (
    i64,
    String,
    String,
    String,
    String,
    i32,
    String,
    bool,
    NaiveDateTime,
    String,
    NaiveDateTime,
    String,
    Option<String>,
);

fn view_of(r: ViewRow) -> Result<ReportView, StoreError> {
    let (
        id,
        dataset,
        period,
        commune,
        province,
        revision,
        status,
        reopened,
        first,
        current,
        received,
        author,
        comment,
    ) = r;
    Ok(ReportView {
        values: decode_values(id, &current)?,
        status: status.parse().map_err(StoreError::Corrupt)?,
        id,
        dataset,
        period,
        commune,
        province,
        revision,
        reopened,
        first_received_at: utc(first),
        received_at: utc(received),
        author,
        comment,
    })
}

macro_rules! report_views {
    () => {
        reports::table
            .inner_join(communes::table)
            .inner_join(
                revisions::table.on(revisions::report_id
                    .eq(reports::id)
                    .and(revisions::number.eq(reports::current_revision))),
            )
            .select((
                reports::id,
                reports::dataset_code,
                reports::period,
                reports::commune_code,
                communes::province_code,
                reports::current_revision,
                reports::status,
                reports::reopened,
                reports::first_received_at,
                reports::current_values,
                revisions::received_at,
                revisions::author,
                revisions::comment,
            ))
    };
}

/// The report of a commune for a data set and period, if any.
pub fn get_report(
    conn: &mut DbConnection,
    dataset: &str,
    period: &str,
    commune: &str,
) -> Result<Option<ReportView>, StoreError> {
    let row: Option<ViewRow> = report_views!()
        .filter(reports::dataset_code.eq(dataset))
        .filter(reports::period.eq(period))
        .filter(reports::commune_code.eq(commune))
        .first(conn)
        .optional()?;
    row.map(view_of).transpose()
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
    let mut q = report_views!().order(reports::id).limit(limit).into_boxed();
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
        // Said of both sides of the join, so the planner starts both index scans at the cursor
        // (with only `reports.id`, PostgreSQL merge-joined revisions from their first row, and a
        // complete export cost O(n²)).
        q = q
            .filter(reports::id.gt(after))
            .filter(revisions::report_id.gt(after));
    }
    let rows: Vec<ViewRow> = q.load(conn)?;
    rows.into_iter().map(view_of).collect()
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

/// A recorded review action.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewView {
    pub action: ReviewAction,
    pub actor: String,
    pub comment: Option<String>,
    pub revision: i32,
    pub at: DateTime<Utc>,
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
