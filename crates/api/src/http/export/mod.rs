//! Tables as CSV (UTF-8 with BOM, so Excel shows Vietnamese) or an Excel workbook, streamed.
//!
//! A route describes its rows once (an [`ExportRow`] implementation next to its DTO) and hands
//! over a [`Rows`] source: one batch for a computed table, page after page for a list. Every
//! row the request selects is written, whatever `limit` says (JSON keeps its cursor paging),
//! with bounded memory: CSV is produced in chunks through a small channel, a workbook is built
//! in constant-memory mode in a temporary file and then streamed.
//!
//! Spreadsheet safety (OWASP CSV injection): a text cell that begins with `=`, `+`, `-`, `@`, a
//! tab or a carriage return is written with a leading `'`, so no spreadsheet runs it as a
//! formula; numbers are numbers. In workbooks every text is a string cell.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::http::problem::ApiError;

/// The media type of Excel workbooks.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Rows per batch a list source reads.
pub const BATCH_ROWS: u32 = 1000;

/// `?format=` of list and aggregate endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

/// Language of exports: column headers and coded values (statuses, roles, actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Vi,
}

/// Export options shared by every list and aggregate endpoint.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `json` (default), `csv` (also chosen by `Accept: text/csv`) or `xlsx`. CSV and xlsx
    /// carry every row the filters select (no paging).
    pub format: Option<Format>,
    /// Language of CSV and Excel column headers and coded values: `en` (default) or `vi`.
    pub lang: Option<Lang>,
}

/// Only `lang`, for the `.csv` and `.xlsx` paths.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangParam {
    /// Language of column headers and coded values: `en` (default) or `vi`.
    pub lang: Option<Lang>,
}

impl ExportParams {
    pub fn format(&self, req: &HttpRequest) -> Format {
        self.format.unwrap_or_else(|| {
            let accept = req
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if accept.contains("text/csv") {
                Format::Csv
            } else {
                Format::Json
            }
        })
    }

    pub fn lang(&self) -> Lang {
        self.lang.unwrap_or_default()
    }
}

/// A typed cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    /// An instant: UTC text (RFC 3339) in CSV, an Excel date-time in Vietnam's time in workbooks.
    Instant(DateTime<Utc>),
    /// A coded value (a status, a role) with its Vietnamese wording for `lang=vi`.
    Code(String, String),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_owned())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<Option<f64>> for Cell {
    fn from(v: Option<f64>) -> Self {
        v.map_or(Cell::Empty, Cell::Number)
    }
}

impl From<f64> for Cell {
    fn from(v: f64) -> Self {
        Cell::Number(v)
    }
}

impl From<u32> for Cell {
    fn from(v: u32) -> Self {
        Cell::Number(v as f64)
    }
}

impl From<i32> for Cell {
    fn from(v: i32) -> Self {
        Cell::Number(v as f64)
    }
}

impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Number(v as f64)
    }
}

impl From<Option<u32>> for Cell {
    fn from(v: Option<u32>) -> Self {
        v.map_or(Cell::Empty, |x| Cell::Number(x as f64))
    }
}

impl From<Option<i64>> for Cell {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Cell::Empty, |x| Cell::Number(x as f64))
    }
}

impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Self {
        v.map_or(Cell::Empty, Cell::Text)
    }
}

impl From<Option<&str>> for Cell {
    fn from(v: Option<&str>) -> Self {
        v.map_or(Cell::Empty, |s| Cell::Text(s.to_owned()))
    }
}

impl From<DateTime<Utc>> for Cell {
    fn from(t: DateTime<Utc>) -> Self {
        Cell::Instant(t)
    }
}

impl From<Option<DateTime<Utc>>> for Cell {
    fn from(t: Option<DateTime<Utc>>) -> Self {
        t.map_or(Cell::Empty, Cell::Instant)
    }
}

/// A column: its English and Vietnamese headers.
pub type Column = (&'static str, &'static str);

