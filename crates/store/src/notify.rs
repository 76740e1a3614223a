//! The outbox of notifications and the webhooks they may go to.
//!
//! A message row is written once, under a `dedup` key naming what it is about and whom it is
//! for (a second write of the same key changes nothing), in the transaction of the change that
//! causes it or by the scheduler. Deliverers claim due rows for a lease: on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED`, so replicas never claim the same row; on SQLite the claim is a
//! conditional update, so a row whose lease another claimer took is not claimed twice. A row
//! whose deliverer died keeps its lease until it ends; then it is claimed again, with the same
//! idempotency key.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::StoreError;
use crate::db::DbConnection;
use crate::schema::{outbox as o, users, webhooks as w};

use crate::reports::stored;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = o)]
pub struct MessageRow {
    pub id: i64,
    pub dedup: String,
    pub idempotency_key: String,
    pub kind: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// Who it is for: `login:<username>` (its email address is read when sending) or
    /// `webhook:<id>`.
    pub recipient: String,
    pub webhook_id: Option<i64>,
    pub province_code: String,
    pub commune_code: Option<String>,
    /// The [`Content`] as JSON.
    pub message: String,
    pub created_at: NaiveDateTime,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i32,
    /// When it may be tried next (while claimed: the end of the claim's lease).
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
}

/// What a message says.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Content {
    /// `vi` or `en`.
    pub language: String,
    pub subject: String,
    pub body: String,
    /// The path of the page it is about (the deliverer prefixes the public URL).
    pub link: String,
    /// The facts, for a webhook receiver.
    pub data: serde_json::Value,
}

impl MessageRow {
    pub fn content(&self) -> Result<Content, StoreError> {
        serde_json::from_str(&self.message)
            .map_err(|e| StoreError::Corrupt(format!("outbox message {}: {e}", self.id)))
    }

    /// The username of a login recipient.
    pub fn login(&self) -> Option<&str> {
        self.recipient.strip_prefix("login:")
    }
}

#[derive(Debug, Clone, PartialEq, Insertable)]
#[diesel(table_name = o, treat_none_as_default_value = false)]
pub struct NewMessage {
    pub dedup: String,
    pub idempotency_key: String,
    pub kind: String,
    pub channel: String,
    pub recipient: String,
    pub webhook_id: Option<i64>,
    pub province_code: String,
    pub commune_code: Option<String>,
    pub message: String,
    pub created_at: NaiveDateTime,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
}

impl NewMessage {
    /// A pending message to `to`, due at once.
    #[allow(clippy::too_many_arguments)]
    pub fn pending(
        dedup: String,
        idempotency_key: String,
        kind: &str,
        to: &Recipient,
        province: &str,
        commune: Option<&str>,
        content: &Content,
        now: DateTime<Utc>,
    ) -> NewMessage {
        NewMessage {
            dedup,
            idempotency_key,
            kind: kind.to_owned(),
            channel: to.channel().to_owned(),
            recipient: to.label(),
            webhook_id: to.webhook_id,
            province_code: province.to_owned(),
            commune_code: commune.map(str::to_owned),
            message: serde_json::to_string(content).unwrap_or_default(),
            created_at: stored(now),
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: stored(now),
        }
    }
}

/// Writes messages whose dedup key is new; returns how many were written.
pub fn enqueue(conn: &mut DbConnection, messages: &[NewMessage]) -> Result<usize, StoreError> {
    let mut written = 0;
    for chunk in messages.chunks(200) {
        written += crate::with_backend!(conn, c => diesel::insert_into(o::table)
            .values(chunk)
            .on_conflict(o::dedup)
            .do_nothing()
            .execute(c))?;
    }
    Ok(written)
}

/// Which of `keys` are already in the outbox.
pub fn known(
    conn: &mut DbConnection,
    keys: &[String],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let mut found = std::collections::HashSet::new();
    for chunk in keys.chunks(500) {
        let rows: Vec<String> = o::table
            .filter(o::dedup.eq_any(chunk))
            .select(o::dedup)
            .load(conn)?;
        found.extend(rows);
    }
    Ok(found)
}

