//! Who hears what: webhooks (registered by a commune system for its commune, or by a province
//! system for its province), a login's own email address, language and reminder choice, and
//! the delivery log, read within the caller's scope.

use chrono::{DateTime, Utc};
use innoreport_core::validation::Issue;
use innoreport_core::{Action, Principal, Role, Target};
use innoreport_store::changes::NewChange;
use innoreport_store::notify::{self as store, NewWebhook, WebhookRow};
pub use innoreport_store::notify::{LogFilter, MessageRow};

use crate::{Service, ServiceError};

/// The longest webhook URL and email address accepted.
pub const MAX_URL_CHARS: usize = 500;
pub const MAX_EMAIL_CHARS: usize = 254;

/// A webhook as its managers see it (never its secret after creation).
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: i64,
    pub province: String,
    pub commune: Option<String>,
    pub url: String,
    pub language: String,
    pub reminders: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
    pub removed_by: Option<String>,
}

fn webhook_of(r: WebhookRow) -> Webhook {
    Webhook {
        id: r.id,
        province: r.province_code,
        commune: r.commune_code,
        url: r.url,
        language: r.language,
        reminders: r.reminders,
        created_by: r.created_by,
        created_at: r.created_at.and_utc(),
        removed_at: r.removed_at.map(|t| t.and_utc()),
        removed_by: r.removed_by,
    }
}

/// A webhook to register.
#[derive(Debug, Clone, Default)]
pub struct NewHook {
    pub url: String,
    /// The commune it hears about (a commune officer's: their own, the default).
    pub commune: Option<String>,
    /// The province it hears about when no commune is named (a province admin's default: their
    /// own).
    pub province: Option<String>,
    pub language: Option<String>,
    pub reminders: Option<bool>,
}

/// The most webhooks (not removed) one commune, or one province itself, may have.
pub const MAX_WEBHOOKS_PER_UNIT: i64 = 5;

/// Whether an IPv4 address is one a webhook may not reach: this machine, a private or shared
/// network, link-local (cloud metadata services live there), benchmarking, multicast, reserved.
fn internal_v4(a: std::net::Ipv4Addr) -> bool {
    let [x, y, z, _] = a.octets();
    a.is_loopback()
        || a.is_private()
        || a.is_link_local()
        || a.is_unspecified()
        || a.is_broadcast()
        || a.is_multicast()
        || x == 0
        || x >= 240
        || (x == 100 && (y & 0xc0) == 64)
        || (x == 198 && (y & 0xfe) == 18)
        || (x == 192 && y == 0 && z == 0)
}

/// Whether an address is one a webhook may not reach (IPv6 forms that embed an IPv4 address
/// are judged by it: mapped, compatible, NAT64, 6to4).
pub fn internal_ip(ip: std::net::IpAddr) -> bool {
    use std::net::{IpAddr, Ipv4Addr};
    match ip {
        IpAddr::V4(a) => internal_v4(a),
        IpAddr::V6(a) => {
            let s = a.segments();
            let embedded = |hi: u16, lo: u16| {
                Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
            };
            a.is_loopback()
                || a.is_unspecified()
                || a.to_ipv4_mapped().is_some_and(internal_v4)
                || (s[..6] == [0; 6] && internal_v4(embedded(s[6], s[7])))
                || (s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] && internal_v4(embedded(s[6], s[7])))
                || (s[0] == 0x2002 && internal_v4(embedded(s[1], s[2])))
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xff00) == 0xff00
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || s[..4] == [0x100, 0, 0, 0]
        }
    }
}

/// Whether a host is one a webhook may not reach; a name is judged by every address it
/// resolves to now (a name that does not resolve is not judged here: delivery checks again).
pub fn internal_host(host: &url::Host<&str>, port: u16, loopback: bool) -> bool {
    use std::net::ToSocketAddrs;
    let bad = |ip: std::net::IpAddr| internal_ip(ip) && !(loopback && ip.is_loopback());
    match host {
        url::Host::Ipv4(a) => bad((*a).into()),
        url::Host::Ipv6(a) => bad((*a).into()),
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if !loopback
                && (d == "localhost" || d.ends_with(".localhost") || d.ends_with(".internal"))
            {
                return true;
            }
            (d.as_str(), port)
                .to_socket_addrs()
                .map(|mut addrs| addrs.any(|a| bad(a.ip())))
                .unwrap_or(false)
        }
    }
}

