//! `GET /documents/province/{code}` and `/documents/commune/{code}`: the report documents
//! (`.docx`, the layout of Decree 30/2020/NĐ-CP) written from the data
//! (see `innoreport_service::documents`).

use actix_web::http::header;
use actix_web::{HttpResponse, get, put, web};
use chrono::{DateTime, NaiveDate, Utc};
use innoreport_core::Period;
use innoreport_service::documents::DocumentOptions;
use innoreport_service::documents::settings::{DocumentSettings, DocumentUnit, SettingsInput};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Auth;
use crate::http::problem::{ApiError, Problem};
use crate::http::query::Query;
use crate::state::AppState;

pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentQuery {
    /// A quarter (`2026Q4`: a quarterly report) or a year (`2026`: an annual report) that has
    /// begun.
    #[param(value_type = String, example = "2026Q4")]
    pub period: Period,
    /// The registry number, 1 to 10 digits: `125` gives "Số: 125/BC-SKHCN" (left blank for the
    /// clerk when absent).
    pub number: Option<String>,
    /// The date of issue (default: today in Vietnam), written "ngày 05 tháng 12 năm 2026"; not
    /// before the period begins, at most 31 days after today.
    #[param(value_type = Option<String>, format = Date, example = "2026-12-05")]
    pub date: Option<NaiveDate>,
    /// The signer's full name (default: left blank for the signer); at most 200 characters.
    pub signer: Option<String>,
    /// The signer's title (default `GIÁM ĐỐC` for the department's report, `CHỦ TỊCH` for a
    /// commune's); at most 200 characters.
    pub signer_title: Option<String>,
    /// "Nơi nhận", separated by `;` (at most 20, each at most 200 characters; default: the
    /// bodies the report goes to, and the archive).
    pub recipients: Option<String>,
    /// Judge compliance at this instant (RFC 3339; default now).
    pub as_of: Option<DateTime<Utc>>,
}

impl DocumentQuery {
    fn options(&self) -> DocumentOptions {
        DocumentOptions {
            number: self.number.clone(),
            date: self.date,
            signer: self.signer.clone(),
            signer_title: self.signer_title.clone(),
            recipients: self.recipients.as_ref().map(|r| {
                r.split(';')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            }),
            as_of: self.as_of,
        }
    }
}

/// The body of a `.docx` answer: a Word document.
pub struct DocxFile;

impl utoipa::PartialSchema for DocxFile {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Binary,
            )))
            .into()
    }
}

impl utoipa::ToSchema for DocxFile {}

/// Whose documents a path names.
#[derive(Debug, Clone, Copy)]
enum Unit {
    Province,
    Commune,
}

impl Unit {
    fn of(self, code: &str) -> DocumentUnit<'_> {
        match self {
            Unit::Province => DocumentUnit::Province(code),
            Unit::Commune => DocumentUnit::Commune(code),
        }
    }
}

/// Writes the unit's document on the blocking pool and answers it as an attachment.
async fn download(
    state: &AppState,
    auth: Auth,
    code: String,
    query: &DocumentQuery,
    unit: Unit,
) -> Result<HttpResponse, ApiError> {
    let (period, options) = (query.period, query.options());
    let name = format!("bao_cao_{}_{}", safe(&code), safe(&period.to_string()));
    let bytes = state
        .call(move |s| {
            let doc = s.document(&auth.0, unit.of(&code), period, &options)?;
            innoreport_documents::docx(&doc)
                .map_err(|e| innoreport_service::ServiceError::internal("writing a document", e))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, DOCX))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.docx\""),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .body(bytes))
}

