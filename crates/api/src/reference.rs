//! Reference data: provinces, communes, indicators and data sets.

use actix_web::{HttpRequest, HttpResponse, get, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use innoreport_core::{
    Catalog, Dataset, DeadlineRule, Formula, Indicator, LockRule, Period, PeriodType, SpatialRule,
    TemporalRule, ValueType,
};
use innoreport_store::reference::{self, CommuneRow, ProvinceSummary};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::export::{ExportParams, Table};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// A province (tỉnh / thành phố).
#[derive(Debug, Serialize, ToSchema)]
pub struct Province {
    /// GSO 2-digit code.
    #[schema(example = "14")]
    pub code: String,
    /// Official Vietnamese name.
    #[schema(example = "Sơn La")]
    pub name: String,
    /// English name.
    #[schema(example = "Son La Province")]
    pub name_en: String,
    /// `tỉnh` or `thành phố trung ương`.
    pub division_type: String,
    /// Number of communes.
    pub communes: i64,
}

impl From<ProvinceSummary> for Province {
    fn from(s: ProvinceSummary) -> Self {
        Province {
            code: s.province.code,
            name: s.province.name_vi,
            name_en: s.province.name_en,
            division_type: s.province.division_type,
            communes: s.communes,
        }
    }
}

/// A commune (xã / phường / đặc khu).
#[derive(Debug, Serialize, ToSchema)]
pub struct Commune {
    /// GSO 5-digit code.
    #[schema(example = "03808")]
    pub code: String,
    /// Official Vietnamese name.
    #[schema(example = "Xã Mường La")]
    pub name: String,
    #[schema(example = "Muong La Commune")]
    pub name_en: String,
    /// The province's 2-digit code.
    #[schema(example = "14")]
    pub province: String,
    /// `xã`, `phường` or `đặc khu`.
    pub division_type: String,
}

impl From<CommuneRow> for Commune {
    fn from(c: CommuneRow) -> Self {
        Commune {
            code: c.code,
            name: c.name_vi,
            name_en: c.name_en,
            province: c.province_code,
            division_type: c.division_type,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProvinceList {
    pub items: Vec<Province>,
    /// Always null: the 34 provinces come in one page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommuneList {
    pub items: Vec<Commune>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Paging of a list: `limit` (1 to 1000, default 100) and the opaque `cursor` of the
/// previous page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 1000 (default 100).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

impl PageParams {
    /// The limit, checked.
    pub fn limit(&self) -> Result<u32, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(n) => Err(ApiError::bad_field(
                "limit",
                "out_of_range",
                format!("limit {n} is outside 1 to {MAX_LIMIT}"),
            )),
        }
    }

    /// The row id the cursor points after (lists paged by id).
    pub fn after_id(&self, kind: &str) -> Result<Option<i64>, ApiError> {
        self.after(kind)?
            .map(|a| a.parse::<i64>())
            .transpose()
            .map_err(|_| {
                ApiError::bad_field(
                    "cursor",
                    "invalid_cursor",
                    "cursor is not one this list issued",
                )
            })
    }

    /// The key the cursor points after, decoded.
    pub fn after(&self, kind: &str) -> Result<Option<String>, ApiError> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        decode_cursor(kind, cursor).map(Some).ok_or_else(|| {
            ApiError::bad_field(
                "cursor",
                "invalid_cursor",
                "cursor is not one this list issued",
            )
        })
    }
}

/// Cursors are opaque to clients: `kind:key`, base64url-encoded.
pub fn encode_cursor(kind: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{key}"))
}

fn decode_cursor(kind: &str, cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(kind)?
        .strip_prefix(':')
        .map(str::to_owned)
}

fn province_code(code: &str) -> Result<(), ApiError> {
    innoreport_core::ProvinceCode::parse(code)
        .map(|_| ())
        .map_err(|_| ApiError::NotFound(format!("There is no province with code {code:?}.")))
}

/// The 34 provinces.
#[utoipa::path(
    tag = "reference",
    params(ExportParams),
    responses((status = 200, description = "The 34 provinces in code order (JSON, CSV or xlsx)", body = ProvinceList)),
)]
#[get("/provinces")]
pub async fn list_provinces(
    req: HttpRequest,
    state: web::Data<AppState>,
    export: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let rows = state.db(reference::list_provinces).await?;
    let doc = ProvinceList {
        items: rows.into_iter().map(Province::from).collect(),
        next_cursor: None,
    };
    let mut table = Table::new(
        "provinces",
        &[
            ("code", "Mã tỉnh"),
            ("name", "Tên tỉnh"),
            ("name_en", "Tên tiếng Anh"),
            ("division_type", "Loại"),
            ("communes", "Số xã"),
        ],
    );
    for p in &doc.items {
        table.push(vec![
            p.code.as_str().into(),
            p.name.as_str().into(),
            p.name_en.as_str().into(),
            p.division_type.as_str().into(),
            (p.communes as f64).into(),
        ]);
    }
    table.respond(export.format(&req), export.lang.unwrap_or_default(), || {
        HttpResponse::Ok().json(&doc)
    })
}