/// Claims up to `limit` due messages of `channels` until `lease_until` (their attempt is
/// counted now): a claimed message is not due again before its lease ends.
///
/// PostgreSQL locks the due rows with `FOR UPDATE SKIP LOCKED`, so concurrent claimers take
/// disjoint rows without waiting. SQLite claims in one `UPDATE … WHERE id IN (SELECT …)`: the
/// statement takes the write lock before it reads (a read-then-write transaction could not wait
/// for another writer and would fail with "database is locked"), so claimers run one after the
/// other and each sees the rows the one before took.
pub fn claim(
    conn: &mut DbConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
    channels: &[&str],
) -> Result<Vec<MessageRow>, StoreError> {
    let channels: Vec<String> = channels.iter().map(|c| (*c).to_owned()).collect();
    // A lease instant of this claim's own (to the microsecond): the rows it took are those
    // with it.
    let jitter = {
        use std::hash::{BuildHasher, Hasher};
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
            % 1000
    };
    let lease_until = lease_until + chrono::Duration::microseconds(jitter as i64);
    let (now, lease) = (stored(now), stored(lease_until));
    let take = (
        o::next_attempt_at.eq(lease),
        o::attempts.eq(o::attempts + 1),
    );
    match conn {
        DbConnection::Pg(c) => {
            use diesel::Connection;
            c.transaction::<_, diesel::result::Error, _>(|c| {
                let ids: Vec<i64> = o::table
                    .filter(o::status.eq("pending"))
                    .filter(o::next_attempt_at.le(now))
                    .filter(o::channel.eq_any(&channels))
                    .order(o::id)
                    .limit(limit)
                    .select(o::id)
                    .for_update()
                    .skip_locked()
                    .load(c)?;
                if !ids.is_empty() {
                    diesel::update(o::table.filter(o::id.eq_any(&ids)))
                        .set(take)
                        .execute(c)?;
                }
                Ok(())
            })?;
        }
        DbConnection::Sqlite(c) => {
            use diesel::sql_types::{BigInt, Text, Timestamp};
            let marks = vec!["?"; channels.len()].join(", ");
            let mut q = diesel::sql_query(format!(
                "UPDATE outbox SET next_attempt_at = ?, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' \
                 AND next_attempt_at <= ? AND channel IN ({marks}) ORDER BY id LIMIT ?)"
            ))
            .into_boxed::<diesel::sqlite::Sqlite>()
            .bind::<Timestamp, _>(lease)
            .bind::<Timestamp, _>(now);
            for ch in &channels {
                q = q.bind::<Text, _>(ch.clone());
            }
            q.bind::<BigInt, _>(limit).execute(c)?;
        }
    }
    Ok(o::table
        .filter(o::status.eq("pending"))
        .filter(o::next_attempt_at.eq(lease))
        .order(o::id)
        .select(MessageRow::as_select())
        .load(conn)?)
}

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    Sent(DateTime<Utc>),
    /// Try again at this instant.
    Retry(DateTime<Utc>, String),
    /// Given up.
    Failed(String),
    /// No longer true (a reminder to a commune that has submitted since, or past its
    /// deadline): not sent.
    Cancelled(String),
}

