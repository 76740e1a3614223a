//! The current values of every report, held as polars columns.
//!
//! One frame per (data set, period): a row per commune in code order (the same rows in every
//! frame, so columns of different periods line up), a `Float64` column per reported indicator
//! (null where nothing is reported) and the first receipt instant of each commune's report.
//! A change replaces one frame; every other frame, and every snapshot already handed out, is
//! untouched (frames are shared by `Arc`), so a reader never sees a half-applied change and a
//! change costs one frame's copy, whatever the size of the history.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use innoreport_core::Period;
use polars::prelude::*;

/// The communes of the country in code order, each with its province.
#[derive(Debug, Clone, Default)]
pub struct Units {
    communes: Vec<String>,
    /// Position of each commune's province in `provinces`.
    province_of: Vec<u16>,
    provinces: Vec<String>,
    commune_index: HashMap<String, u32>,
    province_index: HashMap<String, u16>,
}

impl Units {
    /// From (commune, province) pairs, in any order.
    pub fn new(mut pairs: Vec<(String, String)>) -> Units {
        pairs.sort();
        pairs.dedup_by(|a, b| a.0 == b.0);
        let mut provinces: Vec<String> = pairs.iter().map(|(_, p)| p.clone()).collect();
        provinces.sort();
        provinces.dedup();
        let province_index: HashMap<String, u16> = provinces
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), i as u16))
            .collect();
        let province_of = pairs.iter().map(|(_, p)| province_index[p]).collect();
        let commune_index = pairs
            .iter()
            .enumerate()
            .map(|(i, (c, _))| (c.clone(), i as u32))
            .collect();
        Units {
            communes: pairs.into_iter().map(|(c, _)| c).collect(),
            province_of,
            provinces,
            commune_index,
            province_index,
        }
    }

    /// Number of communes (rows of every frame).
    pub fn len(&self) -> usize {
        self.communes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.communes.is_empty()
    }

    pub fn communes(&self) -> &[String] {
        &self.communes
    }

    pub fn provinces(&self) -> &[String] {
        &self.provinces
    }

    pub fn commune_index(&self, code: &str) -> Option<usize> {
        self.commune_index.get(code).map(|&i| i as usize)
    }

    pub fn province_index(&self, code: &str) -> Option<usize> {
        self.province_index.get(code).map(|&i| i as usize)
    }

    /// The province (index) of the commune at row `row`.
    pub fn province_of_row(&self, row: usize) -> usize {
        self.province_of[row] as usize
    }

    /// The province code of a commune.
    pub fn province_of(&self, commune: &str) -> Option<&str> {
        self.commune_index(commune)
            .map(|i| self.provinces[self.province_of[i] as usize].as_str())
    }

    /// Rows of the communes of a province, in code order.
    pub fn rows_of_province(&self, province: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.communes.len()).filter(move |&r| self.province_of[r] as usize == province)
    }
}

/// The name of the column of first receipt instants (microseconds since the epoch, UTC).
pub const RECEIVED: &str = "__first_received_us";

/// One (data set, period) of reports.
#[derive(Debug, Clone)]
pub struct PeriodFrame {
    /// A column per reported indicator seen in this period, plus [`RECEIVED`].
    pub frame: DataFrame,
    /// The cube version of the last change of this frame.
    pub version: u64,
}

impl PeriodFrame {
    /// The values of `indicator`, one per commune (all null when nobody reported it).
    pub fn column(&self, indicator: &str) -> Float64Chunked {
        match self.frame.column(indicator).ok().and_then(|c| c.f64().ok()) {
            Some(c) => c.clone(),
            None => Float64Chunked::full_null(indicator.into(), self.frame.height()),
        }
    }

    /// First receipt instants (µs since the epoch), one per commune.
    pub fn received(&self) -> Int64Chunked {
        match self.frame.column(RECEIVED).ok().and_then(|c| c.i64().ok()) {
            Some(c) => c.clone(),
            None => Int64Chunked::full_null(RECEIVED.into(), self.frame.height()),
        }
    }
}

/// A report's current state, as the cube holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportCells {
    pub dataset: String,
    pub period: Period,
    pub commune: String,
    /// First receipt, microseconds since the epoch (UTC).
    pub first_received_us: i64,
    pub values: BTreeMap<String, f64>,
}

