//! The report documents ("báo cáo") a DOST analyst sends after a deadline and a commune sends
//! with its figures, written from the data in the layout of Decree 30/2020/NĐ-CP (the layout is
//! `innoreport_documents`; this module decides what a report says).
//!
//! Every figure in a document is a figure another endpoint serves for the same unit and period:
//! compliance is `/compliance`, the headline is the province dashboard, the communes' figures
//! are `/aggregates` at commune level, ranks are `/index`, targets are `/targets`. Numbers are
//! rounded to two decimals and written the Vietnamese way (`innoreport_documents::vn`).

mod commune;
mod plans;
mod province;
pub mod settings;

use chrono::{DateTime, NaiveDate, Utc};
use innoreport_core::validation::Issue;
use innoreport_core::{Period, PeriodType};
pub use innoreport_documents::Document;
use innoreport_documents::vn;

use crate::ServiceError;
use crate::analysis::{CommuneCompliance, Compliance, ComplianceStatus};

/// A report may be dated at most this many days ahead (it is dated when it is signed).
pub const MAX_DAYS_AHEAD: u64 = 31;
/// What every report is about (its excerpt and its opening and closing sentences).
const SUBJECT: &str = "khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số";

/// At most this many recipients.
pub const MAX_RECIPIENTS: usize = 20;
/// At most this many characters in a recipient, the signer's name or title.
pub const MAX_TEXT: usize = 200;
/// A document number is at most this many digits (Decree 30/2020: Arabic digits, from 01 each
/// year).
pub const MAX_NUMBER: usize = 10;

/// What the caller chooses about a document; everything else comes from the data.
#[derive(Debug, Clone, Default)]
pub struct DocumentOptions {
    /// The registry number, digits ("125" gives "Số: 125/BC-SKHCN"); none leaves it blank for the
    /// clerk.
    pub number: Option<String>,
    /// The date of issue (default: today in Vietnam).
    pub date: Option<NaiveDate>,
    /// The signer's full name; none leaves the line blank.
    pub signer: Option<String>,
    /// The signer's title (default "GIÁM ĐỐC" for the department, "CHỦ TỊCH" for a commune).
    pub signer_title: Option<String>,
    /// "Nơi nhận" (default: the bodies the report goes to, and the archive).
    pub recipients: Option<Vec<String>>,
    /// The instant compliance is judged at (default now).
    pub as_of: Option<DateTime<Utc>>,
}

/// Characters a name, title or recipient may not hold: controls, what XML cannot carry
/// (U+FFFE, U+FFFF and the other noncharacters), the replacement character (a text that was not
/// UTF-8) and the bidirectional overrides and isolates (they make a name read differently from
/// what it is).
fn refused_char(c: char) -> bool {
    c.is_control()
        || !innoreport_documents::xml_char(c)
        || matches!(c, '\u{FFFD}' | '\u{FDD0}'..='\u{FDEF}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')
        // Private use: nothing a reader's font shows.
        || matches!(c, '\u{E000}'..='\u{F8FF}' | '\u{F0000}'..)
        || (c as u32 & 0xFFFE) == 0xFFFE
}

