//! The innovation index over the communes of a province or over the 34 provinces, its
//! framework (editable by an admin) and what-if runs. The method is `innoreport_aggregate::index`.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use innoreport_core::validation::Issue;
use innoreport_core::{
    Catalog, Direction, IndicatorCode, Period, Pillar, PillarIndicator, SubIndex,
};
use innoreport_service::index::{
    IndexLevel, IndexRequest, IndexRun, Override as ServiceOverride, uncertainty_of,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Auth;
use crate::http::export::{Cell, Export, ExportParams, Format, Lang, Ready, respond};
use crate::http::problem::{ApiError, Problem};
use crate::http::query::Query;
use crate::routes::analysis::LevelParam;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PillarScore {
    pub score: Option<f64>,
    pub rank: Option<u32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndexRow {
    pub unit: String,
    pub name: String,
    pub name_en: String,
    /// Share of the framework's indicators with a value (below 2/3: no score).
    pub coverage: f64,
    pub score: Option<f64>,
    pub rank: Option<u32>,
    pub input: Option<f64>,
    pub input_rank: Option<u32>,
    pub output: Option<f64>,
    pub output_rank: Option<u32>,
    /// output ÷ input.
    pub efficiency: Option<f64>,
    pub pillars: BTreeMap<String, PillarScore>,
    /// Points of the score each pillar contributes (they add up to the score).
    pub contributions: BTreeMap<String, f64>,
    /// The 3 indicators with the highest percentile rank among the units.
    pub strengths: Vec<String>,
    /// The 3 indicators with the lowest percentile rank among the units.
    pub weaknesses: Vec<String>,
    pub rank_p5: Option<u32>,
    pub rank_median: Option<u32>,
    pub rank_p95: Option<u32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TreatmentOut {
    pub indicator: String,
    /// `winsorised` or `log`.
    pub treatment: String,
    /// Winsorisation steps (0 for the log transform).
    pub steps: usize,
    /// `high` or `low` end (winsorisation).
    pub end: Option<String>,
    pub skew_before: f64,
    pub kurt_before: f64,
    pub skew_after: f64,
    pub kurt_after: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExcludedOut {
    pub indicator: String,
    /// `constant` (max = min) or `no_values`.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IndexOut {
    pub period: String,
    pub level: LevelParam,
    pub province: Option<String>,
    /// Monte Carlo draws (0 without uncertainty) and the seed.
    pub draws: usize,
    pub seed: u64,
    pub items: Vec<IndexRow>,
    pub treatments: Vec<TreatmentOut>,
    pub excluded: Vec<ExcludedOut>,
}

/// Value overrides of a what-if run.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Commune or province code.
    pub unit: String,
    /// A framework indicator.
    pub indicator: String,
    /// The value to use instead (null: treat as missing).
    pub value: Option<f64>,
}

fn level(l: LevelParam) -> Result<IndexLevel, ApiError> {
    match l {
        LevelParam::Province => Ok(IndexLevel::Province),
        LevelParam::Commune => Ok(IndexLevel::Commune),
        LevelParam::National => Err(ApiError::bad_field(
            "level",
            "invalid_level",
            "the index compares communes or provinces",
        )),
    }
}

/// The index document of a run.
pub(crate) fn index_out(run: IndexRun) -> IndexOut {
    use innoreport_service::index::Treatment;
    IndexOut {
        period: run.period.to_string(),
        level: match run.level {
            IndexLevel::Province => LevelParam::Province,
            IndexLevel::Commune => LevelParam::Commune,
        },
        province: run.province,
        draws: run.draws,
        seed: run.seed,
        items: run
            .units
            .into_iter()
            .map(|u| {
                let s = u.score;
                IndexRow {
                    name: u.name,
                    name_en: u.name_en,
                    coverage: s.coverage,
                    score: s.score,
                    rank: s.rank,
                    input: s.input,
                    input_rank: s.input_rank,
                    output: s.output,
                    output_rank: s.output_rank,
                    efficiency: s.efficiency,
                    pillars: s
                        .pillars
                        .into_iter()
                        .map(|(k, (score, rank))| (k, PillarScore { score, rank }))
                        .collect(),
                    contributions: s.contributions,
                    strengths: s.strengths,
                    weaknesses: s.weaknesses,
                    rank_p5: s.rank_p5,
                    rank_median: s.rank_median,
                    rank_p95: s.rank_p95,
                    unit: s.unit,
                }
            })
            .collect(),
        treatments: run
            .result
            .treatments
            .into_iter()
            .map(|t| {
                let (name, steps, end) = match t.treatment {
                    Treatment::Winsorised { steps, high_end } => (
                        "winsorised",
                        steps,
                        Some(if high_end { "high" } else { "low" }.to_owned()),
                    ),
                    Treatment::Log => ("log", 0, None),
                };
                TreatmentOut {
                    indicator: t.indicator,
                    treatment: name.into(),
                    steps,
                    end,
                    skew_before: t.skew_before,
                    kurt_before: t.kurt_before,
                    skew_after: t.skew_after,
                    kurt_after: t.kurt_after,
                }
            })
            .collect(),
        excluded: run
            .result
            .excluded
            .into_iter()
            .map(|e| ExcludedOut {
                indicator: e.indicator,
                reason: e.reason.into(),
            })
            .collect(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndexQuery {
    #[param(value_type = String, example = "2026")]
    pub period: Period,
    /// `province` (the 34 provinces, default) or `commune` (the communes of `province`).
    pub level: Option<LevelParam>,
    #[param(value_type = Option<String>, example = "14")]
    pub province: Option<innoreport_core::ProvinceCode>,
    /// Monte Carlo rank uncertainty (default true).
    pub uncertainty: Option<bool>,
    /// Draws (default 1000, at most 10000).
    pub draws: Option<usize>,
    /// Seed of the draws (default 20250701).
    pub seed: Option<u64>,
}

fn index_export(doc: &IndexOut, catalog: &Catalog) -> Export {
    let mut cols = crate::http::export::columns(&[
        ("unit", "Mã đơn vị"),
        ("name", "Tên đơn vị"),
        ("coverage", "Độ phủ dữ liệu"),
        ("score", "Điểm chỉ số"),
        ("rank", "Xếp hạng"),
        ("input", "Chỉ số đầu vào"),
        ("output", "Chỉ số đầu ra"),
        ("efficiency", "Hiệu quả (đầu ra/đầu vào)"),
        ("rank_p5", "Hạng P5"),
        ("rank_median", "Hạng trung vị"),
        ("rank_p95", "Hạng P95"),
    ]);
    for p in &catalog.pillars {
        cols.push((p.code.clone(), p.name_vi.clone()));
    }
    let rows = doc
        .items
        .iter()
        .map(|r| {
            let mut row: Vec<Cell> = vec![
                r.unit.as_str().into(),
                r.name.as_str().into(),
                r.coverage.into(),
                r.score.into(),
                r.rank.into(),
                r.input.into(),
                r.output.into(),
                r.efficiency.into(),
                r.rank_p5.into(),
                r.rank_median.into(),
                r.rank_p95.into(),
            ];
            row.extend(
                catalog
                    .pillars
                    .iter()
                    .map(|p| r.pillars.get(&p.code).and_then(|s| s.score).into()),
            );
            row
        })
        .collect();
    Export::new(format!("index_{}", doc.period), cols, Ready::of(rows))
}

async fn compute_index(
    state: &AppState,
    auth: &Auth,
    query: &IndexQuery,
) -> Result<(IndexOut, std::sync::Arc<Catalog>), ApiError> {
    let level = level(query.level.unwrap_or(LevelParam::Province))?;
    let uncertainty = uncertainty_of(query.uncertainty, query.draws, query.seed)?;
    let req = IndexRequest {
        period: query.period,
        level,
        province: query.province.as_ref().map(ToString::to_string),
        uncertainty,
        overrides: Vec::new(),
    };
    let who = auth.0.clone();
    let (run, catalog) = state
        .call(move |s| Ok((s.index(&who, &req)?, s.current_catalog()?)))
        .await?;
    Ok((index_out(run), catalog))
}

/// The innovation index with ranks, pillars, treatments and rank uncertainty.
#[utoipa::path(
    tag = "index",
    security(("bearer" = [])),
    params(IndexQuery, ExportParams),
    responses(
        (status = 200, description = "Scores and ranks (JSON, CSV or xlsx)", body = IndexOut),
        (status = 400, description = "Bad period, level, province or draws", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/index")]
pub async fn get_index(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<IndexQuery>,
    export: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req);
    if format != Format::Json {
        return export_index(state, auth, query, format, export.lang()).await;
    }
    let (doc, _) = compute_index(&state, &auth, &query).await?;
    Ok(HttpResponse::Ok().json(doc))
}

async fn export_index(
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<IndexQuery>,
    format: Format,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let (doc, catalog) = compute_index(&state, &auth, &query).await?;
    respond(
        format,
        lang,
        || index_export(&doc, &catalog),
        || HttpResponse::Ok().finish(),
    )
    .await
}

crate::export_routes! {
    module: get_index_exports,
    tag: "index",
    security: (("bearer" = [])),
    csv: get_index_csv = "/index.csv",
    xlsx: get_index_xlsx = "/index.xlsx",
    params: (IndexQuery,),
    args: (auth: Auth, query: Query<IndexQuery>),
    export: export_index,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatIfRequest {
    #[schema(value_type = String, example = "2026")]
    pub period: Period,
    pub level: Option<LevelParam>,
    pub province: Option<String>,
    pub overrides: Vec<Override>,
    pub uncertainty: Option<bool>,
    pub draws: Option<usize>,
    pub seed: Option<u64>,
}

/// The index computed with some values replaced; nothing is stored.
#[utoipa::path(
    tag = "index",
    security(("bearer" = [])),
    request_body = WhatIfRequest,
    responses(
        (status = 200, description = "Scores and ranks with the overrides", body = IndexOut),
        (status = 400, description = "Bad period, level or province", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown units or indicators in the overrides", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/index/what-if")]
pub async fn what_if(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<WhatIfRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let level = level(body.level.unwrap_or(LevelParam::Province))?;
    let uncertainty = uncertainty_of(body.uncertainty, body.draws, body.seed)?;
    let req = IndexRequest {
        period: body.period,
        level,
        province: body.province,
        uncertainty,
        overrides: body
            .overrides
            .into_iter()
            .map(|o| ServiceOverride {
                unit: o.unit,
                indicator: o.indicator,
                value: o.value,
            })
            .collect(),
    };
    let run = state.call(move |s| s.what_if(&auth.0, &req)).await?;
    Ok(HttpResponse::Ok().json(index_out(run)))
}

/// One indicator of a pillar, with its names.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct FrameworkIndicator {
    pub indicator: String,
    #[serde(default = "one")]
    pub weight: f64,
    #[serde(default = "higher")]
    pub direction: Direction,
    #[serde(default, skip_deserializing)]
    pub name: String,
    #[serde(default, skip_deserializing)]
    pub name_en: String,
}

fn one() -> f64 {
    1.0
}

fn higher() -> Direction {
    Direction::HigherIsBetter
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct FrameworkPillar {
    pub code: String,
    pub sub_index: SubIndex,
    pub name: String,
    pub name_en: String,
    pub indicators: Vec<FrameworkIndicator>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct Framework {
    pub pillars: Vec<FrameworkPillar>,
}

fn framework_out(catalog: &Catalog) -> Framework {
    Framework {
        pillars: catalog
            .pillars
            .iter()
            .map(|p| FrameworkPillar {
                code: p.code.clone(),
                sub_index: p.sub_index,
                name: p.name_vi.clone(),
                name_en: p.name_en.clone(),
                indicators: p
                    .indicators
                    .iter()
                    .map(|i| {
                        let ind = catalog.indicator(i.indicator.as_str());
                        FrameworkIndicator {
                            indicator: i.indicator.to_string(),
                            weight: i.weight,
                            direction: i.direction,
                            name: ind.map(|x| x.name_vi.clone()).unwrap_or_default(),
                            name_en: ind.map(|x| x.name_en.clone()).unwrap_or_default(),
                        }
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The index framework: pillars, their indicators, weights and directions.
#[utoipa::path(tag = "index", security(()), responses((status = 200, description = "The framework", body = Framework)))]
#[get("/index/framework")]
pub async fn get_framework(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let catalog = state.call(|s| s.current_catalog()).await?;
    Ok(HttpResponse::Ok().json(framework_out(&catalog)))
}

/// Replaces the framework (admin). It is checked against the catalog first.
#[utoipa::path(
    tag = "index",
    security(("bearer" = [])),
    request_body = Framework,
    responses(
        (status = 200, description = "The framework now in force", body = Framework),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only an admin edits the framework", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid framework, every problem listed; nothing changed", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/index/framework")]
pub async fn put_framework(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<Framework>,
) -> Result<HttpResponse, ApiError> {
    let mut issues = Vec::new();
    let mut pillars = Vec::new();
    for (n, p) in body.pillars.iter().enumerate() {
        let mut indicators = Vec::new();
        for (m, i) in p.indicators.iter().enumerate() {
            match IndicatorCode::parse(&i.indicator) {
                Ok(code) => indicators.push(PillarIndicator {
                    indicator: code,
                    weight: i.weight,
                    direction: i.direction,
                }),
                Err(e) => issues.push(Issue::new(
                    format!("pillars[{n}].indicators[{m}]"),
                    "invalid_indicator",
                    e.to_string(),
                )),
            }
        }
        pillars.push(Pillar {
            code: p.code.clone(),
            sub_index: p.sub_index,
            name_vi: p.name.clone(),
            name_en: p.name_en.clone(),
            indicators,
        });
    }
    let catalog = state
        .call(move |s| s.replace_framework(&auth.0, pillars, issues))
        .await?;
    Ok(HttpResponse::Ok().json(framework_out(&catalog)))
}
