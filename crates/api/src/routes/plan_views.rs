//! The province's views of its communes' plans: completion by commune and by section with the
//! overdue tasks, one task across the communes, and one commune's tasks (JSON, CSV or xlsx; see
//! `innoreport_service::plans`; the difficulties and proposals are in `plan_feedback`).

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, Utc};
use innoreport_core::plans::{Counts, TaskStatus};
use innoreport_core::{Period, ProvinceCode};
use innoreport_service::plans::TaskStanding;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Auth;
use crate::http::export::{Cell, Export, ExportParams, ExportRow, Format, Lang, columns, respond};
use crate::http::problem::{ApiError, Problem};
use crate::http::query::Query;
use crate::state::AppState;

/// Completion counts over a set of tasks.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CountsOut {
    pub tasks: u32,
    pub completed: u32,
    pub in_progress: u32,
    pub not_started: u32,
    pub not_feasible: u32,
    /// Tasks with no status stated yet.
    pub not_reported: u32,
    /// Tasks past their due day and not completed.
    pub overdue: u32,
    /// completed / tasks (null without tasks).
    pub completion_rate: Option<f64>,
}

impl From<Counts> for CountsOut {
    fn from(c: Counts) -> Self {
        CountsOut {
            tasks: c.tasks,
            completed: c.completed,
            in_progress: c.in_progress,
            not_started: c.not_started,
            not_feasible: c.not_feasible,
            not_reported: c.not_reported,
            overdue: c.overdue,
            completion_rate: c.completion_rate(),
        }
    }
}

fn count_cells(c: &CountsOut) -> Vec<Cell> {
    vec![
        c.tasks.into(),
        c.completed.into(),
        c.in_progress.into(),
        c.not_started.into(),
        c.not_feasible.into(),
        c.not_reported.into(),
        c.overdue.into(),
        c.completion_rate.into(),
    ]
}

const COUNT_COLUMNS: [(&str, &str); 8] = [
    ("tasks", "Số nhiệm vụ"),
    ("completed", "Hoàn thành"),
    ("in_progress", "Đang triển khai"),
    ("not_started", "Chưa triển khai"),
    ("not_feasible", "Không thực hiện được"),
    ("not_reported", "Chưa báo cáo"),
    ("overdue", "Quá hạn"),
    ("completion_rate", "Tỷ lệ hoàn thành"),
];