/// A text with its spaces as a document writes them: one between words, none outside.
fn tidy(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A recipient as the list shows it: without the dash the list adds before it and the `;` or
/// `.` it adds after it.
fn tidy_recipient(r: &str) -> String {
    let r = r.trim_start_matches(|c: char| matches!(c, '-' | '–' | '+' | '•') || c.is_whitespace());
    let r = r.trim_end_matches(|c: char| matches!(c, ';' | '.' | ',' | ':') || c.is_whitespace());
    tidy(r)
}

impl DocumentOptions {
    /// The options with their texts tidied: outer spaces trimmed, a recipient without the dash
    /// and the end mark the list writes itself.
    pub fn tidied(&self) -> DocumentOptions {
        let trim = |s: &Option<String>| s.as_ref().map(|s| tidy(s));
        DocumentOptions {
            number: trim(&self.number),
            signer: trim(&self.signer),
            signer_title: trim(&self.signer_title),
            recipients: self
                .recipients
                .as_ref()
                .map(|list| list.iter().map(|r| tidy_recipient(r)).collect()),
            ..self.clone()
        }
    }

    /// Every problem of the options and the period at once (400), judged at `now`: a report
    /// covers a quarter or a year that has begun, and is not dated before its period begins.
    fn check(&self, period: Period, now: DateTime<Utc>) -> Result<(), ServiceError> {
        let mut issues = match check_period(period) {
            Err(ServiceError::BadInput { issues, .. }) => issues,
            _ => Vec::new(),
        };
        if period.start() > now {
            issues.push(Issue::new(
                "period",
                "future_period",
                format!("period {period} has not begun: there is nothing to report yet"),
            ));
        }
        let today = now
            .with_timezone(&innoreport_core::period::vietnam_offset())
            .date_naive();
        if self
            .date
            .is_some_and(|d| d > today + chrono::Days::new(MAX_DAYS_AHEAD))
        {
            issues.push(Issue::new(
                "date",
                "too_far_ahead",
                format!(
                    "a report is dated when it is signed: at most {MAX_DAYS_AHEAD} days after today ({today})"
                ),
            ));
        }
        if self.date.is_some_and(|d| d < period.first_day()) {
            issues.push(Issue::new(
                "date",
                "before_period",
                format!(
                    "a report on {period} cannot be dated before the period begins ({})",
                    period.first_day()
                ),
            ));
        }
        issues.extend(self.text_issues());
        Self::refuse(issues)
    }

    /// Every problem of the options' texts and number at once (400).
    fn check_texts(&self) -> Result<(), ServiceError> {
        Self::refuse(self.text_issues())
    }

    fn refuse(issues: Vec<Issue>) -> Result<(), ServiceError> {
        if issues.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::BadInput {
                message: format!("The document request has {} problem(s).", issues.len()),
                issues,
            })
        }
    }

    fn text_issues(&self) -> Vec<Issue> {
        let mut issues = Vec::new();
        let mut text = |field: &str, label: &str, value: &str, max: usize| {
            if value.trim().is_empty() {
                issues.push(Issue::new(field, "empty", format!("{label} is empty")));
            } else if value.chars().count() > max {
                issues.push(Issue::new(
                    field,
                    "too_long",
                    format!("{label} has more than {max} characters"),
                ));
            } else if value.chars().any(refused_char) {
                issues.push(Issue::new(
                    field,
                    "invalid_character",
                    format!(
                        "{label} holds a character a document cannot show (a control, a noncharacter, an invisible or private-use character, U+FFFD or a bidirectional override)"
                    ),
                ));
            }
        };
        if let Some(s) = &self.signer {
            text("signer", "signer", s, MAX_TEXT);
        }
        if let Some(s) = &self.signer_title {
            text("signer_title", "signer_title", s, MAX_TEXT);
        }
        if let Some(list) = &self.recipients {
            if list.is_empty() {
                text("recipients", "the list of recipients", "", MAX_TEXT);
            }
            for (i, r) in list.iter().enumerate() {
                text("recipients", &format!("recipient {}", i + 1), r, MAX_TEXT);
            }
            if list.len() > MAX_RECIPIENTS {
                issues.push(Issue::new(
                    "recipients",
                    "too_many",
                    format!("at most {MAX_RECIPIENTS} recipients"),
                ));
            }
        }
        let number = |n: &str| {
            (1..=MAX_NUMBER).contains(&n.len())
                && n.bytes().all(|b| b.is_ascii_digit())
                && n.bytes().any(|b| b != b'0')
        };
        if self.number.as_deref().is_some_and(|n| !number(n)) {
            issues.push(Issue::new(
                "number",
                "invalid_number",
                format!("a document number is 1 to {MAX_NUMBER} digits, from 01 (e.g. 125)"),
            ));
        }
        issues
    }

    fn date_or_today(&self, now: DateTime<Utc>) -> NaiveDate {
        self.date.unwrap_or_else(|| {
            now.with_timezone(&innoreport_core::period::vietnam_offset())
                .date_naive()
        })
    }
}

