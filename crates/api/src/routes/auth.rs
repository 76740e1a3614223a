//! Signing in: a username and password for a short-lived bearer token.

use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::problem::{ApiError, Problem};
use crate::state::AppState;

/// Login attempts per username: a burst of 10, then one every 6 seconds (10 a minute), so a
/// password cannot be guessed by brute force.
pub type LoginLimiter = governor::DefaultKeyedRateLimiter<String>;

pub fn login_limiter() -> LoginLimiter {
    governor::RateLimiter::keyed(governor::Quota::per_minute(
        std::num::NonZeroU32::new(10).expect("non-zero"),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[schema(example = "xa-muong-la")]
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}

/// Exchanges a username and password for a short-lived bearer token.
#[utoipa::path(
    tag = "auth",
    request_body = TokenRequest,
    security(()),
    responses(
        (status = 200, description = "A bearer token", body = TokenResponse),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong username or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts for this username", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/token")]
pub async fn issue_token(
    state: web::Data<AppState>,
    body: web::Json<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let TokenRequest { username, password } = body.into_inner();
    if username.len() > 200 || password.len() > 1024 {
        return Err(ApiError::Unauthorized("wrong username or password".into()));
    }
    let limiter = &state.login_limiter;
    if limiter.len() > 100_000 {
        limiter.retain_recent();
    }
    if limiter.check_key(&username.to_lowercase()).is_err() {
        return Err(ApiError::TooManyRequests(
            "too many login attempts for this username; wait a minute".into(),
            60,
        ));
    }
    let principal = state
        .call(move |s| s.sign_in(&username, &password))
        .await?
        .ok_or_else(|| ApiError::Unauthorized("wrong username or password".into()))?;
    let ttl = state.keys.ttl;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token: state.keys.mint(&principal, ttl),
        token_type: "Bearer".into(),
        expires_in: ttl.as_secs(),
    }))
}
