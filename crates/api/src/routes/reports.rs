//! Report submission, reading and listing: the HTTP face of `innoreport_service::reports` and
//! the reads of `::review` (revisions and reviews are in `routes::review`).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use innoreport_core::plans::TaskProgress;
use innoreport_core::{Catalog, Period, ReportStatus, Timeliness};
use innoreport_service::reports::{Draft, ReportNow, Warning};
use innoreport_service::review::ReportQuery as ServiceReportQuery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Auth;
use crate::http::conditional::tagged_json;
use crate::http::export::{
    BATCH_ROWS, Cell, Export, ExportParams, Format, Lang, Pages, columns, respond,
};
use crate::http::pagination::{PageParams, page_of};
use crate::http::problem::{ApiError, Problem};
use crate::http::query::Query;
use crate::routes::words;
use crate::state::AppState;

/// A commune's report for one data set and period. `values` names the indicators reported:
/// indicators not named keep their current value, `null` clears one.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportSubmission {
    /// The commune (5-digit code); may be omitted by a commune officer (their own commune).
    #[schema(example = "03808")]
    pub commune: Option<String>,
    #[schema(example = "dmst-quarterly")]
    pub dataset: String,
    #[schema(example = "2026Q1")]
    pub period: String,
    /// Indicator code → number, or null to clear the indicator. The codes are the data set's
    /// reported indicators (`GET /api/v1/datasets` lists them): for `dmst-quarterly` ocop_3star,
    /// ocop_4star, ocop_5star, initiatives_proposed, initiatives_recognized, staff_total,
    /// staff_trained, dossiers_total, dossiers_online_full, st_models, outreach_sessions,
    /// digital_teams, digital_team_members, businesses_total, businesses_innovating; for
    /// `dmst-annual` population, budget_total, budget_st, st_results_applied, st_enterprises,
    /// startup_projects.
    /// May be left out when the submission states only tasks' progress or texts.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, Option<f64>>, example = json!({"dossiers_total": 120, "dossiers_online_full": 96}))]
    pub values: BTreeMap<String, serde_json::Value>,
    /// Why this change was made.
    pub comment: Option<String>,
    /// The revision the client last saw; a newer current revision answers 409 (0: expect no report yet).
    pub base_revision: Option<i32>,
    /// Progress on the tasks of the commune's plan for the period's year: task code → progress
    /// (replaces that task's stated progress whole), or null to remove it. Tasks not named keep
    /// their progress.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, TaskProgress>, example = json!({"I.1": {"status": "in_progress", "percent": 60, "result": "2 hội nghị tuyên truyền", "difficulties": "Thiếu kinh phí"}}))]
    pub tasks: BTreeMap<String, serde_json::Value>,
    /// The report's texts: `highlights` (kết quả nổi bật), `difficulties` (khó khăn, vướng mắc),
    /// `proposals` (đề xuất, kiến nghị) → text (at most 8,000 characters), or null to clear it.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, Option<String>>, example = json!({"proposals": "Đề nghị Sở KH&CN hỗ trợ tập huấn"}))]
    pub texts: BTreeMap<String, serde_json::Value>,
}

impl From<ReportSubmission> for Draft {
    fn from(s: ReportSubmission) -> Draft {
        Draft {
            commune: s.commune,
            dataset: s.dataset,
            period: s.period,
            values: s.values,
            comment: s.comment,
            base_revision: s.base_revision,
            tasks: s.tasks,
            texts: s.texts,
        }
    }
}

/// A value accepted but far from the commune's own history (modified z-score above 3.5).
#[derive(Debug, Serialize, ToSchema)]
pub struct ValueWarning {
    pub indicator: String,
    /// `far_from_history` (with a score), or `differs_from_constant_history` when every earlier
    /// value was the same (no spread, so no score).
    pub code: String,
    pub value: f64,
    /// The modified z-score against the commune's earlier periods (absent without spread).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub score: Option<f64>,
    /// The median of the earlier values compared with.
    pub median: f64,
    /// How many earlier values it was compared with.
    pub history: u32,
    pub message: String,
}

/// A report as it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportOut {
    pub commune: String,
    pub province: String,
    pub dataset: String,
    pub period: String,
    /// The current revision number (1, 2, ...).
    pub revision: i32,
    pub status: ReportStatus,
    /// The province lifted the time lock.
    pub reopened: bool,
    /// Whether the commune can no longer change it now (approved, or past its lock date and not
    /// reopened).
    pub locked: bool,
    /// When the current revision was received (server time).
    pub received_at: DateTime<Utc>,
    /// When the first revision was received (server time): the basis of timeliness.
    pub first_received_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub lock: Option<DateTime<Utc>>,
    pub timeliness: Timeliness,
    pub author: String,
    pub comment: Option<String>,
    /// Indicator code → current value.
    #[schema(value_type = BTreeMap<String, f64>)]
    pub values: BTreeMap<String, f64>,
    /// Progress stated on the plan's tasks (in the answer to a single report or a submission
    /// that changed the plan part; not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub tasks: Option<BTreeMap<String, TaskProgress>>,
    /// The report's texts (`highlights`, `difficulties`, `proposals`), where `tasks` is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub texts: Option<BTreeMap<String, String>>,
    pub warnings: Vec<ValueWarning>,
}

