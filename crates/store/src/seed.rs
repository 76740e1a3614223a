//! Reference data shipped with the product, loaded into the database.
//!
//! Loading inserts what is missing and never overwrites an existing row: it is idempotent (a
//! restart does not duplicate anything) and keeps catalog edits made through the product.

use std::collections::HashSet;

use diesel::prelude::*;
use innoreport_core::{Catalog, CommuneCode, ProvinceCode};
use serde::Deserialize;

use crate::db::DbConnection;
use crate::schema::{
    communes, datasets, index_pillar_indicators, index_pillars, indicators, provinces,
};
use crate::{StoreError, with_backend};

/// The official units (34 provinces, 3,321 communes); see `seed/SOURCES.md`.
pub const UNITS_CSV: &str = include_str!("../seed/units.csv");
/// The default catalog of data sets, indicators and the innovation index framework.
pub const CATALOG_TOML: &str = include_str!("../seed/catalog.toml");

/// The default catalog, parsed and validated.
pub fn default_catalog() -> Result<Catalog, StoreError> {
    Catalog::from_toml(CATALOG_TOML).map_err(|e| StoreError::Seed(e.to_string()))
}

#[derive(Debug, Deserialize)]
struct UnitRecord {
    level: String,
    code: String,
    province_code: String,
    name_vi: String,
    name_en: String,
    division_type: String,
    codename: String,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = provinces)]
pub(crate) struct NewProvince {
    code: String,
    name_vi: String,
    name_en: String,
    division_type: String,
    codename: String,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = communes)]
pub(crate) struct NewCommune {
    code: String,
    province_code: String,
    name_vi: String,
    name_en: String,
    division_type: String,
    codename: String,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = datasets)]
struct NewDataset {
    code: String,
    name_vi: String,
    name_en: String,
    period_type: String,
    deadline_rule: String,
    lock_rule: String,
    description_vi: String,
    description_en: String,
    position: i32,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = indicators, treat_none_as_default_value = false)]
struct NewIndicator {
    code: String,
    name_vi: String,
    name_en: String,
    unit_vi: String,
    unit_en: String,
    value_type: String,
    dataset_code: Option<String>,
    temporal_rule: Option<String>,
    spatial_rule: Option<String>,
    formula: Option<String>,
    at_most: Option<String>,
    position: i32,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = index_pillars)]
struct NewPillar {
    code: String,
    sub_index: String,
    name_vi: String,
    name_en: String,
    position: i32,
}

#[derive(Insertable, Clone)]
#[diesel(table_name = index_pillar_indicators)]
struct NewPillarIndicator {
    pillar_code: String,
    indicator_code: String,
    weight: f64,
    direction: String,
    position: i32,
}

/// How many rows one seeding added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub provinces: usize,
    pub communes: usize,
    pub datasets: usize,
    pub indicators: usize,
    pub pillars: usize,
}

impl SeedReport {
    pub fn total(&self) -> usize {
        self.provinces + self.communes + self.datasets + self.indicators + self.pillars
    }
}

/// Parses the shipped units, checking every code; a broken file is a build defect.
fn units() -> Result<(Vec<NewProvince>, Vec<NewCommune>), StoreError> {
    let mut provinces = Vec::new();
    let mut communes = Vec::new();
    let mut reader = csv::Reader::from_reader(UNITS_CSV.as_bytes());
    for (i, row) in reader.deserialize::<UnitRecord>().enumerate() {
        let r = row.map_err(|e| StoreError::Seed(format!("units.csv row {}: {e}", i + 2)))?;
        let bad = |e: innoreport_core::CodeError| {
            StoreError::Seed(format!("units.csv row {}: {e}", i + 2))
        };
        ProvinceCode::parse(&r.province_code).map_err(bad)?;
        match r.level.as_str() {
            "province" => provinces.push(NewProvince {
                code: r.code,
                name_vi: r.name_vi,
                name_en: r.name_en,
                division_type: r.division_type,
                codename: r.codename,
            }),
            "commune" => {
                CommuneCode::parse(&r.code).map_err(bad)?;
                communes.push(NewCommune {
                    code: r.code,
                    province_code: r.province_code,
                    name_vi: r.name_vi,
                    name_en: r.name_en,
                    division_type: r.division_type,
                    codename: r.codename,
                })
            }
            other => {
                return Err(StoreError::Seed(format!(
                    "units.csv row {}: unknown level {other}",
                    i + 2
                )));
            }
        }
    }
    Ok((provinces, communes))
}

/// Inserts `rows` in chunks (the multi-connection has no batch insert, so this runs on the
/// inner connection).
macro_rules! insert_chunks {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let mut n = 0;
        for chunk in $rows.chunks(200) {
            n += with_backend!($conn, c => diesel::insert_into($table).values(chunk).execute(c))?;
        }
        Ok::<usize, StoreError>(n)
    }};
}

/// Loads the shipped units and the default catalog, adding only what is missing.
pub fn seed(conn: &mut DbConnection) -> Result<SeedReport, StoreError> {
    let (all_provinces, all_communes) = units()?;
    let catalog = default_catalog()?;
    // Two replicas starting together may race on the same rows; the loser retries once and
    // then finds nothing missing.
    match seed_once(conn, &all_provinces, &all_communes, &catalog) {
        Err(StoreError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) => seed_once(conn, &all_provinces, &all_communes, &catalog),
        other => other,
    }
}

