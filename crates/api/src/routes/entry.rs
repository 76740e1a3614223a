//! `GET /communes/{code}/periods`: the periods a commune reports and whether each can be written
//! now (the data-entry form's list of open reports).

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use innoreport_core::{LockReason, ReportStatus};
use innoreport_service::entry::ReportingPeriod;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::auth::Auth;
use crate::http::problem::{ApiError, Problem};
use crate::state::AppState;

/// One period of one data set, as the commune stands with it now.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodOut {
    #[schema(example = "dmst-quarterly")]
    pub dataset: String,
    #[schema(example = "2026Q4")]
    pub period: String,
    pub deadline: DateTime<Utc>,
    /// When it stops accepting changes (null: never by time).
    pub lock: Option<DateTime<Utc>>,
    /// Past the deadline: a first report now is late.
    pub late: bool,
    /// Whether the commune can write it now.
    pub editable: bool,
    /// Why it cannot: `approved` (until the province unapproves it) or `past_lock` (until the
    /// province reopens it); null when editable.
    pub locked_reason: Option<String>,
    /// The province reopened it (or opened it, never filed) after its lock.
    pub reopened: bool,
    /// The current revision, to send as `base_revision` (0: never filed).
    pub revision: i32,
    /// Null: never filed.
    pub status: Option<ReportStatus>,
}

impl From<ReportingPeriod> for PeriodOut {
    fn from(p: ReportingPeriod) -> Self {
        PeriodOut {
            dataset: p.dataset,
            period: p.period.to_string(),
            deadline: p.deadline,
            lock: p.lock,
            late: p.late,
            editable: p.locked.is_none(),
            locked_reason: p.locked.map(|r| {
                match r {
                    LockReason::Approved => "approved",
                    LockReason::PastLock => "past_lock",
                }
                .to_owned()
            }),
            reopened: p.reopened,
            revision: p.revision,
            status: p.status,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodList {
    pub items: Vec<PeriodOut>,
}

/// The periods a commune reports, this year's and last year's that have started, newest first
/// within each data set: deadline, lock, whether a report can be written now and why not, and
/// the revision to send as `base_revision`.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(("code" = String, Path, example = "03808")),
    responses(
        (status = 200, description = "The periods", body = PeriodList),
        (status = 403, description = "Another commune than the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/communes/{code}/periods")]
pub async fn reporting_periods(
    state: web::Data<AppState>,
    auth: Auth,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let code = code.into_inner();
    let periods = state
        .call(move |s| s.reporting_periods(&auth.0, &code))
        .await?;
    Ok(HttpResponse::Ok().json(PeriodList {
        items: periods.into_iter().map(PeriodOut::from).collect(),
    }))
}
