//! Logins: create, list, show, change (role, scope, disabled), reset a password. Province admins
//! manage the logins of their province; admins all (see `innoreport_service::accounts`).

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use innoreport_core::Role;
use innoreport_service::accounts::{Login, LoginChange, LoginQuery, NewAccount as Account};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Auth;
use crate::http::export::{
    BATCH_ROWS, Cell, Export, ExportParams, ExportRow, Format, Lang, Pages, columns, respond,
};
use crate::http::pagination::{PageParams, page_of};
use crate::http::problem::{ApiError, Problem};
use crate::http::query::Query;
use crate::routes::words;
use crate::state::AppState;

/// A login to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// 1 to 64 ASCII letters, digits and `- _ . @` (not first `-` or `@`); unique regardless of
    /// case.
    #[schema(example = "xa-muong-la")]
    pub username: String,
    pub role: Role,
    /// Required for province roles and commune officers (derived from the commune when omitted).
    pub province: Option<String>,
    /// Required for commune officers.
    pub commune: Option<String>,
    /// At least 12 characters, not common, not containing the username; generated (and
    /// returned once) when omitted.
    pub password: Option<String>,
    #[serde(default)]
    pub display_name: String,
    /// Where the login's notices go (reminders, returned reports, digests); none when omitted.
    #[schema(example = "vanthu@muongla.sonla.gov.vn")]
    pub email: Option<String>,
    /// The language of its notices: `vi` (the default) or `en`.
    #[schema(example = "vi")]
    pub language: Option<String>,
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
        (status = 409, description = "The username is taken (regardless of case)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid account, every problem listed", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/users")]
pub async fn create_user_endpoint(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<NewAccount>,
) -> Result<HttpResponse, ApiError> {
    let a = body.into_inner();
    let account = Account {
        username: a.username,
        role: Some(a.role),
        province: a.province,
        commune: a.commune,
        password: a.password,
        display_name: a.display_name,
        email: a.email,
        language: a.language,
    };
    let created = state
        .call(move |s| s.create_login(&auth.0, account))
        .await?;
    Ok(HttpResponse::Created().json(CreatedAccount {
        username: created.username,
        role: created.role,
        province: created.province,
        commune: created.commune,
        generated_password: created.generated_password,
    }))
}

/// A login.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginOut {
    pub username: String,
    pub role: Role,
    pub province: Option<String>,
    pub commune: Option<String>,
    pub display_name: String,
    /// A disabled login signs in to nothing and its tokens are refused.
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    /// The last change of role, scope, state or password.
    pub updated_at: DateTime<Utc>,
    /// Where its notices go (null: none by email).
    pub email: Option<String>,
    /// `vi` or `en`: the language of its notices.
    pub language: String,
    /// Whether it gets reminders (the notices of review actions always go).
    pub reminders: bool,
}

impl From<Login> for LoginOut {
    fn from(l: Login) -> Self {
        LoginOut {
            username: l.username,
            role: l.role,
            province: l.province,
            commune: l.commune,
            display_name: l.display_name,
            disabled: l.disabled,
            created_at: l.created_at,
            updated_at: l.updated_at,
            email: l.email,
            language: l.language,
            reminders: l.reminders,
        }
    }
}

impl ExportRow for LoginOut {
    fn columns() -> Vec<(String, String)> {
        columns(&[
            ("username", "Tên đăng nhập"),
            ("role", "Vai trò"),
            ("province", "Mã tỉnh"),
            ("commune", "Mã xã"),
            ("display_name", "Tên hiển thị"),
            ("disabled", "Đã khóa"),
            ("created_at", "Tạo lúc"),
            ("updated_at", "Thay đổi lúc"),
            ("email", "Thư điện tử"),
            ("language", "Ngôn ngữ"),
            ("reminders", "Nhận nhắc hạn"),
        ])
    }

