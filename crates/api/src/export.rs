//! Tables as JSON, CSV (UTF-8 with BOM, so Excel shows Vietnamese) or an Excel workbook.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::problem::ApiError;

/// The media type of Excel workbooks.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `?format=` of list and aggregate endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

/// Header language of exports.
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
    /// `json` (default), `csv` (also chosen by `Accept: text/csv`) or `xlsx`.
    pub format: Option<Format>,
    /// Language of CSV and Excel column headers: `en` (default) or `vi`.
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
}

/// A typed cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
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

impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Self {
        v.map_or(Cell::Empty, Cell::Text)
    }
}

/// A table to export: columns with English and Vietnamese headers.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    /// (English header, Vietnamese header).
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(name: &str, columns: &[(&str, &str)]) -> Table {
        let columns = columns
            .iter()
            .map(|(en, vi)| (en.to_string(), vi.to_string()))
            .collect();
        Table {
            name: name.to_owned(),
            columns,
            rows: Vec::new(),
        }
    }

    pub fn add_column(&mut self, en: &str, vi: &str) {
        self.columns.push((en.to_owned(), vi.to_owned()));
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    fn headers(&self, lang: Lang) -> Vec<&str> {
        self.columns
            .iter()
            .map(|(en, vi)| {
                if lang == Lang::Vi {
                    vi.as_str()
                } else {
                    en.as_str()
                }
            })
            .collect()
    }

    /// CSV with a BOM.
    pub fn to_csv(&self, lang: Lang) -> Result<Vec<u8>, ApiError> {
        let mut out = "\u{feff}".as_bytes().to_vec();
        {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(self.headers(lang))
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            for row in &self.rows {
                let cells: Vec<String> = row
                    .iter()
                    .map(|c| match c {
                        Cell::Text(s) => s.clone(),
                        Cell::Number(n) => format_number(*n),
                        Cell::Empty => String::new(),
                    })
                    .collect();
                w.write_record(cells)
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
            }
            w.flush().map_err(|e| ApiError::Internal(e.to_string()))?;
        }
        Ok(out)
    }

    /// One worksheet, headers bold, numbers as numbers.
    pub fn to_xlsx(&self, lang: Lang) -> Result<Vec<u8>, ApiError> {
        use rust_xlsxwriter::{Format as XFormat, Workbook};
        let err = |e: rust_xlsxwriter::XlsxError| ApiError::Internal(e.to_string());
        let mut wb = Workbook::new();
        let bold = XFormat::new().set_bold();
        let ws = wb.add_worksheet();
        let name: String = self
            .name
            .chars()
            .filter(|c| !"[]:*?/\\".contains(*c))
            .take(31)
            .collect();
        ws.set_name(if name.is_empty() { "data" } else { &name })
            .map_err(err)?;
        for (c, h) in self.headers(lang).iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)
                .map_err(err)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                let (r, c) = (r as u32 + 1, c as u16);
                match cell {
                    Cell::Text(s) => ws.write_string(r, c, s).map(|_| ()).map_err(err)?,
                    Cell::Number(n) => ws.write_number(r, c, *n).map(|_| ()).map_err(err)?,
                    Cell::Empty => {}
                }
            }
        }
        wb.save_to_buffer().map_err(err)
    }

    /// The answer in the asked format (`json` is the caller's own document).
    pub fn respond(
        &self,
        format: Format,
        lang: Lang,
        json: impl FnOnce() -> HttpResponse,
    ) -> Result<HttpResponse, ApiError> {
        let file = |ext: &str| format!("attachment; filename=\"{}.{ext}\"", self.name);
        Ok(match format {
            Format::Json => json(),
            Format::Csv => HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
                .insert_header((header::CONTENT_DISPOSITION, file("csv")))
                .body(self.to_csv(lang)?),
            Format::Xlsx => HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, XLSX_CONTENT_TYPE))
                .insert_header((header::CONTENT_DISPOSITION, file("xlsx")))
                .body(self.to_xlsx(lang)?),
        })
    }
}

/// Numbers without a trailing `.0` for whole values.
fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_bom_vietnamese_headers_and_plain_numbers() {
        let mut t = Table::new("t", &[("unit", "Đơn vị"), ("value", "Giá trị")]);
        t.push(vec!["Xã Mường La".into(), 12.0.into()]);
        t.push(vec!["x".into(), Cell::Empty]);
        let text = String::from_utf8(t.to_csv(Lang::Vi).unwrap()).unwrap();
        assert_eq!(text, "\u{feff}Đơn vị,Giá trị\nXã Mường La,12\nx,\n");
    }
}
