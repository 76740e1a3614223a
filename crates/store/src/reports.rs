//! Reports, their revisions, their review and their openings: reading and writing only. The
//! rules (what may be written, when a report is locked) are the application's; it calls these
//! functions inside one transaction (see `innoreport_service::reports`).
//!
//! Nothing is ever updated in place except the report row: every change is a new revision with
//! its full set of values, and the report row carries a copy of the current values (written in
//! the same transaction), so a submission reads what it changes, and a live view catches up,
//! with one row per report.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use innoreport_core::validation::Values;
use innoreport_core::{ReportStatus, ReviewAction};

use crate::db::DbConnection;
use crate::schema::{report_openings, report_reviews, reports, revision_values, revisions};
use crate::{StoreError, with_backend};

pub(crate) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// Stored to the microsecond on both backends.
pub(crate) fn stored(t: DateTime<Utc>) -> NaiveDateTime {
    chrono::SubsecRound::trunc_subsecs(t, 6).naive_utc()
}

/// The current values as stored on the report row (JSON object).
pub fn decode_values(id: i64, text: &str) -> Result<Values, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("current values of report {id}: {e}")))
}

fn encode_values(values: &Values) -> String {
    serde_json::to_string(values).expect("numbers serialise")
}

/// A report as a submission sees it: its key, its state and its current values.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReport {
    pub id: i64,
    pub revision: i32,
    pub status: ReportStatus,
    pub reopened: bool,
    pub first_received_at: DateTime<Utc>,
    pub values: Values,
}

#[derive(Queryable)]
struct StoredRow {
    id: i64,
    revision: i32,
    status: String,
    reopened: bool,
    first_received_at: NaiveDateTime,
    current_values: String,
}

impl StoredRow {
    fn decode(self) -> Result<StoredReport, StoreError> {
        Ok(StoredReport {
            status: self.status.parse().map_err(StoreError::Corrupt)?,
            values: decode_values(self.id, &self.current_values)?,
            id: self.id,
            revision: self.revision,
            reopened: self.reopened,
            first_received_at: utc(self.first_received_at),
        })
    }
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

/// Serialises writers of one report for the rest of the transaction (a transaction-scoped
/// advisory lock on PostgreSQL, the write lock on SQLite), so revision numbers are consecutive
/// and none is lost.
pub fn lock(
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

/// A report's state and current values, if it exists.
pub fn find(
    conn: &mut DbConnection,
    dataset: &str,
    period: &str,
    commune: &str,
) -> Result<Option<StoredReport>, StoreError> {
    let row: Option<StoredRow> = reports::table
        .filter(reports::dataset_code.eq(dataset))
        .filter(reports::period.eq(period))
        .filter(reports::commune_code.eq(commune))
        .select((
            reports::id,
            reports::current_revision,
            reports::status,
            reports::reopened,
            reports::first_received_at,
            reports::current_values,
        ))
        .first(conn)
        .optional()?;
    row.map(StoredRow::decode).transpose()
}

/// The report, locked for the rest of the transaction (None: there is none yet), with the
/// current values of at most `history` of the same commune's earlier reports of the data set,
/// latest first, when they came along (on PostgreSQL, in the same statement; else `None`: ask
/// [`history`]). On PostgreSQL the report's row is locked (`FOR UPDATE` reads the latest
/// committed version after any writer before it), so writers of one report follow one another
/// and no revision is lost; two first submissions of one report meet at its unique key instead
/// (see [`is_unique_violation`]). On SQLite the database's single write lock is taken first.
pub fn find_for_update(
    conn: &mut DbConnection,
    dataset: &str,
    period: &str,
    commune: &str,
    history: i64,
) -> Result<(Option<StoredReport>, Option<Vec<Values>>), StoreError> {
    match conn {
        DbConnection::Pg(c) => find_pg(c, dataset, period, commune, history, true),
        DbConnection::Sqlite(_) => {
            lock(conn, dataset, period, commune)?;
            Ok((find(conn, dataset, period, commune)?, None))
        }
    }
}

/// PostgreSQL: the report as it stands now, without a lock, with its commune's earlier values
/// when there is a report (see [`find_for_update`]); for a write that then applies only if the
/// report is still so ([`write_revision_if_unchanged`]).
pub fn find_with_history(
    c: &mut diesel::PgConnection,
    dataset: &str,
    period: &str,
    commune: &str,
    history: i64,
) -> Result<(Option<StoredReport>, Option<Vec<Values>>), StoreError> {
    find_pg(c, dataset, period, commune, history, false)
}

fn find_pg(
    c: &mut diesel::PgConnection,
    dataset: &str,
    period: &str,
    commune: &str,
    history: i64,
    lock: bool,
) -> Result<(Option<StoredReport>, Option<Vec<Values>>), StoreError> {
    use crate::prepared::{Bind, Prepared};
    use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text, Timestamp};
    macro_rules! select {
        () => {
            "SELECT r.id, r.current_revision, r.status, r.reopened, r.first_received_at, \
             r.current_values, \
             (SELECT array_agg(h.current_values ORDER BY h.period DESC) \
              FROM (SELECT period, current_values FROM reports h WHERE h.commune_code = r.commune_code \
                    AND h.dataset_code = r.dataset_code AND h.period < r.period \
                    ORDER BY h.period DESC LIMIT ?) h) \
             FROM reports r WHERE r.dataset_code = ? AND r.period = ? AND r.commune_code = ?"
        };
    }
    const LOCKED: &str = concat!(select!(), " FOR UPDATE OF r");
    const UNLOCKED: &str = select!();
    type Row = (
        i64,
        i32,
        String,
        bool,
        NaiveDateTime,
        String,
        Option<Vec<String>>,
    );
    let row: Option<Row> = Prepared::<(
        BigInt,
        Integer,
        Text,
        Bool,
        Timestamp,
        Text,
        Nullable<Array<Text>>,
    )>::new(
        if lock { LOCKED } else { UNLOCKED },
        vec![
            Bind::BigInt(history),
            Bind::Text(dataset),
            Bind::Text(period),
            Bind::Text(commune),
        ],
    )
    .get_result(c)
    .optional()?;
    let Some((id, revision, status, reopened, first, current, earlier)) = row else {
        return Ok((None, None));
    };
    let report = StoredRow {
        id,
        revision,
        status,
        reopened,
        first_received_at: first,
        current_values: current,
    }
    .decode()?;
    let earlier = earlier
        .unwrap_or_default()
        .iter()
        .map(|text| decode_values(id, text))
        .collect::<Result<Vec<Values>, _>>()?;
    Ok((Some(report), Some(earlier)))
}

/// True when `e` is a unique key violation: on PostgreSQL, another transaction stored the
/// same new report first (the transaction is then aborted; retrying it finds the report).
pub fn is_unique_violation(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _
        ))
    )
}

