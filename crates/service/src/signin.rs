//! Signing in with a username and a password, so that neither a brute force nor a flood works:
//!
//! - **Back-off per username and source.** After [`FREE_FAILURES`] failed attempts for a
//!   username from one source address, that source waits 1 s, then 2, 4, ... up to
//!   [`MAX_BACKOFF`] before it may try that username again (429 with `Retry-After`). The count is
//!   kept in the database, so every replica applies it; it is forgotten [`FORGET_AFTER`] after
//!   the last failure, and a successful sign-in clears it. Keyed by username and source
//!   together, a stranger's guessing never locks the owner out.
//! - **A small, bounded hashing pool.** An argon2 check costs tens of milliseconds and 19 MiB; at
//!   most [`HashPool::size`] run at once (half the cores, at least one) and a few wait; beyond
//!   them a sign-in is refused at once (503), so a flood of sign-ins, with random usernames or
//!   not, never takes the cores or the memory from the rest of the API. (The HTTP layer also
//!   limits sign-in attempts per source address.)

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use innoreport_core::Principal;
use innoreport_store::logins::{self, Failures};

use crate::accounts::principal_of;
use crate::passwords::verify_password;
use crate::{Service, ServiceError};

/// Failed attempts allowed before the back-off starts.
pub const FREE_FAILURES: i32 = 5;
/// The longest back-off.
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// Failures are forgotten this long after the last one.
pub const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// Sign-ins that may wait for a hashing thread; more are refused at once.
pub const HASH_QUEUE: usize = 8;

/// The back-off after `failures` failed attempts (none within the free attempts).
pub fn backoff(failures: i32) -> Option<Duration> {
    if failures < FREE_FAILURES {
        return None;
    }
    let exp = (failures - FREE_FAILURES).min(20) as u32;
    Some(Duration::from_secs(1u64 << exp).min(MAX_BACKOFF))
}

/// The failures after one more failure at `now`.
pub fn after_failure(previous: Option<Failures>, now: DateTime<Utc>) -> Failures {
    let failures = match previous {
        Some(p)
            if now - p.last_failure
                < chrono::Duration::from_std(FORGET_AFTER).unwrap_or_default() =>
        {
            p.failures + 1
        }
        _ => 1,
    };
    Failures {
        failures,
        last_failure: now,
        blocked_until: backoff(failures)
            .map(|d| now + chrono::Duration::from_std(d).unwrap_or_default()),
    }
}

/// At most `size` password checks at once, `HASH_QUEUE` waiting.
#[derive(Debug)]
pub struct HashPool {
    size: usize,
    state: Mutex<(usize, usize)>,
    freed: Condvar,
}

impl Default for HashPool {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        HashPool::new((cores / 2).max(1))
    }
}

/// A running password check; the place is given back when dropped.
pub struct Hashing<'a>(&'a HashPool);

impl Drop for Hashing<'_> {
    fn drop(&mut self) {
        let mut s = self.0.state.lock().unwrap_or_else(|e| e.into_inner());
        s.0 -= 1;
        self.0.freed.notify_one();
    }
}

impl HashPool {
    pub fn new(size: usize) -> HashPool {
        HashPool {
            size: size.max(1),
            state: Mutex::new((0, 0)),
            freed: Condvar::new(),
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// A place to check a password, waiting at most 5 s in a short queue; `None` when the
    /// queue is full (or the wait too long).
    pub fn enter(&self) -> Option<Hashing<'_>> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.0 < self.size {
            s.0 += 1;
            return Some(Hashing(self));
        }
        if s.1 >= HASH_QUEUE {
            return None;
        }
        s.1 += 1;
        let (mut s, timeout) = self
            .freed
            .wait_timeout_while(s, Duration::from_secs(5), |s| s.0 >= self.size)
            .unwrap_or_else(|e| e.into_inner());
        s.1 -= 1;
        if timeout.timed_out() && s.0 >= self.size {
            return None;
        }
        s.0 += 1;
        Some(Hashing(self))
    }
}

/// How a username is compared: case and width folded (`Xa-Muong-La`, `ｘａ` → `xa`).
pub fn normalise_username(username: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    username.trim().nfkc().collect::<String>().to_lowercase()
}

