//! Bulk import of reports from CSV (`commune,dataset,period,indicator,value`) or a JSON array
//! of report submissions.
//!
//! Rows are grouped into reports (commune × data set × period); each report is checked and
//! applied exactly as a single submission would be, in its own transaction, so one bad report
//! never blocks the others and no report is ever half-written. A dry run does everything,
//! then rolls each report back.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use innoreport_core::validation::Issue;
use innoreport_store::reports::{self as store_reports, Outcome, SubmitError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::problem::{ApiError, FieldError, Problem};
use crate::reports::{
    Checked, OwnedSubmission, ReportSubmission, check_submission, commune_provinces, submit_error,
};
use crate::state::AppState;

/// The most reports one import may carry.
pub const MAX_IMPORT_REPORTS: usize = 20_000;

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
    pub conflicts: Vec<ImportConflict>,
}

/// One report of the upload, with the row of each of its parts.
struct Group {
    body: ReportSubmission,
    first_row: usize,
    rows: BTreeMap<String, usize>,
}

impl Group {
    fn row_of(&self, field: &str) -> usize {
        field
            .strip_prefix("values.")
            .and_then(|code| self.rows.get(code))
            .copied()
            .unwrap_or(self.first_row)
    }

    fn conflicts(&self, issues: impl IntoIterator<Item = FieldError>) -> Vec<ImportConflict> {
        issues
            .into_iter()
            .map(|e| ImportConflict {
                row: self.row_of(&e.field),
                field: e.field,
                code: e.code,
                message: e.message,
            })
            .collect()
    }
}

fn header_problem(message: String) -> ApiError {
    ApiError::Unprocessable(
        message.clone(),
        vec![FieldError::new("body", "invalid_upload", message)],
    )
}

/// Reads an upload as `POST /imports` does, before anything is validated or stored: the
/// reports found (with the indicators each names) and the rows refused while reading.
/// Public for the property tests and fuzzing of the parsers.
pub fn parse_upload(
    csv: bool,
    bytes: &[u8],
) -> Result<(Vec<ReportSubmission>, Vec<ImportConflict>), ApiError> {
    let (groups, conflicts) = if csv {
        parse_csv(bytes)?
    } else {
        parse_json(bytes)?
    };
    Ok((groups.into_iter().map(|g| g.body).collect(), conflicts))
}

