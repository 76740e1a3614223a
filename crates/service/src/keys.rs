//! Integration keys: named, read-only credentials for machines (Power BI, Excel, a third-party
//! dashboard). A key speaks with the powers of an analyst of its scope (a province, or the
//! nation) and nothing more; whoever may create such an analyst login may create the key
//! (`core::access`, the same rule). The key is shown once; the store keeps the SHA-256 of its
//! secret part. Revoking a key ends it at once on the replica that revokes it and within
//! [`KEY_STATE_TTL`] on every other.
//!
//! A key reads `irk_<id>_<secret>`: `id` (12 hex digits) finds it, `secret` (256 random bits,
//! base64url) proves it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use innoreport_core::validation::Issue;
use innoreport_core::{Action, Principal, ProvinceCode, Role, Target};
use innoreport_store::changes::NewChange;
use innoreport_store::keys::{self as store, KeyRow, NewKey};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{Service, ServiceError};

/// How long a replica trusts what it read of a key: a revocation made on another replica ends
/// the key here within this time.
pub const KEY_STATE_TTL: Duration = Duration::from_secs(1);

/// A key's last use is written at most this often (per replica), so reading does not write.
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// The longest name of a key.
pub const MAX_NAME: usize = 100;

const PREFIX: &str = "irk_";
const ID_LEN: usize = 12;

/// A key as its managers see it (never its secret).
#[derive(Debug, Clone, PartialEq)]
pub struct IntegrationKey {
    pub id: String,
    pub name: String,
    /// `None`: national.
    pub province: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

/// A new key, with the one copy of its secret.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub key: IntegrationKey,
    /// The whole key, `irk_<id>_<secret>`: shown once.
    pub secret: String,
}

fn key_of(r: KeyRow) -> IntegrationKey {
    IntegrationKey {
        id: r.public_id,
        name: r.name,
        province: r.province_code,
        created_by: r.created_by,
        created_at: r.created_at.and_utc(),
        last_used_at: r.last_used_at.map(|t| t.and_utc()),
        revoked_at: r.revoked_at.map(|t| t.and_utc()),
        revoked_by: r.revoked_by,
    }
}

fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The id and secret of a presented key (`None`: not shaped like a key).
pub fn split(presented: &str) -> Option<(&str, &str)> {
    let rest = presented.strip_prefix(PREFIX)?;
    let id = rest.get(..ID_LEN)?;
    let secret = rest.get(ID_LEN..)?.strip_prefix('_')?;
    (id.bytes().all(|b| b.is_ascii_hexdigit()) && secret.len() >= 32).then_some((id, secret))
}

/// Whether a credential is shaped like an integration key (rather than a token).
pub fn looks_like_key(credential: &str) -> bool {
    credential.starts_with(PREFIX)
}

/// The analyst a key speaks for.
pub fn principal_of_key(id: &str, province: Option<&str>) -> Result<Principal, ServiceError> {
    let province = province
        .map(ProvinceCode::parse)
        .transpose()
        .map_err(|e| ServiceError::bug(format!("key {id} has a bad province: {e}")))?;
    Ok(Principal {
        subject: format!("key:{id}"),
        role: if province.is_some() {
            Role::ProvinceAnalyst
        } else {
            Role::NationalAnalyst
        },
        province,
        commune: None,
    })
}

#[derive(Debug, Clone)]
struct KeyState {
    hash: String,
    province: Option<String>,
    revoked: bool,
}

/// What this replica last read of keys, and when it last wrote each one's use.
#[derive(Debug, Default)]
pub struct KeyStates {
    read: Mutex<HashMap<String, (Instant, Option<KeyState>)>>,
    touched: Mutex<HashMap<String, Instant>>,
}

impl KeyStates {
    fn fresh(&self, id: &str) -> Option<Option<KeyState>> {
        let map = self.read.lock().unwrap_or_else(|e| e.into_inner());
        map.get(id)
            .filter(|(at, _)| at.elapsed() < KEY_STATE_TTL)
            .map(|(_, s)| s.clone())
    }

    fn put(&self, id: &str, state: Option<KeyState>) {
        let mut map = self.read.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (at, _)| at.elapsed() < KEY_STATE_TTL);
        }
        map.insert(id.to_owned(), (Instant::now(), state));
    }

    fn forget(&self, id: &str) {
        self.read
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// Whether the key's use is due to be written (and notes that it is being written).
    fn touch_due(&self, id: &str) -> bool {
        let mut map = self.touched.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(id) {
            Some(at) if at.elapsed() < TOUCH_EVERY => false,
            _ => {
                if map.len() > 10_000 {
                    map.retain(|_, at| at.elapsed() < TOUCH_EVERY);
                }
                map.insert(id.to_owned(), Instant::now());
                true
            }
        }
    }
}