/// A DTO that is also a table row.
pub trait ExportRow {
    /// The columns, in order.
    fn columns() -> Vec<(String, String)>;
    /// This row's cells, one per column.
    fn cells(&self) -> Vec<Cell>;
}

/// The columns of a static list.
pub fn columns(list: &[Column]) -> Vec<(String, String)> {
    list.iter()
        .map(|(en, vi)| (en.to_string(), vi.to_string()))
        .collect()
}

/// Where an export's rows come from: batches until `None`.
pub trait Rows: Send + 'static {
    fn next_batch(&mut self) -> Result<Option<Vec<Vec<Cell>>>, ApiError>;
}

/// One batch, already computed.
pub struct Ready(Option<Vec<Vec<Cell>>>);

impl Ready {
    pub fn of(rows: Vec<Vec<Cell>>) -> Ready {
        Ready(Some(rows))
    }
}

impl Rows for Ready {
    fn next_batch(&mut self) -> Result<Option<Vec<Vec<Cell>>>, ApiError> {
        Ok(self.0.take())
    }
}

/// Pages of a list, read one after another (each call gets the last key seen).
pub struct Pages<K, F> {
    after: Option<K>,
    done: bool,
    fetch: F,
}

impl<K, F> Pages<K, F>
where
    K: Send + 'static,
    F: FnMut(Option<&K>) -> Result<(Vec<Vec<Cell>>, Option<K>), ApiError> + Send + 'static,
{
    /// `fetch` answers one batch and the key of its last row (`None`: the last batch).
    pub fn new(fetch: F) -> Self {
        Pages {
            after: None,
            done: false,
            fetch,
        }
    }
}

impl<K, F> Rows for Pages<K, F>
where
    K: Send + 'static,
    F: FnMut(Option<&K>) -> Result<(Vec<Vec<Cell>>, Option<K>), ApiError> + Send + 'static,
{
    fn next_batch(&mut self) -> Result<Option<Vec<Vec<Cell>>>, ApiError> {
        if self.done {
            return Ok(None);
        }
        let (rows, last) = (self.fetch)(self.after.as_ref())?;
        match last {
            Some(k) => self.after = Some(k),
            None => self.done = true,
        }
        if rows.is_empty() && self.done {
            return Ok(None);
        }
        Ok(Some(rows))
    }
}

/// A table to export.
pub struct Export {
    /// The file and sheet name, e.g. `compliance_dmst-quarterly_2026Q3`.
    pub name: String,
    pub columns: Vec<(String, String)>,
    pub rows: Box<dyn Rows>,
}

impl Export {
    pub fn new(name: impl Into<String>, columns: Vec<(String, String)>, rows: impl Rows) -> Export {
        Export {
            name: name.into(),
            columns,
            rows: Box::new(rows),
        }
    }

    /// A table of DTO rows already computed.
    pub fn of<T: ExportRow>(name: impl Into<String>, items: &[T]) -> Export {
        Export::new(
            name,
            T::columns(),
            Ready(Some(items.iter().map(ExportRow::cells).collect())),
        )
    }

    fn headers(&self, lang: Lang) -> Vec<String> {
        self.columns
            .iter()
            .map(|(en, vi)| {
                if lang == Lang::Vi {
                    vi.clone()
                } else {
                    en.clone()
                }
            })
            .collect()
    }
}

/// A text cell as a spreadsheet must not run it: a leading `'` before `=`, `+`, `-`, `@`, tab
/// or carriage return.
pub fn neutralised(s: &str) -> std::borrow::Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}").into(),
        _ => s.into(),
    }
}