/// The key of a frame.
pub type FrameKey = (String, Period);

/// A consistent view of every report's current values. Cloning is cheap (shared frames).
#[derive(Debug, Clone, Default)]
pub struct Cube {
    units: Arc<Units>,
    frames: Arc<HashMap<FrameKey, Arc<PeriodFrame>>>,
    version: u64,
    reports: usize,
    epoch: u64,
}

/// Numbers each cube of this process, so the frame versions of two cubes never meet in a key.
static EPOCHS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Cube {
    pub fn new(units: Arc<Units>) -> Cube {
        Cube {
            units,
            epoch: EPOCHS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            ..Cube::default()
        }
    }

    /// Which cube of this process this is (and every snapshot of it): with a frame's
    /// [`PeriodFrame::version`] it names that frame's contents.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    pub fn units(&self) -> &Arc<Units> {
        &self.units
    }

    /// Grows with every applied batch that changed something.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Reports held.
    pub fn reports(&self) -> usize {
        self.reports
    }

    pub fn frame(&self, dataset: &str, period: Period) -> Option<&Arc<PeriodFrame>> {
        self.frames.get(&(dataset.to_owned(), period))
    }

    /// Every (data set, period) held, with its version.
    pub fn frame_versions(&self) -> impl Iterator<Item = (&FrameKey, u64)> {
        self.frames.iter().map(|(k, f)| (k, f.version))
    }

    /// The values of `indicator` (reported in `dataset`) for `period`, one per commune.
    pub fn column(&self, dataset: &str, indicator: &str, period: Period) -> Float64Chunked {
        match self.frame(dataset, period) {
            Some(f) => f.column(indicator),
            None => Float64Chunked::full_null(indicator.into(), self.units.len()),
        }
    }

    /// First receipt instants (µs since the epoch) of the reports of `dataset` for `period`,
    /// one per commune (null: none received).
    pub fn received(&self, dataset: &str, period: Period) -> Int64Chunked {
        match self.frame(dataset, period) {
            Some(f) => f.received(),
            None => Int64Chunked::full_null(RECEIVED.into(), self.units.len()),
        }
    }

    /// Applies the current states of changed reports (a report is replaced whole: indicators it
    /// no longer has become null). States of communes outside the units are ignored. Returns
    /// whether anything changed.
    pub fn apply(&mut self, states: Vec<ReportCells>) -> PolarsResult<bool> {
        let mut by_frame: HashMap<FrameKey, Vec<(usize, ReportCells)>> = HashMap::new();
        for s in states {
            if let Some(row) = self.units.commune_index(&s.commune) {
                by_frame
                    .entry((s.dataset.clone(), s.period))
                    .or_default()
                    .push((row, s));
            }
        }
        let mut changed = false;
        let next = self.version + 1;
        let frames = Arc::make_mut(&mut self.frames);
        for (key, rows) in by_frame {
            let old = frames.get(&key);
            let (frame, new_rows) = rebuild(old.map(|f| &f.frame), self.units.len(), &rows)?;
            if old.is_some_and(|o| o.frame.equals_missing(&frame)) {
                continue;
            }
            self.reports += new_rows;
            changed = true;
            frames.insert(
                key,
                Arc::new(PeriodFrame {
                    frame,
                    version: next,
                }),
            );
        }
        if changed {
            self.version = next;
        }
        Ok(changed)
    }
}

