//! Data sets (biểu mẫu) and their deadline and lock rules.
//!
//! Rules are data: a province changes a deadline by editing the data set, not the code. Every
//! rule names a calendar day in Vietnam; the instant is the end of that day (23:59:59 +07:00).
//! A report received during that last second is still in time.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::codes::DatasetCode;
use crate::period::{Period, PeriodType, clamped_day, end_of_day};

/// When reports of a period are due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DeadlineRule {
    /// End of day `day` of the last month of the period (clamped to the month's length).
    /// Quarterly reports of the seeds: "trước ngày 05 của tháng cuối quý".
    DayOfLastMonth { day: u8 },
    /// End of `day`/`month` of the period's year plus `year_offset`.
    /// Annual reports of the seeds: "trước ngày 05/12".
    FixedDayMonth {
        day: u8,
        month: u8,
        #[serde(default)]
        year_offset: i8,
    },
    /// End of the `days`-th day after the period's last day.
    DaysAfterPeriodEnd { days: u16 },
}

/// When a report stops accepting changes from its commune.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LockRule {
    /// Never locked by time (approval still locks).
    Never,
    /// End of the `days`-th day after the deadline's day.
    DaysAfterDeadline { days: u16 },
    /// End of `day`/`month` of the period's year plus `year_offset`.
    FixedDayMonth {
        day: u8,
        month: u8,
        #[serde(default)]
        year_offset: i8,
    },
    /// End of the `days`-th day after the period's last day.
    DaysAfterPeriodEnd { days: u16 },
}

/// Why a rule cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RuleError(pub String);

fn check_day_month(day: u8, month: u8) -> Result<(), RuleError> {
    if !(1..=12).contains(&month) {
        return Err(RuleError(format!("month {month} is not 1 to 12")));
    }
    if !(1..=31).contains(&day) {
        return Err(RuleError(format!("day {day} is not 1 to 31")));
    }
    Ok(())
}

impl DeadlineRule {
    pub fn validate(&self) -> Result<(), RuleError> {
        match *self {
            DeadlineRule::DayOfLastMonth { day } => check_day_month(day, 1),
            DeadlineRule::FixedDayMonth { day, month, .. } => check_day_month(day, month),
            DeadlineRule::DaysAfterPeriodEnd { days } if days > 3660 => {
                Err(RuleError(format!("{days} days is more than ten years")))
            }
            DeadlineRule::DaysAfterPeriodEnd { .. } => Ok(()),
        }
    }

    /// The last day on which reports of `period` are on time.
    pub fn due_day(&self, period: Period) -> NaiveDate {
        match *self {
            DeadlineRule::DayOfLastMonth { day } => {
                clamped_day(period.year(), period.last_month(), day as u32)
            }
            DeadlineRule::FixedDayMonth {
                day,
                month,
                year_offset,
            } => clamped_day(period.year() + year_offset as i32, month as u32, day as u32),
            DeadlineRule::DaysAfterPeriodEnd { days } => {
                period.last_day() + Duration::days(days as i64)
            }
        }
    }

    /// The deadline instant: the end of the due day in Vietnam.
    pub fn deadline(&self, period: Period) -> DateTime<Utc> {
        end_of_day(self.due_day(period))
    }

    /// A short human description, in English and Vietnamese.
    pub fn describe(&self) -> (String, String) {
        match *self {
            DeadlineRule::DayOfLastMonth { day } => (
                format!("end of day {day} of the last month of the period"),
                format!("hết ngày {day:02} của tháng cuối kỳ"),
            ),
            DeadlineRule::FixedDayMonth {
                day,
                month,
                year_offset,
            } => (
                format!(
                    "end of {day} {} {}",
                    month_en(month),
                    year_words_en(year_offset)
                ),
                format!(
                    "hết ngày {day:02}/{month:02} {}",
                    year_words_vi(year_offset)
                ),
            ),
            DeadlineRule::DaysAfterPeriodEnd { days } => (
                format!("end of day {days} after the period ends"),
                format!("hết ngày thứ {days} sau khi kết thúc kỳ"),
            ),
        }
    }
}

impl LockRule {
    pub fn validate(&self) -> Result<(), RuleError> {
        match *self {
            LockRule::FixedDayMonth { day, month, .. } => check_day_month(day, month),
            LockRule::DaysAfterDeadline { days } | LockRule::DaysAfterPeriodEnd { days }
                if days > 3660 =>
            {
                Err(RuleError(format!("{days} days is more than ten years")))
            }
            _ => Ok(()),
        }
    }

    /// The lock instant of `period`, or `None` when time never locks it.
    pub fn lock(&self, period: Period, deadline: &DeadlineRule) -> Option<DateTime<Utc>> {
        let day = match *self {
            LockRule::Never => return None,
            LockRule::DaysAfterDeadline { days } => {
                deadline.due_day(period) + Duration::days(days as i64)
            }
            LockRule::FixedDayMonth {
                day,
                month,
                year_offset,
            } => clamped_day(period.year() + year_offset as i32, month as u32, day as u32),
            LockRule::DaysAfterPeriodEnd { days } => {
                period.last_day() + Duration::days(days as i64)
            }
        };
        Some(end_of_day(day))
    }

