//! Validation of submitted reports: every problem is found and listed at once.
//!
//! A submission names the indicators it reports; indicators it does not name keep their
//! current value, and `null` clears one. Checks on single values happen on the submission;
//! checks across values (a part may not exceed its whole) happen on the report as it would be
//! after the change.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::catalog::{Catalog, ValueType};
use crate::dataset::Dataset;
use crate::period::Period;

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Where the problem is, e.g. `values.staff_trained` or `period`.
    pub field: String,
    /// A stable machine-readable code, e.g. `unknown_indicator`.
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
}

impl Issue {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Issue {
        Issue {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// The largest value accepted for any indicator (a guard against typing errors and overflow).
pub const MAX_VALUE: f64 = 1e12;

/// The values of a report: indicator code → value. Missing indicators are absent.
pub type Values = BTreeMap<String, f64>;

/// A submission's values: `None` clears the indicator.
pub type Changes = BTreeMap<String, Option<f64>>;

/// Checks a period id against a data set at `now`: well-formed, of the data set's type, and
/// already started (no reports for future periods).
pub fn check_period(dataset: &Dataset, raw: &str, now: DateTime<Utc>) -> Result<Period, Issue> {
    let period =
        Period::parse(raw).map_err(|e| Issue::new("period", "invalid_period", e.to_string()))?;
    if period.kind() != dataset.period_type {
        return Err(Issue::new(
            "period",
            "wrong_period_type",
            format!(
                "data set {} collects {} periods (e.g. {}), not {raw}",
                dataset.code,
                dataset.period_type,
                dataset.period_type.example()
            ),
        ));
    }
    if period.start() > now {
        return Err(Issue::new(
            "period",
            "future_period",
            format!("period {raw} has not started yet"),
        ));
    }
    Ok(period)
}

/// Checks each submitted value against the catalog: known, of this data set, reported (not
/// derived), a number of the right kind. Returns the values that passed and every issue.
pub fn check_values(
    catalog: &Catalog,
    dataset: &Dataset,
    raw: &BTreeMap<String, serde_json::Value>,
) -> (Changes, Vec<Issue>) {
    let mut ok = Changes::new();
    let mut issues = Vec::new();
    if raw.is_empty() {
        issues.push(Issue::new(
            "values",
            "empty",
            "a report needs at least one value",
        ));
    }
    for (code, value) in raw {
        let field = format!("values.{code}");
        let Some(indicator) = catalog.indicator(code) else {
            issues.push(Issue::new(
                field,
                "unknown_indicator",
                format!("there is no indicator {code:?}"),
            ));
            continue;
        };
        if indicator.is_derived() {
            issues.push(Issue::new(
                field,
                "derived_indicator",
                format!("{code} is computed from other indicators and cannot be submitted"),
            ));
            continue;
        }
        if indicator.dataset.as_ref() != Some(&dataset.code) {
            let other = indicator
                .dataset
                .as_ref()
                .map(|d| d.as_str())
                .unwrap_or("none");
            issues.push(Issue::new(
                field,
                "wrong_dataset",
                format!("{code} belongs to data set {other}, not {}", dataset.code),
            ));
            continue;
        }
        let number = match value {
            serde_json::Value::Null => {
                ok.insert(code.clone(), None);
                continue;
            }
            serde_json::Value::Number(n) => n.as_f64(),
            _ => None,
        };
        let Some(x) = number.filter(|x| x.is_finite()) else {
            issues.push(Issue::new(
                field,
                "not_a_number",
                format!("{code} must be a number or null"),
            ));
            continue;
        };
        if x < 0.0 {
            issues.push(Issue::new(
                field,
                "negative",
                format!("{code} cannot be negative ({x})"),
            ));
            continue;
        }
        if x > MAX_VALUE {
            issues.push(Issue::new(
                field,
                "too_large",
                format!("{code} is larger than {MAX_VALUE:e}"),
            ));
            continue;
        }
        match indicator.value_type {
            ValueType::Count if x.fract() != 0.0 => {
                issues.push(Issue::new(
                    field,
                    "not_integer",
                    format!("{code} counts whole units, not {x}"),
                ));
                continue;
            }
            ValueType::Money if ((x * 1000.0).round() - x * 1000.0).abs() > 1e-6 => {
                issues.push(Issue::new(
                    field,
                    "too_many_decimals",
                    format!("{code} has at most 3 decimals, not {x}"),
                ));
                continue;
            }
            _ => {}
        }
        ok.insert(code.clone(), Some(x));
    }
    (ok, issues)
}

/// The report's values after applying `changes`.
pub fn merge(current: &Values, changes: &Changes) -> Values {
    let mut out = current.clone();
    for (code, v) in changes {
        match v {
            Some(x) => out.insert(code.clone(), *x),
            None => out.remove(code),
        };
    }
    out
}

/// Part ≤ whole rules of the data set, on the values a report would have.
pub fn check_parts(catalog: &Catalog, dataset: &Dataset, values: &Values) -> Vec<Issue> {
    let mut issues = Vec::new();
    for indicator in catalog.indicators_of(dataset.code.as_str()) {
        let Some(whole) = &indicator.at_most else {
            continue;
        };
        if let (Some(part), Some(total)) = (
            values.get(indicator.code.as_str()),
            values.get(whole.as_str()),
        ) && part > total
        {
            issues.push(Issue::new(
                format!("values.{}", indicator.code),
                "exceeds_whole",
                format!(
                    "{} ({part}) cannot exceed {whole} ({total})",
                    indicator.code
                ),
            ));
        }
    }
    issues
}

/// The modified z-score of `x` against a commune's own history (Iglewicz and Hoaglin:
/// 0.6745 (x − median) / MAD). With a zero MAD the mean absolute deviation stands in
/// (scaled by 1.2533); when that is zero too, any departure from the median is infinitely
/// far. `None` with fewer than 3 past values.
pub fn modified_z_score(x: f64, history: &[f64]) -> Option<f64> {
    if history.len() < 3 {
        return None;
    }
    let med = median(history);
    let deviations: Vec<f64> = history.iter().map(|h| (h - med).abs()).collect();
    let mad = median(&deviations);
    if mad > 0.0 {
        return Some(0.6745 * (x - med) / mad);
    }
    let mean_ad = deviations.iter().sum::<f64>() / deviations.len() as f64;
    if mean_ad > 0.0 {
        return Some((x - med) / (1.253314 * mean_ad));
    }
    Some(if x == med {
        0.0
    } else {
        f64::INFINITY.copysign(x - med)
    })
}

/// The threshold above which a value is flagged (CATALOG.md).
pub const OUTLIER_THRESHOLD: f64 = 3.5;

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use serde_json::json;

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
name_en = "Online"
unit_vi = "hồ sơ"
unit_en = "dossier"
value_type = "count"
dataset = "q"
temporal = "sum"
spatial = "sum"
at_most = "dossiers_total"

[[indicator]]
code = "budget_total"
name_vi = "Chi"
name_en = "Budget"
unit_vi = "triệu đồng"
unit_en = "million VND"
value_type = "money"
dataset = "a"
temporal = "sum"
spatial = "sum"

[[indicator]]
code = "online_dossier_rate"
name_vi = "Tỷ lệ"
name_en = "Rate"
unit_vi = "%"
unit_en = "%"
value_type = "percent"
formula = { kind = "ratio", numerator = ["dossiers_online_full"], denominator = ["dossiers_total"], scale = 100 }
"#;

    fn catalog() -> Catalog {
        Catalog::from_toml(CATALOG).unwrap()
    }

    fn raw(v: serde_json::Value) -> BTreeMap<String, serde_json::Value> {
        serde_json::from_value(v).unwrap()
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-05-10T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn lists_every_bad_value_at_once() {
        let c = catalog();
        let q = c.dataset("q").unwrap();
        let (ok, issues) = check_values(
            &c,
            q,
            &raw(json!({
                "dossiers_total": -1,
                "dossiers_online_full": 2.5,
                "nope": 1,
                "budget_total": 10,
                "online_dossier_rate": 50,
            })),
        );
        let codes: Vec<(&str, &str)> = issues
            .iter()
            .map(|i| (i.field.as_str(), i.code.as_str()))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("values.budget_total", "wrong_dataset"),
                ("values.dossiers_online_full", "not_integer"),
                ("values.dossiers_total", "negative"),
                ("values.nope", "unknown_indicator"),
                ("values.online_dossier_rate", "derived_indicator"),
            ]
        );
        assert!(ok.is_empty());
    }

