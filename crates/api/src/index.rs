//! The innovation index over the communes of a province or over the 34 provinces, its
//! framework (editable by an admin) and what-if runs. The method is `innoreport_aggregate::index`.

use std::collections::{BTreeMap, HashMap};

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use innoreport_aggregate::index::{IndexResult, Treatment, Uncertainty, compute_index};
use innoreport_aggregate::rollup::{Level, UnitInfo, units_frame};
use innoreport_core::{
    Action, Catalog, Direction, IndicatorCode, Period, Pillar, PillarIndicator, SubIndex, Target,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::analysis::LevelParam;
use crate::auth::Auth;
use crate::export::{ExportParams, Table};
use crate::live::Snapshot;
use crate::problem::{ApiError, FieldError, Problem};
use crate::state::AppState;

pub const DEFAULT_DRAWS: usize = 1000;
pub const MAX_DRAWS: usize = 10_000;
pub const DEFAULT_SEED: u64 = 20_250_701;

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

/// What to compute.
pub(crate) struct Request {
    pub period: Period,
    pub level: LevelParam,
    pub province: Option<String>,
    pub uncertainty: Option<Uncertainty>,
    pub overrides: Vec<Override>,
}

fn bad(field: &str, code: &str, message: String) -> ApiError {
    ApiError::bad_field(field, code, message)
}

/// Who may see an index: the provinces' index is public to every signed-in role (it holds
/// province totals only); a commune index needs read access to every commune of the province.
fn authorize(auth: &Auth, level: LevelParam, province: Option<&str>) -> Result<(), ApiError> {
    match level {
        LevelParam::Province => Ok(()),
        LevelParam::Commune => {
            let p = province.ok_or_else(|| {
                bad(
                    "province",
                    "required",
                    "a commune index needs a province".into(),
                )
            })?;
            if auth.0.role == innoreport_core::Role::CommuneOfficer {
                return Err(ApiError::Forbidden(
                    "a commune index shows other communes' values".into(),
                ));
            }
            auth.require(Action::Read, Target::Province(p))
        }
        LevelParam::National => Err(bad(
            "level",
            "invalid_level",
            "the index compares communes or provinces".into(),
        )),
    }
}

/// Computes the index for a request over a snapshot; without overrides, once per view version
/// and framework.
pub(crate) async fn run(
    state: &AppState,
    snapshot: &Snapshot,
    catalog: &Catalog,
    req: Request,
) -> Result<IndexOut, ApiError> {
    let scope = match req.level {
        LevelParam::Commune => req.province.clone().unwrap_or_default(),
        _ => "VN".to_owned(),
    };
    let rollups = crate::analysis::Rollups::new(state, snapshot, format!("{scope}|*"));
    if !req.overrides.is_empty() {
        return index_of(snapshot, catalog, req, rollups).await;
    }
    let framework = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        format!("{:?}", catalog.pillars).hash(&mut h);
        h.finish()
    };
    let key = format!(
        "index|{framework:016x}|{}|{:?}|{scope}|{:?}",
        req.period, req.level, req.uncertainty
    );
    if let Some(hit) = state.results.get::<IndexOut>(snapshot.version, &key) {
        return Ok(hit.as_ref().clone());
    }
    let out = index_of(snapshot, catalog, req, rollups).await?;
    let rows = out.items.len() * 20;
    state.results.put(
        snapshot.version,
        key,
        std::sync::Arc::new(out.clone()),
        rows,
    );
    Ok(out)
}

