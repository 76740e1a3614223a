//! One request for a whole table: any indicators (reported and derived) × a list, range or
//! relative selection of periods × the units of a level, in the caller's scope, as one long
//! table. Each cell is exactly [`crate::analysis::aggregates`]'s answer for that indicator and
//! period (the same rollup, the same scope narrowing, the same names); only the loop is here.
//!
//! A request is first *planned* (every parameter checked, every problem listed, the scope
//! decided, the periods resolved in Vietnam's calendar), then its rows are produced one cell at
//! a time, so a national table streams with bounded memory.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use innoreport_aggregate::{UnitFilter, check_period, rollup};
use innoreport_core::periods;
use innoreport_core::validation::Issue;
use innoreport_core::{Indicator, Period, Principal};

use crate::analysis::{Level, UnitValue, named, unit_filter};
use crate::{ServiceError, View};

/// The most rows one table may have: about twice the national commune table of every
/// indicator over 8 quarters (about 0.9 M rows, some 90 MB of CSV).
pub const MAX_ROWS: usize = 2_000_000;

/// What to tabulate, as the caller wrote it.
#[derive(Debug, Clone)]
pub struct AnalyticsQuery {
    /// Comma-separated indicator codes; `None` (or empty): every indicator of the catalog.
    pub indicators: Option<String>,
    /// Comma-separated periods, ranges (`2025Q1..2026Q4`) and relative periods.
    pub periods: String,
    pub level: Level,
    /// Only this province (its communes at commune level).
    pub province: Option<String>,
    /// Comma-separated unit codes of the level (communes, provinces, or `VN`); `None`: all.
    pub units: Option<String>,
}

/// A cell the table leaves out, and why (a quarter of an indicator reported yearly).
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub indicator: String,
    pub period: Period,
    pub reason: String,
}

/// A checked request: the cells to compute, in order.
#[derive(Debug, Clone)]
pub struct Plan {
    pub level: Level,
    pub indicators: Vec<Indicator>,
    pub periods: Vec<Period>,
    /// (index into `indicators`, period), indicator by indicator, periods in the order named.
    pub cells: Vec<(usize, Period)>,
    pub skipped: Vec<Skipped>,
    /// Rows each cell has (the units of the level in scope, after the unit list).
    pub units_per_cell: usize,
    filter: UnitFilter,
    units: Option<HashSet<String>>,
    /// What the answer depends on, besides the caller: the data's and catalog's versions and the
    /// plan itself.
    pub content_key: u64,
}

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyticsRow {
    pub indicator: String,
    pub period: Period,
    pub unit: UnitValue,
}

fn split(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim)
}

