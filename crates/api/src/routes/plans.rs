//! `/plans`: communes' plans and provinces' templates, written whole or imported from the annex
//! table, adopted, approved and reopened, with their revisions (see
//! `innoreport_service::plans`). The province's views of them are in `plan_views`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use innoreport_core::plans::{PlanDraft, PlanOwner, PlanStatus, Section, Task, TaskDraft};
use innoreport_core::{CommuneCode, ProvinceCode};
use innoreport_service::plans::{AnnexFormat, PlanAction, PlanRevisionView, PlanView};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Auth;
use crate::http::pagination::{PageParams, page_of};
use crate::http::problem::{ApiError, Problem};
use crate::http::query::Query;
use crate::state::AppState;

/// A plan: a commune's, or a province's template.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanOut {
    pub owner: PlanOwner,
    /// The commune (5 digits) or province (2 digits) code.
    #[schema(example = "03808")]
    pub unit: String,
    pub province: String,
    pub first_year: i32,
    pub last_year: i32,
    pub title: String,
    /// The current revision (1, 2, ...).
    pub revision: i32,
    /// `approved`: locked until the province reopens it.
    pub status: PlanStatus,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
    pub sections: Vec<Section>,
    pub tasks: Vec<Task>,
}

impl From<PlanView> for PlanOut {
    fn from(p: PlanView) -> Self {
        PlanOut {
            owner: p.owner,
            unit: p.unit,
            province: p.province,
            first_year: p.body.first_year,
            last_year: p.body.last_year,
            title: p.body.title,
            revision: p.revision,
            status: p.status,
            updated_by: p.updated_by,
            updated_at: p.updated_at,
            sections: p.body.sections,
            tasks: p.body.tasks,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanList {
    pub items: Vec<PlanOut>,
    /// The cursor of the next page (null: the last page).
    pub next_cursor: Option<String>,
}

/// The path of one plan: whose, and a year it covers.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PlanPath {
    /// `commune` (a commune's plan) or `province` (a province's template).
    pub owner: PlanOwner,
    /// The commune or province code.
    #[param(example = "03808")]
    pub code: String,
    /// A year the plan covers (for a new plan: its first year).
    #[param(example = 2026, minimum = 1976, maximum = 9999)]
    pub year: i32,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanListQuery {
    /// `commune` or `province` (templates).
    pub owner: Option<PlanOwner>,
    #[param(value_type = Option<String>, example = "14")]
    pub province: Option<ProvinceCode>,
    #[param(value_type = Option<String>, example = "03808")]
    pub commune: Option<CommuneCode>,
    /// Plans covering this year.
    #[param(example = 2026, minimum = 1976, maximum = 9999)]
    pub year: Option<i32>,
}

/// The plans the caller may read (a commune officer: its own and its province's templates).
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(PlanListQuery, PageParams),
    responses(
        (status = 200, description = "One page of plans, by owner, unit and first year", body = PlanList),
        (status = 400, description = "A bad filter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A province or commune outside the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/plans")]
pub async fn list_plans(
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<PlanListQuery>,
    page: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    if let Some(y) = q.year {
        check_year(y)?;
    }
    let limit = page.limit()?;
    let after = page.after("plan")?;
    let plans = state
        .call(move |s| {
            s.plans(
                &auth.0,
                q.owner,
                q.province.as_ref().map(|p| p.as_str()),
                q.commune.as_ref().map(|c| c.as_str()),
                q.year,
            )
        })
        .await?;
    let key = |p: &PlanView| format!("{}/{}/{:04}", p.owner.as_str(), p.unit, p.body.first_year);
    let rows: Vec<PlanView> = plans
        .into_iter()
        .filter(|p| after.as_ref().is_none_or(|a| key(p) > *a))
        .take(limit as usize + 1)
        .collect();
    let (rows, next_cursor) = page_of(rows, limit, "plan", key);
    Ok(HttpResponse::Ok().json(PlanList {
        items: rows.into_iter().map(PlanOut::from).collect(),
        next_cursor,
    }))
}

fn check_year(y: i32) -> Result<(), ApiError> {
    if (1976..=9999).contains(&y) {
        Ok(())
    } else {
        Err(ApiError::from(innoreport_service::ServiceError::bad(
            "year",
            "invalid_year",
            "a year from 1976 to 9999",
        )))
    }
}

/// The plan of a unit covering a year.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(PlanPath),
    responses(
        (status = 200, description = "The plan", body = PlanOut),
        (status = 400, description = "A bad path", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such unit, or no plan for the year", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/plans/{owner}/{code}/{year}")]
pub async fn get_plan(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<PlanPath>,
) -> Result<HttpResponse, ApiError> {
    let p = path.into_inner();
    check_year(p.year)?;
    let plan = state
        .call(move |s| s.plan(&auth.0, p.owner, &p.code, p.year))
        .await?;
    Ok(HttpResponse::Ok().json(PlanOut::from(plan)))
}

/// A whole plan as written: its title, last year, sections and tasks (timeframes as the plans
/// write them), with the revision the client last saw.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanIn {
    #[schema(example = "Kế hoạch phát triển KH, CN và ĐMST năm 2026")]
    pub title: String,
    /// The last year the plan covers (default: its first year; at most 10 years).
    pub last_year: Option<i32>,
    /// The sections tasks belong to ("I", "II", ...).
    #[serde(default)]
    pub sections: Vec<Section>,
    pub tasks: Vec<TaskDraft>,
    /// The revision the client last saw (0: expects no plan yet); another answers 409.
    pub base_revision: Option<i32>,
    /// Why this change was made.
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DryRunQuery {
    /// Check everything and answer the plan as it would be, storing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Writes a unit's plan whole (creates it, or makes its next revision). Whoever submits for a
/// commune writes its plan; a province admin writes the province's template. Tasks adopted
/// from the template keep their origin.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(PlanPath, DryRunQuery),
    request_body = PlanIn,
    responses(
        (status = 200, description = "The plan as stored (in a dry run: as it would be)", body = PlanOut),
        (status = 400, description = "Malformed JSON or path", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such unit", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "base_revision is not the current revision", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid plan, every problem listed; nothing stored", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "The plan is approved: the province must reopen it", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/plans/{owner}/{code}/{year}")]
pub async fn put_plan(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<PlanPath>,
    query: Query<DryRunQuery>,
    body: web::Json<PlanIn>,
) -> Result<HttpResponse, ApiError> {
    let p = path.into_inner();
    check_year(p.year)?;
    let body = body.into_inner();
    let dry_run = query.dry_run;
    let plan = state
        .call_write(move |s| {
            s.put_plan(
                &auth.0,
                p.owner,
                &p.code,
                p.year,
                &PlanDraft {
                    title: body.title,
                    last_year: body.last_year,
                    sections: body.sections,
                    tasks: body.tasks,
                },
                body.base_revision,
                body.comment.as_deref(),
                dry_run,
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(PlanOut::from(plan)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportPlanQuery {
    /// The plan's title (default: the current plan's, or "Kế hoạch năm <year>").
    pub title: Option<String>,
    /// The last year the plan covers (default: its first year).
    #[param(minimum = 1976, maximum = 9999)]
    pub last_year: Option<i32>,
    /// The revision the client last saw (0: expects no plan yet).
    pub base_revision: Option<i32>,
    /// Check the table and answer the plan as it would be, storing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// What an import stored (or, in a dry run, would store).
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanImportOut {
    pub dry_run: bool,
    pub plan: PlanOut,
}

/// Imports a unit's plan from its annex table as people have it: CSV (UTF-8; comma, semicolon
/// or tab) or an xlsx workbook (its first sheet), with the columns STT, Nội dung, Nhiệm vụ (or
/// Nội dung công việc), Cơ quan chủ trì, Cơ quan phối hợp, Thời gian thực hiện and optionally
/// Kết quả dự kiến, Ghi chú, Chỉ tiêu. Roman-numbered rows open sections; tasks are coded
/// `<section>.<STT>`. Every unreadable row is answered with its line; nothing is stored from a
/// rejected file.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(PlanPath, ImportPlanQuery),
    request_body(
        description = "The annex table: CSV (text/csv) or an xlsx workbook",
        content(
            (String = "text/csv", example = "STT,Nội dung,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Thời gian thực hiện\nI,NHIỆM VỤ VỀ THỂ CHẾ,,,,\n1,Triển khai chính sách KHCN,Tổ chức tuyên truyền,Phòng Văn hóa - Xã hội,Các bản,Năm 2026\n"),
            (crate::http::export::Binary = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ),
    ),
    responses(
        (status = 200, description = "The plan as stored (in a dry run: as it would be)", body = PlanImportOut),
        (status = 400, description = "An unreadable file or a bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such unit", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "base_revision is not the current revision", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither CSV nor xlsx", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rows that cannot be read, each with its line; nothing stored", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "The plan is approved: the province must reopen it", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/plans/{owner}/{code}/{year}/import")]
pub async fn import_plan(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<PlanPath>,
    query: Query<ImportPlanQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let p = path.into_inner();
    check_year(p.year)?;
    let q = query.into_inner();
    if let Some(y) = q.last_year {
        check_year(y)?;
    }
    if q.title.as_ref().is_some_and(|t| t.chars().count() > 300) {
        return Err(innoreport_service::ServiceError::bad(
            "title",
            "too_long",
            "a title has at most 300 characters",
        )
        .into());
    }
    let media = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let format = match media.as_str() {
        "text/csv" | "application/csv" | "text/plain" | "text/tab-separated-values" => {
            AnnexFormat::Csv
        }
        crate::http::export::XLSX_CONTENT_TYPE => AnnexFormat::Xlsx,
        // Bytes without a media type: a workbook is a zip file.
        "application/octet-stream" if body.starts_with(b"PK") => AnnexFormat::Xlsx,
        "application/octet-stream" => AnnexFormat::Csv,
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "send text/csv or an xlsx workbook, not {:?}",
                innoreport_service::reports::clip(other)
            )));
        }
    };
    let imported = state
        .call_write(move |s| {
            let title = match q.title.clone() {
                Some(t) => t,
                None => s
                    .plan(&auth.0, p.owner, &p.code, p.year)
                    .map(|plan| plan.body.title)
                    .unwrap_or_else(|_| format!("Kế hoạch năm {}", p.year)),
            };
            s.import_plan(
                &auth.0,
                p.owner,
                &p.code,
                p.year,
                &body,
                format,
                &title,
                q.last_year,
                q.base_revision,
                q.dry_run,
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(PlanImportOut {
        dry_run: imported.dry_run,
        plan: imported.plan.into(),
    }))
}

/// The revision the client last saw, for an adoption.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdoptIn {
    /// 0: expects no plan yet.
    pub base_revision: Option<i32>,
}

/// The path of a commune's plan.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CommunePlanPath {
    #[param(example = "03808")]
    pub code: String,
    #[param(example = 2026, minimum = 1976, maximum = 9999)]
    pub year: i32,
}

/// Adopts the province's published (approved) template for the year into the commune's plan
/// (creating it if needed): the template's tasks, with their codes, replace those adopted
/// before; the commune's own tasks stay.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(CommunePlanPath),
    request_body = AdoptIn,
    responses(
        (status = 200, description = "The commune's plan with the template's tasks", body = PlanOut),
        (status = 400, description = "Malformed JSON or path", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune, or no published template for the year", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "base_revision is not the current revision", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An own task has a code of the template", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "The commune's plan is approved", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/plans/commune/{code}/{year}/adopt")]
pub async fn adopt_template(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<CommunePlanPath>,
    body: Option<web::Json<AdoptIn>>,
) -> Result<HttpResponse, ApiError> {
    let p = path.into_inner();
    check_year(p.year)?;
    let base = body.and_then(|b| b.into_inner().base_revision);
    let plan = state
        .call_write(move |s| s.adopt_template(&auth.0, &p.code, p.year, base))
        .await?;
    Ok(HttpResponse::Ok().json(PlanOut::from(plan)))
}

/// What the province decides on a plan.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanReviewAction {
    /// Lock the plan (and publish a template for adoption).
    Approve,
    /// Unlock it for changes.
    Reopen,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanReviewIn {
    pub action: PlanReviewAction,
    pub comment: Option<String>,
}

/// Approves (locks; for a template: publishes) or reopens a plan: a province admin's decision.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(PlanPath),
    request_body = PlanReviewIn,
    responses(
        (status = 200, description = "The plan after the decision", body = PlanOut),
        (status = 400, description = "Malformed JSON or path", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a province admin of the plan's province", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The plan changed meanwhile", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/plans/{owner}/{code}/{year}/review")]
pub async fn review_plan(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<PlanPath>,
    body: web::Json<PlanReviewIn>,
) -> Result<HttpResponse, ApiError> {
    let p = path.into_inner();
    check_year(p.year)?;
    let b = body.into_inner();
    let action = match b.action {
        PlanReviewAction::Approve => PlanAction::Approve,
        PlanReviewAction::Reopen => PlanAction::Reopen,
    };
    if let Some(c) = &b.comment
        && c.chars().count() > 2000
    {
        return Err(innoreport_service::ServiceError::bad(
            "comment",
            "too_long",
            "a comment has at most 2000 characters",
        )
        .into());
    }
    let plan = state
        .call_write(move |s| {
            s.review_plan(
                &auth.0,
                p.owner,
                &p.code,
                p.year,
                action,
                b.comment.as_deref(),
            )
        })
        .await?;
    Ok(HttpResponse::Ok().json(PlanOut::from(plan)))
}

/// One field of a task changed by a revision (`field` = `task` when the task was added or
/// removed; the task is empty for the plan's title).
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanChange {
    pub task: String,
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanRevisionOut {
    pub revision: i32,
    /// `edit`, `import`, `adopt`, `approve` or `reopen`.
    pub action: String,
    pub author: String,
    pub at: DateTime<Utc>,
    pub comment: Option<String>,
    pub status: PlanStatus,
    /// How many tasks the plan had after it.
    pub tasks: usize,
    pub changes: Vec<PlanChange>,
}

impl From<PlanRevisionView> for PlanRevisionOut {
    fn from(r: PlanRevisionView) -> Self {
        PlanRevisionOut {
            revision: r.number,
            action: r.action,
            author: r.author,
            at: r.at,
            comment: r.comment,
            status: r.status,
            tasks: r.tasks,
            changes: r
                .changes
                .into_iter()
                .map(|(task, field, old, new)| PlanChange {
                    task,
                    field,
                    old,
                    new,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanRevisionList {
    pub items: Vec<PlanRevisionOut>,
}

/// Every revision of a plan, oldest first, with its author, time and old → new task fields.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(PlanPath),
    responses(
        (status = 200, description = "The revisions", body = PlanRevisionList),
        (status = 400, description = "A bad path", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/plans/{owner}/{code}/{year}/revisions")]
pub async fn plan_revisions(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<PlanPath>,
) -> Result<HttpResponse, ApiError> {
    let p = path.into_inner();
    check_year(p.year)?;
    let revisions = state
        .call(move |s| s.plan_revisions(&auth.0, p.owner, &p.code, p.year))
        .await?;
    Ok(HttpResponse::Ok().json(PlanRevisionList {
        items: revisions.into_iter().map(PlanRevisionOut::from).collect(),
    }))
}