/// One province.
#[utoipa::path(
    tag = "reference",
    params(("code" = String, Path, description = "GSO 2-digit province code", example = "14")),
    responses(
        (status = 200, description = "The province", body = Province),
        (status = 404, description = "No such province", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/provinces/{code}")]
pub async fn get_province(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<web::Json<Province>, ApiError> {
    let code = code.into_inner();
    province_code(&code)?;
    let c = code.clone();
    state
        .db(move |conn| reference::get_province(conn, &c))
        .await?
        .map(|p| web::Json(p.into()))
        .ok_or_else(|| ApiError::NotFound(format!("There is no province with code {code:?}.")))
}

/// The communes of a province, in code order, paged.
#[utoipa::path(
    tag = "reference",
    params(("code" = String, Path, description = "GSO 2-digit province code", example = "14"), PageParams, ExportParams),
    responses(
        (status = 200, description = "One page of communes", body = CommuneList),
        (status = 400, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such province", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/provinces/{code}/communes")]
pub async fn list_communes(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
    page: web::Query<PageParams>,
    export: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    province_code(&code)?;
    let limit = page.limit()?;
    let after = page.after("commune")?;
    let c = code.clone();
    let (exists, rows) = state
        .db(move |conn| {
            let exists = reference::get_province(conn, &c)?.is_some();
            let rows = reference::list_communes(conn, &c, after.as_deref(), limit as i64 + 1)?;
            Ok((exists, rows))
        })
        .await?;
    if !exists {
        return Err(ApiError::NotFound(format!(
            "There is no province with code {code:?}."
        )));
    }
    let doc = page_of(
        rows,
        limit,
        "commune",
        |c| &c.code,
        Commune::from,
        |items, next_cursor| CommuneList { items, next_cursor },
    );
    let mut table = Table::new(
        &format!("communes_{code}"),
        &[
            ("code", "Mã xã"),
            ("name", "Tên xã"),
            ("name_en", "Tên tiếng Anh"),
            ("province", "Mã tỉnh"),
            ("division_type", "Loại"),
        ],
    );
    for c in &doc.items {
        table.push(vec![
            c.code.as_str().into(),
            c.name.as_str().into(),
            c.name_en.as_str().into(),
            c.province.as_str().into(),
            c.division_type.as_str().into(),
        ]);
    }
    table.respond(export.format(&req), export.lang.unwrap_or_default(), || {
        HttpResponse::Ok().json(&doc)
    })
}

/// Builds a page from `limit + 1` rows: the extra row only says that there is more.
pub fn page_of<R, T, L>(
    mut rows: Vec<R>,
    limit: u32,
    kind: &str,
    key: impl Fn(&R) -> &str,
    map: impl Fn(R) -> T,
    list: impl FnOnce(Vec<T>, Option<String>) -> L,
) -> L {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|r| encode_cursor(kind, key(r)))
    } else {
        None
    };
    list(rows.into_iter().map(map).collect(), next)
}

/// One commune.
#[utoipa::path(
    tag = "reference",
    params(("code" = String, Path, description = "GSO 5-digit commune code", example = "03808")),
    responses(
        (status = 200, description = "The commune", body = Commune),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/communes/{code}")]
pub async fn get_commune(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<web::Json<Commune>, ApiError> {
    let code = code.into_inner();
    let not_found = || ApiError::NotFound(format!("There is no commune with code {code:?}."));
    if innoreport_core::CommuneCode::parse(&code).is_err() {
        return Err(not_found());
    }
    let c = code.clone();
    state
        .db(move |conn| reference::get_commune(conn, &c))
        .await?
        .map(|c| web::Json(c.into()))
        .ok_or_else(not_found)
}

/// Reported (submitted by communes) or derived (computed from others).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    Reported,
    Derived,
}

/// An indicator of the catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorOut {
    #[schema(example = "online_dossier_rate")]
    pub code: String,
    /// Vietnamese name.
    pub name: String,
    pub name_en: String,
    /// Unit, in Vietnamese.
    pub unit: String,
    pub unit_en: String,
    pub kind: IndicatorKind,
    pub value_type: ValueType,
    /// The data set that collects it (reported indicators).
    pub dataset: Option<String>,
    /// How one commune's year is made from its quarters (reported indicators).
    pub temporal: Option<TemporalRule>,
    /// How communes roll up to a province and the nation (reported indicators).
    pub spatial: Option<SpatialRule>,
    /// How it is computed (derived indicators).
    pub formula: Option<Formula>,
    /// The formula as a readable expression (derived indicators).
    pub expression: Option<String>,
    /// A submitted value may not exceed the value of this indicator.
    pub at_most: Option<String>,
}

impl From<&Indicator> for IndicatorOut {
    fn from(i: &Indicator) -> Self {
        IndicatorOut {
            code: i.code.to_string(),
            name: i.name_vi.clone(),
            name_en: i.name_en.clone(),
            unit: i.unit_vi.clone(),
            unit_en: i.unit_en.clone(),
            kind: if i.is_derived() {
                IndicatorKind::Derived
            } else {
                IndicatorKind::Reported
            },
            value_type: i.value_type,
            dataset: i.dataset.as_ref().map(ToString::to_string),
            temporal: i.temporal,
            spatial: i.spatial,
            formula: i.formula.clone(),
            expression: i.formula.as_ref().map(Formula::expression),
            at_most: i.at_most.as_ref().map(ToString::to_string),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorList {
    pub items: Vec<IndicatorOut>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndicatorFilter {
    /// Only the indicators of this data set.
    pub dataset: Option<String>,
}

/// The catalog's indicators, reported and derived, in catalog order.
#[utoipa::path(
    tag = "reference",
    params(IndicatorFilter),
    responses((status = 200, description = "The indicators", body = IndicatorList)),
)]
#[get("/indicators")]
pub async fn list_indicators(
    state: web::Data<AppState>,
    filter: web::Query<IndicatorFilter>,
) -> Result<web::Json<IndicatorList>, ApiError> {
    let catalog = state.catalog().await?;
    let items = catalog
        .indicators
        .iter()
        .filter(|i| match &filter.dataset {
            Some(d) => i.dataset.as_ref().is_some_and(|x| x.as_str() == d),
            None => true,
        })
        .map(IndicatorOut::from)
        .collect();
    Ok(web::Json(IndicatorList {
        items,
        next_cursor: None,
    }))
}

/// One indicator.
#[utoipa::path(
    tag = "reference",
    params(("code" = String, Path, description = "Indicator code", example = "online_dossier_rate")),
    responses(
        (status = 200, description = "The indicator", body = IndicatorOut),
        (status = 404, description = "No such indicator", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/indicators/{code}")]
pub async fn get_indicator(
    state: web::Data<AppState>,
    code: web::Path<String>,
) -> Result<web::Json<IndicatorOut>, ApiError> {
    let catalog = state.catalog().await?;
    catalog
        .indicator(&code)
        .map(|i| web::Json(i.into()))
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "There is no indicator with code {:?}.",
                code.as_str()
            ))
        })
}

/// A rule with its wording in both languages.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleText {
    pub vi: String,
    pub en: String,
}

