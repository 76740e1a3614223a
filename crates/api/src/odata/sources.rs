//! Where the feed's rows come from, chunk by chunk so a page resumes where the last one ended:
//! the `/analytics` table (a chunk per indicator and period, computed by the application in
//! the caller's scope), reports (pages of the caller's report list), communes and indicators.

use innoreport_core::{Period, Principal};
use innoreport_service::analytics::{self as a, AnalyticsQuery, Plan};
use innoreport_service::review::{ReportFilter, ReportQuery};
use innoreport_service::{Service, View};

use super::model::{EntitySet, Source};
use super::query::{Expr, Lit, Row};
use crate::http::problem::ApiError;

/// Rows in a stable order, a chunk at a time.
pub trait Chunks {
    /// The rows of the chunk at `at` (`None`: the first) and the position of the next chunk
    /// (`None`: this was the last).
    fn chunk(&mut self, at: Option<&str>) -> Result<(Vec<Row>, Option<String>), ApiError>;
}

/// The periods a value set computes when neither `$filter` nor `period=` names them.
pub const DEFAULT_PERIODS: &str = "LAST_8_QUARTERS,THIS_QUARTER,LAST_5_YEARS,THIS_YEAR";

/// The custom options of value sets (`period=`, `indicator=`, `province=`).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub period: Option<String>,
    pub indicator: Option<String>,
    pub province: Option<String>,
}

fn s(x: impl Into<String>) -> Lit {
    Lit::Str(x.into())
}

fn opt(x: Option<f64>) -> Lit {
    x.map_or(Lit::Null, Lit::Num)
}

