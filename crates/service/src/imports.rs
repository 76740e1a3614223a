//! Bulk import of reports from CSV (`commune,dataset,period,indicator,value[,comment]`) or a
//! JSON array of report submissions.
//!
//! Rows are grouped into reports (commune × data set × period); each report is checked and
//! applied exactly as a single submission would be, in its own transaction, so one bad report
//! never blocks the others and no report is ever half-written. A dry run does everything,
//! then rolls each report back.

use std::collections::{BTreeMap, BTreeSet};

use innoreport_core::validation::Issue;
use innoreport_core::{Action, Principal, may_ever};

use crate::reports::{Checked, Draft, Outcome, check, store_submission};
use crate::{Service, ServiceError};

/// The most reports one import may carry.
pub const MAX_IMPORT_REPORTS: usize = 20_000;

/// The most conflicts an import answer lists (the total is always given).
pub const MAX_LISTED_CONFLICTS: usize = 1000;

/// One problem of one row (CSV: the line number, header = 1; JSON: the position in the array,
/// from 1).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportConflict {
    pub row: usize,
    pub field: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImportSummary {
    pub dry_run: bool,
    /// Reports found in the upload (rows grouped by commune × data set × period).
    pub reports: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Reports not applied (each has at least one conflict).
    pub rejected: usize,
    /// The first [`MAX_LISTED_CONFLICTS`] conflicts, by row.
    pub conflicts: Vec<ImportConflict>,
    /// Every conflict found.
    pub conflicts_total: usize,
}

/// The format of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadFormat {
    Csv,
    Json,
}

/// One report of the upload, with the row of each of its parts.
struct Group {
    draft: Draft,
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

    fn conflicts(&self, issues: impl IntoIterator<Item = Issue>) -> Vec<ImportConflict> {
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

fn upload_problem(message: String) -> ServiceError {
    ServiceError::Invalid {
        issues: vec![Issue::new("body", "invalid_upload", message.clone())],
        message,
    }
}

/// Reads an upload before anything is validated or stored: the reports found (with the
/// indicators each names) and the rows refused while reading. Public for the property tests
/// and fuzzing of the parsers.
pub fn parse_upload(
    format: UploadFormat,
    bytes: &[u8],
) -> Result<(Vec<Draft>, Vec<ImportConflict>), ServiceError> {
    let (groups, conflicts) = match format {
        UploadFormat::Csv => parse_csv(bytes)?,
        UploadFormat::Json => parse_json(bytes)?,
    };
    Ok((groups.into_iter().map(|g| g.draft).collect(), conflicts))
}

fn parse_csv(bytes: &[u8]) -> Result<(Vec<Group>, Vec<ImportConflict>), ServiceError> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| upload_problem("the CSV must be UTF-8".into()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| upload_problem(format!("unreadable CSV header: {e}")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(c_commune), Some(c_dataset), Some(c_period), Some(c_indicator), Some(c_value)) = (
        col("commune"),
        col("dataset"),
        col("period"),
        col("indicator"),
        col("value"),
    ) else {
        return Err(upload_problem(
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
                draft: Draft {
                    commune: Some(key.0.clone()).filter(|c| !c.is_empty()),
                    dataset: key.1.clone(),
                    period: key.2.clone(),
                    ..Draft::default()
                },
                first_row: row,
                rows: BTreeMap::new(),
            });
            groups.len() - 1
        });
        let group = &mut groups[g];
        if let Some(c) = comment_col.map(get).filter(|c| !c.is_empty()) {
            group.draft.comment = Some(c);
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
                message: format!(
                    "{} is already given for this report on row {first}",
                    crate::reports::clip(&indicator)
                ),
            });
            continue;
        }
        group.rows.insert(indicator.clone(), row);
        group.draft.values.insert(indicator, value);
    }
    Ok((groups, conflicts))
}

