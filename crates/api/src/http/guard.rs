//! Admission control in front of every `/api/` request, so that no client, however slow or
//! however many its connections, can hold the service for everyone else:
//!
//! 1. **Bodies first, against a deadline.** A request's body is read before the request counts
//!    against the service's capacity, within `body_timeout` (plus time for its size at a modest
//!    rate); a client that sends a few bytes and stalls gets 408 and its connection closed. While
//!    bodies are read, each client may have only a few open at once (beyond them: 429), and
//!    large bodies (imports) have a small allowance of their own, so memory stays bounded.
//! 2. **Capacity.** Requests worked on at once are capped over all workers (503 at once beyond
//!    it), and one client may hold at most a share of them (429 beyond it).
//! 3. **Rate.** Each client has a sustained rate and a burst (429 beyond it).
//!
//! Every refusal is immediate, as problem+json with `Retry-After`. Clients are the token's
//! subject when the request carries a valid bearer token (the verified principal is kept for the
//! [`crate::http::auth::Auth`] extractor, so the token is checked once), and the source address
//! otherwise. Health, readiness, metrics and the API document are never limited.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use futures_util::StreamExt;
use governor::clock::{Clock as _, DefaultClock};

use crate::http::problem::problem_response;
use crate::state::AppState;

/// A request body above this size (or of unknown size) counts as a large upload.
pub const LARGE_BODY_BYTES: u64 = 1024 * 1024;

/// The slowest a body may arrive once past the first `body_timeout`: 32 KiB a second.
pub const MIN_BODY_RATE: u64 = 32 * 1024;

/// The longest any body may take to arrive.
pub const MAX_BODY_SECONDS: u64 = 300;

/// How much work the service takes at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests worked on at once, over all workers; more are answered 503.
    pub max_in_flight: usize,
    /// Of those, large uploads (imports) at once.
    pub max_large_uploads: usize,
    /// Requests one client may have open at once (bodies being read, or being worked on);
    /// beyond it 429.
    pub max_per_client: usize,
    /// Sustained requests per second per client; 0 turns the rate limit off.
    pub rate_per_second: u32,
    /// Requests a client may send in a burst above the sustained rate.
    pub burst: u32,
    /// Behind a reverse proxy every request comes from the proxy: when set, a request without a
    /// token counts against the last address of `X-Forwarded-For` (the one the proxy added).
    /// Only for a service reachable through the proxy alone, or clients could pick their key.
    pub trust_forwarded_for: bool,
    /// Time for a whole request body to arrive (more for large bodies, at [`MIN_BODY_RATE`]).
    pub body_timeout: Duration,
    /// Writes (submissions, imports, reviews) worked on at once; more wait their turn, first
    /// come first served, so reads keep database connections of their own during a rush.
    pub db_writers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_in_flight: 64,
            max_large_uploads: 4,
            max_per_client: 16,
            rate_per_second: 50,
            burst: 100,
            trust_forwarded_for: false,
            body_timeout: Duration::from_secs(10),
            db_writers: 14,
        }
    }
}

type ClientLimiter = governor::DefaultKeyedRateLimiter<String>;

/// Shared by every worker of one process.
#[derive(Debug)]
pub struct Guard {
    limits: Limits,
    in_flight: AtomicUsize,
    large: AtomicUsize,
    /// Requests open per client.
    open: Mutex<HashMap<String, usize>>,
    clients: Option<ClientLimiter>,
}