/// Checks `q` against the view and the caller's scope: 400 listing every unknown indicator,
/// period item and unit; 403 outside the scope, exactly as `/aggregates`.
pub fn plan(view: &View, who: &Principal, q: &AnalyticsQuery) -> Result<Plan, ServiceError> {
    let mut issues = Vec::new();
    let mut indicators: Vec<Indicator> = Vec::new();
    match q.indicators.as_deref().map(str::trim) {
        None | Some("") => indicators = view.catalog.indicators.clone(),
        Some(list) => {
            for code in split(list) {
                match view.catalog.indicator(code) {
                    Some(i) if !indicators.iter().any(|x| x.code == i.code) => {
                        indicators.push(i.clone())
                    }
                    Some(_) => {}
                    None => issues.push(Issue::new(
                        "indicator",
                        "unknown_indicator",
                        format!("there is no indicator {:?}", crate::reports::clip(code)),
                    )),
                }
            }
        }
    }
    let today = view
        .now
        .with_timezone(&innoreport_core::period::vietnam_offset())
        .date_naive();
    let mut resolved = Vec::new();
    match periods::parse_list(&q.periods) {
        Err(problems) => issues.extend(problems.into_iter().map(|(item, m)| {
            Issue::new(
                "period",
                "invalid_period",
                format!("{:?}: {m}", crate::reports::clip(&item)),
            )
        })),
        Ok(items) => match periods::resolve(&items, today) {
            Ok(p) => resolved = p,
            Err(m) => issues.push(Issue::new("period", "too_many_periods", m)),
        },
    }
    let filter = match unit_filter(view, who, q.level, q.province.as_deref()) {
        Ok(f) => Some(f),
        Err(ServiceError::BadInput { issues: mut i, .. }) => {
            issues.append(&mut i);
            None
        }
        Err(e) => return Err(e),
    };
    let units = match (q.units.as_deref().map(str::trim), filter) {
        (None | Some(""), _) => None,
        (Some(list), filter) => {
            let mut wanted = HashSet::new();
            for code in split(list) {
                match unit_in(view, q.level, code) {
                    None => issues.push(Issue::new(
                        "unit",
                        "unknown_unit",
                        format!(
                            "there is no {} {:?}",
                            level_word(q.level),
                            crate::reports::clip(code)
                        ),
                    )),
                    Some(row) => {
                        if let Some(f) = filter
                            && !covers(view, f, q.level, row)
                        {
                            return Err(ServiceError::forbidden(format!(
                                "{} {code} is outside the caller's scope",
                                level_word(q.level)
                            )));
                        }
                        wanted.insert(code.to_owned());
                    }
                }
            }
            Some(wanted)
        }
    };
    if !issues.is_empty() {
        return Err(ServiceError::BadInput {
            message: format!("The table request has {} problem(s).", issues.len()),
            issues,
        });
    }
    let filter = filter.ok_or_else(|| ServiceError::bug("a unit filter without problems"))?;
    let mut cells = Vec::new();
    let mut skipped = Vec::new();
    for (i, ind) in indicators.iter().enumerate() {
        for &p in &resolved {
            match check_period(&view.catalog, ind.code.as_str(), p) {
                Ok(()) => cells.push((i, p)),
                Err(e) => skipped.push(Skipped {
                    indicator: ind.code.to_string(),
                    period: p,
                    reason: e.to_string(),
                }),
            }
        }
    }
    let units_per_cell = match &units {
        Some(u) => u.len(),
        None => units_in_scope(view, q.level, filter),
    };
    let rows = cells.len().saturating_mul(units_per_cell);
    if rows > MAX_ROWS {
        return Err(ServiceError::bad(
            "period",
            "too_many_rows",
            format!(
                "the table would have {rows} rows; at most {MAX_ROWS}: ask fewer indicators, periods or units"
            ),
        ));
    }
    let mut key = std::collections::hash_map::DefaultHasher::new();
    view.cube.epoch().hash(&mut key);
    view.cube.version().hash(&mut key);
    (std::sync::Arc::as_ptr(&view.reference) as usize).hash(&mut key);
    format!("{:?}", view.catalog).hash(&mut key);
    format!("{:?}|{:?}|{:?}|{:?}", q.level, filter, cells, skipped).hash(&mut key);
    let mut listed: Vec<&String> = units.iter().flatten().collect();
    listed.sort();
    listed.hash(&mut key);
    Ok(Plan {
        level: q.level,
        indicators,
        periods: resolved,
        cells,
        skipped,
        units_per_cell,
        filter,
        units,
        content_key: key.finish(),
    })
}

fn level_word(level: Level) -> &'static str {
    match level {
        Level::Commune => "commune",
        Level::Province => "province",
        Level::National => "national unit",
    }
}

/// The row (commune), index (province) or 0 (the nation) of a unit code at `level`.
fn unit_in(view: &View, level: Level, code: &str) -> Option<usize> {
    let units = view.cube.units();
    match level {
        Level::Commune => units.commune_index(code),
        Level::Province => units.province_index(code),
        Level::National => (code == "VN").then_some(0),
    }
}

