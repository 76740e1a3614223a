//! Logins: people and the service accounts of commune systems.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::StoreError;
use crate::db::DbConnection;
use crate::schema::users;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub province_code: Option<String>,
    pub commune_code: Option<String>,
    pub display_name: String,
    pub disabled: bool,
    pub created_at: chrono::NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub province_code: Option<String>,
    pub commune_code: Option<String>,
    pub display_name: String,
    pub disabled: bool,
    pub created_at: chrono::NaiveDateTime,
}

impl NewUser {
    pub fn new(
        username: &str,
        password_hash: String,
        role: &str,
        province: Option<&str>,
        commune: Option<&str>,
        now: DateTime<Utc>,
    ) -> NewUser {
        NewUser {
            username: username.to_owned(),
            password_hash,
            role: role.to_owned(),
            province_code: province.map(str::to_owned),
            commune_code: commune.map(str::to_owned),
            display_name: String::new(),
            disabled: false,
            created_at: now.naive_utc(),
        }
    }
}

/// Creates a login; `Ok(false)` when the username is taken.
pub fn create_user(conn: &mut DbConnection, user: &NewUser) -> Result<bool, StoreError> {
    match diesel::insert_into(users::table).values(user).execute(conn) {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Creates a login and its change-log entry in one transaction; `Ok(false)` (nothing written)
/// when the username is taken.
pub fn create_user_logged(
    conn: &mut DbConnection,
    user: &NewUser,
    change: &crate::changes::NewChange<'_>,
) -> Result<bool, StoreError> {
    enum Stop {
        Taken,
        Failed(StoreError),
    }
    impl From<diesel::result::Error> for Stop {
        fn from(e: diesel::result::Error) -> Self {
            Stop::Failed(e.into())
        }
    }
    let done = conn.transaction::<_, Stop, _>(|conn| {
        if !create_user(conn, user).map_err(Stop::Failed)? {
            return Err(Stop::Taken);
        }
        crate::changes::record(conn, change).map_err(Stop::Failed)
    });
    match done {
        Ok(()) => Ok(true),
        Err(Stop::Taken) => Ok(false),
        Err(Stop::Failed(e)) => Err(e),
    }
}

pub fn find_user(conn: &mut DbConnection, username: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn count_users(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(users::table.count().get_result(conn)?)
}