impl Guard {
    pub fn new(limits: Limits) -> Guard {
        let clients = NonZeroU32::new(limits.rate_per_second).map(|rate| {
            let burst = NonZeroU32::new(limits.burst.max(limits.rate_per_second)).unwrap_or(rate);
            governor::RateLimiter::keyed(governor::Quota::per_second(rate).allow_burst(burst))
        });
        Guard {
            limits,
            in_flight: AtomicUsize::new(0),
            large: AtomicUsize::new(0),
            open: Mutex::new(HashMap::new()),
            clients,
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Requests being worked on now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Ok, or the seconds the client should wait.
    fn check_rate(&self, client: &String) -> Result<(), u64> {
        let Some(limiter) = &self.clients else {
            return Ok(());
        };
        // Forget idle clients now and then, so random keys cannot grow the table.
        if limiter.len() > 100_000 {
            limiter.retain_recent();
        }
        limiter.check_key(client).map_err(|not_until| {
            not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1)
        })
    }

    /// A request of `client` opened, or `None` when the client has `max` open already.
    fn open(&self, client: &str, max: usize) -> Option<Opened<'_>> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(client.to_owned()).or_insert(0);
        if *n >= max {
            if *n == 0 {
                open.remove(client);
            }
            return None;
        }
        *n += 1;
        Some(Opened {
            guard: self,
            client: client.to_owned(),
        })
    }

    /// A slot for one request, or `None` when the service is at its limit. Writes may fill
    /// only three quarters of the slots, so reads are still answered while communes rush to
    /// submit before a deadline.
    fn admit(&self, write: bool) -> Option<Slot<'_>> {
        let max = if write {
            (self.limits.max_in_flight * 3 / 4).max(1)
        } else {
            self.limits.max_in_flight
        };
        Slot::take(&self.in_flight, max)
    }

    /// The time a body of `length` bytes (None: unknown) may take to arrive.
    pub fn body_deadline(&self, length: Option<u64>) -> Duration {
        let extra = length.unwrap_or(crate::MAX_UPLOAD_BYTES as u64) / MIN_BODY_RATE;
        (self.limits.body_timeout + Duration::from_secs(extra))
            .min(Duration::from_secs(MAX_BODY_SECONDS))
    }
}

/// One open request of a client, closed when dropped.
struct Opened<'a> {
    guard: &'a Guard,
    client: String,
}

impl Drop for Opened<'_> {
    fn drop(&mut self) {
        let mut open = self.guard.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.client);
            }
        }
    }
}

/// One taken unit of a counter, given back when dropped.
struct Slot<'a>(&'a AtomicUsize);

impl<'a> Slot<'a> {
    fn take(counter: &'a AtomicUsize, max: usize) -> Option<Slot<'a>> {
        if counter.fetch_add(1, Ordering::AcqRel) >= max {
            counter.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Slot(counter))
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The declared length of the body (`None`: unknown, as with chunked transfer), and whether
/// there is a body at all.
fn body_length(req: &ServiceRequest) -> (bool, Option<u64>) {
    let headers = req.headers();
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return (true, None);
    }
    match headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        Some(0) | None => (false, Some(0)),
        Some(n) => (true, Some(n)),
    }
}

/// The 413 of a body larger than the endpoint accepts.
fn too_large<B>(req: ServiceRequest) -> ServiceResponse<EitherBody<B>> {
    refuse(
        req,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        "Payload too large",
        "The request body is larger than this endpoint accepts.",
        0,
    )
}

/// The address a request comes from: the peer, or behind a trusted proxy the address the proxy
/// saw.
pub fn source_address(req: &actix_web::HttpRequest, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for && let Some(ip) = forwarded_client(req.headers()) {
        return ip.to_string();
    }
    match req.peer_addr() {
        Some(addr) => addr.ip().to_string(),
        None => "unknown".to_owned(),
    }
}

/// An integration key this replica has not checked lately: the request counts against its
/// source address until the key is checked, last, before the handler.
struct PendingKey(String);

/// The client a request is counted against: the token's subject (the verified principal is kept
/// for the `Auth` extractor) or the source address. `Err` for the token of a login that was
/// disabled or changed since the token was issued.
async fn client_of(
    req: &ServiceRequest,
    state: &AppState,
) -> Result<String, crate::http::problem::ApiError> {
    use crate::http::auth::Credential;
    match crate::http::auth::credential_of(req.request(), &state.keys) {
        Ok(Credential::Token(principal, version)) => {
            if let Some(v) = version {
                let state_now = match state.service.cached_login_state(&principal.subject) {
                    Some(s) => s,
                    None => {
                        let (service, subject) = (state.service.clone(), principal.subject.clone());
                        web::block(move || service.login_state(&subject)).await??
                    }
                };
                if !state_now.is_some_and(|s| !s.disabled && s.version == v) {
                    return Err(crate::http::auth::revoked());
                }
            }
            let key = format!("sub:{}", principal.subject);
            req.extensions_mut().insert(principal);
            return Ok(key);
        }
        Ok(Credential::Key(presented)) => match state.service.cached_key_principal(&presented) {
            Some(Some(principal)) => {
                let key = format!("sub:{}", principal.subject);
                req.extensions_mut().insert(principal);
                return Ok(key);
            }
            Some(None) => return Err(crate::http::auth::key_refused()),
            // Not known freshly: checked against the store once the request has passed its
            // source address's limits, so made-up keys cost the database nothing extra.
            None => {
                req.extensions_mut().insert(PendingKey(presented));
            }
        },
        Err(_) => {}
    }
    Ok(format!(
        "ip:{}",
        source_address(req.request(), state.guard.limits.trust_forwarded_for)
    ))
}

/// The address the nearest proxy saw: the last entry of the last `X-Forwarded-For` header.
fn forwarded_client(headers: &actix_web::http::header::HeaderMap) -> Option<std::net::IpAddr> {
    headers
        .get_all("x-forwarded-for")
        .last()?
        .to_str()
        .ok()?
        .rsplit(',')
        .next()?
        .trim()
        .parse()
        .ok()
}

fn refuse<B>(
    req: ServiceRequest,
    status: StatusCode,
    kind: &str,
    title: &str,
    detail: &str,
    retry_after: u64,
) -> ServiceResponse<EitherBody<B>> {
    let mut res = problem_response(status, kind, title, detail);
    if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, value);
    }
    if status == StatusCode::REQUEST_TIMEOUT {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    req.into_response(res).map_into_right_body()
}