/// The current values of a commune's latest reports of a data set before `before` (periods of
/// one kind sort as their text does), newest first, at most `limit`: one index range.
pub fn history(
    conn: &mut DbConnection,
    commune: &str,
    dataset: &str,
    before: &str,
    limit: i64,
) -> Result<Vec<Values>, StoreError> {
    let rows: Vec<(i64, String)> = reports::table
        .filter(reports::commune_code.eq(commune))
        .filter(reports::dataset_code.eq(dataset))
        .filter(reports::period.lt(before))
        .order(reports::period.desc())
        .limit(limit)
        .select((reports::id, reports::current_values))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, text)| decode_values(id, &text))
        .collect()
}

/// A new revision to store.
#[derive(Debug, Clone)]
pub struct NewRevision<'a> {
    /// The report it changes (None: the report's first revision).
    pub report: Option<&'a StoredReport>,
    pub dataset: &'a str,
    pub period: &'a str,
    pub commune: &'a str,
    /// Whether a new report starts reopened (the province opened it after its lock).
    pub reopened: bool,
    pub author: &'a str,
    pub comment: Option<&'a str>,
    pub at: DateTime<Utc>,
    /// The report's values after the change (all of them).
    pub values: &'a Values,
}

/// What [`write_revision`] stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub report_id: i64,
    pub revision: i32,
    /// The stored receipt instant (microseconds).
    pub at: DateTime<Utc>,
}

