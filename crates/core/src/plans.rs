//! Plans (kế hoạch) and their tasks (nhiệm vụ), the progress a commune reports on them with its
//! periodic reports, and when a task is overdue.
//!
//! A plan belongs to a commune, or to a province as a template communes adopt (the adopted tasks
//! keep the template's codes, so one task compares across communes). It covers a year or a span
//! of years, has sections ("I", "II", ...) and tasks with a code within the plan ("II.3").

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::period::{MAX_YEAR, MIN_YEAR};
use crate::timeframe::Timeframe;
use crate::validation::Issue;

/// Bounds on what a plan holds.
pub const MAX_TASKS: usize = 500;
pub const MAX_SPAN_YEARS: i32 = 10;
pub const MAX_CODE_CHARS: usize = 16;
pub const MAX_TITLE_CHARS: usize = 300;
pub const MAX_TEXT_CHARS: usize = 4000;
pub const MAX_UNIT_CHARS: usize = 500;
/// The longest free text of a task's progress (result, difficulties, proposals).
pub const MAX_PROGRESS_CHARS: usize = 2000;
/// The longest of a report's three texts (highlights, difficulties, proposals).
pub const MAX_REPORT_TEXT_CHARS: usize = 8000;

/// Whose plan it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PlanOwner {
    /// A commune's own plan.
    Commune,
    /// A province's template, adopted by its communes.
    Province,
}

impl PlanOwner {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanOwner::Commune => "commune",
            PlanOwner::Province => "province",
        }
    }
}

/// Where a plan stands: editable, or approved by the province (locked until reopened).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Draft,
    Approved,
}

impl PlanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Draft => "draft",
            PlanStatus::Approved => "approved",
        }
    }
}

/// Where a commune's task comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TaskOrigin {
    /// The plan's own task.
    #[default]
    Own,
    /// Adopted from the province's template (same code as there).
    Template,
}

/// A section of a plan ("I. NHIỆM VỤ VỀ THỂ CHẾ, TỔ CHỨC THỰC HIỆN").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Section {
    #[cfg_attr(feature = "openapi", schema(example = "II"))]
    pub code: String,
    pub title: String,
}

/// A task of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    /// The task's code within the plan.
    #[cfg_attr(feature = "openapi", schema(example = "II.3"))]
    pub code: String,
    /// The section it belongs to (a section code), if the plan has sections.
    pub section: Option<String>,
    /// A short name ("Nội dung").
    pub title: String,
    /// What is to be done ("Nhiệm vụ", "Nội dung công việc").
    pub content: String,
    /// The lead unit ("Cơ quan chủ trì").
    pub lead: String,
    /// The partner units ("Cơ quan phối hợp").
    pub partners: Option<String>,
    /// The timeframe as written ("Quý II/2026").
    pub timeframe: String,
    /// The timeframe as understood.
    pub schedule: Timeframe,
    /// The expected result ("Kết quả dự kiến").
    pub expected: Option<String>,
    /// Indicators of the catalog the task moves.
    #[serde(default)]
    pub indicators: Vec<String>,
    #[serde(default)]
    pub origin: TaskOrigin,
}

/// What a plan says (stored whole with each revision).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanBody {
    pub title: String,
    pub first_year: i32,
    pub last_year: i32,
    pub sections: Vec<Section>,
    pub tasks: Vec<Task>,
}

impl PlanBody {
    pub fn task(&self, code: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.code == code)
    }

    pub fn section_title(&self, code: &str) -> Option<&str> {
        self.sections
            .iter()
            .find(|s| s.code == code)
            .map(|s| s.title.as_str())
    }

    pub fn covers(&self, year: i32) -> bool {
        (self.first_year..=self.last_year).contains(&year)
    }
}

/// A task as a client writes it: the timeframe as text, parsed on arrival.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TaskDraft {
    #[cfg_attr(feature = "openapi", schema(example = "I.1"))]
    pub code: String,
    pub section: Option<String>,
    #[cfg_attr(feature = "openapi", schema(example = "Triển khai chính sách KHCN"))]
    pub title: String,
    #[serde(default)]
    pub content: String,
    #[cfg_attr(feature = "openapi", schema(example = "Phòng Văn hóa - Xã hội"))]
    pub lead: String,
    pub partners: Option<String>,
    #[cfg_attr(feature = "openapi", schema(example = "Năm 2026"))]
    pub timeframe: String,
    pub expected: Option<String>,
    #[serde(default)]
    pub indicators: Vec<String>,
}

