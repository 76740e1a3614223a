//! Sending what the outbox holds: email over SMTP (lettre) and webhooks (HTTP POST, signed).
//!
//! A deliverer claims due messages for a lease, sends each and records the outcome. A failure
//! is retried with exponential back-off (base × 2^(attempt−1), at most a day) until the attempt
//! limit, then the message is marked failed; an SMTP answer that is permanent (5xx) fails it at
//! once. A deliverer killed mid-send leaves its lease to run out; the message is then sent
//! again with the same idempotency key (the email's Message-ID, the webhook's
//! `Idempotency-Key`), so a receiver that saw it already can tell.
//!
//! A webhook delivery is a JSON POST with `X-Innoreport-Timestamp` (Unix seconds) and
//! `X-Innoreport-Signature: sha256=<hex>`, the HMAC-SHA256 with the webhook's secret of
//! `<timestamp>.<body>`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use innoreport_store::notify::{self as store, Content, MessageRow, Settled};
use serde_json::json;
use sha2::Sha256;

use crate::{Service, ServiceError};

/// How SMTP is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain SMTP (a relay on the same host or a test server only).
    None,
    /// STARTTLS on a plain connection (port 587), required.
    StartTls,
    /// TLS from the start (port 465).
    Tls,
}

/// Where email goes.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The sender, e.g. `innoreport <no-reply@sokhcn.gov.vn>`.
    pub from: String,
}

/// How messages are delivered.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// None: email is not configured; email messages wait in the outbox.
    pub smtp: Option<SmtpSettings>,
    /// The address of the pages, prefixed to each message's link (e.g. `https://innoreport.example`).
    pub public_url: String,
    /// The first retry waits this long; each next one twice as long.
    pub retry_base: Duration,
    /// Attempts before a message is marked failed.
    pub max_attempts: u32,
    /// How long a claimed message is left to its deliverer before another may send it.
    pub lease: Duration,
    /// How long one SMTP or HTTP exchange may take.
    pub timeout: Duration,
    /// Deliver webhooks to this machine (tests only): otherwise a webhook whose host resolves
    /// to this machine or a private network is refused at every attempt.
    pub allow_loopback: bool,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            smtp: None,
            public_url: "http://127.0.0.1:8080".into(),
            retry_base: Duration::from_secs(60),
            max_attempts: 8,
            lease: Duration::from_secs(120),
            timeout: Duration::from_secs(10),
            allow_loopback: false,
        }
    }
}

/// What one round of delivery did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
    /// Reminders no longer true when their turn came (not sent).
    pub cancelled: usize,
}

/// Why one attempt did not deliver.
#[derive(Debug)]
enum Failure {
    /// Try again later.
    Transient(String),
    /// Do not try again.
    Permanent(String),
}

/// The deliverer: built once (it holds the SMTP transport and the HTTP agent).
pub struct Deliverer {
    settings: Delivery,
    smtp: Option<(lettre::SmtpTransport, lettre::message::Mailbox)>,
    http: ureq::Agent,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer")
            .field("smtp", &self.settings.smtp.as_ref().map(|s| &s.host))
            .finish()
    }
}

