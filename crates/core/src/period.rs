//! Reporting periods: `2026` (year), `2026S1` (half), `2026Q1` (quarter), `202603` (month).
//!
//! A period is a span of calendar days in Vietnam. Its instants are computed in
//! Asia/Ho_Chi_Minh, which has been UTC+07:00 without daylight saving since 1975, so a fixed
//! offset is exact for every period this product accepts (years 1976 to 9999).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Asia/Ho_Chi_Minh: UTC+07:00, no daylight saving since 1975.
pub fn vietnam_offset() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("UTC+7 is a valid offset")
}

/// The first year a period may have.
pub const MIN_YEAR: i32 = 1976;
/// The last year a period may have.
pub const MAX_YEAR: i32 = 9999;

/// The kind of a period; a data set collects reports of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PeriodType {
    Year,
    Half,
    Quarter,
    Month,
}

impl PeriodType {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodType::Year => "year",
            PeriodType::Half => "half",
            PeriodType::Quarter => "quarter",
            PeriodType::Month => "month",
        }
    }

    /// Number of months in one period of this kind.
    pub fn months(self) -> u32 {
        match self {
            PeriodType::Year => 12,
            PeriodType::Half => 6,
            PeriodType::Quarter => 3,
            PeriodType::Month => 1,
        }
    }

    /// An example id, for messages.
    pub fn example(self) -> &'static str {
        match self {
            PeriodType::Year => "2026",
            PeriodType::Half => "2026S1",
            PeriodType::Quarter => "2026Q1",
            PeriodType::Month => "202603",
        }
    }
}

impl fmt::Display for PeriodType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PeriodType {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "year" => Ok(PeriodType::Year),
            "half" => Ok(PeriodType::Half),
            "quarter" => Ok(PeriodType::Quarter),
            "month" => Ok(PeriodType::Month),
            _ => Err(PeriodError(format!(
                "unknown period type {s:?}: expected year, half, quarter or month"
            ))),
        }
    }
}

/// Why a string is not a period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PeriodError(String);

/// One reporting period. Ordered by start, then by length (a year sorts before its first quarter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Year(i32),
    /// Half 1 or 2.
    Half(i32, u8),
    /// Quarter 1 to 4.
    Quarter(i32, u8),
    /// Month 1 to 12.
    Month(i32, u8),
}

