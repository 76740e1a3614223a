//! The catalog: data sets, indicators with their temporal/spatial rules and derived formulas,
//! and the innovation index framework.
//!
//! The catalog is data (a TOML file shipped with the product, then rows in the database), so
//! that a province can add an indicator or move a deadline without a release. This module
//! parses it and checks that it hangs together; it performs no IO.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::codes::{DatasetCode, IndicatorCode};
use crate::dataset::Dataset;

/// What kind of number an indicator holds; it decides validation and display.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    /// A whole number ≥ 0.
    Count,
    /// An amount of money ≥ 0 with at most 3 decimals (million VND).
    Money,
    /// A percentage (derived).
    Percent,
    /// Any other ratio, e.g. per 10,000 inhabitants (derived).
    Rate,
}

impl ValueType {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Count => "count",
            ValueType::Money => "money",
            ValueType::Percent => "percent",
            ValueType::Rate => "rate",
        }
    }
}

/// How one commune's year is made from its quarters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TemporalRule {
    /// Flows: the sum over the sub-periods.
    Sum,
    /// Stocks: the value of the latest sub-period that has one.
    Last,
}

impl TemporalRule {
    pub fn as_str(self) -> &'static str {
        match self {
            TemporalRule::Sum => "sum",
            TemporalRule::Last => "last",
        }
    }
}

/// How communes make a province, and provinces the nation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SpatialRule {
    Sum,
}

impl SpatialRule {
    pub fn as_str(self) -> &'static str {
        match self {
            SpatialRule::Sum => "sum",
        }
    }
}

/// How a derived indicator is computed from others, at every level (commune, province,
/// nation) from the rolled-up components: ratios are Σ numerator / Σ denominator, never a
/// mean of rates. A ratio whose numerator or denominator is missing, or whose denominator is
/// zero, is missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Formula {
    /// The sum of the terms (missing when every term is missing).
    Sum { terms: Vec<IndicatorCode> },
    /// `scale × Σ numerator / Σ denominator`.
    Ratio {
        numerator: Vec<IndicatorCode>,
        denominator: Vec<IndicatorCode>,
        scale: f64,
    },
}

impl Formula {
    /// Every indicator the formula reads.
    pub fn inputs(&self) -> impl Iterator<Item = &IndicatorCode> {
        let (a, b): (&[IndicatorCode], &[IndicatorCode]) = match self {
            Formula::Sum { terms } => (terms, &[]),
            Formula::Ratio {
                numerator,
                denominator,
                ..
            } => (numerator, denominator),
        };
        a.iter().chain(b.iter())
    }

    /// The formula as a readable expression, e.g. `100 × dossiers_online_full / dossiers_total`.
    pub fn expression(&self) -> String {
        let join = |v: &[IndicatorCode]| {
            let s: Vec<&str> = v.iter().map(IndicatorCode::as_str).collect();
            if s.len() > 1 {
                format!("({})", s.join(" + "))
            } else {
                s.join(" + ")
            }
        };
        match self {
            Formula::Sum { terms } => terms
                .iter()
                .map(IndicatorCode::as_str)
                .collect::<Vec<_>>()
                .join(" + "),
            Formula::Ratio {
                numerator,
                denominator,
                scale,
            } => {
                format!("{scale} × {} / {}", join(numerator), join(denominator))
            }
        }
    }
}

/// One indicator (chỉ tiêu). Reported indicators belong to a data set and carry temporal and
/// spatial rules; derived indicators carry a formula instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub code: IndicatorCode,
    pub name_vi: String,
    pub name_en: String,
    pub unit_vi: String,
    pub unit_en: String,
    pub value_type: ValueType,
    #[serde(default)]
    pub dataset: Option<DatasetCode>,
    #[serde(default)]
    pub temporal: Option<TemporalRule>,
    #[serde(default)]
    pub spatial: Option<SpatialRule>,
    #[serde(default)]
    pub formula: Option<Formula>,
    /// A part that may not exceed this whole (e.g. dossiers handled online ≤ dossiers received).
    #[serde(default)]
    pub at_most: Option<IndicatorCode>,
}

