//! Reference data: provinces, communes, indicators and data sets.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use innoreport_core::{
    Catalog, Dataset, DatasetCode, DeadlineRule, Formula, Indicator, LockRule, Period, PeriodType,
    SpatialRule, TemporalRule, ValueType,
};
use innoreport_service::reference::{CommuneRow, ProvinceSummary};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::export::{Cell, Export, ExportParams, ExportRow, Format, Lang, columns, respond};
use crate::http::pagination::{PageParams, page_of};
use crate::http::problem::{ApiError, Problem};
use crate::http::query::Query;
use crate::state::AppState;

/// A province (tỉnh / thành phố).
#[derive(Debug, Clone, Serialize, ToSchema)]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
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

impl ExportRow for Province {
    fn columns() -> Vec<(String, String)> {
        columns(&[
            ("code", "Mã tỉnh"),
            ("name", "Tên tỉnh"),
            ("name_en", "Tên tiếng Anh"),
            ("division_type", "Loại"),
            ("communes", "Số xã"),
        ])
    }

    fn cells(&self) -> Vec<Cell> {
        vec![
            self.code.as_str().into(),
            self.name.as_str().into(),
            self.name_en.as_str().into(),
            self.division_type.as_str().into(),
            self.communes.into(),
        ]
    }
}

impl ExportRow for Commune {
    fn columns() -> Vec<(String, String)> {
        columns(&[
            ("code", "Mã xã"),
            ("name", "Tên xã"),
            ("name_en", "Tên tiếng Anh"),
            ("province", "Mã tỉnh"),
            ("division_type", "Loại"),
        ])
    }

    fn cells(&self) -> Vec<Cell> {
        vec![
            self.code.as_str().into(),
            self.name.as_str().into(),
            self.name_en.as_str().into(),
            self.province.as_str().into(),
            self.division_type.as_str().into(),
        ]
    }
}

async fn provinces(state: &AppState) -> Result<Vec<Province>, ApiError> {
    let reference = state.call(|s| s.reference_data()).await?;
    Ok(reference
        .provinces
        .iter()
        .cloned()
        .map(Province::from)
        .collect())
}

/// The 34 provinces.
#[utoipa::path(
    tag = "reference",
    security(()),
    params(ExportParams),
    responses((status = 200, description = "The 34 provinces in code order (JSON, CSV or xlsx)", body = ProvinceList)),
)]
#[get("/provinces")]
pub async fn list_provinces(
    req: HttpRequest,
    state: web::Data<AppState>,
    export: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    export_provinces(state, export.format(&req), export.lang()).await
}

async fn export_provinces(
    state: web::Data<AppState>,
    format: Format,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let items = provinces(&state).await?;
    respond(
        format,
        lang,
        || Export::of("provinces", &items),
        || {
            HttpResponse::Ok().json(ProvinceList {
                items: items.to_vec(),
                next_cursor: None,
            })
        },
    )
    .await
}

crate::export_routes! {
    module: list_provinces_exports,
    tag: "reference",
    security: (()),
    csv: list_provinces_csv = "/provinces.csv",
    xlsx: list_provinces_xlsx = "/provinces.xlsx",
    params: (),
    args: (),
    export: export_provinces,
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
    let province = state.call(move |s| s.province(&code)).await?;
    Ok(web::Json(province.into()))
}

/// The communes of a province, in code order, paged.
#[utoipa::path(
    tag = "reference",
    security(()),
    params(("code" = String, Path, description = "GSO 2-digit province code", example = "14"), PageParams, ExportParams),
    responses(
        (status = 200, description = "One page of communes (as CSV or xlsx: every commune)", body = CommuneList),
        (status = 400, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such province", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/provinces/{code}/communes")]
pub async fn list_communes(
    req: HttpRequest,
    state: web::Data<AppState>,
    code: web::Path<String>,
    page: Query<PageParams>,
    export: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req);
    if format != Format::Json {
        return export_communes(state, code, format, export.lang()).await;
    }
    let limit = page.limit()?;
    let after = page.after("commune")?;
    let code = code.into_inner();
    let rows = state
        .call(move |s| s.communes(&code, after.as_deref(), Some(limit as usize + 1)))
        .await?;
    let rows: Vec<Commune> = rows.into_iter().map(Commune::from).collect();
    let (items, next_cursor) = page_of(rows, limit, "commune", |c| c.code.clone());
    Ok(HttpResponse::Ok().json(CommuneList { items, next_cursor }))
}

async fn communes_of(state: &AppState, code: &str) -> Result<Vec<Commune>, ApiError> {
    let code = code.to_owned();
    let rows = state.call(move |s| s.communes(&code, None, None)).await?;
    Ok(rows.into_iter().map(Commune::from).collect())
}

async fn export_communes(
    state: web::Data<AppState>,
    code: web::Path<String>,
    format: Format,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let items = communes_of(&state, &code).await?;
    respond(
        format,
        lang,
        || Export::of(format!("communes_{code}"), &items),
        || HttpResponse::Ok().finish(),
    )
    .await
}

crate::export_routes! {
    module: list_communes_exports,
    tag: "reference",
    security: (()),
    csv: list_communes_csv = "/provinces/{code}/communes.csv",
    xlsx: list_communes_xlsx = "/provinces/{code}/communes.xlsx",
    params: (("code" = String, Path, description = "GSO 2-digit province code", example = "14"),),
    args: (code: web::Path<String>),
    export: export_communes,
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
    let commune = state.call(move |s| s.commune(&code)).await?;
    Ok(web::Json(commune.into()))
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
    #[param(value_type = Option<String>, example = "dmst-quarterly")]
    pub dataset: Option<DatasetCode>,
}

/// The catalog's indicators, reported and derived, in catalog order.
#[utoipa::path(
    tag = "reference",
    security(()),
    params(IndicatorFilter),
    responses((status = 200, description = "The indicators", body = IndicatorList)),
)]
#[get("/indicators")]
pub async fn list_indicators(
    state: web::Data<AppState>,
    filter: Query<IndicatorFilter>,
) -> Result<web::Json<IndicatorList>, ApiError> {
    let catalog = state.call(|s| s.current_catalog()).await?;
    let items = catalog
        .indicators
        .iter()
        .filter(|i| match &filter.dataset {
            Some(d) => i.dataset.as_ref() == Some(d),
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
    security(()),
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
    let catalog = state.call(|s| s.current_catalog()).await?;
    catalog
        .indicator(&code)
        .map(|i| web::Json(i.into()))
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "There is no indicator with code {:?}.",
                innoreport_service::reports::clip(code.as_str())
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
    security(()),
    responses((status = 200, description = "The data sets", body = DatasetList)),
)]
#[get("/datasets")]
pub async fn list_datasets(state: web::Data<AppState>) -> Result<web::Json<DatasetList>, ApiError> {
    let catalog = state.call(|s| s.current_catalog()).await?;
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
    #[param(value_type = Option<String>, example = "2026Q1")]
    pub period: Option<Period>,
}

/// One data set; with `period`, the deadline and lock instants of that period.
#[utoipa::path(
    tag = "reference",
    security(()),
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
    query: Query<ScheduleQuery>,
) -> Result<HttpResponse, ApiError> {
    let (code, period) = (code.into_inner(), query.period);
    let (catalog, dataset, period) = state.call(move |s| s.dataset(&code, period)).await?;
    Ok(HttpResponse::Ok().json(dataset_out(&catalog, &dataset, period)))
}
