//! Targets (kế hoạch chỉ tiêu): what a commune plans for an indicator in a year.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::StoreError;
use crate::db::DbConnection;
use crate::schema::{communes, targets};

/// One stored target.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetRow {
    pub year: i32,
    pub commune: String,
    pub province: String,
    pub indicator: String,
    pub value: f64,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
}

/// Sets targets of a commune for a year: each named indicator gets its value, `None` removes
/// it; others are kept. One transaction.
pub fn set_targets(
    conn: &mut DbConnection,
    year: i32,
    commune: &str,
    values: &BTreeMap<String, Option<f64>>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    conn.transaction(|conn| {
        let province: Option<String> = communes::table
            .filter(communes::code.eq(commune))
            .select(communes::province_code)
            .first(conn)
            .optional()?;
        let old: BTreeMap<String, f64> = targets::table
            .filter(targets::year.eq(year))
            .filter(targets::commune_code.eq(commune))
            .select((targets::indicator_code, targets::value))
            .load::<(String, f64)>(conn)?
            .into_iter()
            .collect();
        let changes: Vec<serde_json::Value> = values
            .iter()
            .filter(|(indicator, new)| old.get(*indicator).copied() != **new)
            .map(|(indicator, new)| {
                serde_json::json!({"indicator": indicator, "old": old.get(indicator), "new": new})
            })
            .collect();
        if !changes.is_empty() {
            crate::changes::record(
                conn,
                &crate::changes::NewChange {
                    at: now,
                    actor: by,
                    action: "targets.set",
                    province: province.as_deref(),
                    commune: Some(commune),
                    subject: format!("{year}/{commune}"),
                    detail: serde_json::json!({"year": year, "commune": commune, "changes": changes}),
                },
            )?;
        }
        for (indicator, value) in values {
            diesel::delete(
                targets::table
                    .filter(targets::year.eq(year))
                    .filter(targets::commune_code.eq(commune))
                    .filter(targets::indicator_code.eq(indicator)),
            )
            .execute(conn)?;
            if let Some(v) = value {
                diesel::insert_into(targets::table)
                    .values((
                        targets::year.eq(year),
                        targets::commune_code.eq(commune),
                        targets::indicator_code.eq(indicator),
                        targets::value.eq(v),
                        targets::updated_at.eq(now.naive_utc()),
                        targets::updated_by.eq(by),
                    ))
                    .execute(conn)?;
            }
        }
        Ok(())
    })
}

/// Targets of a year, for one province and/or one commune.
pub fn list_targets(
    conn: &mut DbConnection,
    year: i32,
    province: Option<&str>,
    commune: Option<&str>,
) -> Result<Vec<TargetRow>, StoreError> {
    let mut q = targets::table
        .inner_join(communes::table)
        .filter(targets::year.eq(year))
        .select((
            targets::year,
            targets::commune_code,
            communes::province_code,
            targets::indicator_code,
            targets::value,
            targets::updated_at,
            targets::updated_by,
        ))
        .order((targets::commune_code, targets::indicator_code))
        .into_boxed();
    if let Some(p) = province {
        q = q.filter(communes::province_code.eq(p.to_owned()));
    }
    if let Some(c) = commune {
        q = q.filter(targets::commune_code.eq(c.to_owned()));
    }
    let rows: Vec<(i32, String, String, String, f64, NaiveDateTime, String)> = q.load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(year, commune, province, indicator, value, at, by)| TargetRow {
                year,
                commune,
                province,
                indicator,
                value,
                updated_at: at.and_utc(),
                updated_by: by,
            },
        )
        .collect())
}
