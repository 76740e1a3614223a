//! Notifications: what the scheduler sends (reminders before deadlines, the province digest
//! after them, overdue tasks), the notices of review actions (written in the review's own
//! transaction), the delivery log, webhooks and a login's own notification settings.
//!
//! Every message goes through the outbox (`innoreport_store::notify`); [`deliver`] sends it.
//! The scheduler is idempotent: each message has a key naming what it is about and whom it is
//! for, so running it again (on any replica, at any time) adds only what is new.

pub mod deliver;
pub mod settings;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Utc};
use innoreport_aggregate::ComplianceStatus;
use innoreport_core::notify::{
    self as words, DigestLine, Kind, Language, Names, STALE_AFTER_DAYS, Text,
};
use innoreport_core::{Period, PeriodType, Principal, Role};
use innoreport_store::DbConnection;
use innoreport_store::notify::{self as store, Content, Listener, NewMessage};
use serde_json::json;

use crate::{Service, ServiceError, View};

/// What the scheduler does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Days before a deadline on which reminders go out (default 7, 3, 1).
    pub reminder_days: Vec<u16>,
    /// The days of some data sets, when not those.
    pub per_dataset: BTreeMap<String, Vec<u16>>,
}

impl Schedule {
    /// The reminder days of `dataset`.
    pub fn days_for(&self, dataset: &str) -> &[u16] {
        self.per_dataset.get(dataset).unwrap_or(&self.reminder_days)
    }
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            reminder_days: words::DEFAULT_REMINDER_DAYS.to_vec(),
            per_dataset: BTreeMap::new(),
        }
    }
}

/// The scheduler's principal: it reads every commune's standing, and nothing else.
fn scheduler() -> Principal {
    Principal {
        subject: "notifier".into(),
        role: Role::Admin,
        province: None,
        commune: None,
    }
}

/// A random key, 128 bits in hex: a message's idempotency key.
pub fn random_key() -> Result<String, ServiceError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| ServiceError::bug(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn language(l: &str) -> Language {
    Language::parse(l).unwrap_or_default()
}

/// The periods of `kind` whose deadlines may be near `as_of` (the year before to the year after).
fn periods_near(kind: PeriodType, as_of: DateTime<Utc>) -> Vec<Period> {
    let year = words::vietnam_day(as_of).year();
    (year - 1..=year + 1)
        .flat_map(|y| crate::entry::periods_of(kind, y))
        .collect()
}

/// One message to write, before it has an idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub dedup: String,
    pub kind: Kind,
    pub listener: Listener,
    pub province: String,
    pub commune: Option<String>,
    pub text: Text,
    pub link: String,
    pub data: serde_json::Value,
}

impl Planned {
    fn into_message(self, now: DateTime<Utc>) -> Result<NewMessage, ServiceError> {
        Ok(NewMessage::pending(
            self.dedup,
            random_key()?,
            self.kind.as_str(),
            &self.listener.to,
            &self.province,
            self.commune.as_deref(),
            &Content {
                language: self.listener.to.language.clone(),
                subject: self.text.subject,
                body: self.text.body,
                link: self.link,
                data: self.data,
            },
            now,
        ))
    }
}

/// Builds the messages of one event for every listener it concerns.
struct Fanout<'a> {
    listeners: &'a [Listener],
    out: Vec<Planned>,
}

impl Fanout<'_> {
    /// Messages about `commune` (Some: to its officers and webhooks) or `province` (None: to the
    /// province admins and the province's webhooks), keyed `<key>:<recipient>`.
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        key: &str,
        kind: Kind,
        province: &str,
        commune: Option<&str>,
        link: &str,
        data: &serde_json::Value,
        text: impl Fn(Language) -> Text,
    ) {
        for l in self.listeners.iter().filter(|l| {
            l.province == province
                && l.commune.as_deref() == commune
                && (l.reminders || !kind.is_reminder())
        }) {
            self.out.push(Planned {
                dedup: format!("{key}:{}", l.to.label()),
                kind,
                listener: l.clone(),
                province: province.to_owned(),
                commune: commune.map(str::to_owned),
                text: text(language(&l.to.language)),
                link: link.to_owned(),
                data: data.clone(),
            });
        }
    }
}

fn names((vi, en): (String, String)) -> Names {
    Names { vi, en }
}