fn parse_json(bytes: &[u8]) -> Result<(Vec<Group>, Vec<ImportConflict>), ServiceError> {
    let items: Vec<serde_json::Value> = serde_json::from_slice(bytes)
        .map_err(|e| upload_problem(format!("the body must be a JSON array of reports: {e}")))?;
    let mut groups = Vec::new();
    let mut conflicts = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        let row = i + 1;
        match serde_json::from_value::<StrictDraft>(item) {
            Ok(StrictDraft(draft)) => {
                let rows = draft.values.keys().map(|k| (k.clone(), row)).collect();
                groups.push(Group {
                    draft,
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

/// A JSON report of an import: the fields of a submission and nothing else.
struct StrictDraft(Draft);

impl<'de> serde::Deserialize<'de> for StrictDraft {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Fields {
            commune: Option<String>,
            dataset: String,
            period: String,
            values: BTreeMap<String, serde_json::Value>,
            comment: Option<String>,
            base_revision: Option<i32>,
            #[serde(default)]
            tasks: BTreeMap<String, serde_json::Value>,
            #[serde(default)]
            texts: BTreeMap<String, serde_json::Value>,
        }
        let f = Fields::deserialize(d)?;
        Ok(StrictDraft(Draft {
            commune: f.commune,
            dataset: f.dataset,
            period: f.period,
            values: f.values,
            comment: f.comment,
            base_revision: f.base_revision,
            tasks: f.tasks,
            texts: f.texts,
        }))
    }
}

impl Service {
    /// Imports an upload as `who`; with `dry_run` nothing is stored.
    pub fn import(
        &self,
        who: &Principal,
        format: UploadFormat,
        bytes: &[u8],
        dry_run: bool,
    ) -> Result<ImportSummary, ServiceError> {
        if !may_ever(who.role, Action::Submit) {
            return Err(ServiceError::forbidden(format!(
                "role {} may not submit reports",
                who.role
            )));
        }
        let (groups, mut conflicts) = match format {
            UploadFormat::Csv => parse_csv(bytes)?,
            UploadFormat::Json => parse_json(bytes)?,
        };
        if groups.len() > MAX_IMPORT_REPORTS {
            return Err(upload_problem(format!(
                "at most {MAX_IMPORT_REPORTS} reports per import"
            )));
        }
        let now = self.now();
        let mut conn = self.conn()?;
        let catalog = self.catalog(&mut conn)?;
        let reference = self.reference(&mut conn, |r| {
            groups.iter().all(|g| {
                g.draft
                    .commune
                    .as_deref()
                    .is_none_or(|c| r.commune(c).is_some())
            })
        })?;
        let mut summary = ImportSummary {
            dry_run,
            reports: groups.len(),
            created: 0,
            updated: 0,
            unchanged: 0,
            rejected: 0,
            conflicts: Vec::new(),
            conflicts_total: 0,
        };
        // Rows already refused while parsing reject their report too.
        let bad_rows: BTreeSet<usize> = conflicts.iter().map(|c| c.row).collect();
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
            let checked = match check(who, &catalog, &reference, &group.draft, now) {
                Ok(c) => c,
                Err(ServiceError::Forbidden(denied)) => {
                    summary.rejected += 1;
                    conflicts.push(ImportConflict {
                        row: group.first_row,
                        field: "commune".into(),
                        code: "forbidden".into(),
                        message: denied.0,
                    });
                    continue;
                }
                Err(e) => return Err(e),
            };
            let sub = match checked {
                Checked::Ready(sub) => sub,
                Checked::Invalid(issues) => {
                    summary.rejected += 1;
                    conflicts.extend(group.conflicts(issues));
                    continue;
                }
            };
            match store_submission(&mut conn, &catalog, &sub, now, dry_run) {
                Ok(done) => match done.outcome {
                    Outcome::Created => summary.created += 1,
                    Outcome::Updated => summary.updated += 1,
                    Outcome::Unchanged => summary.unchanged += 1,
                },
                Err(
                    ServiceError::Invalid { issues, .. }
                    | ServiceError::Locked { issues, .. }
                    | ServiceError::Conflict { issues, .. },
                ) => {
                    summary.rejected += 1;
                    conflicts.extend(group.conflicts(issues));
                }
                Err(e) => return Err(e),
            }
        }
        conflicts.sort_by(|a, b| (a.row, &a.field).cmp(&(b.row, &b.field)));
        summary.conflicts_total = conflicts.len();
        conflicts.truncate(MAX_LISTED_CONFLICTS);
        summary.conflicts = conflicts;
        Ok(summary)
    }
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
            let _ = parse_upload(UploadFormat::Csv, &bytes);
            let _ = parse_upload(UploadFormat::Json, &bytes);
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
            match parse_upload(UploadFormat::Csv, &bytes) {
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
            let (reports, conflicts) = parse_upload(UploadFormat::Json, &bytes).unwrap();
            prop_assert_eq!(reports.len() + conflicts.len(), items.len());
        }
    }
}
