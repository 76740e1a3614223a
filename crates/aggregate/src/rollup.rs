//! The rollup of one indicator for one period at one level.
//!
//! Inputs are two frames: the current values of all reports (`commune`, `period`,
//! `period_ord`, `indicator`, `value`) and the communes in scope (`commune`, `province`).
//! Steps, all in polars:
//! 1. keep the (indicator, period) pairs the indicator needs: its base indicators, each over the
//!    sub-periods of the asked period of its data set's type (a year of a quarterly indicator
//!    is its four quarters; a quarter of an annual indicator is the year that contains it);
//! 2. temporal rule per commune: `sum` adds the sub-periods, `last` takes the latest one that
//!    has a value;
//! 3. the commune's components: a sum of terms is missing only when every term is; a ratio has
//!    a numerator and a denominator, and a commune contributes to a ratio only when it has both;
//! 4. spatial rollup (sum) to the commune, province or nation, then the derived value from the
//!    rolled-up components: `scale × Σ numerator / Σ denominator`, missing when Σ denominator = 0.

use std::collections::BTreeSet;

use innoreport_core::{Catalog, Formula, Period, PeriodType, TemporalRule};
use polars::prelude::*;

use crate::AggregateError;

/// The level of a rollup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Commune,
    Province,
    National,
}

/// One value of one report's current revision.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueRecord {
    pub commune: String,
    pub period: Period,
    pub indicator: String,
    pub value: f64,
}

/// A commune in scope and its province.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitInfo {
    pub commune: String,
    pub province: String,
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

/// A sortable ordinal of a period's start: year × 12 + month − 1.
pub fn period_ord(p: Period) -> i32 {
    p.year() * 12 + p.first_month() as i32 - 1
}

/// The values frame from records.
pub fn values_frame(records: &[ValueRecord]) -> PolarsResult<DataFrame> {
    df!(
        "commune" => records.iter().map(|r| r.commune.as_str()).collect::<Vec<_>>(),
        "period" => records.iter().map(|r| r.period.to_string()).collect::<Vec<_>>(),
        "period_ord" => records.iter().map(|r| period_ord(r.period)).collect::<Vec<_>>(),
        "indicator" => records.iter().map(|r| r.indicator.as_str()).collect::<Vec<_>>(),
        "value" => records.iter().map(|r| r.value).collect::<Vec<_>>(),
    )
}

/// The communes frame from unit infos.
pub fn units_frame(units: &[UnitInfo]) -> PolarsResult<DataFrame> {
    df!(
        "commune" => units.iter().map(|u| u.commune.as_str()).collect::<Vec<_>>(),
        "province" => units.iter().map(|u| u.province.as_str()).collect::<Vec<_>>(),
    )
}

/// How an indicator is made of reported ones.
enum Shape {
    /// The sum of reported terms (a reported indicator is a sum of one).
    Sum(Vec<String>),
    Ratio {
        numerator: Vec<String>,
        denominator: Vec<String>,
        scale: f64,
    },
}