    pub fn describe(&self) -> (String, String) {
        match *self {
            LockRule::Never => (
                "never locked by time".into(),
                "không khóa theo thời gian".into(),
            ),
            LockRule::DaysAfterDeadline { days } => (
                format!("end of day {days} after the deadline"),
                format!("hết ngày thứ {days} sau hạn nộp"),
            ),
            LockRule::FixedDayMonth {
                day,
                month,
                year_offset,
            } => (
                format!(
                    "end of {day} {} {}",
                    month_en(month),
                    year_words_en(year_offset)
                ),
                format!(
                    "hết ngày {day:02}/{month:02} {}",
                    year_words_vi(year_offset)
                ),
            ),
            LockRule::DaysAfterPeriodEnd { days } => (
                format!("end of day {days} after the period ends"),
                format!("hết ngày thứ {days} sau khi kết thúc kỳ"),
            ),
        }
    }
}

fn month_en(month: u8) -> &'static str {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    NAMES.get(month as usize - 1).copied().unwrap_or("?")
}

fn year_words_en(offset: i8) -> String {
    match offset {
        0 => "of the period's year".into(),
        1 => "of the next year".into(),
        n => format!("of the period's year {n:+}"),
    }
}

fn year_words_vi(offset: i8) -> String {
    match offset {
        0 => "của năm báo cáo".into(),
        1 => "của năm sau".into(),
        n => format!("của năm báo cáo {n:+}"),
    }
}

/// A data set: a report form with its periodicity and rules. Its indicators are those of the
/// catalog that name it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    pub code: DatasetCode,
    pub name_vi: String,
    pub name_en: String,
    pub period_type: PeriodType,
    pub deadline: DeadlineRule,
    pub lock: LockRule,
    #[serde(default)]
    pub description_vi: String,
    #[serde(default)]
    pub description_en: String,
}

impl Dataset {
    /// The deadline instant of the report of `period`.
    pub fn deadline(&self, period: Period) -> DateTime<Utc> {
        self.deadline.deadline(period)
    }

    /// The lock instant of the report of `period`, if time locks it.
    pub fn lock(&self, period: Period) -> Option<DateTime<Utc>> {
        self.lock.lock(period, &self.deadline)
    }

    /// Is the report of `period` locked by time at `now`?
    pub fn is_locked_at(&self, period: Period, now: DateTime<Utc>) -> bool {
        self.lock(period).is_some_and(|lock| now > lock)
    }

    /// Was a first revision received at `received` on time?
    pub fn is_on_time(&self, period: Period, received: DateTime<Utc>) -> bool {
        // The deadline is 23:59:59; the whole of that second is in time.
        received < self.deadline(period) + Duration::seconds(1)
    }
}

