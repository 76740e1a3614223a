//! The catalog's rules over the cube: the value of any indicator for every commune at any
//! period, and its rollup to provinces and the nation.
//!
//! For one commune (CATALOG.md, "Indicators" and "Derived"):
//! 1. a reported indicator at its own period type is its value; at a coarser period its temporal
//!    rule applies over the sub-periods (`sum`: the sum of those present, missing when none is;
//!    `last`: the latest present); at a finer period it is refused ([`AggregateError::PeriodTooFine`]),
//!    except as the coarser part of a derived indicator (a quarter's per-10k form divides by the
//!    population of its year);
//! 2. a derived sum is missing when any of its terms is missing (an unreported 5-star count is
//!    not 0);
//! 3. a ratio over a period coarser than its parts pairs them sub-period by sub-period: only the
//!    sub-periods where both the numerator and the denominator are present count, and each part
//!    applies its temporal rule over those (a flow ratio sums both over the paired quarters, a
//!    stock ratio takes the latest paired quarter);
//! 4. the value of a ratio is `scale × numerator / denominator`, missing when either part is
//!    missing or the denominator is 0.
//!
//! Above a commune every component is summed over the communes that have it whole (for a ratio:
//! both parts), in commune code order, and the derived value is computed from the sums with the
//! same expression: so a unit's value is the same number, bit for bit, whichever request (the
//! province's aggregate, the index, a dashboard, an export) computed it.

use std::collections::BTreeSet;

use innoreport_core::{Catalog, Formula, Period, PeriodType, TemporalRule};
use polars::prelude::*;

use crate::AggregateError;
use crate::cube::{Cube, Units};

/// The level of a rollup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    Commune,
    Province,
    National,
}

/// Which units a rollup answers for (rows of [`Units`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitFilter {
    All,
    /// The province at this index (at commune level: its communes).
    Province(usize),
    /// The commune at this row.
    Commune(usize),
}

/// One row of a rollup.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateRow {
    /// The commune code, the province code, or `VN` for the nation.
    pub unit: String,
    pub value: Option<f64>,
    /// Σ numerator and Σ denominator (ratios only).
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    /// Communes that contribute a value.
    pub communes_reporting: u32,
    /// Communes in the unit.
    pub communes_expected: u32,
}

/// One reported indicator as a formula sees it.
#[derive(Debug, Clone)]
struct Base {
    code: String,
    dataset: String,
    kind: PeriodType,
    rule: TemporalRule,
}

/// How an indicator is made of reported ones.
enum Shape {
    /// The sum of reported terms, every one needed (a reported indicator is a sum of one).
    Sum(Vec<Base>),
    Ratio {
        numerator: Vec<Base>,
        denominator: Vec<Base>,
        scale: f64,
    },
}

impl Shape {
    fn bases(&self) -> impl Iterator<Item = &Base> {
        let (a, b): (&[Base], &[Base]) = match self {
            Shape::Sum(t) => (t, &[]),
            Shape::Ratio {
                numerator,
                denominator,
                ..
            } => (numerator, denominator),
        };
        a.iter().chain(b.iter())
    }

    /// The finest period type among the data sets the indicator draws on.
    fn finest(&self) -> Option<PeriodType> {
        self.bases().map(|b| b.kind).min_by_key(|k| k.months())
    }
}

fn flatten(
    catalog: &Catalog,
    code: &str,
    out: &mut Vec<Base>,
    depth: usize,
) -> Result<(), AggregateError> {
    let indicator = catalog
        .indicator(code)
        .ok_or_else(|| AggregateError::UnknownIndicator(code.to_owned()))?;
    match &indicator.formula {
        None => {
            let dataset = indicator
                .dataset
                .as_ref()
                .and_then(|d| catalog.dataset(d.as_str()))
                .ok_or_else(|| AggregateError::Unsupported(format!("{code} has no data set")))?;
            out.push(Base {
                code: code.to_owned(),
                dataset: dataset.code.to_string(),
                kind: dataset.period_type,
                rule: indicator.temporal.unwrap_or(TemporalRule::Sum),
            });
        }
        Some(Formula::Sum { terms }) if depth < 8 => {
            for t in terms {
                flatten(catalog, t.as_str(), out, depth + 1)?;
            }
        }
        Some(_) => {
            return Err(AggregateError::Unsupported(format!(
                "{code} is a ratio and cannot be a term of another formula"
            )));
        }
    }
    Ok(())
}