impl Service {
    /// Every scheduled message due at `as_of` (reminders, digests, overdue tasks), whether or
    /// not it was written before.
    pub fn scheduled(
        &self,
        as_of: DateTime<Utc>,
        schedule: &Schedule,
    ) -> Result<Vec<Planned>, ServiceError> {
        let view = self.view()?;
        let listeners = store::audience(&mut *self.conn()?, None)?;
        let mut fan = Fanout {
            listeners: &listeners,
            out: Vec::new(),
        };
        if listeners.is_empty() {
            return Ok(Vec::new());
        }
        let stale = Duration::days(STALE_AFTER_DAYS);
        for d in &view.catalog.datasets {
            let dataset = Names {
                vi: d.name_vi.clone(),
                en: d.name_en.clone(),
            };
            for period in periods_near(d.period_type, as_of) {
                let deadline = d.deadline(period);
                let stage =
                    words::reminder_stage(deadline, schedule.days_for(d.code.as_str()), as_of)
                        .filter(|&n| as_of - words::reminder_due(deadline, n) <= stale);
                let digest = as_of >= words::digest_due(deadline)
                    && as_of - words::digest_due(deadline) <= stale;
                if stage.is_none() && !digest {
                    continue;
                }
                let standing = crate::analysis::compliance_of(
                    &view,
                    &scheduler(),
                    d.code.as_str(),
                    period,
                    None,
                    as_of,
                )?;
                if let Some(n) = stage {
                    reminders(&mut fan, &view, &standing, &dataset, n);
                }
                if digest {
                    digests(&mut fan, &view, &standing, &dataset);
                }
            }
        }
        self.overdue_tasks(&mut fan, &view, as_of)?;
        Ok(fan.out)
    }

    fn overdue_tasks(
        &self,
        fan: &mut Fanout<'_>,
        view: &View,
        as_of: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        // The quarter of `as_of`, and the one a week before (a task due on the last day of a year
        // is judged in that year's last quarter).
        let quarter = |t: DateTime<Utc>| {
            let day = words::vietnam_day(t);
            Period::Quarter(day.year(), (day.month0() / 3 + 1) as u8)
        };
        let mut quarters = vec![quarter(as_of)];
        let before = quarter(as_of - Duration::days(STALE_AFTER_DAYS));
        if before != quarters[0] {
            quarters.push(before);
        }
        let provinces: std::collections::BTreeSet<String> = fan
            .listeners
            .iter()
            .filter(|l| l.commune.is_some() && l.reminders)
            .map(|l| l.province.clone())
            .collect();
        for (p, quarter) in provinces
            .iter()
            .flat_map(|p| quarters.iter().map(move |q| (p, *q)))
        {
            let progress = self.plan_progress(&scheduler(), p, quarter, Some(as_of))?;
            for t in progress.overdue {
                let (Some(due), Some(days)) = (t.due, t.days_overdue) else {
                    continue;
                };
                if !(1..=STALE_AFTER_DAYS).contains(&days) {
                    continue;
                }
                let commune = names(view.reference.names(&t.commune));
                let link = format!("/commune/{}/tasks?period={quarter}", t.commune);
                let data = json!({
                    "commune": t.commune, "task": t.task.code, "title": t.task.title,
                    "due": due, "days_overdue": days, "as_of": as_of,
                });
                let notice = words::TaskOverdue {
                    commune: &commune,
                    code: &t.task.code,
                    title: &t.task.title,
                    due,
                    days_overdue: days,
                };
                fan.add(
                    &format!("task_overdue:{}:{}:{due}", t.commune, t.task.code),
                    Kind::TaskOverdue,
                    p,
                    Some(&t.commune),
                    &link,
                    &data,
                    |l| notice.text(l),
                );
            }
        }
        Ok(())
    }

    /// The scheduled messages due at `as_of` that are not in the outbox yet.
    pub fn unsent(
        &self,
        as_of: DateTime<Utc>,
        schedule: &Schedule,
    ) -> Result<Vec<Planned>, ServiceError> {
        let planned = self.scheduled(as_of, schedule)?;
        let keys: Vec<String> = planned.iter().map(|p| p.dedup.clone()).collect();
        let mut known = store::known(&mut *self.conn()?, &keys)?;
        // `insert` is false for a key already known, or met earlier in this run.
        Ok(planned
            .into_iter()
            .filter(|p| known.insert(p.dedup.clone()))
            .collect())
    }

    /// Refuses a schedule that names a data set the catalog does not have (a typo would
    /// otherwise silently leave that data set on the default days).
    pub fn check_schedule(&self, schedule: &Schedule) -> Result<(), ServiceError> {
        let catalog = self.current_catalog()?;
        let unknown: Vec<&str> = schedule
            .per_dataset
            .keys()
            .filter(|d| catalog.dataset(d).is_none())
            .map(String::as_str)
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::bad(
                "reminder_days",
                "unknown_dataset",
                format!(
                    "the reminder days name data sets the catalog does not have: {}",
                    unknown.join(", ")
                ),
            ))
        }
    }

    /// Writes the scheduled messages due at `as_of` that are new; returns how many.
    pub fn schedule_notifications(
        &self,
        as_of: DateTime<Utc>,
        schedule: &Schedule,
    ) -> Result<usize, ServiceError> {
        let now = self.now();
        let messages = self
            .unsent(as_of, schedule)?
            .into_iter()
            .map(|p| p.into_message(now))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(store::enqueue(&mut *self.conn()?, &messages)?)
    }
}

