//! Notifications: what is sent, to whom it is about, and its words in Vietnamese and English.
//!
//! Reminders go out a number of days before a deadline to the communes that have not yet
//! submitted; a commune hears when the province returns, approves or reopens its report; the
//! province admins get a digest of the late and missing communes the morning after a deadline;
//! a commune hears when one of its plan's tasks becomes overdue. The texts are built here, with
//! no IO; where they go (email, webhook) and when is the application's business.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::period::{Period, vietnam_offset};

/// The days before a deadline on which reminders go out, unless configured otherwise.
pub const DEFAULT_REMINDER_DAYS: [u16; 3] = [7, 3, 1];

/// The hour (Vietnam time) of the day after a deadline at which its digest goes out.
pub const DIGEST_HOUR: i64 = 8;

/// How long after it became due a scheduled message is still worth sending (a scheduler that
/// was down for longer does not flood recipients with stale messages).
pub const STALE_AFTER_DAYS: i64 = 7;

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A deadline is near and the commune has not submitted.
    Reminder,
    /// The province returned the commune's report for correction.
    Returned,
    /// The province approved the commune's report.
    Approved,
    /// The province reopened the commune's report (or opened a report never filed).
    Reopened,
    /// The province withdrew its approval: the report can be corrected again.
    Unapproved,
    /// The late and missing communes of a deadline, to the province admins.
    Digest,
    /// A task of the commune's plan is past its due day and not completed.
    TaskOverdue,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Reminder => "reminder",
            Kind::Returned => "returned",
            Kind::Approved => "approved",
            Kind::Reopened => "reopened",
            Kind::Unapproved => "unapproved",
            Kind::Digest => "digest",
            Kind::TaskOverdue => "task_overdue",
        }
    }

    /// Whether a recipient who opted out of reminders is spared it. Notices of what the
    /// province did to a report, and the digest the province admins work from, always go.
    pub fn is_reminder(self) -> bool {
        matches!(self, Kind::Reminder | Kind::TaskOverdue)
    }
}

/// The language of a recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    #[default]
    Vi,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Vi => "vi",
            Language::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Language> {
        match s {
            "vi" => Some(Language::Vi),
            "en" => Some(Language::En),
            _ => None,
        }
    }

    fn pick<'a>(self, vi: &'a str, en: &'a str) -> &'a str {
        match self {
            Language::Vi => vi,
            Language::En => en,
        }
    }
}

/// A subject line and a plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub subject: String,
    pub body: String,
}

/// A name in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Names {
    pub vi: String,
    pub en: String,
}

impl Names {
    pub fn get(&self, lang: Language) -> &str {
        lang.pick(&self.vi, &self.en)
    }
}

/// "Quý IV/2026", "Năm 2026" / "Q4 2026", "year 2026".
pub fn period_words(period: Period, lang: Language) -> String {
    match (period, lang) {
        (Period::Quarter(y, q), Language::Vi) => format!("Quý {}/{y}", roman(q)),
        (Period::Quarter(y, q), Language::En) => format!("Q{q} {y}"),
        (Period::Year(y), Language::Vi) => format!("Năm {y}"),
        (Period::Year(y), Language::En) => format!("year {y}"),
        (Period::Half(y, h), Language::Vi) => format!(
            "6 tháng {} năm {y}",
            ["đầu", "cuối"][(h as usize).clamp(1, 2) - 1]
        ),
        (Period::Half(y, h), Language::En) => format!("H{h} {y}"),
        (Period::Month(y, m), Language::Vi) => format!("Tháng {m}/{y}"),
        (Period::Month(y, m), Language::En) => format!("{y}-{m:02}"),
    }
}

fn roman(q: u8) -> &'static str {
    ["I", "II", "III", "IV"][(q as usize).clamp(1, 4) - 1]
}

/// A day as people write it: 05/12/2026 in Vietnamese, 5 December 2026 in English.
pub fn day_words(day: NaiveDate, lang: Language) -> String {
    match lang {
        Language::Vi => day.format("%d/%m/%Y").to_string(),
        Language::En => day.format("%-d %B %Y").to_string(),
    }
}

/// "1 commune", "3 communes".
fn communes_en(n: i64) -> String {
    if n == 1 {
        "1 commune".into()
    } else {
        format!("{n} communes")
    }
}

