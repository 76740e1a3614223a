//! `POST /imports`: many reports at once from CSV or a JSON array (see
//! `innoreport_service::imports`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use innoreport_service::imports::{ImportSummary as Summary, UploadFormat};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Auth;
use crate::http::problem::{ApiError, Problem};
use crate::http::query::Query;
use crate::routes::reports::ReportSubmission;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Check everything and report what would happen, storing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// One problem of one row (CSV: the line number, header = 1; JSON: the position in the array,
/// from 1).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportConflict {
    pub row: usize,
    pub field: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportSummary {
    pub dry_run: bool,
    /// Reports found in the upload (rows grouped by commune × data set × period).
    pub reports: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Reports not applied (each has at least one conflict).
    pub rejected: usize,
    /// The conflicts, by row (the first 1,000).
    pub conflicts: Vec<ImportConflict>,
    /// Every conflict found (more than `conflicts` lists when above 1,000).
    pub conflicts_total: usize,
}

impl From<Summary> for ImportSummary {
    fn from(s: Summary) -> Self {
        ImportSummary {
            dry_run: s.dry_run,
            reports: s.reports,
            created: s.created,
            updated: s.updated,
            unchanged: s.unchanged,
            rejected: s.rejected,
            conflicts: s
                .conflicts
                .into_iter()
                .map(|c| ImportConflict {
                    row: c.row,
                    field: c.field,
                    code: c.code,
                    message: c.message,
                })
                .collect(),
            conflicts_total: s.conflicts_total,
        }
    }
}

/// Imports many reports at once from CSV or JSON; `dry_run=true` stores nothing.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(
        description = "CSV (text/csv) with the columns commune,dataset,period,indicator,value (and optionally comment), or a JSON array of report submissions (application/json). `POST /imports.csv` takes the same CSV as a file of bytes.",
        content(
            (String = "text/csv", example = "commune,dataset,period,indicator,value\n03808,dmst-quarterly,2026Q1,dossiers_total,120\n"),
            (Vec<ReportSubmission> = "application/json"),
        ),
    ),
    responses(
        (status = 200, description = "What was (or, in a dry run, would be) applied, and every conflict", body = ImportSummary),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither CSV nor JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unreadable upload (encoding, header, not an array)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/imports")]
pub async fn import_reports(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<ImportQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let format = match media_type(&req).as_str() {
        "text/csv" | "application/csv" | "application/octet-stream" => UploadFormat::Csv,
        "application/json" => UploadFormat::Json,
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "send text/csv or application/json, not {:?}",
                if other.is_empty() {
                    "nothing".to_owned()
                } else {
                    innoreport_service::reports::clip(other)
                }
            )));
        }
    };
    let dry_run = query.dry_run;
    let summary = state
        .call_write(move |s| s.import(&auth.0, format, &body, dry_run))
        .await?;
    Ok(HttpResponse::Ok().json(ImportSummary::from(summary)))
}

/// Imports a CSV file (the columns of `POST /imports`), sent as bytes: for clients that upload
/// files as octet streams. `dry_run=true` stores nothing.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(
        description = "The CSV file: commune,dataset,period,indicator,value (and optionally comment), UTF-8 with or without BOM.",
        content(
            (crate::http::export::Binary = "application/octet-stream"),
            (String = "text/csv"),
        ),
    ),
    responses(
        (status = 200, description = "What was (or, in a dry run, would be) applied, and every conflict", body = ImportSummary),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not a CSV file", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unreadable upload (encoding, header)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/imports.csv")]
pub async fn import_reports_csv(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<ImportQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    match media_type(&req).as_str() {
        "text/csv" | "application/csv" | "application/octet-stream" => {}
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "send the CSV as application/octet-stream or text/csv, not {:?}",
                innoreport_service::reports::clip(other)
            )));
        }
    }
    let dry_run = query.dry_run;
    let summary = state
        .call_write(move |s| s.import(&auth.0, UploadFormat::Csv, &body, dry_run))
        .await?;
    Ok(HttpResponse::Ok().json(ImportSummary::from(summary)))
}

/// The media type of a request, lower case, without parameters.
fn media_type(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}
