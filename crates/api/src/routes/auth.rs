//! Signing in: a username and password for a short-lived bearer token.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::auth::Auth;
use crate::http::guard::source_address;
use crate::http::problem::{ApiError, Problem};
use crate::state::AppState;

/// Sign-in attempts per source address on this replica: a burst of 30, then one every 2 s, so
/// a flood of sign-ins (random usernames or not) from one address costs the service little.
/// Guessing one username is slowed further by the back-off the application keeps per username
/// and address (`innoreport_service::signin`).
pub type LoginLimiter = governor::DefaultKeyedRateLimiter<String>;

/// Sign-in attempts a source address may make at once, then per minute.
pub const SIGN_INS_PER_MINUTE: u32 = 30;

pub fn login_limiter() -> LoginLimiter {
    governor::RateLimiter::keyed(governor::Quota::per_minute(
        std::num::NonZeroU32::new(SIGN_INS_PER_MINUTE).expect("non-zero"),
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
        (status = 429, description = "Too many attempts from this address, or for this username from this address (with Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Too many sign-ins at once; retry after the time given", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/token")]
pub async fn issue_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let TokenRequest { username, password } = body.into_inner();
    let source = source_address(&req, state.guard.limits().trust_forwarded_for);
    let limiter = &state.login_limiter;
    if limiter.len() > 100_000 {
        limiter.retain_recent();
    }
    if let Err(not_until) = limiter.check_key(&source) {
        use governor::clock::Clock as _;
        let wait = not_until
            .wait_time_from(governor::clock::DefaultClock::default().now())
            .as_secs()
            .max(1);
        return Err(ApiError::TooManyRequests(
            format!("too many sign-ins from this address; retry after {wait} s"),
            wait,
        ));
    }
    let (principal, version) = state
        .call(move |s| s.sign_in(&username, &password, &source))
        .await?;
    Ok(HttpResponse::Ok().json(token_for(&state, &principal, version)))
}

fn token_for(
    state: &AppState,
    principal: &innoreport_core::Principal,
    version: i32,
) -> TokenResponse {
    let ttl = state.keys.ttl;
    TokenResponse {
        access_token: state.keys.mint_versioned(principal, ttl, Some(version)),
        token_type: "Bearer".into(),
        expires_in: ttl.as_secs(),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 12 characters (after NFKC normalisation), not only spaces, not a run like
    /// 123456789012, not containing the username, not a common password.
    pub new_password: String,
}

/// A login changes its own password. Every token of the login ends; the answer is a fresh one.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordChange,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The password is changed; a new token (the old ones are ended)", body = TokenResponse),
        (status = 401, description = "Missing, bad or revoked token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token is not a login's", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The current password is wrong, or the new one breaks a rule (every rule named)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let PasswordChange {
        current_password,
        new_password,
    } = body.into_inner();
    let (principal, version) = state
        .call(move |s| s.change_own_password(&auth.0, &current_password, &new_password))
        .await?;
    Ok(HttpResponse::Ok().json(token_for(&state, &principal, version)))
}