impl Indicator {
    pub fn is_derived(&self) -> bool {
        self.formula.is_some()
    }
}

/// The two sub-indices of the innovation index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SubIndex {
    Input,
    Output,
}

impl SubIndex {
    pub fn as_str(self) -> &'static str {
        match self {
            SubIndex::Input => "input",
            SubIndex::Output => "output",
        }
    }
}

/// Whether a higher value of an indicator is better for the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::HigherIsBetter => "higher_is_better",
            Direction::LowerIsBetter => "lower_is_better",
        }
    }
}

/// One indicator's place in a pillar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PillarIndicator {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub indicator: IndicatorCode,
    #[serde(default = "one")]
    pub weight: f64,
    #[serde(default = "higher")]
    pub direction: Direction,
}

fn one() -> f64 {
    1.0
}

fn higher() -> Direction {
    Direction::HigherIsBetter
}

/// A pillar of the innovation index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pillar {
    pub code: String,
    pub sub_index: SubIndex,
    pub name_vi: String,
    pub name_en: String,
    pub indicators: Vec<PillarIndicator>,
}

/// The whole catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    #[serde(rename = "dataset", default)]
    pub datasets: Vec<Dataset>,
    #[serde(rename = "indicator", default)]
    pub indicators: Vec<Indicator>,
    #[serde(rename = "pillar", default)]
    pub pillars: Vec<Pillar>,
}

/// Everything wrong with a catalog, listed at once.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid catalog: {}", .0.join("; "))]
pub struct CatalogError(pub Vec<String>);

impl Catalog {
    /// Parses a catalog from TOML and validates it.
    pub fn from_toml(text: &str) -> Result<Catalog, CatalogError> {
        let catalog: Catalog =
            toml::from_str(text).map_err(|e| CatalogError(vec![e.to_string()]))?;
        catalog.validate()?;
        Ok(catalog)
    }

