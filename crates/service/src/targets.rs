//! Targets (kế hoạch chỉ tiêu): what a commune plans for an indicator in a year, set by its
//! province admin, read with the actual values and their attainment.

use std::collections::BTreeMap;

use innoreport_core::validation::{Issue, MAX_VALUE};
use innoreport_core::{Action, CommuneCode, Principal, Target};

use crate::analysis::{TargetActual, with_actuals, year_period};
use crate::{Service, ServiceError};

impl Service {
    /// Targets of a year in `who`'s scope (narrowed to a province and/or one commune), with
    /// actual values and attainment.
    pub fn targets(
        &self,
        who: &Principal,
        year: i32,
        province: Option<&str>,
        commune: Option<&str>,
    ) -> Result<Vec<TargetActual>, ServiceError> {
        year_period(year)?;
        let mut conn = self.conn()?;
        let view = self.view_on(&mut conn)?;
        crate::analysis::known_province(&view, province)?;
        let province = who.province_filter(province)?;
        if let Some(c) = commune {
            match self.authorize_commune(&mut conn, who, c, Action::Read) {
                Err(ServiceError::NotFound(_)) | Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        let commune = who.own_commune().or(commune).map(str::to_owned);
        let rows = innoreport_store::targets::list_targets(
            &mut conn,
            year,
            province.as_deref(),
            commune.as_deref(),
        )?;
        with_actuals(&view, year, rows)
    }

    /// Sets a commune's targets for a year (`None` removes one); every problem listed, nothing
    /// stored on any. Returns the commune's targets of the year.
    pub fn set_targets(
        &self,
        who: &Principal,
        year: i32,
        commune: &str,
        raw: &BTreeMap<String, serde_json::Value>,
    ) -> Result<Vec<TargetActual>, ServiceError> {
        year_period(year)?;
        let mut conn = self.conn()?;
        let reference = self.reference(&mut conn, |r| r.commune(commune).is_some())?;
        let province = CommuneCode::parse(commune)
            .ok()
            .and_then(|_| reference.province_of(commune))
            .map(str::to_owned)
            .ok_or_else(|| {
                ServiceError::not_found(format!(
                    "There is no commune {:?}.",
                    crate::reports::clip(commune)
                ))
            })?;
        who.require(
            Action::ManageTargets,
            Target::Commune {
                commune,
                province: &province,
            },
        )?;
        let catalog = self.catalog(&mut conn)?;
        let (values, issues) = check_targets(&catalog, raw);
        if !issues.is_empty() {
            return Err(ServiceError::invalid("targets", issues));
        }
        innoreport_store::targets::set_targets(
            &mut conn,
            year,
            commune,
            &values,
            &who.subject,
            self.now(),
        )?;
        let view = self.view_on(&mut conn)?;
        let rows = innoreport_store::targets::list_targets(&mut conn, year, None, Some(commune))?;
        with_actuals(&view, year, rows)
    }
}

/// Checks target values: known indicators, numbers from 0 to [`MAX_VALUE`] or null.
pub fn check_targets(
    catalog: &innoreport_core::Catalog,
    raw: &BTreeMap<String, serde_json::Value>,
) -> (BTreeMap<String, Option<f64>>, Vec<Issue>) {
    let mut issues = Vec::new();
    let mut values = BTreeMap::new();
    if raw.is_empty() {
        issues.push(Issue::new("values", "empty", "name at least one target"));
    }
    for (code, v) in raw {
        let field = format!("values.{}", crate::reports::clip(code));
        if catalog.indicator(code).is_none() {
            issues.push(Issue::new(
                field,
                "unknown_indicator",
                format!("there is no indicator {:?}", crate::reports::clip(code)),
            ));
            continue;
        }
        match v {
            serde_json::Value::Null => {
                values.insert(code.clone(), None);
            }
            serde_json::Value::Number(n) => match n
                .as_f64()
                .filter(|x| x.is_finite() && *x >= 0.0 && *x <= MAX_VALUE)
            {
                Some(x) => {
                    values.insert(code.clone(), Some(x));
                }
                None => issues.push(Issue::new(
                    field,
                    "out_of_range",
                    format!("a target is a number from 0 to {MAX_VALUE:e}"),
                )),
            },
            _ => issues.push(Issue::new(
                field,
                "not_a_number",
                "a target is a number or null",
            )),
        }
    }
    (values, issues)
}
