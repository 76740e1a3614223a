//! The live view of current values that the aggregator reads.
//!
//! It holds every report's current values in memory and, before each read, catches up with
//! the database by reading only what changed since its cursor (see `store::views`). So a
//! submission is visible to the next query on this replica and on every other replica reading
//! the same database, and no request re-reads the whole database.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use innoreport_aggregate::rollup::period_ord;
use innoreport_core::Period;
use innoreport_store::reference::{self, CommuneRow, ProvinceSummary};
use innoreport_store::views::{ReportState, changes_since};
use innoreport_store::{DbConnection, StoreError};
use polars::prelude::*;

/// Reference units, loaded once.
#[derive(Debug, Default)]
pub struct Units {
    pub communes: Vec<CommuneRow>,
    pub provinces: Vec<ProvinceSummary>,
    index: HashMap<String, usize>,
}

impl Units {
    pub fn commune(&self, code: &str) -> Option<&CommuneRow> {
        self.index.get(code).map(|&i| &self.communes[i])
    }

    pub fn province(&self, code: &str) -> Option<&ProvinceSummary> {
        self.provinces.iter().find(|p| p.province.code == code)
    }
}

/// A consistent view at one version.
#[derive(Clone)]
pub struct Snapshot {
    /// The values of each year's periods (columns `commune`, `period`, `period_ord`,
    /// `indicator`, `value`). A rollup never needs periods of two years, so only the changed
    /// years are rebuilt after a submission.
    pub frames: Arc<BTreeMap<i32, Arc<DataFrame>>>,
    pub reports: Arc<HashMap<i64, ReportState>>,
    pub units: Arc<Units>,
    /// Grows by one with every batch of changes applied.
    pub version: u64,
}

impl Snapshot {
    /// The values of the periods of `years`, as one frame.
    pub fn values_for(&self, years: &[i32]) -> DataFrame {
        let mut out: Option<DataFrame> = None;
        for y in years {
            if let Some(frame) = self.frames.get(y) {
                out = Some(match out {
                    None => frame.as_ref().clone(),
                    Some(mut acc) => {
                        acc.vstack_mut(frame).expect("year frames share one schema");
                        acc
                    }
                });
            }
        }
        out.unwrap_or_else(|| build_frame(std::iter::empty()).expect("an empty frame builds"))
    }

    /// First receipt times of the reports of one data set and period, by commune.
    pub fn receipts(&self, dataset: &str, period: &str) -> HashMap<String, DateTime<Utc>> {
        self.reports
            .values()
            .filter(|r| r.dataset == dataset && r.period == period)
            .map(|r| (r.commune.clone(), r.first_received_at))
            .collect()
    }
}

#[derive(Default)]
struct Inner {
    cursor: i64,
    reports: Arc<HashMap<i64, ReportState>>,
    frames: Arc<BTreeMap<i32, Arc<DataFrame>>>,
    units: Option<Arc<Units>>,
    version: u64,
}

#[derive(Default)]
pub struct LiveView {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for LiveView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveView")
    }
}

fn year_of(period: &str) -> Option<i32> {
    period.get(..4)?.parse().ok()
}

fn build_frame<'a>(
    reports: impl Iterator<Item = &'a ReportState> + Clone,
) -> PolarsResult<DataFrame> {
    let n: usize = reports.clone().map(|r| r.values.len()).sum();
    let (mut commune, mut period, mut ord, mut indicator, mut value) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for r in reports {
        let Ok(p) = Period::parse(&r.period) else {
            continue;
        };
        for (code, v) in &r.values {
            commune.push(r.commune.as_str());
            period.push(r.period.as_str());
            ord.push(period_ord(p));
            indicator.push(code.as_str());
            value.push(*v);
        }
    }
    df!("commune" => commune, "period" => period, "period_ord" => ord, "indicator" => indicator, "value" => value)
}

impl LiveView {
    /// Catches up with the database and returns the current snapshot.
    pub fn refresh(&self, conn: &mut DbConnection) -> Result<Snapshot, StoreError> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.units.is_none() {
            let communes = reference::all_communes(conn)?;
            let provinces = reference::list_provinces(conn)?;
            let index = communes
                .iter()
                .enumerate()
                .map(|(i, c)| (c.code.clone(), i))
                .collect();
            inner.units = Some(Arc::new(Units {
                communes,
                provinces,
                index,
            }));
        }
        let (changes, next) = changes_since(conn, inner.cursor)?;
        inner.cursor = next;
        let mut dirty = BTreeSet::new();
        if !changes.is_empty() {
            let reports = Arc::make_mut(&mut inner.reports);
            for state in changes {
                if reports.get(&state.report_id) != Some(&state) {
                    if let Some(old) = reports
                        .get(&state.report_id)
                        .and_then(|r| year_of(&r.period))
                    {
                        dirty.insert(old);
                    }
                    dirty.extend(year_of(&state.period));
                    reports.insert(state.report_id, state);
                }
            }
        }
        if !dirty.is_empty() {
            inner.version += 1;
            let reports = Arc::clone(&inner.reports);
            let frames = Arc::make_mut(&mut inner.frames);
            for year in dirty {
                let of_year = reports
                    .values()
                    .filter(|r| year_of(&r.period) == Some(year));
                let frame = build_frame(of_year).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                frames.insert(year, Arc::new(frame));
            }
        }
        Ok(Snapshot {
            frames: Arc::clone(&inner.frames),
            reports: Arc::clone(&inner.reports),
            units: inner.units.clone().expect("loaded above"),
            version: inner.version,
        })
    }
}