    pub fn dataset(&self, code: &str) -> Option<&Dataset> {
        self.datasets.iter().find(|d| d.code.as_str() == code)
    }

    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.code.as_str() == code)
    }

    /// The reported indicators of a data set, in catalog order.
    pub fn indicators_of<'a>(&'a self, dataset: &'a str) -> impl Iterator<Item = &'a Indicator> {
        self.indicators
            .iter()
            .filter(move |i| i.dataset.as_ref().is_some_and(|d| d.as_str() == dataset))
    }

    /// Checks every reference and rule; lists every problem.
    pub fn validate(&self) -> Result<(), CatalogError> {
        let mut errors = Vec::new();
        let mut dataset_codes = BTreeSet::new();
        for d in &self.datasets {
            if !dataset_codes.insert(d.code.as_str()) {
                errors.push(format!("data set {} is defined twice", d.code));
            }
            if let Err(e) = d.deadline.validate() {
                errors.push(format!("data set {}: deadline: {e}", d.code));
            }
            if let Err(e) = d.lock.validate() {
                errors.push(format!("data set {}: lock: {e}", d.code));
            }
            if d.name_vi.trim().is_empty() || d.name_en.trim().is_empty() {
                errors.push(format!(
                    "data set {} needs a Vietnamese and an English name",
                    d.code
                ));
            }
        }
        let by_code: HashMap<&str, &Indicator> = self
            .indicators
            .iter()
            .map(|i| (i.code.as_str(), i))
            .collect();
        if by_code.len() != self.indicators.len() {
            let mut seen = BTreeSet::new();
            for i in &self.indicators {
                if !seen.insert(i.code.as_str()) {
                    errors.push(format!("indicator {} is defined twice", i.code));
                }
            }
        }
        for i in &self.indicators {
            let c = &i.code;
            if i.name_vi.trim().is_empty() || i.name_en.trim().is_empty() {
                errors.push(format!(
                    "indicator {c} needs a Vietnamese and an English name"
                ));
            }
            match (&i.formula, &i.dataset) {
                (Some(_), Some(_)) => errors.push(format!(
                    "indicator {c} is derived and cannot belong to a data set"
                )),
                (None, None) => errors.push(format!(
                    "indicator {c} needs a data set (reported) or a formula (derived)"
                )),
                (None, Some(d)) => {
                    if !dataset_codes.contains(d.as_str()) {
                        errors.push(format!("indicator {c} names unknown data set {d}"));
                    }
                    if i.temporal.is_none() || i.spatial.is_none() {
                        errors.push(format!(
                            "reported indicator {c} needs temporal and spatial rules"
                        ));
                    }
                    if !matches!(i.value_type, ValueType::Count | ValueType::Money) {
                        errors.push(format!("reported indicator {c} must be a count or money"));
                    }
                }
                (Some(f), None) => {
                    if i.temporal.is_some() || i.spatial.is_some() {
                        errors.push(format!(
                            "derived indicator {c} takes its rules from its formula, not temporal/spatial"
                        ));
                    }
                    let empty = match f {
                        Formula::Sum { terms } => terms.is_empty(),
                        Formula::Ratio {
                            numerator,
                            denominator,
                            scale,
                        } => {
                            if !(scale.is_finite() && *scale > 0.0) {
                                errors
                                    .push(format!("derived indicator {c} needs a positive scale"));
                            }
                            numerator.is_empty() || denominator.is_empty()
                        }
                    };
                    if empty {
                        errors.push(format!("derived indicator {c} has an empty formula"));
                    }
                    for input in f.inputs() {
                        if !by_code.contains_key(input.as_str()) {
                            errors.push(format!(
                                "derived indicator {c} reads unknown indicator {input}"
                            ));
                        }
                    }
                }
            }
            if let Some(whole) = &i.at_most {
                match by_code.get(whole.as_str()) {
                    None => errors.push(format!("indicator {c} is at most unknown indicator {whole}")),
                    Some(w) if w.dataset != i.dataset || i.dataset.is_none() => errors.push(format!(
                        "indicator {c} is at most {whole}, which is not reported in the same data set"
                    )),
                    Some(_) => {}
                }
            }
        }
        if errors.is_empty()
            && let Some(cycle) = self.formula_cycle(&by_code)
        {
            errors.push(format!("derived indicators depend on themselves: {cycle}"));
        }
        let mut pillar_codes = BTreeSet::new();
        for p in &self.pillars {
            if !pillar_codes.insert(p.code.as_str()) {
                errors.push(format!("pillar {} is defined twice", p.code));
            }
            if p.indicators.is_empty() {
                errors.push(format!("pillar {} has no indicators", p.code));
            }
            let mut seen = BTreeSet::new();
            for pi in &p.indicators {
                if !by_code.contains_key(pi.indicator.as_str()) {
                    errors.push(format!(
                        "pillar {} uses unknown indicator {}",
                        p.code, pi.indicator
                    ));
                }
                if !(pi.weight.is_finite() && pi.weight > 0.0) {
                    errors.push(format!(
                        "pillar {} gives indicator {} a weight that is not positive",
                        p.code, pi.indicator
                    ));
                }
                if !seen.insert(pi.indicator.as_str()) {
                    errors.push(format!("pillar {} lists {} twice", p.code, pi.indicator));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(CatalogError(errors))
        }
    }

    fn formula_cycle(&self, by_code: &HashMap<&str, &Indicator>) -> Option<String> {
        // Depth-first search with colours: 1 = on the stack, 2 = done.
        fn visit<'a>(
            code: &'a str,
            by_code: &HashMap<&'a str, &'a Indicator>,
            colour: &mut BTreeMap<&'a str, u8>,
            stack: &mut Vec<&'a str>,
        ) -> bool {
            match colour.get(code) {
                Some(1) => {
                    stack.push(code);
                    return true;
                }
                Some(_) => return false,
                None => {}
            }
            colour.insert(code, 1);
            stack.push(code);
            if let Some(f) = by_code.get(code).and_then(|i| i.formula.as_ref()) {
                for input in f.inputs() {
                    if visit(input.as_str(), by_code, colour, stack) {
                        return true;
                    }
                }
            }
            stack.pop();
            colour.insert(code, 2);
            false
        }
        let mut colour = BTreeMap::new();
        for i in &self.indicators {
            let mut stack = Vec::new();
            if visit(i.code.as_str(), by_code, &mut colour, &mut stack) {
                return Some(stack.join(" → "));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = r#"
[[dataset]]
code = "q"
name_vi = "Quý"
name_en = "Quarterly"
period_type = "quarter"
deadline = { kind = "day_of_last_month", day = 5 }
lock = { kind = "days_after_deadline", days = 30 }

[[indicator]]
code = "dossiers_total"
name_vi = "Hồ sơ"
name_en = "Dossiers"
unit_vi = "hồ sơ"
unit_en = "dossier"
value_type = "count"
dataset = "q"
temporal = "sum"
spatial = "sum"

[[indicator]]
code = "dossiers_online_full"
name_vi = "Hồ sơ trực tuyến"
name_en = "Online dossiers"
unit_vi = "hồ sơ"
unit_en = "dossier"
value_type = "count"
dataset = "q"
temporal = "sum"
spatial = "sum"
at_most = "dossiers_total"

[[indicator]]
code = "online_dossier_rate"
name_vi = "Tỷ lệ"
name_en = "Rate"
unit_vi = "%"
unit_en = "%"
value_type = "percent"
formula = { kind = "ratio", numerator = ["dossiers_online_full"], denominator = ["dossiers_total"], scale = 100 }

[[pillar]]
code = "institutions"
sub_index = "input"
name_vi = "Thể chế"
name_en = "Institutions"
indicators = [{ indicator = "online_dossier_rate" }]
"#;

    #[test]
    fn parses_a_consistent_catalog() {
        let c = Catalog::from_toml(MINI).unwrap();
        assert_eq!(c.datasets.len(), 1);
        assert_eq!(c.indicators_of("q").count(), 2);
        let rate = c.indicator("online_dossier_rate").unwrap();
        assert!(rate.is_derived());
        assert_eq!(
            rate.formula.as_ref().unwrap().expression(),
            "100 × dossiers_online_full / dossiers_total"
        );
        assert_eq!(c.pillars[0].indicators[0].weight, 1.0);
        assert_eq!(
            c.pillars[0].indicators[0].direction,
            Direction::HigherIsBetter
        );
    }

    #[test]
    fn lists_every_broken_reference_at_once() {
        let broken = MINI
            .replace(
                "dataset = \"q\"\ntemporal = \"sum\"\nspatial = \"sum\"\nat_most",
                "dataset = \"nope\"\ntemporal = \"sum\"\nspatial = \"sum\"\nat_most",
            )
            .replace(
                "denominator = [\"dossiers_total\"]",
                "denominator = [\"ghost\"]",
            )
            .replace(
                "{ indicator = \"online_dossier_rate\" }",
                "{ indicator = \"missing\", weight = 0 }",
            );
        let err = Catalog::from_toml(&broken).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("unknown data set nope"), "{text}");
        assert!(text.contains("reads unknown indicator ghost"), "{text}");
        assert!(text.contains("uses unknown indicator missing"), "{text}");
        assert!(text.contains("weight that is not positive"), "{text}");
        assert!(text.contains("not reported in the same data set"), "{text}");
    }

    #[test]
    fn rejects_a_formula_cycle() {
        let cyclic = MINI.replace(
            "numerator = [\"dossiers_online_full\"]",
            "numerator = [\"online_dossier_rate\"]",
        );
        let err = Catalog::from_toml(&cyclic).unwrap_err().to_string();
        assert!(err.contains("depend on themselves"), "{err}");
    }

    #[test]
    fn rejects_unknown_fields_and_bad_codes() {
        assert!(Catalog::from_toml(&MINI.replace("unit_en = \"dossier\"\nvalue_type = \"count\"\ndataset = \"q\"\ntemporal = \"sum\"\nspatial = \"sum\"\n\n[[indicator]]\ncode = \"dossiers_online_full\"", "unit_en = \"dossier\"\nvalue_type = \"count\"\ndataset = \"q\"\ntemporal = \"sum\"\nspatial = \"sum\"\ncolour = \"red\"\n\n[[indicator]]\ncode = \"dossiers_online_full\"")).is_err());
        assert!(
            Catalog::from_toml(&MINI.replace("code = \"dossiers_total\"", "code = \"Dossiers\""))
                .is_err()
        );
    }
}
