//! Admission control in front of every `/api/` request: a per-client rate limit (429) and a cap
//! on the requests being worked on at once (503), both answered at once with `Retry-After`.
//!
//! Without a cap, a burst above capacity queues requests on the blocking pool and the database
//! pool until everyone times out; with it, the requests that are admitted are served at the
//! normal pace and the rest are told to come back, and memory stays bounded (request bodies are
//! read only after admission, and large bodies have their own small allowance).
//!
//! Clients are the token's subject when the request carries a valid bearer token (the verified
//! principal is kept for the [`crate::auth::Auth`] extractor, so the token is checked once), and
//! the peer address otherwise. Health, readiness, metrics and the API document are never limited.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use governor::clock::{Clock as _, DefaultClock};

use crate::http::problem::problem_response;
use crate::state::AppState;

/// A request body above this size (or of unknown size) counts as a large upload.
pub const LARGE_BODY_BYTES: u64 = 1024 * 1024;

/// How much work the service takes at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests worked on at once, over all workers; more are answered 503.
    pub max_in_flight: usize,
    /// Of those, large uploads (imports) at once.
    pub max_large_uploads: usize,
    /// Sustained requests per second per client; 0 turns the rate limit off.
    pub rate_per_second: u32,
    /// Requests a client may send in a burst above the sustained rate.
    pub burst: u32,
    /// Behind a reverse proxy every request comes from the proxy: when set, a request without a
    /// token counts against the last address of `X-Forwarded-For` (the one the proxy added).
    /// Only for a service reachable through the proxy alone, or clients could pick their key.
    pub trust_forwarded_for: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_in_flight: 64,
            max_large_uploads: 4,
            rate_per_second: 50,
            burst: 100,
            trust_forwarded_for: false,
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

    /// Slots for one request, or `None` when the service is at its limit.
    fn admit(&self, large: bool) -> Option<Admission<'_>> {
        let request = Slot::take(&self.in_flight, self.limits.max_in_flight)?;
        let upload = match large {
            true => Some(Slot::take(&self.large, self.limits.max_large_uploads)?),
            false => None,
        };
        Some(Admission {
            _request: request,
            _upload: upload,
        })
    }
}

/// What an admitted request holds until it is answered (or cancelled).
struct Admission<'a> {
    _request: Slot<'a>,
    _upload: Option<Slot<'a>>,
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

fn is_large(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    if headers.contains_key(header::TRANSFER_ENCODING) {
        return true;
    }
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > LARGE_BODY_BYTES)
}

/// The client a request is counted against.
fn client_of(req: &ServiceRequest, state: &AppState) -> String {
    if let Ok(principal) = crate::http::auth::principal_of(req.request(), &state.keys) {
        let key = format!("sub:{}", principal.subject);
        req.extensions_mut().insert(principal);
        return key;
    }
    if state.guard.limits.trust_forwarded_for
        && let Some(ip) = forwarded_client(req.headers())
    {
        return format!("ip:{ip}");
    }
    match req.peer_addr() {
        Some(addr) => format!("ip:{}", addr.ip()),
        None => "ip:unknown".to_owned(),
    }
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
    req.into_response(res).map_into_right_body()
}

/// The middleware: `App::wrap(actix_web::middleware::from_fn(guard::admit))`.
pub async fn admit<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    if !req.path().starts_with("/api/") || req.path() == crate::OPENAPI_PATH {
        return next.call(req).await.map(|r| r.map_into_left_body());
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await.map(|r| r.map_into_left_body());
    };
    // Capacity first: refusing at capacity must cost nothing (no token check, no lookup).
    let Some(_slot) = state.guard.admit(is_large(&req)) else {
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
    let client = client_of(&req, &state);
    if let Err(wait) = state.guard.check_rate(&client) {
        state.metrics.rate_limited.inc();
        let detail = format!(
            "more than {} requests a second from this client; retry after {wait} s",
            state.guard.limits.rate_per_second
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
    next.call(req).await.map(|r| r.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_in_flight: usize, max_large_uploads: usize) -> Limits {
        Limits {
            max_in_flight,
            max_large_uploads,
            rate_per_second: 2,
            burst: 3,
            trust_forwarded_for: false,
        }
    }

    #[test]
    fn slots_are_limited_and_given_back_when_dropped() {
        let guard = Guard::new(limits(2, 1));
        let a = guard.admit(false).expect("first");
        let b = guard.admit(false).expect("second");
        assert!(guard.admit(false).is_none(), "third is refused");
        assert_eq!(guard.in_flight(), 2);
        drop(a);
        assert_eq!(guard.in_flight(), 1);
        let c = guard.admit(true).expect("a large upload fits again");
        drop((b, c));
        assert_eq!(guard.in_flight(), 0);
        assert_eq!(guard.large.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn large_uploads_have_their_own_smaller_allowance() {
        let guard = Guard::new(limits(10, 1));
        let upload = guard.admit(true).expect("one upload");
        assert!(guard.admit(true).is_none(), "a second upload waits");
        assert_eq!(
            guard.in_flight(),
            1,
            "the refused upload gave its slot back"
        );
        let _small = guard.admit(false).expect("small requests still pass");
        drop(upload);
        assert!(guard.admit(true).is_some());
    }

    #[test]
    fn the_forwarded_client_is_the_address_the_nearest_proxy_added() {
        let mut headers = actix_web::http::header::HeaderMap::new();
        let xff = actix_web::http::header::HeaderName::from_static("x-forwarded-for");
        assert_eq!(forwarded_client(&headers), None);
        headers.insert(
            xff.clone(),
            HeaderValue::from_static("6.6.6.6, 203.0.113.7"),
        );
        assert_eq!(
            forwarded_client(&headers),
            Some("203.0.113.7".parse().unwrap())
        );
        headers.insert(xff, HeaderValue::from_static("not-an-address"));
        assert_eq!(forwarded_client(&headers), None);
    }

    #[test]
    fn each_client_has_its_own_rate_and_burst() {
        let guard = Guard::new(limits(10, 1));
        for _ in 0..3 {
            guard
                .check_rate(&"sub:a".to_owned())
                .expect("within the burst");
        }
        let wait = guard
            .check_rate(&"sub:a".to_owned())
            .expect_err("over the burst");
        assert!(wait >= 1);
        guard
            .check_rate(&"sub:b".to_owned())
            .expect("another client is not affected");
        let off = Guard::new(Limits {
            rate_per_second: 0,
            ..limits(10, 1)
        });
        for _ in 0..1000 {
            off.check_rate(&"sub:a".to_owned()).expect("rate limit off");
        }
    }
}