fn flatten(
    catalog: &Catalog,
    code: &str,
    out: &mut Vec<String>,
    depth: usize,
) -> Result<(), AggregateError> {
    let indicator = catalog
        .indicator(code)
        .ok_or_else(|| AggregateError::UnknownIndicator(code.to_owned()))?;
    match &indicator.formula {
        None => out.push(code.to_owned()),
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
    let terms = |codes: &[innoreport_core::IndicatorCode]| -> Result<Vec<String>, AggregateError> {
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

/// The periods of type `kind` whose values make up `period` for one commune.
pub fn source_periods(period: Period, kind: PeriodType) -> Vec<Period> {
    if kind.months() <= period.kind().months() {
        period.subperiods(kind)
    } else {
        let index = (period.first_month() - 1) / kind.months() + 1;
        Period::new(kind, period.year(), index as u8)
            .into_iter()
            .collect()
    }
}

/// A sum of columns that is missing only when every column is missing.
fn present_sum(columns: &[String]) -> Expr {
    let any = columns
        .iter()
        .map(|c| col(c.as_str()).is_not_null())
        .reduce(|a, b| a.or(b))
        .unwrap_or(lit(false));
    let total = columns
        .iter()
        .map(|c| col(c.as_str()).fill_null(lit(0.0)))
        .reduce(|a, b| a + b)
        .unwrap_or(lit(0.0));
    when(any)
        .then(total)
        .otherwise(lit(NULL).cast(DataType::Float64))
}

/// The communes' values of the base indicators for `period`, wide: one column per indicator.
fn commune_components(
    values: &DataFrame,
    units: &DataFrame,
    catalog: &Catalog,
    bases: &BTreeSet<String>,
    period: Period,
) -> Result<LazyFrame, AggregateError> {
    let (mut w_ind, mut w_per, mut w_rule) = (Vec::new(), Vec::new(), Vec::new());
    for b in bases {
        let indicator = catalog
            .indicator(b)
            .ok_or_else(|| AggregateError::UnknownIndicator(b.clone()))?;
        let dataset = indicator
            .dataset
            .as_ref()
            .and_then(|d| catalog.dataset(d.as_str()))
            .ok_or_else(|| AggregateError::Unsupported(format!("{b} has no data set")))?;
        let rule = match indicator.temporal.unwrap_or(TemporalRule::Sum) {
            TemporalRule::Sum => "sum",
            TemporalRule::Last => "last",
        };
        for p in source_periods(period, dataset.period_type) {
            w_ind.push(b.clone());
            w_per.push(p.to_string());
            w_rule.push(rule);
        }
    }
    let wanted = df!("indicator" => w_ind, "period" => w_per, "rule" => w_rule)?;
    let per_commune = values
        .clone()
        .lazy()
        .join(
            wanted.lazy(),
            [col("indicator"), col("period")],
            [col("indicator"), col("period")],
            JoinArgs::new(JoinType::Inner),
        )
        .group_by([col("commune"), col("indicator")])
        .agg([
            col("value").sum().alias("sum"),
            col("value")
                .sort_by([col("period_ord")], SortMultipleOptions::default())
                .last()
                .alias("last"),
            col("rule").first().alias("rule"),
        ])
        .select([
            col("commune"),
            col("indicator"),
            when(col("rule").eq(lit("sum")))
                .then(col("sum"))
                .otherwise(col("last"))
                .alias("value"),
        ]);
    let per_commune = per_commune.collect()?.lazy();
    let mut wide = units.clone().lazy();
    for b in bases {
        let one = per_commune
            .clone()
            .filter(col("indicator").eq(lit(b.as_str())))
            .select([col("commune"), col("value").alias(b.as_str())]);
        wide = wide.join(
            one,
            [col("commune")],
            [col("commune")],
            JoinArgs::new(JoinType::Left),
        );
    }
    Ok(wide)
}

/// Rolls `indicator` up for `period` at `level` over the communes in `units`.
pub fn rollup(
    values: &DataFrame,
    units: &DataFrame,
    catalog: &Catalog,
    indicator: &str,
    period: Period,
    level: Level,
) -> Result<Vec<AggregateRow>, AggregateError> {
    let shape = shape(catalog, indicator)?;
    let bases: BTreeSet<String> = match &shape {
        Shape::Sum(t) => t.iter().cloned().collect(),
        Shape::Ratio {
            numerator,
            denominator,
            ..
        } => numerator.iter().chain(denominator).cloned().collect(),
    };
    let wide = commune_components(values, units, catalog, &bases, period)?;
    let key = match level {
        Level::Commune => col("commune"),
        Level::Province => col("province"),
        Level::National => lit("VN"),
    };
    let (num, den, scale) = match &shape {
        Shape::Sum(terms) => (present_sum(terms), lit(NULL).cast(DataType::Float64), None),
        Shape::Ratio {
            numerator,
            denominator,
            scale,
        } => (
            present_sum(numerator),
            present_sum(denominator),
            Some(*scale),
        ),
    };
    let contributes = match scale {
        Some(_) => col("num").is_not_null().and(col("den").is_not_null()),
        None => col("num").is_not_null(),
    };
    let frame = wide
        .with_columns([num.alias("num"), den.alias("den")])
        .with_column(contributes.alias("contributes"))
        .with_column(key.alias("unit"))
        .group_by([col("unit")])
        .agg([
            col("num").filter(col("contributes")).sum().alias("num_sum"),
            col("den").filter(col("contributes")).sum().alias("den_sum"),
            col("contributes")
                .cast(DataType::UInt32)
                .sum()
                .alias("reporting"),
            len().cast(DataType::UInt32).alias("expected"),
        ])
        .sort(["unit"], SortMultipleOptions::default())
        .collect()?;

    let units_col = frame.column("unit")?.str()?.clone();
    let nums = frame
        .column("num_sum")?
        .cast(&DataType::Float64)?
        .f64()?
        .clone();
    let dens = frame
        .column("den_sum")?
        .cast(&DataType::Float64)?
        .f64()?
        .clone();
    let reporting = frame.column("reporting")?.u32()?.clone();
    let expected = frame.column("expected")?.u32()?.clone();
    let mut out = Vec::with_capacity(frame.height());
    for i in 0..frame.height() {
        let reporting = reporting.get(i).unwrap_or(0);
        let (n, d) = (nums.get(i).unwrap_or(0.0), dens.get(i).unwrap_or(0.0));
        let (value, numerator, denominator) = match scale {
            _ if reporting == 0 => (None, None, None),
            None => (Some(n), None, None),
            Some(_) if d == 0.0 => (None, Some(n), Some(d)),
            Some(s) => (Some(s * n / d), Some(n), Some(d)),
        };
        out.push(AggregateRow {
            unit: units_col.get(i).unwrap_or_default().to_owned(),
            value,
            numerator,
            denominator,
            communes_reporting: reporting,
            communes_expected: expected.get(i).unwrap_or(0),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATALOG: &str = r#"
[[dataset]]
code = "q"
name_vi = "Quý"
name_en = "Quarterly"
period_type = "quarter"
deadline = { kind = "day_of_last_month", day = 5 }
lock = { kind = "days_after_deadline", days = 30 }

[[dataset]]
code = "a"
name_vi = "Năm"
name_en = "Annual"
period_type = "year"
deadline = { kind = "fixed_day_month", day = 5, month = 12 }
lock = { kind = "never" }

[[indicator]]
code = "dossiers_total"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "count"
dataset = "q"
temporal = "sum"
spatial = "sum"

[[indicator]]
code = "dossiers_online_full"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "count"
dataset = "q"
temporal = "sum"
spatial = "sum"

[[indicator]]
code = "staff_total"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "count"
dataset = "q"
temporal = "last"
spatial = "sum"

[[indicator]]
code = "ocop_3star"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "count"
dataset = "q"
temporal = "last"
spatial = "sum"

[[indicator]]
code = "ocop_4star"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "count"
dataset = "q"
temporal = "last"
spatial = "sum"

[[indicator]]
code = "population"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "count"
dataset = "a"
temporal = "last"
spatial = "sum"

[[indicator]]
code = "online_dossier_rate"
name_vi = "x"
name_en = "x"
unit_vi = "%"
unit_en = "%"
value_type = "percent"
formula = { kind = "ratio", numerator = ["dossiers_online_full"], denominator = ["dossiers_total"], scale = 100 }

[[indicator]]
code = "ocop_products"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "count"
formula = { kind = "sum", terms = ["ocop_3star", "ocop_4star"] }

[[indicator]]
code = "ocop_products_per_10k"
name_vi = "x"
name_en = "x"
unit_vi = "x"
unit_en = "x"
value_type = "rate"
formula = { kind = "ratio", numerator = ["ocop_products"], denominator = ["population"], scale = 10000 }
"#;

    fn p(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    fn rec(commune: &str, period: &str, indicator: &str, value: f64) -> ValueRecord {
        ValueRecord {
            commune: commune.into(),
            period: p(period),
            indicator: indicator.into(),
            value,
        }
    }

    /// Province 01: communes 00001 (A) and 00002 (B); province 02: commune 00003 (C), silent.
    fn fixture() -> (DataFrame, DataFrame, Catalog) {
        let records = vec![
            rec("00001", "2026Q1", "dossiers_total", 100.0),
            rec("00001", "2026Q1", "dossiers_online_full", 90.0),
            rec("00001", "2026Q2", "dossiers_total", 100.0),
            rec("00001", "2026Q2", "dossiers_online_full", 50.0),
            rec("00002", "2026Q1", "dossiers_total", 10.0),
            rec("00002", "2026Q1", "dossiers_online_full", 1.0),
            // Only a numerator: B's Q3 cannot count in the ratio's Σ over Q3.
            rec("00002", "2026Q3", "dossiers_online_full", 5.0),
            rec("00001", "2026Q1", "staff_total", 20.0),
            rec("00001", "2026Q3", "staff_total", 25.0),
            rec("00002", "2026Q2", "staff_total", 7.0),
            rec("00001", "2026Q2", "ocop_3star", 2.0),
            rec("00001", "2026Q4", "ocop_4star", 1.0),
            rec("00001", "2026", "population", 5000.0),
            rec("00002", "2026", "population", 15000.0),
            rec("00002", "2026Q4", "ocop_3star", 3.0),
            // Another year, never mixed in.
            rec("00001", "2025Q4", "dossiers_total", 999.0),
        ];
        let units = vec![
            UnitInfo {
                commune: "00001".into(),
                province: "01".into(),
            },
            UnitInfo {
                commune: "00002".into(),
                province: "01".into(),
            },
            UnitInfo {
                commune: "00003".into(),
                province: "02".into(),
            },
        ];
        (
            values_frame(&records).unwrap(),
            units_frame(&units).unwrap(),
            Catalog::from_toml(CATALOG).unwrap(),
        )
    }

    fn one(rows: &[AggregateRow], unit: &str) -> AggregateRow {
        rows.iter().find(|r| r.unit == unit).unwrap().clone()
    }

    #[test]
    fn a_ratio_rolls_up_as_sum_of_numerators_over_sum_of_denominators() {
        let (values, units, catalog) = fixture();
        let rows = rollup(
            &values,
            &units,
            &catalog,
            "online_dossier_rate",
            p("2026"),
            Level::Province,
        )
        .unwrap();
        let p01 = one(&rows, "01");
        // Year: A 140/200, B (1+5)/10 — but B's Q3 numerator has no denominator in Q3; over the
        // year B's components are Σ over quarters: online 6, total 10.
        assert_eq!((p01.numerator, p01.denominator), (Some(146.0), Some(210.0)));
        let expected = 100.0 * 146.0 / 210.0;
        assert!((p01.value.unwrap() - expected).abs() < 1e-9, "{p01:?}");
        // Not the mean of the communes' rates (70% and 60%).
        assert!((p01.value.unwrap() - 65.0).abs() > 1.0);
        assert_eq!((p01.communes_reporting, p01.communes_expected), (2, 2));
        let p02 = one(&rows, "02");
        assert_eq!(
            (p02.value, p02.communes_reporting, p02.communes_expected),
            (None, 0, 1)
        );
    }

    #[test]
    fn a_commune_without_both_parts_of_a_ratio_does_not_count() {
        let (values, units, catalog) = fixture();
        let q3 = rollup(
            &values,
            &units,
            &catalog,
            "online_dossier_rate",
            p("2026Q3"),
            Level::Province,
        )
        .unwrap();
        let p01 = one(&q3, "01");
        assert_eq!((p01.value, p01.communes_reporting), (None, 0), "{p01:?}");
        let q1 = rollup(
            &values,
            &units,
            &catalog,
            "online_dossier_rate",
            p("2026Q1"),
            Level::Commune,
        )
        .unwrap();
        assert!((one(&q1, "00001").value.unwrap() - 90.0).abs() < 1e-9);
        assert!((one(&q1, "00002").value.unwrap() - 10.0).abs() < 1e-9);
        assert_eq!(one(&q1, "00003").value, None);
    }

    #[test]
    fn a_stock_over_a_year_takes_the_last_quarter_and_a_flow_sums() {
        let (values, units, catalog) = fixture();
        let stock = rollup(
            &values,
            &units,
            &catalog,
            "staff_total",
            p("2026"),
            Level::Commune,
        )
        .unwrap();
        assert_eq!(one(&stock, "00001").value, Some(25.0), "Q3 is A's latest");
        assert_eq!(one(&stock, "00002").value, Some(7.0));
        let province = rollup(
            &values,
            &units,
            &catalog,
            "staff_total",
            p("2026"),
            Level::Province,
        )
        .unwrap();
        assert_eq!(one(&province, "01").value, Some(32.0));
        let flow = rollup(
            &values,
            &units,
            &catalog,
            "dossiers_total",
            p("2026"),
            Level::National,
        )
        .unwrap();
        assert_eq!(flow.len(), 1);
        assert_eq!(flow[0].unit, "VN");
        assert_eq!(flow[0].value, Some(210.0), "2025Q4 is not part of 2026");
        assert_eq!(
            (flow[0].communes_reporting, flow[0].communes_expected),
            (2, 3)
        );
        let half = rollup(
            &values,
            &units,
            &catalog,
            "dossiers_total",
            p("2026S1"),
            Level::Province,
        )
        .unwrap();
        assert_eq!(one(&half, "01").value, Some(210.0));
    }

    #[test]
    fn sums_of_terms_and_per_10k_forms_use_the_years_population() {
        let (values, units, catalog) = fixture();
        let products = rollup(
            &values,
            &units,
            &catalog,
            "ocop_products",
            p("2026"),
            Level::Commune,
        )
        .unwrap();
        // A: 3-star last = 2 (Q2), 4-star last = 1 (Q4) → 3; B: 3-star 3.
        assert_eq!(one(&products, "00001").value, Some(3.0));
        assert_eq!(one(&products, "00002").value, Some(3.0));
        let per10k = rollup(
            &values,
            &units,
            &catalog,
            "ocop_products_per_10k",
            p("2026"),
            Level::Province,
        )
        .unwrap();
        let p01 = one(&per10k, "01");
        assert_eq!((p01.numerator, p01.denominator), (Some(6.0), Some(20000.0)));
        assert!((p01.value.unwrap() - 3.0).abs() < 1e-9);
        // A quarter of a per-10k indicator divides by the population of its year.
        let q4 = rollup(
            &values,
            &units,
            &catalog,
            "ocop_products_per_10k",
            p("2026Q4"),
            Level::Commune,
        )
        .unwrap();
        assert!(
            (one(&q4, "00001").value.unwrap() - 2.0).abs() < 1e-9,
            "4-star 1 / 5000 × 10000"
        );
    }

    #[test]
    fn unknown_indicators_are_errors() {
        let (values, units, catalog) = fixture();
        assert!(matches!(
            rollup(
                &values,
                &units,
                &catalog,
                "nope",
                p("2026"),
                Level::Province
            ),
            Err(AggregateError::UnknownIndicator(_))
        ));
    }
}
