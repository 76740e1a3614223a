//! Rollups, compliance and targets: the HTTP face of `innoreport_service::analysis` and
//! `::targets`. Scope narrowing and every number are the application's; this module parses,
//! names and formats. (About 600 lines because each of the three reads has its DTOs, its export
//! table and its `.csv`/`.xlsx` routes next to it; split, a DTO would sit apart from its export.)

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use innoreport_core::{Period, ProvinceCode};
use innoreport_service::analysis::{
    AggregateQuery as Q, Aggregates, Compliance, ComplianceSummary, Level, NamedCounts,
    TargetActual, UnitValue,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Auth;
use crate::http::conditional::tagged_json;
use crate::http::export::{Cell, Export, ExportParams, ExportRow, Format, Lang, columns, respond};
use crate::http::problem::{ApiError, Problem};
use crate::http::query::Query;
use crate::routes::words;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LevelParam {
    Commune,
    Province,
    National,
}

impl From<LevelParam> for Level {
    fn from(l: LevelParam) -> Level {
        match l {
            LevelParam::Commune => Level::Commune,
            LevelParam::Province => Level::Province,
            LevelParam::National => Level::National,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AggregateQuery {
    /// Indicator code, reported or derived.
    #[param(example = "online_dossier_rate")]
    pub indicator: String,
    /// Any period at least as long as the indicator's data sets' (a month of a quarterly
    /// indicator is refused); a year of a quarterly indicator applies its temporal rule.
    #[param(value_type = String, example = "2026")]
    pub period: Period,
    /// `province` (default), `commune` or `national`.
    pub level: Option<LevelParam>,
    /// Only this province (its communes at commune level); not with `level=national`.
    #[param(value_type = Option<String>, example = "14")]
    pub province: Option<ProvinceCode>,
}

/// One unit's value.
#[derive(Debug, Serialize, ToSchema)]
pub struct AggregateOut {
    /// Commune code, province code, or `VN`.
    pub unit: String,
    pub name: String,
    pub name_en: String,
    pub value: Option<f64>,
    /// Σ numerator (ratios).
    pub numerator: Option<f64>,
    /// Σ denominator (ratios).
    pub denominator: Option<f64>,
    pub communes_reporting: u32,
    pub communes_expected: u32,
}

impl From<UnitValue> for AggregateOut {
    fn from(r: UnitValue) -> Self {
        AggregateOut {
            unit: r.unit,
            name: r.name,
            name_en: r.name_en,
            value: r.value,
            numerator: r.numerator,
            denominator: r.denominator,
            communes_reporting: r.communes_reporting,
            communes_expected: r.communes_expected,
        }
    }
}

impl ExportRow for AggregateOut {
    fn columns() -> Vec<(String, String)> {
        columns(&[
            ("unit", "Mã đơn vị"),
            ("name", "Tên đơn vị"),
            ("name_en", "Tên tiếng Anh"),
            ("value", "Giá trị"),
            ("numerator", "Tử số"),
            ("denominator", "Mẫu số"),
            ("communes_reporting", "Số xã có số liệu"),
            ("communes_expected", "Số xã phải báo cáo"),
        ])
    }

    fn cells(&self) -> Vec<Cell> {
        vec![
            self.unit.as_str().into(),
            self.name.as_str().into(),
            self.name_en.as_str().into(),
            self.value.into(),
            self.numerator.into(),
            self.denominator.into(),
            self.communes_reporting.into(),
            self.communes_expected.into(),
        ]
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AggregateList {
    pub indicator: String,
    pub name: String,
    pub name_en: String,
    pub unit_of_measure: String,
    pub unit_of_measure_en: String,
    pub period: String,
    pub level: LevelParam,
    pub items: Vec<AggregateOut>,
    pub next_cursor: Option<String>,
}

fn aggregate_list(a: Aggregates, level: LevelParam) -> AggregateList {
    AggregateList {
        indicator: a.indicator.code.to_string(),
        name: a.indicator.name_vi.clone(),
        name_en: a.indicator.name_en.clone(),
        unit_of_measure: a.indicator.unit_vi.clone(),
        unit_of_measure_en: a.indicator.unit_en.clone(),
        period: a.period.to_string(),
        level,
        items: a.rows.into_iter().map(AggregateOut::from).collect(),
        next_cursor: None,
    }
}

async fn compute_aggregates(
    state: &AppState,
    auth: &Auth,
    query: &AggregateQuery,
) -> Result<AggregateList, ApiError> {
    let level = query.level.unwrap_or(LevelParam::Province);
    let q = Q {
        indicator: query.indicator.clone(),
        period: query.period,
        level: level.into(),
        province: query.province.as_ref().map(ToString::to_string),
    };
    let who = auth.0.clone();
    let a = state.call(move |s| s.aggregates(&who, &q)).await?;
    Ok(aggregate_list(a, level))
}

/// Rolls an indicator up to communes, provinces or the nation for a period.
#[utoipa::path(
    tag = "analysis",
    security(("bearer" = [])),
    params(AggregateQuery, ExportParams),
    responses(
        (status = 200, description = "One row per unit (JSON, CSV or xlsx)", body = AggregateList),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "Unknown indicator, bad period or level, a period finer than the indicator's data sets", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/aggregates")]
pub async fn aggregates(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<AggregateQuery>,
    export: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req);
    if format != Format::Json {
        return export_aggregates(state, auth, query, format, export.lang()).await;
    }
    let doc = compute_aggregates(&state, &auth, &query).await?;
    Ok(tagged_json(&req, &auth.0, &doc))
}

async fn export_aggregates(
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<AggregateQuery>,
    format: Format,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let doc = compute_aggregates(&state, &auth, &query).await?;
    respond(
        format,
        lang,
        || Export::of(format!("{}_{}", doc.indicator, doc.period), &doc.items),
        || HttpResponse::Ok().finish(),
    )
    .await
}

crate::export_routes! {
    module: aggregates_exports,
    tag: "analysis",
    security: (("bearer" = [])),
    csv: aggregates_csv = "/aggregates.csv",
    xlsx: aggregates_xlsx = "/aggregates.xlsx",
    params: (AggregateQuery,),
    args: (auth: Auth, query: Query<AggregateQuery>),
    export: export_aggregates,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComplianceQuery {
    #[param(example = "dmst-quarterly")]
    pub dataset: String,
    #[param(value_type = String, example = "2026Q1")]
    pub period: Period,
    /// Only this province.
    #[param(value_type = Option<String>, example = "14")]
    pub province: Option<ProvinceCode>,
    /// Evaluate at this instant (RFC 3339; default now): reports received later count as not
    /// received, and the deadline is compared with it.
    pub as_of: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceCounts {
    /// Province code, or `VN`.
    pub unit: String,
    pub name: String,
    pub expected: u32,
    pub received: u32,
    pub on_time: u32,
    pub late: u32,
    pub missing: u32,
    pub pending: u32,
    /// received ÷ expected, at most 1.
    pub reporting_rate: f64,
    /// on_time ÷ expected, at most 1.
    pub on_time_rate: f64,
}

fn counts(c: &NamedCounts) -> ComplianceCounts {
    let s: &ComplianceSummary = &c.counts;
    ComplianceCounts {
        unit: s.unit.clone(),
        name: c.name.clone(),
        expected: s.expected,
        received: s.received,
        on_time: s.on_time,
        late: s.late,
        missing: s.missing,
        pending: s.pending,
        reporting_rate: s.reporting_rate(),
        on_time_rate: s.on_time_rate(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommuneCompliance {
    pub commune: String,
    pub name: String,
    pub province: String,
    /// `on_time`, `late`, `missing` or `pending`.
    pub status: String,
    pub first_received_at: Option<DateTime<Utc>>,
    /// Days (started) past the deadline: at receipt when late, at `as_of` when missing.
    pub days_late: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceOut {
    pub dataset: String,
    pub period: String,
    pub deadline: DateTime<Utc>,
    pub as_of: DateTime<Utc>,
    pub expected: u32,
    pub received: u32,
    pub on_time: u32,
    pub late: u32,
    pub missing: u32,
    pub pending: u32,
    pub reporting_rate: f64,
    pub on_time_rate: f64,
    pub by_province: Vec<ComplianceCounts>,
    pub communes: Vec<CommuneCompliance>,
}

/// A compliance document, and its communes as export rows.
pub(crate) fn compliance_out(c: Compliance) -> (ComplianceOut, Vec<Vec<Cell>>) {
    let rows = c
        .communes
        .iter()
        .map(|r| {
            vec![
                r.commune.as_str().into(),
                r.name.as_str().into(),
                r.province.as_str().into(),
                words::compliance(r.status),
                r.first_received_at.into(),
                r.days_late.into(),
            ]
        })
        .collect();
    let t = &c.total;
    let out = ComplianceOut {
        dataset: c.dataset.clone(),
        period: c.period.to_string(),
        deadline: c.deadline,
        as_of: c.as_of,
        expected: t.expected,
        received: t.received,
        on_time: t.on_time,
        late: t.late,
        missing: t.missing,
        pending: t.pending,
        reporting_rate: t.reporting_rate(),
        on_time_rate: t.on_time_rate(),
        by_province: c.by_province.iter().map(counts).collect(),
        communes: c
            .communes
            .into_iter()
            .map(|r| CommuneCompliance {
                commune: r.commune,
                name: r.name,
                province: r.province,
                status: r.status.as_str().to_owned(),
                first_received_at: r.first_received_at,
                days_late: r.days_late,
            })
            .collect(),
    };
    (out, rows)
}

async fn compute_compliance(
    state: &AppState,
    auth: &Auth,
    query: &ComplianceQuery,
) -> Result<Compliance, ApiError> {
    let who = auth.0.clone();
    let (dataset, period, as_of) = (query.dataset.clone(), query.period, query.as_of);
    let province = query.province.as_ref().map(ToString::to_string);
    state
        .call(move |s| s.compliance(&who, &dataset, period, province.as_deref(), as_of))
        .await
}

/// Deadline compliance per commune (on time, late, missing, pending) with counts and rates.
#[utoipa::path(
    tag = "analysis",
    security(("bearer" = [])),
    params(ComplianceQuery, ExportParams),
    responses(
        (status = 200, description = "Compliance (JSON; CSV and xlsx list the communes)", body = ComplianceOut),
        (status = 400, description = "Unknown data set, bad period", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/compliance")]
pub async fn compliance_report(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<ComplianceQuery>,
    export: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req);
    if format != Format::Json {
        return export_compliance(state, auth, query, format, export.lang()).await;
    }
    let (out, _) = compliance_out(compute_compliance(&state, &auth, &query).await?);
    Ok(HttpResponse::Ok().json(out))
}

async fn export_compliance(
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<ComplianceQuery>,
    format: Format,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let (out, rows) = compliance_out(compute_compliance(&state, &auth, &query).await?);
    respond(
        format,
        lang,
        || {
            Export::new(
                format!("compliance_{}_{}", out.dataset, out.period),
                columns(&[
                    ("commune", "Mã xã"),
                    ("name", "Tên xã"),
                    ("province", "Mã tỉnh"),
                    ("status", "Tình trạng"),
                    ("first_received_at", "Thời điểm nhận lần đầu"),
                    ("days_late", "Số ngày trễ"),
                ]),
                crate::http::export::Ready::of(rows),
            )
        },
        || HttpResponse::Ok().finish(),
    )
    .await
}

crate::export_routes! {
    module: compliance_report_exports,
    tag: "analysis",
    security: (("bearer" = [])),
    csv: compliance_report_csv = "/compliance.csv",
    xlsx: compliance_report_xlsx = "/compliance.xlsx",
    params: (ComplianceQuery,),
    args: (auth: Auth, query: Query<ComplianceQuery>),
    export: export_compliance,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetsBody {
    /// Indicator code → target value (null removes the target).
    #[schema(value_type = BTreeMap<String, Option<f64>>, example = json!({"staff_trained_rate": 50, "initiatives_recognized": 1}))]
    pub values: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TargetOut {
    pub year: i32,
    pub commune: String,
    pub name: String,
    pub province: String,
    pub indicator: String,
    pub target: f64,
    /// The commune's value of the indicator for the year (temporal rule applied).
    pub actual: Option<f64>,
    /// actual ÷ target (null when either is missing or the target is 0).
    pub attainment: Option<f64>,
}

impl From<TargetActual> for TargetOut {
    fn from(t: TargetActual) -> Self {
        TargetOut {
            year: t.year,
            commune: t.commune,
            name: t.name,
            province: t.province,
            indicator: t.indicator,
            target: t.target,
            actual: t.actual,
            attainment: t.attainment,
        }
    }
}

impl ExportRow for TargetOut {
    fn columns() -> Vec<(String, String)> {
        columns(&[
            ("year", "Năm"),
            ("commune", "Mã xã"),
            ("name", "Tên xã"),
            ("province", "Mã tỉnh"),
            ("indicator", "Chỉ tiêu"),
            ("target", "Kế hoạch"),
            ("actual", "Thực hiện"),
            ("attainment", "Tỷ lệ đạt"),
        ])
    }

    fn cells(&self) -> Vec<Cell> {
        vec![
            self.year.into(),
            self.commune.as_str().into(),
            self.name.as_str().into(),
            self.province.as_str().into(),
            self.indicator.as_str().into(),
            self.target.into(),
            self.actual.into(),
            self.attainment.into(),
        ]
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TargetList {
    pub items: Vec<TargetOut>,
    pub next_cursor: Option<String>,
}

/// Sets a commune's targets for a year (province admin).
#[utoipa::path(
    tag = "analysis",
    security(("bearer" = [])),
    request_body = TargetsBody,
    params(("year" = i32, Path, example = 2026), ("commune" = String, Path, example = "03808")),
    responses(
        (status = 200, description = "The commune's targets of the year, with attainment", body = TargetList),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the province admin of this commune", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid targets, every problem listed; nothing stored", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/targets/{year}/{commune}")]
pub async fn put_targets(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(i32, String)>,
    body: web::Json<TargetsBody>,
) -> Result<HttpResponse, ApiError> {
    let (year, commune) = path.into_inner();
    let values = body.into_inner().values;
    let items = state
        .call_write(move |s| s.set_targets(&auth.0, year, &commune, &values))
        .await?;
    Ok(HttpResponse::Ok().json(TargetList {
        items: items.into_iter().map(TargetOut::from).collect(),
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TargetQuery {
    #[param(example = 2026)]
    pub year: i32,
    #[param(value_type = Option<String>, example = "14")]
    pub province: Option<ProvinceCode>,
    #[param(value_type = Option<String>, example = "03808")]
    pub commune: Option<innoreport_core::CommuneCode>,
}

async fn compute_targets(
    state: &AppState,
    auth: &Auth,
    query: &TargetQuery,
) -> Result<Vec<TargetOut>, ApiError> {
    let who = auth.0.clone();
    let year = query.year;
    let province = query.province.as_ref().map(ToString::to_string);
    let commune = query.commune.as_ref().map(ToString::to_string);
    let items = state
        .call(move |s| s.targets(&who, year, province.as_deref(), commune.as_deref()))
        .await?;
    Ok(items.into_iter().map(TargetOut::from).collect())
}

/// Targets of a year with actual values and attainment (actual ÷ target).
#[utoipa::path(
    tag = "analysis",
    security(("bearer" = [])),
    params(TargetQuery, ExportParams),
    responses(
        (status = 200, description = "Targets (JSON, CSV or xlsx)", body = TargetList),
        (status = 400, description = "Bad year or filter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/targets")]
pub async fn get_targets(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<TargetQuery>,
    export: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req);
    if format != Format::Json {
        return export_targets(state, auth, query, format, export.lang()).await;
    }
    let items = compute_targets(&state, &auth, &query).await?;
    Ok(HttpResponse::Ok().json(TargetList {
        items,
        next_cursor: None,
    }))
}

async fn export_targets(
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<TargetQuery>,
    format: Format,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let items = compute_targets(&state, &auth, &query).await?;
    respond(
        format,
        lang,
        || Export::of(format!("targets_{}", query.year), &items),
        || HttpResponse::Ok().finish(),
    )
    .await
}

crate::export_routes! {
    module: get_targets_exports,
    tag: "analysis",
    security: (("bearer" = [])),
    csv: get_targets_csv = "/targets.csv",
    xlsx: get_targets_xlsx = "/targets.xlsx",
    params: (TargetQuery,),
    args: (auth: Auth, query: Query<TargetQuery>),
    export: export_targets,
}
