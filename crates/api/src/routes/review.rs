//! A report's history and its review: revisions (with exports), reviews, and the review
//! actions (approve, return, unapprove, reopen, open a report never filed).

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use innoreport_core::ReviewAction;
use innoreport_service::review::{Reviewed, RevisionView, TextChanges};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::auth::Auth;
use crate::http::export::{Cell, Export, ExportParams, ExportRow, Format, Lang, columns, respond};
use crate::http::problem::{ApiError, Problem};
use crate::http::query::Query;
use crate::routes::reports::{ReportOut, ReportPath, report_out};
use crate::state::AppState;

/// One value's change in a revision.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValueChange {
    pub indicator: String,
    pub old: Option<f64>,
    pub new: Option<f64>,
}

/// One text of the plan part changed in a revision (absent: none before, or removed).
#[derive(Debug, Serialize, ToSchema)]
pub struct TextChange {
    #[schema(example = "texts.proposals")]
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionOut {
    pub revision: i32,
    pub author: String,
    pub received_at: DateTime<Utc>,
    pub comment: Option<String>,
    pub changes: Vec<ValueChange>,
    /// What the revision changed in the plan part: `texts.proposals`, `tasks.I.1.status`, ...
    /// with the old and the new text.
    pub text_changes: Vec<TextChange>,
    /// Indicator code → value in this revision.
    #[schema(value_type = BTreeMap<String, f64>)]
    pub values: BTreeMap<String, f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionList {
    pub items: Vec<RevisionOut>,
    pub next_cursor: Option<String>,
}

fn revision_out((r, texts): (RevisionView, TextChanges)) -> RevisionOut {
    RevisionOut {
        text_changes: texts
            .into_iter()
            .map(|(field, old, new)| TextChange { field, old, new })
            .collect(),
        revision: r.number,
        author: r.author,
        received_at: r.received_at,
        comment: r.comment,
        changes: r
            .changes
            .into_iter()
            .map(|(indicator, (old, new))| ValueChange {
                indicator,
                old,
                new,
            })
            .collect(),
        values: r.values,
    }
}

/// Every revision of a report, oldest first, with author, time, comment and old → new values.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ReportPath, ExportParams),
    responses(
        (status = 200, description = "The revisions (as CSV or xlsx: one row per changed value)", body = RevisionList),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/reports/{dataset}/{period}/{commune}/revisions")]
pub async fn list_revisions(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<ReportPath>,
    export: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    export_revisions(state, auth, path, export.format(&req), export.lang()).await
}

/// One row per changed value: the audit trail in a spreadsheet.
struct RevisionRow<'a>(&'a RevisionOut, &'a ValueChange);

impl ExportRow for RevisionRow<'_> {
    fn columns() -> Vec<(String, String)> {
        columns(&[
            ("revision", "Lần sửa"),
            ("author", "Người nộp"),
            ("received_at", "Thời điểm nhận"),
            ("comment", "Ghi chú"),
            ("indicator", "Chỉ tiêu"),
            ("old", "Giá trị cũ"),
            ("new", "Giá trị mới"),
        ])
    }

    fn cells(&self) -> Vec<Cell> {
        let (r, c) = (self.0, self.1);
        vec![
            r.revision.into(),
            r.author.as_str().into(),
            r.received_at.into(),
            r.comment.clone().into(),
            c.indicator.as_str().into(),
            c.old.into(),
            c.new.into(),
        ]
    }
}

async fn export_revisions(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<ReportPath>,
    format: Format,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    let name = format!(
        "revisions_{}_{}_{}",
        path.dataset, path.commune, path.period
    );
    let (_, revisions, texts) = state
        .call(move |s| s.revisions(&auth.0, &path.dataset, &path.period, &path.commune))
        .await?;
    let items: Vec<RevisionOut> = revisions.into_iter().zip(texts).map(revision_out).collect();
    if format == Format::Json {
        return Ok(HttpResponse::Ok().json(RevisionList {
            items,
            next_cursor: None,
        }));
    }
    let rows: Vec<RevisionRow<'_>> = items
        .iter()
        .flat_map(|r| r.changes.iter().map(move |c| RevisionRow(r, c)))
        .collect();
    let export = Export::of(name, &rows);
    respond(format, lang, || export, || HttpResponse::Ok().finish()).await
}

crate::export_routes! {
    module: list_revisions_exports,
    tag: "reports",
    security: (("bearer" = [])),
    csv: list_revisions_csv = "/reports/{dataset}/{period}/{commune}/revisions.csv",
    xlsx: list_revisions_xlsx = "/reports/{dataset}/{period}/{commune}/revisions.xlsx",
    params: (ReportPath,),
    args: (auth: Auth, path: web::Path<ReportPath>),
    export: export_revisions,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewOut {
    pub action: ReviewAction,
    pub actor: String,
    pub comment: Option<String>,
    /// The report's revision when the action was taken (0: opened before it was ever filed).
    pub revision: i32,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewList {
    pub items: Vec<ReviewOut>,
    pub next_cursor: Option<String>,
}

/// Every review action taken on a report, oldest first.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ReportPath),
    responses(
        (status = 200, description = "The review actions", body = ReviewList),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/reports/{dataset}/{period}/{commune}/reviews")]
pub async fn list_reviews(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<ReportPath>,
) -> Result<web::Json<ReviewList>, ApiError> {
    let path = path.into_inner();
    let reviews = state
        .call(move |s| s.reviews(&auth.0, &path.dataset, &path.period, &path.commune))
        .await?;
    Ok(web::Json(ReviewList {
        items: reviews
            .into_iter()
            .map(|r| ReviewOut {
                action: r.action,
                actor: r.actor,
                comment: r.comment,
                revision: r.revision,
                at: r.at,
            })
            .collect(),
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub action: ReviewAction,
    pub comment: Option<String>,
}

/// A report never filed, opened by the province after its lock: the commune may now file it
/// (it will be late).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportOpening {
    pub dataset: String,
    pub period: String,
    pub commune: String,
    pub opened_by: String,
    pub opened_at: DateTime<Utc>,
    pub comment: Option<String>,
}

/// Reviews a report (province admin): approve (locks), return (asks for a correction),
/// unapprove, reopen (lifts the lock for this report). `reopen` on a report the commune never
/// filed opens it, so it can still be filed after its lock (late).
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    request_body = ReviewRequest,
    params(ReportPath),
    responses(
        (status = 200, description = "The report after the action", body = ReportOut),
        (status = 201, description = "The report was never filed: it is now open for the commune to file", body = ReportOpening),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the province admin of this commune", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report (or data set)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The action does not apply to the report's status", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A comment too long, or a period the commune could not file", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/reports/{dataset}/{period}/{commune}/review")]
pub async fn review_report(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<ReportPath>,
    body: web::Json<ReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    let ReportPath {
        dataset,
        period,
        commune,
    } = path.into_inner();
    let ReviewRequest { action, comment } = body.into_inner();
    let reviewed = state
        .call_write(move |s| {
            s.review(
                &auth.0,
                &dataset,
                &period,
                &commune,
                action,
                comment.as_deref(),
            )
        })
        .await?;
    Ok(match reviewed {
        Reviewed::Report(r) => HttpResponse::Ok().json(report_out(*r, Vec::new())),
        Reviewed::Opened(o) => HttpResponse::Created().json(ReportOpening {
            dataset: o.dataset,
            period: o.period,
            commune: o.commune,
            opened_by: o.actor,
            opened_at: o.at,
            comment: o.comment,
        }),
    })
}