impl crate::Service {
    /// The report of a province (the department's) or of a commune.
    pub fn document(
        &self,
        who: &innoreport_core::Principal,
        unit: settings::DocumentUnit<'_>,
        period: Period,
        options: &DocumentOptions,
    ) -> Result<Document, ServiceError> {
        match unit {
            settings::DocumentUnit::Province(code) => {
                self.province_document(who, code, period, options)
            }
            settings::DocumentUnit::Commune(code) => {
                self.commune_document(who, code, period, options)
            }
        }
    }
}

/// A report covers a quarter or a year.
fn check_period(period: Period) -> Result<(), ServiceError> {
    match period.kind() {
        PeriodType::Quarter | PeriodType::Year => Ok(()),
        other => Err(ServiceError::bad(
            "period",
            "wrong_period_type",
            format!(
                "a report covers a quarter (e.g. 2026Q4) or a year (e.g. 2026), not a {}",
                other.as_str()
            ),
        )),
    }
}

/// "quý IV năm 2026", "năm 2026".
pub fn period_phrase(period: Period) -> String {
    match period {
        Period::Quarter(y, q) => format!("quý {} năm {y}", vn::roman(q.into())),
        Period::Half(y, h) => format!("6 tháng {} năm {y}", if h == 1 { "đầu" } else { "cuối" }),
        Period::Month(y, m) => format!("tháng {m} năm {y}"),
        Period::Year(y) => format!("năm {y}"),
    }
}

/// The administrative types a unit's name may begin with.
const TYPES: [&str; 6] = ["thành phố", "tỉnh", "phường", "xã", "đặc khu", "thị trấn"];

/// The type a name begins with, if any (its length in characters).
fn type_prefix(name: &str) -> Option<usize> {
    let lower = name.to_lowercase();
    TYPES
        .iter()
        .find(|t| lower.starts_with(&format!("{t} ")))
        .map(|t| t.chars().count())
}

/// "Tỉnh Sơn La" from ("Sơn La", "tỉnh"); a name that already says its type is kept.
pub fn with_type(name: &str, division_type: &str) -> String {
    if type_prefix(name).is_some() || division_type.is_empty() {
        return name.to_owned();
    }
    let mut t = division_type.chars();
    let capital: String = t
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    format!("{capital}{} {name}", t.as_str())
}

/// "Hà Nội" from "Thành phố Hà Nội"; "Mường La" from "Xã Mường La"; "Sơn La" stays.
pub fn without_type(name: &str) -> String {
    match type_prefix(name) {
        Some(n) => name.chars().skip(n).collect::<String>().trim().to_owned(),
        None => name.to_owned(),
    }
}

/// A document number as Decree 30/2020 writes it: from 01, a number below 10 with its zero
/// (`5` → `05`, `00125` → `125`).
fn number_text(n: &str) -> String {
    let digits = n.trim().trim_start_matches('0');
    format!("{digits:0>2}")
}

/// "Số: 125/BC-SKHCN", or "Số:      /BC-SKHCN" without a number.
fn number_line(number: Option<&str>, suffix: &str) -> String {
    match number {
        Some(n) => format!("Số: {}/BC-{suffix}", number_text(n)),
        None => format!("Số:{}/BC-{suffix}", "\u{a0}".repeat(10)),
    }
}

/// "05/12/2026 lúc 17:00" in Vietnam time.
fn instant(at: DateTime<Utc>) -> String {
    let local = at.with_timezone(&innoreport_core::period::vietnam_offset());
    format!(
        "{} lúc {}",
        vn::short_date(local.date_naive()),
        local.format("%H:%M")
    )
}