/// Numbers without a trailing `.0` for whole values, and never `-0`.
pub fn format_number(n: f64) -> String {
    let n = n + 0.0;
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests;
mod write;

pub use write::{csv_bytes, csv_response, sheet_name, stream_body, xlsx_bytes, xlsx_response};

/// The answer in the asked format (`json` is the caller's own document).
pub async fn respond(
    format: Format,
    lang: Lang,
    export: impl FnOnce() -> Export,
    json: impl FnOnce() -> HttpResponse,
) -> Result<HttpResponse, ApiError> {
    Ok(match format {
        Format::Json => json(),
        Format::Csv => csv_response(export(), lang),
        Format::Xlsx => xlsx_response(export(), lang).await?,
    })
}

/// The body of a `.csv` path: UTF-8 text with a BOM.
pub struct CsvFile;

impl utoipa::PartialSchema for CsvFile {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .description(Some("CSV, UTF-8 with a BOM, a header row then every row"))
            .into()
    }
}

impl utoipa::ToSchema for CsvFile {}

/// The body of an `.xlsx` path: an Excel workbook.
pub struct XlsxFile;

impl utoipa::PartialSchema for XlsxFile {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Binary,
            )))
            .description(Some("An Excel workbook of one sheet"))
            .into()
    }
}

impl utoipa::ToSchema for XlsxFile {}

/// A file sent as bytes (a CSV upload from a client that sends files as octet streams).
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Binary,
            )))
            .description(Some("The bytes of a file"))
            .into()
    }
}

impl utoipa::ToSchema for Binary {}

/// Declares the `.csv` and `.xlsx` operations of an exporting endpoint: the same parameters as
/// its JSON operation (without paging), one media type each, so generated clients read them as
/// text and as a file. Each calls `$export(state, .., format, lang)` with the arguments listed.
/// The handlers live in the module `$module` (re-exported), where the route attributes resolve.
#[macro_export]
macro_rules! export_routes {
    (
        module: $module:ident,
        tag: $tag:literal,
        security: ($($security:tt)*),
        csv: $csv:ident = $csv_path:literal,
        xlsx: $xlsx:ident = $xlsx_path:literal,
        params: ($($params:tt)*),
        args: ($($arg:ident : $ty:ty),* $(,)?),
        export: $export:ident $(,)?
    ) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            use actix_web::get;

            /// Every row as CSV (UTF-8 with BOM), whatever the paging of the JSON list.
            #[utoipa::path(
                tag = $tag,
                security($($security)*),
                params($($params)* $crate::http::export::LangParam),
                responses(
                    (status = 200, description = "Every row the filters select, as CSV", content_type = "text/csv", body = $crate::http::export::CsvFile),
                    (status = 404, description = "No such unit or report", body = $crate::http::problem::Problem, content_type = "application/problem+json"),
                ),
            )]
            #[get($csv_path)]
            pub async fn $csv(
                state: actix_web::web::Data<$crate::state::AppState>,
                lang: $crate::http::query::Query<$crate::http::export::LangParam>,
                $($arg: $ty),*
            ) -> Result<actix_web::HttpResponse, $crate::http::problem::ApiError> {
                super::$export(state, $($arg,)* $crate::http::export::Format::Csv, lang.lang.unwrap_or_default()).await
            }

            /// Every row as an Excel workbook, whatever the paging of the JSON list.
            #[utoipa::path(
                tag = $tag,
                security($($security)*),
                params($($params)* $crate::http::export::LangParam),
                responses(
                    (status = 200, description = "Every row the filters select, as an Excel workbook (bytes; clients that read only octet streams may treat it as one)", content(
                        ($crate::http::export::XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                        ($crate::http::export::XlsxFile = "application/octet-stream"),
                    )),
                    (status = 404, description = "No such unit or report", body = $crate::http::problem::Problem, content_type = "application/problem+json"),
                ),
            )]
            #[get($xlsx_path)]
            pub async fn $xlsx(
                state: actix_web::web::Data<$crate::state::AppState>,
                lang: $crate::http::query::Query<$crate::http::export::LangParam>,
                $($arg: $ty),*
            ) -> Result<actix_web::HttpResponse, $crate::http::problem::ApiError> {
                super::$export(state, $($arg,)* $crate::http::export::Format::Xlsx, lang.lang.unwrap_or_default()).await
            }
        }
        pub use $module::{$csv, $xlsx};
    };
}