    fn cells(&self) -> Vec<Cell> {
        vec![
            self.username.as_str().into(),
            words::role(self.role),
            self.province.clone().into(),
            self.commune.clone().into(),
            self.display_name.as_str().into(),
            Cell::Code(
                if self.disabled { "yes" } else { "no" }.into(),
                if self.disabled { "Có" } else { "Không" }.into(),
            ),
            self.created_at.into(),
            self.updated_at.into(),
            self.email.clone().into(),
            self.language.as_str().into(),
            Cell::Code(
                if self.reminders { "yes" } else { "no" }.into(),
                if self.reminders { "Có" } else { "Không" }.into(),
            ),
        ]
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginList {
    pub items: Vec<LoginOut>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LoginFilter {
    pub role: Option<Role>,
    /// Only this province's logins (a province admin: their own).
    #[param(value_type = Option<String>, example = "14")]
    pub province: Option<innoreport_core::ProvinceCode>,
    #[param(value_type = Option<String>, example = "03808")]
    pub commune: Option<innoreport_core::CommuneCode>,
    pub disabled: Option<bool>,
}

impl LoginFilter {
    fn query(&self) -> LoginQuery {
        LoginQuery {
            role: self.role,
            province: self.province.as_ref().map(ToString::to_string),
            commune: self.commune.as_ref().map(ToString::to_string),
            disabled: self.disabled,
        }
    }
}

/// The logins the caller manages (a province admin: their province's; an admin: all), filtered.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    params(LoginFilter, PageParams, ExportParams),
    responses(
        (status = 200, description = "One page of logins (as CSV or xlsx: all of them)", body = LoginList),
        (status = 403, description = "The caller manages no logins there", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/users")]
pub async fn list_users(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    filter: Query<LoginFilter>,
    page: Query<PageParams>,
    export: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req);
    if format != Format::Json {
        return export_users(state, auth, filter, format, export.lang()).await;
    }
    let limit = page.limit()?;
    let after = page.after_id("login")?;
    let q = filter.query();
    let rows = state
        .call(move |s| s.logins(&auth.0, &q, after, limit as i64 + 1))
        .await?;
    let (rows, next_cursor) = page_of(rows, limit, "login", |(id, _)| id.to_string());
    Ok(HttpResponse::Ok().json(LoginList {
        items: rows.into_iter().map(|(_, l)| l.into()).collect(),
        next_cursor,
    }))
}

async fn export_users(
    state: web::Data<AppState>,
    auth: Auth,
    filter: Query<LoginFilter>,
    format: Format,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let q = filter.query();
    let service = state.service.clone();
    let who = auth.0.clone();
    // The scope is checked before the answer starts.
    let (w, q2) = (who.clone(), q.clone());
    state.call(move |s| s.logins(&w, &q2, None, 1)).await?;
    let pages = Pages::new(move |after: Option<&i64>| {
        let rows = service.logins(&who, &q, after.copied(), BATCH_ROWS as i64)?;
        let last = (rows.len() == BATCH_ROWS as usize)
            .then(|| rows.last().map(|(id, _)| *id))
            .flatten();
        Ok((
            rows.into_iter()
                .map(|(_, l)| LoginOut::from(l).cells())
                .collect(),
            last,
        ))
    });
    respond(
        format,
        lang,
        || Export::new("logins", LoginOut::columns(), pages),
        || HttpResponse::Ok().finish(),
    )
    .await
}

crate::export_routes! {
    module: list_users_exports,
    tag: "auth",
    security: (("bearer" = [])),
    csv: list_users_csv = "/users.csv",
    xlsx: list_users_xlsx = "/users.xlsx",
    params: (LoginFilter,),
    args: (auth: Auth, filter: Query<LoginFilter>),
    export: export_users,
}

/// One login the caller manages.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    params(("username" = String, Path, example = "xa-muong-la")),
    responses(
        (status = 200, description = "The login", body = LoginOut),
        (status = 403, description = "Not a login the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such login", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/users/{username}")]
pub async fn get_user(
    state: web::Data<AppState>,
    auth: Auth,
    username: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let username = username.into_inner();
    let login = state.call(move |s| s.login(&auth.0, &username)).await?;
    Ok(HttpResponse::Ok().json(LoginOut::from(login)))
}

/// What to change of a login; fields left out are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginPatch {
    /// A new role (its scope is kept when it fits, or give `province` / `commune`).
    pub role: Option<Role>,
    /// A new province (null for a national role).
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub province: Option<Option<String>>,
    /// A new commune (null when the role has none).
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub commune: Option<Option<String>>,
    /// Disable (true) or enable (false). Disabling ends the login's tokens at once.
    pub disabled: Option<bool>,
    /// A new email address for its notices (null removes it).
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// `vi` or `en`.
    pub language: Option<String>,
    /// Whether it gets reminders.
    pub reminders: Option<bool>,
    pub display_name: Option<String>,
}

/// Tells a field given as null (`Some(None)`) from a field left out (`None`).
pub(crate) fn some<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Changes a login: role and scope, disabled or enabled, display name. A new role or scope, or
/// disabling, ends the login's tokens at once (on every replica within a second).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    params(("username" = String, Path, example = "xa-muong-la")),
    request_body = LoginPatch,
    responses(
        (status = 200, description = "The login as it is now", body = LoginOut),
        (status = 403, description = "Not a login the caller manages, or a scope the caller does not manage", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such login", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A login cannot disable itself", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A role and scope that do not fit, every problem listed", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/users/{username}")]
pub async fn update_user(
    state: web::Data<AppState>,
    auth: Auth,
    username: web::Path<String>,
    body: web::Json<LoginPatch>,
) -> Result<HttpResponse, ApiError> {
    let username = username.into_inner();
    let b = body.into_inner();
    let change = LoginChange {
        role: b.role,
        province: b.province,
        commune: b.commune,
        disabled: b.disabled,
        display_name: b.display_name,
        email: b.email,
        language: b.language,
        reminders: b.reminders,
    };
    let login = state
        .call(move |s| s.update_login(&auth.0, &username, change))
        .await?;
    Ok(HttpResponse::Ok().json(LoginOut::from(login)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// The new password; generated (and returned once) when omitted.
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordResetOut {
    pub login: LoginOut,
    /// The generated password, shown only this once (null when the caller chose it).
    pub generated_password: Option<String>,
}

/// Resets a login's password (to the one given, or a generated one shown once). Ends the
/// login's tokens at once.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    params(("username" = String, Path, example = "xa-muong-la")),
    request_body = PasswordReset,
    responses(
        (status = 200, description = "The password is reset", body = PasswordResetOut),
        (status = 403, description = "Not a login the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such login", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The password breaks a rule (every rule named)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/users/{username}/password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    auth: Auth,
    username: web::Path<String>,
    body: web::Json<PasswordReset>,
) -> Result<HttpResponse, ApiError> {
    let username = username.into_inner();
    let password = body.into_inner().password;
    let (login, generated) = state
        .call(move |s| s.reset_password(&auth.0, &username, password))
        .await?;
    Ok(HttpResponse::Ok().json(PasswordResetOut {
        login: login.into(),
        generated_password: generated,
    }))
}