/// Decree 09/2019/NĐ-CP data cut-off window of a quarter: from the 15th of the month before the
/// quarter to the 14th of its last month.
pub fn quarter_cutoff_window(period: Period) -> Option<(NaiveDate, NaiveDate)> {
    if period.kind() != PeriodType::Quarter {
        return None;
    }
    let first = period.first_day();
    let before = first.pred_opt()?;
    let from = NaiveDate::from_ymd_opt(before.year(), before.month(), 15)?;
    let to = NaiveDate::from_ymd_opt(period.year(), period.last_month(), 14)?;
    Some((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn quarterly() -> Dataset {
        Dataset {
            code: DatasetCode::parse("dmst-quarterly").unwrap(),
            name_vi: "Báo cáo quý".into(),
            name_en: "Quarterly report".into(),
            period_type: PeriodType::Quarter,
            deadline: DeadlineRule::DayOfLastMonth { day: 5 },
            lock: LockRule::DaysAfterDeadline { days: 30 },
            description_vi: String::new(),
            description_en: String::new(),
        }
    }

    fn annual() -> Dataset {
        Dataset {
            code: DatasetCode::parse("dmst-annual").unwrap(),
            period_type: PeriodType::Year,
            deadline: DeadlineRule::FixedDayMonth {
                day: 5,
                month: 12,
                year_offset: 0,
            },
            lock: LockRule::FixedDayMonth {
                day: 31,
                month: 1,
                year_offset: 1,
            },
            ..quarterly()
        }
    }

    #[test]
    fn quarterly_deadline_is_end_of_day_5_of_the_last_month_in_vietnam() {
        let ds = quarterly();
        assert_eq!(ds.deadline(p("2026Q1")), utc("2026-03-05T23:59:59+07:00"));
        assert_eq!(ds.deadline(p("2026Q4")), utc("2026-12-05T23:59:59+07:00"));
    }

    #[test]
    fn quarterly_lock_is_30_days_after_the_deadline_day() {
        let ds = quarterly();
        assert_eq!(ds.lock(p("2026Q1")), Some(utc("2026-04-04T23:59:59+07:00")));
        // Across a year boundary: 5 December + 30 days = 4 January.
        assert_eq!(ds.lock(p("2026Q4")), Some(utc("2027-01-04T23:59:59+07:00")));
    }

    #[test]
    fn annual_deadline_and_lock_cross_into_the_next_year() {
        let ds = annual();
        assert_eq!(ds.deadline(p("2026")), utc("2026-12-05T23:59:59+07:00"));
        assert_eq!(ds.lock(p("2026")), Some(utc("2027-01-31T23:59:59+07:00")));
    }

    #[test]
    fn on_time_includes_the_last_second_and_excludes_the_next_day() {
        let ds = quarterly();
        let q = p("2026Q1");
        assert!(ds.is_on_time(q, utc("2026-03-05T23:59:59.900+07:00")));
        assert!(ds.is_on_time(q, utc("2026-01-01T00:00:00+07:00")));
        assert!(!ds.is_on_time(q, utc("2026-03-06T00:00:00+07:00")));
        // 17:00 UTC on the 5th is already the 6th in Vietnam.
        assert!(!ds.is_on_time(q, utc("2026-03-05T17:00:00Z")));
        assert!(ds.is_on_time(q, utc("2026-03-05T16:59:59Z")));
    }

    #[test]
    fn lock_applies_strictly_after_the_lock_instant() {
        let ds = quarterly();
        let q = p("2026Q1");
        assert!(!ds.is_locked_at(q, utc("2026-04-04T23:59:59+07:00")));
        assert!(ds.is_locked_at(q, utc("2026-04-05T00:00:00+07:00")));
        let never = Dataset {
            lock: LockRule::Never,
            ..quarterly()
        };
        assert!(!never.is_locked_at(q, utc("2099-01-01T00:00:00Z")));
    }

    #[test]
    fn days_after_period_end_and_clamping_handle_short_months_and_leap_years() {
        let r = DeadlineRule::DaysAfterPeriodEnd { days: 10 };
        assert_eq!(
            r.due_day(p("202402")),
            NaiveDate::from_ymd_opt(2024, 3, 10).unwrap()
        );
        assert_eq!(
            r.due_day(p("202502")),
            NaiveDate::from_ymd_opt(2025, 3, 10).unwrap()
        );
        assert_eq!(
            r.due_day(p("2026Q4")),
            NaiveDate::from_ymd_opt(2027, 1, 10).unwrap()
        );
        let d31 = DeadlineRule::DayOfLastMonth { day: 31 };
        assert_eq!(
            d31.due_day(p("2026Q2")),
            NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()
        );
        let feb29 = DeadlineRule::FixedDayMonth {
            day: 29,
            month: 2,
            year_offset: 1,
        };
        assert_eq!(
            feb29.due_day(p("2026")),
            NaiveDate::from_ymd_opt(2027, 2, 28).unwrap()
        );
        assert_eq!(
            feb29.due_day(p("2027")),
            NaiveDate::from_ymd_opt(2028, 2, 29).unwrap()
        );
    }

    #[test]
    fn rules_reject_impossible_days_and_months() {
        assert!(DeadlineRule::DayOfLastMonth { day: 0 }.validate().is_err());
        assert!(DeadlineRule::DayOfLastMonth { day: 32 }.validate().is_err());
        assert!(
            DeadlineRule::FixedDayMonth {
                day: 5,
                month: 13,
                year_offset: 0
            }
            .validate()
            .is_err()
        );
        assert!(
            LockRule::FixedDayMonth {
                day: 1,
                month: 0,
                year_offset: 0
            }
            .validate()
            .is_err()
        );
        assert!(LockRule::DaysAfterDeadline { days: 30 }.validate().is_ok());
    }

    #[test]
    fn rules_are_tagged_json() {
        let r: DeadlineRule =
            serde_json::from_str(r#"{"kind":"day_of_last_month","day":5}"#).unwrap();
        assert_eq!(r, DeadlineRule::DayOfLastMonth { day: 5 });
        let l: LockRule = serde_json::from_str(r#"{"kind":"never"}"#).unwrap();
        assert_eq!(l, LockRule::Never);
        assert!(serde_json::from_str::<DeadlineRule>(r#"{"kind":"whenever"}"#).is_err());
        assert_eq!(
            serde_json::to_string(&DeadlineRule::FixedDayMonth {
                day: 5,
                month: 12,
                year_offset: 0
            })
            .unwrap(),
            r#"{"kind":"fixed_day_month","day":5,"month":12,"year_offset":0}"#
        );
    }

    #[test]
    fn decree_09_cutoff_window_of_a_quarter() {
        let (from, to) = quarter_cutoff_window(p("2026Q1")).unwrap();
        assert_eq!(from, NaiveDate::from_ymd_opt(2025, 12, 15).unwrap());
        assert_eq!(to, NaiveDate::from_ymd_opt(2026, 3, 14).unwrap());
        assert!(quarter_cutoff_window(p("2026")).is_none());
    }
}