fn parse_csv(bytes: &[u8]) -> Result<(Vec<Group>, Vec<ImportConflict>), ApiError> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| header_problem("the CSV must be UTF-8".into()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| header_problem(format!("unreadable CSV header: {e}")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(c_commune), Some(c_dataset), Some(c_period), Some(c_indicator), Some(c_value)) = (
        col("commune"),
        col("dataset"),
        col("period"),
        col("indicator"),
        col("value"),
    ) else {
        return Err(header_problem(
            "the CSV header must name the columns commune, dataset, period, indicator, value"
                .into(),
        ));
    };
    let comment_col = col("comment");
    let mut groups: Vec<Group> = Vec::new();
    let mut index: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    let mut conflicts = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                conflicts.push(ImportConflict {
                    row,
                    field: "row".into(),
                    code: "malformed_row".into(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        let get = |c: usize| record.get(c).unwrap_or("").to_owned();
        let key = (get(c_commune), get(c_dataset), get(c_period));
        let indicator = get(c_indicator);
        let raw = get(c_value);
        let value = if raw.is_empty() {
            serde_json::Value::Null
        } else {
            match raw.parse::<f64>() {
                Ok(x) if x.is_finite() => serde_json::Number::from_f64(x)
                    .map_or(serde_json::Value::String(raw), serde_json::Value::Number),
                _ => serde_json::Value::String(raw),
            }
        };
        let g = *index.entry(key.clone()).or_insert_with(|| {
            groups.push(Group {
                body: ReportSubmission {
                    commune: Some(key.0.clone()).filter(|c| !c.is_empty()),
                    dataset: key.1.clone(),
                    period: key.2.clone(),
                    values: BTreeMap::new(),
                    comment: None,
                    base_revision: None,
                },
                first_row: row,
                rows: BTreeMap::new(),
            });
            groups.len() - 1
        });
        let group = &mut groups[g];
        if let Some(c) = comment_col.map(get).filter(|c| !c.is_empty()) {
            group.body.comment = Some(c);
        }
        if indicator.is_empty() {
            conflicts.push(ImportConflict {
                row,
                field: "indicator".into(),
                code: "required".into(),
                message: "the indicator is missing".into(),
            });
            continue;
        }
        if let Some(first) = group.rows.get(&indicator) {
            conflicts.push(ImportConflict {
                row,
                field: format!("values.{indicator}"),
                code: "duplicate".into(),
                message: format!("{indicator} is already given for this report on row {first}"),
            });
            continue;
        }
        group.rows.insert(indicator.clone(), row);
        group.body.values.insert(indicator, value);
    }
    Ok((groups, conflicts))
}

fn parse_json(bytes: &[u8]) -> Result<(Vec<Group>, Vec<ImportConflict>), ApiError> {
    let items: Vec<serde_json::Value> = serde_json::from_slice(bytes)
        .map_err(|e| header_problem(format!("the body must be a JSON array of reports: {e}")))?;
    let mut groups = Vec::new();
    let mut conflicts = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let row = i + 1;
        match serde_json::from_value::<ReportSubmission>(item) {
            Ok(body) => {
                let rows = body.values.keys().map(|k| (k.clone(), row)).collect();
                groups.push(Group {
                    body,
                    first_row: row,
                    rows,
                });
            }
            Err(e) => conflicts.push(ImportConflict {
                row,
                field: "row".into(),
                code: "malformed_report".into(),
                message: e.to_string(),
            }),
        }
    }
    Ok((groups, conflicts))
}

/// Imports many reports at once from CSV or JSON; `dry_run=true` stores nothing.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(
        description = "CSV (text/csv) with the columns commune,dataset,period,indicator,value (and optionally comment), or a JSON array of report submissions (application/json).",
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
    query: web::Query<ImportQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    if !innoreport_core::may_ever(auth.0.role, innoreport_core::Action::Submit) {
        return Err(ApiError::Forbidden(format!(
            "role {} may not submit reports",
            auth.0.role
        )));
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (groups, mut conflicts) = match content_type.as_str() {
        "text/csv" | "application/csv" => parse_csv(&body)?,
        "application/json" => parse_json(&body)?,
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "send text/csv or application/json, not {:?}",
                if other.is_empty() { "nothing" } else { other }
            )));
        }
    };
    if groups.len() > MAX_IMPORT_REPORTS {
        return Err(header_problem(format!(
            "at most {MAX_IMPORT_REPORTS} reports per import"
        )));
    }
    let dry_run = query.dry_run;
    let now = state.now();
    let catalog = state.catalog().await?;
    let provinces = commune_provinces(&state, None).await?;

    let mut summary = ImportSummary {
        dry_run,
        reports: groups.len(),
        created: 0,
        updated: 0,
        unchanged: 0,
        rejected: 0,
        conflicts: Vec::new(),
    };
    // Rows already refused while parsing reject their report too.
    let bad_rows: std::collections::BTreeSet<usize> = conflicts.iter().map(|c| c.row).collect();
    let mut ready = Vec::new();
    for group in groups {
        if group
            .rows
            .values()
            .chain([&group.first_row])
            .any(|r| bad_rows.contains(r))
        {
            summary.rejected += 1;
            continue;
        }
        match check_submission(&auth, &catalog, &provinces, &group.body, now) {
            Ok(Checked::Ready(s)) => ready.push((group, OwnedSubmission::from(s))),
            Ok(Checked::Invalid(issues)) => {
                summary.rejected += 1;
                conflicts.extend(group.conflicts(issues.into_iter().map(issue_field)));
            }
            Err(ApiError::Forbidden(message)) => {
                summary.rejected += 1;
                conflicts.push(ImportConflict {
                    row: group.first_row,
                    field: "commune".into(),
                    code: "forbidden".into(),
                    message,
                });
            }
            Err(other) => return Err(other),
        }
    }
    let cat = catalog.clone();
    let results = state
        .db(move |conn| {
            let mut out = Vec::with_capacity(ready.len());
            for (group, submission) in ready {
                let result = store_reports::submit(conn, &cat, &submission.borrow(&cat), dry_run);
                if let Err(SubmitError::Store(e)) = result {
                    return Err(e);
                }
                out.push((group, result));
            }
            Ok(out)
        })
        .await?;
    for (group, result) in results {
        match result {
            Ok(done) => match done.outcome {
                Outcome::Created => summary.created += 1,
                Outcome::Updated => summary.updated += 1,
                Outcome::Unchanged => summary.unchanged += 1,
            },
            Err(e) => {
                summary.rejected += 1;
                let problem = submit_error(e).problem();
                conflicts.extend(group.conflicts(problem.errors));
            }
        }
    }
    conflicts.sort_by(|a, b| (a.row, &a.field).cmp(&(b.row, &b.field)));
    summary.conflicts = conflicts;
    Ok(HttpResponse::Ok().json(summary))
}