/// The principal of `secret` given the key's state (`None`: unknown, revoked or wrong secret).
fn check(secret: &str, state: Option<&KeyState>) -> Option<Option<String>> {
    let state = state?;
    let good: bool = digest(secret)
        .as_bytes()
        .ct_eq(state.hash.as_bytes())
        .into();
    (good && !state.revoked).then(|| state.province.clone())
}

fn check_name(name: &str) -> Vec<Issue> {
    let mut issues = Vec::new();
    if name.trim().is_empty() {
        issues.push(Issue::new("name", "required", "a key needs a name"));
    } else if name.chars().count() > MAX_NAME {
        issues.push(Issue::new(
            "name",
            "too_long",
            format!("a key's name has at most {MAX_NAME} characters"),
        ));
    }
    // The display-name rule's own length (200) would contradict this one: only its characters.
    if let Some(mut i) = crate::accounts::check_display_name(name)
        && i.code != "too_long"
    {
        i.field = "name".into();
        i.message = i.message.replace("a display name", "a key's name");
        issues.push(i);
    }
    issues
}

impl Service {
    /// The target a key of `province` is managed under: that of an analyst login of its scope.
    fn key_target(province: Option<&str>) -> Target<'_> {
        match province {
            Some(p) => Target::login(Role::ProvinceAnalyst, Some(p)),
            None => Target::login(Role::NationalAnalyst, None),
        }
    }

    /// Creates a key named `name` for `province` (a province admin's default: their province;
    /// an admin's: national). 422 for a bad name or an unknown province, 403 outside `who`'s
    /// management.
    pub fn create_key(
        &self,
        who: &Principal,
        name: &str,
        province: Option<String>,
    ) -> Result<CreatedKey, ServiceError> {
        let province = province.or_else(|| {
            (who.role == Role::ProvinceAdmin)
                .then(|| who.province.as_ref().map(ToString::to_string))
                .flatten()
        });
        who.require(
            Action::ManageUsers,
            Service::key_target(province.as_deref()),
        )?;
        let mut issues = check_name(name);
        let mut conn = self.conn()?;
        if let Some(p) = &province {
            let known = self.reference(&mut conn, |r| r.province(p).is_some())?;
            if known.province(p).is_none() {
                issues.push(Issue::new(
                    "province",
                    "unknown_province",
                    format!("there is no province {:?}", crate::reports::clip(p)),
                ));
            }
        }
        if !issues.is_empty() {
            return Err(ServiceError::invalid("key", issues));
        }
        let mut raw = [0u8; 6];
        getrandom::fill(&mut raw).map_err(|e| ServiceError::bug(format!("randomness: {e}")))?;
        let id: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let secret = crate::passwords::random_token(32);
        let now = self.now();
        let name = name.trim().to_owned();
        let row = store::create_key_logged(
            &mut conn,
            &NewKey {
                public_id: id.clone(),
                name: name.clone(),
                province_code: province.clone(),
                secret_hash: digest(&secret),
                created_by: who.subject.clone(),
                created_at: now.naive_utc(),
                last_used_at: None,
                revoked_at: None,
                revoked_by: None,
            },
            &NewChange {
                at: now,
                actor: &who.subject,
                action: "key.create",
                province: province.as_deref(),
                commune: None,
                subject: id.clone(),
                detail: serde_json::json!({"name": name, "province": province}),
            },
        )?;
        Ok(CreatedKey {
            key: key_of(row),
            secret: format!("{PREFIX}{id}_{secret}"),
        })
    }

    /// The keys `who` manages (national managers: all, or one province's with `province`;
    /// a province admin: their province's).
    pub fn keys(
        &self,
        who: &Principal,
        province: Option<String>,
    ) -> Result<Vec<IntegrationKey>, ServiceError> {
        let national = who.require(Action::ManageUsers, Target::Nation).is_ok();
        let filter = if national {
            province
        } else {
            let own = who
                .province
                .as_ref()
                .map(ToString::to_string)
                .ok_or_else(|| ServiceError::forbidden("this role manages no keys"))?;
            let asked = province.unwrap_or(own);
            who.require(Action::ManageUsers, Target::Province(&asked))?;
            Some(asked)
        };
        let rows = store::list_keys(&mut *self.conn()?, filter.as_deref().map(Some))?;
        Ok(rows.into_iter().map(key_of).collect())
    }

    /// The key `id`, once `who` may manage it (404 when there is none).
    fn managed_key(
        &self,
        conn: &mut innoreport_store::DbConnection,
        who: &Principal,
        id: &str,
    ) -> Result<KeyRow, ServiceError> {
        let row = store::find_key(conn, id)?.ok_or_else(|| {
            // Not echoed: what was pasted here may be a whole key.
            ServiceError::not_found("There is no key with this id.")
        })?;
        who.require(
            Action::ManageUsers,
            Service::key_target(row.province_code.as_deref()),
        )?;
        Ok(row)
    }

    /// One key `who` manages.
    pub fn key(&self, who: &Principal, id: &str) -> Result<IntegrationKey, ServiceError> {
        Ok(key_of(self.managed_key(&mut *self.conn()?, who, id)?))
    }

    /// Revokes a key: refused from now on (at once here, within [`KEY_STATE_TTL`] elsewhere).
    /// Revoking a revoked key changes nothing.
    pub fn revoke_key(&self, who: &Principal, id: &str) -> Result<IntegrationKey, ServiceError> {
        let mut conn = self.conn()?;
        let row = self.managed_key(&mut conn, who, id)?;
        let now = self.now();
        store::revoke_key_logged(
            &mut conn,
            &row.public_id,
            &who.subject,
            now,
            &NewChange {
                at: now,
                actor: &who.subject,
                action: "key.revoke",
                province: row.province_code.as_deref(),
                commune: None,
                subject: row.public_id.clone(),
                detail: serde_json::json!({"name": row.name}),
            },
        )?;
        self.key_states().forget(&row.public_id);
        let row = store::find_key(&mut conn, &row.public_id)?
            .ok_or_else(|| ServiceError::bug("a revoked key is missing"))?;
        Ok(key_of(row))
    }

    /// The analyst a presented key speaks for, from what this replica knows freshly without
    /// the database (`None`: not known freshly, ask [`Service::key_principal`]; `Some(None)`:
    /// refused).
    pub fn cached_key_principal(&self, presented: &str) -> Option<Option<Principal>> {
        let Some((id, secret)) = split(presented) else {
            return Some(None);
        };
        let state = self.key_states().fresh(id)?;
        Some(
            check(secret, state.as_ref())
                .and_then(|province| principal_of_key(id, province.as_deref()).ok()),
        )
    }

    /// The analyst a presented key speaks for (`None`: unknown, wrong or revoked). Reads the
    /// key when this replica's copy is older than [`KEY_STATE_TTL`]; writes its last use at
    /// most once a [`TOUCH_EVERY`].
    pub fn key_principal(&self, presented: &str) -> Result<Option<Principal>, ServiceError> {
        let Some((id, secret)) = split(presented) else {
            return Ok(None);
        };
        let state = match self.key_states().fresh(id) {
            Some(s) => s,
            None => {
                let mut conn = self.conn()?;
                let state = store::find_key(&mut conn, id)?.map(|r| KeyState {
                    hash: r.secret_hash,
                    province: r.province_code,
                    revoked: r.revoked_at.is_some(),
                });
                self.key_states().put(id, state.clone());
                state
            }
        };
        let Some(province) = check(secret, state.as_ref()) else {
            return Ok(None);
        };
        if self.key_states().touch_due(id) {
            store::touch_key(&mut *self.conn()?, id, self.now())?;
        }
        principal_of_key(id, province.as_deref()).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_recognised_by_its_shape() {
        let secret = "A".repeat(43);
        let key = format!("irk_0123456789ab_{secret}");
        assert_eq!(split(&key), Some(("0123456789ab", secret.as_str())));
        assert!(looks_like_key(&key));
        assert_eq!(split("irk_0123456789ab"), None);
        assert_eq!(
            split("irk_0123456789zz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            None
        );
        assert_eq!(split(&format!("irk_0123456789ab_{}", "A".repeat(8))), None);
        assert!(!looks_like_key("eyJhbGciOiJIUzI1NiJ9.e30.x"));
    }

    #[test]
    fn only_the_right_secret_of_a_live_key_passes() {
        let state = KeyState {
            hash: digest("right-secret"),
            province: Some("14".into()),
            revoked: false,
        };
        assert_eq!(check("right-secret", Some(&state)), Some(Some("14".into())));
        assert_eq!(check("wrong-secret", Some(&state)), None);
        assert_eq!(check("right-secret", None), None);
        let revoked = KeyState {
            revoked: true,
            ..state
        };
        assert_eq!(check("right-secret", Some(&revoked)), None);
    }

    #[test]
    fn a_key_speaks_for_an_analyst_of_its_scope() {
        let p = principal_of_key("0123456789ab", Some("14")).unwrap();
        assert_eq!(p.role, Role::ProvinceAnalyst);
        assert_eq!(p.subject, "key:0123456789ab");
        assert!(p.check_shape().is_ok());
        let n = principal_of_key("0123456789ab", None).unwrap();
        assert_eq!(n.role, Role::NationalAnalyst);
        assert!(n.check_shape().is_ok());
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(check_name("  ")[0].code, "required");
        assert_eq!(check_name(&"x".repeat(101))[0].code, "too_long");
        assert_eq!(
            check_name(&"x".repeat(300)).len(),
            1,
            "one length rule, not two"
        );
        assert_eq!(check_name("Power BI\u{202E}")[0].field, "name");
        assert!(check_name("Power BI – Sở KH&CN Sơn La").is_empty());
    }
}
