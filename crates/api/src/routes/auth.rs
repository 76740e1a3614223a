//! Signing in: a username and password for a short-lived bearer token.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    let principal = state
        .call(move |s| s.sign_in(&username, &password, &source))
        .await?;
    let ttl = state.keys.ttl;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token: state.keys.mint(&principal, ttl),
        token_type: "Bearer".into(),
        expires_in: ttl.as_secs(),
    }))
}
