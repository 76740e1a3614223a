//! Rollups, deadline compliance and targets over a [`View`], narrowed to the caller's scope:
//! national roles see everything; province roles their province and its communes; commune
//! officers their own commune's rows and their province's totals, never another commune's
//! values. The scope rules are `core::access`; this module only asks them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use innoreport_aggregate::{AggregateRow, ComplianceRow, UnitFilter, compliance, rollup};
pub use innoreport_aggregate::{ComplianceStatus, ComplianceSummary, Level};
use innoreport_core::{Action, Indicator, Period, PeriodType, Principal, Target};
use innoreport_store::targets::TargetRow;

use crate::{ServiceError, View};

/// One unit's value, with its names.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitValue {
    /// Commune code, province code, or `VN`.
    pub unit: String,
    pub name: String,
    pub name_en: String,
    pub value: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub communes_reporting: u32,
    pub communes_expected: u32,
}

/// An indicator rolled up for a period.
#[derive(Debug, Clone)]
pub struct Aggregates {
    pub indicator: Indicator,
    pub period: Period,
    pub level: Level,
    pub rows: Vec<UnitValue>,
}

/// What to roll up.
#[derive(Debug, Clone)]
pub struct AggregateQuery {
    pub indicator: String,
    pub period: Period,
    pub level: Level,
    /// Only this province (its communes at commune level).
    pub province: Option<String>,
}

/// A row with the unit's names.
pub fn named(view: &View, r: AggregateRow) -> UnitValue {
    let (name, name_en) = view.reference.names(&r.unit);
    UnitValue {
        unit: r.unit,
        name,
        name_en,
        value: r.value,
        numerator: r.numerator,
        denominator: r.denominator,
        communes_reporting: r.communes_reporting,
        communes_expected: r.communes_expected,
    }
}

/// 400 for a province code that does not exist.
pub fn known_province(view: &View, code: Option<&str>) -> Result<(), ServiceError> {
    match code {
        Some(p) => known_province_in(&view.reference, p),
        None => Ok(()),
    }
}

/// 400 unless `code` is a province of `reference`.
pub fn known_province_in(reference: &crate::Reference, code: &str) -> Result<(), ServiceError> {
    if reference.province(code).is_some() {
        Ok(())
    } else {
        Err(ServiceError::bad(
            "province",
            "unknown_province",
            format!("there is no province {:?}", crate::reports::clip(code)),
        ))
    }
}

/// The units a caller's rollup at `level` covers, given an optional province filter.
pub fn unit_filter(
    view: &View,
    who: &Principal,
    level: Level,
    province: Option<&str>,
) -> Result<UnitFilter, ServiceError> {
    known_province(view, province)?;
    let units = &view.cube.units();
    let province_filter = |p: Option<String>| match p {
        None => UnitFilter::All,
        Some(p) => units
            .province_index(&p)
            .map_or(UnitFilter::All, UnitFilter::Province),
    };
    Ok(match level {
        Level::National => {
            if province.is_some() {
                return Err(ServiceError::bad(
                    "province",
                    "not_applicable",
                    "the national level covers every province; ask level=province for one",
                ));
            }
            who.require(Action::Read, Target::Nation)?;
            UnitFilter::All
        }
        Level::Province => province_filter(who.province_filter(province)?),
        Level::Commune => {
            let narrowed = who.province_filter(province)?;
            match who.own_commune() {
                Some(own) => match units.commune_index(own) {
                    Some(row) => UnitFilter::Commune(row),
                    None => return Err(ServiceError::forbidden("the caller's commune is unknown")),
                },
                None => province_filter(narrowed),
            }
        }
    })
}

/// `indicator` rolled up for `period` at `level`, in the caller's scope.
pub fn aggregates(
    view: &View,
    who: &Principal,
    q: &AggregateQuery,
) -> Result<Aggregates, ServiceError> {
    let indicator = view
        .catalog
        .indicator(&q.indicator)
        .ok_or_else(|| {
            ServiceError::bad(
                "indicator",
                "unknown_indicator",
                format!("there is no indicator {:?}", q.indicator),
            )
        })?
        .clone();
    let filter = unit_filter(view, who, q.level, q.province.as_deref())?;
    let rows = rollup(
        &view.cube,
        &view.catalog,
        indicator.code.as_str(),
        q.period,
        q.level,
        filter,
    )?;
    Ok(Aggregates {
        indicator,
        period: q.period,
        level: q.level,
        rows: rows.into_iter().map(|r| named(view, r)).collect(),
    })
}

/// One commune's standing in a compliance report.
#[derive(Debug, Clone, PartialEq)]
pub struct CommuneCompliance {
    pub commune: String,
    pub name: String,
    pub province: String,
    pub status: innoreport_aggregate::ComplianceStatus,
    pub first_received_at: Option<DateTime<Utc>>,
    pub days_late: Option<i64>,
}

/// Counts of a province or the nation, with its name.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedCounts {
    pub name: String,
    pub counts: ComplianceSummary,
}