fn reminders(
    fan: &mut Fanout<'_>,
    view: &View,
    standing: &crate::analysis::Compliance,
    dataset: &Names,
    stage: u16,
) {
    for c in standing
        .communes
        .iter()
        .filter(|c| c.status == ComplianceStatus::Pending)
    {
        let commune = names(view.reference.names(&c.commune));
        let reminder = words::Reminder {
            commune: &commune,
            dataset,
            period: standing.period,
            deadline: standing.deadline,
            as_of: standing.as_of,
        };
        let data = json!({
            "dataset": standing.dataset, "period": standing.period.to_string(),
            "commune": c.commune, "deadline": standing.deadline, "days_before": stage,
            "days_left": words::days_left(standing.deadline, standing.as_of),
        });
        fan.add(
            &format!(
                "reminder:{}:{}:{stage}:{}",
                standing.dataset, standing.period, c.commune
            ),
            Kind::Reminder,
            &c.province,
            Some(&c.commune),
            &format!(
                "/commune/{}/entry?dataset={}&period={}",
                c.commune, standing.dataset, standing.period
            ),
            &data,
            |l| reminder.text(l),
        );
    }
}

fn digests(
    fan: &mut Fanout<'_>,
    view: &View,
    standing: &crate::analysis::Compliance,
    dataset: &Names,
) {
    let mut by_province: BTreeMap<&str, Vec<DigestLine>> = BTreeMap::new();
    for c in &standing.communes {
        let lines = by_province.entry(c.province.as_str()).or_default();
        if matches!(c.status, ComplianceStatus::Late | ComplianceStatus::Missing) {
            lines.push(DigestLine {
                commune: c.commune.clone(),
                name_vi: c.name.clone(),
                status: c.status.as_str().into(),
                days_late: c.days_late.unwrap_or(0),
            });
        }
    }
    for (province, lines) in by_province {
        let expected = standing
            .by_province
            .iter()
            .find(|n| n.counts.unit == province)
            .map(|n| n.counts.expected)
            .unwrap_or(0);
        let names = names(view.reference.names(province));
        let digest = words::Digest {
            province: &names,
            dataset,
            period: standing.period,
            deadline: standing.deadline,
            as_of: standing.as_of,
            expected,
            lines: &lines,
        };
        let data = json!({
            "dataset": standing.dataset, "period": standing.period.to_string(),
            "province": province, "deadline": standing.deadline, "as_of": standing.as_of,
            "expected": expected, "communes": lines,
        });
        fan.add(
            &format!("digest:{}:{}:{province}", standing.dataset, standing.period),
            Kind::Digest,
            province,
            None,
            &format!(
                "/province/{province}?period={}&dataset={}",
                standing.period, standing.dataset
            ),
            &data,
            |l| digest.text(l),
        );
    }
}

/// The notices of a review action on a commune's report, written on `conn` (inside the
/// review's transaction).
#[allow(clippy::too_many_arguments)]
pub(crate) fn review_notices(
    conn: &mut DbConnection,
    view_names: (Names, Names),
    kind: Kind,
    dataset: &str,
    period: Period,
    province: &str,
    commune: &str,
    actor: &str,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<usize, ServiceError> {
    let listeners = store::audience(conn, Some(province))?;
    let (commune_names, dataset_names) = view_names;
    let notice = words::ReviewNotice {
        kind,
        commune: &commune_names,
        dataset: &dataset_names,
        period,
        actor,
        comment,
    };
    let mut fan = Fanout {
        listeners: &listeners,
        out: Vec::new(),
    };
    let data = json!({
        "dataset": dataset, "period": period.to_string(), "commune": commune,
        "actor": actor, "comment": comment, "at": now,
    });
    // An approved report is read on the commune's page of its year; the others are to be
    // (re)entered: the form of that period.
    let link = if kind == Kind::Approved {
        format!("/commune/{commune}?year={}", period.year())
    } else {
        format!("/commune/{commune}/entry?dataset={dataset}&period={period}")
    };
    fan.add(
        &format!("{}:{}", kind.as_str(), random_key()?),
        kind,
        province,
        Some(commune),
        &link,
        &data,
        |l| notice.text(l),
    );
    let messages = fan
        .out
        .into_iter()
        .map(|p| p.into_message(now))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(store::enqueue(conn, &messages)?)
}
