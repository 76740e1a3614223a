//! Creating logins: for the `innoreport user create` command and for province admins through
//! `POST /api/v1/users`. One set of rules for both.

use actix_web::{HttpResponse, post, web};
use chrono::Utc;
use innoreport_core::{Action, CommuneCode, Principal, ProvinceCode, Role, Target};
use innoreport_store::users::{NewUser, create_user_logged};
use innoreport_store::{DbConnection, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Auth, hash_password, random_token};
use crate::problem::{ApiError, FieldError, Problem};
use crate::state::AppState;

/// A login to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    #[schema(example = "xa-muong-la")]
    pub username: String,
    pub role: Role,
    /// Required for province roles and commune officers (derived from the commune when omitted).
    pub province: Option<String>,
    /// Required for commune officers.
    pub commune: Option<String>,
    /// At least 12 characters; generated (and returned once) when omitted.
    pub password: Option<String>,
    #[serde(default)]
    pub display_name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedAccount {
    pub username: String,
    pub role: Role,
    pub province: Option<String>,
    pub commune: Option<String>,
    /// The generated password, shown only this once (null when the caller chose it).
    pub generated_password: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("invalid account")]
    Invalid(Vec<FieldError>),
    #[error("username {0:?} is taken")]
    Taken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Validates and creates a login; returns what was created (with a generated password when
/// none was given).
pub fn create_account(
    conn: &mut DbConnection,
    account: NewAccount,
    actor: &str,
) -> Result<(CreatedAccount, Principal), AccountError> {
    let mut errors = Vec::new();
    let username = account.username.trim().to_owned();
    if username.is_empty()
        || username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
    {
        errors.push(FieldError::new(
            "username",
            "invalid_username",
            "1 to 64 characters: letters, digits, - _ . @",
        ));
    }
    if let Some(p) = &account.password
        && p.chars().count() < 12
    {
        errors.push(FieldError::new(
            "password",
            "too_short",
            "a password has at least 12 characters",
        ));
    }
    let commune = match &account.commune {
        Some(c) => match CommuneCode::parse(c) {
            Ok(code) => match innoreport_store::reports::commune_province(conn, c)? {
                Some(p) => Some((code, p)),
                None => {
                    errors.push(FieldError::new(
                        "commune",
                        "unknown_commune",
                        format!("there is no commune {c}"),
                    ));
                    None
                }
            },
            Err(e) => {
                errors.push(FieldError::new("commune", "invalid_commune", e.to_string()));
                None
            }
        },
        None => None,
    };
    let province = match (&account.province, &commune) {
        (Some(p), Some((_, of_commune))) if p != of_commune => {
            errors.push(FieldError::new(
                "province",
                "mismatch",
                format!("commune is in province {of_commune}, not {p}"),
            ));
            None
        }
        (Some(p), _) => match ProvinceCode::parse(p) {
            Ok(code) if innoreport_store::reference::get_province(conn, p)?.is_some() => Some(code),
            _ => {
                errors.push(FieldError::new(
                    "province",
                    "unknown_province",
                    format!("there is no province {p:?}"),
                ));
                None
            }
        },
        (None, Some((_, of_commune))) if account.role.needs_province() => {
            ProvinceCode::parse(of_commune).ok()
        }
        (None, _) => None,
    };
    let principal = Principal {
        subject: username.clone(),
        role: account.role,
        province,
        commune: commune.map(|(c, _)| c),
    };
    if errors.is_empty()
        && let Err(why) = principal.check_shape()
    {
        errors.push(FieldError::new("role", "scope_mismatch", why));
    }
    if !errors.is_empty() {
        return Err(AccountError::Invalid(errors));
    }
    let generated = account.password.is_none().then(|| random_token(15));
    let password = account
        .password
        .or_else(|| generated.clone())
        .expect("one of the two is set");
    let mut user = NewUser::new(
        &username,
        hash_password(&password),
        account.role.as_str(),
        principal.province.as_ref().map(|p| p.as_str()),
        principal.commune.as_ref().map(|c| c.as_str()),
        Utc::now(),
    );
    user.display_name = account.display_name;
    // The login and its change-log entry are one transaction.
    let change = innoreport_store::changes::NewChange {
        at: Utc::now(),
        actor,
        action: "user.create",
        province: user.province_code.as_deref(),
        commune: user.commune_code.as_deref(),
        subject: username.clone(),
        detail: serde_json::json!({"username": username, "role": account.role.as_str(),
            "province": user.province_code, "commune": user.commune_code}),
    };
    if !create_user_logged(conn, &user, &change)? {
        return Err(AccountError::Taken(username));
    }
    Ok((
        CreatedAccount {
            username,
            role: account.role,
            province: principal.province.as_ref().map(ToString::to_string),
            commune: principal.commune.as_ref().map(ToString::to_string),
            generated_password: generated,
        },
        principal,
    ))
}

/// Creates a login. A province admin creates commune officers, analysts and admins of their
/// own province; only an admin creates national roles.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = NewAccount,
    responses(
        (status = 201, description = "Created", body = CreatedAccount),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The username is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid account, every problem listed", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/users")]
pub async fn create_user_endpoint(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<NewAccount>,
) -> Result<HttpResponse, ApiError> {
    let account = body.into_inner();
    // Where will the new login live? National roles live nowhere in particular.
    let province = match (&account.province, &account.commune) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(c)) => {
            let c = c.clone();
            state
                .db(move |conn| innoreport_store::reports::commune_province(conn, &c))
                .await?
        }
        (None, None) => None,
    };
    match (&province, account.role) {
        (_, Role::Admin | Role::NationalAnalyst) | (None, _) if auth.0.role != Role::Admin => {
            return Err(ApiError::Forbidden(
                "only an admin creates national accounts".into(),
            ));
        }
        (Some(p), _) => auth.require(Action::ManageUsers, Target::Province(p))?,
        _ => auth.require(Action::ManageUsers, Target::Nation)?,
    }
    let actor = auth.0.subject.clone();
    let created = state
        .db(move |conn| Ok(create_account(conn, account, &actor)))
        .await?;
    match created {
        Ok((created, _)) => Ok(HttpResponse::Created().json(created)),
        Err(AccountError::Invalid(errors)) => Err(ApiError::Unprocessable(
            format!("The account has {} problem(s).", errors.len()),
            errors,
        )),
        Err(AccountError::Taken(u)) => Err(ApiError::Conflict(
            format!("The username {u:?} is taken."),
            vec![FieldError::new(
                "username",
                "taken",
                "choose another username",
            )],
        )),
        Err(AccountError::Store(e)) => Err(e.into()),
    }
}