/// Problems of a webhook URL: https to a public address, or with `loopback` (tests) plain http
/// to this machine.
pub fn check_url(url: &str, loopback: bool) -> Option<Issue> {
    if url.chars().count() > MAX_URL_CHARS {
        return Some(Issue::new(
            "url",
            "too_long",
            format!("a URL has at most {MAX_URL_CHARS} characters"),
        ));
    }
    let Ok(parsed) = url::Url::parse(url) else {
        return Some(Issue::new("url", "invalid_url", "not an absolute URL"));
    };
    let Some(host) = parsed.host() else {
        return Some(Issue::new("url", "invalid_url", "a URL names a host"));
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Some(Issue::new(
            "url",
            "credentials_in_url",
            "a webhook URL carries no credentials: deliveries are signed instead",
        ));
    }
    let this_machine = match host {
        url::Host::Ipv4(a) => a.is_loopback(),
        url::Host::Ipv6(a) => a.is_loopback(),
        url::Host::Domain(d) => d == "localhost",
    };
    let plain_ok = loopback && this_machine && parsed.scheme() == "http";
    if parsed.scheme() != "https" && !plain_ok {
        return Some(Issue::new(
            "url",
            "insecure_url",
            "a webhook URL must be https",
        ));
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    internal_host(&host, port, loopback).then(|| {
        Issue::new(
            "url",
            "internal_address",
            "a webhook may not reach this machine or a private network",
        )
    })
}

/// Problems of an email address.
pub fn check_email(email: &str) -> Option<Issue> {
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Some(Issue::new(
            "email",
            "too_long",
            format!("an email address has at most {MAX_EMAIL_CHARS} characters"),
        ));
    }
    email.parse::<lettre::Address>().err().map(|e| {
        Issue::new(
            "email",
            "invalid_email",
            format!("not an email address: {e}"),
        )
    })
}

/// Problems of a language.
pub fn check_language(language: &str) -> Option<Issue> {
    innoreport_core::notify::Language::parse(language)
        .is_none()
        .then(|| Issue::new("language", "unknown_language", "expected \"vi\" or \"en\""))
}

/// A login's own notification settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub email: Option<String>,
    pub language: String,
    pub reminders: bool,
}

/// A change of them: fields left `None` are kept (`email: Some(None)` removes the address).
#[derive(Debug, Clone, Default)]
pub struct PreferencesChange {
    pub email: Option<Option<String>>,
    pub language: Option<String>,
    pub reminders: Option<bool>,
}

impl PreferencesChange {
    /// Every problem of the change.
    pub fn issues(&self) -> Vec<Issue> {
        let mut issues = Vec::new();
        if let Some(Some(e)) = &self.email {
            issues.extend(check_email(e));
        }
        if let Some(l) = &self.language {
            issues.extend(check_language(l));
        }
        issues
    }
}

/// The delivery log's filters, as typed by the caller.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    pub province: Option<String>,
    pub commune: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    pub channel: Option<String>,
}