/// A plan as a client writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanDraft {
    #[cfg_attr(
        feature = "openapi",
        schema(example = "Kế hoạch phát triển KH, CN và ĐMST năm 2026")
    )]
    pub title: String,
    /// The last year the plan covers (default: its first year).
    pub last_year: Option<i32>,
    #[serde(default)]
    pub sections: Vec<Section>,
    pub tasks: Vec<TaskDraft>,
}

/// Characters no text of a plan or a report may hold: controls other than line breaks and
/// tabs, noncharacters (what XML, and so a report document, cannot carry), the replacement
/// character, invisible format characters and bidirectional overrides, private use.
pub fn refused_char(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
        || matches!(c, '\u{FFFD}' | '\u{FDD0}'..='\u{FDEF}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')
        || matches!(c, '\u{E000}'..='\u{F8FF}' | '\u{F0000}'..)
        || (c as u32 & 0xFFFE) == 0xFFFE
}

/// A one-line text as stored: composed Unicode (NFC, so "ệ" typed either way is one text), one
/// space between words.
pub fn tidy(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfc()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A long text as stored: its lines kept (CRLF as LF, at most one empty line between
/// paragraphs), each line tidied.
pub fn tidy_lines(s: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for line in s.replace("\r\n", "\n").replace('\r', "\n").split('\n') {
        let line = tidy(line);
        if line.is_empty() && out.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        out.push(line);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// Checks a one-line text field: required or not, its length, its characters.
pub fn check_text(
    issues: &mut Vec<Issue>,
    field: &str,
    value: &str,
    required: bool,
    max: usize,
) -> Option<String> {
    check_tidied(issues, field, value, tidy(value), required, max)
}

/// Checks a long text field, its line breaks kept.
pub fn check_long_text(
    issues: &mut Vec<Issue>,
    field: &str,
    value: &str,
    required: bool,
    max: usize,
) -> Option<String> {
    check_tidied(issues, field, value, tidy_lines(value), required, max)
}

fn check_tidied(
    issues: &mut Vec<Issue>,
    field: &str,
    value: &str,
    v: String,
    required: bool,
    max: usize,
) -> Option<String> {
    if v.is_empty() {
        if required {
            issues.push(Issue::new(field, "required", "a text is required"));
        }
        return None;
    }
    if v.chars().count() > max {
        issues.push(Issue::new(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    } else if value.chars().any(refused_char) {
        issues.push(Issue::new(
            field,
            "invalid_character",
            "holds a control, invisible or private-use character",
        ));
    }
    Some(v)
}

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.chars().count() <= MAX_CODE_CHARS
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        && !code.starts_with('.')
        && !code.ends_with('.')
}

/// Checks a plan draft starting in `first_year` (every problem at once); `known_indicator`
/// tells whether an indicator code is in the catalog.
pub fn check_plan(
    draft: &PlanDraft,
    first_year: i32,
    known_indicator: &dyn Fn(&str) -> bool,
) -> Result<PlanBody, Vec<Issue>> {
    let mut issues = Vec::new();
    let title = check_text(&mut issues, "title", &draft.title, true, MAX_TITLE_CHARS);
    let last_year = draft.last_year.unwrap_or(first_year);
    if !(MIN_YEAR..=MAX_YEAR).contains(&first_year) {
        issues.push(Issue::new("year", "invalid_year", "not a year"));
    }
    if last_year < first_year || last_year - first_year >= MAX_SPAN_YEARS {
        issues.push(Issue::new(
            "last_year",
            "invalid_span",
            format!(
                "from {first_year} to at most {}",
                first_year + MAX_SPAN_YEARS - 1
            ),
        ));
    }
    let mut sections = Vec::new();
    let mut section_codes = BTreeSet::new();
    for (i, s) in draft.sections.iter().enumerate() {
        let f = format!("sections[{i}]");
        if !valid_code(&s.code) {
            issues.push(Issue::new(
                format!("{f}.code"),
                "invalid_code",
                "1 to 16 letters, digits, '.', '-' or '_'",
            ));
        } else if !section_codes.insert(s.code.clone()) {
            issues.push(Issue::new(
                format!("{f}.code"),
                "duplicate",
                format!("section {} twice", s.code),
            ));
        }
        let t = check_text(
            &mut issues,
            &format!("{f}.title"),
            &s.title,
            true,
            MAX_TITLE_CHARS,
        );
        sections.push(Section {
            code: s.code.clone(),
            title: t.unwrap_or_default(),
        });
    }
    if draft.tasks.is_empty() {
        issues.push(Issue::new("tasks", "empty", "a plan has at least one task"));
    }
    if draft.tasks.len() > MAX_TASKS {
        issues.push(Issue::new(
            "tasks",
            "too_many",
            format!("at most {MAX_TASKS} tasks"),
        ));
    }
    let mut codes = BTreeSet::new();
    let mut tasks = Vec::new();
    for (i, t) in draft.tasks.iter().enumerate().take(MAX_TASKS) {
        let f = format!("tasks[{i}]");
        if !valid_code(&t.code) {
            issues.push(Issue::new(
                format!("{f}.code"),
                "invalid_code",
                "1 to 16 letters, digits, '.', '-' or '_' (e.g. II.3)",
            ));
        } else if !codes.insert(t.code.clone()) {
            issues.push(Issue::new(
                format!("{f}.code"),
                "duplicate",
                format!("task {} twice", t.code),
            ));
        }
        if let Some(s) = &t.section
            && !section_codes.contains(s)
        {
            issues.push(Issue::new(
                format!("{f}.section"),
                "unknown_section",
                format!("the plan has no section {:?}", clip(s)),
            ));
        }
        let title = check_text(
            &mut issues,
            &format!("{f}.title"),
            &t.title,
            true,
            MAX_TITLE_CHARS,
        );
        let content = check_long_text(
            &mut issues,
            &format!("{f}.content"),
            &t.content,
            false,
            MAX_TEXT_CHARS,
        );
        let lead = check_text(
            &mut issues,
            &format!("{f}.lead"),
            &t.lead,
            true,
            MAX_UNIT_CHARS,
        );
        let partners = t.partners.as_deref().and_then(|p| {
            check_text(
                &mut issues,
                &format!("{f}.partners"),
                p,
                false,
                MAX_UNIT_CHARS,
            )
        });
        let expected = t.expected.as_deref().and_then(|p| {
            check_long_text(
                &mut issues,
                &format!("{f}.expected"),
                p,
                false,
                MAX_TEXT_CHARS,
            )
        });
        let timeframe = tidy(&t.timeframe);
        let schedule = match Timeframe::parse(&timeframe) {
            Ok(s) => match s.years() {
                Some((a, b)) if a < first_year || b > last_year => {
                    issues.push(Issue::new(
                        format!("{f}.timeframe"),
                        "outside_plan",
                        format!(
                            "{timeframe:?} falls outside the plan's years ({first_year}–{last_year})"
                        ),
                    ));
                    None
                }
                _ => Some(s),
            },
            Err(e) => {
                issues.push(Issue::new(format!("{f}.timeframe"), "invalid_timeframe", e));
                None
            }
        };
        for (j, ind) in t.indicators.iter().enumerate() {
            if !known_indicator(ind) {
                issues.push(Issue::new(
                    format!("{f}.indicators[{j}]"),
                    "unknown_indicator",
                    format!("there is no indicator {:?}", clip(ind)),
                ));
            }
        }
        if let Some(schedule) = schedule {
            tasks.push(Task {
                code: t.code.clone(),
                section: t.section.clone(),
                title: title.clone().unwrap_or_default(),
                content: content.or(title).unwrap_or_default(),
                lead: lead.unwrap_or_default(),
                partners,
                timeframe,
                schedule,
                expected,
                indicators: t.indicators.clone(),
                origin: TaskOrigin::Own,
            });
        }
    }
    if !issues.is_empty() {
        return Err(issues);
    }
    Ok(PlanBody {
        title: title.unwrap_or_default(),
        first_year,
        last_year,
        sections,
        tasks,
    })
}

/// At most 64 characters of an input echoed in a message.
fn clip(s: &str) -> String {
    if s.chars().count() <= 64 {
        s.to_owned()
    } else {
        s.chars().take(63).chain(['…']).collect()
    }
}

mod progress;
pub use progress::*;

#[cfg(test)]
mod tests;