fn covers(view: &View, filter: UnitFilter, level: Level, at: usize) -> bool {
    let units = view.cube.units();
    match (filter, level) {
        (UnitFilter::All, _) | (_, Level::National) => true,
        (UnitFilter::Province(p), Level::Commune) => units.province_of_row(at) == p,
        (UnitFilter::Province(p), Level::Province) => at == p,
        (UnitFilter::Commune(c), Level::Commune) => at == c,
        (UnitFilter::Commune(c), Level::Province) => units.province_of_row(c) == at,
    }
}

fn units_in_scope(view: &View, level: Level, filter: UnitFilter) -> usize {
    let units = view.cube.units();
    match (level, filter) {
        (Level::National, _) => 1,
        (Level::Province, UnitFilter::All) => units.provinces().len(),
        (Level::Province, _) => 1,
        (Level::Commune, UnitFilter::All) => units.len(),
        (Level::Commune, UnitFilter::Province(p)) => units.rows_of_province(p).count(),
        (Level::Commune, UnitFilter::Commune(_)) => 1,
    }
}

/// The rows of the plan's `cell`-th cell: what `/aggregates` answers for it, narrowed to the
/// unit list.
pub fn cell_rows(view: &View, plan: &Plan, cell: usize) -> Result<Vec<AnalyticsRow>, ServiceError> {
    let Some(&(i, period)) = plan.cells.get(cell) else {
        return Ok(Vec::new());
    };
    let indicator = plan.indicators[i].code.as_str();
    let rows = rollup(
        &view.cube,
        &view.catalog,
        indicator,
        period,
        plan.level,
        plan.filter,
    )?;
    Ok(rows
        .into_iter()
        .filter(|r| plan.units.as_ref().is_none_or(|u| u.contains(&r.unit)))
        .map(|r| AnalyticsRow {
            indicator: indicator.to_owned(),
            period,
            unit: named(view, r),
        })
        .collect())
}

/// Work units of the computation budget a table costs: one per 1,000 rows, at least one (the
/// national commune table of every indicator over 8 quarters costs about 930).
pub fn cost(plan: &Plan) -> u64 {
    (plan.cells.len() * plan.units_per_cell)
        .div_ceil(1000)
        .max(1) as u64
}

impl crate::Service {
    /// A checked table request over the current view, with that view (to compute its cells);
    /// it spends [`cost`] units of the caller's computation budget (429 when spent).
    pub fn analytics(
        &self,
        who: &Principal,
        q: &AnalyticsQuery,
    ) -> Result<(View, Plan), ServiceError> {
        let (view, plan) = self.analytics_unpaid(who, q)?;
        self.spend(&who.subject, cost(&plan))?;
        Ok((view, plan))
    }

    /// Spends what `plan` costs of `who`'s computation budget (429 when spent).
    pub fn pay_for_table(&self, who: &Principal, plan: &Plan) -> Result<(), ServiceError> {
        self.spend(&who.subject, cost(plan))
    }