/// The deadline and lock instants of one period of a data set.
#[derive(Debug, Serialize, ToSchema)]
pub struct Schedule {
    pub period: Period,
    /// Reports received up to this instant (inclusive, to the second) are on time.
    pub deadline: DateTime<Utc>,
    /// After this instant the commune can no longer change its report (null: never by time).
    pub lock: Option<DateTime<Utc>>,
}

/// A data set (biểu mẫu) with its rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetOut {
    #[schema(example = "dmst-quarterly")]
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub period_type: PeriodType,
    pub deadline_rule: DeadlineRule,
    pub deadline_text: RuleText,
    pub lock_rule: LockRule,
    pub lock_text: RuleText,
    pub description: String,
    pub description_en: String,
    /// The reported indicators of the form, in order.
    pub indicators: Vec<String>,
    /// Deadline and lock of the requested `period` (only when one is asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
}

fn dataset_out(catalog: &Catalog, d: &Dataset, period: Option<Period>) -> DatasetOut {
    let (den, dvi) = d.deadline.describe();
    let (len, lvi) = d.lock.describe();
    DatasetOut {
        code: d.code.to_string(),
        name: d.name_vi.clone(),
        name_en: d.name_en.clone(),
        period_type: d.period_type,
        deadline_rule: d.deadline,
        deadline_text: RuleText { vi: dvi, en: den },
        lock_rule: d.lock,
        lock_text: RuleText { vi: lvi, en: len },
        description: d.description_vi.clone(),
        description_en: d.description_en.clone(),
        indicators: catalog
            .indicators_of(d.code.as_str())
            .map(|i| i.code.to_string())
            .collect(),
        schedule: period.map(|p| Schedule {
            period: p,
            deadline: d.deadline(p),
            lock: d.lock(p),
        }),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetList {
    pub items: Vec<DatasetOut>,
    pub next_cursor: Option<String>,
}

/// The data sets with their deadline and lock rules.
#[utoipa::path(
    tag = "reference",
    responses((status = 200, description = "The data sets", body = DatasetList)),
)]
#[get("/datasets")]
pub async fn list_datasets(state: web::Data<AppState>) -> Result<web::Json<DatasetList>, ApiError> {
    let catalog = state.catalog().await?;
    let items = catalog
        .datasets
        .iter()
        .map(|d| dataset_out(&catalog, d, None))
        .collect();
    Ok(web::Json(DatasetList {
        items,
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScheduleQuery {
    /// A period of the data set's type: the answer then carries its deadline and lock instants.
    #[param(example = "2026Q1")]
    pub period: Option<String>,
}

/// One data set; with `period`, the deadline and lock instants of that period.
#[utoipa::path(
    tag = "reference",
    params(("code" = String, Path, description = "Data set code", example = "dmst-quarterly"), ScheduleQuery),
    responses(
        (status = 200, description = "The data set", body = DatasetOut),
        (status = 400, description = "The period is invalid or not of the data set's type", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such data set", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/datasets/{code}")]
pub async fn get_dataset(
    state: web::Data<AppState>,
    code: web::Path<String>,
    query: web::Query<ScheduleQuery>,
) -> Result<HttpResponse, ApiError> {
    let catalog = state.catalog().await?;
    let dataset = catalog.dataset(&code).ok_or_else(|| {
        ApiError::NotFound(format!(
            "There is no data set with code {:?}.",
            code.as_str()
        ))
    })?;
    let period = match &query.period {
        None => None,
        Some(p) => {
            let period = Period::parse(p)
                .map_err(|e| ApiError::bad_field("period", "invalid_period", e.to_string()))?;
            if period.kind() != dataset.period_type {
                return Err(ApiError::bad_field(
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
            Some(period)
        }
    };
    Ok(HttpResponse::Ok().json(dataset_out(&catalog, dataset, period)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_foreign_ones() {
        let c = encode_cursor("commune", "03808");
        assert_eq!(decode_cursor("commune", &c).as_deref(), Some("03808"));
        assert_eq!(decode_cursor("report", &c), None);
        assert_eq!(decode_cursor("commune", "not base64!"), None);
    }

    #[test]
    fn limits_default_to_100_and_stay_within_1_to_1000() {
        let p = |limit| PageParams {
            limit,
            cursor: None,
        };
        assert_eq!(p(None).limit().unwrap(), 100);
        assert_eq!(p(Some(1000)).limit().unwrap(), 1000);
        assert!(p(Some(0)).limit().is_err());
        assert!(p(Some(1001)).limit().is_err());
    }
}