impl Period {
    /// Builds a period from its parts, checking the ranges.
    pub fn new(kind: PeriodType, year: i32, index: u8) -> Result<Self, PeriodError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(PeriodError(format!(
                "year {year} is outside {MIN_YEAR}..={MAX_YEAR}"
            )));
        }
        let max = (12 / kind.months()) as u8;
        if kind != PeriodType::Year && !(1..=max).contains(&index) {
            return Err(PeriodError(format!(
                "{kind} {index} does not exist: expected 1 to {max}"
            )));
        }
        Ok(match kind {
            PeriodType::Year => Period::Year(year),
            PeriodType::Half => Period::Half(year, index),
            PeriodType::Quarter => Period::Quarter(year, index),
            PeriodType::Month => Period::Month(year, index),
        })
    }

    pub fn parse(s: &str) -> Result<Self, PeriodError> {
        let bad = || {
            PeriodError(format!(
                "period {s:?} is invalid: expected a year (2026), half (2026S1), quarter (2026Q1) or month (202603)"
            ))
        };
        if !s.is_ascii() || s.len() < 4 || !s.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let year: i32 = s[..4].parse().map_err(|_| bad())?;
        let rest = &s[4..];
        let digit = |t: &str| -> Result<u8, PeriodError> {
            if t.len() == 1 && t.as_bytes()[0].is_ascii_digit() {
                Ok(t.as_bytes()[0] - b'0')
            } else {
                Err(bad())
            }
        };
        match rest.as_bytes() {
            [] => Period::new(PeriodType::Year, year, 0),
            [b'S', ..] => Period::new(PeriodType::Half, year, digit(&rest[1..])?),
            [b'Q', ..] => Period::new(PeriodType::Quarter, year, digit(&rest[1..])?),
            [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
                Period::new(PeriodType::Month, year, (a - b'0') * 10 + (b - b'0'))
            }
            _ => Err(bad()),
        }
    }

    pub fn kind(self) -> PeriodType {
        match self {
            Period::Year(_) => PeriodType::Year,
            Period::Half(..) => PeriodType::Half,
            Period::Quarter(..) => PeriodType::Quarter,
            Period::Month(..) => PeriodType::Month,
        }
    }

    pub fn year(self) -> i32 {
        match self {
            Period::Year(y) | Period::Half(y, _) | Period::Quarter(y, _) | Period::Month(y, _) => y,
        }
    }

    /// 1-based position within the year (1 for a year).
    pub fn index(self) -> u8 {
        match self {
            Period::Year(_) => 1,
            Period::Half(_, i) | Period::Quarter(_, i) | Period::Month(_, i) => i,
        }
    }

    /// First month (1..=12) of the period.
    pub fn first_month(self) -> u32 {
        (self.index() as u32 - 1) * self.kind().months() + 1
    }

    /// Last month (1..=12) of the period.
    pub fn last_month(self) -> u32 {
        self.first_month() + self.kind().months() - 1
    }

    /// First calendar day of the period.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year(), self.first_month(), 1).expect("valid period start")
    }

    /// Last calendar day of the period.
    pub fn last_day(self) -> NaiveDate {
        last_day_of_month(self.year(), self.last_month())
    }

    /// The instant the period starts (00:00 of its first day in Vietnam).
    pub fn start(self) -> DateTime<Utc> {
        start_of_day(self.first_day())
    }

    /// The instant the period ends, exclusive (00:00 of the day after its last day in Vietnam).
    pub fn end(self) -> DateTime<Utc> {
        start_of_day(self.last_day().succ_opt().expect("date after period end"))
    }

    /// The period of the same kind just before this one (`2026Q1` → `2025Q4`).
    pub fn previous(self) -> Option<Period> {
        self.shift(-1)
    }

    /// The period of the same kind just after this one.
    pub fn next(self) -> Option<Period> {
        self.shift(1)
    }

    fn shift(self, by: i32) -> Option<Period> {
        let per_year = (12 / self.kind().months()) as i32;
        let n = self.year() * per_year + (self.index() as i32 - 1) + by;
        let (year, index) = (n.div_euclid(per_year), n.rem_euclid(per_year) + 1);
        Period::new(self.kind(), year, index as u8).ok()
    }

    /// The same period one year earlier (`2026Q1` → `2025Q1`).
    pub fn same_period_previous_year(self) -> Option<Period> {
        Period::new(self.kind(), self.year() - 1, self.index()).ok()
    }

    /// The four quarters of a year.
    pub fn quarters_of(year: i32) -> Vec<Period> {
        (1..=4)
            .filter_map(|q| Period::new(PeriodType::Quarter, year, q).ok())
            .collect()
    }

    /// The periods of `kind` that make up this period, in time order; empty when `kind` is
    /// longer than this period (a quarter has no years).
    pub fn subperiods(self, kind: PeriodType) -> Vec<Period> {
        if kind.months() > self.kind().months() {
            return Vec::new();
        }
        let first = (self.first_month() - 1) / kind.months() + 1;
        let count = self.kind().months() / kind.months();
        (first..first + count)
            .filter_map(|i| Period::new(kind, self.year(), i as u8).ok())
            .collect()
    }

    /// True when `other` lies within this period (a period contains itself).
    pub fn contains(self, other: Period) -> bool {
        self.start() <= other.start() && other.end() <= self.end()
    }
}

/// 00:00 of `day` in Vietnam, as a UTC instant.
pub fn start_of_day(day: NaiveDate) -> DateTime<Utc> {
    vietnam_offset()
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .single()
        .expect("fixed offsets have no gaps")
        .with_timezone(&Utc)
}

/// 23:59:59 of `day` in Vietnam, as a UTC instant: "end of day" in deadline rules.
pub fn end_of_day(day: NaiveDate) -> DateTime<Utc> {
    start_of_day(day) + chrono::Duration::seconds(86_399)
}

/// The last day of a month (handles leap years).
pub fn last_day_of_month(year: i32, month: u32) -> NaiveDate {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.pred_opt())
        .expect("valid month")
}

/// Day `day` of a month, or the month's last day when the month is shorter (31 → 30 April,
/// 29 February → 28 February outside leap years).
pub fn clamped_day(year: i32, month: u32, day: u32) -> NaiveDate {
    let last = last_day_of_month(year, month);
    if day >= last.day() {
        last
    } else {
        NaiveDate::from_ymd_opt(year, month, day.max(1)).expect("day within month")
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Period::Year(y) => write!(f, "{y:04}"),
            Period::Half(y, h) => write!(f, "{y:04}S{h}"),
            Period::Quarter(y, q) => write!(f, "{y:04}Q{q}"),
            Period::Month(y, m) => write!(f, "{y:04}{m:02}"),
        }
    }
}

impl FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::parse(s)
    }
}

impl PartialOrd for Period {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Period {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.first_day(), std::cmp::Reverse(self.kind().months()))
            .cmp(&(other.first_day(), std::cmp::Reverse(other.kind().months())))
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Period {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^[0-9]{4}(S[12]|Q[1-4]|0[1-9]|1[0-2])?$"))
            .description(Some(
                "A reporting period: year `2026`, half `2026S1`, quarter `2026Q1` or month `202603`.",
            ))
            .examples([serde_json::json!("2026Q1")])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Period {}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Period::parse(&s).map_err(serde::de::Error::custom)
    }
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

