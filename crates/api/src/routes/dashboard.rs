//! `GET /provinces/{code}/dashboard`: everything a province dashboard shows, in one document
//! (see `innoreport_service::dashboard`).

use actix_web::{HttpRequest, HttpResponse, get, web};
use innoreport_core::Period;
use innoreport_service::dashboard::{self as d};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Auth;
use crate::http::export::{Cell, Export, ExportParams, ExportRow, Format, Lang, columns, respond};
use crate::http::problem::{ApiError, Problem};
use crate::http::query::Query;
use crate::routes::analysis::{ComplianceOut, compliance_out};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Headline {
    pub indicator: String,
    pub name: String,
    pub name_en: String,
    pub unit: String,
    /// The province's value (the headline lists only indicators that have a value for this kind
    /// of period: an annual indicator is not a headline of a quarter).
    pub value: Option<f64>,
    pub previous_period: Option<String>,
    pub previous: Option<f64>,
    /// value − previous.
    pub change: Option<f64>,
    pub communes_reporting: u32,
    pub communes_expected: u32,
    /// Year periods: Σ actual ÷ Σ target over the communes that have both a target and an actual
    /// value (a missing actual is not 0).
    pub target_attainment: Option<f64>,
    /// The period of the headline's value (for the export).
    #[serde(skip)]
    pub period: String,
}

impl ExportRow for Headline {
    fn columns() -> Vec<(String, String)> {
        columns(&[
            ("indicator", "Mã chỉ tiêu"),
            ("name", "Chỉ tiêu"),
            ("unit", "Đơn vị"),
            ("period", "Kỳ báo cáo"),
            ("value", "Giá trị"),
            ("previous_period", "Kỳ trước"),
            ("previous", "Giá trị kỳ trước"),
            ("change", "Thay đổi"),
            ("target_attainment", "Tỷ lệ đạt kế hoạch"),
            ("communes_reporting", "Số xã có số liệu"),
            ("communes_expected", "Số xã phải báo cáo"),
        ])
    }

