//! Authentication: argon2 password logins, HS256 JWTs with pinned algorithm and verified
//! exp/nbf/iss/aud, and the [`Auth`] extractor that turns a bearer token into a
//! [`Principal`]. Authorization itself is `innoreport_core::access::allows`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, post, web};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use innoreport_core::{Action, CommuneCode, Principal, ProvinceCode, Role, Target, allows};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// Tokens longer than this are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 4096;
/// The shortest signing secret accepted.
pub const MIN_SECRET_BYTES: usize = 32;

/// The claims of an innoreport access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commune: Option<String>,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
}

/// Signing and verification of tokens with one pinned algorithm (HS256).
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub issuer: String,
    pub audience: String,
    pub ttl: Duration,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the signing secret must be at least {MIN_SECRET_BYTES} bytes")]
pub struct WeakSecret;

impl TokenKeys {
    pub fn new(
        secret: &[u8],
        issuer: &str,
        audience: &str,
        ttl: Duration,
    ) -> Result<TokenKeys, WeakSecret> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(WeakSecret);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_audience(&[audience]);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = 30;
        Ok(TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl,
        })
    }

    /// Mints a token for `principal`, valid for `ttl` from now.
    pub fn mint(&self, principal: &Principal, ttl: Duration) -> String {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: principal.subject.clone(),
            role: principal.role.as_str().to_owned(),
            province: principal.province.as_ref().map(ToString::to_string),
            commune: principal.commune.as_ref().map(ToString::to_string),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            nbf: now,
            exp: now + ttl.as_secs() as i64,
            jti: random_token(16),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    /// Verifies a token and returns who it speaks for.
    pub fn verify(&self, token: &str) -> Result<Principal, String> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err("token too large".into());
        }
        strict_header(token)?;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| e.to_string())?;
        let c = data.claims;
        if c.sub.is_empty() || c.jti.is_empty() {
            return Err("token lacks a subject or an id".into());
        }
        let principal = Principal {
            subject: c.sub,
            role: c.role.parse()?,
            province: c
                .province
                .map(|p| ProvinceCode::parse(&p))
                .transpose()
                .map_err(|e| e.to_string())?,
            commune: c
                .commune
                .map(|p| CommuneCode::parse(&p))
                .transpose()
                .map_err(|e| e.to_string())?,
        };
        principal.check_shape()?;
        Ok(principal)
    }
}

/// The token's header must be exactly what [`TokenKeys::mint`] writes: `alg` HS256 and at most
/// `typ` JWT. Anything else — another algorithm, `crit` extensions the verifier would not honour,
/// keys or key addresses carried in the token (`jwk`, `jku`, `x5u`, `kid`) — is refused before
/// the signature is looked at (RFC 8725 §3.1, §3.10).
fn strict_header(token: &str) -> Result<(), String> {
    let head = token.split('.').next().unwrap_or_default();
    let bytes = URL_SAFE_NO_PAD
        .decode(head)
        .map_err(|_| "malformed token header".to_owned())?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(|_| "malformed token header".to_owned())?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
        return Err("only HS256 tokens are accepted".into());
    }
    match header.iter().find(|(k, v)| match k.as_str() {
        "alg" => false,
        "typ" => v.as_str() != Some("JWT"),
        _ => true,
    }) {
        Some((k, _)) => Err(format!("token header member {k} is not accepted")),
        None => Ok(()),
    }
}

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

/// A hash to verify against when the user does not exist, so that timing does not tell
/// which usernames exist.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("innoreport-no-such-user"))
}

/// Login attempts per username: a burst of 10, then one every 6 seconds (10 a minute), so a
/// password cannot be guessed by brute force. Keyed by username rather than address, because
/// behind a proxy every client shares one address.
pub type LoginLimiter = governor::DefaultKeyedRateLimiter<String>;

pub fn login_limiter() -> LoginLimiter {
    governor::RateLimiter::keyed(governor::Quota::per_minute(
        std::num::NonZeroU32::new(10).expect("non-zero"),
    ))
}

