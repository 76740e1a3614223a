//! Logins: people and the service accounts of commune systems. Nothing here is ever deleted (a
//! revision names its author by username forever); a login is disabled instead.

use chrono::{DateTime, NaiveDateTime, Utc};
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
    pub created_at: NaiveDateTime,
    pub username_key: Option<String>,
    pub token_version: i32,
    pub updated_at: Option<NaiveDateTime>,
    /// Where its notices go (none: it gets none by email).
    pub email: Option<String>,
    /// `vi` or `en`: the language of its notices.
    pub language: String,
    /// Whether it wants reminders (notices of review actions are always sent).
    pub reminders: bool,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub struct NewUser {
    pub username: String,
    pub username_key: Option<String>,
    pub password_hash: String,
    pub role: String,
    pub province_code: Option<String>,
    pub commune_code: Option<String>,
    pub display_name: String,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
    pub token_version: i32,
    pub email: Option<String>,
    pub language: String,
    pub reminders: bool,
}

impl NewUser {
    /// A login named `username`, found by `key` (its folded form).
    pub fn new(
        username: &str,
        key: &str,
        password_hash: String,
        role: &str,
        province: Option<&str>,
        commune: Option<&str>,
        now: DateTime<Utc>,
    ) -> NewUser {
        NewUser {
            username: username.to_owned(),
            username_key: Some(key.to_owned()),
            password_hash,
            role: role.to_owned(),
            province_code: province.map(str::to_owned),
            commune_code: commune.map(str::to_owned),
            display_name: String::new(),
            disabled: false,
            created_at: now.naive_utc(),
            updated_at: Some(now.naive_utc()),
            token_version: 1,
            email: None,
            language: "vi".into(),
            reminders: true,
        }
    }
}

fn is_taken(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Creates a login; `Ok(false)` when the username (or its folded form) is taken.
pub fn create_user(conn: &mut DbConnection, user: &NewUser) -> Result<bool, StoreError> {
    match diesel::insert_into(users::table).values(user).execute(conn) {
        Ok(_) => Ok(true),
        Err(e) if is_taken(&e) => Ok(false),
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
    impl From<StoreError> for Stop {
        fn from(e: StoreError) -> Self {
            Stop::Failed(e)
        }
    }
    let done = crate::transaction(conn, |conn| {
        if !create_user(conn, user)? {
            return Err(Stop::Taken);
        }
        crate::changes::record(conn, change)?;
        Ok(())
    });
    match done {
        Ok(()) => Ok(true),
        Err(Stop::Taken) => Ok(false),
        Err(Stop::Failed(e)) => Err(e),
    }
}

/// The login of exactly this username.
pub fn find_user(conn: &mut DbConnection, username: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// The login whose folded username is `key`.
pub fn find_by_key(conn: &mut DbConnection, key: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table
        .filter(users::username_key.eq(key))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn count_users(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(users::table.count().get_result(conn)?)
}

/// Filters of the login list; `None` is "any".
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub role: Option<String>,
    /// Only logins of this province (and its communes).
    pub province: Option<String>,
    pub commune: Option<String>,
    pub disabled: Option<bool>,
    /// Only logins with a province (a province admin's view leaves national logins out).
    pub provincial_only: bool,
}

/// One page of logins by id, after `after`.
pub fn list_users(
    conn: &mut DbConnection,
    filter: &UserFilter,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<UserRow>, StoreError> {
    let mut q = users::table
        .select(UserRow::as_select())
        .order(users::id)
        .limit(limit)
        .into_boxed();
    if let Some(r) = &filter.role {
        q = q.filter(users::role.eq(r.clone()));
    }
    if let Some(p) = &filter.province {
        q = q.filter(users::province_code.eq(p.clone()));
    }
    if let Some(c) = &filter.commune {
        q = q.filter(users::commune_code.eq(c.clone()));
    }
    if let Some(d) = filter.disabled {
        q = q.filter(users::disabled.eq(d));
    }
    if filter.provincial_only {
        q = q.filter(users::province_code.is_not_null());
    }
    if let Some(a) = after {
        q = q.filter(users::id.gt(a));
    }
    Ok(q.load(conn)?)
}

/// What a change of a login sets (fields left `None` are kept).
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub role: Option<String>,
    /// `Some(None)` clears the province (a national role).
    pub province: Option<Option<String>>,
    pub commune: Option<Option<String>>,
    pub disabled: Option<bool>,
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
    /// `Some(None)` clears the email address.
    pub email: Option<Option<String>>,
    pub language: Option<String>,
    pub reminders: Option<bool>,
    /// Ends every token of the login.
    pub bump_version: bool,
}

/// Changes a login (by id) and records the change in the same transaction.
pub fn update_user_logged(
    conn: &mut DbConnection,
    id: i64,
    update: &UserUpdate,
    now: DateTime<Utc>,
    change: &crate::changes::NewChange<'_>,
) -> Result<(), StoreError> {
    crate::transaction(conn, |conn| {
        let target = users::table.find(id);
        if let Some(r) = &update.role {
            diesel::update(target)
                .set(users::role.eq(r))
                .execute(conn)?;
        }
        if let Some(p) = &update.province {
            diesel::update(target)
                .set(users::province_code.eq(p.clone()))
                .execute(conn)?;
        }
        if let Some(c) = &update.commune {
            diesel::update(target)
                .set(users::commune_code.eq(c.clone()))
                .execute(conn)?;
        }
        if let Some(d) = update.disabled {
            diesel::update(target)
                .set(users::disabled.eq(d))
                .execute(conn)?;
        }
        if let Some(n) = &update.display_name {
            diesel::update(target)
                .set(users::display_name.eq(n))
                .execute(conn)?;
        }
        if let Some(h) = &update.password_hash {
            diesel::update(target)
                .set(users::password_hash.eq(h))
                .execute(conn)?;
        }
        if let Some(e) = &update.email {
            diesel::update(target)
                .set(users::email.eq(e.clone()))
                .execute(conn)?;
        }
        if let Some(l) = &update.language {
            diesel::update(target)
                .set(users::language.eq(l))
                .execute(conn)?;
        }
        if let Some(r) = update.reminders {
            diesel::update(target)
                .set(users::reminders.eq(r))
                .execute(conn)?;
        }
        if update.bump_version {
            diesel::update(target)
                .set(users::token_version.eq(users::token_version + 1))
                .execute(conn)?;
        }
        diesel::update(target)
            .set(users::updated_at.eq(Some(now.naive_utc())))
            .execute(conn)?;
        crate::changes::record(conn, change)
    })
}
