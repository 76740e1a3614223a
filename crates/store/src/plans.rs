//! Plans with their revisions, and the plan part of reports.
//!
//! A plan's body (sections and tasks) is JSON the service reads and writes; the store keeps it
//! with every revision. A write names the revision it changes and applies only if the plan is
//! still at that revision (two editors never overwrite each other unseen), with its change-log
//! entry, in one transaction.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::StoreError;
use crate::changes::NewChange;
use crate::db::DbConnection;
use crate::schema::{communes, reports, revisions};
use crate::schema::{plan_revisions as pr, plans as p, report_progress as rp};

/// A stored plan (its body as JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPlan {
    pub id: i64,
    /// `commune` or `province`.
    pub owner: String,
    pub unit: String,
    pub province: String,
    pub first_year: i32,
    pub last_year: i32,
    pub revision: i32,
    /// `draft` or `approved`.
    pub status: String,
    pub body: String,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

type Row = (
    i64,
    String,
    String,
    String,
    i32,
    i32,
    i32,
    String,
    String,
    String,
    NaiveDateTime,
);

fn from_row(r: Row) -> StoredPlan {
    StoredPlan {
        id: r.0,
        owner: r.1,
        unit: r.2,
        province: r.3,
        first_year: r.4,
        last_year: r.5,
        revision: r.6,
        status: r.7,
        body: r.8,
        updated_by: r.9,
        updated_at: r.10.and_utc(),
    }
}

macro_rules! columns {
    () => {
        (
            p::id,
            p::owner,
            p::unit,
            p::province_code,
            p::first_year,
            p::last_year,
            p::revision,
            p::status,
            p::body,
            p::updated_by,
            p::updated_at,
        )
    };
}

/// The plan of `owner` `unit` that covers `year`.
pub fn covering(
    conn: &mut DbConnection,
    owner: &str,
    unit: &str,
    year: i32,
) -> Result<Option<StoredPlan>, StoreError> {
    let row: Option<Row> = p::table
        .filter(p::owner.eq(owner))
        .filter(p::unit.eq(unit))
        .filter(p::first_year.le(year))
        .filter(p::last_year.ge(year))
        .select(columns!())
        .first(conn)
        .optional()?;
    Ok(row.map(from_row))
}

/// The plans of a unit whose years meet `first..=last`, except plan `except`.
pub fn overlapping(
    conn: &mut DbConnection,
    owner: &str,
    unit: &str,
    first: i32,
    last: i32,
    except: Option<i64>,
) -> Result<Vec<StoredPlan>, StoreError> {
    let rows: Vec<Row> = p::table
        .filter(p::owner.eq(owner))
        .filter(p::unit.eq(unit))
        .filter(p::first_year.le(last))
        .filter(p::last_year.ge(first))
        .filter(p::id.ne(except.unwrap_or(-1)))
        .select(columns!())
        .load(conn)?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// Filters of a plan list.
#[derive(Debug, Clone, Default)]
pub struct PlanFilter {
    pub owner: Option<String>,
    pub province: Option<String>,
    pub unit: Option<String>,
    /// Plans covering this year.
    pub year: Option<i32>,
}

/// Plans matching `f`, by owner, unit and first year.
pub fn list(conn: &mut DbConnection, f: &PlanFilter) -> Result<Vec<StoredPlan>, StoreError> {
    let mut q = p::table.select(columns!()).into_boxed();
    if let Some(o) = &f.owner {
        q = q.filter(p::owner.eq(o.clone()));
    }
    if let Some(pr) = &f.province {
        q = q.filter(p::province_code.eq(pr.clone()));
    }
    if let Some(u) = &f.unit {
        q = q.filter(p::unit.eq(u.clone()));
    }
    if let Some(y) = f.year {
        q = q.filter(p::first_year.le(y)).filter(p::last_year.ge(y));
    }
    let rows: Vec<Row> = q.order((p::owner, p::unit, p::first_year)).load(conn)?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// One revision of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRevision {
    pub number: i32,
    /// `create`, `edit`, `import`, `adopt`, `approve`, `reopen`.
    pub action: String,
    pub author: String,
    pub at: DateTime<Utc>,
    pub comment: Option<String>,
    pub status: String,
    pub body: String,
}

type RevisionRow = (
    i32,
    String,
    String,
    NaiveDateTime,
    Option<String>,
    String,
    String,
);

/// A plan's revisions, oldest first.
pub fn revisions_of(conn: &mut DbConnection, plan: i64) -> Result<Vec<PlanRevision>, StoreError> {
    let rows: Vec<RevisionRow> = pr::table
        .filter(pr::plan_id.eq(plan))
        .select((
            pr::number,
            pr::action,
            pr::author,
            pr::at,
            pr::comment,
            pr::status,
            pr::body,
        ))
        .order(pr::number)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| PlanRevision {
            number: r.0,
            action: r.1,
            author: r.2,
            at: r.3.and_utc(),
            comment: r.4,
            status: r.5,
            body: r.6,
        })
        .collect())
}

/// A plan as it is to be written.
#[derive(Debug, Clone)]
pub struct PlanWrite<'a> {
    pub owner: &'a str,
    pub unit: &'a str,
    pub province: &'a str,
    pub first_year: i32,
    pub last_year: i32,
    pub status: &'a str,
    pub body: &'a str,
    pub action: &'a str,
    pub author: &'a str,
    pub at: DateTime<Utc>,
    pub comment: Option<&'a str>,
}