fn shape(catalog: &Catalog, code: &str) -> Result<Shape, AggregateError> {
    let indicator = catalog
        .indicator(code)
        .ok_or_else(|| AggregateError::UnknownIndicator(code.to_owned()))?;
    let terms = |codes: &[innoreport_core::IndicatorCode]| -> Result<Vec<Base>, AggregateError> {
        let mut out = Vec::new();
        for c in codes {
            flatten(catalog, c.as_str(), &mut out, 0)?;
        }
        Ok(out)
    };
    Ok(match &indicator.formula {
        Some(Formula::Ratio {
            numerator,
            denominator,
            scale,
        }) => Shape::Ratio {
            numerator: terms(numerator)?,
            denominator: terms(denominator)?,
            scale: *scale,
        },
        _ => {
            let mut out = Vec::new();
            flatten(catalog, code, &mut out, 0)?;
            Shape::Sum(out)
        }
    })
}

/// Whether `indicator` can be answered for `period`: known, and the period not finer than the
/// finest data set it draws on (a month of a quarterly indicator is refused, never answered with
/// the whole quarter).
pub fn check_period(
    catalog: &Catalog,
    indicator: &str,
    period: Period,
) -> Result<(), AggregateError> {
    let shape = shape(catalog, indicator)?;
    match shape.finest() {
        Some(finest) if period.kind().months() < finest.months() => {
            Err(AggregateError::PeriodTooFine {
                indicator: indicator.to_owned(),
                period: period.to_string(),
                finest,
            })
        }
        _ => Ok(()),
    }
}

/// The commune-level components of one indicator at one period: a row per commune (units
/// order).
#[derive(Debug, Clone)]
pub struct Cells {
    /// The value (sums) or the numerator (ratios).
    pub num: Float64Chunked,
    /// The denominator (ratios only).
    pub den: Option<Float64Chunked>,
    pub scale: Option<f64>,
}

/// `scale × numerator / denominator`, missing when the denominator is 0: the one expression of a
/// ratio's value at every level.
pub fn ratio_value(scale: f64, numerator: f64, denominator: f64) -> Option<f64> {
    (denominator != 0.0).then(|| scale * numerator / denominator)
}

impl Cells {
    /// Whether the commune at `row` contributes (has every part).
    pub fn contributes(&self, row: usize) -> bool {
        self.num.get(row).is_some() && self.den.as_ref().is_none_or(|d| d.get(row).is_some())
    }

    /// The commune's value.
    pub fn value(&self, row: usize) -> Option<f64> {
        let n = self.num.get(row)?;
        match (&self.den, self.scale) {
            (Some(d), Some(s)) => ratio_value(s, n, d.get(row)?),
            _ => Some(n),
        }
    }

    /// The commune's numerator and denominator (ratios; `None` for sums).
    pub fn parts(&self, row: usize) -> (Option<f64>, Option<f64>) {
        match &self.den {
            Some(d) => (self.num.get(row), d.get(row)),
            None => (None, None),
        }
    }
}

fn nulls(len: usize) -> Float64Chunked {
    Float64Chunked::full_null("".into(), len)
}

/// The period of `kind` that contains `p` (a coarser kind).
fn enclosing(p: Period, kind: PeriodType) -> Option<Period> {
    let index = (p.first_month() - 1) / kind.months() + 1;
    Period::new(kind, p.year(), index as u8).ok()
}