/// "đã nộp ngày 03/01/2027, quá hạn 2 ngày" and the like.
fn status_phrase(c: &CommuneCompliance) -> String {
    let received = c
        .first_received_at
        .map(|t| {
            let local = t.with_timezone(&innoreport_core::period::vietnam_offset());
            vn::short_date(local.date_naive())
        })
        .unwrap_or_default();
    match c.status {
        ComplianceStatus::OnTime => format!("đã nộp ngày {received}, đúng hạn"),
        ComplianceStatus::Late => format!(
            "đã nộp ngày {received}, quá hạn {} ngày",
            c.days_late.unwrap_or(0)
        ),
        ComplianceStatus::Missing => "chưa nộp (đã quá hạn)".to_owned(),
        ComplianceStatus::Pending => "chưa nộp (chưa đến hạn)".to_owned(),
    }
}

/// A rate in percent of `part` over `whole`, written; "-" for an empty whole.
fn percent(part: u32, whole: u32) -> String {
    if whole == 0 {
        "-".to_owned()
    } else {
        vn::number(100.0 * part as f64 / whole as f64)
    }
}

/// The dataset's name and deadline, for the sentence that opens its compliance.
fn deadline_sentence(c: &Compliance, dataset_name: &str, period: Period) -> String {
    format!(
        "{dataset_name}, {}: hạn nộp {}; tình hình nộp báo cáo tính đến {}.",
        period_phrase(period),
        instant(c.deadline),
        instant(c.as_of)
    )
}