impl Service {
    /// The unit a webhook hears about, once `who` may manage webhooks there.
    fn hook_unit(
        &self,
        who: &Principal,
        commune: Option<&str>,
        province: Option<&str>,
    ) -> Result<(String, Option<String>), ServiceError> {
        let mut conn = self.conn()?;
        // A commune officer naming nothing means their own commune.
        let commune = commune.map(str::to_owned).or_else(|| {
            (who.role == Role::CommuneOfficer && province.is_none())
                .then(|| who.own_commune().map(str::to_owned))
                .flatten()
        });
        if let Some(c) = commune {
            let p = self.authorize_commune(&mut conn, who, &c, Action::ManageWebhooks)?;
            return Ok((p, Some(c)));
        }
        let province = province
            .map(str::to_owned)
            .or_else(|| who.province.as_ref().map(ToString::to_string))
            .ok_or_else(|| {
                ServiceError::invalid(
                    "webhook",
                    vec![Issue::new(
                        "province",
                        "required",
                        "name the province or the commune the webhook hears about",
                    )],
                )
            })?;
        let reference = self.reference(&mut conn, |r| r.province(&province).is_some())?;
        crate::analysis::known_province_in(&reference, &province)?;
        who.require(Action::ManageWebhooks, Target::Province(&province))?;
        Ok((province, None))
    }

    /// The unit a new webhook hears about, as named in it (every problem into `issues`).
    fn new_hook_unit(
        &self,
        who: &Principal,
        hook: &NewHook,
        issues: &mut Vec<Issue>,
    ) -> Result<Option<(String, Option<String>)>, ServiceError> {
        let mut conn = self.conn()?;
        let reference = self.reference(&mut conn, |r| {
            hook.commune
                .as_deref()
                .is_none_or(|c| r.commune(c).is_some())
                && hook
                    .province
                    .as_deref()
                    .is_none_or(|p| r.province(p).is_some())
        })?;
        let commune = hook.commune.clone().or_else(|| {
            (who.role == Role::CommuneOfficer && hook.province.is_none())
                .then(|| who.own_commune().map(str::to_owned))
                .flatten()
        });
        if let Some(c) = commune {
            let Some(province) = reference.province_of(&c).map(str::to_owned) else {
                issues.push(Issue::new(
                    "commune",
                    "unknown_commune",
                    format!("there is no commune {:?}", crate::reports::clip(&c)),
                ));
                return Ok(None);
            };
            if let Some(p) = hook.province.as_deref().filter(|p| *p != province) {
                issues.push(Issue::new(
                    "province",
                    "mismatch",
                    format!("commune {c} is in province {province}, not {p}"),
                ));
                return Ok(None);
            }
            return Ok(Some((province, Some(c))));
        }
        let province = hook
            .province
            .clone()
            .or_else(|| who.province.as_ref().map(ToString::to_string));
        match province {
            Some(p) if reference.province(&p).is_some() => Ok(Some((p, None))),
            Some(p) => {
                issues.push(Issue::new(
                    "province",
                    "unknown_province",
                    format!("there is no province {:?}", crate::reports::clip(&p)),
                ));
                Ok(None)
            }
            None => {
                issues.push(Issue::new(
                    "province",
                    "required",
                    "name the province or the commune the webhook hears about",
                ));
                Ok(None)
            }
        }
    }

    /// Registers a webhook; returns it with its signing secret (shown only this once). Every
    /// problem of the request is listed at once; nothing is stored from a refused one.
    pub fn create_webhook(
        &self,
        who: &Principal,
        hook: NewHook,
    ) -> Result<(Webhook, String), ServiceError> {
        let mut issues: Vec<Issue> = check_url(&hook.url, self.options().loopback_webhooks)
            .into_iter()
            .collect();
        if let Some(l) = &hook.language {
            issues.extend(check_language(l));
        }
        let unit = self.new_hook_unit(who, &hook, &mut issues)?;
        if let Some((province, commune)) = &unit {
            let target = match commune {
                Some(c) => Target::Commune {
                    commune: c,
                    province,
                },
                None => Target::Province(province),
            };
            who.require(Action::ManageWebhooks, target)?;
            if store::active_webhooks(&mut *self.conn()?, province, commune.as_deref())?
                >= MAX_WEBHOOKS_PER_UNIT
            {
                issues.push(Issue::new(
                    "url",
                    "too_many",
                    format!(
                        "a commune or a province has at most {MAX_WEBHOOKS_PER_UNIT} webhooks: remove one first"
                    ),
                ));
            }
        }
        let Some((province, commune)) = unit.filter(|_| issues.is_empty()) else {
            return Err(ServiceError::invalid("webhook", issues));
        };
        let secret = format!("whsec_{}", crate::passwords::random_token(32));
        let now = self.now();
        let row = store::create_webhook_logged(
            &mut *self.conn()?,
            &NewWebhook {
                province_code: province.clone(),
                commune_code: commune.clone(),
                url: hook.url.clone(),
                secret: secret.clone(),
                language: hook.language.unwrap_or_else(|| "vi".into()),
                reminders: hook.reminders.unwrap_or(true),
                created_by: who.subject.clone(),
                created_at: now.naive_utc(),
            },
            &NewChange {
                at: now,
                actor: &who.subject,
                action: "webhook.create",
                province: Some(&province),
                commune: commune.as_deref(),
                subject: String::new(),
                detail: serde_json::json!({"url": hook.url, "commune": commune}),
            },
        )?;
        Ok((webhook_of(row), secret))
    }

