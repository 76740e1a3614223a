//! `GET /analytics`: a whole table in one request (see `innoreport_service::analytics`), as
//! JSON, CSV or an Excel workbook, streamed cell by cell, with an `ETag`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use innoreport_core::ProvinceCode;
use innoreport_service::View;
use innoreport_service::analytics::{self as a, AnalyticsRow, Plan};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Auth;
use crate::http::conditional::{etag, not_modified};
use crate::http::export::{
    Cell, Export, ExportParams, ExportRow, Format, Lang, Rows, columns, csv_response, stream_body,
    xlsx_response,
};
use crate::http::problem::{ApiError, Problem};
use crate::http::query::Query;
use crate::routes::analysis::{AggregateOut, LevelParam};
use crate::state::AppState;

/// The most rows an analytics workbook holds: a workbook is built whole before it is sent
/// (about 3 s per 100,000 rows here), and Excel is not where a national table is read; CSV
/// and the OData feed stream any size.
pub const MAX_WORKBOOK_ROWS: usize = 200_000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsParams {
    /// Comma-separated indicator codes, reported or derived; omitted: every indicator.
    #[param(example = "online_dossier_rate,staff_trained_rate")]
    pub indicator: Option<String>,
    /// Comma-separated periods (`2026Q1`), ranges of one kind (`2025Q1..2026Q4`, both ends
    /// included) and relative periods, resolved in Vietnam's calendar: `THIS_QUARTER`,
    /// `LAST_QUARTER`, `LAST_4_QUARTERS`, `LAST_8_QUARTERS`, `THIS_YEAR`, `LAST_YEAR`,
    /// `LAST_5_YEARS` ("last N" are the N whole periods before the current one). At most 120
    /// periods. A cell whose period is finer than its indicator's data sets (a quarter of a
    /// yearly indicator) is left out and listed in `skipped`.
    #[param(example = "LAST_8_QUARTERS")]
    pub period: String,
    /// `province` (default), `commune` or `national`.
    pub level: Option<LevelParam>,
    /// Only this province (its communes at commune level); not with `level=national`.
    #[param(value_type = Option<String>, example = "14")]
    pub province: Option<ProvinceCode>,
    /// Comma-separated unit codes of the level (communes, provinces, or `VN`); omitted: every
    /// unit of the level in the caller's scope.
    #[param(example = "03808,03811")]
    pub unit: Option<String>,
}

/// An indicator of the table.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalyticsIndicator {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub unit_of_measure: String,
    pub unit_of_measure_en: String,
    pub derived: bool,
}

/// A cell the table leaves out.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedCell {
    pub indicator: String,
    pub period: String,
    pub reason: String,
}

/// One row of the table: the value of an indicator for a period and a unit, exactly as
/// `/aggregates` answers it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalyticsRowOut {
    pub indicator: String,
    pub period: String,
    /// Commune code, province code, or `VN`.
    pub unit: String,
    pub name: String,
    pub name_en: String,
    pub value: Option<f64>,
    /// Σ numerator (ratios).
    pub numerator: Option<f64>,
    /// Σ denominator (ratios).
    pub denominator: Option<f64>,
    pub communes_reporting: u32,
    pub communes_expected: u32,
}

/// The table's description; the JSON answer is this with `rows` after it.
#[derive(Debug, Serialize)]
struct Head {
    level: LevelParam,
    periods: Vec<String>,
    indicators: Vec<AnalyticsIndicator>,
    skipped: Vec<SkippedCell>,
}

/// A long-format table: one row per indicator, period and unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalyticsTable {
    pub level: LevelParam,
    /// The periods, resolved, in the order named.
    pub periods: Vec<String>,
    pub indicators: Vec<AnalyticsIndicator>,
    pub skipped: Vec<SkippedCell>,
    /// Indicator by indicator, period by period, unit by unit.
    pub rows: Vec<AnalyticsRowOut>,
}

fn row_out(r: AnalyticsRow) -> AnalyticsRowOut {
    AnalyticsRowOut {
        indicator: r.indicator,
        period: r.period.to_string(),
        unit: r.unit.unit,
        name: r.unit.name,
        name_en: r.unit.name_en,
        value: r.unit.value,
        numerator: r.unit.numerator,
        denominator: r.unit.denominator,
        communes_reporting: r.unit.communes_reporting,
        communes_expected: r.unit.communes_expected,
    }
}

fn head(plan: &Plan, level: LevelParam) -> Head {
    Head {
        level,
        periods: plan.periods.iter().map(ToString::to_string).collect(),
        indicators: plan
            .indicators
            .iter()
            .map(|i| AnalyticsIndicator {
                code: i.code.to_string(),
                name: i.name_vi.clone(),
                name_en: i.name_en.clone(),
                unit_of_measure: i.unit_vi.clone(),
                unit_of_measure_en: i.unit_en.clone(),
                derived: i.is_derived(),
            })
            .collect(),
        skipped: plan
            .skipped
            .iter()
            .map(|s| SkippedCell {
                indicator: s.indicator.clone(),
                period: s.period.to_string(),
                reason: s.reason.clone(),
            })
            .collect(),
    }
}

/// The table's rows, one cell (indicator and period) per batch.
struct CellRows {
    view: View,
    plan: Plan,
    next: usize,
}

impl CellRows {
    fn next_cell(&mut self) -> Result<Option<Vec<AnalyticsRow>>, ApiError> {
        if self.next >= self.plan.cells.len() {
            return Ok(None);
        }
        let rows = a::cell_rows(&self.view, &self.plan, self.next)?;
        self.next += 1;
        Ok(Some(rows))
    }
}

