//! When a plan's task is to be done ("Thời gian thực hiện"), read from the phrases the plans
//! use: "Năm 2026", "Quý II/2026", "Thường xuyên", "Hằng năm", "Trước 30/6/2026", "2026-2030",
//! "Giai đoạn 2026-2030", "Tháng 6/2026", "6 tháng đầu năm 2026", or the canonical forms
//! (`2026Q2`, `2026-06-30`, `ongoing`, `yearly`). A task's due day is the last day of its
//! timeframe; an ongoing task has none, a yearly one is due at the end of each year.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::period::{MAX_YEAR, MIN_YEAR, Period, PeriodType};

/// A task's timeframe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Timeframe {
    /// "Thường xuyên": all the time, never due.
    Ongoing,
    /// "Hằng năm" / "Hàng năm": every year, due at the end of each year.
    Yearly,
    /// One or more periods ("Năm 2026", "Quý II, III/2026"): due at the end of the last.
    Periods {
        #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>, example = json!(["2026Q2"])))]
        periods: Vec<Period>,
    },
    /// "Trước 30/6/2026": due on that day.
    By { date: NaiveDate },
    /// "2026-2030": a span of years, due at the end of the last.
    Years { from: i32, to: i32 },
}

impl Timeframe {
    /// The last day of the timeframe, for a task judged in `year` (a yearly task is due at the
    /// end of every year); `None` for an ongoing task.
    pub fn due(&self, year: i32) -> Option<NaiveDate> {
        match self {
            Timeframe::Ongoing => None,
            Timeframe::Yearly => NaiveDate::from_ymd_opt(year, 12, 31),
            Timeframe::Periods { periods } => periods.iter().map(|p| p.last_day()).max(),
            Timeframe::By { date } => Some(*date),
            Timeframe::Years { to, .. } => NaiveDate::from_ymd_opt(*to, 12, 31),
        }
    }

    /// The first and last year the timeframe touches (`None`: ongoing or yearly, any year).
    pub fn years(&self) -> Option<(i32, i32)> {
        use chrono::Datelike;
        match self {
            Timeframe::Ongoing | Timeframe::Yearly => None,
            Timeframe::Periods { periods } => Some((
                periods.iter().map(|p| p.year()).min()?,
                periods.iter().map(|p| p.year()).max()?,
            )),
            Timeframe::By { date } => Some((date.year(), date.year())),
            Timeframe::Years { from, to } => Some((*from, *to)),
        }
    }

    /// Whether the task comes back every year (its progress starts again each year).
    pub fn recurs(&self) -> bool {
        matches!(self, Timeframe::Yearly)
    }

