//! Integration keys: create (the key shown once), list, show, revoke. Whoever may create an
//! analyst login of a scope manages that scope's keys (see `innoreport_service::keys`).

use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use innoreport_core::ProvinceCode;
use innoreport_service::keys::IntegrationKey;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Auth;
use crate::http::problem::{ApiError, Problem};
use crate::http::query::Query;
use crate::state::AppState;

/// A key to create.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// What the key is for, 1 to 100 characters (e.g. "Power BI – Sở KH&CN").
    #[schema(example = "Power BI")]
    pub name: String,
    /// The province the key reads (a province admin's default: their own); omitted by an
    /// admin: national.
    #[schema(example = "14")]
    pub province: Option<String>,
}

/// A key as its managers see it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyOut {
    /// Also the key's first part: `irk_<id>_…`.
    pub id: String,
    pub name: String,
    /// The province it reads; null: national.
    pub province: Option<String>,
    /// It reads with the powers of this role: `province_analyst` or `national_analyst`.
    pub role: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Within a minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

/// A new key, with the key itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    pub key: KeyOut,
    /// The key: shown only this once. Send it as `Authorization: Bearer <key>`, or as the
    /// password of HTTP Basic with any username (Power BI, Excel).
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub items: Vec<KeyOut>,
}

fn out(k: IntegrationKey) -> KeyOut {
    KeyOut {
        role: if k.province.is_some() {
            "province_analyst"
        } else {
            "national_analyst"
        }
        .into(),
        id: k.id,
        name: k.name,
        province: k.province,
        created_by: k.created_by,
        created_at: k.created_at,
        last_used_at: k.last_used_at,
        revoked_at: k.revoked_at,
        revoked_by: k.revoked_by,
    }
}

/// Creates a read-only integration key for a province (or, by an admin, national).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = NewKey,
    responses(
        (status = 201, description = "Created; `secret` is shown only this once", body = CreatedKey),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the logins the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad name or an unknown province, every problem listed", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/keys")]
pub async fn create_key(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<NewKey>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let created = state
        .call(move |s| s.create_key(&auth.0, &b.name, b.province))
        .await?;
    Ok(HttpResponse::Created().json(CreatedKey {
        key: out(created.key),
        secret: created.secret,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeyQuery {
    /// Only this province's keys (a province admin: their own, the default).
    #[param(value_type = Option<String>, example = "14")]
    pub province: Option<ProvinceCode>,
}

/// The integration keys the caller manages, revoked ones included, oldest first.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    params(KeyQuery),
    responses(
        (status = 200, description = "The keys", body = KeyList),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the logins the caller manages", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/keys")]
pub async fn list_keys(
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<KeyQuery>,
) -> Result<HttpResponse, ApiError> {
    let province = query.province.as_ref().map(ToString::to_string);
    let keys = state.call(move |s| s.keys(&auth.0, province)).await?;
    Ok(HttpResponse::Ok().json(KeyList {
        items: keys.into_iter().map(out).collect(),
    }))
}

/// One integration key.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The key's id")),
    responses(
        (status = 200, description = "The key", body = KeyOut),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the logins the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/keys/{id}")]
pub async fn get_key(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let key = state.call(move |s| s.key(&auth.0, &id)).await?;
    Ok(HttpResponse::Ok().json(out(key)))
}

/// Revokes an integration key: refused from now on (within a second on every replica). The key
/// stays listed, with who revoked it and when; revoking it again changes nothing.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The key's id")),
    responses(
        (status = 200, description = "Revoked", body = KeyOut),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the logins the caller manages", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/keys/{id}")]
pub async fn revoke_key(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let key = state.call(move |s| s.revoke_key(&auth.0, &id)).await?;
    Ok(HttpResponse::Ok().json(out(key)))
}