/// A safe file name part (codes and periods are ASCII already; anything else becomes `_`).
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The department's report on a province for a quarter or a year, as a Word document:
/// compliance (with the late and missing communes), the headline indicators against the
/// previous period and the targets, the innovation index, and annexes with every commune's
/// figures and index rank. Province roles and national roles only.
#[utoipa::path(
    tag = "documents",
    security(("bearer" = [])),
    params(("code" = String, Path, example = "14"), DocumentQuery),
    responses(
        (status = 200, description = "The report (.docx; clients that read only octet streams may treat it as one)", content(
            (DocxFile = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (DocxFile = "application/octet-stream"),
        )),
        (status = 400, description = "A bad period (only quarters and years have reports) or option, every problem listed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope (a commune officer gets their commune's report, not the province's)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such province", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/documents/province/{code}")]
pub async fn province_document(
    state: web::Data<AppState>,
    auth: Auth,
    code: web::Path<String>,
    query: Query<DocumentQuery>,
) -> Result<HttpResponse, ApiError> {
    download(&state, auth, code.into_inner(), &query, Unit::Province).await
}

/// A commune's report for a quarter or a year, as a Word document: whether its reports were in
/// on time, and its figures against the previous period and its targets of the year.
#[utoipa::path(
    tag = "documents",
    security(("bearer" = [])),
    params(("code" = String, Path, example = "03808"), DocumentQuery),
    responses(
        (status = 200, description = "The report (.docx; clients that read only octet streams may treat it as one)", content(
            (DocxFile = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (DocxFile = "application/octet-stream"),
        )),
        (status = 400, description = "A bad period (only quarters and years have reports) or option, every problem listed", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/documents/commune/{code}")]
pub async fn commune_document(
    state: web::Data<AppState>,
    auth: Auth,
    code: web::Path<String>,
    query: Query<DocumentQuery>,
) -> Result<HttpResponse, ApiError> {
    download(&state, auth, code.into_inner(), &query, Unit::Commune).await
}

/// Who signs a unit's documents and to whom they go, unless a request says otherwise.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    /// The signer's full name (at most 200 characters; null: left blank).
    #[schema(example = "Nguyễn Văn A")]
    pub signer: Option<String>,
    /// The signer's title (null: `GIÁM ĐỐC` for the department, `CHỦ TỊCH` for a commune).
    #[schema(example = "GIÁM ĐỐC")]
    pub signer_title: Option<String>,
    /// "Nơi nhận", at most 20, each at most 200 characters (null: the default recipients).
    #[schema(example = json!(["UBND tỉnh Sơn La (để báo cáo)", "Lưu: VT"]))]
    pub recipients: Option<Vec<String>>,
}

/// A unit's saved document settings (all null when nothing was saved).
#[derive(Debug, Serialize, ToSchema)]
pub struct Settings {
    /// Province or commune code.
    pub unit: String,
    pub signer: Option<String>,
    pub signer_title: Option<String>,
    pub recipients: Option<Vec<String>>,
    pub updated_by: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
}

fn settings_out(unit: String, s: Option<DocumentSettings>) -> Settings {
    match s {
        Some(s) => Settings {
            unit: s.unit,
            signer: s.signer,
            signer_title: s.signer_title,
            recipients: s.recipients,
            updated_by: Some(s.updated_by),
            updated_at: Some(s.updated_at),
        },
        None => Settings {
            unit,
            signer: None,
            signer_title: None,
            recipients: None,
            updated_by: None,
            updated_at: None,
        },
    }
}

async fn get_settings(
    state: &AppState,
    auth: Auth,
    code: String,
    unit: Unit,
) -> Result<HttpResponse, ApiError> {
    let answer_unit = code.clone();
    let s = state
        .call(move |s| s.document_settings(&auth.0, unit.of(&code)))
        .await?;
    Ok(HttpResponse::Ok().json(settings_out(answer_unit, s)))
}

async fn put_settings(
    state: &AppState,
    auth: Auth,
    code: String,
    unit: Unit,
    body: SettingsBody,
) -> Result<HttpResponse, ApiError> {
    let input = SettingsInput {
        signer: body.signer,
        signer_title: body.signer_title,
        recipients: body.recipients,
    };
    let answer_unit = code.clone();
    let s = state
        .call_write(move |s| s.put_document_settings(&auth.0, unit.of(&code), &input))
        .await?;
    Ok(HttpResponse::Ok().json(settings_out(answer_unit, Some(s))))
}

/// Who signs the department's report on a province and to whom it goes (read by whoever reads
/// the province).
#[utoipa::path(
    tag = "documents",
    security(("bearer" = [])),
    params(("code" = String, Path, example = "14")),
    responses(
        (status = 200, description = "The saved settings (all null when nothing was saved)", body = Settings),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such province", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/documents/province/{code}/settings")]
pub async fn get_province_settings(
    state: web::Data<AppState>,
    auth: Auth,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    get_settings(&state, auth, code.into_inner(), Unit::Province).await
}

/// Saves who signs the department's report on a province and to whom it goes (province admin);
/// a request's own parameters still win. The change log records it (`documents.settings`).
#[utoipa::path(
    tag = "documents",
    security(("bearer" = [])),
    request_body = SettingsBody,
    params(("code" = String, Path, example = "14")),
    responses(
        (status = 200, description = "The settings as saved", body = Settings),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the province's admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such province", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid settings, every problem listed; nothing saved", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/documents/province/{code}/settings")]
pub async fn put_province_settings(
    state: web::Data<AppState>,
    auth: Auth,
    code: web::Path<String>,
    body: web::Json<SettingsBody>,
) -> Result<HttpResponse, ApiError> {
    put_settings(
        &state,
        auth,
        code.into_inner(),
        Unit::Province,
        body.into_inner(),
    )
    .await
}

/// Who signs a commune's report and to whom it goes (read by whoever reads the commune).
#[utoipa::path(
    tag = "documents",
    security(("bearer" = [])),
    params(("code" = String, Path, example = "03808")),
    responses(
        (status = 200, description = "The saved settings (all null when nothing was saved)", body = Settings),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/documents/commune/{code}/settings")]
pub async fn get_commune_settings(
    state: web::Data<AppState>,
    auth: Auth,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    get_settings(&state, auth, code.into_inner(), Unit::Commune).await
}

/// Saves who signs a commune's report and to whom it goes (the commune's officer, or its
/// province admin); a request's own parameters still win. The change log records it.
#[utoipa::path(
    tag = "documents",
    security(("bearer" = [])),
    request_body = SettingsBody,
    params(("code" = String, Path, example = "03808")),
    responses(
        (status = 200, description = "The settings as saved", body = Settings),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid settings, every problem listed; nothing saved", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/documents/commune/{code}/settings")]
pub async fn put_commune_settings(
    state: web::Data<AppState>,
    auth: Auth,
    code: web::Path<String>,
    body: web::Json<SettingsBody>,
) -> Result<HttpResponse, ApiError> {
    put_settings(
        &state,
        auth,
        code.into_inner(),
        Unit::Commune,
        body.into_inner(),
    )
    .await
}
