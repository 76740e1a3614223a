//! Logins: creating them (for `innoreport user create` and for province admins through the
//! API, one set of rules for both), passwords, and signing in.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use innoreport_core::validation::Issue;
use innoreport_core::{Action, CommuneCode, Principal, ProvinceCode, Role, Target};
use innoreport_store::DbConnection;
use innoreport_store::users::{NewUser, UserRow, create_user_logged};

use crate::{Service, ServiceError};

/// `n` random bytes, base64url.
pub fn random_token(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the operating system provides randomness");
    URL_SAFE_NO_PAD.encode(buf)
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system provides randomness");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing succeeds")
        .to_string()
}

/// Checks a password against a stored PHC hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A login to create.
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    pub username: String,
    pub role: Option<Role>,
    /// Required for province roles and commune officers (derived from the commune when omitted).
    pub province: Option<String>,
    /// Required for commune officers.
    pub commune: Option<String>,
    /// Generated (and returned once) when omitted.
    pub password: Option<String>,
    pub display_name: String,
}

/// What was created.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedAccount {
    pub username: String,
    pub role: Role,
    pub province: Option<String>,
    pub commune: Option<String>,
    /// The generated password, shown only this once (None when the caller chose it).
    pub generated_password: Option<String>,
}

/// The principal a stored login speaks for.
pub fn principal_of(user: &UserRow) -> Result<Principal, ServiceError> {
    let bad = |what: &str| ServiceError::bug(format!("login {}: {what}", user.username));
    Ok(Principal {
        subject: user.username.clone(),
        role: user.role.parse::<Role>().map_err(|_| bad("unknown role"))?,
        province: user
            .province_code
            .as_deref()
            .map(ProvinceCode::parse)
            .transpose()
            .map_err(|_| bad("bad province"))?,
        commune: user
            .commune_code
            .as_deref()
            .map(CommuneCode::parse)
            .transpose()
            .map_err(|_| bad("bad commune"))?,
    })
}

/// Validates and creates a login as `actor` (already authorized); the login and its change-log
/// entry are one transaction.
pub fn create_account(
    conn: &mut DbConnection,
    account: NewAccount,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<CreatedAccount, ServiceError> {
    let mut issues = Vec::new();
    let username = account.username.trim().to_owned();
    if username.is_empty()
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
    {
        issues.push(Issue::new(
            "username",
            "invalid_username",
            "1 to 64 characters: letters, digits, - _ . @",
        ));
    }
    if let Some(p) = &account.password
        && p.chars().count() < 12
    {
        issues.push(Issue::new(
            "password",
            "too_short",
            "a password has at least 12 characters",
        ));
    }
    let Some(role) = account.role else {
        issues.push(Issue::new("role", "required", "name the login's role"));
        return Err(ServiceError::invalid("account", issues));
    };
    let commune = match &account.commune {
        Some(c) => match CommuneCode::parse(c) {
            Ok(code) => match innoreport_store::reference::commune_province(conn, c)? {
                Some(p) => Some((code, p)),
                None => {
                    issues.push(Issue::new(
                        "commune",
                        "unknown_commune",
                        format!("there is no commune {c}"),
                    ));
                    None
                }
            },
            Err(e) => {
                issues.push(Issue::new("commune", "invalid_commune", e.to_string()));
                None
            }
        },
        None => None,
    };
    let province = match (&account.province, &commune) {
        (Some(p), Some((_, of_commune))) if p != of_commune => {
            issues.push(Issue::new(
                "province",
                "mismatch",
                format!("commune is in province {of_commune}, not {p}"),
            ));
            None
        }
        (Some(p), _) => match ProvinceCode::parse(p) {
            Ok(code) if innoreport_store::reference::get_province(conn, p)?.is_some() => Some(code),
            _ => {
                issues.push(Issue::new(
                    "province",
                    "unknown_province",
                    format!("there is no province {:?}", crate::reports::clip(p)),
                ));
                None
            }
        },
        (None, Some((_, of_commune))) if role.needs_province() => {
            ProvinceCode::parse(of_commune).ok()
        }
        (None, _) => None,
    };
    let principal = Principal {
        subject: username.clone(),
        role,
        province,
        commune: commune.map(|(c, _)| c),
    };
    if issues.is_empty()
        && let Err(why) = principal.check_shape()
    {
        issues.push(Issue::new("role", "scope_mismatch", why));
    }
    if !issues.is_empty() {
        return Err(ServiceError::invalid("account", issues));
    }
    let generated = account.password.is_none().then(|| random_token(15));
    let password = account
        .password
        .or_else(|| generated.clone())
        .expect("one of the two is set");
    let mut user = NewUser::new(
        &username,
        hash_password(&password),
        role.as_str(),
        principal.province.as_ref().map(|p| p.as_str()),
        principal.commune.as_ref().map(|c| c.as_str()),
        now,
    );
    user.display_name = account.display_name;
    let change = innoreport_store::changes::NewChange {
        at: now,
        actor,
        action: "user.create",
        province: user.province_code.as_deref(),
        commune: user.commune_code.as_deref(),
        subject: username.clone(),
        detail: serde_json::json!({"username": username, "role": role.as_str(),
            "province": user.province_code, "commune": user.commune_code}),
    };
    if !create_user_logged(conn, &user, &change)? {
        return Err(ServiceError::Conflict {
            message: format!("The username {username:?} is taken."),
            issues: vec![Issue::new("username", "taken", "choose another username")],
        });
    }
    Ok(CreatedAccount {
        username,
        role,
        province: principal.province.as_ref().map(ToString::to_string),
        commune: principal.commune.as_ref().map(ToString::to_string),
        generated_password: generated,
    })
}

/// The target a login lives in: its province, or the nation for national roles.
fn home<'a>(role: Role, province: Option<&'a str>) -> Target<'a> {
    match (role.needs_province(), province) {
        (true, Some(p)) => Target::Province(p),
        _ => Target::Nation,
    }
}

impl Service {
    /// Creates a login as `who`: a province admin creates logins of their own province; only
    /// an admin creates national ones.
    pub fn create_login(
        &self,
        who: &Principal,
        account: NewAccount,
    ) -> Result<CreatedAccount, ServiceError> {
        let mut conn = self.conn()?;
        let province = match (&account.province, &account.commune) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(c)) => innoreport_store::reference::commune_province(&mut conn, c)?,
            (None, None) => None,
        };
        let role = account.role.unwrap_or(Role::CommuneOfficer);
        who.require(Action::ManageUsers, home(role, province.as_deref()))?;
        create_account(&mut conn, account, &who.subject, self.now())
    }
}

/// A hash to verify against when the user does not exist.
pub(crate) fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("innoreport-no-such-user"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2_and_verify() {
        let h = hash_password("correct horse");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
