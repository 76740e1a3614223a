//! A plan from its annex table ("Phụ lục ... danh mục nhiệm vụ"), CSV or xlsx, with the columns
//! the plans use: STT, Nội dung, Nhiệm vụ (or Nội dung công việc / Nội dung nhiệm vụ), Cơ quan
//! (Đơn vị) chủ trì, Cơ quan (Đơn vị) phối hợp, Thời gian thực hiện, and optionally Kết quả
//! (sản phẩm) dự kiến, Ghi chú, Chỉ tiêu.
//!
//! A row whose STT is a Roman numeral, or that names no lead unit and no timeframe, opens a
//! section; a numbered row is a task, coded `<section>.<STT>` ("II.3") unless its STT is
//! already a code ("1.2"). Every unreadable row is reported with its line; a file with any
//! problem stores nothing.

use std::io::Cursor;

use innoreport_core::Principal;
use innoreport_core::plans::{PlanDraft, PlanOwner, Section, TaskDraft, check_plan, tidy};
use innoreport_core::validation::Issue;

use super::PlanView;
use crate::{Service, ServiceError};

/// The format of an annex upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnnexFormat {
    Csv,
    Xlsx,
}

/// One problem of one row (the line of the file, header = its own line, from 1).
#[derive(Debug, Clone, PartialEq)]
pub struct RowProblem {
    pub line: usize,
    pub field: String,
    pub code: String,
    pub message: String,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedPlan {
    pub dry_run: bool,
    pub plan: PlanView,
}

/// The most rows an annex may have.
pub const MAX_ROWS: usize = 2000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Col {
    Stt,
    Title,
    Content,
    Lead,
    Partners,
    Timeframe,
    Expected,
    Note,
    Indicators,
}

/// Lower case, single spaces, no '*' or ':' (headers come with marks and line breaks).
fn norm(s: &str) -> String {
    s.to_lowercase()
        .replace(['*', ':'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn column(header: &str) -> Option<Col> {
    let h = norm(header);
    Some(match h.as_str() {
        "stt" | "tt" | "số tt" | "code" | "mã" => Col::Stt,
        "nội dung" | "tên nhiệm vụ" | "title" => Col::Title,
        "nhiệm vụ" | "nội dung công việc" | "nội dung nhiệm vụ" | "content" => {
            Col::Content
        }
        "cơ quan chủ trì" | "đơn vị chủ trì" | "chủ trì" | "lead" => Col::Lead,
        "cơ quan phối hợp" | "đơn vị phối hợp" | "phối hợp" | "partners" => {
            Col::Partners
        }
        "thời gian thực hiện" | "thời gian" | "thời hạn" | "timeframe" => {
            Col::Timeframe
        }
        "kết quả dự kiến"
        | "kết quả/sản phẩm dự kiến"
        | "kết quả/sản phẩm"
        | "sản phẩm dự kiến"
        | "expected" => Col::Expected,
        "ghi chú" | "note" => Col::Note,
        "chỉ tiêu" | "chỉ tiêu liên quan" | "indicators" => Col::Indicators,
        _ => return None,
    })
}

fn roman(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| matches!(c, 'I' | 'V' | 'X' | 'L'))
}

/// The rows of an upload with their lines.
fn rows(bytes: &[u8], format: AnnexFormat) -> Result<Vec<(usize, Vec<String>)>, ServiceError> {
    let bad = |m: String| ServiceError::bad("file", "unreadable", m);
    match format {
        AnnexFormat::Csv => {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            let text = std::str::from_utf8(bytes).map_err(|e| {
                let line = 1 + bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                bad(format!(
                    "the CSV is not UTF-8 text (line {line}): save it as CSV UTF-8"
                ))
            })?;
            let delimiter = if text.lines().next().is_some_and(|l| l.contains('\t')) {
                b'\t'
            } else if text
                .lines()
                .next()
                .is_some_and(|l| l.matches(';').count() > l.matches(',').count())
            {
                b';'
            } else {
                b','
            };
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(delimiter)
                .from_reader(text.as_bytes());
            let mut out = Vec::new();
            for record in reader.records() {
                let record = record.map_err(|e| bad(format!("the CSV is malformed: {e}")))?;
                let line = record
                    .position()
                    .map_or(out.len() + 1, |p| p.line() as usize);
                out.push((line, record.iter().map(str::to_owned).collect()));
            }
            Ok(out)
        }
        AnnexFormat::Xlsx => {
            use calamine::{Reader, Xlsx};
            let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
                .map_err(|e| bad(format!("the file is not an xlsx workbook: {e}")))?;
            let range = book
                .worksheet_range_at(0)
                .ok_or_else(|| bad("the workbook has no sheet".into()))?
                .map_err(|e| bad(format!("the first sheet is unreadable: {e}")))?;
            let first = range.start().map_or(0, |(r, _)| r as usize);
            Ok(range
                .rows()
                .enumerate()
                .map(|(i, r)| (first + i + 1, r.iter().map(|c| c.to_string()).collect()))
                .collect())
        }
    }
}

/// A table read: the plan draft of the rows that could be read, the line of each of its tasks,
/// and the problems of the rows that could not.
#[derive(Debug, Clone, PartialEq)]
pub struct Annex {
    pub draft: PlanDraft,
    pub lines: Vec<usize>,
    pub problems: Vec<RowProblem>,
}

/// Reads an annex table into a plan draft titled `title`, with the line of each task and every
/// problem of its rows, by line.
pub fn read_annex(
    bytes: &[u8],
    format: AnnexFormat,
    title: &str,
    last_year: Option<i32>,
) -> Result<Annex, ServiceError> {
    let all = rows(bytes, format)?;
    let mut problems = Vec::new();
    let problem = |line: usize, field: &str, code: &str, message: String| RowProblem {
        line,
        field: field.into(),
        code: code.into(),
        message,
    };
    // The header is the first row naming a lead-unit or timeframe column.
    let Some(h) = all.iter().position(|(_, r)| {
        let cols: Vec<_> = r.iter().filter_map(|c| column(c)).collect();
        cols.contains(&Col::Stt) && (cols.contains(&Col::Lead) || cols.contains(&Col::Timeframe))
    }) else {
        return Err(ServiceError::bad(
            "file",
            "no_header",
            "no header row: the table needs the columns STT, Nhiệm vụ (or Nội dung), Cơ quan chủ trì and Thời gian thực hiện",
        ));
    };
    let header: Vec<Option<Col>> = all[h].1.iter().map(|c| column(c)).collect();
    let at = |col: Col| header.iter().position(|c| *c == Some(col));
    for (need, name) in [
        (Col::Lead, "Cơ quan chủ trì"),
        (Col::Timeframe, "Thời gian thực hiện"),
    ] {
        if at(need).is_none() {
            problems.push(problem(
                all[h].0,
                "header",
                "missing_column",
                format!("no column {name}"),
            ));
        }
    }
    if at(Col::Title).is_none() && at(Col::Content).is_none() {
        problems.push(problem(
            all[h].0,
            "header",
            "missing_column",
            "no column Nội dung or Nhiệm vụ".into(),
        ));
    }
    if all.len() - h - 1 > MAX_ROWS {
        problems.push(problem(
            all[h].0,
            "file",
            "too_many_rows",
            format!("at most {MAX_ROWS} rows"),
        ));
    }
    let draft = |sections, tasks| PlanDraft {
        title: title.to_owned(),
        last_year,
        sections,
        tasks,
    };
    if !problems.is_empty() {
        return Ok(Annex {
            draft: draft(Vec::new(), Vec::new()),
            lines: Vec::new(),
            problems,
        });
    }
    let mut sections: Vec<Section> = Vec::new();
    let mut tasks = Vec::new();
    let mut lines = Vec::new();
    for (line, row) in all.iter().skip(h + 1).take(MAX_ROWS) {
        let cell = |c: Col| {
            at(c)
                .and_then(|i| row.get(i))
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let stt = tidy(&cell(Col::Stt)).trim_end_matches('.').to_owned();
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        // A row cut short (or run on) is refused, not read partly.
        let width = header.len();
        if row.len() < width {
            problems.push(problem(
                *line,
                "row",
                "short_row",
                format!("the row has {} cells; the header has {width}", row.len()),
            ));
            continue;
        }
        if row[width..].iter().any(|c| !c.trim().is_empty()) {
            problems.push(problem(
                *line,
                "row",
                "extra_cells",
                format!("the row has text beyond the header's {width} columns"),
            ));
            continue;
        }
        // A repeated header (the table continues on the next page).
        if column(&stt) == Some(Col::Stt) {
            continue;
        }
        let (title, content) = (tidy(&cell(Col::Title)), cell(Col::Content));
        let (lead, timeframe) = (cell(Col::Lead), cell(Col::Timeframe));
        // Sections are Roman-numbered ("I"), or numbered ("1") in a table that has no Roman
        // ones, with neither lead unit nor timeframe.
        let numbered_sections = !sections.iter().any(|s| roman(&s.code));
        let bare = lead.is_empty() && timeframe.is_empty();
        if bare && title.is_empty() && content.is_empty() {
            problems.push(problem(
                *line,
                "row",
                "empty_row",
                format!("the row numbered {stt:?} has no title, lead unit or timeframe: a task needs a title, a lead unit and a timeframe; a section a title"),
            ));
            continue;
        }
        if roman(&stt) || (numbered_sections && !stt.is_empty() && !stt.contains('.') && bare) {
            let name = [&title, &content]
                .into_iter()
                .find(|s| !s.is_empty())
                .cloned();
            match name {
                Some(name) => sections.push(Section {
                    code: stt,
                    title: tidy(&name),
                }),
                None => problems.push(problem(
                    *line,
                    "Nội dung",
                    "required",
                    format!("section {stt} has no title"),
                )),
            }
            continue;
        }
        if stt.is_empty() {
            problems.push(problem(
                *line,
                "STT",
                "required",
                "a task needs its number (STT)".into(),
            ));
            continue;
        }
        let section = sections.last().map(|s| s.code.clone());
        let code = match &section {
            Some(s) if !stt.contains('.') && roman(s) => format!("{s}.{stt}"),
            _ => stt.clone(),
        };
        // A task without a short name is named by its content's first clause.
        let title = if title.is_empty() {
            short(&tidy(&content))
        } else {
            title
        };
        let indicators = cell(Col::Indicators)
            .split([',', ';', ' '])
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let note = cell(Col::Note);
        let expected = cell(Col::Expected);
        tasks.push(TaskDraft {
            code,
            section,
            title,
            content,
            lead,
            partners: Some(cell(Col::Partners)).filter(|s| !s.is_empty()),
            timeframe,
            expected: match (expected.is_empty(), note.is_empty()) {
                (false, true) => Some(expected),
                (false, false) => Some(format!("{expected} ({note})")),
                (true, false) => Some(note),
                (true, true) => None,
            },
            indicators,
        });
        lines.push(*line);
    }
    // In a table with sections, a task before the first section belongs to none.
    if !sections.is_empty() {
        for (t, line) in tasks.iter().zip(&lines) {
            if t.section.is_none() {
                problems.push(problem(
                    *line,
                    "STT",
                    "before_section",
                    format!("task {} comes before the first section", t.code),
                ));
            }
        }
    }
    Ok(Annex {
        draft: draft(sections, tasks),
        lines,
        problems,
    })
}

/// The first clause of a text, at most 120 characters.
fn short(content: &str) -> String {
    let clause = content
        .split([';', '.', ':'])
        .next()
        .unwrap_or(content)
        .trim();
    if clause.chars().count() <= 120 {
        clause.to_owned()
    } else {
        let cut: String = clause.chars().take(119).collect();
        format!("{}…", cut.trim_end())
    }
}

/// The line of a plan problem's field (`tasks[3].timeframe` is on the line of task 3).
fn line_of(field: &str, lines: &[usize], header: usize) -> usize {
    field
        .strip_prefix("tasks[")
        .and_then(|r| r.split(']').next())
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| lines.get(i).copied())
        .unwrap_or(header)
}

fn rejected(problems: Vec<RowProblem>) -> ServiceError {
    ServiceError::invalid(
        "annex table",
        problems
            .into_iter()
            .map(|p| Issue::new(format!("line {}: {}", p.line, p.field), p.code, p.message))
            .collect(),
    )
}

impl Service {
    /// Imports an annex table as the unit's plan starting in `first_year` (a dry run checks and
    /// answers the plan without storing it).
    #[allow(clippy::too_many_arguments)]
    pub fn import_plan(
        &self,
        who: &Principal,
        owner: PlanOwner,
        unit: &str,
        first_year: i32,
        bytes: &[u8],
        format: AnnexFormat,
        title: &str,
        last_year: Option<i32>,
        base_revision: Option<i32>,
        dry_run: bool,
    ) -> Result<ImportedPlan, ServiceError> {
        let mut conn = self.conn()?;
        let catalog = self.catalog(&mut conn)?;
        let province =
            self.plan_unit(&mut conn, who, owner, unit, innoreport_core::Action::Submit)?;
        let Annex {
            draft,
            lines,
            mut problems,
        } = read_annex(bytes, format, title, last_year)?;
        let header = lines.first().map_or(1, |l| l.saturating_sub(1));
        // The plan's own checks run on the rows that were read, so a file's problems are all
        // listed at once (a table whose header could not be read has no rows to check).
        let checked = check_plan(&draft, first_year, &|c| catalog.indicator(c).is_some());
        let body = match checked {
            Ok(body) if problems.is_empty() => body,
            Ok(_) => return Err(rejected(problems)),
            Err(issues) => {
                let header_only = problems.iter().any(|p| p.field == "header");
                let had_rows_refused = !problems.is_empty();
                problems.extend(
                    issues
                        .into_iter()
                        .filter(|i| !(header_only || (i.field == "tasks" && had_rows_refused)))
                        .map(|i| RowProblem {
                            line: line_of(&i.field, &lines, header),
                            field: i.field,
                            code: i.code,
                            message: i.message,
                        }),
                );
                problems.sort_by_key(|p| p.line);
                return Err(rejected(problems));
            }
        };
        let plan = self.write_plan(
            &mut conn,
            who,
            owner,
            unit,
            &province,
            body,
            base_revision,
            "import",
            None,
            dry_run,
        )?;
        Ok(ImportedPlan { dry_run, plan })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_tasks_and_codes_are_read_from_the_annex_columns() {
        let csv = "STT,Nội dung,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Thời gian thực hiện\n\
                   I,NHIỆM VỤ VỀ THỂ CHẾ,,,,\n\
                   1,Triển khai chính sách,Tổ chức tuyên truyền,Phòng Văn hóa - Xã hội,Các bản,Năm 2026\n\
                   STT,Nội dung,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Thời gian thực hiện\n\
                   2,Rà soát,\"Tổng hợp khó khăn,\nvướng mắc\",Phòng Văn hóa - Xã hội,,Thường xuyên\n";
        let Annex {
            draft: plan,
            lines,
            problems,
        } = read_annex(csv.as_bytes(), AnnexFormat::Csv, "KH 2026", None).unwrap();
        assert!(problems.is_empty());
        assert_eq!(plan.sections.len(), 1);
        let codes: Vec<&str> = plan.tasks.iter().map(|t| t.code.as_str()).collect();
        assert_eq!(codes, ["I.1", "I.2"]);
        assert_eq!(
            plan.tasks[1].content, "Tổng hợp khó khăn,\nvướng mắc",
            "a cell keeps its line breaks"
        );
        assert_eq!(plan.tasks[1].partners, None);
        assert_eq!(lines, [3, 5]);
    }

    #[test]
    fn short_rows_tasks_before_the_first_section_and_bare_rows_are_refused_by_line() {
        let head = "STT,Nội dung,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Thời gian thực hiện\n";
        let problems = |body: &str| {
            read_annex(
                format!("{head}{body}").as_bytes(),
                AnnexFormat::Csv,
                "KH",
                None,
            )
            .unwrap()
            .problems
            .into_iter()
            .map(|p| (p.line, p.code))
            .collect::<Vec<_>>()
        };
        assert_eq!(
            problems("I,Phần một,,,,\n1,T1,Việc 1,UBND,,Năm 2026\n2,T2\n"),
            [(4, "short_row".to_owned())]
        );
        assert_eq!(
            problems("1,T1,Việc 1,UBND,,Năm 2026\nI,Phần một,,,,\n2,T2,Việc 2,UBND,,Năm 2026\n"),
            [(2, "before_section".to_owned())]
        );
        assert_eq!(
            problems("I,Phần một,,,,\n3,,,,,\n"),
            [(3, "empty_row".to_owned())]
        );
        assert_eq!(
            problems("I,Phần một,,,,\n1,T1,Việc 1,UBND,,Năm 2026,thừa\n"),
            [(3, "extra_cells".to_owned())]
        );
        // Under a Roman section, a numbered row without lead unit and timeframe is a task
        // (refused by the plan's checks), not a section.
        let plan = read_annex(
            format!("{head}I,Phần một,,,,\n1,T1,Việc 1,,,\n").as_bytes(),
            AnnexFormat::Csv,
            "KH",
            None,
        )
        .unwrap()
        .draft;
        assert_eq!((plan.sections.len(), plan.tasks.len()), (1, 1));
    }

    #[test]
    fn a_table_without_its_columns_is_refused_by_line() {
        let csv = "STT,Nhiệm vụ,Thời gian thực hiện\n1,Một việc,Năm 2026\n";
        let problems = read_annex(csv.as_bytes(), AnnexFormat::Csv, "KH", None)
            .unwrap()
            .problems;
        assert_eq!(problems[0].line, 1);
        assert_eq!(problems[0].code, "missing_column");
    }
}
