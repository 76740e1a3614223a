//! Reference data as the use cases need it: the provinces and communes with their names, and
//! the one commune → province source of the product.
//!
//! Read once per process. Reference data changes only when the shipped data is loaded again
//! (`innoreport seed`); a lookup of a code this replica does not know reads the database again,
//! at most once every [`RELOAD_AFTER`], so a replica started before a seed learns new communes
//! without a restart and a stream of unknown codes costs nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use innoreport_aggregate::Units;
use innoreport_core::{Catalog, CommuneCode, Dataset, Period, ProvinceCode};
use innoreport_store::reference;
pub use innoreport_store::reference::{CommuneRow, ProvinceRow, ProvinceSummary};
use innoreport_store::{DbConnection, StoreError};

use crate::ServiceError;
use crate::reports::clip;

/// How soon an unknown code may make a replica read the reference data again.
pub const RELOAD_AFTER: Duration = Duration::from_secs(10);

/// Provinces and communes, as loaded at one moment.
#[derive(Debug)]
pub struct Reference {
    pub provinces: Vec<ProvinceSummary>,
    pub communes: Vec<CommuneRow>,
    /// The communes in code order with their provinces: the rows of every aggregate frame.
    pub units: Arc<Units>,
    commune_index: HashMap<String, usize>,
    province_index: HashMap<String, usize>,
}

impl Reference {
    pub fn new(provinces: Vec<ProvinceSummary>, mut communes: Vec<CommuneRow>) -> Reference {
        communes.sort_by(|a, b| a.code.cmp(&b.code));
        let units = Arc::new(Units::new(
            communes
                .iter()
                .map(|c| (c.code.clone(), c.province_code.clone()))
                .collect(),
        ));
        let commune_index = communes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code.clone(), i))
            .collect();
        let province_index = provinces
            .iter()
            .enumerate()
            .map(|(i, p)| (p.province.code.clone(), i))
            .collect();
        Reference {
            provinces,
            communes,
            units,
            commune_index,
            province_index,
        }
    }

    pub fn commune(&self, code: &str) -> Option<&CommuneRow> {
        self.commune_index.get(code).map(|&i| &self.communes[i])
    }

    pub fn province(&self, code: &str) -> Option<&ProvinceSummary> {
        self.province_index.get(code).map(|&i| &self.provinces[i])
    }

    /// The province of a commune.
    pub fn province_of(&self, commune: &str) -> Option<&str> {
        self.commune(commune).map(|c| c.province_code.as_str())
    }

    /// Vietnamese and English names of a commune, a province or `VN`.
    pub fn names(&self, unit: &str) -> (String, String) {
        if unit == "VN" {
            return ("Việt Nam".into(), "Viet Nam".into());
        }
        if let Some(c) = self.commune(unit) {
            return (c.name_vi.clone(), c.name_en.clone());
        }
        if let Some(p) = self.province(unit) {
            return (p.province.name_vi.clone(), p.province.name_en.clone());
        }
        (String::new(), String::new())
    }

    /// The communes of a province, in code order.
    pub fn communes_of<'a>(&'a self, province: &'a str) -> impl Iterator<Item = &'a CommuneRow> {
        self.communes
            .iter()
            .filter(move |c| c.province_code == province)
    }
}

/// The reference data of this process.
#[derive(Default)]
pub struct ReferenceCache {
    inner: Mutex<Option<(Instant, Arc<Reference>)>>,
}

impl std::fmt::Debug for ReferenceCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReferenceCache")
    }
}

fn load(conn: &mut DbConnection) -> Result<Arc<Reference>, StoreError> {
    Ok(Arc::new(Reference::new(
        reference::list_provinces(conn)?,
        reference::all_communes(conn)?,
    )))
}

impl ReferenceCache {
    /// The reference data, read once.
    pub fn get(&self, conn: &mut DbConnection) -> Result<Arc<Reference>, StoreError> {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, r)) = &*guard {
            return Ok(Arc::clone(r));
        }
        let r = load(conn)?;
        *guard = Some((Instant::now(), Arc::clone(&r)));
        Ok(r)
    }

    /// The reference data, read again when `code` is unknown to it and the last read is older
    /// than [`RELOAD_AFTER`].
    pub fn knowing(
        &self,
        conn: &mut DbConnection,
        known: impl Fn(&Reference) -> bool,
    ) -> Result<Arc<Reference>, StoreError> {
        let current = self.get(conn)?;
        if known(&current) {
            return Ok(current);
        }
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match &*guard {
            Some((at, r)) if at.elapsed() < RELOAD_AFTER => Ok(Arc::clone(r)),
            _ => {
                let r = load(conn)?;
                *guard = Some((Instant::now(), Arc::clone(&r)));
                Ok(r)
            }
        }
    }
}

/// The reads of reference data and of the catalog's data sets: 404 for a code that names
/// nothing (a malformed code names nothing either).
impl crate::Service {
    /// One province.
    pub fn province(&self, code: &str) -> Result<ProvinceSummary, ServiceError> {
        let missing =
            || ServiceError::not_found(format!("There is no province with code {:?}.", clip(code)));
        ProvinceCode::parse(code).map_err(|_| missing())?;
        let reference = self.reference_knowing(Some(code), None)?;
        reference.province(code).cloned().ok_or_else(missing)
    }

    /// One commune.
    pub fn commune(&self, code: &str) -> Result<CommuneRow, ServiceError> {
        let missing =
            || ServiceError::not_found(format!("There is no commune with code {:?}.", clip(code)));
        CommuneCode::parse(code).map_err(|_| missing())?;
        let reference = self.reference_knowing(None, Some(code))?;
        reference.commune(code).cloned().ok_or_else(missing)
    }

    /// The communes of a province in code order, after the code `after`, at most `limit`
    /// (all without a limit).
    pub fn communes(
        &self,
        province: &str,
        after: Option<&str>,
        limit: Option<usize>,
    ) -> Result<Vec<CommuneRow>, ServiceError> {
        self.province(province)?;
        let reference = self.reference_data()?;
        Ok(reference
            .communes_of(province)
            .filter(|c| after.is_none_or(|a| c.code.as_str() > a))
            .take(limit.unwrap_or(usize::MAX))
            .cloned()
            .collect())
    }

    /// A data set of the catalog in force; with a period, that period checked against the data
    /// set's period type (400 naming `period` when it is of another type).
    pub fn dataset(
        &self,
        code: &str,
        period: Option<Period>,
    ) -> Result<(Arc<Catalog>, Dataset, Option<Period>), ServiceError> {
        let catalog = self.current_catalog()?;
        let dataset = catalog.dataset(code).cloned().ok_or_else(|| {
            ServiceError::not_found(format!("There is no data set with code {:?}.", clip(code)))
        })?;
        if let Some(p) = period
            && p.kind() != dataset.period_type
        {
            return Err(ServiceError::bad(
                "period",
                "wrong_period_type",
                format!(
                    "data set {} collects {} periods (e.g. {}), not {p}",
                    dataset.code,
                    dataset.period_type,
                    dataset.period_type.example()
                ),
            ));
        }
        Ok((catalog, dataset, period))
    }
}