/// The rows of `set` for `who`, computing only what `filter` may accept. A value set spends
/// the caller's computation budget when `pay` (a first page, a count, a sort: the requests
/// that compute the whole table).
pub fn open(
    service: &Service,
    who: &Principal,
    set: &EntitySet,
    filter: Option<&Expr>,
    options: &Options,
    pay: bool,
) -> Result<Box<dyn Chunks>, ApiError> {
    let ty = set.entity_type;
    let allowed = |prop: &str| filter.and_then(|f| ty.index(prop).and_then(|i| f.allowed(i)));
    Ok(match set.source {
        Source::Values(level) => {
            let catalog = service.current_catalog()?;
            let periods = match allowed("period") {
                // Only real periods can match; a filter naming none matches nothing.
                Some(list) => Some(
                    list.iter()
                        .filter(|p| Period::parse(p).is_ok())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                None => Some(
                    options
                        .period
                        .clone()
                        .unwrap_or_else(|| DEFAULT_PERIODS.to_owned()),
                ),
            };
            let indicators = match allowed("indicator") {
                Some(list) => Some(
                    list.iter()
                        .filter(|i| catalog.indicator(i).is_some())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                None => options.indicator.clone(),
            };
            let province = match allowed("province") {
                Some(list) if list.len() == 1 => Some(list[0].clone()),
                _ => options.province.clone(),
            };
            if periods.as_deref() == Some("") || indicators.as_deref() == Some("") {
                return Ok(Box::new(Nothing));
            }
            let q = AnalyticsQuery {
                indicators,
                periods: periods.unwrap_or_default(),
                level,
                province,
                units: None,
            };
            let (view, plan) = if pay {
                service.analytics(who, &q)?
            } else {
                service.analytics_unpaid(who, &q)?
            };
            Box::new(Values { view, plan })
        }
        Source::Reports => {
            let one = |prop: &str| match allowed(prop) {
                Some(list) if list.len() == 1 => Some(list[0].clone()),
                _ => None,
            };
            let q = ReportQuery {
                dataset: one("dataset"),
                period: one("period").and_then(|p| Period::parse(&p).ok()),
                province: one("province"),
                commune: one("commune"),
                status: one("status").and_then(|s| s.parse().ok()),
            };
            let filter = service.report_filter(who, &q)?;
            Box::new(Reports {
                service: service.clone(),
                filter,
            })
        }
        Source::Communes => {
            let reference = service.reference_data()?;
            let rows = reference
                .communes
                .iter()
                .map(|c| {
                    vec![
                        s(&c.code),
                        s(&c.name_vi),
                        s(&c.name_en),
                        s(&c.division_type),
                        s(&c.province_code),
                        s(reference.names(&c.province_code).0),
                    ]
                })
                .collect();
            Box::new(Once(Some(rows)))
        }
        Source::Indicators => {
            let catalog = service.current_catalog()?;
            let rows = catalog
                .indicators
                .iter()
                .map(|i| {
                    vec![
                        s(i.code.as_str()),
                        s(&i.name_vi),
                        s(&i.name_en),
                        s(&i.unit_vi),
                        s(&i.unit_en),
                        s(i.value_type.as_str()),
                        i.dataset.as_ref().map_or(Lit::Null, |d| s(d.as_str())),
                        Lit::Bool(i.is_derived()),
                    ]
                })
                .collect();
            Box::new(Once(Some(rows)))
        }
    })
}

struct Nothing;

impl Chunks for Nothing {
    fn chunk(&mut self, _: Option<&str>) -> Result<(Vec<Row>, Option<String>), ApiError> {
        Ok((Vec::new(), None))
    }
}

struct Once(Option<Vec<Row>>);

impl Chunks for Once {
    fn chunk(&mut self, _: Option<&str>) -> Result<(Vec<Row>, Option<String>), ApiError> {
        Ok((self.0.take().unwrap_or_default(), None))
    }
}

fn bad_position() -> ApiError {
    ApiError::bad_parameter("$skiptoken", "the $skiptoken is not one this service wrote")
}

/// The `/analytics` table: a chunk per cell (indicator and period).
struct Values {
    view: View,
    plan: Plan,
}

impl Chunks for Values {
    fn chunk(&mut self, at: Option<&str>) -> Result<(Vec<Row>, Option<String>), ApiError> {
        let cell: usize = match at {
            None => 0,
            Some(t) => t.parse().map_err(|_| bad_position())?,
        };
        if cell >= self.plan.cells.len() {
            return Ok((Vec::new(), None));
        }
        let rows = a::cell_rows(&self.view, &self.plan, cell)?
            .into_iter()
            .map(|r| {
                let province = match self.plan.level {
                    innoreport_service::analysis::Level::Commune => self
                        .view
                        .reference
                        .province_of(&r.unit.unit)
                        .map_or(Lit::Null, s),
                    innoreport_service::analysis::Level::Province => s(&r.unit.unit),
                    innoreport_service::analysis::Level::National => Lit::Null,
                };
                vec![
                    s(r.indicator),
                    s(r.period.to_string()),
                    s(r.period.kind().as_str()),
                    Lit::Num(r.period.year() as f64),
                    s(r.unit.unit),
                    s(r.unit.name),
                    s(r.unit.name_en),
                    province,
                    opt(r.unit.value),
                    opt(r.unit.numerator),
                    opt(r.unit.denominator),
                    Lit::Num(r.unit.communes_reporting as f64),
                    Lit::Num(r.unit.communes_expected as f64),
                ]
            })
            .collect();
        let next = (cell + 1 < self.plan.cells.len()).then(|| (cell + 1).to_string());
        Ok((rows, next))
    }
}

/// Rows of reports read per chunk.
const REPORT_CHUNK: i64 = 1000;

/// The caller's reports, in the order they were first received (a chunk starts after an id).
struct Reports {
    service: Service,
    filter: ReportFilter,
}

impl Chunks for Reports {
    fn chunk(&mut self, at: Option<&str>) -> Result<(Vec<Row>, Option<String>), ApiError> {
        let after: Option<i64> = match at {
            None => None,
            Some(t) => Some(t.parse().map_err(|_| bad_position())?),
        };
        let page = self
            .service
            .reports_page(&self.filter, after, REPORT_CHUNK)?;
        let next = (page.len() as i64 == REPORT_CHUNK)
            .then(|| page.last().map(|r| r.report.id.to_string()))
            .flatten();
        let rows = page
            .into_iter()
            .map(|n| {
                let r = n.report;
                vec![
                    s(r.dataset),
                    s(r.period),
                    s(r.commune),
                    s(r.province),
                    Lit::Num(r.revision as f64),
                    s(r.status.as_str()),
                    Lit::Bool(r.reopened),
                    Lit::Bool(n.facts.locked.is_some()),
                    s(n.facts.timeliness.as_str()),
                    Lit::Time(n.facts.deadline),
                    Lit::Time(r.first_received_at),
                    Lit::Time(r.received_at),
                ]
            })
            .collect();
        Ok((rows, next))
    }
}
