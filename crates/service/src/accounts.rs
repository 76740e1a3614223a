//! Logins and their life: creating, listing, changing role and scope, disabling and enabling,
//! resetting and changing passwords — for the API and the `innoreport user` commands alike, one
//! set of rules. Province admins manage the logins of their province; admins all of them.
//! Nothing is deleted (a revision names its author forever). Every action goes to the change log
//! in its own transaction, and every action that changes what a login may do (disabling, a new
//! role or scope, a new password) ends its tokens at once: tokens carry the login's version,
//! checked on each request (see `crate::revocation`).

use chrono::{DateTime, Utc};
use innoreport_core::validation::Issue;
use innoreport_core::{Action, CommuneCode, Principal, ProvinceCode, Role, Target};
use innoreport_store::DbConnection;
use innoreport_store::users::{NewUser, UserFilter, UserRow, UserUpdate, create_user_logged};

use crate::passwords::{generated_password, hash_password};
use crate::signin::normalise_username;
use crate::{Service, ServiceError};

/// The usernames accepted: 1 to 64 of ASCII letters, digits and `- _ . @`, not starting with
/// `-` or `@` (which spreadsheets read as formulas). Compared regardless of case.
pub fn check_username(username: &str) -> Option<Issue> {
    let ok = !username.is_empty()
        && username.len() <= 64
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
        && !username.starts_with(['-', '@']);
    (!ok).then(|| {
        Issue::new(
            "username",
            "invalid_username",
            "1 to 64 characters: letters, digits, - _ . @ (not first - or @)",
        )
    })
}

/// At most this many characters in a display name.
pub const MAX_DISPLAY_NAME: usize = 200;

/// A display name: at most [`MAX_DISPLAY_NAME`] characters, no control characters and no
/// bidirectional overrides (which would make a list show other text than it holds).
pub fn check_display_name(name: &str) -> Option<Issue> {
    if name.chars().count() > MAX_DISPLAY_NAME {
        return Some(Issue::new(
            "display_name",
            "too_long",
            format!("a display name has at most {MAX_DISPLAY_NAME} characters"),
        ));
    }
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
    };
    name.chars().any(hidden).then(|| {
        Issue::new(
            "display_name",
            "invalid_characters",
            "a display name cannot hold control characters or direction overrides",
        )
    })
}

/// A login as a manager sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Login {
    pub username: String,
    pub role: Role,
    pub province: Option<String>,
    pub commune: Option<String>,
    pub display_name: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Where its notices go.
    pub email: Option<String>,
    /// `vi` or `en`.
    pub language: String,
    /// Whether it wants reminders.
    pub reminders: bool,
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

