//! The live view of current values that the aggregator reads.
//!
//! It holds every report's current values in memory and, before each read, catches up with
//! the database by reading only what changed since its cursor (see `store::views`). So a
//! submission is visible to the next query on this replica and on every other replica reading
//! the same database, and no request re-reads the whole database.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use innoreport_aggregate::rollup::period_ord;
use innoreport_core::Period;
use innoreport_store::reference::{self, CommuneRow, ProvinceSummary};
use innoreport_store::views::changes_since;
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

/// First receipt times by commune, for one data set and period.
pub type Receipts = HashMap<String, DateTime<Utc>>;

/// A consistent view at one version.
#[derive(Clone)]
pub struct Snapshot {
    /// The values of each year's periods (columns `commune`, `period`, `period_ord`,
    /// `indicator`, `value`). A rollup never needs periods of two years, so only the changed
    /// years are rebuilt after a submission.
    pub frames: Arc<BTreeMap<i32, Arc<DataFrame>>>,
    /// First receipts by (data set, period).
    receipts: Arc<HashMap<(String, String), Arc<Receipts>>>,
    /// Reports in the view.
    pub reports: usize,
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
    pub fn receipts(&self, dataset: &str, period: &str) -> Arc<Receipts> {
        self.receipts
            .get(&(dataset.to_owned(), period.to_owned()))
            .cloned()
            .unwrap_or_default()
    }
}

/// A report as the view holds it: codes shared between reports, values in a slice.
#[derive(PartialEq)]
struct Held {
    dataset: Arc<str>,
    period: Arc<str>,
    commune: Arc<str>,
    first_received_at: DateTime<Utc>,
    values: Box<[(Arc<str>, f64)]>,
}

/// One shared copy of each code.
#[derive(Default)]
struct Interner(HashSet<Arc<str>>);

impl Interner {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(hit) = self.0.get(s) {
            return Arc::clone(hit);
        }
        let new: Arc<str> = Arc::from(s);
        self.0.insert(Arc::clone(&new));
        new
    }
}

#[derive(Default)]
struct Inner {
    cursor: i64,
    /// Never shared with a snapshot, so applying changes never copies it.
    reports: HashMap<i64, Held>,
    /// Report ids by year, so a year's frame is rebuilt from its own reports.
    years: HashMap<i32, HashSet<i64>>,
    codes: Interner,
    receipts: Arc<HashMap<(String, String), Arc<Receipts>>>,
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

fn build_frame<'a>(reports: impl Iterator<Item = &'a Held> + Clone) -> PolarsResult<DataFrame> {
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
        for (code, v) in r.values.iter() {
            commune.push(&*r.commune);
            period.push(&*r.period);
            ord.push(period_ord(p));
            indicator.push(&**code);
            value.push(*v);
        }
    }
    df!("commune" => commune, "period" => period, "period_ord" => ord, "indicator" => indicator, "value" => value)
}

impl LiveView {
    /// Catches up with the database and returns the current snapshot.
    pub fn refresh(&self, conn: &mut DbConnection) -> Result<Snapshot, StoreError> {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let inner = &mut *guard;
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
        let mut receipts_changed = BTreeSet::new();
        for state in changes {
            let held = Held {
                dataset: inner.codes.get(&state.dataset),
                period: inner.codes.get(&state.period),
                commune: inner.codes.get(&state.commune),
                first_received_at: state.first_received_at,
                values: state
                    .values
                    .iter()
                    .map(|(k, v)| (inner.codes.get(k), *v))
                    .collect(),
            };
            if inner.reports.get(&state.report_id) == Some(&held) {
                continue;
            }
            if let Some(old) = inner.reports.get(&state.report_id) {
                if let Some(y) = year_of(&old.period) {
                    dirty.insert(y);
                    if let Some(ids) = inner.years.get_mut(&y) {
                        ids.remove(&state.report_id);
                    }
                }
                receipts_changed.insert((old.dataset.to_string(), old.period.to_string()));
            }
            if let Some(y) = year_of(&held.period) {
                dirty.insert(y);
                inner.years.entry(y).or_default().insert(state.report_id);
            }
            receipts_changed.insert((held.dataset.to_string(), held.period.to_string()));
            inner.reports.insert(state.report_id, held);
        }
        if !dirty.is_empty() {
            inner.version += 1;
            let frames = Arc::make_mut(&mut inner.frames);
            for year in dirty {
                let ids = inner.years.get(&year);
                let of_year = ids
                    .into_iter()
                    .flatten()
                    .filter_map(|id| inner.reports.get(id));
                let frame = build_frame(of_year).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                frames.insert(year, Arc::new(frame));
            }
            let receipts = Arc::make_mut(&mut inner.receipts);
            for (dataset, period) in receipts_changed {
                let of_key: Receipts = year_of(&period)
                    .and_then(|y| inner.years.get(&y))
                    .into_iter()
                    .flatten()
                    .filter_map(|id| inner.reports.get(id))
                    .filter(|r| *r.dataset == *dataset && *r.period == *period)
                    .map(|r| (r.commune.to_string(), r.first_received_at))
                    .collect();
                receipts.insert((dataset, period), Arc::new(of_key));
            }
        }
        Ok(Snapshot {
            frames: Arc::clone(&inner.frames),
            receipts: Arc::clone(&inner.receipts),
            reports: inner.reports.len(),
            units: inner.units.clone().expect("loaded above"),
            version: inner.version,
        })
    }
}