/// Stores a revision: the report row (created, or moved to the new revision with status
/// `submitted`), the revision and its values. Call inside a transaction after [`lock`].
pub fn write_revision(
    conn: &mut DbConnection,
    rev: &NewRevision<'_>,
) -> Result<Written, StoreError> {
    let at = stored(rev.at);
    let number = rev.report.map_or(0, |r| r.revision) + 1;
    let current = encode_values(rev.values);
    if let DbConnection::Pg(c) = conn {
        let report_id = write_revision_pg(c, rev, number, &at, &current, false)?
            .ok_or_else(|| StoreError::Corrupt("a locked report changed under its lock".into()))?;
        return Ok(Written {
            report_id,
            revision: number,
            at: utc(at),
        });
    }
    let report_id = match rev.report {
        Some(r) => {
            let update = diesel::update(reports::table.find(r.id)).set((
                reports::current_revision.eq(number),
                reports::updated_at.eq(at),
                reports::status.eq(ReportStatus::Submitted.as_str()),
                reports::current_values.eq(&current),
            ));
            match conn {
                DbConnection::Pg(c) => {
                    update.execute(c)?;
                    diesel::sql_query(
                        "UPDATE reports SET tx = (pg_current_xact_id()::text)::bigint WHERE id = $1",
                    )
                    .bind::<diesel::sql_types::BigInt, _>(r.id)
                    .execute(c)?;
                }
                DbConnection::Sqlite(c) => {
                    update.execute(c)?;
                    next_sqlite_tx(c, r.id)?;
                }
            }
            r.id
        }
        None => {
            let insert = diesel::insert_into(reports::table)
                .values((
                    reports::dataset_code.eq(rev.dataset),
                    reports::period.eq(rev.period),
                    reports::commune_code.eq(rev.commune),
                    reports::current_revision.eq(number),
                    reports::status.eq(ReportStatus::Submitted.as_str()),
                    reports::first_received_at.eq(at),
                    reports::updated_at.eq(at),
                    reports::reopened.eq(rev.reopened),
                    reports::current_values.eq(&current),
                ))
                .returning(reports::id);
            match conn {
                // `tx` defaults to the writing transaction on PostgreSQL.
                DbConnection::Pg(c) => insert.get_result::<i64>(c)?,
                DbConnection::Sqlite(c) => {
                    let id = insert.get_result::<i64>(c)?;
                    next_sqlite_tx(c, id)?;
                    id
                }
            }
        }
    };
    let insert = diesel::insert_into(revisions::table)
        .values((
            revisions::report_id.eq(report_id),
            revisions::number.eq(number),
            revisions::author.eq(rev.author),
            revisions::received_at.eq(at),
            revisions::comment.eq(rev.comment),
        ))
        .returning(revisions::id);
    let revision_id: i64 = with_backend!(conn, c => insert.get_result::<i64>(c))?;
    let rows: Vec<_> = rev
        .values
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
    Ok(Written {
        report_id,
        revision: number,
        at: utc(at),
    })
}

/// PostgreSQL, outside any lock: writes the revision only if the report is still as
/// `rev.report` says it was read (same revision, status and reopening; for a new report: still
/// none), in one statement that commits on its own. `None` when it changed meanwhile: read it
/// again and decide again.
pub fn write_revision_if_unchanged(
    c: &mut diesel::PgConnection,
    rev: &NewRevision<'_>,
) -> Result<Option<Written>, StoreError> {
    let at = stored(rev.at);
    let number = rev.report.map_or(0, |r| r.revision) + 1;
    let current = encode_values(rev.values);
    Ok(
        write_revision_pg(c, rev, number, &at, &current, true)?.map(|report_id| Written {
            report_id,
            revision: number,
            at: utc(at),
        }),
    )
}