    #[test]
    fn parses_and_displays_every_kind() {
        for s in [
            "2026", "2026S1", "2026S2", "2026Q1", "2026Q4", "202601", "202612",
        ] {
            assert_eq!(p(s).to_string(), s);
        }
        assert_eq!(p("2026Q3"), Period::Quarter(2026, 3));
        assert_eq!(p("202603"), Period::Month(2026, 3));
        assert_eq!(p("2026").kind(), PeriodType::Year);
    }

    #[test]
    fn rejects_malformed_and_impossible_periods() {
        for bad in [
            "",
            "26",
            "20261",
            "2026Q0",
            "2026Q5",
            "2026S0",
            "2026S3",
            "202600",
            "202613",
            "2026q1",
            "2026-Q1",
            "2026Q10",
            "1975",
            "1975Q4",
            "abcd",
            "2026Q",
            "２０２６",
            "2026 ",
            "-202",
            "+2026",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn instants_are_midnight_in_vietnam() {
        assert_eq!(p("2026Q1").start(), utc("2025-12-31T17:00:00Z"));
        assert_eq!(p("2026Q1").end(), utc("2026-03-31T17:00:00Z"));
        assert_eq!(p("2026").end(), utc("2026-12-31T17:00:00Z"));
        assert_eq!(
            p("202602").last_day(),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
    }

    #[test]
    fn february_knows_leap_years() {
        assert_eq!(p("202402").last_day().day(), 29);
        assert_eq!(p("210002").last_day().day(), 28, "2100 is not a leap year");
        assert_eq!(p("200002").last_day().day(), 29, "2000 is a leap year");
        assert_eq!(
            clamped_day(2026, 2, 29),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
        assert_eq!(
            clamped_day(2028, 2, 29),
            NaiveDate::from_ymd_opt(2028, 2, 29).unwrap()
        );
        assert_eq!(
            clamped_day(2026, 4, 31),
            NaiveDate::from_ymd_opt(2026, 4, 30).unwrap()
        );
    }

    #[test]
    fn previous_and_next_cross_year_boundaries() {
        assert_eq!(p("2026Q1").previous(), Some(p("2025Q4")));
        assert_eq!(p("2025Q4").next(), Some(p("2026Q1")));
        assert_eq!(p("202601").previous(), Some(p("202512")));
        assert_eq!(p("2026S1").previous(), Some(p("2025S2")));
        assert_eq!(p("2026").previous(), Some(p("2025")));
        assert_eq!(p("1976").previous(), None);
        assert_eq!(p("9999Q4").next(), None);
        assert_eq!(p("2026Q2").same_period_previous_year(), Some(p("2025Q2")));
    }

    #[test]
    fn a_year_is_made_of_its_quarters() {
        assert_eq!(
            Period::quarters_of(2026),
            vec![p("2026Q1"), p("2026Q2"), p("2026Q3"), p("2026Q4")]
        );
        assert_eq!(
            p("2026").subperiods(PeriodType::Quarter),
            Period::quarters_of(2026)
        );
        assert_eq!(
            p("2026S2").subperiods(PeriodType::Quarter),
            vec![p("2026Q3"), p("2026Q4")]
        );
        assert_eq!(
            p("2026Q2").subperiods(PeriodType::Month),
            vec![p("202604"), p("202605"), p("202606")]
        );
        assert!(p("2026Q2").subperiods(PeriodType::Year).is_empty());
        assert!(p("2026").contains(p("2026Q4")));
        assert!(!p("2026").contains(p("2027Q1")));
        assert!(p("2026Q1").contains(p("2026Q1")));
    }

    #[test]
    fn periods_order_by_time_then_longest_first() {
        let mut v = vec![
            p("2026Q2"),
            p("2026"),
            p("2025Q4"),
            p("2026Q1"),
            p("202601"),
        ];
        v.sort();
        assert_eq!(
            v,
            vec![
                p("2025Q4"),
                p("2026"),
                p("2026Q1"),
                p("202601"),
                p("2026Q2")
            ]
        );
    }

    #[test]
    fn serde_uses_the_string_form() {
        assert_eq!(serde_json::to_string(&p("2026Q1")).unwrap(), "\"2026Q1\"");
        assert_eq!(
            serde_json::from_str::<Period>("\"202603\"").unwrap(),
            p("202603")
        );
        assert!(serde_json::from_str::<Period>("\"2026Q9\"").is_err());
    }
}
