//! Analysis for DOST analysts and dashboards: rollups, deadline compliance, targets and the
//! province dashboard, all computed live by the polars aggregator.
//!
//! Scope: national roles see everything; province roles their province and its communes;
//! commune officers their own commune's rows and their province's totals, never another
//! commune's values.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use innoreport_aggregate::rollup::{AggregateRow, Level, UnitInfo, rollup, units_frame};
use innoreport_aggregate::{ComplianceSummary, compliance};
use innoreport_core::{Action, Catalog, CommuneCode, Formula, Period, Role, Target};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::export::{ExportParams, Table};
use crate::live::Snapshot;
use crate::problem::{ApiError, FieldError, Problem};
use crate::state::AppState;

/// What a caller may see.
enum Visible {
    All,
    Province(String),
    Commune { commune: String, province: String },
}

fn visible(auth: &Auth) -> Visible {
    let p = &auth.0;
    match (p.role, &p.province, &p.commune) {
        (Role::Admin | Role::NationalAnalyst, ..) => Visible::All,
        (Role::CommuneOfficer, Some(pr), Some(c)) => Visible::Commune {
            commune: c.to_string(),
            province: pr.to_string(),
        },
        (_, Some(pr), _) => Visible::Province(pr.to_string()),
        _ => Visible::Province(String::new()),
    }
}

/// The province whose communes a request covers: the filter if allowed, the caller's own
/// province otherwise (None: every province).
fn scope_province(auth: &Auth, filter: Option<&str>) -> Result<Option<String>, ApiError> {
    match (visible(auth), filter) {
        (Visible::All, f) => Ok(f.map(str::to_owned)),
        (Visible::Province(own) | Visible::Commune { province: own, .. }, Some(f)) if f != own => {
            auth.require(Action::Read, Target::Province(f))?;
            Ok(Some(f.to_owned()))
        }
        (Visible::Province(own) | Visible::Commune { province: own, .. }, _) => Ok(Some(own)),
    }
}

fn units_of(snapshot: &Snapshot, province: Option<&str>) -> Vec<UnitInfo> {
    snapshot
        .units
        .communes
        .iter()
        .filter(|c| province.is_none_or(|p| c.province_code == p))
        .map(|c| UnitInfo {
            commune: c.code.clone(),
            province: c.province_code.clone(),
        })
        .collect()
}

fn bad(field: &str, code: &str, message: String) -> ApiError {
    ApiError::bad_field(field, code, message)
}

fn parse_period(raw: &str) -> Result<Period, ApiError> {
    Period::parse(raw).map_err(|e| bad("period", "invalid_period", e.to_string()))
}

fn check_province(snapshot: &Snapshot, code: Option<&str>) -> Result<(), ApiError> {
    match code {
        Some(p) if snapshot.units.province(p).is_none() => Err(bad(
            "province",
            "unknown_province",
            format!("there is no province {p:?}"),
        )),
        _ => Ok(()),
    }
}

/// Rollups of one snapshot over one set of units (`scope`), each computed once per view
/// version (see [`crate::cache`]).
#[derive(Clone)]
pub(crate) struct Rollups {
    cache: std::sync::Arc<crate::cache::ResultCache>,
    version: u64,
    scope: String,
}

impl Rollups {
    pub(crate) fn new(state: &AppState, snapshot: &Snapshot, scope: String) -> Rollups {
        Rollups {
            cache: std::sync::Arc::clone(&state.results),
            version: snapshot.version,
            scope,
        }
    }

    /// `rollup` over `units`, which must be the units this `scope` names.
    pub(crate) fn get(
        &self,
        values: &polars::prelude::DataFrame,
        units: &polars::prelude::DataFrame,
        catalog: &Catalog,
        indicator: &str,
        period: Period,
        level: Level,
    ) -> Result<Vec<AggregateRow>, innoreport_aggregate::AggregateError> {
        let key = format!("rollup|{}|{indicator}|{period}|{level:?}", self.scope);
        self.cache
            .get_or(
                self.version,
                key,
                |rows: &Vec<AggregateRow>| rows.len(),
                || rollup(values, units, catalog, indicator, period, level),
            )
            .map(|rows| rows.as_ref().clone())
    }
}

