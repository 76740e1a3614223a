//! `innoreport demo`: realistic demo reports, so that every dashboard and export has content.
//!
//! Reports go through the same submission code as the API, with receipt times spread around
//! each deadline: most communes report on time, some late, a few not at all. The data is
//! deterministic for a seed.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use innoreport_aggregate::index::SplitMix64;
use innoreport_core::{Catalog, Period, PeriodType};
use innoreport_store::Store;

use crate::ServiceError;
use crate::reports::{Outcome, Submission, store_submission};

/// What a demo run added.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DemoReport {
    pub communes: usize,
    /// Reports created or changed.
    pub reports: usize,
    /// Later corrections of a report (second revisions).
    pub corrections: usize,
    /// Reports already there with the same values (a rerun with the same seed).
    pub unchanged: usize,
    pub skipped: usize,
}

impl DemoReport {
    fn add(&mut self, other: &DemoReport) {
        self.communes += other.communes;
        self.reports += other.reports;
        self.corrections += other.corrections;
        self.unchanged += other.unchanged;
        self.skipped += other.skipped;
    }
}

/// How far a demo run has come: communes filled of all, and reports stored so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub communes_done: usize,
    pub communes: usize,
    pub reports: usize,
}

/// One commune's character: size and how innovative it is.
struct Profile {
    population: f64,
    innovation: f64,
    punctuality: f64,
}

fn int(x: f64) -> f64 {
    x.max(0.0).round()
}

/// A generator of its own for each commune, so that communes can be filled in parallel and
/// the data is still the same for a seed.
fn commune_rng(seed: u64, commune: &str) -> SplitMix64 {
    let code: u64 = commune.parse().unwrap_or(0);
    let mut mix = SplitMix64::new(seed ^ code.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    SplitMix64::new(mix.next_u64())
}

/// Fills the store with demo reports for the communes of `province` (all communes when
/// `None`) over the last `years` years up to `now`, on `jobs` connections at once (SQLite
/// always uses one: it has a single writer). `progress` hears of every commune filled.
#[allow(clippy::too_many_arguments)]
pub fn generate(
    store: &Store,
    catalog: &Catalog,
    province: Option<&str>,
    years: i32,
    seed: u64,
    now: DateTime<Utc>,
    jobs: usize,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<DemoReport, ServiceError> {
    let communes: Vec<(String, String)> =
        innoreport_store::reference::all_communes(&mut *store.conn()?)?
            .into_iter()
            .filter(|c| province.is_none_or(|p| c.province_code == p))
            .map(|c| (c.code, c.province_code))
            .collect();
    // The sample plans first: the communes' reports state progress on their tasks.
    crate::plans::samples::seed(&mut *store.conn()?, catalog, &communes, now)?;
    let jobs = match store.backend() {
        innoreport_store::Backend::Sqlite => 1,
        _ => jobs.clamp(1, 16),
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let filled = std::sync::atomic::AtomicUsize::new(0);
    let stored = std::sync::atomic::AtomicUsize::new(0);
    let total = communes.len();
    let results: Vec<Result<DemoReport, ServiceError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| {
                    let mut conn = store.conn()?;
                    let mut done = DemoReport::default();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((commune, province)) = communes.get(i) else {
                            return Ok(done);
                        };
                        let one = innoreport_store::transaction(&mut conn, |conn| {
                            fill_commune(conn, catalog, commune, province, years, seed, now)
                        })?;
                        done.add(&one);
                        use std::sync::atomic::Ordering::Relaxed;
                        let reports = stored.fetch_add(one.reports + one.corrections, Relaxed)
                            + one.reports
                            + one.corrections;
                        progress(Progress {
                            communes_done: filled.fetch_add(1, Relaxed) + 1,
                            communes: total,
                            reports,
                        });
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a demo worker panicked"))
            .collect()
    });
    let mut report = DemoReport::default();
    for r in results {
        report.add(&r?);
    }
    innoreport_store::analyze(&mut *store.conn()?)?;
    Ok(report)
}

/// Every report of one commune, in one transaction (each submission is a savepoint in it).
fn fill_commune(
    conn: &mut innoreport_store::DbConnection,
    catalog: &Catalog,
    commune: &str,
    province: &str,
    years: i32,
    seed: u64,
    now: DateTime<Utc>,
) -> Result<DemoReport, ServiceError> {
    let mut rng = commune_rng(seed, commune);
    let mut report = DemoReport {
        communes: 1,
        ..Default::default()
    };
    let profile = Profile {
        population: 4000.0 + rng.next_f64() * 40000.0,
        innovation: 0.2 + rng.next_f64() * 0.8,
        punctuality: 0.6 + rng.next_f64() * 0.4,
    };
    let this_year = Period::parse(&now.format("%Y").to_string())
        .map(|p| p.year())
        .unwrap_or(2026);
    let plan = crate::plans::commune_plan_body(conn, commune, 2026)?;
    for year in (this_year - years + 1)..=this_year {
        let growth = 1.0 + 0.1 * (year - this_year + years) as f64;
        let mut periods: Vec<(Period, &str)> = Period::quarters_of(year)
            .into_iter()
            .map(|q| (q, "dmst-quarterly"))
            .collect();
        periods.push((Period::Year(year), "dmst-annual"));
        for (period, dataset_code) in periods {
            let Some(dataset) = catalog.dataset(dataset_code) else {
                continue;
            };
            if dataset.period_type != period.kind() || period.start() > now {
                continue;
            }
            let deadline = dataset.deadline(period);
            let lock = dataset
                .lock(period)
                .unwrap_or(deadline + Duration::days(30));
            let draw = rng.next_f64();
            // Punctual communes mostly report before the deadline; some late; some never.
            let received = if draw < profile.punctuality * 0.9 {
                deadline - Duration::minutes((rng.next_f64() * 20.0 * 24.0 * 60.0) as i64)
            } else if draw < 0.95 {
                deadline
                    + Duration::minutes(
                        (rng.next_f64() * (lock - deadline).num_minutes() as f64 * 0.9) as i64,
                    )
            } else {
                report.skipped += 1;
                continue;
            };
            let received = received.max(period.start() + Duration::hours(1));
            if received > now {
                continue; // not yet received in this demo's world
            }
            let values = if period.kind() == PeriodType::Quarter {
                quarterly(&mut rng, &profile, growth)
            } else {
                annual(&mut rng, &profile, growth)
            };
            // About one report in seven is corrected a few days later (a second revision).
            let correction = (rng.next_f64() < 0.15).then(|| {
                let (code, value) = values
                    .iter()
                    .nth((rng.next_f64() * values.len() as f64) as usize % values.len())
                    .map(|(k, v)| (*k, *v))
                    .expect("a report has values");
                let at = received + Duration::minutes((rng.next_f64() * 7.0 * 24.0 * 60.0) as i64);
                (code, int(value * (0.9 + rng.next_f64() * 0.2)), at)
            });
            let mut sub = Submission {
                dataset: dataset.clone(),
                period,
                commune: commune.to_owned(),
                province: province.to_owned(),
                changes: values
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), Some(v)))
                    .collect(),
                field_issues: Vec::new(),
                comment: Some("Dữ liệu minh họa (demo)".into()),
                base_revision: None,
                author: "demo".into(),
                progress: Default::default(),
            };
            // Quarterly reports of the plan's year state progress on its tasks.
            if let (Some(plan), PeriodType::Quarter) = (&plan, period.kind())
                && plan.covers(period.year())
            {
                let part = crate::plans::samples::demo_progress(
                    plan,
                    period.index(),
                    profile.innovation,
                    seed ^ commune.parse::<u64>().unwrap_or(0),
                );
                sub.progress.tasks = part.tasks.into_iter().map(|(k, v)| (k, Some(v))).collect();
                sub.progress.texts = part.texts.into_iter().map(|(k, v)| (k, Some(v))).collect();
            }
            match store_submission(conn, catalog, &sub, received, false) {
                Ok(done) if done.outcome == Outcome::Unchanged => report.unchanged += 1,
                Ok(_) => report.reports += 1,
                Err(e @ (ServiceError::Unavailable { .. } | ServiceError::Internal { .. })) => {
                    return Err(e);
                }
                Err(_) => {
                    report.skipped += 1;
                    continue;
                }
            }
            if let Some((code, value, at)) = correction.filter(|c| c.2 <= now) {
                sub.changes = BTreeMap::from([(code.to_owned(), Some(value))]);
                sub.progress = Default::default();
                sub.comment = Some("Điều chỉnh số liệu (demo correction)".into());
                match store_submission(conn, catalog, &sub, at, false) {
                    Ok(done) if done.outcome == Outcome::Unchanged => {}
                    Ok(_) => report.corrections += 1,
                    Err(e @ (ServiceError::Unavailable { .. } | ServiceError::Internal { .. })) => {
                        return Err(e);
                    }
                    // Past the lock, or the change breaks a part ≤ whole rule: not corrected.
                    Err(_) => {}
                }
            }
        }
    }
    Ok(report)
}

