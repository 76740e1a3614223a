//! Logins: `POST /users` (province admins create the logins of their province; admins all).

use actix_web::{HttpResponse, post, web};
use innoreport_core::Role;
use innoreport_service::accounts::NewAccount as Account;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::auth::Auth;
use crate::http::problem::{ApiError, Problem};
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
    let a = body.into_inner();
    let account = Account {
        username: a.username,
        role: Some(a.role),
        province: a.province,
        commune: a.commune,
        password: a.password,
        display_name: a.display_name,
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