/// Runs CPU-bound aggregation off the HTTP worker.
async fn compute<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, innoreport_aggregate::AggregateError> + Send + 'static,
) -> Result<R, ApiError> {
    web::block(f).await?.map_err(|e| match e {
        innoreport_aggregate::AggregateError::UnknownIndicator(i) => bad(
            "indicator",
            "unknown_indicator",
            format!("there is no indicator {i:?}"),
        ),
        innoreport_aggregate::AggregateError::Unsupported(m) => bad("indicator", "unsupported", m),
        other => ApiError::Internal(other.to_string()),
    })
}

fn etag(version: u64, req: &HttpRequest, who: &str) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (req.path(), req.query_string(), who).hash(&mut h);
    format!("W/\"v{version}-{:x}\"", h.finish())
}

fn not_modified(req: &HttpRequest, tag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LevelParam {
    Commune,
    Province,
    National,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AggregateQuery {
    /// Indicator code, reported or derived.
    #[param(example = "online_dossier_rate")]
    pub indicator: String,
    /// Any period; a year of a quarterly indicator applies its temporal rule.
    #[param(example = "2026")]
    pub period: String,
    /// `province` (default), `commune` or `national`.
    pub level: Option<LevelParam>,
    /// Only this province (its communes at commune level).
    pub province: Option<String>,
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

fn unit_names(snapshot: &Snapshot, unit: &str) -> (String, String) {
    if unit == "VN" {
        return ("Việt Nam".into(), "Viet Nam".into());
    }
    if let Some(c) = snapshot.units.commune(unit) {
        return (c.name_vi.clone(), c.name_en.clone());
    }
    if let Some(p) = snapshot.units.province(unit) {
        return (p.province.name_vi.clone(), p.province.name_en.clone());
    }
    (String::new(), String::new())
}

fn aggregate_out(snapshot: &Snapshot, r: AggregateRow) -> AggregateOut {
    let (name, name_en) = unit_names(snapshot, &r.unit);
    AggregateOut {
        unit: r.unit,
        name,
        name_en,
        value: r.value,
        numerator: r.numerator,
        denominator: r.denominator,
        communes_reporting: r.communes_reporting,
        communes_expected: r.communes_expected,
    }
}

/// Rolls an indicator up to communes, provinces or the nation for a period.
#[utoipa::path(
    tag = "analysis",
    security(("bearer" = [])),
    params(AggregateQuery, ExportParams),
    responses(
        (status = 200, description = "One row per unit (JSON, CSV or xlsx)", body = AggregateList),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "Unknown indicator, bad period or level", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/aggregates")]
pub async fn aggregates(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<AggregateQuery>,
    export: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let period = parse_period(&query.period)?;
    let catalog = state.catalog().await?;
    let indicator = catalog
        .indicator(&query.indicator)
        .ok_or_else(|| {
            bad(
                "indicator",
                "unknown_indicator",
                format!("there is no indicator {:?}", query.indicator),
            )
        })?
        .clone();
    let level = query.level.unwrap_or(LevelParam::Province);
    let snapshot = state.snapshot().await?;
    check_province(&snapshot, query.province.as_deref())?;
    let mut only_commune = None;
    let province = match level {
        LevelParam::National => {
            auth.require(Action::Read, Target::Nation)?;
            query.province.clone()
        }
        _ => {
            if let Visible::Commune { commune, .. } = visible(&auth)
                && level == LevelParam::Commune
            {
                only_commune = Some(commune);
            }
            scope_province(&auth, query.province.as_deref())?
        }
    };
    let tag = etag(snapshot.version, &req, &auth.0.subject);
    if not_modified(&req, &tag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .finish());
    }
    let mut units = units_of(&snapshot, province.as_deref());
    if let Some(own) = &only_commune {
        units.retain(|u| &u.commune == own);
    }
    let values = snapshot.values_for(&[period.year()]);
    let (cat, code) = (catalog.clone(), indicator.code.to_string());
    let lvl = match level {
        LevelParam::Commune => Level::Commune,
        LevelParam::Province => Level::Province,
        LevelParam::National => Level::National,
    };
    let rollups = Rollups::new(
        &state,
        &snapshot,
        format!(
            "{}|{}",
            province.as_deref().unwrap_or("VN"),
            only_commune.as_deref().unwrap_or("*")
        ),
    );
    let rows = compute(move || {
        let frame = units_frame(&units)?;
        rollups.get(&values, &frame, &cat, &code, period, lvl)
    })
    .await?;
    let items: Vec<AggregateOut> = rows
        .into_iter()
        .map(|r| aggregate_out(&snapshot, r))
        .collect();
    let mut table = Table::new(
        &format!("{}_{}", indicator.code, period),
        &[
            ("unit", "Mã đơn vị"),
            ("name", "Tên đơn vị"),
            ("name_en", "Tên tiếng Anh"),
            ("value", "Giá trị"),
            ("numerator", "Tử số"),
            ("denominator", "Mẫu số"),
            ("communes_reporting", "Số xã có số liệu"),
            ("communes_expected", "Số xã phải báo cáo"),
        ],
    );
    for i in &items {
        table.push(vec![
            i.unit.as_str().into(),
            i.name.as_str().into(),
            i.name_en.as_str().into(),
            i.value.into(),
            i.numerator.into(),
            i.denominator.into(),
            i.communes_reporting.into(),
            i.communes_expected.into(),
        ]);
    }
    let doc = AggregateList {
        indicator: indicator.code.to_string(),
        name: indicator.name_vi.clone(),
        name_en: indicator.name_en.clone(),
        unit_of_measure: indicator.unit_vi.clone(),
        unit_of_measure_en: indicator.unit_en.clone(),
        period: period.to_string(),
        level,
        items,
        next_cursor: None,
    };
    let mut res = table.respond(export.format(&req), export.lang.unwrap_or_default(), || {
        HttpResponse::Ok().json(&doc)
    })?;
    res.headers_mut().insert(
        header::ETAG,
        header::HeaderValue::from_str(&tag).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(res)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComplianceQuery {
    #[param(example = "dmst-quarterly")]
    pub dataset: String,
    #[param(example = "2026Q1")]
    pub period: String,
    /// Only this province.
    pub province: Option<String>,
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

fn counts(snapshot: &Snapshot, s: &ComplianceSummary) -> ComplianceCounts {
    ComplianceCounts {
        name: unit_names(snapshot, &s.unit).0,
        unit: s.unit.clone(),
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

/// Computes compliance of a data set and period over communes in scope.
pub(crate) async fn compliance_of(
    snapshot: &Snapshot,
    catalog: &Catalog,
    dataset: &str,
    period: Period,
    province: Option<&str>,
    as_of: DateTime<Utc>,
) -> Result<(ComplianceOut, Vec<innoreport_aggregate::ComplianceRow>), ApiError> {
    let d = catalog.dataset(dataset).ok_or_else(|| {
        bad(
            "dataset",
            "unknown_dataset",
            format!("there is no data set {dataset:?}"),
        )
    })?;
    if d.period_type != period.kind() {
        return Err(bad(
            "period",
            "wrong_period_type",
            format!(
                "data set {dataset} collects {} periods (e.g. {})",
                d.period_type,
                d.period_type.example()
            ),
        ));
    }
    let deadline = d.deadline(period);
    let units = units_of(snapshot, province);
    let receipts = snapshot.receipts(dataset, &period.to_string());
    let (rows, by_province, total) =
        compute(move || compliance(&units, &receipts, deadline, as_of)).await?;
    let out = ComplianceOut {
        dataset: dataset.to_owned(),
        period: period.to_string(),
        deadline,
        as_of,
        expected: total.expected,
        received: total.received,
        on_time: total.on_time,
        late: total.late,
        missing: total.missing,
        pending: total.pending,
        reporting_rate: total.reporting_rate(),
        on_time_rate: total.on_time_rate(),
        by_province: by_province.iter().map(|s| counts(snapshot, s)).collect(),
        communes: Vec::new(),
    };
    Ok((out, rows))
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
    query: web::Query<ComplianceQuery>,
    export: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let period = parse_period(&query.period)?;
    let catalog = state.catalog().await?;
    let snapshot = state.snapshot().await?;
    check_province(&snapshot, query.province.as_deref())?;
    let province = scope_province(&auth, query.province.as_deref())?;
    let as_of = query.as_of.unwrap_or_else(|| state.now());
    let (mut out, rows) = compliance_of(
        &snapshot,
        &catalog,
        &query.dataset,
        period,
        province.as_deref(),
        as_of,
    )
    .await?;
    let own_commune = match visible(&auth) {
        Visible::Commune { commune, .. } => Some(commune),
        _ => None,
    };
    out.communes = rows
        .into_iter()
        .filter(|r| own_commune.as_ref().is_none_or(|c| &r.commune == c))
        .map(|r| CommuneCompliance {
            name: unit_names(&snapshot, &r.commune).0,
            commune: r.commune,
            province: r.province,
            status: r.status.as_str().to_owned(),
            first_received_at: r.first_received_at,
            days_late: r.days_late,
        })
        .collect();
    let mut table = Table::new(
        &format!("compliance_{}_{}", out.dataset, out.period),
        &[
            ("commune", "Mã xã"),
            ("name", "Tên xã"),
            ("province", "Mã tỉnh"),
            ("status", "Tình trạng"),
            ("first_received_at", "Thời điểm nhận lần đầu (UTC)"),
            ("days_late", "Số ngày trễ"),
        ],
    );
    for c in &out.communes {
        table.push(vec![
            c.commune.as_str().into(),
            c.name.as_str().into(),
            c.province.as_str().into(),
            c.status.as_str().into(),
            c.first_received_at.map(|t| t.to_rfc3339()).into(),
            c.days_late.map(|d| d as f64).into(),
        ]);
    }
    table.respond(export.format(&req), export.lang.unwrap_or_default(), || {
        HttpResponse::Ok().json(&out)
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetsBody {
    /// Indicator code → target value (null removes the target).
    #[schema(value_type = Object, example = json!({"staff_trained_rate": 50, "initiatives_recognized": 1}))]
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

#[derive(Debug, Serialize, ToSchema)]
pub struct TargetList {
    pub items: Vec<TargetOut>,
    pub next_cursor: Option<String>,
}

fn year_period(year: i32) -> Result<Period, ApiError> {
    Period::new(innoreport_core::PeriodType::Year, year, 0)
        .map_err(|e| bad("year", "invalid_year", e.to_string()))
}

/// Targets with the actual values of the year and their attainment.
async fn targets_with_actuals(
    state: &AppState,
    snapshot: &Snapshot,
    catalog: &Catalog,
    year: i32,
    province: Option<String>,
    commune: Option<String>,
) -> Result<Vec<TargetOut>, ApiError> {
    let period = year_period(year)?;
    let (p, c) = (province.clone(), commune.clone());
    let rows = state
        .db(move |conn| {
            innoreport_store::targets::list_targets(conn, year, p.as_deref(), c.as_deref())
        })
        .await?;
    let mut indicators: Vec<String> = rows.iter().map(|r| r.indicator.clone()).collect();
    indicators.sort();
    indicators.dedup();
    let mut units = units_of(snapshot, province.as_deref());
    if let Some(c) = &commune {
        units.retain(|u| &u.commune == c);
    }
    let values = snapshot.values_for(&[year]);
    let cat = catalog.clone();
    let rollups = Rollups::new(
        state,
        snapshot,
        format!(
            "{}|{}",
            province.as_deref().unwrap_or("VN"),
            commune.as_deref().unwrap_or("*")
        ),
    );
    let actuals: HashMap<(String, String), Option<f64>> = compute(move || {
        let frame = units_frame(&units)?;
        let mut out = HashMap::new();
        for i in indicators {
            for r in rollups.get(&values, &frame, &cat, &i, period, Level::Commune)? {
                out.insert((r.unit, i.clone()), r.value);
            }
        }
        Ok(out)
    })
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let actual = actuals
                .get(&(r.commune.clone(), r.indicator.clone()))
                .copied()
                .flatten();
            TargetOut {
                name: unit_names(snapshot, &r.commune).0,
                attainment: actual.filter(|_| r.value != 0.0).map(|a| a / r.value),
                year: r.year,
                commune: r.commune,
                province: r.province,
                indicator: r.indicator,
                target: r.value,
                actual,
            }
        })
        .collect())
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
    year_period(year)?;
    let snapshot = state.snapshot().await?;
    let province = CommuneCode::parse(&commune)
        .ok()
        .and_then(|_| snapshot.units.commune(&commune))
        .map(|c| c.province_code.clone())
        .ok_or_else(|| ApiError::NotFound(format!("There is no commune {commune:?}.")))?;
    auth.require(
        Action::ManageTargets,
        Target::Commune {
            commune: &commune,
            province: &province,
        },
    )?;
    let catalog = state.catalog().await?;
    let mut errors = Vec::new();
    let mut values = BTreeMap::new();
    if body.values.is_empty() {
        errors.push(FieldError::new(
            "values",
            "empty",
            "name at least one target",
        ));
    }
    for (code, v) in &body.values {
        let field = format!("values.{code}");
        if catalog.indicator(code).is_none() {
            errors.push(FieldError::new(
                field,
                "unknown_indicator",
                format!("there is no indicator {code:?}"),
            ));
            continue;
        }
        match v {
            serde_json::Value::Null => {
                values.insert(code.clone(), None);
            }
            serde_json::Value::Number(n) => match n
                .as_f64()
                .filter(|x| x.is_finite() && *x >= 0.0 && *x <= 1e12)
            {
                Some(x) => {
                    values.insert(code.clone(), Some(x));
                }
                None => errors.push(FieldError::new(
                    field,
                    "out_of_range",
                    "a target is a number from 0 to 1e12",
                )),
            },
            _ => errors.push(FieldError::new(
                field,
                "not_a_number",
                "a target is a number or null",
            )),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Unprocessable(
            format!(
                "The targets have {} problem(s); nothing was stored.",
                errors.len()
            ),
            errors,
        ));
    }
    let (by, now, c) = (auth.0.subject.clone(), state.now(), commune.clone());
    state
        .db(move |conn| innoreport_store::targets::set_targets(conn, year, &c, &values, &by, now))
        .await?;
    let items = targets_with_actuals(
        &state,
        &snapshot,
        &catalog,
        year,
        Some(province),
        Some(commune),
    )
    .await?;
    Ok(HttpResponse::Ok().json(TargetList {
        items,
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TargetQuery {
    #[param(example = 2026)]
    pub year: i32,
    pub province: Option<String>,
    pub commune: Option<String>,
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
    query: web::Query<TargetQuery>,
    export: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    year_period(query.year)?;
    let snapshot = state.snapshot().await?;
    check_province(&snapshot, query.province.as_deref())?;
    let province = scope_province(&auth, query.province.as_deref())?;
    crate::reports::authorize_commune_filter(&state, &auth, query.commune.as_deref()).await?;
    let commune = match (visible(&auth), &query.commune) {
        (Visible::Commune { commune: own, .. }, Some(c)) if c != &own => {
            return Err(ApiError::Forbidden(
                "a commune officer reads only their own commune".into(),
            ));
        }
        (Visible::Commune { commune: own, .. }, _) => Some(own),
        (_, c) => c.clone(),
    };
    let catalog = state.catalog().await?;
    let items =
        targets_with_actuals(&state, &snapshot, &catalog, query.year, province, commune).await?;
    let mut table = Table::new(
        &format!("targets_{}", query.year),
        &[
            ("year", "Năm"),
            ("commune", "Mã xã"),
            ("name", "Tên xã"),
            ("province", "Mã tỉnh"),
            ("indicator", "Chỉ tiêu"),
            ("target", "Kế hoạch"),
            ("actual", "Thực hiện"),
            ("attainment", "Tỷ lệ đạt"),
        ],
    );
    for t in &items {
        table.push(vec![
            (t.year as f64).into(),
            t.commune.as_str().into(),
            t.name.as_str().into(),
            t.province.as_str().into(),
            t.indicator.as_str().into(),
            t.target.into(),
            t.actual.into(),
            t.attainment.into(),
        ]);
    }
    let doc = TargetList {
        items,
        next_cursor: None,
    };
    table.respond(export.format(&req), export.lang.unwrap_or_default(), || {
        HttpResponse::Ok().json(&doc)
    })
}

/// The headline indicators of a province dashboard.
pub const HEADLINE: [&str; 8] = [
    "online_dossier_rate",
    "staff_trained_rate",
    "business_innovation_rate",
    "budget_st_share",
    "ocop_products",
    "initiatives_recognized",
    "digital_team_members",
    "outreach_sessions",
];

#[derive(Debug, Serialize, ToSchema)]
pub struct Headline {
    pub indicator: String,
    pub name: String,
    pub name_en: String,
    pub unit: String,
    pub value: Option<f64>,
    pub previous_period: Option<String>,
    pub previous: Option<f64>,
    /// value − previous.
    pub change: Option<f64>,
    pub communes_reporting: u32,
    pub communes_expected: u32,
    /// Yearly periods: for counts Σ actual ÷ Σ target over the communes with a target; for
    /// ratios the province value ÷ the mean of the communes' targets.
    pub target_attainment: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RankedCommune {
    pub commune: String,
    pub name: String,
    pub value: f64,
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
    /// Best five communes (empty for commune officers).
    pub top_communes: Vec<RankedCommune>,
    /// Worst five communes (empty for commune officers).
    pub bottom_communes: Vec<RankedCommune>,
    /// The province's innovation index score and rank among the provinces (null below coverage).
    pub index_score: Option<f64>,
    pub index_rank: Option<u32>,
    /// Provinces with a score.
    pub provinces_ranked: usize,
    /// The communes' index scores and ranks within the province (empty for commune officers).
    pub commune_index: Vec<CommuneIndexRank>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommuneIndexRank {
    pub commune: String,
    pub name: String,
    pub score: Option<f64>,
    pub rank: Option<u32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    #[param(example = "2026")]
    pub period: String,
    /// Indicator ranking the communes (default `online_dossier_rate`).
    pub rank_by: Option<String>,
}

/// Everything a province dashboard shows, in one document.
#[utoipa::path(
    tag = "analysis",
    security(("bearer" = [])),
    params(("code" = String, Path, example = "14"), DashboardQuery, ExportParams),
    responses(
        (status = 200, description = "The dashboard (as CSV or xlsx: its headline indicators)", body = Dashboard),
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
    query: web::Query<DashboardQuery>,
    export: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let period = parse_period(&query.period)?;
    let snapshot = state.snapshot().await?;
    let province = snapshot
        .units
        .province(&code)
        .ok_or_else(|| ApiError::NotFound(format!("There is no province with code {code:?}.")))?
        .province
        .clone();
    auth.require(Action::Read, Target::Province(&code))?;
    let catalog = state.catalog().await?;
    let rank_by = query
        .rank_by
        .clone()
        .unwrap_or_else(|| "online_dossier_rate".into());
    if catalog.indicator(&rank_by).is_none() {
        return Err(bad(
            "rank_by",
            "unknown_indicator",
            format!("there is no indicator {rank_by:?}"),
        ));
    }
    let targets = if period.kind() == innoreport_core::PeriodType::Year {
        let p = code.clone();
        let y = period.year();
        state
            .db(move |conn| innoreport_store::targets::list_targets(conn, y, Some(&p), None))
            .await?
    } else {
        Vec::new()
    };
    let units = units_of(&snapshot, Some(&code));
    let values = snapshot.values_for(&[
        period.year(),
        period.previous().map_or(period.year(), |p| p.year()),
    ]);
    let cat = catalog.clone();
    let rb = rank_by.clone();
    let rollups = Rollups::new(&state, &snapshot, format!("{code}|*"));
    let (headline_rows, ranking) = compute(move || {
        let frame = units_frame(&units)?;
        let mut rows = Vec::new();
        for i in HEADLINE.iter().filter(|i| cat.indicator(i).is_some()) {
            let now = rollups
                .get(&values, &frame, &cat, i, period, Level::Province)?
                .pop();
            let previous = match period.previous() {
                Some(p) => rollups
                    .get(&values, &frame, &cat, i, p, Level::Province)?
                    .pop(),
                None => None,
            };
            let per_commune = rollups.get(&values, &frame, &cat, i, period, Level::Commune)?;
            rows.push((i.to_string(), now, previous, per_commune));
        }
        let ranking = rollups.get(&values, &frame, &cat, &rb, period, Level::Commune)?;
        Ok((rows, ranking))
    })
    .await?;
    let mut headline = Vec::new();
    for (i, now, previous, per_commune) in headline_rows {
        let ind = catalog.indicator(&i).expect("filtered above");
        let value = now.as_ref().and_then(|r| r.value);
        let prev = previous.as_ref().and_then(|r| r.value);
        let mine: Vec<_> = targets.iter().filter(|t| t.indicator == i).collect();
        let target_attainment = if mine.is_empty() {
            None
        } else if matches!(ind.formula, Some(Formula::Ratio { .. })) {
            let mean = mine.iter().map(|t| t.value).sum::<f64>() / mine.len() as f64;
            value.filter(|_| mean > 0.0).map(|v| v / mean)
        } else {
            let actual: f64 = mine
                .iter()
                .filter_map(|t| {
                    per_commune
                        .iter()
                        .find(|r| r.unit == t.commune)
                        .and_then(|r| r.value)
                })
                .sum();
            let target: f64 = mine.iter().map(|t| t.value).sum();
            (target > 0.0).then(|| actual / target)
        };
        headline.push(Headline {
            indicator: i.clone(),
            name: ind.name_vi.clone(),
            name_en: ind.name_en.clone(),
            unit: ind.unit_vi.clone(),
            value,
            previous_period: period.previous().map(|p| p.to_string()),
            previous: prev,
            change: value.zip(prev).map(|(a, b)| a - b),
            communes_reporting: now.as_ref().map_or(0, |r| r.communes_reporting),
            communes_expected: now.as_ref().map_or(0, |r| r.communes_expected),
            target_attainment,
        });
    }
    let mut compliance_docs = Vec::new();
    for d in catalog
        .datasets
        .iter()
        .filter(|d| d.period_type == period.kind())
    {
        let (doc, _) = compliance_of(
            &snapshot,
            &catalog,
            d.code.as_str(),
            period,
            Some(&code),
            state.now(),
        )
        .await?;
        compliance_docs.push(doc);
    }
    let sees_communes = !matches!(visible(&auth), Visible::Commune { .. });
    let mut ranked: Vec<RankedCommune> = ranking
        .into_iter()
        .filter_map(|r| {
            r.value.map(|v| RankedCommune {
                name: unit_names(&snapshot, &r.unit).0,
                commune: r.unit,
                value: v,
            })
        })
        .collect();
    ranked.sort_by(|a, b| b.value.total_cmp(&a.value).then(a.commune.cmp(&b.commune)));
    let (top, bottom) = if sees_communes {
        let top: Vec<RankedCommune> = ranked
            .iter()
            .take(5)
            .map(|r| RankedCommune {
                commune: r.commune.clone(),
                name: r.name.clone(),
                value: r.value,
            })
            .collect();
        let bottom: Vec<RankedCommune> = ranked.into_iter().rev().take(5).collect();
        (top, bottom)
    } else {
        (Vec::new(), Vec::new())
    };
    let request = |level, province: Option<String>| crate::index::Request {
        period,
        level,
        province,
        uncertainty: None,
        overrides: Vec::new(),
    };
    let provinces_index = crate::index::run(
        &state,
        &snapshot,
        &catalog,
        request(LevelParam::Province, None),
    )
    .await?;
    let own = provinces_index.items.iter().find(|r| r.unit == code);
    let commune_index = if sees_communes {
        crate::index::run(
            &state,
            &snapshot,
            &catalog,
            request(LevelParam::Commune, Some(code.clone())),
        )
        .await?
        .items
        .into_iter()
        .map(|r| CommuneIndexRank {
            commune: r.unit,
            name: r.name,
            score: r.score,
            rank: r.rank,
        })
        .collect()
    } else {
        Vec::new()
    };
    let table = headline_table(&province.code, &period.to_string(), &headline);
    let doc = Dashboard {
        index_score: own.and_then(|r| r.score),
        index_rank: own.and_then(|r| r.rank),
        provinces_ranked: provinces_index
            .items
            .iter()
            .filter(|r| r.score.is_some())
            .count(),
        commune_index,
        province: province.code,
        name: province.name_vi,
        name_en: province.name_en,
        period: period.to_string(),
        headline,
        compliance: compliance_docs,
        rank_by,
        top_communes: top,
        bottom_communes: bottom,
    };
    table.respond(export.format(&req), export.lang.unwrap_or_default(), || {
        HttpResponse::Ok().json(&doc)
    })
}

/// The dashboard's headline indicators as a table (its CSV and xlsx form).
fn headline_table(province: &str, period: &str, headline: &[Headline]) -> Table {
    let mut table = Table::new(
        &format!("dashboard-{province}-{period}"),
        &[
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
        ],
    );
    for h in headline {
        table.push(vec![
            h.indicator.as_str().into(),
            h.name.as_str().into(),
            h.unit.as_str().into(),
            period.into(),
            h.value.into(),
            h.previous_period.clone().into(),
            h.previous.into(),
            h.change.into(),
            h.target_attainment.into(),
            h.communes_reporting.into(),
            h.communes_expected.into(),
        ]);
    }
    table
}