fn with_counts(first: &[(&'static str, &'static str)]) -> Vec<(String, String)> {
    let mut all = first.to_vec();
    all.extend(COUNT_COLUMNS);
    columns(&all)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommuneCompletionOut {
    pub commune: String,
    pub name_vi: String,
    pub name_en: String,
    /// The plan's title (null: no plan for the year).
    pub plan: Option<String>,
    #[serde(flatten)]
    pub counts: CountsOut,
}

impl ExportRow for CommuneCompletionOut {
    fn columns() -> Vec<(String, String)> {
        with_counts(&[
            ("commune", "Mã xã"),
            ("name_vi", "Tên xã"),
            ("name_en", "Name"),
            ("plan", "Kế hoạch"),
        ])
    }
    fn cells(&self) -> Vec<Cell> {
        let mut c = vec![
            self.commune.as_str().into(),
            self.name_vi.as_str().into(),
            self.name_en.as_str().into(),
            self.plan.clone().into(),
        ];
        c.extend(count_cells(&self.counts));
        c
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SectionCompletionOut {
    /// The section's code ("" for tasks outside any section).
    pub section: String,
    pub title: String,
    /// Communes with tasks in the section.
    pub communes: usize,
    #[serde(flatten)]
    pub counts: CountsOut,
}

impl ExportRow for SectionCompletionOut {
    fn columns() -> Vec<(String, String)> {
        with_counts(&[
            ("section", "Mục"),
            ("title", "Nội dung"),
            ("communes", "Số xã"),
        ])
    }
    fn cells(&self) -> Vec<Cell> {
        let mut c = vec![
            self.section.as_str().into(),
            self.title.as_str().into(),
            (self.communes as u32).into(),
        ];
        c.extend(count_cells(&self.counts));
        c
    }
}

/// A task of a commune, judged.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskStandingOut {
    pub commune: String,
    pub name_vi: String,
    #[schema(example = "II.3")]
    pub task: String,
    pub title: String,
    pub section: Option<String>,
    pub section_title: Option<String>,
    pub lead: String,
    pub timeframe: String,
    /// The last status stated (null: none yet).
    pub status: Option<TaskStatus>,
    pub percent: Option<u8>,
    pub result: Option<String>,
    pub difficulties: Option<String>,
    pub proposals: Option<String>,
    /// The period whose report stated the status.
    pub stated_in: Option<String>,
    /// The last day of the timeframe (null: ongoing).
    pub due: Option<NaiveDate>,
    /// Days past the due day while not completed (null: not overdue).
    pub days_overdue: Option<i64>,
}

fn standing_out(s: TaskStanding) -> TaskStandingOut {
    TaskStandingOut {
        commune: s.commune,
        name_vi: s.name_vi,
        task: s.task.code,
        title: s.task.title,
        section: s.task.section,
        section_title: s.section_title,
        lead: s.task.lead,
        timeframe: s.task.timeframe,
        status: s.status,
        percent: s.percent,
        result: s.result,
        difficulties: s.difficulties,
        proposals: s.proposals,
        stated_in: s.stated_in,
        due: s.due,
        days_overdue: s.days_overdue,
    }
}

impl ExportRow for TaskStandingOut {
    fn columns() -> Vec<(String, String)> {
        columns(&[
            ("commune", "Mã xã"),
            ("name_vi", "Tên xã"),
            ("task", "Mã nhiệm vụ"),
            ("title", "Nhiệm vụ"),
            ("section", "Mục"),
            ("section_title", "Nội dung mục"),
            ("lead", "Cơ quan chủ trì"),
            ("timeframe", "Thời gian thực hiện"),
            ("status", "Tình trạng"),
            ("percent", "Tiến độ (%)"),
            ("result", "Kết quả"),
            ("difficulties", "Khó khăn, vướng mắc"),
            ("proposals", "Đề xuất, kiến nghị"),
            ("stated_in", "Kỳ báo cáo"),
            ("due", "Hạn"),
            ("days_overdue", "Số ngày quá hạn"),
        ])
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.commune.as_str().into(),
            self.name_vi.as_str().into(),
            self.task.as_str().into(),
            self.title.as_str().into(),
            self.section.clone().into(),
            self.section_title.clone().into(),
            self.lead.as_str().into(),
            self.timeframe.as_str().into(),
            self.status.map_or(Cell::Empty, |s| {
                Cell::Code(s.as_str().into(), s.name_vi().into())
            }),
            self.percent.map(u32::from).into(),
            self.result.clone().into(),
            self.difficulties.clone().into(),
            self.proposals.clone().into(),
            self.stated_in.clone().into(),
            self.due.map(|d| d.to_string()).into(),
            self.days_overdue.into(),
        ]
    }
}

/// Plan completion of a province's communes.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanProgressOut {
    pub province: String,
    #[schema(value_type = String, example = "2026Q2")]
    pub period: Period,
    /// The instant the tasks are judged at: statuses from revisions received by then, overdue
    /// when the due day is before its day in Vietnam.
    pub as_of: DateTime<Utc>,
    pub communes_with_plan: usize,
    pub totals: CountsOut,
    pub communes: Vec<CommuneCompletionOut>,
    pub sections: Vec<SectionCompletionOut>,
    /// Overdue tasks, most days overdue first.
    pub overdue: Vec<TaskStandingOut>,
}