fn seed_once(
    conn: &mut DbConnection,
    all_provinces: &[NewProvince],
    all_communes: &[NewCommune],
    catalog: &Catalog,
) -> Result<SeedReport, StoreError> {
    conn.transaction(|conn| {
        let mut report = SeedReport::default();

        let have: HashSet<String> = provinces::table
            .select(provinces::code)
            .load(conn)?
            .into_iter()
            .collect();
        let missing: Vec<NewProvince> = all_provinces
            .iter()
            .filter(|p| !have.contains(&p.code))
            .cloned()
            .collect();
        report.provinces = insert_chunks!(conn, provinces::table, missing)?;

        let have: HashSet<String> = communes::table
            .select(communes::code)
            .load(conn)?
            .into_iter()
            .collect();
        let missing: Vec<NewCommune> = all_communes
            .iter()
            .filter(|c| !have.contains(&c.code))
            .cloned()
            .collect();
        report.communes = insert_chunks!(conn, communes::table, missing)?;

        let have: HashSet<String> = datasets::table
            .select(datasets::code)
            .load(conn)?
            .into_iter()
            .collect();
        let next = datasets::table.count().get_result::<i64>(conn)? as i32;
        let missing: Vec<NewDataset> = catalog
            .datasets
            .iter()
            .filter(|d| !have.contains(d.code.as_str()))
            .enumerate()
            .map(|(i, d)| NewDataset {
                code: d.code.to_string(),
                name_vi: d.name_vi.clone(),
                name_en: d.name_en.clone(),
                period_type: d.period_type.as_str().to_owned(),
                deadline_rule: serde_json::to_string(&d.deadline).expect("rules serialise"),
                lock_rule: serde_json::to_string(&d.lock).expect("rules serialise"),
                description_vi: d.description_vi.clone(),
                description_en: d.description_en.clone(),
                position: next + i as i32,
            })
            .collect();
        report.datasets = insert_chunks!(conn, datasets::table, missing)?;

        let have: HashSet<String> = indicators::table
            .select(indicators::code)
            .load(conn)?
            .into_iter()
            .collect();
        let next = indicators::table.count().get_result::<i64>(conn)? as i32;
        let missing: Vec<NewIndicator> = catalog
            .indicators
            .iter()
            .filter(|i| !have.contains(i.code.as_str()))
            .enumerate()
            .map(|(n, i)| NewIndicator {
                code: i.code.to_string(),
                name_vi: i.name_vi.clone(),
                name_en: i.name_en.clone(),
                unit_vi: i.unit_vi.clone(),
                unit_en: i.unit_en.clone(),
                value_type: i.value_type.as_str().to_owned(),
                dataset_code: i.dataset.as_ref().map(ToString::to_string),
                temporal_rule: i.temporal.map(|t| t.as_str().to_owned()),
                spatial_rule: i.spatial.map(|s| s.as_str().to_owned()),
                formula: i
                    .formula
                    .as_ref()
                    .map(|f| serde_json::to_string(f).expect("formulas serialise")),
                at_most: i.at_most.as_ref().map(ToString::to_string),
                position: next + n as i32,
            })
            .collect();
        report.indicators = insert_chunks!(conn, indicators::table, missing)?;

        // A pillar is seeded whole, with its indicators, only when it is missing.
        let have: HashSet<String> = index_pillars::table
            .select(index_pillars::code)
            .load(conn)?
            .into_iter()
            .collect();
        let next = index_pillars::table.count().get_result::<i64>(conn)? as i32;
        let missing: Vec<_> = catalog
            .pillars
            .iter()
            .filter(|p| !have.contains(&p.code))
            .collect();
        let pillars: Vec<NewPillar> = missing
            .iter()
            .enumerate()
            .map(|(n, p)| NewPillar {
                code: p.code.clone(),
                sub_index: p.sub_index.as_str().to_owned(),
                name_vi: p.name_vi.clone(),
                name_en: p.name_en.clone(),
                position: next + n as i32,
            })
            .collect();
        let members: Vec<NewPillarIndicator> = missing
            .iter()
            .flat_map(|p| {
                p.indicators
                    .iter()
                    .enumerate()
                    .map(|(n, pi)| NewPillarIndicator {
                        pillar_code: p.code.clone(),
                        indicator_code: pi.indicator.to_string(),
                        weight: pi.weight,
                        direction: pi.direction.as_str().to_owned(),
                        position: n as i32,
                    })
            })
            .collect();
        report.pillars = insert_chunks!(conn, index_pillars::table, pillars)?;
        insert_chunks!(conn, index_pillar_indicators::table, members)?;
        Ok(report)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_units_are_the_34_provinces_and_3321_communes() {
        let (provinces, communes) = units().unwrap();
        assert_eq!(provinces.len(), 34);
        assert_eq!(communes.len(), 3321);
        let codes: HashSet<&str> = communes.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes.len(), 3321, "commune codes are unique");
        let province_codes: HashSet<&str> = provinces.iter().map(|p| p.code.as_str()).collect();
        assert!(
            communes
                .iter()
                .all(|c| province_codes.contains(c.province_code.as_str()))
        );
        let muong_la = communes.iter().find(|c| c.code == "03808").unwrap();
        assert_eq!(
            (muong_la.province_code.as_str(), muong_la.name_vi.as_str()),
            ("14", "Xã Mường La")
        );
        assert_eq!(muong_la.name_en, "Muong La Commune");
    }

    #[test]
    fn the_default_catalog_is_valid_and_complete() {
        let c = default_catalog().unwrap();
        assert_eq!(c.datasets.len(), 2);
        assert_eq!(c.indicators.iter().filter(|i| !i.is_derived()).count(), 21);
        assert_eq!(c.indicators.iter().filter(|i| i.is_derived()).count(), 14);
        assert_eq!(c.pillars.len(), 5);
        assert_eq!(
            c.pillars.iter().map(|p| p.indicators.len()).sum::<usize>(),
            13
        );
        assert!(
            c.indicators
                .iter()
                .all(|i| !i.name_vi.is_empty() && !i.name_en.is_empty())
        );
    }
}
