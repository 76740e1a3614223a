//! The change log: who changed what outside the reports (a report's history is its revisions
//! and review records). Targets, the index framework and logins write an entry in the same
//! transaction as the change; entries are never updated or deleted.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::StoreError;
use crate::db::DbConnection;
use crate::schema::change_log;

/// One change to record.
#[derive(Debug, Clone)]
pub struct NewChange<'a> {
    pub at: DateTime<Utc>,
    pub actor: &'a str,
    /// `targets.set`, `framework.replace`, `user.create`.
    pub action: &'a str,
    /// The province the change belongs to (`None`: national, e.g. the framework).
    pub province: Option<&'a str>,
    pub commune: Option<&'a str>,
    /// What was changed, e.g. `2026/03808` or a username.
    pub subject: String,
    /// The change itself as JSON (old and new values).
    pub detail: serde_json::Value,
}

/// A recorded change.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub province: Option<String>,
    pub commune: Option<String>,
    pub subject: String,
    pub detail: serde_json::Value,
}

/// Whose changes a reader sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// A province's changes, and with `national` the national ones (the framework, national
    /// logins) too.
    Province {
        code: String,
        national: bool,
    },
    /// A commune's changes (its targets and reports), without the administration of its logins
    /// and tokens, which is its managers' business.
    Commune(String),
}

pub fn record(conn: &mut DbConnection, change: &NewChange<'_>) -> Result<(), StoreError> {
    crate::with_backend!(conn, c => diesel::insert_into(change_log::table)
        .values((
            change_log::at.eq(change.at.naive_utc()),
            change_log::actor.eq(change.actor),
            change_log::action.eq(change.action),
            change_log::province_code.eq(change.province),
            change_log::commune_code.eq(change.commune),
            change_log::subject.eq(&change.subject),
            change_log::detail.eq(change.detail.to_string()),
        ))
        .execute(c))?;
    Ok(())
}

type Raw = (
    i64,
    NaiveDateTime,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
);

/// Changes in `scope`, oldest first, after the id `after`, at most `limit`.
pub fn list_changes(
    conn: &mut DbConnection,
    scope: &Scope,
    action: Option<&str>,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<ChangeRow>, StoreError> {
    let mut q = change_log::table
        .select((
            change_log::id,
            change_log::at,
            change_log::actor,
            change_log::action,
            change_log::province_code,
            change_log::commune_code,
            change_log::subject,
            change_log::detail,
        ))
        .order(change_log::id)
        .limit(limit)
        .into_boxed();
    match scope {
        Scope::All => {}
        Scope::Province {
            code,
            national: true,
        } => {
            q = q.filter(
                change_log::province_code
                    .eq(code.clone())
                    .or(change_log::province_code.is_null()),
            )
        }
        Scope::Province {
            code,
            national: false,
        } => q = q.filter(change_log::province_code.eq(code.clone())),
        Scope::Commune(c) => {
            q = q
                .filter(change_log::commune_code.eq(c.clone()))
                .filter(change_log::action.not_like("user.%"))
                .filter(change_log::action.not_like("token.%"))
        }
    }
    if let Some(a) = action {
        q = q.filter(change_log::action.eq(a.to_owned()));
    }
    if let Some(id) = after {
        q = q.filter(change_log::id.gt(id));
    }
    let rows: Vec<Raw> = q.load(conn)?;
    rows.into_iter()
        .map(
            |(id, at, actor, action, province, commune, subject, detail)| {
                Ok(ChangeRow {
                    id,
                    at: at.and_utc(),
                    actor,
                    action,
                    province,
                    commune,
                    subject,
                    detail: serde_json::from_str(&detail)
                        .map_err(|e| StoreError::Corrupt(format!("change {id}: {e}")))?,
                })
            },
        )
        .collect()
}
