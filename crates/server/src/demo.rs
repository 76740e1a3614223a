//! `innoreport demo`: realistic demo reports, so that every dashboard and export has content.
//!
//! Reports go through the same submission code as the API, with receipt times spread around
//! each deadline: most communes report on time, some late, a few not at all. The data is
//! deterministic for a seed.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use innoreport_aggregate::index::SplitMix64;
use innoreport_core::{Catalog, Period, PeriodType};
use innoreport_store::reports::{Submission, SubmitError, submit};
use innoreport_store::{Store, StoreError};

/// What a demo run added.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DemoReport {
    pub communes: usize,
    /// Reports created or changed.
    pub reports: usize,
    /// Reports already there with the same values (a rerun with the same seed).
    pub unchanged: usize,
    pub skipped: usize,
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

/// Fills the store with demo reports for the communes of `province` (all communes when
/// `None`) over the last `years` years up to `now`.
pub fn generate(
    store: &Store,
    catalog: &Catalog,
    province: Option<&str>,
    years: i32,
    seed: u64,
    now: DateTime<Utc>,
) -> Result<DemoReport, StoreError> {
    let mut conn = store.conn()?;
    let communes: Vec<String> = innoreport_store::reference::all_communes(&mut conn)?
        .into_iter()
        .filter(|c| province.is_none_or(|p| c.province_code == p))
        .map(|c| c.code)
        .collect();
    let mut rng = SplitMix64::new(seed);
    let mut report = DemoReport {
        communes: communes.len(),
        ..Default::default()
    };
    let this_year = Period::parse(&now.format("%Y").to_string())
        .map(|p| p.year())
        .unwrap_or(2026);
    for commune in &communes {
        let profile = Profile {
            population: 4000.0 + rng.next_f64() * 40000.0,
            innovation: 0.2 + rng.next_f64() * 0.8,
            punctuality: 0.6 + rng.next_f64() * 0.4,
        };
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
                let sub = Submission {
                    dataset,
                    period,
                    commune: commune.clone(),
                    changes: values
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), Some(v)))
                        .collect(),
                    field_issues: Vec::new(),
                    comment: Some("Dữ liệu minh họa (demo)".into()),
                    base_revision: None,
                    author: "demo".into(),
                    now: received,
                };
                match submit(&mut conn, catalog, &sub, false) {
                    Ok(done) if done.outcome == innoreport_store::reports::Outcome::Unchanged => {
                        report.unchanged += 1
                    }
                    Ok(_) => report.reports += 1,
                    Err(SubmitError::Store(e)) => return Err(e),
                    Err(_) => report.skipped += 1,
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