    /// Like [`crate::Service::analytics`] without spending the budget: a later page of a table
    /// whose first page paid for it, or a table the client has already (304).
    pub fn analytics_unpaid(
        &self,
        who: &Principal,
        q: &AnalyticsQuery,
    ) -> Result<(View, Plan), ServiceError> {
        let view = self.view()?;
        let plan = plan(&view, who, q)?;
        Ok((view, plan))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{AggregateQuery, aggregates};
    use crate::testing::{officer, province_analyst, small_view};

    fn q(indicators: &str, periods: &str, level: Level) -> AnalyticsQuery {
        AnalyticsQuery {
            indicators: Some(indicators.into()),
            periods: periods.into(),
            level,
            province: None,
            units: None,
        }
    }

    fn all_rows(view: &View, plan: &Plan) -> Vec<AnalyticsRow> {
        (0..plan.cells.len())
            .flat_map(|c| cell_rows(view, plan, c).unwrap())
            .collect()
    }

    #[test]
    fn every_cell_is_what_aggregates_answers() {
        let view = small_view();
        for who in [province_analyst("14"), officer("14", "03808")] {
            for level in [Level::Commune, Level::Province] {
                let plan = plan(
                    &view,
                    &who,
                    &q(
                        "online_dossier_rate,staff_trained",
                        "2026Q1..2026Q3,2026",
                        level,
                    ),
                )
                .unwrap();
                let rows = all_rows(&view, &plan);
                for ind in ["online_dossier_rate", "staff_trained"] {
                    for p in ["2026Q1", "2026Q2", "2026Q3", "2026"] {
                        let period = Period::parse(p).unwrap();
                        let want = aggregates(
                            &view,
                            &who,
                            &AggregateQuery {
                                indicator: ind.into(),
                                period,
                                level,
                                province: None,
                            },
                        )
                        .unwrap()
                        .rows;
                        let got: Vec<UnitValue> = rows
                            .iter()
                            .filter(|r| r.indicator == ind && r.period == period)
                            .map(|r| r.unit.clone())
                            .collect();
                        assert_eq!(got, want, "{ind} {p} {level:?} {who:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_problem_is_listed_at_once() {
        let view = small_view();
        let mut bad = q(
            "nope,online_dossier_rate,also_nope",
            "2026Q5,LAST_3_DAYS",
            Level::Commune,
        );
        bad.units = Some("99999".into());
        match plan(&view, &province_analyst("14"), &bad).unwrap_err() {
            ServiceError::BadInput { issues, .. } => {
                let fields: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
                assert_eq!(
                    fields,
                    ["indicator", "indicator", "period", "period", "unit"]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_unit_outside_the_scope_is_refused_as_aggregates_refuses_it() {
        let view = small_view();
        let mut other = q("online_dossier_rate", "2026Q1", Level::Province);
        other.units = Some("01".into());
        assert!(matches!(
            plan(&view, &province_analyst("14"), &other),
            Err(ServiceError::Forbidden(_))
        ));
        let mut nation = q("online_dossier_rate", "2026Q1", Level::National);
        assert!(matches!(
            plan(&view, &province_analyst("14"), &nation),
            Err(ServiceError::Forbidden(_))
        ));
        nation.level = Level::Province;
        nation.province = Some("01".into());
        assert!(matches!(
            plan(&view, &province_analyst("14"), &nation),
            Err(ServiceError::Forbidden(_))
        ));
    }

    #[test]
    fn a_unit_list_narrows_the_rows() {
        let view = small_view();
        let mut one = q("online_dossier_rate", "2026Q1,2026Q2", Level::Commune);
        one.units = Some("03808".into());
        let p = plan(&view, &province_analyst("14"), &one).unwrap();
        let rows = all_rows(&view, &p);
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.unit.unit == "03808"));
    }

    #[test]
    fn cells_an_indicator_cannot_have_are_listed_not_failed() {
        let view = small_view();
        let yearly = view
            .catalog
            .indicators
            .iter()
            .find(|i| {
                check_period(
                    &view.catalog,
                    i.code.as_str(),
                    Period::parse("2026Q1").unwrap(),
                )
                .is_err()
            })
            .map(|i| i.code.to_string());
        let Some(yearly) = yearly else { return };
        let p = plan(
            &view,
            &province_analyst("14"),
            &q(
                &format!("{yearly},online_dossier_rate"),
                "2026Q1,2026",
                Level::Province,
            ),
        )
        .unwrap();
        assert_eq!(p.skipped.len(), 1, "{:?}", p.skipped);
        assert_eq!(p.cells.len(), 3);
    }

    #[test]
    fn the_content_key_changes_with_the_request() {
        let view = small_view();
        let who = province_analyst("14");
        let a = plan(
            &view,
            &who,
            &q("online_dossier_rate", "2026Q1", Level::Commune),
        )
        .unwrap();
        let b = plan(
            &view,
            &who,
            &q("online_dossier_rate", "2026Q2", Level::Commune),
        )
        .unwrap();
        let a2 = plan(
            &view,
            &who,
            &q("online_dossier_rate", "2026Q1", Level::Commune),
        )
        .unwrap();
        assert_ne!(a.content_key, b.content_key);
        assert_eq!(a.content_key, a2.content_key);
    }
}