fn quarterly(rng: &mut SplitMix64, p: &Profile, growth: f64) -> BTreeMap<&'static str, f64> {
    let k = p.innovation;
    let mut r = |scale: f64| rng.next_f64() * scale;
    let dossiers = int(p.population / 40.0 * (0.8 + r(0.4)));
    let staff = int(25.0 + p.population / 2000.0);
    let teams = int(1.0 + k * 8.0 + r(2.0));
    let businesses = int(p.population / 60.0 * (0.8 + r(0.4)));
    BTreeMap::from([
        ("dossiers_total", dossiers),
        (
            "dossiers_online_full",
            int(dossiers * (0.3 + 0.6 * k).min(1.0) * growth.min(1.3) / 1.3),
        ),
        ("staff_total", staff),
        (
            "staff_trained",
            int(staff * (0.2 + 0.7 * k * r(1.0)).min(1.0)),
        ),
        ("digital_teams", teams),
        ("digital_team_members", int(teams * (3.0 + r(5.0)))),
        ("businesses_total", businesses),
        ("businesses_innovating", int(businesses * 0.05 * k * growth)),
        ("initiatives_proposed", int(r(6.0) * k * 2.0)),
        ("initiatives_recognized", int(r(3.0) * k)),
        ("st_models", int(r(3.0) * k + 0.4)),
        ("outreach_sessions", int(1.0 + r(4.0) * k)),
        ("ocop_3star", int(r(5.0) * k)),
        ("ocop_4star", int(r(2.5) * k)),
        ("ocop_5star", int(r(1.2) * k * k)),
    ])
}

fn annual(rng: &mut SplitMix64, p: &Profile, growth: f64) -> BTreeMap<&'static str, f64> {
    let k = p.innovation;
    let mut r = |scale: f64| rng.next_f64() * scale;
    let budget = int(p.population * 1.5 * (0.9 + r(0.2)));
    BTreeMap::from([
        ("population", int(p.population * growth.sqrt())),
        ("budget_total", budget),
        (
            "budget_st",
            int(budget * (0.005 + 0.03 * k) * growth.min(1.5)),
        ),
        ("st_results_applied", int(r(3.0) * k)),
        ("st_enterprises", int(r(4.0) * k * k)),
        ("startup_projects", int(r(3.0) * k)),
    ])
}
