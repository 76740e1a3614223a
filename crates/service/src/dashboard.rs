//! The province dashboard: everything one page shows, in one document.
//!
//! Every number in it is a number another endpoint serves for the same unit and period, bit for
//! bit: headline values are the province's `/aggregates`, attainment uses the communes'
//! aggregates, the ranks are the index's.

use innoreport_aggregate::{AggregateError, Level, UnitFilter, cells, check_period, rollup};
use innoreport_core::{Action, Period, PeriodType, Principal, Target};
use innoreport_store::targets::TargetRow;

use crate::analysis::{Compliance, compliance_of, zero_sign};
use crate::index::{IndexLevel, IndexRequest, run};
use crate::{Service, ServiceError, View};

/// The headline indicators of a province dashboard.
pub const HEADLINE: [&str; 8] = [
    "online_dossier_rate",
    "staff_trained_rate",
    "business_innovation_rate",
    "budget_st_share",
    "ocop_products",
    "initiatives_recognized",
    "digital_team_members",
    "outreach_sessions",
];

/// The indicator ranking communes unless the caller names one.
pub const DEFAULT_RANK_BY: &str = "online_dossier_rate";

/// How many communes the top and bottom lists show.
pub const LIST_LENGTH: usize = 5;

#[derive(Debug, Clone, PartialEq)]
pub struct Headline {
    pub indicator: String,
    pub name: String,
    pub name_en: String,
    pub unit: String,
    pub value: Option<f64>,
    pub previous_period: Option<Period>,
    pub previous: Option<f64>,
    /// value − previous.
    pub change: Option<f64>,
    pub communes_reporting: u32,
    pub communes_expected: u32,
    /// Year periods: Σ actual ÷ Σ target over the communes that have both.
    pub target_attainment: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RankedCommune {
    pub commune: String,
    pub name: String,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CommuneIndexRank {
    pub commune: String,
    pub name: String,
    pub score: Option<f64>,
    pub rank: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Dashboard {
    pub province: String,
    pub name: String,
    pub name_en: String,
    pub period: Period,
    pub headline: Vec<Headline>,
    pub compliance: Vec<Compliance>,
    pub rank_by: String,
    pub top_communes: Vec<RankedCommune>,
    pub bottom_communes: Vec<RankedCommune>,
    /// How many communes (listed or not) share the value of the last top commune listed.
    pub top_boundary_ties: u32,
    /// How many communes share the value of the last bottom commune listed.
    pub bottom_boundary_ties: u32,
    pub index_score: Option<f64>,
    pub index_rank: Option<u32>,
    pub provinces_ranked: usize,
    pub commune_index: Vec<CommuneIndexRank>,
    /// The plan tasks of the province's communes for the period (completion counts), and how
    /// many communes have a plan; `None` when none has a plan for the period's year.
    pub plan_completion: Option<(innoreport_core::plans::Counts, usize)>,
}

/// The top or bottom `n` of `ranked` (ordered best first for `top`, worst first otherwise; ties
/// by commune code ascending either way), and how many communes share the boundary value.
pub fn extremes(ranked: &[RankedCommune], n: usize, top: bool) -> (Vec<RankedCommune>, u32) {
    let mut sorted = ranked.to_vec();
    sorted.sort_by(|a, b| {
        let by_value = if top {
            b.value.total_cmp(&a.value)
        } else {
            a.value.total_cmp(&b.value)
        };
        by_value.then_with(|| a.commune.cmp(&b.commune))
    });
    sorted.truncate(n);
    let ties = sorted.last().map_or(0, |last| {
        ranked.iter().filter(|r| r.value == last.value).count() as u32
    });
    (sorted, ties)
}

/// Σ actual ÷ Σ target over the communes that have both (never a missing actual counted as 0,
/// never −0).
pub fn attainment(pairs: impl Iterator<Item = (Option<f64>, f64)>) -> Option<f64> {
    let (mut actual, mut target, mut any) = (0.0, 0.0, false);
    for (a, t) in pairs {
        if let Some(a) = a {
            actual += a;
            target += t;
            any = true;
        }
    }
    (any && target != 0.0).then(|| zero_sign(actual / target))
}

/// A province value of `indicator`, or missing when it has no value for the period.
fn province_value(
    view: &View,
    indicator: &str,
    period: Period,
    province: usize,
) -> Result<Option<innoreport_aggregate::AggregateRow>, ServiceError> {
    match rollup(
        &view.cube,
        &view.catalog,
        indicator,
        period,
        Level::Province,
        UnitFilter::Province(province),
    ) {
        Ok(mut rows) => Ok(rows.pop()),
        Err(AggregateError::PeriodTooFine { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The dashboard of province `code` for `period`, as `who` may see it; `targets` are the
/// province's targets of the period's year (empty for other periods).
pub fn dashboard(
    service: &Service,
    view: &View,
    who: &Principal,
    code: &str,
    period: Period,
    rank_by: Option<&str>,
    targets: &[TargetRow],
) -> Result<Dashboard, ServiceError> {
    let province = view
        .reference
        .province(code)
        .ok_or_else(|| {
            ServiceError::not_found(format!("There is no province with code {code:?}."))
        })?
        .province
        .clone();
    who.require(Action::Read, Target::Province(code))?;
    let units = view.cube.units();
    let idx = units
        .province_index(code)
        .ok_or_else(|| ServiceError::not_found(format!("Province {code} has no communes.")))?;
    let rank_field = if rank_by.is_some() {
        "rank_by"
    } else {
        "period"
    };
    let rank_by = rank_by.unwrap_or(DEFAULT_RANK_BY).to_owned();
    if view.catalog.indicator(&rank_by).is_none() {
        return Err(ServiceError::bad(
            "rank_by",
            "unknown_indicator",
            format!("there is no indicator {rank_by:?}"),
        ));
    }
    check_period(&view.catalog, &rank_by, period)
        .map_err(|e| ServiceError::bad(rank_field, "period_too_fine", e.to_string()))?;
    let year = period.kind() == PeriodType::Year;
    let mut headline = Vec::new();
    for i in HEADLINE {
        let Some(ind) = view.catalog.indicator(i) else {
            continue;
        };
        // An indicator with no value for this kind of period (an annual one in a quarter) is
        // not a headline of it.
        if check_period(&view.catalog, i, period).is_err() {
            continue;
        }
        let now = province_value(view, i, period, idx)?;
        let previous_period = period.previous();
        let previous = match previous_period {
            Some(p) => province_value(view, i, p, idx)?,
            None => None,
        };
        let value = now.as_ref().and_then(|r| r.value);
        let prev = previous.as_ref().and_then(|r| r.value);
        let target_attainment = if year {
            let mine: Vec<&TargetRow> = targets.iter().filter(|t| t.indicator == i).collect();
            match cells(&view.cube, &view.catalog, i, period) {
                Ok(c) if !mine.is_empty() => attainment(mine.iter().filter_map(|t| {
                    units
                        .commune_index(&t.commune)
                        .map(|row| (c.value(row), t.value))
                })),
                _ => None,
            }
        } else {
            None
        };
        headline.push(Headline {
            indicator: i.to_owned(),
            name: ind.name_vi.clone(),
            name_en: ind.name_en.clone(),
            unit: ind.unit_vi.clone(),
            value,
            previous_period,
            previous: prev,
            change: value.zip(prev).map(|(a, b)| zero_sign(a - b)),
            communes_reporting: now.as_ref().map_or(0, |r| r.communes_reporting),
            communes_expected: now
                .as_ref()
                .map_or(units.rows_of_province(idx).count() as u32, |r| {
                    r.communes_expected
                }),
            target_attainment,
        });
    }
    let mut compliance = Vec::new();
    for d in view
        .catalog
        .datasets
        .iter()
        .filter(|d| d.period_type == period.kind())
    {
        let mut c = compliance_of(view, who, d.code.as_str(), period, Some(code), view.now)?;
        c.communes.clear();
        compliance.push(c);
    }
    let sees_communes = who.require(Action::Read, Target::Communes(code)).is_ok();
    let (top, top_ties, bottom, bottom_ties) = if sees_communes {
        let ranked: Vec<RankedCommune> = rollup(
            &view.cube,
            &view.catalog,
            &rank_by,
            period,
            Level::Commune,
            UnitFilter::Province(idx),
        )?
        .into_iter()
        .filter_map(|r| {
            r.value.map(|v| RankedCommune {
                name: view.reference.names(&r.unit).0,
                commune: r.unit,
                value: v,
            })
        })
        .collect();
        let (top, top_ties) = extremes(&ranked, LIST_LENGTH, true);
        let (bottom, bottom_ties) = extremes(&ranked, LIST_LENGTH, false);
        (top, top_ties, bottom, bottom_ties)
    } else {
        (Vec::new(), 0, Vec::new(), 0)
    };
    let request = |level, province: Option<String>| IndexRequest {
        period,
        level,
        province,
        uncertainty: None,
        overrides: Vec::new(),
    };
    let provinces = run(service, view, who, &request(IndexLevel::Province, None))?;
    let own = provinces.units.iter().find(|u| u.score.unit == code);
    let commune_index = if sees_communes {
        run(
            service,
            view,
            who,
            &request(IndexLevel::Commune, Some(code.to_owned())),
        )?
        .units
        .into_iter()
        .map(|u| CommuneIndexRank {
            name: u.name,
            score: u.score.score,
            rank: u.score.rank,
            commune: u.score.unit,
        })
        .collect()
    } else {
        Vec::new()
    };
    Ok(Dashboard {
        index_score: own.and_then(|u| u.score.score),
        index_rank: own.and_then(|u| u.score.rank),
        provinces_ranked: provinces
            .units
            .iter()
            .filter(|u| u.score.score.is_some())
            .count(),
        commune_index,
        province: province.code,
        name: province.name_vi,
        name_en: province.name_en,
        period,
        headline,
        compliance,
        rank_by,
        top_communes: top,
        bottom_communes: bottom,
        top_boundary_ties: top_ties,
        bottom_boundary_ties: bottom_ties,
        plan_completion: None,
    })
}

impl Service {
    /// The dashboard of province `code` for `period`, as `who` may see it.
    pub fn dashboard(
        &self,
        who: &Principal,
        code: &str,
        period: Period,
        rank_by: Option<&str>,
    ) -> Result<Dashboard, ServiceError> {
        // Who may read the province is known before anything is read.
        who.require(Action::Read, Target::Province(code))?;
        let mut conn = self.conn()?;
        let view = self.view_on(&mut conn)?;
        let targets =
            if period.kind() == PeriodType::Year && view.reference.province(code).is_some() {
                innoreport_store::targets::list_targets(&mut conn, period.year(), Some(code), None)?
            } else {
                Vec::new()
            };
        drop(conn);
        let mut d = dashboard(self, &view, who, code, period, rank_by, &targets)?;
        d.plan_completion = self.plan_totals(code, period, view.now)?;
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(code: &str, value: f64) -> RankedCommune {
        RankedCommune {
            commune: code.into(),
            name: String::new(),
            value,
        }
    }

    #[test]
    fn ties_at_either_end_go_by_commune_code_ascending_and_are_counted() {
        let ranked = vec![
            c("00007", 1.0),
            c("00003", 1.0),
            c("00005", 9.0),
            c("00001", 1.0),
            c("00002", 5.0),
        ];
        let (top, ties) = extremes(&ranked, 2, true);
        assert_eq!(
            top.iter().map(|r| r.commune.as_str()).collect::<Vec<_>>(),
            ["00005", "00002"]
        );
        assert_eq!(ties, 1);
        let (bottom, ties) = extremes(&ranked, 2, false);
        assert_eq!(
            bottom
                .iter()
                .map(|r| r.commune.as_str())
                .collect::<Vec<_>>(),
            ["00001", "00003"],
            "the lowest value, then by code ascending"
        );
        assert_eq!(ties, 3, "three communes share the boundary value 1");
    }

    #[test]
    fn attainment_counts_only_communes_with_both_values_and_is_never_negative_zero() {
        assert_eq!(
            attainment([(Some(5.0), 10.0), (None, 10.0), (Some(15.0), 10.0)].into_iter()),
            Some(1.0),
            "(5 + 15) / (10 + 10): the commune without an actual is left out"
        );
        assert_eq!(attainment([(None, 10.0)].into_iter()), None);
        assert_eq!(attainment([(Some(3.0), 0.0)].into_iter()), None);
        let zero = attainment([(Some(0.0), 4.0)].into_iter()).unwrap();
        assert!(zero == 0.0 && zero.is_sign_positive());
    }
}