async fn index_of(
    snapshot: &Snapshot,
    catalog: &Catalog,
    req: Request,
    rollups: crate::analysis::Rollups,
) -> Result<IndexOut, ApiError> {
    let pillars = catalog.pillars.clone();
    let (units, level, frame_units): (Vec<String>, Level, Vec<UnitInfo>) = match req.level {
        LevelParam::Commune => {
            let p = req.province.clone().unwrap_or_default();
            if snapshot.units.province(&p).is_none() {
                return Err(bad(
                    "province",
                    "unknown_province",
                    format!("there is no province {p:?}"),
                ));
            }
            let infos: Vec<UnitInfo> = snapshot
                .units
                .communes
                .iter()
                .filter(|c| c.province_code == p)
                .map(|c| UnitInfo {
                    commune: c.code.clone(),
                    province: c.province_code.clone(),
                })
                .collect();
            (
                infos.iter().map(|u| u.commune.clone()).collect(),
                Level::Commune,
                infos,
            )
        }
        _ => {
            let infos: Vec<UnitInfo> = snapshot
                .units
                .communes
                .iter()
                .map(|c| UnitInfo {
                    commune: c.code.clone(),
                    province: c.province_code.clone(),
                })
                .collect();
            (
                snapshot
                    .units
                    .provinces
                    .iter()
                    .map(|p| p.province.code.clone())
                    .collect(),
                Level::Province,
                infos,
            )
        }
    };
    let framework: Vec<String> = pillars
        .iter()
        .flat_map(|p| p.indicators.iter().map(|i| i.indicator.to_string()))
        .collect();
    let mut errors = Vec::new();
    for (n, o) in req.overrides.iter().enumerate() {
        if !units.contains(&o.unit) {
            errors.push(FieldError::new(
                format!("overrides[{n}].unit"),
                "unknown_unit",
                format!("{} is not a unit of this index", o.unit),
            ));
        }
        if !framework.contains(&o.indicator) {
            errors.push(FieldError::new(
                format!("overrides[{n}].indicator"),
                "not_in_framework",
                format!("{} is not an indicator of the framework", o.indicator),
            ));
        }
        if o.value.is_some_and(|v| !v.is_finite()) {
            errors.push(FieldError::new(
                format!("overrides[{n}].value"),
                "not_a_number",
                "a finite number or null",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Unprocessable(
            format!("The what-if has {} problem(s).", errors.len()),
            errors,
        ));
    }
    let values_frame = snapshot.values_for(&[req.period.year()]);
    let cat = catalog.clone();
    let period = req.period;
    let unit_list = units.clone();
    let overrides = req.overrides.clone();
    let uncertainty = req.uncertainty;
    let result: IndexResult = web::block(
        move || -> Result<IndexResult, innoreport_aggregate::AggregateError> {
            let frame = units_frame(&frame_units)?;
            let position: HashMap<&str, usize> = unit_list
                .iter()
                .enumerate()
                .map(|(i, u)| (u.as_str(), i))
                .collect();
            let mut values: Vec<HashMap<String, f64>> = vec![HashMap::new(); unit_list.len()];
            for code in &framework {
                for row in rollups.get(&values_frame, &frame, &cat, code, period, level)? {
                    if let (Some(&u), Some(v)) = (position.get(row.unit.as_str()), row.value) {
                        values[u].insert(code.clone(), v);
                    }
                }
            }
            for o in &overrides {
                let u = position[o.unit.as_str()];
                match o.value {
                    Some(v) => values[u].insert(o.indicator.clone(), v),
                    None => values[u].remove(&o.indicator),
                };
            }
            Ok(compute_index(&unit_list, &values, &pillars, uncertainty))
        },
    )
    .await?
    .map_err(|e| match e {
        innoreport_aggregate::AggregateError::UnknownIndicator(i) => {
            ApiError::Internal(format!("framework indicator {i} is not in the catalog"))
        }
        other => ApiError::Internal(other.to_string()),
    })?;
    let names = |code: &str| -> (String, String) {
        match req.level {
            LevelParam::Commune => snapshot
                .units
                .commune(code)
                .map(|c| (c.name_vi.clone(), c.name_en.clone()))
                .unwrap_or_default(),
            _ => snapshot
                .units
                .province(code)
                .map(|p| (p.province.name_vi.clone(), p.province.name_en.clone()))
                .unwrap_or_default(),
        }
    };
    let items = result
        .units
        .into_iter()
        .map(|u| {
            let (name, name_en) = names(&u.unit);
            IndexRow {
                name,
                name_en,
                coverage: u.coverage,
                score: u.score,
                rank: u.rank,
                input: u.input,
                input_rank: u.input_rank,
                output: u.output,
                output_rank: u.output_rank,
                efficiency: u.efficiency,
                pillars: u
                    .pillars
                    .into_iter()
                    .map(|(k, (score, rank))| (k, PillarScore { score, rank }))
                    .collect(),
                contributions: u.contributions,
                strengths: u.strengths,
                weaknesses: u.weaknesses,
                rank_p5: u.rank_p5,
                rank_median: u.rank_median,
                rank_p95: u.rank_p95,
                unit: u.unit,
            }
        })
        .collect();
    Ok(IndexOut {
        period: period.to_string(),
        level: req.level,
        province: req.province,
        draws: uncertainty.map_or(0, |u| u.draws),
        seed: uncertainty.map_or(DEFAULT_SEED, |u| u.seed),
        items,
        treatments: result
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
        excluded: result
            .excluded
            .into_iter()
            .map(|e| ExcludedOut {
                indicator: e.indicator,
                reason: e.reason.into(),
            })
            .collect(),
    })
}

fn uncertainty_of(
    on: Option<bool>,
    draws: Option<usize>,
    seed: Option<u64>,
) -> Result<Option<Uncertainty>, ApiError> {
    let draws = draws.unwrap_or(DEFAULT_DRAWS);
    if !(1..=MAX_DRAWS).contains(&draws) {
        return Err(bad(
            "draws",
            "out_of_range",
            format!("draws is 1 to {MAX_DRAWS}"),
        ));
    }
    Ok(on.unwrap_or(true).then_some(Uncertainty {
        draws,
        seed: seed.unwrap_or(DEFAULT_SEED),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndexQuery {
    #[param(example = "2026")]
    pub period: String,
    /// `province` (the 34 provinces, default) or `commune` (the communes of `province`).
    pub level: Option<LevelParam>,
    pub province: Option<String>,
    /// Monte Carlo rank uncertainty (default true).
    pub uncertainty: Option<bool>,
    /// Draws (default 1000, at most 10000).
    pub draws: Option<usize>,
    /// Seed of the draws (default 20250701).
    pub seed: Option<u64>,
}

fn index_table(doc: &IndexOut, catalog: &Catalog) -> Table {
    let mut t = Table::new(
        &format!("index_{}", doc.period),
        &[
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
        ],
    );
    for p in &catalog.pillars {
        t.add_column(&p.code, &p.name_vi);
    }
    for r in &doc.items {
        let mut row = vec![
            r.unit.as_str().into(),
            r.name.as_str().into(),
            r.coverage.into(),
            r.score.into(),
            r.rank.map(f64::from).into(),
            r.input.into(),
            r.output.into(),
            r.efficiency.into(),
            r.rank_p5.map(f64::from).into(),
            r.rank_median.map(f64::from).into(),
            r.rank_p95.map(f64::from).into(),
        ];
        row.extend(
            catalog
                .pillars
                .iter()
                .map(|p| r.pillars.get(&p.code).and_then(|s| s.score).into()),
        );
        t.push(row);
    }
    t
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
    query: web::Query<IndexQuery>,
    export: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let period =
        Period::parse(&query.period).map_err(|e| bad("period", "invalid_period", e.to_string()))?;
    let level = query.level.unwrap_or(LevelParam::Province);
    authorize(&auth, level, query.province.as_deref())?;
    let uncertainty = uncertainty_of(query.uncertainty, query.draws, query.seed)?;
    let catalog = state.catalog().await?;
    let snapshot = state.snapshot().await?;
    let province = if level == LevelParam::Commune {
        query.province.clone()
    } else {
        None
    };
    let doc = run(
        &state,
        &snapshot,
        &catalog,
        Request {
            period,
            level,
            province,
            uncertainty,
            overrides: Vec::new(),
        },
    )
    .await?;
    index_table(&doc, &catalog).respond(
        export.format(&req),
        export.lang.unwrap_or_default(),
        || HttpResponse::Ok().json(&doc),
    )
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatIfRequest {
    #[schema(example = "2026")]
    pub period: String,
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
    let period =
        Period::parse(&body.period).map_err(|e| bad("period", "invalid_period", e.to_string()))?;
    let level = body.level.unwrap_or(LevelParam::Province);
    authorize(&auth, level, body.province.as_deref())?;
    let uncertainty = uncertainty_of(body.uncertainty, body.draws, body.seed)?;
    let catalog = state.catalog().await?;
    let snapshot = state.snapshot().await?;
    let province = if level == LevelParam::Commune {
        body.province
    } else {
        None
    };
    let doc = run(
        &state,
        &snapshot,
        &catalog,
        Request {
            period,
            level,
            province,
            uncertainty,
            overrides: body.overrides,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(doc))
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
#[utoipa::path(tag = "index", responses((status = 200, description = "The framework", body = Framework)))]
#[get("/index/framework")]
pub async fn get_framework(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let catalog = state.catalog().await?;
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
    if auth.0.role != innoreport_core::Role::Admin {
        return Err(ApiError::Forbidden(
            "only an admin edits the framework".into(),
        ));
    }
    let mut errors = Vec::new();
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
                Err(e) => errors.push(FieldError::new(
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
    let mut catalog = state.catalog().await?;
    let before = serde_json::to_value(framework_out(&catalog))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    catalog.pillars = pillars.clone();
    if let Err(e) = catalog.validate() {
        errors.extend(
            e.0.into_iter()
                .map(|m| FieldError::new("pillars", "invalid_framework", m)),
        );
    }
    for sub in [SubIndex::Input, SubIndex::Output] {
        if !pillars.iter().any(|p| p.sub_index == sub) {
            errors.push(FieldError::new(
                "pillars",
                "missing_sub_index",
                format!("the framework needs an {} pillar", sub.as_str()),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Unprocessable(
            format!(
                "The framework has {} problem(s); nothing changed.",
                errors.len()
            ),
            errors,
        ));
    }
    let saved = framework_out(&catalog);
    let after = serde_json::to_value(&saved).map_err(|e| ApiError::Internal(e.to_string()))?;
    let (actor, at) = (auth.0.subject.clone(), state.now());
    state
        .db(move |conn| {
            innoreport_store::transaction(conn, |conn| {
                innoreport_store::reference::replace_framework(conn, &pillars)?;
                innoreport_store::changes::record(
                    conn,
                    &innoreport_store::changes::NewChange {
                        at,
                        actor: &actor,
                        action: "framework.replace",
                        province: None,
                        commune: None,
                        subject: "index framework".into(),
                        detail: serde_json::json!({"old": before, "new": after}),
                    },
                )
            })
        })
        .await?;
    state.catalog_changed();
    Ok(HttpResponse::Ok().json(saved))
}