fn login_of(user: &UserRow) -> Result<Login, ServiceError> {
    Ok(Login {
        username: user.username.clone(),
        role: user
            .role
            .parse()
            .map_err(|_| ServiceError::bug(format!("login {}: unknown role", user.username)))?,
        province: user.province_code.clone(),
        commune: user.commune_code.clone(),
        display_name: user.display_name.clone(),
        disabled: user.disabled,
        created_at: user.created_at.and_utc(),
        updated_at: user.updated_at.unwrap_or(user.created_at).and_utc(),
        email: user.email.clone(),
        language: user.language.clone(),
        reminders: user.reminders,
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
    /// Where its notices go (none: no email).
    pub email: Option<String>,
    /// `vi` (the default) or `en`.
    pub language: Option<String>,
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

/// Resolves a role's scope: the commune's province when only the commune is named; every
/// problem listed. Returns the principal the login would speak for.
pub(crate) fn scope_of(
    conn: &mut DbConnection,
    username: &str,
    role: Role,
    province: Option<&str>,
    commune: Option<&str>,
    issues: &mut Vec<Issue>,
) -> Result<Option<Principal>, ServiceError> {
    let commune = match commune {
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
    let province = match (province, &commune) {
        (Some(p), Some((_, of_commune))) if p != of_commune => {
            issues.push(Issue::new(
                "province",
                "mismatch",
                format!("the commune is in province {of_commune}, not {p}"),
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
        subject: username.to_owned(),
        role,
        province,
        commune: commune.map(|(c, _)| c),
    };
    if !issues.is_empty() {
        return Ok(None);
    }
    if let Err(why) = principal.check_shape() {
        issues.push(Issue::new("role", "scope_mismatch", why));
        return Ok(None);
    }
    Ok(Some(principal))
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
    issues.extend(check_username(&username));
    issues.extend(check_display_name(&account.display_name));
    if let Some(p) = &account.password {
        issues.extend(crate::passwords::check(p, &username, "password"));
    }
    if let Some(e) = &account.email {
        issues.extend(crate::notify::settings::check_email(e));
    }
    if let Some(l) = &account.language {
        issues.extend(crate::notify::settings::check_language(l));
    }
    let Some(role) = account.role else {
        issues.push(Issue::new("role", "required", "name the login's role"));
        return Err(ServiceError::invalid("account", issues));
    };
    let principal = scope_of(
        conn,
        &username,
        role,
        account.province.as_deref(),
        account.commune.as_deref(),
        &mut issues,
    )?;
    let Some(principal) = principal.filter(|_| issues.is_empty()) else {
        return Err(ServiceError::invalid("account", issues));
    };
    let generated = account.password.is_none().then(generated_password);
    let password = account
        .password
        .or_else(|| generated.clone())
        .expect("one of the two is set");
    let key = normalise_username(&username);
    let mut user = NewUser::new(
        &username,
        &key,
        hash_password(&password),
        role.as_str(),
        principal.province.as_ref().map(|p| p.as_str()),
        principal.commune.as_ref().map(|c| c.as_str()),
        now,
    );
    user.display_name = account.display_name;
    user.email = account.email;
    if let Some(l) = account.language {
        user.language = l;
    }
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
            message: format!(
                "The username {username:?} is taken (usernames are compared regardless of case)."
            ),
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

/// Filters of a login list.
#[derive(Debug, Clone, Default)]
pub struct LoginQuery {
    pub role: Option<Role>,
    pub province: Option<String>,
    pub commune: Option<String>,
    pub disabled: Option<bool>,
}

/// A change of a login: fields left `None` are kept.
#[derive(Debug, Clone, Default)]
pub struct LoginChange {
    pub role: Option<Role>,
    /// With a role or alone: the new province (`Some(None)`: none, for a national role).
    pub province: Option<Option<String>>,
    pub commune: Option<Option<String>>,
    pub disabled: Option<bool>,
    pub display_name: Option<String>,
    /// `Some(None)` removes the email address.
    pub email: Option<Option<String>>,
    pub language: Option<String>,
    pub reminders: Option<bool>,
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
        let role = account.role.unwrap_or(Role::CommuneOfficer);
        let mut account = account;
        // A province admin's new province login is of their own province unless another is named.
        if account.province.is_none()
            && account.commune.is_none()
            && role.needs_province()
            && !role.needs_commune()
        {
            account.province = who.province.as_ref().map(ToString::to_string);
        }
        let province = match (&account.province, &account.commune) {
            (Some(p), _) => Some(p.clone()),
            (None, Some(c)) => innoreport_store::reference::commune_province(&mut conn, c)?,
            (None, None) => None,
        };
        // An unknown commune has no province to check against: the account is refused with 422
        // naming it, and nothing is created.
        if province.is_some() || account.commune.is_none() {
            who.require(
                Action::ManageUsers,
                Target::login(role, province.as_deref()),
            )?;
        }
        create_account(&mut conn, account, &who.subject, self.now())
    }

    /// The store filter of `who`'s login list (403 for a filter outside what `who` manages).
    fn login_filter(&self, who: &Principal, q: &LoginQuery) -> Result<UserFilter, ServiceError> {
        let national = who.require(Action::ManageUsers, Target::Nation).is_ok();
        let province = if national {
            q.province.clone()
        } else {
            let own = who
                .province
                .as_ref()
                .map(ToString::to_string)
                .ok_or_else(|| ServiceError::forbidden("this role manages no logins"))?;
            let asked = q.province.clone().unwrap_or_else(|| own.clone());
            who.require(Action::ManageUsers, Target::Province(&asked))?;
            Some(asked)
        };
        Ok(UserFilter {
            role: q.role.map(|r| r.as_str().to_owned()),
            province,
            commune: q.commune.clone(),
            disabled: q.disabled,
            provincial_only: !national,
        })
    }

    /// One page of the logins `who` manages, after the id `after`; returns the id of each.
    pub fn logins(
        &self,
        who: &Principal,
        q: &LoginQuery,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<(i64, Login)>, ServiceError> {
        let filter = self.login_filter(who, q)?;
        let rows = innoreport_store::users::list_users(&mut *self.conn()?, &filter, after, limit)?;
        rows.iter().map(|u| Ok((u.id, login_of(u)?))).collect()
    }

    /// The login named `username` (exactly, or regardless of case), once `who` may manage it.
    fn managed(
        &self,
        conn: &mut DbConnection,
        who: &Principal,
        username: &str,
    ) -> Result<UserRow, ServiceError> {
        let user = match innoreport_store::users::find_user(conn, username)? {
            Some(u) => Some(u),
            None => innoreport_store::users::find_by_key(conn, &normalise_username(username))?,
        };
        let user = user.ok_or_else(|| {
            ServiceError::not_found(format!(
                "There is no login {:?}.",
                crate::reports::clip(username)
            ))
        })?;
        let role: Role = user.role.parse().map_err(|_| {
            ServiceError::bug(format!("login {} has an unknown role", user.username))
        })?;
        who.require(
            Action::ManageUsers,
            Target::login(role, user.province_code.as_deref()),
        )?;
        Ok(user)
    }

    /// One login `who` manages.
    pub fn login(&self, who: &Principal, username: &str) -> Result<Login, ServiceError> {
        let mut conn = self.conn()?;
        login_of(&self.managed(&mut conn, who, username)?)
    }

    /// Changes a login's role, scope, display name or whether it is disabled. A change of role
    /// or scope, or disabling, ends its tokens at once.
    pub fn update_login(
        &self,
        who: &Principal,
        username: &str,
        change: LoginChange,
    ) -> Result<Login, ServiceError> {
        let mut conn = self.conn()?;
        let user = self.managed(&mut conn, who, username)?;
        let before = login_of(&user)?;
        let mut issues = Vec::new();
        let role = change.role.unwrap_or(before.role);
        let mut update = UserUpdate::default();
        let mut after = before.clone();
        if change.role.is_some() || change.province.is_some() || change.commune.is_some() {
            // A new role keeps the scope unless a new one is named, as far as it fits the role.
            let province = match &change.province {
                Some(p) => p.clone(),
                None if role.needs_province() => before.province.clone(),
                None => None,
            };
            let commune = match &change.commune {
                Some(c) => c.clone(),
                None if role.needs_commune() => before.commune.clone(),
                None => None,
            };
            let principal = scope_of(
                &mut conn,
                &user.username,
                role,
                province.as_deref(),
                commune.as_deref(),
                &mut issues,
            )?;
            if let Some(p) = &principal {
                // The login must stay where the caller manages.
                who.require(
                    Action::ManageUsers,
                    Target::login(role, p.province.as_ref().map(|x| x.as_str())),
                )?;
                after.role = role;
                after.province = p.province.as_ref().map(ToString::to_string);
                after.commune = p.commune.as_ref().map(ToString::to_string);
            }
        }
        if let Some(name) = &change.display_name {
            issues.extend(check_display_name(name));
            after.display_name = name.clone();
        }
        if let Some(Some(e)) = &change.email {
            issues.extend(crate::notify::settings::check_email(e));
        }
        if let Some(l) = &change.language {
            issues.extend(crate::notify::settings::check_language(l));
        }
        if let Some(e) = &change.email {
            after.email = e.clone();
        }
        if let Some(l) = &change.language {
            after.language = l.clone();
        }
        if let Some(r) = change.reminders {
            after.reminders = r;
        }
        if !issues.is_empty() {
            return Err(ServiceError::invalid("change", issues));
        }
        if let Some(disabled) = change.disabled {
            after.disabled = disabled;
        }
        if after.disabled && !before.disabled && user.username == who.subject {
            return Err(ServiceError::Conflict {
                message: "A login cannot disable itself; another admin must.".into(),
                issues: vec![Issue::new("disabled", "self", "ask another admin")],
            });
        }
        // Only what really changes is written and logged; a change that changes nothing is
        // answered with the login as it is, and its tokens live on.
        let rescoped = (after.role, &after.province, &after.commune)
            != (before.role, &before.province, &before.commune);
        if rescoped {
            update.role = Some(after.role.as_str().to_owned());
            update.province = Some(after.province.clone());
            update.commune = Some(after.commune.clone());
        }
        if after.disabled != before.disabled {
            update.disabled = Some(after.disabled);
        }
        if after.display_name != before.display_name {
            update.display_name = Some(after.display_name.clone());
        }
        let notices = (&after.email, &after.language, after.reminders)
            != (&before.email, &before.language, before.reminders);
        if notices {
            update.email = Some(after.email.clone());
            update.language = Some(after.language.clone());
            update.reminders = Some(after.reminders);
        }
        if !rescoped && update.disabled.is_none() && update.display_name.is_none() && !notices {
            return Ok(before);
        }
        update.bump_version = rescoped || update.disabled == Some(true);
        let action = match (
            update.disabled,
            rescoped,
            update.display_name.is_some() || notices,
        ) {
            (Some(true), false, false) => "user.disable",
            (Some(false), false, false) => "user.enable",
            _ => "user.update",
        };
        let detail = serde_json::json!({
            "before": {"role": before.role.as_str(), "province": before.province, "commune": before.commune,
                       "disabled": before.disabled, "display_name": before.display_name,
                       "email": before.email, "language": before.language, "reminders": before.reminders},
            "after": {"role": after.role.as_str(), "province": after.province, "commune": after.commune,
                      "disabled": after.disabled, "display_name": after.display_name,
                      "email": after.email, "language": after.language, "reminders": after.reminders},
        });
        innoreport_store::users::update_user_logged(
            &mut conn,
            user.id,
            &update,
            self.now(),
            &innoreport_store::changes::NewChange {
                at: self.now(),
                actor: &who.subject,
                action,
                province: after.province.as_deref().or(before.province.as_deref()),
                commune: before.commune.as_deref(),
                subject: user.username.clone(),
                detail,
            },
        )?;
        self.login_states().forget(&user.username);
        let user = innoreport_store::users::find_user(&mut conn, &user.username)?
            .ok_or_else(|| ServiceError::bug("a login vanished"))?;
        login_of(&user)
    }

    /// Resets a login's password: to `password` when given (checked), else to a generated one
    /// returned once. Ends its tokens.
    pub fn reset_password(
        &self,
        who: &Principal,
        username: &str,
        password: Option<String>,
    ) -> Result<(Login, Option<String>), ServiceError> {
        let mut conn = self.conn()?;
        let user = self.managed(&mut conn, who, username)?;
        if let Some(p) = &password {
            let issues = crate::passwords::check(p, &user.username, "password");
            if !issues.is_empty() {
                return Err(ServiceError::invalid("password", issues));
            }
        }
        let generated = password.is_none().then(generated_password);
        let new = password.or_else(|| generated.clone()).expect("one is set");
        self.set_password(&mut conn, &user, &new, &who.subject, "user.reset_password")?;
        let user = innoreport_store::users::find_user(&mut conn, &user.username)?
            .ok_or_else(|| ServiceError::bug("a login vanished"))?;
        Ok((login_of(&user)?, generated))
    }

    /// A login changes its own password (the current one is checked). Ends its other tokens;
    /// returns the principal and the new version for a fresh token.
    pub fn change_own_password(
        &self,
        who: &Principal,
        current: &str,
        new: &str,
    ) -> Result<(Principal, i32), ServiceError> {
        let mut conn = self.conn()?;
        let user =
            innoreport_store::users::find_user(&mut conn, &who.subject)?.ok_or_else(|| {
                ServiceError::forbidden("only a login changes its password (this token has none)")
            })?;
        drop(conn);
        let ok = self.verify_pooled(current, Some(&user.password_hash))?;
        if !ok {
            return Err(ServiceError::invalid(
                "password change",
                vec![Issue::new(
                    "current_password",
                    "wrong",
                    "the current password is not this one",
                )],
            ));
        }
        let mut issues = crate::passwords::check(new, &user.username, "new_password");
        if new == current {
            issues.push(Issue::new(
                "new_password",
                "unchanged",
                "the new password is the current one",
            ));
        }
        if !issues.is_empty() {
            return Err(ServiceError::invalid("password change", issues));
        }
        let mut conn = self.conn()?;
        self.set_password(&mut conn, &user, new, &who.subject, "user.change_password")?;
        let user = innoreport_store::users::find_user(&mut conn, &user.username)?
            .ok_or_else(|| ServiceError::bug("a login vanished"))?;
        Ok((principal_of(&user)?, user.token_version))
    }

    fn set_password(
        &self,
        conn: &mut DbConnection,
        user: &UserRow,
        password: &str,
        actor: &str,
        action: &str,
    ) -> Result<(), ServiceError> {
        let hash = hash_password(password);
        innoreport_store::users::update_user_logged(
            conn,
            user.id,
            &UserUpdate {
                password_hash: Some(hash),
                bump_version: true,
                ..UserUpdate::default()
            },
            self.now(),
            &innoreport_store::changes::NewChange {
                at: self.now(),
                actor,
                action,
                province: user.province_code.as_deref(),
                commune: user.commune_code.as_deref(),
                subject: user.username.clone(),
                detail: serde_json::json!({"username": user.username}),
            },
        )?;
        self.login_states().forget(&user.username);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_plain_and_never_start_like_a_formula() {
        assert!(check_username("xa-muong-la").is_none());
        assert!(check_username("Victim14").is_none());
        assert!(check_username("-cmd").is_some());
        assert!(check_username("@sum").is_some());
        assert!(check_username("tên có dấu").is_some());
        assert!(check_username("").is_some());
        assert!(check_username(&"a".repeat(65)).is_some());
    }
}
