//! `GET /plans/feedback`: the difficulties and proposals of a province's communes for a period,
//! grouped by section (JSON, CSV or xlsx; see `innoreport_service::plans`).

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use innoreport_core::Period;
use innoreport_service::plans::FeedbackItem;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::auth::Auth;
use crate::http::export::{Cell, Export, ExportParams, ExportRow, Format, Lang, columns, respond};
use crate::http::problem::{ApiError, Problem};
use crate::http::query::Query;
use crate::routes::plan_views::ProvincePeriodQuery;
use crate::state::AppState;

/// A difficulty or a proposal of a commune.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackOut {
    /// The section of the task it is about (null: the report as a whole).
    pub section: Option<String>,
    pub section_title: Option<String>,
    pub commune: String,
    pub name_vi: String,
    /// The task it is about (null: the report as a whole).
    pub task: Option<String>,
    pub task_title: Option<String>,
    /// `difficulty` (khó khăn, vướng mắc) or `proposal` (đề xuất, kiến nghị).
    pub kind: String,
    pub text: String,
}

impl From<FeedbackItem> for FeedbackOut {
    fn from(f: FeedbackItem) -> Self {
        FeedbackOut {
            section: f.section,
            section_title: f.section_title,
            commune: f.commune,
            name_vi: f.name_vi,
            task: f.task,
            task_title: f.task_title,
            kind: f.kind.into(),
            text: f.text,
        }
    }
}

impl ExportRow for FeedbackOut {
    fn columns() -> Vec<(String, String)> {
        columns(&[
            ("section", "Mục"),
            ("section_title", "Nội dung mục"),
            ("commune", "Mã xã"),
            ("name_vi", "Tên xã"),
            ("task", "Mã nhiệm vụ"),
            ("task_title", "Nhiệm vụ"),
            ("kind", "Loại"),
            ("text", "Nội dung"),
        ])
    }
    fn cells(&self) -> Vec<Cell> {
        let kind_vi = if self.kind == "difficulty" {
            "Khó khăn, vướng mắc"
        } else {
            "Đề xuất, kiến nghị"
        };
        vec![
            self.section.clone().into(),
            self.section_title.clone().into(),
            self.commune.as_str().into(),
            self.name_vi.as_str().into(),
            self.task.clone().into(),
            self.task_title.clone().into(),
            Cell::Code(self.kind.clone(), kind_vi.into()),
            self.text.as_str().into(),
        ]
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackList {
    pub province: String,
    #[schema(value_type = String, example = "2026Q2")]
    pub period: Period,
    pub as_of: DateTime<Utc>,
    /// Grouped by section (the reports' own texts first), then commune and task.
    pub items: Vec<FeedbackOut>,
}

/// The difficulties and proposals the communes of a province reported for a period (in their
/// reports' texts and on their tasks), grouped by section, each with its commune.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(ProvincePeriodQuery, ExportParams),
    responses(
        (status = 200, description = "The difficulties and proposals (JSON, CSV or xlsx)", body = FeedbackList),
        (status = 400, description = "A bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such province", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/plans/feedback")]
pub async fn plan_feedback(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<ProvincePeriodQuery>,
    export: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req);
    feedback_answer(state, auth, query, format, export.lang()).await
}

async fn feedback_answer(
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<ProvincePeriodQuery>,
    format: Format,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let f = state
        .call(move |s| s.plan_feedback(&auth.0, q.province.as_str(), q.period, q.as_of))
        .await?;
    let out = FeedbackList {
        province: f.province,
        period: f.period,
        as_of: f.as_of,
        items: f.items.into_iter().map(FeedbackOut::from).collect(),
    };
    let name = format!("plan_feedback_{}_{}", out.province, out.period);
    respond(
        format,
        lang,
        || Export::of(name, &out.items),
        || HttpResponse::Ok().json(&out),
    )
    .await
}

crate::export_routes! {
    module: feedback_exports,
    tag: "plans",
    security: (("bearer" = [])),
    csv: plan_feedback_csv = "/plans/feedback.csv",
    xlsx: plan_feedback_xlsx = "/plans/feedback.xlsx",
    params: (ProvincePeriodQuery,),
    args: (auth: Auth, query: Query<ProvincePeriodQuery>),
    export: feedback_answer,
}
