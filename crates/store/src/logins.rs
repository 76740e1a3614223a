//! Failed sign-ins per username and source address (shared by every replica).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::StoreError;
use crate::db::DbConnection;
use crate::schema::login_failures;

/// The failures recorded for a username from a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub failures: i32,
    pub last_failure: DateTime<Utc>,
    pub blocked_until: Option<DateTime<Utc>>,
}

pub fn failures(
    conn: &mut DbConnection,
    username: &str,
    source: &str,
) -> Result<Option<Failures>, StoreError> {
    let row: Option<(i32, NaiveDateTime, Option<NaiveDateTime>)> = login_failures::table
        .find((username, source))
        .select((
            login_failures::failures,
            login_failures::last_failure,
            login_failures::blocked_until,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(failures, last, blocked)| Failures {
        failures,
        last_failure: last.and_utc(),
        blocked_until: blocked.map(|t| t.and_utc()),
    }))
}

/// Stores the failures of a username from a source.
pub fn set_failures(
    conn: &mut DbConnection,
    username: &str,
    source: &str,
    f: &Failures,
) -> Result<(), StoreError> {
    crate::transaction(conn, |conn| {
        diesel::delete(login_failures::table.find((username, source))).execute(conn)?;
        diesel::insert_into(login_failures::table)
            .values((
                login_failures::username.eq(username),
                login_failures::source.eq(source),
                login_failures::failures.eq(f.failures),
                login_failures::last_failure.eq(f.last_failure.naive_utc()),
                login_failures::blocked_until.eq(f.blocked_until.map(|t| t.naive_utc())),
            ))
            .execute(conn)?;
        Ok::<_, StoreError>(())
    })
}

/// Forgets the failures of a username from a source (after a successful sign-in).
pub fn clear(conn: &mut DbConnection, username: &str, source: &str) -> Result<(), StoreError> {
    diesel::delete(login_failures::table.find((username, source))).execute(conn)?;
    Ok(())
}

/// Forgets failures older than `before` (housekeeping, so the table stays small).
pub fn forget_before(conn: &mut DbConnection, before: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        login_failures::table.filter(login_failures::last_failure.lt(before.naive_utc())),
    )
    .execute(conn)?)
}
