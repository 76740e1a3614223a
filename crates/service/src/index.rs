//! The innovation index over the communes of a province or over the provinces, and what-if
//! runs. The method is `innoreport_aggregate::index`; this module assembles its inputs — the
//! very values `/aggregates` serves for each unit, bit for bit — checks who may see them, and
//! keeps runs for the inputs they were computed from.

use std::collections::HashMap;

use innoreport_aggregate::index::compute_index;
pub use innoreport_aggregate::index::{IndexResult, Treatment, Uncertainty, UnitScore};
use innoreport_aggregate::{AggregateError, Level, UnitFilter, rollup};
use innoreport_core::validation::{Issue, MAX_VALUE};
use innoreport_core::{Action, Catalog, Period, Principal, Target};

use crate::cache::KeyBuilder;
use crate::{Service, ServiceError, View};

pub const DEFAULT_DRAWS: usize = 1000;
pub const MAX_DRAWS: usize = 10_000;
pub const DEFAULT_SEED: u64 = 20_250_701;

/// Which units an index compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndexLevel {
    /// The provinces.
    Province,
    /// The communes of one province.
    Commune,
}

/// A value replaced in a what-if run.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// Commune or province code.
    pub unit: String,
    /// A framework indicator.
    pub indicator: String,
    /// The value to use instead (None: treat as missing).
    pub value: Option<f64>,
}

/// What to compute.
#[derive(Debug, Clone)]
pub struct IndexRequest {
    pub period: Period,
    pub level: IndexLevel,
    /// The province whose communes are compared (commune level only).
    pub province: Option<String>,
    pub uncertainty: Option<Uncertainty>,
    pub overrides: Vec<Override>,
}

/// One unit's results with its names.
#[derive(Debug, Clone)]
pub struct IndexUnit {
    pub name: String,
    pub name_en: String,
    pub score: UnitScore,
}

/// An index run.
#[derive(Debug, Clone)]
pub struct IndexRun {
    pub period: Period,
    pub level: IndexLevel,
    pub province: Option<String>,
    pub draws: usize,
    pub seed: u64,
    pub units: Vec<IndexUnit>,
    pub result: IndexResult,
}

/// Monte Carlo settings from request parameters (draws 1 to [`MAX_DRAWS`], on by default).
pub fn uncertainty_of(
    on: Option<bool>,
    draws: Option<usize>,
    seed: Option<u64>,
) -> Result<Option<Uncertainty>, ServiceError> {
    let draws = draws.unwrap_or(DEFAULT_DRAWS);
    if !(1..=MAX_DRAWS).contains(&draws) {
        return Err(ServiceError::bad(
            "draws",
            "out_of_range",
            format!("draws is 1 to {MAX_DRAWS}"),
        ));
    }
    Ok(on.unwrap_or(true).then_some(Uncertainty {
        draws,
        seed: seed.unwrap_or(DEFAULT_SEED),
    }))
}

/// Who may see an index. The provinces' index holds province totals and scores only, like the
/// published PII: every signed-in role reads it. A commune index shows every commune of a
/// province side by side. A what-if run lets its caller probe the inputs of every unit (the
/// scores move as an override crosses another unit's value), so it needs read access to all
/// of them: the provinces' for a national role, a province's communes for its own roles.
pub fn authorize(
    who: &Principal,
    level: IndexLevel,
    province: Option<&str>,
    what_if: bool,
) -> Result<(), ServiceError> {
    match level {
        IndexLevel::Province if what_if => Ok(who.require(Action::Read, Target::Nation)?),
        IndexLevel::Province => Ok(()),
        IndexLevel::Commune => {
            let p = province.ok_or_else(|| {
                ServiceError::bad("province", "required", "a commune index needs a province")
            })?;
            Ok(who.require(Action::Read, Target::Communes(p))?)
        }
    }
}

/// Indicator code → value, of one unit.
type UnitValues = HashMap<String, f64>;