/// Deadline compliance of one data set and period.
#[derive(Debug, Clone)]
pub struct Compliance {
    pub dataset: String,
    pub period: Period,
    pub deadline: DateTime<Utc>,
    pub as_of: DateTime<Utc>,
    pub total: ComplianceSummary,
    pub by_province: Vec<NamedCounts>,
    /// The communes the caller may see (a commune officer: their own).
    pub communes: Vec<CommuneCompliance>,
}

/// Compliance of `dataset` for `period` over the communes of `province` (None: all), as of
/// `as_of`. The counts cover every commune in that scope; the list only those the caller may
/// see one by one.
pub fn compliance_of(
    view: &View,
    who: &Principal,
    dataset: &str,
    period: Period,
    province: Option<&str>,
    as_of: DateTime<Utc>,
) -> Result<Compliance, ServiceError> {
    let d = view.catalog.dataset(dataset).ok_or_else(|| {
        ServiceError::bad(
            "dataset",
            "unknown_dataset",
            format!("there is no data set {dataset:?}"),
        )
    })?;
    if d.period_type != period.kind() {
        return Err(ServiceError::bad(
            "period",
            "wrong_period_type",
            format!(
                "data set {dataset} collects {} periods (e.g. {})",
                d.period_type,
                d.period_type.example()
            ),
        ));
    }
    let filter = unit_filter(view, who, Level::Province, province)?;
    let deadline = d.deadline(period);
    let received = view.cube.received(dataset, period);
    let (rows, by_province, total) =
        compliance(view.cube.units(), &received, filter, deadline, as_of)?;
    let own = who.own_commune();
    Ok(Compliance {
        dataset: dataset.to_owned(),
        period,
        deadline,
        as_of,
        total,
        by_province: by_province
            .into_iter()
            .map(|c| NamedCounts {
                name: view.reference.names(&c.unit).0,
                counts: c,
            })
            .collect(),
        communes: rows
            .into_iter()
            .filter(|r| own.is_none_or(|c| r.commune == c))
            .map(|r: ComplianceRow| CommuneCompliance {
                name: view.reference.names(&r.commune).0,
                commune: r.commune,
                province: r.province,
                status: r.status,
                first_received_at: r.first_received_at,
                days_late: r.days_late,
            })
            .collect(),
    })
}

/// A target with the commune's actual value of the year and the attainment.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetActual {
    pub year: i32,
    pub commune: String,
    pub name: String,
    pub province: String,
    pub indicator: String,
    pub target: f64,
    /// The commune's value of the indicator for the year (temporal rule applied).
    pub actual: Option<f64>,
    /// actual ÷ target (missing when either is missing or the target is 0).
    pub attainment: Option<f64>,
}

/// The year period of a target year (400 outside the years periods may have).
pub fn year_period(year: i32) -> Result<Period, ServiceError> {
    Period::new(PeriodType::Year, year, 0)
        .map_err(|e| ServiceError::bad("year", "invalid_year", e.to_string()))
}

/// Targets with each commune's actual value of the year.
pub fn with_actuals(
    view: &View,
    year: i32,
    targets: Vec<TargetRow>,
) -> Result<Vec<TargetActual>, ServiceError> {
    let period = year_period(year)?;
    let mut actuals: HashMap<(String, String), Option<f64>> = HashMap::new();
    let mut indicators: Vec<&str> = targets.iter().map(|t| t.indicator.as_str()).collect();
    indicators.sort_unstable();
    indicators.dedup();
    for i in indicators {
        // An indicator that has no yearly value (refused for a year) has no actual.
        let Ok(cells) = innoreport_aggregate::cells(&view.cube, &view.catalog, i, period) else {
            continue;
        };
        for t in targets.iter().filter(|t| t.indicator == i) {
            if let Some(row) = view.cube.units().commune_index(&t.commune) {
                actuals.insert((t.commune.clone(), i.to_owned()), cells.value(row));
            }
        }
    }
    Ok(targets
        .into_iter()
        .map(|t| {
            let actual = actuals
                .get(&(t.commune.clone(), t.indicator.clone()))
                .copied()
                .flatten();
            TargetActual {
                name: view.reference.names(&t.commune).0,
                attainment: actual
                    .filter(|_| t.value != 0.0)
                    .map(|a| zero_sign(a / t.value)),
                year: t.year,
                commune: t.commune,
                province: t.province,
                indicator: t.indicator,
                target: t.value,
                actual,
            }
        })
        .collect())
}

/// `x` without a negative zero (`-0.0` prints as "-0" in exports).
pub fn zero_sign(x: f64) -> f64 {
    x + 0.0
}

impl crate::Service {
    /// [`aggregates`] over the current view.
    pub fn aggregates(
        &self,
        who: &Principal,
        q: &AggregateQuery,
    ) -> Result<Aggregates, ServiceError> {
        aggregates(&self.view()?, who, q)
    }

    /// Compliance of `dataset` for `period` in `who`'s scope (narrowed to `province`), as of
    /// `as_of` (default now).
    pub fn compliance(
        &self,
        who: &Principal,
        dataset: &str,
        period: Period,
        province: Option<&str>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Compliance, ServiceError> {
        let view = self.view()?;
        let as_of = as_of.unwrap_or(view.now);
        compliance_of(&view, who, dataset, period, province, as_of)
    }
}
