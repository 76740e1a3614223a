//! Values the server generates once and every replica shares.

use diesel::prelude::*;

use crate::StoreError;
use crate::db::DbConnection;
use crate::schema::server_settings;

pub fn get_setting(conn: &mut DbConnection, name: &str) -> Result<Option<String>, StoreError> {
    Ok(server_settings::table
        .find(name)
        .select(server_settings::value)
        .first(conn)
        .optional()?)
}

/// The stored value of `name`, created with `make` when absent. Replicas racing to create it
/// all end up with the first one stored.
pub fn get_or_create_setting(
    conn: &mut DbConnection,
    name: &str,
    make: impl FnOnce() -> String,
) -> Result<(String, bool), StoreError> {
    if let Some(v) = get_setting(conn, name)? {
        return Ok((v, false));
    }
    let value = make();
    let inserted = diesel::insert_into(server_settings::table)
        .values((
            server_settings::name.eq(name),
            server_settings::value.eq(&value),
            server_settings::created_at.eq(chrono::Utc::now().naive_utc()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok((value, true)),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => {
            let v = get_setting(conn, name)?
                .ok_or_else(|| StoreError::Corrupt(format!("setting {name} vanished")))?;
            Ok((v, false))
        }
        Err(e) => Err(e.into()),
    }
}