    #[test]
    fn accepts_counts_money_with_three_decimals_and_nulls() {
        let c = catalog();
        let (ok, issues) = check_values(
            &c,
            c.dataset("q").unwrap(),
            &raw(json!({"dossiers_total": 12, "dossiers_online_full": null})),
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(ok.get("dossiers_total"), Some(&Some(12.0)));
        assert_eq!(ok.get("dossiers_online_full"), Some(&None));
        let a = c.dataset("a").unwrap();
        assert!(
            check_values(&c, a, &raw(json!({"budget_total": 1234.567})))
                .1
                .is_empty()
        );
        let (_, issues) = check_values(&c, a, &raw(json!({"budget_total": 1.2345})));
        assert_eq!(issues[0].code, "too_many_decimals");
        let (_, issues) = check_values(&c, a, &raw(json!({"budget_total": "12"})));
        assert_eq!(issues[0].code, "not_a_number");
        let (_, issues) = check_values(&c, a, &raw(json!({"budget_total": 1e13})));
        assert_eq!(issues[0].code, "too_large");
        let (_, issues) = check_values(&c, a, &raw(json!({})));
        assert_eq!(issues[0].code, "empty");
    }

    #[test]
    fn periods_must_fit_the_data_set_and_have_started() {
        let c = catalog();
        let q = c.dataset("q").unwrap();
        assert_eq!(
            check_period(q, "2026Q2", now()).unwrap(),
            Period::Quarter(2026, 2)
        );
        assert_eq!(
            check_period(q, "2026", now()).unwrap_err().code,
            "wrong_period_type"
        );
        assert_eq!(
            check_period(q, "2026Q3", now()).unwrap_err().code,
            "future_period"
        );
        assert_eq!(
            check_period(q, "2026Q9", now()).unwrap_err().code,
            "invalid_period"
        );
    }

    #[test]
    fn parts_are_checked_on_the_merged_report() {
        let c = catalog();
        let q = c.dataset("q").unwrap();
        let current: Values = [
            ("dossiers_total".to_owned(), 10.0),
            ("dossiers_online_full".to_owned(), 8.0),
        ]
        .into();
        // Lowering the whole below the stored part is caught even though the part is not resent.
        let merged = merge(&current, &[("dossiers_total".to_owned(), Some(5.0))].into());
        let issues = check_parts(&c, q, &merged);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].field, "values.dossiers_online_full");
        assert_eq!(issues[0].code, "exceeds_whole");
        // Clearing the part removes the problem.
        let merged = merge(&merged, &[("dossiers_online_full".to_owned(), None)].into());
        assert!(check_parts(&c, q, &merged).is_empty());
        assert_eq!(merged.len(), 1);
    }

    #[test]
    fn modified_z_score_flags_values_far_from_the_communes_history() {
        let history = [10.0, 12.0, 11.0, 13.0, 12.0];
        // median 12, MAD 1 → z(40) = 0.6745 × 28 = 18.9
        let z = modified_z_score(40.0, &history).unwrap();
        assert!((z - 18.886).abs() < 1e-3, "{z}");
        assert!(modified_z_score(12.5, &history).unwrap().abs() < OUTLIER_THRESHOLD);
        assert_eq!(
            modified_z_score(40.0, &[1.0, 2.0]),
            None,
            "too little history"
        );
        assert_eq!(modified_z_score(5.0, &[5.0, 5.0, 5.0]), Some(0.0));
        assert_eq!(modified_z_score(6.0, &[5.0, 5.0, 5.0]), Some(f64::INFINITY));
        // MAD 0 but not constant: the mean absolute deviation stands in.
        let z = modified_z_score(20.0, &[5.0, 5.0, 5.0, 9.0]).unwrap();
        assert!((z - 15.0 / (1.253314 * 1.0)).abs() < 1e-6, "{z}");
    }
}
