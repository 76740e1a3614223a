//! Writing an [`Export`]: CSV in chunks through a small channel, a workbook in constant-memory
//! mode in a temporary file, and the HTTP answers that stream them.

use actix_web::HttpResponse;
use actix_web::http::header;

use super::*;

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

/// A body produced in chunks on the blocking pool: `produce` hands each chunk to its sender,
/// which answers `false` once the client has gone (then `produce` should stop).
pub fn stream_body(
    produce: impl FnOnce(&mut dyn FnMut(Vec<u8>) -> bool) -> Result<(), ApiError> + Send + 'static,
) -> impl futures_util::Stream<Item = Result<actix_web::web::Bytes, actix_web::Error>> {
    channel_body(move |tx| {
        let mut send = |chunk: Vec<u8>| {
            tx.blocking_send(Ok(actix_web::web::Bytes::from(chunk)))
                .is_ok()
        };
        if let Err(e) = produce(&mut send) {
            let _ = tx.blocking_send(Err(e));
        }
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