/// Which table CSV and xlsx carry (JSON has them all).
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProgressTable {
    #[default]
    Communes,
    Sections,
    Overdue,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProgressQuery {
    #[param(value_type = String, example = "14")]
    pub province: ProvinceCode,
    /// A quarter or a year: statuses stated up to its end count.
    #[param(value_type = String, example = "2026Q2")]
    pub period: Period,
    /// Judge at this instant (RFC 3339; default now).
    pub as_of: Option<DateTime<Utc>>,
    /// The table CSV and xlsx carry: `communes` (default), `sections` or `overdue`.
    pub table: Option<ProgressTable>,
}

/// Task completion of the communes of a province for a period: counts and rates by commune,
/// by section and in all, and the overdue tasks with their days overdue.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(ProgressQuery, ExportParams),
    responses(
        (status = 200, description = "Completion (JSON; CSV or xlsx: the table chosen)", body = PlanProgressOut),
        (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope (commune officers see their own commune's tasks)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such province", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/plans/progress")]
pub async fn plan_progress(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<ProgressQuery>,
    export: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req);
    progress_answer(state, auth, query, format, export.lang()).await
}

async fn progress_answer(
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<ProgressQuery>,
    format: Format,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (province, period, as_of) = (q.province.as_str().to_owned(), q.period, q.as_of);
    let p = state
        .call(move |s| s.plan_progress(&auth.0, &province, period, as_of))
        .await?;
    let out = PlanProgressOut {
        province: p.province,
        period: p.period,
        as_of: p.as_of,
        communes_with_plan: p.communes_with_plan,
        totals: p.totals.into(),
        communes: p
            .communes
            .into_iter()
            .map(|c| CommuneCompletionOut {
                commune: c.commune,
                name_vi: c.name_vi,
                name_en: c.name_en,
                plan: c.plan,
                counts: c.counts.into(),
            })
            .collect(),
        sections: p
            .sections
            .into_iter()
            .map(|s| SectionCompletionOut {
                section: s.section,
                title: s.title,
                communes: s.communes,
                counts: s.counts.into(),
            })
            .collect(),
        overdue: p.overdue.into_iter().map(standing_out).collect(),
    };
    let name = format!("plan_progress_{}_{}", out.province, out.period);
    respond(
        format,
        lang,
        || match q.table.unwrap_or_default() {
            ProgressTable::Communes => Export::of(name, &out.communes),
            ProgressTable::Sections => Export::of(format!("{name}_sections"), &out.sections),
            ProgressTable::Overdue => Export::of(format!("{name}_overdue"), &out.overdue),
        },
        || HttpResponse::Ok().json(&out),
    )
    .await
}

crate::export_routes! {
    module: progress_exports,
    tag: "plans",
    security: (("bearer" = [])),
    csv: plan_progress_csv = "/plans/progress.csv",
    xlsx: plan_progress_xlsx = "/plans/progress.xlsx",
    params: (ProgressQuery,),
    args: (auth: Auth, query: Query<ProgressQuery>),
    export: progress_answer,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProvincePeriodQuery {
    #[param(value_type = String, example = "14")]
    pub province: ProvinceCode,
    #[param(value_type = String, example = "2026Q2")]
    pub period: Period,
    /// Judge at this instant (RFC 3339; default now).
    pub as_of: Option<DateTime<Utc>>,
}

/// One task across the communes.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskAcrossOut {
    pub province: String,
    #[schema(example = "II.3")]
    pub task: String,
    #[schema(value_type = String, example = "2026Q2")]
    pub period: Period,
    pub as_of: DateTime<Utc>,
    pub totals: CountsOut,
    pub items: Vec<TaskStandingOut>,
}

/// One task (by the code adopted from the template) across every commune of a province whose
/// plan has it.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(("code" = String, Path, example = "II.3"), ProvincePeriodQuery, ExportParams),
    responses(
        (status = 200, description = "The task in each commune (JSON, CSV or xlsx)", body = TaskAcrossOut),
        (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such province", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/plans/tasks/{code}")]
pub async fn task_across(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    code: web::Path<String>,
    query: Query<ProvincePeriodQuery>,
    export: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req);
    task_across_answer(state, auth, code, query, format, export.lang()).await
}

async fn task_across_answer(
    state: web::Data<AppState>,
    auth: Auth,
    code: web::Path<String>,
    query: Query<ProvincePeriodQuery>,
    format: Format,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let code = code.into_inner();
    let t = state
        .call(move |s| s.task_across(&auth.0, q.province.as_str(), &code, q.period, q.as_of))
        .await?;
    let out = TaskAcrossOut {
        province: t.province,
        task: t.code,
        period: t.period,
        as_of: t.as_of,
        totals: t.counts.into(),
        items: t.rows.into_iter().map(standing_out).collect(),
    };
    let name = format!("plan_task_{}_{}", out.province, out.period);
    respond(
        format,
        lang,
        || Export::of(name, &out.items),
        || HttpResponse::Ok().json(&out),
    )
    .await
}

crate::export_routes! {
    module: task_across_exports,
    tag: "plans",
    security: (("bearer" = [])),
    csv: task_across_csv = "/plans/tasks/{code}.csv",
    xlsx: task_across_xlsx = "/plans/tasks/{code}.xlsx",
    params: (("code" = String, Path, example = "II.3"), ProvincePeriodQuery,),
    args: (auth: Auth, code: web::Path<String>, query: Query<ProvincePeriodQuery>),
    export: task_across_answer,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CommuneTasksQuery {
    #[param(value_type = String, example = "2026Q2")]
    pub period: Period,
    /// Judge at this instant (RFC 3339; default now).
    pub as_of: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommuneTasksOut {
    pub commune: String,
    #[schema(value_type = String, example = "2026Q2")]
    pub period: Period,
    pub as_of: DateTime<Utc>,
    pub totals: CountsOut,
    pub items: Vec<TaskStandingOut>,
}

/// A commune's tasks for a period: the last status stated for each, its due day, and whether
/// it is overdue.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(("commune" = String, Path, example = "03808"), CommuneTasksQuery, ExportParams),
    responses(
        (status = 200, description = "The commune's tasks (JSON, CSV or xlsx)", body = CommuneTasksOut),
        (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/plans/progress/{commune}")]
pub async fn commune_tasks(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    commune: web::Path<String>,
    query: Query<CommuneTasksQuery>,
    export: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req);
    commune_tasks_answer(state, auth, commune, query, format, export.lang()).await
}

async fn commune_tasks_answer(
    state: web::Data<AppState>,
    auth: Auth,
    commune: web::Path<String>,
    query: Query<CommuneTasksQuery>,
    format: Format,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let commune = commune.into_inner();
    let c = commune.clone();
    let (period, as_of) = (q.period, q.as_of);
    let (tasks, as_of) = state
        .call(move |s| {
            let as_of = as_of.unwrap_or_else(|| s.now());
            Ok((s.commune_tasks(&auth.0, &c, period, Some(as_of))?, as_of))
        })
        .await?;
    let totals = innoreport_service::plans::count(&tasks);
    let out = CommuneTasksOut {
        commune: commune.clone(),
        period,
        as_of,
        totals: totals.into(),
        items: tasks.into_iter().map(standing_out).collect(),
    };
    let name = format!("plan_tasks_{commune}_{period}");
    respond(
        format,
        lang,
        || Export::of(name, &out.items),
        || HttpResponse::Ok().json(&out),
    )
    .await
}

crate::export_routes! {
    module: commune_tasks_exports,
    tag: "plans",
    security: (("bearer" = [])),
    csv: commune_tasks_csv = "/plans/progress/{commune}.csv",
    xlsx: commune_tasks_xlsx = "/plans/progress/{commune}.xlsx",
    params: (("commune" = String, Path, example = "03808"), CommuneTasksQuery,),
    args: (auth: Auth, commune: web::Path<String>, query: Query<CommuneTasksQuery>),
    export: commune_tasks_answer,
}