/// A row: its indicator and period, then the unit's cells exactly as `/aggregates` exports them.
impl Rows for CellRows {
    fn next_batch(&mut self) -> Result<Option<Vec<Vec<Cell>>>, ApiError> {
        Ok(self.next_cell()?.map(|rows| {
            rows.into_iter()
                .map(|r| {
                    let mut cells = vec![r.indicator.into(), r.period.to_string().into()];
                    cells.extend(AggregateOut::from(r.unit).cells());
                    cells
                })
                .collect()
        }))
    }
}

fn table_columns() -> Vec<(String, String)> {
    let mut cols = columns(&[("indicator", "Mã chỉ tiêu"), ("period", "Kỳ báo cáo")]);
    cols.extend(AggregateOut::columns());
    cols
}

/// The JSON document, written as it is computed: the head, then the rows cell by cell.
fn json_response(mut rows: CellRows, level: LevelParam) -> Result<HttpResponse, ApiError> {
    let mut start = serde_json::to_vec(&head(&rows.plan, level))
        .map_err(|e| ApiError::Internal(format!("serialising: {e}")))?;
    start.pop(); // the head's closing brace: the rows follow
    start.extend_from_slice(b",\"rows\":[");
    let body = stream_body(move |send| {
        let mut first = true;
        let mut chunk = start;
        while let Some(cell) = rows.next_cell()? {
            for r in cell {
                if !first {
                    chunk.push(b',');
                }
                first = false;
                serde_json::to_writer(&mut chunk, &row_out(r))
                    .map_err(|e| ApiError::Internal(format!("serialising: {e}")))?;
            }
            if chunk.len() >= 64 * 1024 && !send(std::mem::take(&mut chunk)) {
                return Ok(());
            }
        }
        chunk.extend_from_slice(b"]}");
        send(chunk);
        Ok(())
    });
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .streaming(body))
}

/// Reads a table: any indicators × a list, range or relative selection of periods × the units
/// of a level, in one request. Every cell is what `/aggregates` answers for that indicator and
/// period, in the same scope. A table spends one unit of the caller's computation budget per
/// 1,000 rows (a 304 spends nothing).
#[utoipa::path(
    tag = "analysis",
    security(("bearer" = [])),
    params(AnalyticsParams, ExportParams),
    responses(
        (status = 200, description = "The table, streamed (JSON, CSV or xlsx)", body = AnalyticsTable),
        (status = 304, description = "Unchanged since the ETag in If-None-Match"),
        (status = 400, description = "Unknown indicators, periods or units (every one listed), a table of more than 2,000,000 rows, or a workbook of more than 200,000", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A level, province or unit outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The caller's computation budget is spent (a table costs one unit per 1,000 rows); retry after `Retry-After` seconds", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/analytics")]
pub async fn analytics(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<AnalyticsParams>,
    export: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req);
    table(state, req, auth, query, format, export.lang()).await
}

async fn table(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    query: Query<AnalyticsParams>,
    format: Format,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let level = query.level.unwrap_or(LevelParam::Province);
    let q = a::AnalyticsQuery {
        indicators: query.indicator,
        periods: query.period,
        level: level.into(),
        province: query.province.as_ref().map(ToString::to_string),
        units: query.unit,
    };
    let who = auth.0.clone();
    let (view, plan) = state.call(move |s| s.analytics_unpaid(&who, &q)).await?;
    let tag = etag(
        &auth.0,
        format!("analytics|{}|{format:?}|{lang:?}", plan.content_key).as_bytes(),
    );
    let caching = (header::CACHE_CONTROL, "private, no-cache");
    if not_modified(&req, &tag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header(caching)
            .finish());
    }
    let rows = plan.cells.len() * plan.units_per_cell;
    if format == Format::Xlsx && rows > MAX_WORKBOOK_ROWS {
        return Err(ApiError::BadRequest(
            format!(
                "The table has {rows} rows; a workbook holds at most {MAX_WORKBOOK_ROWS}: narrow it, or read it as CSV or through the OData feed."
            ),
            vec![crate::http::problem::FieldError::new(
                "format",
                "too_many_rows",
                format!("at most {MAX_WORKBOOK_ROWS} rows as xlsx"),
            )],
        ));
    }
    // The client has the table already: nothing is computed, nothing is spent.
    let who = auth.0.clone();
    let (view, plan) = state
        .call(move |s| s.pay_for_table(&who, &plan).map(|()| (view, plan)))
        .await?;
    let name = match plan.periods.as_slice() {
        [one] => format!("analytics_{one}"),
        [first, .., last] => format!("analytics_{first}-{last}"),
        [] => "analytics".to_owned(),
    };
    let rows = CellRows {
        view,
        plan,
        next: 0,
    };
    let mut response = match format {
        Format::Json => json_response(rows, level)?,
        Format::Csv => csv_response(Export::new(name, table_columns(), rows), lang),
        Format::Xlsx => xlsx_response(Export::new(name, table_columns(), rows), lang).await?,
    };
    let headers = response.headers_mut();
    headers.insert(
        header::ETAG,
        header::HeaderValue::from_str(&tag)
            .map_err(|e| ApiError::Internal(format!("ETag: {e}")))?,
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}

crate::export_routes! {
    module: analytics_exports,
    tag: "analysis",
    security: (("bearer" = [])),
    csv: analytics_csv = "/analytics.csv",
    xlsx: analytics_xlsx = "/analytics.xlsx",
    params: (AnalyticsParams,),
    args: (req: HttpRequest, auth: Auth, query: Query<AnalyticsParams>),
    export: table,
}