/// The signature block: `head` signs for the body ("TM. ỦY BAN NHÂN DÂN") or not; a deputy
/// ("PHÓ GIÁM ĐỐC") signs on behalf of the head ("KT. GIÁM ĐỐC"), as Decree 30/2020 writes it.
fn signer_block(
    on_behalf_of_body: Option<&str>,
    title: Option<&str>,
    default_title: &str,
    name: Option<&str>,
) -> innoreport_documents::Signer {
    // Titles are written in capitals (Decree 30/2020, Appendix I).
    let title = title.unwrap_or(default_title).to_uppercase();
    let mut capacity: Vec<String> = on_behalf_of_body.map(str::to_owned).into_iter().collect();
    if let Some(head) = title.strip_prefix("PHÓ ") {
        capacity.push(format!("KT. {}", head.trim()));
    }
    innoreport_documents::Signer {
        capacity: (!capacity.is_empty()).then(|| capacity.join("\n")),
        title,
        name: name.map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_say_their_administrative_type_once() {
        assert_eq!(with_type("Sơn La", "tỉnh"), "Tỉnh Sơn La");
        assert_eq!(
            with_type("Thành phố Hà Nội", "thành phố trung ương"),
            "Thành phố Hà Nội"
        );
        assert_eq!(with_type("Xã Mường La", "xã"), "Xã Mường La");
        assert_eq!(without_type("Xã Mường La"), "Mường La");
        assert_eq!(without_type("Sơn La"), "Sơn La");
        assert_eq!(without_type("Thành phố Hà Nội"), "Hà Nội");
        assert_eq!(without_type("Phường Xã Đàn"), "Xã Đàn");
    }

    #[test]
    fn texts_a_document_cannot_carry_are_refused_and_recipients_are_tidied() {
        for bad in [
            "a\u{FFFE}b",
            "a\u{FFFF}",
            "a\u{FFFD}",
            "a\u{202E}b",
            "a\u{1FFFF}",
            "\u{7}",
        ] {
            let o = DocumentOptions {
                signer: Some(bad.into()),
                ..Default::default()
            };
            assert!(!o.text_issues().is_empty(), "{bad:?}");
        }
        let o = DocumentOptions {
            signer: Some(" Nguyễn Văn An ".into()),
            recipients: Some(vec!["- UBND tỉnh;".into(), "Lưu: VT.".into()]),
            ..Default::default()
        }
        .tidied();
        assert_eq!(o.signer.as_deref(), Some("Nguyễn Văn An"));
        assert_eq!(o.recipients.unwrap(), ["UBND tỉnh", "Lưu: VT"]);
        let o = DocumentOptions {
            signer: Some("Nguyễn  Văn   An".into()),
            recipients: Some(vec!["- - UBND tỉnh;;".into(), "Sở X:".into()]),
            ..Default::default()
        }
        .tidied();
        assert_eq!(o.signer.as_deref(), Some("Nguyễn Văn An"));
        assert_eq!(o.recipients.unwrap(), ["UBND tỉnh", "Sở X"]);
        assert_eq!(number_line(Some("5"), "UBND"), "Số: 05/BC-UBND");
        assert_eq!(number_line(Some("00125"), "UBND"), "Số: 125/BC-UBND");
    }

    #[test]
    fn a_report_covers_a_period_that_has_begun_and_is_not_dated_before_it() {
        let now = "2026-12-01T00:00:00Z".parse().unwrap();
        let o = DocumentOptions::default();
        assert!(o.check(Period::parse("2026Q4").unwrap(), now).is_ok());
        assert!(o.check(Period::parse("2027").unwrap(), now).is_err());
        let early = DocumentOptions {
            date: NaiveDate::from_ymd_opt(2026, 9, 30),
            number: Some("0".into()),
            ..Default::default()
        };
        let Err(ServiceError::BadInput { issues, .. }) =
            early.check(Period::parse("2026Q4").unwrap(), now)
        else {
            panic!("refused")
        };
        let codes: Vec<&str> = issues.iter().map(|i| i.code.as_str()).collect();
        assert_eq!(codes, ["before_period", "invalid_number"]);
        let late = DocumentOptions {
            date: NaiveDate::from_ymd_opt(2027, 1, 2),
            ..Default::default()
        };
        assert!(
            late.check(Period::parse("2026Q4").unwrap(), now).is_err(),
            "32 days ahead"
        );
        let signed_soon = DocumentOptions {
            date: NaiveDate::from_ymd_opt(2027, 1, 1),
            ..Default::default()
        };
        assert!(
            signed_soon
                .check(Period::parse("2026Q4").unwrap(), now)
                .is_ok()
        );
    }

    #[test]
    fn a_deputy_signs_on_behalf_of_the_head() {
        let s = signer_block(None, Some("Phó Giám đốc"), "GIÁM ĐỐC", Some("A"));
        assert_eq!(s.capacity.as_deref(), Some("KT. GIÁM ĐỐC"));
        assert_eq!(s.title, "PHÓ GIÁM ĐỐC", "titles in capitals");
        let s = signer_block(
            Some("TM. ỦY BAN NHÂN DÂN"),
            Some("PHÓ CHỦ TỊCH"),
            "CHỦ TỊCH",
            None,
        );
        assert_eq!(
            s.capacity.as_deref(),
            Some("TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH")
        );
        assert_eq!(s.title, "PHÓ CHỦ TỊCH");
        let s = signer_block(None, None, "GIÁM ĐỐC", None);
        assert_eq!((s.capacity, s.title.as_str()), (None, "GIÁM ĐỐC"));
    }

    #[test]
    fn periods_read_as_in_a_report_title() {
        assert_eq!(
            period_phrase(Period::parse("2026Q4").unwrap()),
            "quý IV năm 2026"
        );
        assert_eq!(period_phrase(Period::parse("2026").unwrap()), "năm 2026");
        assert!(check_period(Period::parse("2026S1").unwrap()).is_err());
    }

    #[test]
    fn options_list_every_problem() {
        let o = DocumentOptions {
            number: Some("12a".into()),
            signer_title: Some("x".repeat(MAX_TEXT + 1)),
            signer: Some(" ".into()),
            recipients: Some(vec!["a\u{7}".into(); 21]),
            ..Default::default()
        };
        let now = "2026-12-01T00:00:00Z".parse().unwrap();
        let Err(ServiceError::BadInput { issues, .. }) =
            o.check(Period::parse("2026S1").unwrap(), now)
        else {
            panic!("refused")
        };
        let codes: Vec<&str> = issues.iter().map(|i| i.code.as_str()).collect();
        assert!(codes.contains(&"too_long") && codes.contains(&"empty"));
        assert!(codes.contains(&"invalid_number") && codes.contains(&"wrong_period_type"));
        assert!(codes.contains(&"invalid_character") && codes.contains(&"too_many"));
    }
}