/// A frame with `rows` replaced; also counts rows that had no report before.
fn rebuild(
    old: Option<&DataFrame>,
    height: usize,
    rows: &[(usize, ReportCells)],
) -> PolarsResult<(DataFrame, usize)> {
    let mut received: Vec<Option<i64>> = match old.and_then(|f| f.column(RECEIVED).ok()) {
        Some(c) => c.i64()?.iter().collect(),
        None => vec![None; height],
    };
    let mut columns: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    if let Some(f) = old {
        for c in f.columns() {
            if c.name().as_str() != RECEIVED {
                columns.insert(c.name().to_string(), c.f64()?.iter().collect());
            }
        }
    }
    for (_, s) in rows {
        for code in s.values.keys() {
            columns
                .entry(code.clone())
                .or_insert_with(|| vec![None; height]);
        }
    }
    let mut new_rows = 0;
    for (row, s) in rows {
        if received[*row].is_none() {
            new_rows += 1;
        }
        received[*row] = Some(s.first_received_us);
        for (code, column) in columns.iter_mut() {
            column[*row] = s.values.get(code).copied();
        }
    }
    let mut out: Vec<Column> = Vec::with_capacity(columns.len() + 1);
    for (code, values) in columns {
        // A column nobody reports any more is dropped (it reads as all null).
        if values.iter().any(Option::is_some) {
            out.push(
                Float64Chunked::from_slice_options(code.as_str().into(), &values).into_column(),
            );
        }
    }
    out.push(Int64Chunked::from_slice_options(RECEIVED.into(), &received).into_column());
    Ok((DataFrame::new(height, out)?, new_rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units() -> Arc<Units> {
        Arc::new(Units::new(vec![
            ("00003".into(), "02".into()),
            ("00001".into(), "01".into()),
            ("00002".into(), "01".into()),
        ]))
    }

    fn report(commune: &str, period: &str, values: &[(&str, f64)]) -> ReportCells {
        ReportCells {
            dataset: "q".into(),
            period: Period::parse(period).unwrap(),
            commune: commune.into(),
            first_received_us: 1,
            values: values.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    #[test]
    fn units_are_in_code_order_with_their_provinces() {
        let u = units();
        assert_eq!(u.communes(), ["00001", "00002", "00003"]);
        assert_eq!(u.provinces(), ["01", "02"]);
        assert_eq!(u.province_of("00003"), Some("02"));
        assert_eq!(u.rows_of_province(0).collect::<Vec<_>>(), vec![0, 1]);
    }

    #[test]
    fn a_change_replaces_the_report_whole_and_leaves_older_snapshots_alone() {
        let mut cube = Cube::new(units());
        let q1 = Period::parse("2026Q1").unwrap();
        assert!(
            cube.apply(vec![report("00002", "2026Q1", &[("a", 5.0), ("b", 1.0)])])
                .unwrap()
        );
        let before = cube.clone();
        assert!(
            cube.apply(vec![report("00002", "2026Q1", &[("a", 6.0)])])
                .unwrap()
        );
        assert_eq!(
            cube.column("q", "a", q1).iter().collect::<Vec<_>>(),
            vec![None, Some(6.0), None]
        );
        assert_eq!(cube.column("q", "b", q1).null_count(), 3, "b was cleared");
        assert_eq!(
            before.column("q", "a", q1).get(1),
            Some(5.0),
            "a snapshot never changes"
        );
        assert_eq!(cube.reports(), 1);
        assert!(
            !cube
                .apply(vec![report("00002", "2026Q1", &[("a", 6.0)])])
                .unwrap(),
            "the same state again changes nothing"
        );
        assert_eq!(cube.version(), 2);
    }

    #[test]
    fn a_change_gives_a_new_version_only_to_the_frame_it_touches() {
        let mut cube = Cube::new(units());
        let (q1, q2) = (
            Period::parse("2026Q1").unwrap(),
            Period::parse("2026Q2").unwrap(),
        );
        cube.apply(vec![
            report("00002", "2026Q1", &[("a", 5.0)]),
            report("00002", "2026Q2", &[("a", 5.0)]),
        ])
        .unwrap();
        let version = |c: &Cube, p| c.frame("q", p).unwrap().version;
        let (v1, v2) = (version(&cube, q1), version(&cube, q2));
        cube.apply(vec![report("00003", "2026Q2", &[("a", 1.0)])])
            .unwrap();
        assert_eq!(
            version(&cube, q1),
            v1,
            "an untouched frame keeps its version"
        );
        assert!(version(&cube, q2) > v2, "a changed frame gets a new one");
        assert_ne!(
            cube.epoch(),
            Cube::new(units()).epoch(),
            "two cubes never share versions"
        );
        assert_eq!(
            cube.clone().epoch(),
            cube.epoch(),
            "a snapshot is the same cube"
        );
    }
}