/// Sum of the present values; missing where none is present.
fn present_sum(columns: Vec<Float64Chunked>, len: usize) -> PolarsResult<Float64Chunked> {
    let mut total: Option<Float64Chunked> = None;
    let mut any: Option<BooleanChunked> = None;
    for c in columns {
        let present = c.is_not_null();
        let filled = c.fill_null_with_values(0.0)?;
        total = Some(match total {
            Some(t) => &t + &filled,
            None => filled,
        });
        any = Some(match any {
            Some(a) => &a | &present,
            None => present,
        });
    }
    match (total, any) {
        (Some(t), Some(a)) => t.set(&!&a, None),
        _ => Ok(nulls(len)),
    }
}

/// The latest present value.
fn latest(columns: Vec<Float64Chunked>, len: usize) -> PolarsResult<Float64Chunked> {
    let mut out: Option<Float64Chunked> = None;
    for c in columns.into_iter().rev() {
        out = Some(match out {
            Some(o) => o.zip_with(&o.is_not_null(), &c)?,
            None => c,
        });
    }
    Ok(out.unwrap_or_else(|| nulls(len)))
}

fn temporal(
    rule: TemporalRule,
    columns: Vec<Float64Chunked>,
    len: usize,
) -> PolarsResult<Float64Chunked> {
    match rule {
        TemporalRule::Sum => present_sum(columns, len),
        TemporalRule::Last => latest(columns, len),
    }
}

/// One base's values at `p`, each sub-period column passed through `mask` first.
fn base_at(
    cube: &Cube,
    base: &Base,
    p: Period,
    mask: &dyn Fn(Period, Float64Chunked) -> PolarsResult<Float64Chunked>,
) -> PolarsResult<Float64Chunked> {
    let len = cube.units().len();
    let kind = base.kind;
    if kind == p.kind() {
        return mask(p, cube.column(&base.dataset, &base.code, p));
    }
    if kind.months() > p.kind().months() {
        return Ok(match enclosing(p, kind) {
            Some(e) => cube.column(&base.dataset, &base.code, e),
            None => nulls(len),
        });
    }
    let mut columns = Vec::new();
    for s in p.subperiods(kind) {
        columns.push(mask(s, cube.column(&base.dataset, &base.code, s))?);
    }
    temporal(base.rule, columns, len)
}

/// The sum of `bases` at `p`, missing where any is missing.
fn sum_at(
    cube: &Cube,
    bases: &[Base],
    p: Period,
    mask: &dyn Fn(Period, Float64Chunked) -> PolarsResult<Float64Chunked>,
) -> PolarsResult<Float64Chunked> {
    let mut total: Option<Float64Chunked> = None;
    for b in bases {
        let v = base_at(cube, b, p, mask)?;
        total = Some(match total {
            Some(t) => &t + &v,
            None => v,
        });
    }
    Ok(total.unwrap_or_else(|| nulls(cube.units().len())))
}

fn unmasked(_: Period, c: Float64Chunked) -> PolarsResult<Float64Chunked> {
    Ok(c)
}

/// Every commune's components of `indicator` at `period`.
pub fn cells(
    cube: &Cube,
    catalog: &Catalog,
    indicator: &str,
    period: Period,
) -> Result<Cells, AggregateError> {
    check_period(catalog, indicator, period)?;
    Ok(match shape(catalog, indicator)? {
        Shape::Sum(bases) => Cells {
            num: sum_at(cube, &bases, period, &unmasked)?,
            den: None,
            scale: None,
        },
        Shape::Ratio {
            numerator,
            denominator,
            scale,
        } => {
            let finest = numerator
                .iter()
                .chain(&denominator)
                .map(|b| b.kind)
                .min_by_key(|k| k.months())
                .unwrap_or(period.kind());
            let (num, den) = if finest.months() < period.kind().months() {
                // Pair the parts sub-period by sub-period: a sub-period counts only where the
                // commune has both parts whole.
                let subs = period.subperiods(finest);
                let mut paired = Vec::with_capacity(subs.len());
                for s in &subs {
                    let n = sum_at(cube, &numerator, *s, &unmasked)?;
                    let d = sum_at(cube, &denominator, *s, &unmasked)?;
                    paired.push((*s, &n.is_not_null() & &d.is_not_null()));
                }
                let mask = |s: Period, c: Float64Chunked| -> PolarsResult<Float64Chunked> {
                    match paired.iter().find(|(p, _)| *p == s) {
                        Some((_, both)) => c.set(&!both, None),
                        None => Ok(c),
                    }
                };
                (
                    sum_at(cube, &numerator, period, &mask)?,
                    sum_at(cube, &denominator, period, &mask)?,
                )
            } else {
                (
                    sum_at(cube, &numerator, period, &unmasked)?,
                    sum_at(cube, &denominator, period, &unmasked)?,
                )
            };
            Cells {
                num,
                den: Some(den),
                scale: Some(scale),
            }
        }
    })
}