/// PostgreSQL: the report row, its revision and the revision's values in one statement (one
/// round trip, a plan kept prepared); returns the report's id. With `guarded`, nothing is
/// written (and `None` returned) when the report is no longer as read.
fn write_revision_pg(
    c: &mut diesel::PgConnection,
    rev: &NewRevision<'_>,
    number: i32,
    at: &NaiveDateTime,
    current: &str,
    guarded: bool,
) -> Result<Option<i64>, StoreError> {
    use crate::prepared::{Bind, Prepared};
    use diesel::sql_types::BigInt;
    let codes: Vec<String> = rev.values.keys().cloned().collect();
    let values: Vec<f64> = rev.values.values().copied().collect();
    // The report row `nr`, then the revision and its values after it.
    macro_rules! update {
        () => {
            "WITH nr AS (UPDATE reports SET current_revision = ?, updated_at = ?, status = ?, \
             current_values = ?, tx = (pg_current_xact_id()::text)::bigint WHERE id = ?"
        };
    }
    macro_rules! insert {
        () => {
            "WITH nr AS (INSERT INTO reports (dataset_code, period, commune_code, current_revision, \
             status, first_received_at, updated_at, reopened, current_values) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        };
    }
    macro_rules! revision_and_values {
        () => {
            " RETURNING id), \
             rev AS (INSERT INTO revisions (report_id, number, author, received_at, comment) \
             SELECT id, ?, ?, ?, ? FROM nr RETURNING id), \
             vals AS (INSERT INTO revision_values (revision_id, indicator_code, value) \
             SELECT rev.id, v.code, v.value FROM rev, unnest(?::text[], ?::float8[]) AS v(code, value)) \
             SELECT id FROM nr"
        };
    }
    let tail = [
        Bind::Int(number),
        Bind::Text(rev.author),
        Bind::Timestamp(at),
        Bind::NullableText(rev.comment),
        Bind::Texts(&codes),
        Bind::Doubles(&values),
    ];
    let submitted = ReportStatus::Submitted.as_str();
    let id = match rev.report {
        Some(r) => {
            const PLAIN: &str = concat!(update!(), revision_and_values!());
            const GUARDED: &str = concat!(
                update!(),
                " AND current_revision = ? AND status = ? AND reopened = ?",
                revision_and_values!()
            );
            let mut binds = vec![
                Bind::Int(number),
                Bind::Timestamp(at),
                Bind::Text(submitted),
                Bind::Text(current),
                Bind::BigInt(r.id),
            ];
            if guarded {
                binds.extend([
                    Bind::Int(r.revision),
                    Bind::Text(r.status.as_str()),
                    Bind::Bool(r.reopened),
                ]);
            }
            binds.extend(tail);
            Prepared::<BigInt>::new(if guarded { GUARDED } else { PLAIN }, binds)
                .get_result::<i64>(c)
                .optional()?
        }
        None => {
            // `tx` defaults to the writing transaction.
            const PLAIN: &str = concat!(insert!(), revision_and_values!());
            const GUARDED: &str = concat!(
                insert!(),
                " ON CONFLICT (dataset_code, period, commune_code) DO NOTHING",
                revision_and_values!()
            );
            let mut binds = vec![
                Bind::Text(rev.dataset),
                Bind::Text(rev.period),
                Bind::Text(rev.commune),
                Bind::Int(number),
                Bind::Text(submitted),
                Bind::Timestamp(at),
                Bind::Timestamp(at),
                Bind::Bool(rev.reopened),
                Bind::Text(current),
            ];
            binds.extend(tail);
            Prepared::<BigInt>::new(if guarded { GUARDED } else { PLAIN }, binds)
                .get_result::<i64>(c)
                .optional()?
        }
    };
    Ok(id)
}

/// SQLite: the next change number (one writer at a time, so numbers follow commit order).
fn next_sqlite_tx(c: &mut diesel::SqliteConnection, id: i64) -> Result<(), StoreError> {
    diesel::sql_query(
        "UPDATE reports SET tx = (SELECT COALESCE(MAX(tx), 0) + 1 FROM reports) WHERE id = ?",
    )
    .bind::<diesel::sql_types::BigInt, _>(id)
    .execute(c)?;
    Ok(())
}

/// Sets a report's review state.
pub fn set_status(
    conn: &mut DbConnection,
    report_id: i64,
    status: ReportStatus,
    reopened: bool,
) -> Result<(), StoreError> {
    diesel::update(reports::table.find(report_id))
        .set((
            reports::status.eq(status.as_str()),
            reports::reopened.eq(reopened),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records a review action (also the opening of a report never filed, as a `reopen` at
/// revision 0).
pub fn record_review(
    conn: &mut DbConnection,
    report_id: i64,
    action: ReviewAction,
    actor: &str,
    comment: Option<&str>,
    revision: i32,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(report_reviews::table)
        .values((
            report_reviews::report_id.eq(report_id),
            report_reviews::action.eq(action.as_str()),
            report_reviews::actor.eq(actor),
            report_reviews::comment.eq(comment),
            report_reviews::revision.eq(revision),
            report_reviews::created_at.eq(stored(at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// The province's opening of a report never filed.
#[derive(Debug, Clone, PartialEq)]
pub struct Opening {
    pub dataset: String,
    pub period: String,
    pub commune: String,
    pub actor: String,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

/// The opening of a report never filed, if the province opened it.
pub fn opening(
    conn: &mut DbConnection,
    dataset: &str,
    period: &str,
    commune: &str,
) -> Result<Option<Opening>, StoreError> {
    let row: Option<(String, Option<String>, NaiveDateTime)> = report_openings::table
        .find((dataset, period, commune))
        .select((
            report_openings::actor,
            report_openings::comment,
            report_openings::created_at,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(actor, comment, at)| Opening {
        dataset: dataset.to_owned(),
        period: period.to_owned(),
        commune: commune.to_owned(),
        actor,
        comment,
        at: utc(at),
    }))
}

/// Records an opening; an existing opening is kept (and returned).
pub fn open(conn: &mut DbConnection, o: &Opening) -> Result<Opening, StoreError> {
    if let Some(existing) = opening(conn, &o.dataset, &o.period, &o.commune)? {
        return Ok(existing);
    }
    diesel::insert_into(report_openings::table)
        .values((
            report_openings::dataset_code.eq(&o.dataset),
            report_openings::period.eq(&o.period),
            report_openings::commune_code.eq(&o.commune),
            report_openings::actor.eq(&o.actor),
            report_openings::comment.eq(&o.comment),
            report_openings::created_at.eq(stored(o.at)),
        ))
        .execute(conn)?;
    Ok(Opening {
        at: utc(stored(o.at)),
        ..o.clone()
    })
}

pub use crate::report_reads::*;