/// Records how the attempt on message `id` ended.
pub fn settle(conn: &mut DbConnection, id: i64, outcome: &Settled) -> Result<(), StoreError> {
    let target = o::table.filter(o::id.eq(id));
    match outcome {
        Settled::Sent(at) => diesel::update(target)
            .set((o::status.eq("sent"), o::sent_at.eq(Some(stored(*at)))))
            .execute(conn)?,
        Settled::Retry(at, error) => diesel::update(target.filter(o::status.eq("pending")))
            .set((
                o::next_attempt_at.eq(stored(*at)),
                o::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
        Settled::Failed(error) => diesel::update(target.filter(o::status.eq("pending")))
            .set((o::status.eq("failed"), o::last_error.eq(Some(error))))
            .execute(conn)?,
        Settled::Cancelled(why) => diesel::update(target.filter(o::status.eq("pending")))
            .set((o::status.eq("cancelled"), o::last_error.eq(Some(why))))
            .execute(conn)?,
    };
    Ok(())
}

/// Hands claimed messages back untried (due now, their attempt not counted): a deliverer whose
/// lease would end before it got to them.
pub fn release(conn: &mut DbConnection, ids: &[i64], now: DateTime<Utc>) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(
        o::table
            .filter(o::id.eq_any(ids))
            .filter(o::status.eq("pending")),
    )
    .set((
        o::next_attempt_at.eq(stored(now)),
        o::attempts.eq(o::attempts - 1),
    ))
    .execute(conn)?;
    Ok(())
}

/// How many webhooks not removed a commune (or, `commune` None, a province itself) has.
pub fn active_webhooks(
    conn: &mut DbConnection,
    province: &str,
    commune: Option<&str>,
) -> Result<i64, StoreError> {
    let mut q = w::table
        .filter(w::removed_at.is_null())
        .filter(w::province_code.eq(province.to_owned()))
        .into_boxed();
    q = match commune {
        Some(c) => q.filter(w::commune_code.eq(c.to_owned())),
        None => q.filter(w::commune_code.is_null()),
    };
    Ok(q.count().get_result(conn)?)
}

/// The email address of an enabled login, when it has one.
pub fn email_of(conn: &mut DbConnection, username: &str) -> Result<Option<String>, StoreError> {
    Ok(users::table
        .filter(users::username.eq(username))
        .filter(users::disabled.eq(false))
        .select(users::email)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// Filters of the delivery log; `None` is "any".
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub province: Option<String>,
    pub commune: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub channel: Option<String>,
}

/// One page of the log, newest first, before the id `before`.
pub fn log(
    conn: &mut DbConnection,
    filter: &LogFilter,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<MessageRow>, StoreError> {
    let mut q = o::table
        .select(MessageRow::as_select())
        .order(o::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(p) = &filter.province {
        q = q.filter(o::province_code.eq(p.clone()));
    }
    if let Some(c) = &filter.commune {
        q = q.filter(o::commune_code.eq(c.clone()));
    }
    if let Some(k) = &filter.kind {
        q = q.filter(o::kind.eq(k.clone()));
    }
    if let Some(s) = &filter.status {
        q = q.filter(o::status.eq(s.clone()));
    }
    if let Some(c) = &filter.channel {
        q = q.filter(o::channel.eq(c.clone()));
    }
    if let Some(b) = before {
        q = q.filter(o::id.lt(b));
    }
    Ok(q.load(conn)?)
}

/// Where a message goes: a login's email address or a webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    /// The login's username (email) or the webhook's id.
    pub name: String,
    pub address: String,
    pub webhook_id: Option<i64>,
    pub language: String,
}

impl Recipient {
    pub fn channel(&self) -> &'static str {
        if self.webhook_id.is_some() {
            "webhook"
        } else {
            "email"
        }
    }

    pub fn label(&self) -> String {
        match self.webhook_id {
            Some(id) => format!("webhook:{id}"),
            None => format!("login:{}", self.name),
        }
    }
}

/// One who may hear: a commune officer (`commune` set) or a province admin (`commune` None) with
/// an email address, or a webhook registered for a commune or a province.
#[derive(Debug, Clone, PartialEq)]
pub struct Listener {
    pub province: String,
    pub commune: Option<String>,
    /// Wants reminders (and overdue-task notices).
    pub reminders: bool,
    pub to: Recipient,
}

/// Everyone who may hear about `province` (None: every province): enabled commune officers and
/// province admins with an email address, and the webhooks not removed.
pub fn audience(
    conn: &mut DbConnection,
    province: Option<&str>,
) -> Result<Vec<Listener>, StoreError> {
    let mut q = users::table
        .filter(users::disabled.eq(false))
        .filter(users::email.is_not_null())
        .filter(users::province_code.is_not_null())
        .filter(
            users::role.eq("province_admin").or(users::role
                .eq("commune_officer")
                .and(users::commune_code.is_not_null())),
        )
        .select((
            users::username,
            users::email,
            users::language,
            users::reminders,
            users::role,
            users::province_code,
            users::commune_code,
        ))
        .order(users::id)
        .into_boxed();
    if let Some(p) = province {
        q = q.filter(users::province_code.eq(p.to_owned()));
    }
    type Login = (
        String,
        Option<String>,
        String,
        bool,
        String,
        Option<String>,
        Option<String>,
    );
    let logins: Vec<Login> = q.load(conn)?;
    let mut out = Vec::new();
    for (name, email, language, reminders, role, p, c) in logins {
        let (Some(address), Some(province)) = (email, p) else {
            continue;
        };
        out.push(Listener {
            province,
            commune: if role == "commune_officer" { c } else { None },
            reminders,
            to: Recipient {
                name,
                address,
                webhook_id: None,
                language,
            },
        });
    }
    let mut hooks = w::table
        .filter(w::removed_at.is_null())
        .select(WebhookRow::as_select())
        .order(w::id)
        .into_boxed();
    if let Some(p) = province {
        hooks = hooks.filter(w::province_code.eq(p.to_owned()));
    }
    for h in hooks.load(conn)? {
        out.push(Listener {
            province: h.province_code,
            commune: h.commune_code,
            reminders: h.reminders,
            to: Recipient {
                name: h.id.to_string(),
                address: h.url,
                webhook_id: Some(h.id),
                language: h.language,
            },
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = w)]
pub struct WebhookRow {
    pub id: i64,
    pub province_code: String,
    pub commune_code: Option<String>,
    pub url: String,
    pub secret: String,
    pub language: String,
    pub reminders: bool,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub removed_at: Option<NaiveDateTime>,
    pub removed_by: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = w, treat_none_as_default_value = false)]
pub struct NewWebhook {
    pub province_code: String,
    pub commune_code: Option<String>,
    pub url: String,
    pub secret: String,
    pub language: String,
    pub reminders: bool,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

/// Registers a webhook and records `change`, in one transaction.
pub fn create_webhook_logged(
    conn: &mut DbConnection,
    hook: &NewWebhook,
    change: &crate::changes::NewChange<'_>,
) -> Result<WebhookRow, StoreError> {
    crate::transaction(conn, |conn| {
        let id: i64 = match conn {
            DbConnection::Pg(c) => diesel::insert_into(w::table)
                .values(hook)
                .returning(w::id)
                .get_result(c)?,
            DbConnection::Sqlite(c) => diesel::insert_into(w::table)
                .values(hook)
                .returning(w::id)
                .get_result(c)?,
        };
        let mut change = change.clone();
        change.subject = format!("webhook:{id}");
        crate::changes::record(conn, &change)?;
        webhook(conn, id)?
            .ok_or_else(|| StoreError::Corrupt("a webhook just written is missing".into()))
    })
}

pub fn webhook(conn: &mut DbConnection, id: i64) -> Result<Option<WebhookRow>, StoreError> {
    Ok(w::table
        .find(id)
        .select(WebhookRow::as_select())
        .first(conn)
        .optional()?)
}

/// The webhooks of a province (and its communes), or of one commune, removed ones included.
pub fn webhooks(
    conn: &mut DbConnection,
    province: Option<&str>,
    commune: Option<&str>,
) -> Result<Vec<WebhookRow>, StoreError> {
    let mut q = w::table
        .select(WebhookRow::as_select())
        .order(w::id)
        .into_boxed();
    if let Some(p) = province {
        q = q.filter(w::province_code.eq(p.to_owned()));
    }
    if let Some(c) = commune {
        q = q.filter(w::commune_code.eq(c.to_owned()));
    }
    Ok(q.load(conn)?)
}

/// Removes a webhook (it stays listed; nothing more is written for it, and what is pending for
/// it fails) and records `change`, in one transaction.
pub fn remove_webhook_logged(
    conn: &mut DbConnection,
    id: i64,
    by: &str,
    at: DateTime<Utc>,
    change: &crate::changes::NewChange<'_>,
) -> Result<(), StoreError> {
    crate::transaction(conn, |conn| {
        diesel::update(w::table.find(id).filter(w::removed_at.is_null()))
            .set((
                w::removed_at.eq(Some(stored(at))),
                w::removed_by.eq(Some(by)),
            ))
            .execute(conn)?;
        crate::changes::record(conn, change)
    })
}