/// Sums of one unit.
#[derive(Default, Clone, Copy)]
struct Acc {
    num: f64,
    den: f64,
    reporting: u32,
    expected: u32,
}

impl Acc {
    fn add(&mut self, cells: &Cells, row: usize) {
        self.expected += 1;
        if !cells.contributes(row) {
            return;
        }
        self.reporting += 1;
        self.num += cells.num.get(row).unwrap_or(0.0);
        if let Some(d) = &cells.den {
            self.den += d.get(row).unwrap_or(0.0);
        }
    }

    fn row(self, unit: String, scale: Option<f64>) -> AggregateRow {
        let (value, numerator, denominator) = match scale {
            _ if self.reporting == 0 => (None, None, None),
            None => (Some(self.num), None, None),
            Some(s) => (
                ratio_value(s, self.num, self.den),
                Some(self.num),
                Some(self.den),
            ),
        };
        AggregateRow {
            unit,
            value,
            numerator,
            denominator,
            communes_reporting: self.reporting,
            communes_expected: self.expected,
        }
    }
}

/// Rolls `cells` up to `level` for the units `filter` names. Communes are added in code order.
pub fn rollup_cells(
    units: &Units,
    cells: &Cells,
    level: Level,
    filter: UnitFilter,
) -> Vec<AggregateRow> {
    let in_filter = |row: usize| match filter {
        UnitFilter::All => true,
        UnitFilter::Province(p) => units.province_of_row(row) == p,
        UnitFilter::Commune(c) => row == c,
    };
    match level {
        Level::Commune => (0..units.len())
            .filter(|&r| in_filter(r))
            .map(|r| {
                let mut acc = Acc::default();
                acc.add(cells, r);
                acc.row(units.communes()[r].clone(), cells.scale)
            })
            .collect(),
        Level::Province => {
            let mut accs = vec![Acc::default(); units.provinces().len()];
            for r in 0..units.len() {
                accs[units.province_of_row(r)].add(cells, r);
            }
            accs.into_iter()
                .enumerate()
                .filter(|(p, _)| match filter {
                    UnitFilter::All => true,
                    UnitFilter::Province(f) => f == *p,
                    UnitFilter::Commune(c) => units.province_of_row(c) == *p,
                })
                .map(|(p, acc)| acc.row(units.provinces()[p].clone(), cells.scale))
                .collect()
        }
        Level::National => {
            let mut acc = Acc::default();
            for r in (0..units.len()).filter(|&r| in_filter(r)) {
                acc.add(cells, r);
            }
            vec![acc.row("VN".into(), cells.scale)]
        }
    }
}

/// Rolls `indicator` up for `period` at `level` over the units `filter` names.
pub fn rollup(
    cube: &Cube,
    catalog: &Catalog,
    indicator: &str,
    period: Period,
    level: Level,
    filter: UnitFilter,
) -> Result<Vec<AggregateRow>, AggregateError> {
    let cells = cells(cube, catalog, indicator, period)?;
    Ok(rollup_cells(cube.units(), &cells, level, filter))
}

/// The reported indicators `indicator` reads (for documentation and invalidation).
pub fn inputs(catalog: &Catalog, indicator: &str) -> Result<BTreeSet<String>, AggregateError> {
    Ok(shape(catalog, indicator)?
        .bases()
        .map(|b| b.code.clone())
        .collect())
}

#[cfg(test)]
mod tests;
