//! What in-memory views of current values read to stay up to date.
//!
//! A view keeps a cursor and asks for the reports whose current values changed since it: each
//! report row carries its current values and `tx`, the change that last wrote them. On SQLite
//! (one writer at a time) `tx` is a sequence that follows commit order, so the cursor is the
//! highest seen. On PostgreSQL `tx` is the writing transaction's id, and ids can commit out of
//! order, so the cursor is the oldest transaction still running at the previous read
//! (`pg_snapshot_xmin`): everything at or above it is read again, which is idempotent, and
//! nothing that commits late is skipped.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use innoreport_core::validation::Values;

use crate::StoreError;
use crate::db::DbConnection;
use crate::schema::reports;

/// A report's current state, as a view needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportState {
    pub report_id: i64,
    pub dataset: String,
    pub period: String,
    pub commune: String,
    pub first_received_at: DateTime<Utc>,
    pub values: Values,
}

#[derive(QueryableByName)]
struct Xmin {
    #[diesel(sql_type = BigInt)]
    xmin: i64,
}

/// The cursor a read starting now may take: on PostgreSQL the oldest transaction still running
/// (everything it or a later one writes is read again next time); on SQLite none (the cursor is
/// the highest change number read).
fn horizon(conn: &mut DbConnection) -> Result<Option<i64>, StoreError> {
    Ok(match conn {
        DbConnection::Pg(c) => Some(
            diesel::sql_query(
                "SELECT (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint AS xmin",
            )
            .get_result::<Xmin>(c)?
            .xmin,
        ),
        DbConnection::Sqlite(_) => None,
    })
}

type StateRow = (
    i64,
    String,
    String,
    String,
    NaiveDateTime,
    String,
    Option<i64>,
);

fn state_of(row: StateRow) -> Result<ReportState, StoreError> {
    let (report_id, dataset, period, commune, first, current, _) = row;
    Ok(ReportState {
        values: crate::reports::decode_values(report_id, &current)?,
        report_id,
        dataset,
        period,
        commune,
        first_received_at: first.and_utc(),
    })
}

/// Every report, frame by frame: for each (data set, period), its reports, handed to `each`
/// before the next are read, so a view starting from nothing never holds more than one
/// period's rows besides what it builds. Returns the cursor for [`changes_since`].
pub fn load_all(
    conn: &mut DbConnection,
    mut each: impl FnMut(Vec<ReportState>) -> Result<(), StoreError>,
) -> Result<i64, StoreError> {
    let horizon = horizon(conn)?;
    // SQLite: every change up to the highest number now; later ones are read as changes.
    let upper: i64 = match horizon {
        Some(_) => i64::MAX,
        None => reports::table
            .select(diesel::dsl::max(reports::tx))
            .first::<Option<i64>>(conn)?
            .unwrap_or(0),
    };
    let keys: Vec<(String, String)> = reports::table
        .select((reports::dataset_code, reports::period))
        .distinct()
        .order((reports::dataset_code, reports::period))
        .load(conn)?;
    for (dataset, period) in keys {
        let rows: Vec<StateRow> = reports::table
            .filter(reports::dataset_code.eq(&dataset))
            .filter(reports::period.eq(&period))
            .filter(reports::tx.le(upper))
            .select((
                reports::id,
                reports::dataset_code,
                reports::period,
                reports::commune_code,
                reports::first_received_at,
                reports::current_values,
                reports::tx,
            ))
            .load(conn)?;
        each(rows.into_iter().map(state_of).collect::<Result<_, _>>()?)?;
    }
    Ok(horizon.unwrap_or(upper))
}

/// The reports whose current values changed since `cursor` (0: all), and the next cursor.
pub fn changes_since(
    conn: &mut DbConnection,
    cursor: i64,
) -> Result<(Vec<ReportState>, i64), StoreError> {
    let horizon = horizon(conn)?;
    let mut query = reports::table
        .select((
            reports::id,
            reports::dataset_code,
            reports::period,
            reports::commune_code,
            reports::first_received_at,
            reports::current_values,
            reports::tx,
        ))
        .into_boxed();
    query = match horizon {
        Some(_) => query.filter(reports::tx.ge(cursor)),
        None => query.filter(reports::tx.gt(cursor)),
    };
    let rows: Vec<StateRow> = query.load(conn)?;
    let next = horizon.unwrap_or_else(|| rows.iter().filter_map(|r| r.6).max().unwrap_or(cursor));
    rows.into_iter()
        .map(state_of)
        .collect::<Result<Vec<_>, StoreError>>()
        .map(|states| (states, next))
}