    fn cells(&self) -> Vec<Cell> {
        vec![
            self.indicator.as_str().into(),
            self.name.as_str().into(),
            self.unit.as_str().into(),
            self.period.as_str().into(),
            self.value.into(),
            self.previous_period.clone().into(),
            self.previous.into(),
            self.change.into(),
            self.target_attainment.into(),
            self.communes_reporting.into(),
            self.communes_expected.into(),
        ]
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RankedCommune {
    pub commune: String,
    pub name: String,
    pub value: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommuneIndexRank {
    pub commune: String,
    pub name: String,
    pub score: Option<f64>,
    pub rank: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    pub province: String,
    pub name: String,
    pub name_en: String,
    pub period: String,
    pub headline: Vec<Headline>,
    /// Compliance of each data set collecting this kind of period, as of now.
    pub compliance: Vec<ComplianceOut>,
    /// The indicator ranking communes.
    pub rank_by: String,
    /// Best five communes, ties by commune code ascending (empty for commune officers).
    pub top_communes: Vec<RankedCommune>,
    /// Worst five communes, lowest first, ties by commune code ascending (empty for commune
    /// officers).
    pub bottom_communes: Vec<RankedCommune>,
    /// How many communes, listed or not, share the value of the last top commune listed.
    pub top_boundary_ties: u32,
    /// How many communes, listed or not, share the value of the last bottom commune listed.
    pub bottom_boundary_ties: u32,
    /// The province's innovation index score and rank among the provinces (null below coverage).
    pub index_score: Option<f64>,
    pub index_rank: Option<u32>,
    /// Provinces with a score.
    pub provinces_ranked: usize,
    /// The communes' index scores and ranks within the province (empty for commune officers).
    pub commune_index: Vec<CommuneIndexRank>,
    /// How far the communes got with the tasks of their plans (null when no commune has a plan
    /// for the period's year): totals of `GET /api/v1/plans/progress` at this instant.
    pub plan_completion: Option<PlanCompletion>,
}

/// The plan tasks of a province's communes, in all.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanCompletion {
    /// Communes with a plan for the period's year.
    pub communes_with_plan: usize,
    #[serde(flatten)]
    pub counts: crate::routes::plan_views::CountsOut,
}

fn ranked(r: d::RankedCommune) -> RankedCommune {
    RankedCommune {
        commune: r.commune,
        name: r.name,
        value: r.value,
    }
}

fn dashboard_out(x: d::Dashboard) -> Dashboard {
    let period = x.period.to_string();
    Dashboard {
        province: x.province,
        name: x.name,
        name_en: x.name_en,
        headline: x
            .headline
            .into_iter()
            .map(|h| Headline {
                indicator: h.indicator,
                name: h.name,
                name_en: h.name_en,
                unit: h.unit,
                value: h.value,
                previous_period: h.previous_period.map(|p| p.to_string()),
                previous: h.previous,
                change: h.change,
                communes_reporting: h.communes_reporting,
                communes_expected: h.communes_expected,
                target_attainment: h.target_attainment,
                period: period.clone(),
            })
            .collect(),
        period,
        compliance: x
            .compliance
            .into_iter()
            .map(|c| compliance_out(c).0)
            .collect(),
        rank_by: x.rank_by,
        top_communes: x.top_communes.into_iter().map(ranked).collect(),
        bottom_communes: x.bottom_communes.into_iter().map(ranked).collect(),
        top_boundary_ties: x.top_boundary_ties,
        bottom_boundary_ties: x.bottom_boundary_ties,
        index_score: x.index_score,
        index_rank: x.index_rank,
        provinces_ranked: x.provinces_ranked,
        commune_index: x
            .commune_index
            .into_iter()
            .map(|c| CommuneIndexRank {
                commune: c.commune,
                name: c.name,
                score: c.score,
                rank: c.rank,
            })
            .collect(),
        plan_completion: x.plan_completion.map(|(counts, n)| PlanCompletion {
            communes_with_plan: n,
            counts: counts.into(),
        }),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    #[param(value_type = String, example = "2026")]
    pub period: Period,
    /// Indicator ranking the communes (default `online_dossier_rate`).
    pub rank_by: Option<String>,
}

async fn compute(
    state: &AppState,
    auth: &Auth,
    code: String,
    query: &DashboardQuery,
) -> Result<Dashboard, ApiError> {
    let who = auth.0.clone();
    let (period, rank_by) = (query.period, query.rank_by.clone());
    let x = state
        .call(move |s| s.dashboard(&who, &code, period, rank_by.as_deref()))
        .await?;
    Ok(dashboard_out(x))
}

/// Everything a province dashboard shows, in one document.
#[utoipa::path(
    tag = "analysis",
    security(("bearer" = [])),
    params(("code" = String, Path, example = "14"), DashboardQuery, ExportParams),
    responses(
        (status = 200, description = "The dashboard (as CSV or xlsx: its headline indicators)", body = Dashboard),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 400, description = "Bad period or indicator", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such province", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/provinces/{code}/dashboard")]
pub async fn dashboard(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    code: web::Path<String>,
    query: Query<DashboardQuery>,
    export: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req);
    if format != Format::Json {
        return export_dashboard(state, auth, code, query, format, export.lang()).await;
    }
    let doc = compute(&state, &auth, code.into_inner(), &query).await?;
    Ok(crate::http::conditional::tagged_json(&req, &auth.0, &doc))
}

async fn export_dashboard(
    state: web::Data<AppState>,
    auth: Auth,
    code: web::Path<String>,
    query: Query<DashboardQuery>,
    format: Format,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let doc = compute(&state, &auth, code.into_inner(), &query).await?;
    respond(
        format,
        lang,
        || {
            Export::of(
                format!("dashboard_{}_{}", doc.province, doc.period),
                &doc.headline,
            )
        },
        || HttpResponse::Ok().finish(),
    )
    .await
}

crate::export_routes! {
    module: dashboard_exports,
    tag: "analysis",
    security: (("bearer" = [])),
    csv: dashboard_csv = "/provinces/{code}/dashboard.csv",
    xlsx: dashboard_xlsx = "/provinces/{code}/dashboard.xlsx",
    params: (("code" = String, Path, example = "14"), DashboardQuery,),
    args: (auth: Auth, code: web::Path<String>, query: Query<DashboardQuery>),
    export: export_dashboard,
}
