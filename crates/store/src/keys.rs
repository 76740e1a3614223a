//! Integration keys: named read-only credentials of machines, stored as the hash of their
//! secret. Created and revoked with their change-log entry in one transaction; never deleted.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::StoreError;
use crate::changes::NewChange;
use crate::db::DbConnection;
use crate::schema::integration_keys as k;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = k)]
pub struct KeyRow {
    pub id: i64,
    pub public_id: String,
    pub name: String,
    pub province_code: Option<String>,
    pub secret_hash: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = k, treat_none_as_default_value = false)]
pub struct NewKey {
    pub public_id: String,
    pub name: String,
    pub province_code: Option<String>,
    pub secret_hash: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub revoked_by: Option<String>,
}

/// Creates a key and records `change`, in one transaction.
pub fn create_key_logged(
    conn: &mut DbConnection,
    key: &NewKey,
    change: &NewChange<'_>,
) -> Result<KeyRow, StoreError> {
    crate::transaction(conn, |conn| {
        diesel::insert_into(k::table).values(key).execute(conn)?;
        crate::changes::record(conn, change)?;
        find_key(conn, &key.public_id)?
            .ok_or_else(|| StoreError::Corrupt("a key just written is missing".into()))
    })
}

/// The key of this public id.
pub fn find_key(conn: &mut DbConnection, public_id: &str) -> Result<Option<KeyRow>, StoreError> {
    Ok(k::table
        .filter(k::public_id.eq(public_id))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()?)
}

/// Keys of `province` (`Some(None)`: the national ones; `None`: all), oldest first.
pub fn list_keys(
    conn: &mut DbConnection,
    province: Option<Option<&str>>,
) -> Result<Vec<KeyRow>, StoreError> {
    let mut q = k::table
        .select(KeyRow::as_select())
        .order(k::id)
        .into_boxed();
    match province {
        None => {}
        Some(None) => q = q.filter(k::province_code.is_null()),
        Some(Some(p)) => q = q.filter(k::province_code.eq(p.to_owned())),
    }
    Ok(q.load(conn)?)
}

/// Marks a key revoked (if it is not already) and records `change`, in one transaction.
/// Returns whether it was revoked now.
pub fn revoke_key_logged(
    conn: &mut DbConnection,
    public_id: &str,
    by: &str,
    at: DateTime<Utc>,
    change: &NewChange<'_>,
) -> Result<bool, StoreError> {
    crate::transaction(conn, |conn| {
        let n = diesel::update(
            k::table
                .filter(k::public_id.eq(public_id))
                .filter(k::revoked_at.is_null()),
        )
        .set((
            k::revoked_at.eq(Some(at.naive_utc())),
            k::revoked_by.eq(Some(by)),
        ))
        .execute(conn)?;
        if n == 1 {
            crate::changes::record(conn, change)?;
        }
        Ok(n == 1)
    })
}

/// Records that a key was used at `at`.
pub fn touch_key(
    conn: &mut DbConnection,
    public_id: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(k::table.filter(k::public_id.eq(public_id)))
        .set(k::last_used_at.eq(Some(at.naive_utc())))
        .execute(conn)?;
    Ok(())
}