/// Writes a plan's next revision with its change-log entry, in one transaction: a new plan when
/// `base` is `None`, else only if plan `base.0` is still at revision `base.1` (`Ok(None)` when it
/// is not). A new plan that meets another at its unique key fails with a unique violation.
pub fn write(
    conn: &mut DbConnection,
    base: Option<(i64, i32)>,
    w: &PlanWrite<'_>,
    change: &NewChange<'_>,
) -> Result<Option<i32>, StoreError> {
    crate::transaction(conn, |conn| {
        let (id, number) = match base {
            None => {
                let id: i64 = diesel::insert_into(p::table)
                    .values((
                        p::owner.eq(w.owner),
                        p::unit.eq(w.unit),
                        p::province_code.eq(w.province),
                        p::first_year.eq(w.first_year),
                        p::last_year.eq(w.last_year),
                        p::revision.eq(1),
                        p::status.eq(w.status),
                        p::body.eq(w.body),
                        p::updated_by.eq(w.author),
                        p::updated_at.eq(w.at.naive_utc()),
                    ))
                    .returning(p::id)
                    .get_result(conn)?;
                (id, 1)
            }
            Some((id, revision)) => {
                let changed = diesel::update(
                    p::table
                        .filter(p::id.eq(id))
                        .filter(p::revision.eq(revision)),
                )
                .set((
                    p::last_year.eq(w.last_year),
                    p::revision.eq(revision + 1),
                    p::status.eq(w.status),
                    p::body.eq(w.body),
                    p::updated_by.eq(w.author),
                    p::updated_at.eq(w.at.naive_utc()),
                ))
                .execute(conn)?;
                if changed == 0 {
                    return Ok(None);
                }
                (id, revision + 1)
            }
        };
        diesel::insert_into(pr::table)
            .values((
                pr::plan_id.eq(id),
                pr::number.eq(number),
                pr::action.eq(w.action),
                pr::author.eq(w.author),
                pr::at.eq(w.at.naive_utc()),
                pr::comment.eq(w.comment),
                pr::status.eq(w.status),
                pr::body.eq(w.body),
            ))
            .execute(conn)?;
        crate::changes::record(conn, change)?;
        Ok(Some(number))
    })
}

/// The plan part of report `report` as of revision `revision` (the latest row at or before it).
pub fn progress_at(
    conn: &mut DbConnection,
    report: i64,
    revision: i32,
) -> Result<Option<String>, StoreError> {
    Ok(rp::table
        .filter(rp::report_id.eq(report))
        .filter(rp::revision.le(revision))
        .order(rp::revision.desc())
        .select(rp::body)
        .first(conn)
        .optional()?)
}

/// Every stored plan part of report `report`, by revision.
pub fn progress_history(
    conn: &mut DbConnection,
    report: i64,
) -> Result<Vec<(i32, String)>, StoreError> {
    Ok(rp::table
        .filter(rp::report_id.eq(report))
        .order(rp::revision)
        .select((rp::revision, rp::body))
        .load(conn)?)
}

/// Writes the plan part of revision `revision` of report `report`.
pub fn write_progress(
    conn: &mut DbConnection,
    report: i64,
    revision: i32,
    body: &str,
) -> Result<(), StoreError> {
    diesel::insert_into(rp::table)
        .values((
            rp::report_id.eq(report),
            rp::revision.eq(revision),
            rp::body.eq(body),
        ))
        .execute(conn)?;
    Ok(())
}

/// One stored plan part, with its report and when its revision was received.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressRow {
    pub commune: String,
    pub dataset: String,
    pub period: String,
    pub revision: i32,
    pub received_at: DateTime<Utc>,
    pub body: String,
}

/// Every plan part stored for the communes of `province` (all communes when `None`, one commune
/// when `commune` is given), every revision of it, oldest first.
pub fn progress_rows(
    conn: &mut DbConnection,
    province: Option<&str>,
    commune: Option<&str>,
) -> Result<Vec<ProgressRow>, StoreError> {
    let mut q = rp::table
        .inner_join(reports::table.on(reports::id.eq(rp::report_id)))
        .inner_join(
            revisions::table.on(revisions::report_id
                .eq(rp::report_id)
                .and(revisions::number.eq(rp::revision))),
        )
        .inner_join(communes::table.on(communes::code.eq(reports::commune_code)))
        .select((
            reports::commune_code,
            reports::dataset_code,
            reports::period,
            rp::revision,
            revisions::received_at,
            rp::body,
        ))
        .into_boxed();
    if let Some(pv) = province {
        q = q.filter(communes::province_code.eq(pv.to_owned()));
    }
    if let Some(c) = commune {
        q = q.filter(reports::commune_code.eq(c.to_owned()));
    }
    let rows: Vec<(String, String, String, i32, NaiveDateTime, String)> = q
        .order((reports::commune_code, revisions::received_at, rp::revision))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| ProgressRow {
            commune: r.0,
            dataset: r.1,
            period: r.2,
            revision: r.3,
            received_at: r.4.and_utc(),
            body: r.5,
        })
        .collect())
}
