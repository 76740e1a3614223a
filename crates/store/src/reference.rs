//! Reading reference data: provinces, communes and the catalog as stored.

use std::collections::BTreeMap;

use diesel::dsl::count_star;
use diesel::prelude::*;
use innoreport_core::{
    Catalog, Dataset, DatasetCode, Direction, Formula, Indicator, IndicatorCode, Pillar,
    PillarIndicator, SpatialRule, SubIndex, TemporalRule, ValueType,
};
use serde::de::DeserializeOwned;

use crate::StoreError;
use crate::db::DbConnection;
use crate::schema::{
    communes, datasets, index_pillar_indicators, index_pillars, indicators, provinces,
};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = provinces)]
pub struct ProvinceRow {
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub division_type: String,
    pub codename: String,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = communes)]
pub struct CommuneRow {
    pub code: String,
    pub province_code: String,
    pub name_vi: String,
    pub name_en: String,
    pub division_type: String,
    pub codename: String,
}

/// A province with the number of its communes.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvinceSummary {
    pub province: ProvinceRow,
    pub communes: i64,
}

fn commune_counts(conn: &mut DbConnection) -> Result<BTreeMap<String, i64>, StoreError> {
    Ok(communes::table
        .group_by(communes::province_code)
        .select((communes::province_code, count_star()))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

pub fn list_provinces(conn: &mut DbConnection) -> Result<Vec<ProvinceSummary>, StoreError> {
    let counts = commune_counts(conn)?;
    let rows = provinces::table
        .select(ProvinceRow::as_select())
        .order(provinces::code)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|p| ProvinceSummary {
            communes: counts.get(&p.code).copied().unwrap_or(0),
            province: p,
        })
        .collect())
}

pub fn get_province(
    conn: &mut DbConnection,
    code: &str,
) -> Result<Option<ProvinceSummary>, StoreError> {
    let Some(province) = provinces::table
        .find(code)
        .select(ProvinceRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let communes = communes::table
        .filter(communes::province_code.eq(code))
        .count()
        .get_result::<i64>(conn)?;
    Ok(Some(ProvinceSummary { province, communes }))
}

/// One page of a province's communes in code order, starting after `after`.
pub fn list_communes(
    conn: &mut DbConnection,
    province: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<CommuneRow>, StoreError> {
    let mut q = communes::table
        .filter(communes::province_code.eq(province))
        .select(CommuneRow::as_select())
        .order(communes::code)
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(communes::code.gt(after));
    }
    Ok(q.load(conn)?)
}

/// Every commune, in code order.
pub fn all_communes(conn: &mut DbConnection) -> Result<Vec<CommuneRow>, StoreError> {
    Ok(communes::table
        .select(CommuneRow::as_select())
        .order(communes::code)
        .load(conn)?)
}

pub fn get_commune(conn: &mut DbConnection, code: &str) -> Result<Option<CommuneRow>, StoreError> {
    Ok(communes::table
        .find(code)
        .select(CommuneRow::as_select())
        .first(conn)
        .optional()?)
}

/// Commune code → province code, for `only` these communes or for all.
pub fn commune_provinces(
    conn: &mut DbConnection,
    only: Option<&[String]>,
) -> Result<BTreeMap<String, String>, StoreError> {
    let mut q = communes::table
        .select((communes::code, communes::province_code))
        .into_boxed();
    if let Some(only) = only {
        q = q.filter(communes::code.eq_any(only.to_vec()));
    }
    Ok(q.load::<(String, String)>(conn)?.into_iter().collect())
}

/// The province of a commune (None when the commune does not exist).
pub fn commune_province(
    conn: &mut DbConnection,
    commune: &str,
) -> Result<Option<String>, StoreError> {
    Ok(communes::table
        .find(commune)
        .select(communes::province_code)
        .first(conn)
        .optional()?)
}

pub fn count_communes(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(communes::table.count().get_result(conn)?)
}

type DatasetTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);
type IndicatorTuple = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn corrupt(what: &str, code: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what} {code}: {e}"))
}

fn json<T: DeserializeOwned>(what: &str, code: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(what, code, e))
}

/// Plain words stored in a column ("sum", "count", ...) read through serde, so the stored
/// spelling and the API spelling are the same.
fn word<T: DeserializeOwned>(what: &str, code: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|e| corrupt(what, code, e))
}