/// The signature of a webhook delivery: hex HMAC-SHA256 of `<timestamp>.<body>`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Deliverer {
    pub fn new(mut settings: Delivery) -> Result<Deliverer, String> {
        // An attempt must fit in a lease with room to spare.
        settings.timeout = settings
            .timeout
            .min(settings.lease / 2)
            .max(Duration::from_secs(1));
        let smtp = match &settings.smtp {
            None => None,
            Some(s) => {
                use lettre::transport::smtp::authentication::Credentials;
                let builder = match s.security {
                    Security::None => lettre::SmtpTransport::builder_dangerous(&s.host),
                    Security::StartTls => lettre::SmtpTransport::starttls_relay(&s.host)
                        .map_err(|e| format!("SMTP host {}: {e}", s.host))?,
                    Security::Tls => lettre::SmtpTransport::relay(&s.host)
                        .map_err(|e| format!("SMTP host {}: {e}", s.host))?,
                };
                let mut builder = builder.port(s.port).timeout(Some(settings.timeout));
                if let (Some(u), Some(p)) = (&s.username, &s.password) {
                    builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
                }
                let from = s
                    .from
                    .parse()
                    .map_err(|e| format!("the sender {:?} is not an address: {e}", s.from))?;
                Some((builder.build(), from))
            }
        };
        let http: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(settings.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent("innoreport-webhooks")
            .build()
            .into();
        Ok(Deliverer {
            settings,
            smtp,
            http,
        })
    }

    pub fn settings(&self) -> &Delivery {
        &self.settings
    }

    fn channels(&self) -> Vec<&'static str> {
        let mut c = vec!["webhook"];
        if self.smtp.is_some() {
            c.push("email");
        }
        c
    }

    fn url(&self, link: &str) -> String {
        format!("{}{link}", self.settings.public_url.trim_end_matches('/'))
    }

    fn email(&self, service: &Service, m: &MessageRow, c: &Content) -> Result<(), Failure> {
        use lettre::Transport;
        let Some((transport, from)) = &self.smtp else {
            return Err(Failure::Transient("no SMTP server is configured".into()));
        };
        let login = m
            .login()
            .ok_or_else(|| Failure::Permanent(format!("not a login: {}", m.recipient)))?;
        // The login's address now: a changed address is used, a removed one (or a disabled
        // login) ends the message.
        let address = store::email_of(&mut *service.conn().map_err(transient)?, login)
            .map_err(|e| Failure::Transient(e.to_string()))?
            .ok_or_else(|| {
                Failure::Permanent(format!(
                    "login {login} has no email address (or is disabled)"
                ))
            })?;
        let to = address
            .parse()
            .map_err(|e| Failure::Permanent(format!("the address {address:?}: {e}")))?;
        let body = format!("{}\n{}\n\n-- \ninnoreport\n", c.body, self.url(&c.link));
        let email = lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(c.subject.clone())
            .message_id(Some(format!("<{}@innoreport>", m.idempotency_key)))
            .header(lettre::message::header::MIME_VERSION_1_0)
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| Failure::Permanent(format!("the message cannot be built: {e}")))?;
        transport.send(&email).map(|_| ()).map_err(|e| {
            if e.is_permanent() {
                Failure::Permanent(format!("SMTP: {e}"))
            } else {
                Failure::Transient(format!("SMTP: {e}"))
            }
        })
    }

    fn webhook(&self, service: &Service, m: &MessageRow, c: &Content) -> Result<(), Failure> {
        let id = m
            .webhook_id
            .ok_or_else(|| Failure::Permanent("a webhook message without its webhook".into()))?;
        let hook = store::webhook(&mut *service.conn().map_err(transient)?, id)
            .map_err(|e| Failure::Transient(e.to_string()))?
            .ok_or_else(|| Failure::Permanent(format!("webhook {id} does not exist")))?;
        if hook.removed_at.is_some() {
            return Err(Failure::Permanent(format!("webhook {id} was removed")));
        }
        self.reachable(&hook.url)?;
        let body = json!({
            "id": m.idempotency_key,
            "kind": m.kind,
            "created_at": m.created_at.and_utc(),
            "province": m.province_code,
            "commune": m.commune_code,
            "language": c.language,
            "subject": c.subject,
            "text": c.body,
            "url": self.url(&c.link),
            "data": c.data,
        })
        .to_string();
        let timestamp = service.now().timestamp();
        let answer = self
            .http
            .post(&hook.url)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", &m.idempotency_key)
            .header("X-Innoreport-Timestamp", timestamp.to_string())
            .header(
                "X-Innoreport-Signature",
                format!("sha256={}", signature(&hook.secret, timestamp, &body)),
            )
            .send(body.as_str())
            .map_err(|e| Failure::Transient(format!("HTTP: {e}")))?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(Failure::Transient(format!(
                "HTTP status {}",
                status.as_u16()
            )))
        }
    }

    /// Refuses a webhook whose host is, or now resolves to, this machine or a private network
    /// (a name registered pointing elsewhere may be changed to point inside).
    fn reachable(&self, url: &str) -> Result<(), Failure> {
        use std::net::ToSocketAddrs;
        let parsed =
            url::Url::parse(url).map_err(|e| Failure::Permanent(format!("bad URL: {e}")))?;
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addrs: Vec<std::net::IpAddr> = match parsed.host() {
            Some(url::Host::Ipv4(a)) => vec![a.into()],
            Some(url::Host::Ipv6(a)) => vec![a.into()],
            Some(url::Host::Domain(d)) => (d, port)
                .to_socket_addrs()
                .map_err(|e| Failure::Transient(format!("cannot resolve {d}: {e}")))?
                .map(|a| a.ip())
                .collect(),
            None => return Err(Failure::Permanent("a URL without a host".into())),
        };
        let loopback = self.settings.allow_loopback;
        if addrs
            .iter()
            .any(|ip| super::settings::internal_ip(*ip) && !(loopback && ip.is_loopback()))
        {
            return Err(Failure::Permanent(
                "the webhook's host is this machine or a private network: refused".into(),
            ));
        }
        Ok(())
    }

    /// A reminder that is no longer true: the commune has submitted since it was written, or
    /// its deadline has passed.
    fn stale(
        &self,
        service: &Service,
        m: &MessageRow,
        c: &Content,
    ) -> Result<Option<String>, ServiceError> {
        if m.kind != "reminder" {
            return Ok(None);
        }
        let field = |k: &str| c.data[k].as_str().unwrap_or_default().to_owned();
        let (dataset, period, commune) = (field("dataset"), field("period"), field("commune"));
        if let Ok(deadline) = field("deadline").parse::<DateTime<Utc>>()
            && service.now() > deadline
        {
            return Ok(Some("not sent: its deadline has passed".into()));
        }
        let filed = innoreport_store::reports::get_report(
            &mut *service.conn()?,
            &dataset,
            &period,
            &commune,
        )?;
        Ok(filed.map(|_| "not sent: the commune has submitted since".into()))
    }

    /// Messages claimed at once: as many as the lease leaves time to try, so a claim never
    /// outlives its lease while a deliverer is still working through it.
    fn batch(&self) -> i64 {
        let per = 2 * self.settings.timeout.as_secs().max(1);
        (self.settings.lease.as_secs() / per).clamp(1, 20) as i64
    }

    /// When to try again after `attempts` attempts (None: give up).
    fn next_try(&self, now: DateTime<Utc>, attempts: i32) -> Option<DateTime<Utc>> {
        if attempts.max(0) as u32 >= self.settings.max_attempts {
            return None;
        }
        let factor = 2u32.saturating_pow((attempts.max(1) - 1) as u32);
        let wait = self
            .settings
            .retry_base
            .saturating_mul(factor)
            .min(Duration::from_secs(86_400));
        Some(now + chrono::Duration::from_std(wait).unwrap_or_default())
    }

    /// Sends what is due, in batches, until nothing due is left or `limit` messages were tried.
    pub fn deliver_due(&self, service: &Service, limit: usize) -> Result<Round, ServiceError> {
        let mut round = Round::default();
        let channels = self.channels();
        let timeout = chrono::Duration::from_std(self.settings.timeout).unwrap_or_default();
        let mut tried = 0;
        while tried < limit {
            let now = service.now();
            let lease = now + chrono::Duration::from_std(self.settings.lease).unwrap_or_default();
            let batch = store::claim(&mut *service.conn()?, now, lease, self.batch(), &channels)?;
            if batch.is_empty() {
                break;
            }
            tried += batch.len();
            for (i, m) in batch.iter().enumerate() {
                // Only while the lease leaves time for a whole attempt: past it another deliverer
                // may take the row. What is left goes back, untried.
                if service.now() + timeout >= lease {
                    let rest: Vec<i64> = batch[i..].iter().map(|m| m.id).collect();
                    store::release(&mut *service.conn()?, &rest, service.now())?;
                    break;
                }
                let settled = self.attempt(service, m)?;
                match &settled {
                    Settled::Sent(_) => round.sent += 1,
                    Settled::Retry(..) => round.retrying += 1,
                    Settled::Failed(_) => round.failed += 1,
                    Settled::Cancelled(_) => round.cancelled += 1,
                }
                if matches!(settled, Settled::Retry(..) | Settled::Failed(_)) {
                    tracing::warn!(message = m.id, channel = %m.channel, outcome = ?settled, "notification not delivered");
                }
                store::settle(&mut *service.conn()?, m.id, &settled)?;
            }
        }
        Ok(round)
    }

    /// One attempt at one message, and how it ended.
    fn attempt(&self, service: &Service, m: &MessageRow) -> Result<Settled, ServiceError> {
        let c = match m.content() {
            Ok(c) => c,
            Err(e) => return Ok(Settled::Failed(e.to_string())),
        };
        if let Some(why) = self.stale(service, m, &c)? {
            return Ok(Settled::Cancelled(why));
        }
        let outcome = if m.channel == "email" {
            self.email(service, m, &c)
        } else {
            self.webhook(service, m, &c)
        };
        let now = service.now();
        Ok(match outcome {
            Ok(()) => Settled::Sent(now),
            Err(Failure::Transient(why)) => match self.next_try(now, m.attempts) {
                Some(at) => Settled::Retry(at, redact(&why)),
                None => Settled::Failed(redact(&why)),
            },
            Err(Failure::Permanent(why)) => Settled::Failed(redact(&why)),
        })
    }
}