/// The authenticated caller of a request (401 when the token is missing or bad).
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl Auth {
    /// 403 unless the policy allows `action` on `target`.
    pub fn require(&self, action: Action, target: Target<'_>) -> Result<(), ApiError> {
        if allows(&self.0, action, target) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "role {} may not {} here",
                self.0.role,
                match action {
                    Action::Read => "read",
                    Action::Submit => "submit reports",
                    Action::Review => "review reports",
                    Action::ManageTargets => "set targets",
                    Action::ManageUsers => "manage users",
                }
            )))
        }
    }
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Auth, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Auth, ApiError> {
    // The admission guard has verified the token already when it counted the request.
    if let Some(principal) = req.extensions().get::<Principal>() {
        return Ok(Auth(principal.clone()));
    }
    let keys = req
        .app_data::<web::Data<AppState>>()
        .map(|s| Arc::clone(&s.keys))
        .ok_or_else(|| ApiError::Internal("application state missing".into()))?;
    principal_of(req, &keys).map(Auth)
}

/// The verified principal of the request's bearer token (401 when missing or bad).
pub fn principal_of(req: &HttpRequest, keys: &TokenKeys) -> Result<Principal, ApiError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("a bearer token is required".into()))?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header must be 'Bearer <token>'".into())
        })?;
    keys.verify(token).map_err(|e| {
        tracing::debug!(reason = %e, "token refused");
        ApiError::Unauthorized("the token is invalid or expired".into())
    })
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
    responses(
        (status = 200, description = "A bearer token", body = TokenResponse),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Wrong username or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "More than 10 attempts a minute for this username", body = Problem, content_type = "application/problem+json"),
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
        ));
    }
    let user = state
        .db(move |conn| innoreport_store::users::find_user(conn, &username))
        .await?;
    let verified = web::block(move || {
        let ok = match &user {
            Some(u) => verify_password(&password, &u.password_hash),
            None => {
                verify_password(&password, dummy_hash());
                false
            }
        };
        user.filter(|u| ok && !u.disabled)
    })
    .await?;
    let user =
        verified.ok_or_else(|| ApiError::Unauthorized("wrong username or password".into()))?;
    let principal = Principal {
        subject: user.username.clone(),
        role: user.role.parse::<Role>().map_err(ApiError::Internal)?,
        province: user
            .province_code
            .as_deref()
            .map(ProvinceCode::parse)
            .transpose()
            .map_err(|e| ApiError::Internal(e.to_string()))?,
        commune: user
            .commune_code
            .as_deref()
            .map(CommuneCode::parse)
            .transpose()
            .map_err(|e| ApiError::Internal(e.to_string()))?,
    };
    let ttl = state.keys.ttl;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token: state.keys.mint(&principal, ttl),
        token_type: "Bearer".into(),
        expires_in: ttl.as_secs(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(
            &[7u8; 32],
            "innoreport",
            "innoreport-api",
            Duration::from_secs(3600),
        )
        .unwrap()
    }

    fn officer() -> Principal {
        Principal {
            subject: "xa-muong-la".into(),
            role: Role::CommuneOfficer,
            province: Some(ProvinceCode::parse("14").unwrap()),
            commune: Some(CommuneCode::parse("03808").unwrap()),
        }
    }

    #[test]
    fn a_minted_token_verifies_to_the_same_principal() {
        let k = keys();
        let token = k.mint(&officer(), Duration::from_secs(60));
        assert_eq!(k.verify(&token).unwrap(), officer());
    }

    #[test]
    fn tokens_of_another_key_issuer_or_audience_are_refused() {
        let token = keys().mint(&officer(), Duration::from_secs(60));
        let other = TokenKeys::new(
            &[8u8; 32],
            "innoreport",
            "innoreport-api",
            Duration::from_secs(1),
        )
        .unwrap();
        assert!(other.verify(&token).is_err());
        let aud = TokenKeys::new(
            &[7u8; 32],
            "innoreport",
            "elsewhere",
            Duration::from_secs(1),
        )
        .unwrap();
        assert!(aud.verify(&token).is_err());
        let iss = TokenKeys::new(
            &[7u8; 32],
            "someone",
            "innoreport-api",
            Duration::from_secs(1),
        )
        .unwrap();
        assert!(iss.verify(&token).is_err());
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(TokenKeys::new(b"short", "i", "a", Duration::from_secs(1)).is_err());
    }

    #[test]
    fn passwords_hash_with_argon2_and_verify() {
        let h = hash_password("correct horse");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}