/// The units an index compares (provinces, or the communes of one province, in code order),
/// with the rollup level and filter that give their values.
fn units_of(
    view: &View,
    level: IndexLevel,
    province: Option<&str>,
) -> Result<(Vec<String>, Level, UnitFilter), ServiceError> {
    let units = view.cube.units();
    Ok(match level {
        IndexLevel::Province => (units.provinces().to_vec(), Level::Province, UnitFilter::All),
        IndexLevel::Commune => {
            let p = province.unwrap_or_default();
            let idx = units.province_index(p).ok_or_else(|| {
                ServiceError::bad(
                    "province",
                    "unknown_province",
                    format!("there is no province {p:?}"),
                )
            })?;
            let codes = view
                .reference
                .communes_of(p)
                .map(|c| c.code.clone())
                .collect();
            (codes, Level::Commune, UnitFilter::Province(idx))
        }
    })
}

/// The framework indicators' values of each unit: the rollups `/aggregates` serves. An
/// indicator that has no value for the period (refused as finer than its data sets) is left
/// out, as if nobody had reported it.
fn inputs(
    view: &View,
    period: Period,
    codes: &[String],
    rollup_level: Level,
    filter: UnitFilter,
) -> Result<Vec<UnitValues>, ServiceError> {
    let position: HashMap<&str, usize> = codes
        .iter()
        .enumerate()
        .map(|(i, u)| (u.as_str(), i))
        .collect();
    let mut values: Vec<UnitValues> = vec![HashMap::new(); codes.len()];
    for code in framework_indicators(&view.catalog) {
        let rows = match rollup(
            &view.cube,
            &view.catalog,
            &code,
            period,
            rollup_level,
            filter,
        ) {
            Ok(rows) => rows,
            Err(AggregateError::PeriodTooFine { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        for row in rows {
            if let (Some(&u), Some(v)) = (position.get(row.unit.as_str()), row.value) {
                values[u].insert(code.clone(), v);
            }
        }
    }
    Ok(values)
}

/// Every indicator of the framework, in pillar order.
pub fn framework_indicators(catalog: &Catalog) -> Vec<String> {
    catalog
        .pillars
        .iter()
        .flat_map(|p| p.indicators.iter().map(|i| i.indicator.to_string()))
        .collect()
}

/// Checks the overrides of a what-if run against its units and framework: every problem.
fn check_overrides(catalog: &Catalog, units: &[String], overrides: &[Override]) -> Vec<Issue> {
    let framework = framework_indicators(catalog);
    let mut issues = Vec::new();
    for (n, o) in overrides.iter().enumerate() {
        if !units.contains(&o.unit) {
            issues.push(Issue::new(
                format!("overrides[{n}].unit"),
                "unknown_unit",
                format!("{} is not a unit of this index", o.unit),
            ));
        }
        if !framework.contains(&o.indicator) {
            issues.push(Issue::new(
                format!("overrides[{n}].indicator"),
                "not_in_framework",
                format!("{} is not an indicator of the framework", o.indicator),
            ));
        }
        // The values a report could give: none negative, none above what a report may hold,
        // and a share (unit %) of a whole at most 100.
        let most = match catalog.indicator(&o.indicator) {
            Some(i) if i.unit_en == "%" => 100.0,
            _ => MAX_VALUE,
        };
        match o.value {
            Some(v) if !v.is_finite() => issues.push(Issue::new(
                format!("overrides[{n}].value"),
                "not_a_number",
                "a finite number or null",
            )),
            Some(v) if !(0.0..=most).contains(&v) => issues.push(Issue::new(
                format!("overrides[{n}].value"),
                "out_of_range",
                format!("a value of {} is 0 to {most}", o.indicator),
            )),
            _ => {}
        }
    }
    issues
}

/// The key of an index run: everything its inputs are computed from, without computing them.
/// The rollups of a period read the frames of that period and, for look-backs, of earlier
/// ones, so the key names the version of every frame up to the period's year (with the cube's
/// epoch: versions count within one cube), the catalog (formulas and the framework), the units
/// and every parameter and override. A submission for another year leaves the key unchanged:
/// the index of 2025 is not recomputed while 2026Q4 arrives.
fn run_key(view: &View, req: &IndexRequest, units: &[String]) -> crate::cache::Key {
    let mut frames: Vec<(&str, i32, &str, u8, u64)> = view
        .cube
        .frame_versions()
        .filter(|((_, p), _)| p.year() <= req.period.year())
        .map(|((d, p), v)| (d.as_str(), p.year(), p.kind().as_str(), p.index(), v))
        .collect();
    frames.sort_unstable();
    let mut key = KeyBuilder::new("index");
    key.add(view.cube.epoch())
        .add(&frames)
        .add(format!("{:?}", view.catalog))
        .add(req.period)
        .add(units)
        .add(req.uncertainty.map(|u| (u.draws, u.seed)))
        .add(req.overrides.len());
    for o in &req.overrides {
        key.add(&o.unit).add(&o.indicator).add_f64(o.value);
    }
    key.finish()
}

/// Computes an index over a view, for a caller already authorized (see [`authorize`]). Runs
/// are kept for their exact inputs.
pub fn run(
    service: &Service,
    view: &View,
    who: &Principal,
    req: &IndexRequest,
) -> Result<IndexRun, ServiceError> {
    let province = match req.level {
        IndexLevel::Commune => req.province.clone(),
        IndexLevel::Province => None,
    };
    let (units, rollup_level, filter) = units_of(view, req.level, province.as_deref())?;
    if !req.overrides.is_empty() {
        let issues = check_overrides(&view.catalog, &units, &req.overrides);
        if !issues.is_empty() {
            return Err(ServiceError::Invalid {
                message: format!("The what-if has {} problem(s).", issues.len()),
                issues,
            });
        }
    }
    let uncertainty = req.uncertainty;
    let result = service.results().get_or(
        service.options().cache_results,
        run_key(view, req, &units),
        |r: &IndexResult| r.units.len() * 20,
        || -> Result<IndexResult, ServiceError> {
            // Only what is computed costs: a cached run is free.
            let cost = uncertainty.map_or(0, |u| u.draws as u64)
                + if req.overrides.is_empty() {
                    0
                } else {
                    crate::budget::WHAT_IF_COST
                };
            if cost > 0 {
                service.spend(&who.subject, cost)?;
            }
            let mut values = inputs(view, req.period, &units, rollup_level, filter)?;
            let position: HashMap<&str, usize> = units
                .iter()
                .enumerate()
                .map(|(i, u)| (u.as_str(), i))
                .collect();
            for o in &req.overrides {
                let u = position[o.unit.as_str()];
                match o.value {
                    Some(v) => values[u].insert(o.indicator.clone(), v),
                    None => values[u].remove(&o.indicator),
                };
            }
            Ok(compute_index(
                &units,
                &values,
                &view.catalog.pillars,
                uncertainty,
            ))
        },
    )?;
    let result = result.as_ref().clone();
    let units = result
        .units
        .iter()
        .map(|u| {
            let (name, name_en) = view.reference.names(&u.unit);
            IndexUnit {
                name,
                name_en,
                score: u.clone(),
            }
        })
        .collect();
    Ok(IndexRun {
        period: req.period,
        level: req.level,
        province,
        draws: req.uncertainty.map_or(0, |u| u.draws),
        seed: req.uncertainty.map_or(DEFAULT_SEED, |u| u.seed),
        units,
        result,
    })
}

impl Service {
    /// The index `who` asked for (see [`authorize`]); overrides are refused here (a what-if
    /// run is [`Service::what_if`]).
    pub fn index(&self, who: &Principal, req: &IndexRequest) -> Result<IndexRun, ServiceError> {
        if !req.overrides.is_empty() {
            return Err(ServiceError::bug("overrides belong to a what-if run"));
        }
        authorize(who, req.level, req.province.as_deref(), false)?;
        let view = self.view()?;
        run(self, &view, who, req)
    }

    /// The index computed with some values replaced; nothing is stored. The caller must be
    /// able to read every unit of the run (see [`authorize`]).
    pub fn what_if(&self, who: &Principal, req: &IndexRequest) -> Result<IndexRun, ServiceError> {
        authorize(who, req.level, req.province.as_deref(), true)?;
        let view = self.view()?;
        run(self, &view, who, req)
    }

    /// Replaces the index framework (admin): checked against the catalog first, every problem
    /// listed; the change and its log entry are one transaction. Returns the catalog in force.
    pub fn replace_framework(
        &self,
        who: &Principal,
        pillars: Vec<innoreport_core::Pillar>,
        mut issues: Vec<Issue>,
    ) -> Result<std::sync::Arc<Catalog>, ServiceError> {
        use innoreport_core::SubIndex;
        who.require(Action::ManageFramework, Target::Nation)?;
        let mut conn = self.conn()?;
        let before = self.catalog(&mut conn)?;
        let mut catalog = before.as_ref().clone();
        catalog.pillars = pillars.clone();
        if let Err(e) = catalog.validate() {
            issues.extend(
                e.0.into_iter()
                    .map(|m| Issue::new("pillars", "invalid_framework", m)),
            );
        }
        for sub in [SubIndex::Input, SubIndex::Output] {
            if !pillars.iter().any(|p| p.sub_index == sub) {
                issues.push(Issue::new(
                    "pillars",
                    "missing_sub_index",
                    format!("the framework needs an {} pillar", sub.as_str()),
                ));
            }
        }
        if !issues.is_empty() {
            return Err(ServiceError::Invalid {
                message: format!(
                    "The framework has {} problem(s); nothing changed.",
                    issues.len()
                ),
                issues,
            });
        }
        let old = framework_json(&before);
        let new = framework_json(&catalog);
        let at = self.now();
        innoreport_store::transaction(&mut conn, |conn| {
            innoreport_store::reference::replace_framework(conn, &pillars)?;
            innoreport_store::changes::record(
                conn,
                &innoreport_store::changes::NewChange {
                    at,
                    actor: &who.subject,
                    action: "framework.replace",
                    province: None,
                    commune: None,
                    subject: "index framework".into(),
                    detail: serde_json::json!({"old": old, "new": new}),
                },
            )
        })?;
        self.catalog_changed();
        Ok(std::sync::Arc::new(catalog))
    }
}

/// The framework as the change log records it.
fn framework_json(catalog: &Catalog) -> serde_json::Value {
    let pillars: Vec<serde_json::Value> = catalog
        .pillars
        .iter()
        .map(|p| {
            let indicators: Vec<serde_json::Value> = p
                .indicators
                .iter()
                .map(|i| {
                    let ind = catalog.indicator(i.indicator.as_str());
                    serde_json::json!({
                        "indicator": i.indicator.as_str(),
                        "weight": i.weight,
                        "direction": i.direction.as_str(),
                        "name": ind.map(|x| x.name_vi.as_str()).unwrap_or_default(),
                        "name_en": ind.map(|x| x.name_en.as_str()).unwrap_or_default(),
                    })
                })
                .collect();
            serde_json::json!({
                "code": p.code,
                "sub_index": p.sub_index.as_str(),
                "name": p.name_vi,
                "name_en": p.name_en,
                "indicators": indicators,
            })
        })
        .collect();
    serde_json::json!({ "pillars": pillars })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use innoreport_aggregate::cube::ReportCells;
    use innoreport_core::Role;

    use super::*;
    use crate::testing::who;

    fn view() -> View {
        crate::testing::small_view()
    }

    #[test]
    fn a_what_if_needs_read_access_to_every_unit_it_compares() {
        let officer = who(Role::CommuneOfficer, Some("14"), Some("03808"));
        let analyst = who(Role::ProvinceAnalyst, Some("14"), None);
        let national = who(Role::NationalAnalyst, None, None);
        // The provinces' index is published to every role; probing it is national.
        assert!(authorize(&officer, IndexLevel::Province, None, false).is_ok());
        assert!(authorize(&analyst, IndexLevel::Province, None, true).is_err());
        assert!(authorize(&national, IndexLevel::Province, None, true).is_ok());
        // A commune index shows every commune of the province side by side.
        assert!(authorize(&officer, IndexLevel::Commune, Some("14"), false).is_err());
        assert!(authorize(&analyst, IndexLevel::Commune, Some("14"), true).is_ok());
        assert!(authorize(&analyst, IndexLevel::Commune, Some("01"), false).is_err());
        assert!(matches!(
            authorize(&national, IndexLevel::Commune, None, false),
            Err(ServiceError::BadInput { .. })
        ));
    }

    /// The units of an index and their inputs.
    fn units_and_inputs(
        v: &View,
        period: Period,
        level: IndexLevel,
        province: Option<&str>,
    ) -> Result<(Vec<String>, Vec<UnitValues>), ServiceError> {
        let (units, rollup_level, filter) = units_of(v, level, province)?;
        let values = inputs(v, period, &units, rollup_level, filter)?;
        Ok((units, values))
    }

    #[test]
    fn inputs_are_the_rollups_the_aggregates_serve_for_each_unit() {
        let v = view();
        let q1 = Period::parse("2026Q1").unwrap();
        let (units, values) = units_and_inputs(&v, q1, IndexLevel::Commune, Some("14")).unwrap();
        assert_eq!(
            units,
            ["03808", "03811"],
            "the province's communes in code order"
        );
        assert_eq!(values[0]["online_dossier_rate"], 80.0);
        assert_eq!(values[1]["online_dossier_rate"], 20.0);
        // An indicator with no value for the period is left out, never 0.
        assert!(!values[1].contains_key("ocop_products"));

        let (provinces, values) = units_and_inputs(&v, q1, IndexLevel::Province, None).unwrap();
        let son_la = provinces.iter().position(|p| p == "14").unwrap();
        assert_eq!(
            values[son_la]["online_dossier_rate"],
            100.0 * (80.0 + 60.0) / (100.0 + 300.0),
            "Σ numerator / Σ denominator, never a mean of the communes' rates"
        );
        let ha_noi = provinces.iter().position(|p| p == "01").unwrap();
        assert!(
            !values[ha_noi].contains_key("online_dossier_rate"),
            "a commune without its numerator does not count"
        );
        assert!(matches!(
            units_and_inputs(&v, q1, IndexLevel::Commune, Some("99")),
            Err(ServiceError::BadInput { .. })
        ));
    }

    #[test]
    fn a_run_is_kept_until_a_frame_of_its_year_or_earlier_changes() {
        let mut v = view();
        let req = |period: &str| IndexRequest {
            period: Period::parse(period).unwrap(),
            level: IndexLevel::Province,
            province: None,
            uncertainty: None,
            overrides: Vec::new(),
        };
        let units = units_of(&v, IndexLevel::Province, None).unwrap().0;
        let (k2025, k2026) = (
            run_key(&v, &req("2025"), &units),
            run_key(&v, &req("2026"), &units),
        );
        let change = |period: &str| ReportCells {
            dataset: "dmst-quarterly".into(),
            period: Period::parse(period).unwrap(),
            commune: "03811".into(),
            first_received_us: 0,
            values: BTreeMap::from([("dossiers_total".to_owned(), 301.0)]),
        };
        v.cube.apply(vec![change("2026Q1")]).unwrap();
        assert_eq!(
            run_key(&v, &req("2025"), &units),
            k2025,
            "a change of 2026 leaves the run of 2025"
        );
        let k2026_after = run_key(&v, &req("2026"), &units);
        assert_ne!(k2026_after, k2026, "a change of 2026 is a new run of 2026");
        v.cube.apply(vec![change("2025Q4")]).unwrap();
        assert_ne!(run_key(&v, &req("2025"), &units), k2025);
        assert_ne!(
            run_key(&v, &req("2026"), &units),
            k2026_after,
            "a later year's run may look back"
        );
        let mut what_if = req("2026");
        what_if.overrides.push(Override {
            unit: "14".into(),
            indicator: "online_dossier_rate".into(),
            value: Some(50.0),
        });
        assert_ne!(
            run_key(&v, &what_if, &units),
            run_key(&v, &req("2026"), &units)
        );
    }

    #[test]
    fn every_bad_override_is_named() {
        let catalog = innoreport_store::seed::default_catalog().unwrap();
        let units = vec!["03808".to_owned()];
        let issues = check_overrides(
            &catalog,
            &units,
            &[
                Override {
                    unit: "03808".into(),
                    indicator: "online_dossier_rate".into(),
                    value: Some(90.0),
                },
                Override {
                    unit: "00004".into(),
                    indicator: "dossiers_total".into(),
                    value: Some(f64::NAN),
                },
                Override {
                    unit: "03808".into(),
                    indicator: "online_dossier_rate".into(),
                    value: Some(1e308),
                },
                Override {
                    unit: "03808".into(),
                    indicator: "initiatives_recognized_per_10k".into(),
                    value: Some(-1.0),
                },
                Override {
                    unit: "03808".into(),
                    indicator: "initiatives_recognized_per_10k".into(),
                    value: Some(250.0),
                },
            ],
        );
        let mut named: Vec<_> = issues
            .iter()
            .map(|i| (i.field.as_str(), i.code.as_str()))
            .collect();
        named.sort();
        assert_eq!(
            named,
            [
                ("overrides[1].indicator", "not_in_framework"),
                ("overrides[1].unit", "unknown_unit"),
                ("overrides[1].value", "not_a_number"),
                ("overrides[2].value", "out_of_range"),
                ("overrides[3].value", "out_of_range"),
            ]
        );
    }
}