/// An error as the log may show it: the log names logins, never addresses, and servers quote
/// the address they refused.
pub fn redact(error: &str) -> String {
    error
        .split(' ')
        .map(|w| if w.contains('@') { "<address>" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

fn transient(e: ServiceError) -> Failure {
    Failure::Transient(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // As any HMAC library computes it (here: Python's hmac module).
        assert_eq!(
            signature("whsec_test", 1_700_000_000, r#"{"a":1}"#),
            "38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }

    #[test]
    fn the_log_shows_no_address_a_server_quoted() {
        assert_eq!(
            redact(
                "SMTP: permanent error (550): 5.1.1 <off2@example.vn>: Recipient address rejected"
            ),
            "SMTP: permanent error (550): 5.1.1 <address> Recipient address rejected"
        );
    }

    #[test]
    fn a_claim_is_no_larger_than_its_lease_can_try() {
        let d = |lease, timeout| {
            Deliverer::new(Delivery {
                lease: Duration::from_secs(lease),
                timeout: Duration::from_secs(timeout),
                ..Delivery::default()
            })
            .unwrap()
            .batch()
        };
        assert_eq!(d(120, 10), 6);
        assert_eq!(d(10, 6), 1, "an attempt is cut to half the lease");
        assert_eq!(d(3600, 1), 20);
    }

    #[test]
    fn retries_wait_twice_as_long_each_time_then_give_up() {
        let d = Deliverer::new(Delivery {
            retry_base: Duration::from_secs(60),
            max_attempts: 4,
            ..Delivery::default()
        })
        .unwrap();
        let now = Utc::now();
        let wait = |attempts| d.next_try(now, attempts).map(|t| (t - now).num_seconds());
        assert_eq!(wait(1), Some(60));
        assert_eq!(wait(2), Some(120));
        assert_eq!(wait(3), Some(240));
        assert_eq!(wait(4), None, "the fourth failure is the last");
        let long = Deliverer::new(Delivery {
            retry_base: Duration::from_secs(3600),
            max_attempts: 30,
            ..Delivery::default()
        })
        .unwrap();
        assert_eq!(
            long.next_try(now, 20).map(|t| (t - now).num_seconds()),
            Some(86_400),
            "never more than a day"
        );
    }
}