    /// The webhooks of a commune or a province (its communes' too) that `who` manages.
    pub fn webhooks(
        &self,
        who: &Principal,
        commune: Option<&str>,
        province: Option<&str>,
    ) -> Result<Vec<Webhook>, ServiceError> {
        if commune.is_none() && province.is_none() && who.province.is_none() {
            // A national manager naming nothing: every webhook.
            who.require(Action::ManageWebhooks, Target::Nation)?;
            let rows = store::webhooks(&mut *self.conn()?, None, None)?;
            return Ok(rows.into_iter().map(webhook_of).collect());
        }
        let (p, c) = self.hook_unit(who, commune, province)?;
        let rows = store::webhooks(&mut *self.conn()?, Some(&p), c.as_deref())?;
        Ok(rows.into_iter().map(webhook_of).collect())
    }

    /// Removes a webhook: nothing more goes to it, and what was waiting for it fails.
    pub fn remove_webhook(&self, who: &Principal, id: i64) -> Result<Webhook, ServiceError> {
        let mut conn = self.conn()?;
        let row = store::webhook(&mut conn, id)?
            .ok_or_else(|| ServiceError::not_found(format!("There is no webhook {id}.")))?;
        drop(conn);
        self.hook_unit(who, row.commune_code.as_deref(), Some(&row.province_code))?;
        let now = self.now();
        let mut conn = self.conn()?;
        if row.removed_at.is_none() {
            store::remove_webhook_logged(
                &mut conn,
                id,
                &who.subject,
                now,
                &NewChange {
                    at: now,
                    actor: &who.subject,
                    action: "webhook.remove",
                    province: Some(&row.province_code),
                    commune: row.commune_code.as_deref(),
                    subject: format!("webhook:{id}"),
                    detail: serde_json::json!({"url": row.url}),
                },
            )?;
        }
        let row = store::webhook(&mut conn, id)?
            .ok_or_else(|| ServiceError::bug("a webhook vanished"))?;
        Ok(webhook_of(row))
    }

    /// The caller's own notification settings (a login's token only).
    pub fn preferences(&self, who: &Principal) -> Result<Preferences, ServiceError> {
        let user = innoreport_store::users::find_user(&mut *self.conn()?, &who.subject)?
            .ok_or_else(|| {
                ServiceError::forbidden(
                    "only a login has notification settings (this token has none)",
                )
            })?;
        Ok(Preferences {
            email: user.email,
            language: user.language,
            reminders: user.reminders,
        })
    }