impl Service {
    /// Verifies `password` against `hash` on a place of the bounded hashing pool (503 when it
    /// is full). With no hash, a dummy one is verified so that unknown usernames take as long
    /// as known ones, and the answer is false.
    pub(crate) fn verify_pooled(
        &self,
        password: &str,
        hash: Option<&str>,
    ) -> Result<bool, ServiceError> {
        let Some(_place) = self.hash_pool().enter() else {
            return Err(ServiceError::Unavailable {
                message: "too many sign-ins at once".into(),
                retry_after: 1,
                source: None,
            });
        };
        Ok(match hash {
            Some(h) => verify_password(password, h),
            None => {
                verify_password(password, crate::passwords::dummy_hash());
                false
            }
        })
    }

    /// The principal of a username and password tried from `source` (an address), with the
    /// login's token version; 401 when wrong (or disabled); 429 while the source must wait for
    /// that username; 503 when the hashing pool is full.
    pub fn sign_in(
        &self,
        username: &str,
        password: &str,
        source: &str,
    ) -> Result<(Principal, i32), ServiceError> {
        let wrong = || ServiceError::Unauthorized("wrong username or password".into());
        if username.len() > 200 || password.len() > 1024 {
            return Err(wrong());
        }
        let name = normalise_username(username);
        let now = self.now();
        let mut conn = self.conn()?;
        let previous = logins::failures(&mut conn, &name, source)?;
        if let Some(until) = previous.and_then(|f| f.blocked_until).filter(|u| *u > now) {
            let wait = ((until - now).num_milliseconds() + 999)
                .div_euclid(1000)
                .max(1) as u64;
            return Err(ServiceError::TooManyRequests {
                message: format!(
                    "too many failed sign-ins for this username from this address; retry after {wait} s"
                ),
                retry_after: wait,
            });
        }
        // The login of exactly this name (logins that differ only by case, from before the
        // rule, sign in by their exact name), else of the folded name.
        let user = match innoreport_store::users::find_user(&mut conn, username.trim())? {
            Some(u) => Some(u),
            None => innoreport_store::users::find_by_key(&mut conn, &name)?,
        };
        drop(conn);
        let ok = self.verify_pooled(password, user.as_ref().map(|u| u.password_hash.as_str()))?;
        let mut conn = self.conn()?;
        match user {
            Some(u) if ok && !u.disabled => {
                if previous.is_some() {
                    logins::clear(&mut conn, &name, source)?;
                }
                Ok((principal_of(&u)?, u.token_version))
            }
            _ => {
                logins::set_failures(&mut conn, &name, source, &after_failure(previous, now))?;
                Err(wrong())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_starts_after_the_free_attempts_and_doubles_to_a_cap() {
        assert_eq!(backoff(4), None);
        assert_eq!(backoff(5), Some(Duration::from_secs(1)));
        assert_eq!(backoff(6), Some(Duration::from_secs(2)));
        assert_eq!(backoff(9), Some(Duration::from_secs(16)));
        assert_eq!(backoff(40), Some(MAX_BACKOFF));
    }

    #[test]
    fn failures_are_forgotten_after_an_hour() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let f = after_failure(None, t("2026-01-01T00:00:00Z"));
        assert_eq!((f.failures, f.blocked_until), (1, None));
        let f = after_failure(
            Some(Failures { failures: 7, ..f }),
            t("2026-01-01T00:10:00Z"),
        );
        assert_eq!(f.failures, 8);
        assert_eq!(f.blocked_until, Some(t("2026-01-01T00:10:08Z")));
        let f = after_failure(Some(f), t("2026-01-01T02:00:00Z"));
        assert_eq!(f.failures, 1, "an hour later the count starts again");
    }

    #[test]
    fn the_pool_refuses_beyond_its_queue() {
        let pool = HashPool::new(1);
        let first = pool.enter().expect("a place");
        std::thread::scope(|s| {
            let waiting: Vec<_> = (0..HASH_QUEUE)
                .map(|_| s.spawn(|| pool.enter().is_some()))
                .collect();
            std::thread::sleep(Duration::from_millis(100));
            assert!(pool.enter().is_none(), "the queue is full");
            drop(first);
            assert!(waiting.into_iter().all(|w| w.join().unwrap()));
        });
    }

    #[test]
    fn usernames_fold_case_and_width() {
        assert_eq!(normalise_username(" Xa-Muong-La "), "xa-muong-la");
        assert_eq!(normalise_username("ｘａ"), "xa");
    }
}