/// "1 day", "3 days".
fn days_en(n: i64) -> String {
    if n == 1 {
        "1 day".into()
    } else {
        format!("{n} days")
    }
}

/// The day (Vietnam) of an instant.
pub fn vietnam_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&vietnam_offset()).date_naive()
}

/// When the reminder `days` before `deadline` is due: the same time of day, `days` days earlier
/// (the end of the due day minus whole days: the start of the day after, `days` days before).
pub fn reminder_due(deadline: DateTime<Utc>, days: u16) -> DateTime<Utc> {
    deadline + Duration::seconds(1) - Duration::days(days as i64)
}

/// When the digest of `deadline` is due: [`DIGEST_HOUR`] o'clock on the day after.
pub fn digest_due(deadline: DateTime<Utc>) -> DateTime<Utc> {
    deadline + Duration::seconds(1) + Duration::hours(DIGEST_HOUR)
}

/// The reminder stage in force at `as_of`: the smallest of `days` whose reminder is due (a
/// scheduler that missed the 7-day reminder sends the 3-day one, not both), while the deadline
/// is ahead and that stage is not stale.
pub fn reminder_stage(deadline: DateTime<Utc>, days: &[u16], as_of: DateTime<Utc>) -> Option<u16> {
    if as_of > deadline {
        return None;
    }
    days.iter()
        .copied()
        .filter(|&d| reminder_due(deadline, d) <= as_of)
        .min()
}

/// A reminder to a commune that has not submitted.
pub struct Reminder<'a> {
    pub commune: &'a Names,
    pub dataset: &'a Names,
    pub period: Period,
    pub deadline: DateTime<Utc>,
    pub as_of: DateTime<Utc>,
}

/// Whole days from `as_of` to the end of the deadline's day, rounded up (the last day counts).
pub fn days_left(deadline: DateTime<Utc>, as_of: DateTime<Utc>) -> i64 {
    let secs = (deadline - as_of).num_seconds() + 1;
    ((secs + 86_399) / 86_400).max(0)
}

impl Reminder<'_> {
    pub fn text(&self, lang: Language) -> Text {
        let due = day_words(vietnam_day(self.deadline), lang);
        let left = days_left(self.deadline, self.as_of);
        let period = period_words(self.period, lang);
        let dataset = self.dataset.get(lang);
        let commune = self.commune.get(lang);
        match lang {
            Language::Vi => Text {
                subject: format!("Nhắc hạn nộp {dataset} – {period}: còn {left} ngày"),
                body: format!(
                    "Kính gửi UBND {commune},\n\nHạn nộp {dataset} kỳ {period} là hết ngày {due} \
                     (còn {left} ngày). Hệ thống chưa nhận được báo cáo của {commune}. Đề nghị \
                     hoàn thành và gửi báo cáo đúng hạn.\n"
                ),
            },
            Language::En => Text {
                subject: format!("Reminder: {dataset}, {period} due in {}", days_en(left)),
                body: format!(
                    "To the People's Committee of {commune},\n\nThe {dataset} for {period} is \
                     due by the end of {due} ({} left). No report of {commune} has been received \
                     yet. Please complete and send it on time.\n",
                    days_en(left)
                ),
            },
        }
    }
}

/// A notice of what the province did to a commune's report.
pub struct ReviewNotice<'a> {
    pub kind: Kind,
    pub commune: &'a Names,
    pub dataset: &'a Names,
    pub period: Period,
    pub actor: &'a str,
    pub comment: Option<&'a str>,
}