    /// Changes the caller's own notification settings.
    pub fn set_preferences(
        &self,
        who: &Principal,
        change: PreferencesChange,
    ) -> Result<Preferences, ServiceError> {
        let before = self.preferences(who)?;
        let issues = change.issues();
        if !issues.is_empty() {
            return Err(ServiceError::invalid("preferences", issues));
        }
        let mut conn = self.conn()?;
        let user = innoreport_store::users::find_user(&mut conn, &who.subject)?
            .ok_or_else(|| ServiceError::bug("a login vanished"))?;
        let after = Preferences {
            email: change.email.clone().unwrap_or(before.email.clone()),
            language: change.language.clone().unwrap_or(before.language.clone()),
            reminders: change.reminders.unwrap_or(before.reminders),
        };
        if after == before {
            return Ok(before);
        }
        let update = innoreport_store::users::UserUpdate {
            email: Some(after.email.clone()),
            language: Some(after.language.clone()),
            reminders: Some(after.reminders),
            ..Default::default()
        };
        innoreport_store::users::update_user_logged(
            &mut conn,
            user.id,
            &update,
            self.now(),
            &NewChange {
                at: self.now(),
                actor: &who.subject,
                action: "user.preferences",
                province: user.province_code.as_deref(),
                commune: user.commune_code.as_deref(),
                subject: user.username.clone(),
                detail: serde_json::json!({
                    "before": {"email": before.email, "language": before.language, "reminders": before.reminders},
                    "after": {"email": after.email, "language": after.language, "reminders": after.reminders},
                }),
            },
        )?;
        Ok(after)
    }

    /// The store filter of the delivery log in `who`'s scope (a filter outside it is 403).
    pub fn log_filter(&self, who: &Principal, q: &LogQuery) -> Result<LogFilter, ServiceError> {
        let mut conn = self.conn()?;
        if let Some(c) = &q.commune {
            self.authorize_commune(&mut conn, who, c, Action::Read)?;
        }
        if let Some(p) = &q.province {
            let reference = self.reference(&mut conn, |r| r.province(p).is_some())?;
            crate::analysis::known_province_in(&reference, p)?;
        }
        let province = who.province_filter(q.province.as_deref())?;
        let commune = match who.own_commune() {
            Some(own) => Some(own.to_owned()),
            None => q.commune.clone(),
        };
        Ok(LogFilter {
            province,
            commune,
            kind: q.kind.clone(),
            status: q.status.clone(),
            channel: q.channel.clone(),
        })
    }

    /// One page of the delivery log, newest first, before the message id `before`.
    pub fn notification_log(
        &self,
        filter: &LogFilter,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<MessageRow>, ServiceError> {
        Ok(store::log(&mut *self.conn()?, filter, before, limit)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_is_https_to_a_public_address() {
        let code = |url: &str, loopback| check_url(url, loopback).map(|i| i.code);
        assert_eq!(code("https://xa-muongla.example.vn/hook", false), None);
        assert_eq!(
            code("http://xa-muongla.example.vn/hook", false).as_deref(),
            Some("insecure_url")
        );
        for internal in [
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://192.168.1.1/x",
            "https://172.16.0.1/x",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://localhost/x",
            "https://0.0.0.0/x",
            "https://2130706433/x",
            "https://[::127.0.0.1]/x",
            "https://[64:ff9b::a9fe:a9fe]/x",
            "https://[2002:a9fe:a9fe::]/x",
            "https://198.18.0.1/x",
            "https://224.0.0.1/x",
            "https://100.64.0.1/x",
        ] {
            assert_eq!(
                code(internal, false).as_deref(),
                Some("internal_address"),
                "{internal}"
            );
        }
        assert_eq!(
            code("https://user:pw@example.vn/x", false).as_deref(),
            Some("credentials_in_url")
        );
        assert_eq!(code("not a url", false).as_deref(), Some("invalid_url"));
        // Tests may deliver to this machine; never to another private address.
        assert_eq!(code("http://127.0.0.1:9000/hook", true), None);
        assert_eq!(
            code("http://10.0.0.1/hook", true).as_deref(),
            Some("insecure_url")
        );
        assert_eq!(
            code("https://10.0.0.1/hook", true).as_deref(),
            Some("internal_address")
        );
    }

    #[test]
    fn emails_and_languages_are_checked() {
        assert!(check_email("vanthu@muongla.sonla.gov.vn").is_none());
        assert!(check_email("not an address").is_some());
        assert!(check_email(&format!("{}@x.vn", "a".repeat(260))).is_some());
        assert!(check_language("en").is_none());
        assert!(check_language("fr").is_some());
    }
}