/// Why a body could not be read.
enum BodyFailure {
    TooLarge,
    TimedOut,
    Broken,
}

/// Reads the whole body within `deadline`, never waiting more than `idle` for the next bytes,
/// and at most `limit` bytes.
async fn read_body(
    payload: Payload,
    limit: usize,
    deadline: Duration,
    idle: Duration,
) -> Result<web::Bytes, BodyFailure> {
    let read = async move {
        let mut payload = payload;
        let mut body = web::BytesMut::new();
        loop {
            let next = tokio::time::timeout(idle, payload.next())
                .await
                .map_err(|_| BodyFailure::TimedOut)?;
            let Some(chunk) = next else {
                return Ok(body.freeze());
            };
            let chunk = chunk.map_err(|_| BodyFailure::Broken)?;
            if body.len() + chunk.len() > limit {
                return Err(BodyFailure::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
    };
    match tokio::time::timeout(deadline, read).await {
        Ok(result) => result,
        Err(_) => Err(BodyFailure::TimedOut),
    }
}

/// The largest body a request without a valid token may send (a sign-in).
pub const ANONYMOUS_BODY_BYTES: usize = 16 * 1024;

/// The middleware: `App::wrap(actix_web::middleware::from_fn(guard::admit))`.
pub async fn admit<B: MessageBody>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    if !req.path().starts_with("/api/") || req.path() == crate::OPENAPI_PATH {
        return next.call(req).await.map(|r| r.map_into_left_body());
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await.map(|r| r.map_into_left_body());
    };
    let guard = &state.guard;
    let client = match client_of(&req, &state).await {
        Ok(c) => c,
        Err(e) => {
            let res = actix_web::ResponseError::error_response(&e);
            return Ok(req.into_response(res).map_into_right_body());
        }
    };
    // A client holds at most a share of the service, body reading and work together.
    let Some(_opened) = guard.open(&client, guard.limits.max_per_client) else {
        state.metrics.rate_limited.inc();
        return Ok(refuse(
            req,
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-requests",
            "Too many requests",
            &format!(
                "more than {} requests open at once from this client; retry after 1 s",
                guard.limits.max_per_client
            ),
            1,
        ));
    };
    // The body arrives whole, in time, before the request counts against capacity.
    let (has_body, length) = body_length(&req);
    let signed = req
        .extensions()
        .get::<innoreport_core::Principal>()
        .is_some()
        || req.extensions().get::<PendingKey>().is_some();
    // Without a valid token only a sign-in has a body worth reading: other requests are answered
    // 401 by their handler before any of their body is read.
    let is_sign_in = req.path() == "/api/v1/auth/token";
    if has_body && !signed && !is_sign_in {
        return next.call(req).await.map(|r| r.map_into_left_body());
    }
    let limit = if signed {
        crate::MAX_UPLOAD_BYTES
    } else {
        ANONYMOUS_BODY_BYTES
    };
    let large = signed && has_body && length.is_none_or(|n| n > LARGE_BODY_BYTES);
    // One large upload at a time per client.
    let _large_for_client = match large {
        true => match guard.open(&format!("large:{client}"), 1) {
            Some(o) => Some(o),
            None => {
                state.metrics.rate_limited.inc();
                return Ok(refuse(
                    req,
                    StatusCode::TOO_MANY_REQUESTS,
                    "too-many-requests",
                    "Too many requests",
                    "one large upload at a time per client; retry after 1 s",
                    1,
                ));
            }
        },
        false => None,
    };
    let _upload = match large {
        true => match Slot::take(&guard.large, guard.limits.max_large_uploads) {
            Some(slot) => Some(slot),
            None => {
                state.metrics.shed.inc();
                return Ok(refuse(
                    req,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "overloaded",
                    "Service overloaded",
                    "the service is receiving as many large uploads as it takes at once; retry after 1 s",
                    1,
                ));
            }
        },
        false => None,
    };
    // A body declared larger than accepted is refused before any of it is waited for.
    if length.is_some_and(|n| n > limit as u64) {
        return Ok(too_large(req));
    }
    if has_body {
        let deadline = guard.body_deadline(length);
        match read_body(
            req.take_payload(),
            limit,
            deadline,
            guard.limits.body_timeout,
        )
        .await
        {
            Ok(body) => req.set_payload(Payload::from(body)),
            Err(BodyFailure::TooLarge) => {
                return Ok(too_large(req));
            }
            Err(BodyFailure::TimedOut) => {
                return Ok(refuse(
                    req,
                    StatusCode::REQUEST_TIMEOUT,
                    "request-timeout",
                    "Request timeout",
                    &format!(
                        "the request body did not arrive within {} s",
                        deadline.as_secs()
                    ),
                    1,
                ));
            }
            Err(BodyFailure::Broken) => {
                return Ok(refuse(
                    req,
                    StatusCode::BAD_REQUEST,
                    "bad-request",
                    "Bad request",
                    "the request body could not be read",
                    0,
                ));
            }
        }
    }
    let write = !matches!(*req.method(), Method::GET | Method::HEAD);
    let Some(_slot) = guard.admit(write) else {
        state.metrics.shed.inc();
        return Ok(refuse(
            req,
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "Service overloaded",
            "the service is at capacity; retry after 1 s",
            1,
        ));
    };
    if let Err(wait) = guard.check_rate(&client) {
        state.metrics.rate_limited.inc();
        let detail = format!(
            "more than {} requests a second from this client; retry after {wait} s",
            guard.limits.rate_per_second
        );
        return Ok(refuse(
            req,
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-requests",
            "Too many requests",
            &detail,
            wait,
        ));
    }
    let pending = req.extensions_mut().remove::<PendingKey>();
    if let Some(PendingKey(presented)) = pending {
        let service = state.service.clone();
        let checked = web::block(move || service.key_principal(&presented))
            .await
            .map_err(crate::http::problem::ApiError::from)
            .and_then(|r| r.map_err(crate::http::problem::ApiError::from))
            .and_then(|p| p.ok_or_else(crate::http::auth::key_refused));
        match checked {
            Ok(principal) => {
                req.extensions_mut().insert(principal);
            }
            Err(e) => {
                let res = actix_web::ResponseError::error_response(&e);
                return Ok(req.into_response(res).map_into_right_body());
            }
        }
    }
    next.call(req).await.map(|r| r.map_into_left_body())
}

#[cfg(test)]
mod tests;