impl ReviewNotice<'_> {
    pub fn text(&self, lang: Language) -> Text {
        let period = period_words(self.period, lang);
        let dataset = self.dataset.get(lang);
        let commune = self.commune.get(lang);
        let (what_vi, what_en, ask_vi, ask_en) = match self.kind {
            Kind::Returned => (
                "đã được trả lại để chỉnh sửa",
                "was returned for correction",
                "Đề nghị xã chỉnh sửa và gửi lại báo cáo.",
                "Please correct it and send it again.",
            ),
            Kind::Approved => (
                "đã được phê duyệt",
                "was approved",
                "Báo cáo đã được khóa.",
                "The report is now locked.",
            ),
            Kind::Unapproved => (
                "đã được hủy phê duyệt",
                "had its approval withdrawn",
                "Báo cáo có thể được chỉnh sửa lại.",
                "It can be corrected again.",
            ),
            _ => (
                "đã được mở lại",
                "was reopened",
                "Có thể gửi hoặc chỉnh sửa báo cáo.",
                "It may now be sent or corrected.",
            ),
        };
        let comment = self
            .comment
            .map(|c| match lang {
                Language::Vi => format!("\nÝ kiến: {c}\n"),
                Language::En => format!("\nComment: {c}\n"),
            })
            .unwrap_or_default();
        match lang {
            Language::Vi => Text {
                subject: format!("{dataset} {period} của {commune} {what_vi}"),
                body: format!(
                    "Kính gửi UBND {commune},\n\n{dataset} kỳ {period} của {commune} {what_vi} \
                     (người thực hiện: {}). {ask_vi}\n{comment}",
                    self.actor
                ),
            },
            Language::En => Text {
                subject: format!("{dataset}, {period} of {commune} {what_en}"),
                body: format!(
                    "To the People's Committee of {commune},\n\nThe {dataset} of {commune} for \
                     {period} {what_en} by {}. {ask_en}\n{comment}",
                    self.actor
                ),
            },
        }
    }
}

/// A commune in a digest: late (received after the deadline) or missing, with its days late.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestLine {
    pub commune: String,
    pub name_vi: String,
    pub status: String,
    pub days_late: i64,
}

/// The province admins' digest of a deadline.
pub struct Digest<'a> {
    pub province: &'a Names,
    pub dataset: &'a Names,
    pub period: Period,
    pub deadline: DateTime<Utc>,
    pub as_of: DateTime<Utc>,
    pub expected: u32,
    pub lines: &'a [DigestLine],
}

impl Digest<'_> {
    pub fn text(&self, lang: Language) -> Text {
        let period = period_words(self.period, lang);
        let dataset = self.dataset.get(lang);
        let province = self.province.get(lang);
        let due = day_words(vietnam_day(self.deadline), lang);
        let late = self.lines.iter().filter(|l| l.status == "late").count();
        let missing = self.lines.len() - late;
        let mut body = match lang {
            Language::Vi => format!(
                "Kính gửi Sở Khoa học và Công nghệ {province},\n\nHạn nộp {dataset} kỳ {period} \
                 là hết ngày {due}. Đến {}: {late} xã nộp muộn, {missing} xã chưa nộp (trên {} \
                 xã).\n\n",
                self.as_of
                    .with_timezone(&vietnam_offset())
                    .format("%H:%M %d/%m/%Y"),
                self.expected
            ),
            Language::En => format!(
                "To the Department of Science and Technology of {province},\n\nThe {dataset} for \
                 {period} was due by the end of {due}. As of {} (Vietnam time): {} late, {} \
                 missing (of {}).\n\n",
                self.as_of
                    .with_timezone(&vietnam_offset())
                    .format("%H:%M, %-d %B %Y"),
                communes_en(late as i64),
                communes_en(missing as i64),
                self.expected
            ),
        };
        for l in self.lines {
            let status = match (l.status.as_str(), lang) {
                ("late", Language::Vi) => "nộp muộn",
                ("late", Language::En) => "late",
                (_, Language::Vi) => "chưa nộp",
                (_, Language::En) => "missing",
            };
            let days = match lang {
                Language::Vi => format!("{} ngày", l.days_late),
                Language::En => days_en(l.days_late),
            };
            body.push_str(&format!(
                "- {} {} — {status}, {days}\n",
                l.commune, l.name_vi
            ));
        }
        if self.lines.is_empty() {
            body.push_str(lang.pick(
                "Tất cả các xã đã nộp đúng hạn.\n",
                "Every commune reported on time.\n",
            ));
        }
        Text {
            subject: match lang {
                Language::Vi => format!(
                    "Tổng hợp hạn nộp {dataset} {period}: {late} xã nộp muộn, {missing} xã chưa nộp"
                ),
                Language::En => format!(
                    "{dataset}, {period}: {} late, {} missing",
                    communes_en(late as i64),
                    communes_en(missing as i64)
                ),
            },
            body,
        }
    }
}

/// A task of a commune's plan past its due day.
pub struct TaskOverdue<'a> {
    pub commune: &'a Names,
    pub code: &'a str,
    pub title: &'a str,
    pub due: NaiveDate,
    pub days_overdue: i64,
}