    /// Reads a timeframe phrase; the error says what is understood.
    pub fn parse(text: &str) -> Result<Timeframe, String> {
        let norm = normalize(text);
        if norm.is_empty() {
            return Err("a timeframe is required".into());
        }
        let parts: Vec<&str> = norm
            .split([';', '+'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if parts.len() > 1 {
            let mut periods = Vec::new();
            for p in parts {
                match one(p) {
                    Some(Timeframe::Periods { periods: more }) => periods.extend(more),
                    _ => return Err(not_understood(text)),
                }
            }
            periods.sort();
            periods.dedup();
            return Ok(Timeframe::Periods { periods });
        }
        one(&norm).ok_or_else(|| not_understood(text))
    }
}

fn not_understood(text: &str) -> String {
    let shown: String = text.chars().take(64).collect();
    format!(
        "timeframe {shown:?} is not understood: write e.g. \"Năm 2026\", \"Quý II/2026\", \
         \"Tháng 6/2026\", \"Trước 30/6/2026\", \"2026-2030\", \"Thường xuyên\" or \"Hằng năm\""
    )
}

/// Lower case, one space between words, no trailing dot, Unicode dashes as '-'.
fn normalize(text: &str) -> String {
    let lowered: String = text
        .chars()
        .map(|c| match c {
            '–' | '—' | '‒' | '−' => '-',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    lowered
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(['.', ',', ';'])
        .trim()
        .to_owned()
}

fn one(s: &str) -> Option<Timeframe> {
    const ONGOING: [&str; 4] = ["thường xuyên", "liên tục", "ongoing", "continuous"];
    if ONGOING.contains(&s) {
        return Some(Timeframe::Ongoing);
    }
    if s == "yearly"
        || s == "annually"
        || s.contains("hằng năm")
        || s.contains("hàng năm")
        || s == "định kỳ hằng năm"
    {
        return Some(Timeframe::Yearly);
    }
    if let Ok(p) = Period::parse(&s.to_uppercase()) {
        return Some(Timeframe::Periods { periods: vec![p] });
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(Timeframe::By { date: d });
    }
    let s = s
        .strip_prefix("giai đoạn ")
        .or_else(|| s.strip_prefix("từ năm "))
        .unwrap_or(s);
    if let Some(rest) = s
        .strip_prefix("trước ngày ")
        .or_else(|| s.strip_prefix("trước "))
        .or_else(|| s.strip_prefix("chậm nhất ngày "))
        .or_else(|| s.strip_prefix("hoàn thành trước ngày "))
        .or_else(|| s.strip_prefix("hoàn thành trước "))
        .or_else(|| s.strip_prefix("ngày "))
    {
        return date(rest).map(|date| Timeframe::By { date });
    }
    if let Some(rest) = s.strip_prefix("quý ") {
        return quarters(rest);
    }
    if let Some(rest) = s.strip_prefix("tháng ") {
        let (m, y) = month_year(rest)?;
        return Period::new(PeriodType::Month, y, m)
            .ok()
            .map(|p| Timeframe::Periods { periods: vec![p] });
    }
    for (prefix, half) in [("6 tháng đầu năm ", 1), ("6 tháng cuối năm ", 2)] {
        if let Some(rest) = s.strip_prefix(prefix) {
            let y = year(rest)?;
            return Period::new(PeriodType::Half, y, half)
                .ok()
                .map(|p| Timeframe::Periods { periods: vec![p] });
        }
    }
    let s = s.strip_prefix("năm ").unwrap_or(s);
    if let Some((a, b)) = s.split_once('-') {
        let (from, to) = (year(a.trim())?, year(b.trim().trim_start_matches("năm "))?);
        return (from < to).then_some(Timeframe::Years { from, to });
    }
    let y = year(s)?;
    Period::new(PeriodType::Year, y, 1)
        .ok()
        .map(|p| Timeframe::Periods { periods: vec![p] })
}

fn year(s: &str) -> Option<i32> {
    let y: i32 = s.trim().parse().ok().filter(|_| s.trim().len() == 4)?;
    (MIN_YEAR..=MAX_YEAR).contains(&y).then_some(y)
}

/// "30/6/2026", "30-6-2026", "30 tháng 6 năm 2026".
fn date(s: &str) -> Option<NaiveDate> {
    let nums: Vec<u32> = s
        .split(['/', '-', '.', ' '])
        .filter(|w| !w.is_empty() && *w != "tháng" && *w != "năm")
        .map(|w| w.parse().ok())
        .collect::<Option<_>>()?;
    match nums[..] {
        [d, m, y] if y >= MIN_YEAR as u32 && y <= MAX_YEAR as u32 => {
            NaiveDate::from_ymd_opt(y as i32, m, d)
        }
        _ => None,
    }
}

/// "6/2026", "6 năm 2026".
fn month_year(s: &str) -> Option<(u8, i32)> {
    let (m, y) = s.split_once('/').or_else(|| s.split_once(" năm "))?;
    let m: u8 = m.trim().parse().ok().filter(|m| (1..=12).contains(m))?;
    Some((m, year(y)?))
}

/// "ii/2026", "ii, iii/2026", "2 năm 2026", "iv năm 2026".
fn quarters(s: &str) -> Option<Timeframe> {
    let (qs, y) = s.split_once('/').or_else(|| s.split_once(" năm "))?;
    let y = year(y)?;
    let mut periods = Vec::new();
    for q in qs.split([',', ' ']).filter(|w| !w.is_empty() && *w != "và") {
        let n = match q {
            "i" | "1" => 1,
            "ii" | "2" => 2,
            "iii" | "3" => 3,
            "iv" | "4" => 4,
            _ => return None,
        };
        periods.push(Period::new(PeriodType::Quarter, y, n).ok()?);
    }
    (!periods.is_empty()).then_some(Timeframe::Periods { periods })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_phrases_of_the_seed_plans_are_read() {
        let cases = [
            (
                "Năm 2026",
                Timeframe::Periods {
                    periods: vec![p("2026")],
                },
            ),
            ("Thường \nxuyên", Timeframe::Ongoing),
            ("Hằng năm", Timeframe::Yearly),
            ("Hàng năm", Timeframe::Yearly),
            ("Báo cáo tháng 12 hàng năm", Timeframe::Yearly),
            (
                "Quý II/2026",
                Timeframe::Periods {
                    periods: vec![p("2026Q2")],
                },
            ),
            (
                "Quý II, III/2026",
                Timeframe::Periods {
                    periods: vec![p("2026Q2"), p("2026Q3")],
                },
            ),
            (
                "Quý 4 năm 2026",
                Timeframe::Periods {
                    periods: vec![p("2026Q4")],
                },
            ),
            (
                "Trước 30/6/2026",
                Timeframe::By {
                    date: d("2026-06-30"),
                },
            ),
            (
                "Trước ngày 05/12/2026.",
                Timeframe::By {
                    date: d("2026-12-05"),
                },
            ),
            (
                "2026-2030",
                Timeframe::Years {
                    from: 2026,
                    to: 2030,
                },
            ),
            (
                "Giai đoạn 2026-2030",
                Timeframe::Years {
                    from: 2026,
                    to: 2030,
                },
            ),
            (
                "Năm 2026 - 2028",
                Timeframe::Years {
                    from: 2026,
                    to: 2028,
                },
            ),
            (
                "Giai đoạn 2026–2028",
                Timeframe::Years {
                    from: 2026,
                    to: 2028,
                },
            ),
            (
                "Tháng 6/2026",
                Timeframe::Periods {
                    periods: vec![p("202606")],
                },
            ),
            (
                "6 tháng đầu năm 2026",
                Timeframe::Periods {
                    periods: vec![p("2026S1")],
                },
            ),
            (
                "Quý I/2026; Quý III/2026",
                Timeframe::Periods {
                    periods: vec![p("2026Q1"), p("2026Q3")],
                },
            ),
            (
                "2026Q2",
                Timeframe::Periods {
                    periods: vec![p("2026Q2")],
                },
            ),
            (
                "2026-06-30",
                Timeframe::By {
                    date: d("2026-06-30"),
                },
            ),
            ("ongoing", Timeframe::Ongoing),
        ];
        for (text, want) in cases {
            assert_eq!(Timeframe::parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn unreadable_phrases_are_refused_with_examples() {
        for text in [
            "",
            "sớm",
            "Quý V/2026",
            "Trước 31/6/2026",
            "2030-2026",
            "Năm 26",
            "Tháng 13/2026",
            "Quý II/2026; Thường xuyên",
        ] {
            let e = Timeframe::parse(text).unwrap_err();
            assert!(
                e.contains("timeframe") || e.contains("required"),
                "{text}: {e}"
            );
        }
    }

    #[test]
    fn the_due_day_is_the_last_day_of_the_timeframe() {
        let t = |s: &str| Timeframe::parse(s).unwrap();
        assert_eq!(t("Năm 2026").due(2026), Some(d("2026-12-31")));
        assert_eq!(t("Quý II/2026").due(2026), Some(d("2026-06-30")));
        assert_eq!(t("Quý II, IV/2026").due(2026), Some(d("2026-12-31")));
        assert_eq!(t("Trước 30/6/2026").due(2027), Some(d("2026-06-30")));
        assert_eq!(t("2026-2030").due(2026), Some(d("2030-12-31")));
        assert_eq!(t("Hằng năm").due(2027), Some(d("2027-12-31")));
        assert_eq!(t("Thường xuyên").due(2026), None);
        assert!(t("Hằng năm").recurs() && !t("Năm 2026").recurs());
    }
}