/// The catalog as stored (datasets, indicators, pillars in their display order).
pub fn load_catalog(conn: &mut DbConnection) -> Result<Catalog, StoreError> {
    let dataset_rows: Vec<DatasetTuple> = datasets::table
        .select((
            datasets::code,
            datasets::name_vi,
            datasets::name_en,
            datasets::period_type,
            datasets::deadline_rule,
            datasets::lock_rule,
            datasets::description_vi,
            datasets::description_en,
        ))
        .order((datasets::position, datasets::code))
        .load(conn)?;
    let mut datasets_out = Vec::with_capacity(dataset_rows.len());
    for (code, name_vi, name_en, period_type, deadline, lock, description_vi, description_en) in
        dataset_rows
    {
        datasets_out.push(Dataset {
            code: DatasetCode::parse(&code).map_err(|e| corrupt("data set", &code, e))?,
            period_type: word("data set", &code, &period_type)?,
            deadline: json("data set", &code, &deadline)?,
            lock: json("data set", &code, &lock)?,
            name_vi,
            name_en,
            description_vi,
            description_en,
        });
    }

    let indicator_rows: Vec<IndicatorTuple> = indicators::table
        .select((
            indicators::code,
            indicators::name_vi,
            indicators::name_en,
            indicators::unit_vi,
            indicators::unit_en,
            indicators::value_type,
            indicators::dataset_code,
            indicators::temporal_rule,
            indicators::spatial_rule,
            indicators::formula,
            indicators::at_most,
        ))
        .order((indicators::position, indicators::code))
        .load(conn)?;
    let mut indicators_out = Vec::with_capacity(indicator_rows.len());
    for (
        code,
        name_vi,
        name_en,
        unit_vi,
        unit_en,
        value_type,
        dataset,
        temporal,
        spatial,
        formula,
        at_most,
    ) in indicator_rows
    {
        let c = code.as_str();
        indicators_out.push(Indicator {
            code: IndicatorCode::parse(c).map_err(|e| corrupt("indicator", c, e))?,
            value_type: word::<ValueType>("indicator", c, &value_type)?,
            dataset: dataset
                .map(|d| DatasetCode::parse(&d).map_err(|e| corrupt("indicator", c, e)))
                .transpose()?,
            temporal: temporal
                .map(|t| word::<TemporalRule>("indicator", c, &t))
                .transpose()?,
            spatial: spatial
                .map(|s| word::<SpatialRule>("indicator", c, &s))
                .transpose()?,
            formula: formula
                .map(|f| json::<Formula>("indicator", c, &f))
                .transpose()?,
            at_most: at_most
                .map(|a| IndicatorCode::parse(&a).map_err(|e| corrupt("indicator", c, e)))
                .transpose()?,
            name_vi,
            name_en,
            unit_vi,
            unit_en,
        });
    }

    let pillar_rows: Vec<(String, String, String, String)> = index_pillars::table
        .select((
            index_pillars::code,
            index_pillars::sub_index,
            index_pillars::name_vi,
            index_pillars::name_en,
        ))
        .order((index_pillars::position, index_pillars::code))
        .load(conn)?;
    let member_rows: Vec<(String, String, f64, String)> = index_pillar_indicators::table
        .select((
            index_pillar_indicators::pillar_code,
            index_pillar_indicators::indicator_code,
            index_pillar_indicators::weight,
            index_pillar_indicators::direction,
        ))
        .order((
            index_pillar_indicators::pillar_code,
            index_pillar_indicators::position,
        ))
        .load(conn)?;
    let mut pillars_out = Vec::with_capacity(pillar_rows.len());
    for (code, sub_index, name_vi, name_en) in pillar_rows {
        let mut members = Vec::new();
        for (_, indicator, weight, direction) in member_rows.iter().filter(|m| m.0 == code) {
            members.push(PillarIndicator {
                indicator: IndicatorCode::parse(indicator)
                    .map_err(|e| corrupt("pillar", &code, e))?,
                weight: *weight,
                direction: word::<Direction>("pillar", &code, direction)?,
            });
        }
        pillars_out.push(Pillar {
            sub_index: word::<SubIndex>("pillar", &code, &sub_index)?,
            code,
            name_vi,
            name_en,
            indicators: members,
        });
    }

    let catalog = Catalog {
        datasets: datasets_out,
        indicators: indicators_out,
        pillars: pillars_out,
    };
    catalog
        .validate()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(catalog)
}

/// Replaces the innovation index framework (pillars and their indicators) in one transaction.
pub fn replace_framework(conn: &mut DbConnection, pillars: &[Pillar]) -> Result<(), StoreError> {
    use diesel::Connection;
    conn.transaction(|conn| {
        diesel::delete(index_pillar_indicators::table).execute(conn)?;
        diesel::delete(index_pillars::table).execute(conn)?;
        for (n, p) in pillars.iter().enumerate() {
            diesel::insert_into(index_pillars::table)
                .values((
                    index_pillars::code.eq(&p.code),
                    index_pillars::sub_index.eq(p.sub_index.as_str()),
                    index_pillars::name_vi.eq(&p.name_vi),
                    index_pillars::name_en.eq(&p.name_en),
                    index_pillars::position.eq(n as i32),
                ))
                .execute(conn)?;
            for (m, i) in p.indicators.iter().enumerate() {
                diesel::insert_into(index_pillar_indicators::table)
                    .values((
                        index_pillar_indicators::pillar_code.eq(&p.code),
                        index_pillar_indicators::indicator_code.eq(i.indicator.as_str()),
                        index_pillar_indicators::weight.eq(i.weight),
                        index_pillar_indicators::direction.eq(i.direction.as_str()),
                        index_pillar_indicators::position.eq(m as i32),
                    ))
                    .execute(conn)?;
            }
        }
        Ok(())
    })
}