fn issue_field(i: Issue) -> FieldError {
    FieldError::new(i.field, i.code, i.message)
}

#[cfg(test)]
mod properties {
    //! Any upload is read into reports and refused rows, or refused whole with a problem; never
    //! a panic, and no data row is silently dropped. `PROPTEST_CASES` sets the number of cases.
    use super::*;
    use proptest::prelude::*;

    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9]{0,6}",
            "(dmst-quarterly|dmst-annual|x)",
            "20[0-9]{2}(Q[0-9]|S[0-9]|[0-9]{2})?",
            "[a-z_]{0,12}",
            "-?[0-9]{0,6}(\\.[0-9]{0,4})?(e[0-9]{1,3})?",
            "(NaN|inf|-inf|1e400|null|true)",
            "[ -~ĐđăâêôơưÀ-ỹ,\"\\n]{0,12}",
        ]
    }

    proptest! {
        #[test]
        fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse_upload(true, &bytes);
            let _ = parse_upload(false, &bytes);
        }

        #[test]
        fn every_csv_row_is_in_a_report_or_refused(
            header in proptest::sample::subsequence(
                vec!["commune", "dataset", "period", "indicator", "value", "comment", "extra"], 0..=7),
            rows in proptest::collection::vec(proptest::collection::vec(field(), 0..9), 0..40),
            bom in any::<bool>(),
        ) {
            let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
            writer.write_record(&header).unwrap();
            for row in &rows {
                writer.write_record(row).unwrap();
            }
            let mut bytes = if bom { "\u{feff}".as_bytes().to_vec() } else { Vec::new() };
            bytes.extend(writer.into_inner().unwrap());
            let required = ["commune", "dataset", "period", "indicator", "value"];
            match parse_upload(true, &bytes) {
                Ok((reports, conflicts)) => {
                    prop_assert!(required.iter().all(|c| header.contains(c)));
                    let named: usize = reports.iter().map(|r| r.values.len()).sum();
                    // Rows with the wrong number of fields are refused as malformed; every other
                    // row names an indicator of one report or is refused with a reason.
                    let data_rows = rows.len();
                    prop_assert_eq!(named + conflicts.len(), data_rows,
                        "reports {:?} conflicts {:?}", reports, conflicts);
                }
                Err(problem) => {
                    prop_assert!(!required.iter().all(|c| header.contains(c)) || header.is_empty(),
                        "a complete header was refused: {problem}");
                }
            }
        }

        #[test]
        fn every_json_item_is_a_report_or_refused(
            items in proptest::collection::vec(prop_oneof![
                Just(serde_json::json!({"commune": "03808", "dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_total": 1}})),
                Just(serde_json::json!({"dataset": 5})),
                Just(serde_json::json!([1, 2])),
                Just(serde_json::json!(null)),
                Just(serde_json::json!({"commune": "03808", "dataset": "dmst-quarterly", "period": "2026Q1", "values": {"a": "x"}, "extra": 1})),
                field().prop_map(serde_json::Value::String),
            ], 0..30),
        ) {
            let bytes = serde_json::to_vec(&items).unwrap();
            let (reports, conflicts) = parse_upload(false, &bytes).unwrap();
            prop_assert_eq!(reports.len() + conflicts.len(), items.len());
        }
    }
}