fn warning_out(catalog: &Catalog, w: &Warning) -> ValueWarning {
    let name = catalog
        .indicator(&w.indicator)
        .map_or(w.indicator.as_str(), |i| i.name_vi.as_str());
    let value = crate::http::export::format_number(w.value);
    let median = crate::http::export::format_number(w.median);
    match w.score {
        Some(z) => ValueWarning {
            indicator: w.indicator.clone(),
            code: "far_from_history".into(),
            value: w.value,
            score: Some((z * 1000.0).round() / 1000.0),
            median: w.median,
            history: w.history as u32,
            message: format!(
                "{name} = {value} is far from this commune's {} earlier values (median {median}, modified z-score {z:.1}); check it",
                w.history
            ),
        },
        None => ValueWarning {
            indicator: w.indicator.clone(),
            code: "differs_from_constant_history".into(),
            value: w.value,
            score: None,
            median: w.median,
            history: w.history as u32,
            message: format!(
                "{name} = {value} differs from this commune's {} earlier values, which were all {median}; check it",
                w.history
            ),
        },
    }
}

pub(crate) fn report_out(now: ReportNow, warnings: Vec<ValueWarning>) -> ReportOut {
    let ReportNow {
        report: r,
        facts,
        progress,
    } = now;
    let (tasks, texts) = match progress {
        Some(p) => (Some(p.tasks), Some(p.texts)),
        None => (None, None),
    };
    ReportOut {
        locked: facts.locked.is_some(),
        timeliness: facts.timeliness,
        deadline: facts.deadline,
        lock: facts.lock,
        commune: r.commune,
        province: r.province,
        dataset: r.dataset,
        period: r.period,
        revision: r.revision,
        status: r.status,
        reopened: r.reopened,
        received_at: r.received_at,
        first_received_at: r.first_received_at,
        author: r.author,
        comment: r.comment,
        values: r.values,
        tasks,
        texts,
        warnings,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubmitQuery {
    /// Check everything and answer what would happen (the same 422 problems and warnings),
    /// storing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Submits or corrects a report (upsert by commune × data set × period).
#[utoipa::path(
    tag = "reports",
    request_body = ReportSubmission,
    params(SubmitQuery),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "A new revision was stored (in a dry run: would be)", body = ReportOut),
        (status = 200, description = "Nothing changed (a safe retry): the current revision", body = ReportOut),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The commune is outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "base_revision is not the current revision", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values, every problem listed; nothing stored", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "The report is locked (approved, or past its lock date)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/reports")]
pub async fn submit_report(
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<SubmitQuery>,
    body: web::Json<ReportSubmission>,
) -> Result<HttpResponse, ApiError> {
    let draft: Draft = body.into_inner().into();
    let who = auth.0;
    let dry_run = query.dry_run;
    // The catalog only names the indicators of the warnings; the answer's facts are those of
    // the submission's own transaction.
    let (done, catalog) = state
        .call_write(move |s| {
            let done = s.submit(&who, &draft, dry_run)?;
            Ok((done, s.current_catalog()?))
        })
        .await?;
    let status = if done.outcome == innoreport_service::reports::Outcome::Unchanged {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let warnings = done
        .warnings
        .iter()
        .map(|w| warning_out(&catalog, w))
        .collect();
    let out = report_out(done.report, warnings);
    let location = format!(
        "/api/v1/reports/{}/{}/{}",
        out.dataset, out.period, out.commune
    );
    Ok(HttpResponse::build(status)
        .insert_header((header::LOCATION, location))
        .json(out))
}

/// The path of one report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ReportPath {
    #[param(example = "dmst-quarterly")]
    pub dataset: String,
    #[param(example = "2026Q1")]
    pub period: String,
    #[param(example = "03808")]
    pub commune: String,
}

/// The current revision of a report.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ReportPath),
    responses(
        (status = 200, description = "The report", body = ReportOut),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/reports/{dataset}/{period}/{commune}")]
pub async fn get_report(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<ReportPath>,
) -> Result<HttpResponse, ApiError> {
    let who = auth.0.clone();
    let path = path.into_inner();
    let report = state
        .call(move |s| s.report(&who, &path.dataset, &path.period, &path.commune))
        .await?;
    Ok(tagged_json(&req, &auth.0, &report_out(report, Vec::new())))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    #[param(value_type = Option<String>, example = "dmst-quarterly")]
    pub dataset: Option<innoreport_core::DatasetCode>,
    #[param(value_type = Option<String>, example = "2026Q1")]
    pub period: Option<Period>,
    #[param(value_type = Option<String>, example = "14")]
    pub province: Option<innoreport_core::ProvinceCode>,
    #[param(value_type = Option<String>, example = "03808")]
    pub commune: Option<innoreport_core::CommuneCode>,
    pub status: Option<ReportStatus>,
}

impl ReportQuery {
    fn for_service(&self) -> ServiceReportQuery {
        ServiceReportQuery {
            dataset: self.dataset.as_ref().map(ToString::to_string),
            period: self.period,
            province: self.province.as_ref().map(ToString::to_string),
            commune: self.commune.as_ref().map(ToString::to_string),
            status: self.status,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportList {
    pub items: Vec<ReportOut>,
    pub next_cursor: Option<String>,
}

/// Reports in the caller's scope, filtered, in the order they were first received (pages
/// stay stable while new reports arrive).
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ReportQuery, PageParams, ExportParams),
    responses(
        (status = 200, description = "One page of reports (as CSV or xlsx: every report the filters select)", body = ReportList),
        (status = 400, description = "Bad filter, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A filter outside the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/reports")]
pub async fn list_reports(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<ReportQuery>,
    page: Query<PageParams>,
    export: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req);
    if format != Format::Json {
        return export_reports(state, auth, query, format, export.lang()).await;
    }
    let limit = page.limit()?;
    let after = page.after_id("report")?;
    let q = query.for_service();
    let rows = state
        .call(move |s| {
            let filter = s.report_filter(&auth.0, &q)?;
            s.reports_page(&filter, after, limit as i64 + 1)
        })
        .await?;
    let (rows, next_cursor) = page_of(rows, limit, "report", |r| r.report.id.to_string());
    Ok(HttpResponse::Ok().json(ReportList {
        items: rows
            .into_iter()
            .map(|r| report_out(r, Vec::new()))
            .collect(),
        next_cursor,
    }))
}

/// Every report the filters select, one row each, a column per reported indicator of the data
/// sets asked for (all of them without a data set filter), in catalog order.
async fn export_reports(
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<ReportQuery>,
    format: Format,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let q = query.for_service();
    let (filter, catalog) = state
        .call(move |s| Ok((s.report_filter(&auth.0, &q)?, s.current_catalog()?)))
        .await?;
    let indicators: Vec<(String, String)> = catalog
        .indicators
        .iter()
        .filter(|i| !i.is_derived())
        .filter(|i| {
            filter
                .dataset
                .as_deref()
                .is_none_or(|d| i.dataset.as_ref().is_some_and(|x| x.as_str() == d))
        })
        .map(|i| (i.code.to_string(), i.name_vi.clone()))
        .collect();
    let mut cols = columns(&[
        ("commune", "Mã xã"),
        ("province", "Mã tỉnh"),
        ("dataset", "Biểu mẫu"),
        ("period", "Kỳ báo cáo"),
        ("revision", "Lần sửa"),
        ("status", "Trạng thái"),
        ("timeliness", "Đúng hạn"),
        ("first_received_at", "Nhận lần đầu"),
        ("received_at", "Nhận bản hiện hành"),
    ]);
    cols.extend(indicators.iter().cloned());
    let service = state.service.clone();
    let codes: Vec<String> = indicators.into_iter().map(|(c, _)| c).collect();
    let pages = Pages::new(move |after: Option<&i64>| {
        let rows = service.reports_page(&filter, after.copied(), BATCH_ROWS as i64)?;
        let last = (rows.len() == BATCH_ROWS as usize)
            .then(|| rows.last().map(|r| r.report.id))
            .flatten();
        let cells = rows
            .into_iter()
            .map(|r| {
                let out = report_out(r, Vec::new());
                let mut row: Vec<Cell> = vec![
                    out.commune.as_str().into(),
                    out.province.as_str().into(),
                    out.dataset.as_str().into(),
                    out.period.as_str().into(),
                    out.revision.into(),
                    words::status(out.status),
                    words::timeliness(out.timeliness),
                    out.first_received_at.into(),
                    out.received_at.into(),
                ];
                row.extend(codes.iter().map(|c| Cell::from(out.values.get(c).copied())));
                row
            })
            .collect();
        Ok((cells, last))
    });
    respond(
        format,
        lang,
        || Export::new("reports", cols, pages),
        || HttpResponse::Ok().finish(),
    )
    .await
}

crate::export_routes! {
    module: list_reports_exports,
    tag: "reports",
    security: (("bearer" = [])),
    csv: list_reports_csv = "/reports.csv",
    xlsx: list_reports_xlsx = "/reports.xlsx",
    params: (ReportQuery,),
    args: (auth: Auth, query: Query<ReportQuery>),
    export: export_reports,
}
