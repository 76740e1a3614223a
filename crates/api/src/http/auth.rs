//! Authentication: HS256 JWTs with pinned algorithm and verified exp/nbf/iss/aud, and the
//! [`Auth`] extractor that turns a bearer token into a [`Principal`]. Passwords are checked by
//! the application (`innoreport_service::accounts`); authorization itself is
//! `innoreport_core::access`.

use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use innoreport_core::{CommuneCode, Principal, ProvinceCode};
use innoreport_service::passwords::random_token;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::http::problem::ApiError;
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
    /// The login's version when the token was issued to a login (sign-in): the token is
    /// honoured only while the login is enabled and still at this version. Operator tokens
    /// (`innoreport token`) have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ver: Option<i32>,
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
        self.mint_versioned(principal, ttl, None)
    }

    /// Mints a token of a login at `version` (ended when the login changes).
    pub fn mint_versioned(
        &self,
        principal: &Principal,
        ttl: Duration,
        version: Option<i32>,
    ) -> String {
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
            ver: version,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    /// Verifies a token and returns who it speaks for.
    pub fn verify(&self, token: &str) -> Result<Principal, String> {
        self.verify_versioned(token).map(|(p, _)| p)
    }

    /// Verifies a token: who it speaks for, and the login version it carries (if any).
    pub fn verify_versioned(&self, token: &str) -> Result<(Principal, Option<i32>), String> {
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
        Ok((principal, c.ver))
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

/// The authenticated caller of a request (401 when the token is missing or bad). What the
/// caller may do is asked of `core::access` by the application, never decided here.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Auth, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Auth, ApiError> {
    // The admission guard has verified the credential (and that its login or key still stands)
    // already, when it counted the request.
    if let Some(principal) = req.extensions().get::<Principal>() {
        return Ok(Auth(principal.clone()));
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal("application state missing".into()))?;
    // Outside the guard a login's token or a key is honoured only on what this replica knows
    // freshly.
    match credential_of(req, &state.keys)? {
        Credential::Token(principal, Some(v)) => {
            match state.service.cached_login_state(&principal.subject) {
                Some(Some(s)) if !s.disabled && s.version == v => Ok(Auth(principal)),
                _ => Err(revoked()),
            }
        }
        Credential::Token(principal, None) => Ok(Auth(principal)),
        Credential::Key(key) => match state.service.cached_key_principal(&key) {
            Some(Some(principal)) => Ok(Auth(principal)),
            _ => Err(key_refused()),
        },
    }
}

/// The answer to a token whose login was disabled or changed.
pub fn revoked() -> ApiError {
    ApiError::Unauthorized(
        "the token was revoked (its login was disabled or changed); sign in again".into(),
    )
}

/// The answer to an integration key that is unknown, wrong or revoked.
pub fn key_refused() -> ApiError {
    ApiError::Unauthorized("the integration key is unknown or revoked".into())
}

/// What a request presents to say who it is.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A verified token: its principal and its login's version (`None`: an operator's token).
    Token(Principal, Option<i32>),
    /// An integration key, to be checked against the store.
    Key(String),
}

/// The request's credential (401 when missing or bad): `Authorization: Bearer <token or key>`,
/// or `Authorization: Basic` with an integration key as the password and any username (what
/// Power BI and Excel send). Never read from the URL.
pub fn credential_of(req: &HttpRequest, keys: &TokenKeys) -> Result<Credential, ApiError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("a bearer token is required".into()))?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".into()))?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic") && !rest.is_empty() {
        let basic = || {
            ApiError::Unauthorized(
                "HTTP Basic carries an integration key as its password (any username); people sign in at /api/v1/auth/token".into(),
            )
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|_| basic())?;
        let text = String::from_utf8(bytes).map_err(|_| basic())?;
        let (_, password) = text.split_once(':').ok_or_else(basic)?;
        if !innoreport_service::keys::looks_like_key(password) {
            return Err(basic());
        }
        return Ok(Credential::Key(password.to_owned()));
    }
    if !scheme.eq_ignore_ascii_case("bearer") || rest.is_empty() {
        return Err(ApiError::Unauthorized(
            "the Authorization header must be 'Bearer <token>' (or Basic with an integration key)"
                .into(),
        ));
    }
    if innoreport_service::keys::looks_like_key(rest) {
        return Ok(Credential::Key(rest.to_owned()));
    }
    keys.verify_versioned(rest)
        .map(|(p, v)| Credential::Token(p, v))
        .map_err(|e| {
            tracing::debug!(reason = %e, "token refused");
            ApiError::Unauthorized("the token is invalid or expired".into())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use innoreport_core::Role;

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
}