impl TaskOverdue<'_> {
    pub fn text(&self, lang: Language) -> Text {
        let commune = self.commune.get(lang);
        let due = day_words(self.due, lang);
        match lang {
            Language::Vi => Text {
                subject: format!("Nhiệm vụ {} quá hạn {} ngày", self.code, self.days_overdue),
                body: format!(
                    "Kính gửi UBND {commune},\n\nNhiệm vụ {} \"{}\" trong kế hoạch của {commune} \
                     đến hạn ngày {due} và chưa được báo cáo hoàn thành (quá hạn {} ngày). Đề nghị \
                     cập nhật tiến độ trong báo cáo kỳ này.\n",
                    self.code, self.title, self.days_overdue
                ),
            },
            Language::En => Text {
                subject: format!(
                    "Task {} is {} overdue",
                    self.code,
                    days_en(self.days_overdue)
                ),
                body: format!(
                    "To the People's Committee of {commune},\n\nTask {} \"{}\" of the plan of \
                     {commune} was due on {due} and has not been reported completed ({} \
                     overdue). Please update its progress in this period's report.\n",
                    self.code,
                    self.title,
                    days_en(self.days_overdue)
                ),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn vn(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        vietnam_offset()
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_stage_in_force_is_the_latest_due_and_none_after_the_deadline() {
        // The 2026Q4 deadline: the end of 5 December 2026, Vietnam time.
        let deadline = vn(2026, 12, 6, 0) - Duration::seconds(1);
        let days = DEFAULT_REMINDER_DAYS;
        assert_eq!(reminder_stage(deadline, &days, vn(2026, 11, 28, 23)), None);
        assert_eq!(
            reminder_stage(deadline, &days, vn(2026, 11, 29, 0)),
            Some(7)
        );
        assert_eq!(
            reminder_stage(deadline, &days, vn(2026, 12, 2, 23)),
            Some(7)
        );
        assert_eq!(reminder_stage(deadline, &days, vn(2026, 12, 3, 0)), Some(3));
        assert_eq!(
            reminder_stage(deadline, &days, vn(2026, 12, 5, 23)),
            Some(1)
        );
        assert_eq!(reminder_stage(deadline, &days, vn(2026, 12, 6, 0)), None);
        assert_eq!(days_left(deadline, vn(2026, 11, 29, 0)), 7);
        assert_eq!(days_left(deadline, vn(2026, 12, 5, 23)), 1);
        assert_eq!(digest_due(deadline), vn(2026, 12, 6, 8));
    }

    #[test]
    fn texts_speak_the_recipients_language_and_name_the_period() {
        let commune = Names {
            vi: "Xã Mường La".into(),
            en: "Muong La commune".into(),
        };
        let dataset = Names {
            vi: "Báo cáo quý".into(),
            en: "Quarterly report".into(),
        };
        let r = Reminder {
            commune: &commune,
            dataset: &dataset,
            period: Period::Quarter(2026, 4),
            deadline: vn(2026, 12, 6, 0) - Duration::seconds(1),
            as_of: vn(2026, 12, 2, 9),
        };
        let vi = r.text(Language::Vi);
        assert!(vi.subject.contains("Quý IV/2026"), "{}", vi.subject);
        assert!(
            vi.body.contains("05/12/2026") && vi.body.contains("còn 4 ngày"),
            "{}",
            vi.body
        );
        let en = r.text(Language::En);
        assert!(
            en.subject.contains("Q4 2026") && en.body.contains("Muong La"),
            "{}",
            en.body
        );
        let lines = vec![DigestLine {
            commune: "14001".into(),
            name_vi: "Xã A".into(),
            status: "missing".into(),
            days_late: 1,
        }];
        let d = Digest {
            province: &commune,
            dataset: &dataset,
            period: Period::Year(2026),
            deadline: vn(2026, 12, 6, 0) - Duration::seconds(1),
            as_of: vn(2026, 12, 6, 8),
            expected: 75,
            lines: &lines,
        }
        .text(Language::Vi);
        assert!(
            d.subject.contains("0 xã nộp muộn, 1 xã chưa nộp"),
            "{}",
            d.subject
        );
        assert!(
            d.body.contains("- 14001 Xã A — chưa nộp, 1 ngày"),
            "{}",
            d.body
        );
    }
}
