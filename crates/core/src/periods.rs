//! Period selections of table reads: a comma-separated list whose items are periods (`2026Q1`),
//! ranges of one kind (`2025Q1..2026Q4`, both ends included) or relative periods
//! (`LAST_4_QUARTERS`), resolved against a calendar day in Vietnam.
//!
//! Relative periods follow DHIS2's meaning: "last N" are the N whole periods before the current
//! one, oldest first; "this" is the current one.

use chrono::{Datelike, NaiveDate};

use crate::period::{Period, PeriodType};

/// The most periods one selection may name (ten years of months).
pub const MAX_PERIODS: usize = 120;

/// A period named relative to today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relative {
    ThisQuarter,
    LastQuarter,
    Last4Quarters,
    Last8Quarters,
    ThisYear,
    LastYear,
    Last5Years,
}

impl Relative {
    /// Every relative period with its name.
    pub const ALL: [(Relative, &'static str); 7] = [
        (Relative::ThisQuarter, "THIS_QUARTER"),
        (Relative::LastQuarter, "LAST_QUARTER"),
        (Relative::Last4Quarters, "LAST_4_QUARTERS"),
        (Relative::Last8Quarters, "LAST_8_QUARTERS"),
        (Relative::ThisYear, "THIS_YEAR"),
        (Relative::LastYear, "LAST_YEAR"),
        (Relative::Last5Years, "LAST_5_YEARS"),
    ];

    pub fn parse(s: &str) -> Option<Relative> {
        Relative::ALL
            .iter()
            .find(|(_, name)| *name == s)
            .map(|(r, _)| *r)
    }

    /// The periods this names on `today` (a day in Vietnam), oldest first.
    pub fn resolve(self, today: NaiveDate) -> Vec<Period> {
        let quarter = Period::new(
            PeriodType::Quarter,
            today.year(),
            (today.month0() / 3 + 1) as u8,
        );
        let year = Period::new(PeriodType::Year, today.year(), 0);
        let (current, back, this) = match self {
            Relative::ThisQuarter => (quarter, 0, true),
            Relative::LastQuarter => (quarter, 1, false),
            Relative::Last4Quarters => (quarter, 4, false),
            Relative::Last8Quarters => (quarter, 8, false),
            Relative::ThisYear => (year, 0, true),
            Relative::LastYear => (year, 1, false),
            Relative::Last5Years => (year, 5, false),
        };
        let Ok(current) = current else {
            return Vec::new();
        };
        if this {
            return vec![current];
        }
        let mut out = Vec::with_capacity(back);
        let mut p = current;
        for _ in 0..back {
            match p.previous() {
                Some(prev) => {
                    out.push(prev);
                    p = prev;
                }
                None => break,
            }
        }
        out.reverse();
        out
    }
}

/// One item of a selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    One(Period),
    /// From the first to the last, both included, of one kind.
    Range(Period, Period),
    Relative(Relative),
}

/// Position of a period among the periods of its kind (for counting a range).
fn ordinal(p: Period) -> i64 {
    let per_year = (12 / p.kind().months()) as i64;
    p.year() as i64 * per_year + p.index() as i64 - 1
}

impl Item {
    /// Parses one item; the message says what is wrong.
    pub fn parse(s: &str) -> Result<Item, String> {
        let s = s.trim();
        if let Some(r) = Relative::parse(s) {
            return Ok(Item::Relative(r));
        }
        if let Some((a, b)) = s.split_once("..") {
            let a = Period::parse(a.trim()).map_err(|e| e.to_string())?;
            let b = Period::parse(b.trim()).map_err(|e| e.to_string())?;
            if a.kind() != b.kind() {
                return Err(format!(
                    "a range runs between periods of one kind; {a} is a {} and {b} a {}",
                    a.kind(),
                    b.kind()
                ));
            }
            let count = ordinal(b) - ordinal(a) + 1;
            if count < 1 {
                return Err(format!("the range {a}..{b} ends before it starts"));
            }
            if count > MAX_PERIODS as i64 {
                return Err(format!(
                    "the range {a}..{b} has {count} periods; at most {MAX_PERIODS}"
                ));
            }
            return Ok(Item::Range(a, b));
        }
        if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
            let names: Vec<&str> = Relative::ALL.iter().map(|(_, n)| *n).collect();
            return Err(format!(
                "unknown relative period {s:?}: expected one of {}",
                names.join(", ")
            ));
        }
        Period::parse(s).map(Item::One).map_err(|e| e.to_string())
    }

    fn periods(self, today: NaiveDate) -> Vec<Period> {
        match self {
            Item::One(p) => vec![p],
            Item::Relative(r) => r.resolve(today),
            Item::Range(a, b) => {
                let mut out = vec![a];
                let mut p = a;
                while p != b {
                    match p.next() {
                        Some(n) => {
                            out.push(n);
                            p = n;
                        }
                        None => break,
                    }
                }
                out
            }
        }
    }
}

/// A parsed selection: its items, or every problem (item text and message).
pub fn parse_list(s: &str) -> Result<Vec<Item>, Vec<(String, String)>> {
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for part in s.split(',') {
        if part.trim().is_empty() {
            problems.push((part.to_owned(), "an empty item".to_owned()));
            continue;
        }
        match Item::parse(part) {
            Ok(i) => items.push(i),
            Err(m) => problems.push((part.trim().to_owned(), m)),
        }
    }
    if problems.is_empty() {
        Ok(items)
    } else {
        Err(problems)
    }
}

/// The periods `items` name on `today`, each once, in the order first named; an error when
/// there are more than [`MAX_PERIODS`].
pub fn resolve(items: &[Item], today: NaiveDate) -> Result<Vec<Period>, String> {
    let mut out: Vec<Period> = Vec::new();
    for item in items {
        for p in item.periods(today) {
            if !out.contains(&p) {
                out.push(p);
                if out.len() > MAX_PERIODS {
                    return Err(format!(
                        "the selection names more than {MAX_PERIODS} periods"
                    ));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn names(items: &str, today: &str) -> Vec<String> {
        resolve(&parse_list(items).unwrap(), day(today))
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_range_names_every_period_between_its_ends() {
        assert_eq!(
            names("2025Q3..2026Q2", "2026-12-03"),
            ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
        );
        assert_eq!(names("2024..2026", "2026-12-03"), ["2024", "2025", "2026"]);
        assert_eq!(
            names("202511..202602", "2026-12-03").len(),
            4,
            "across a new year"
        );
    }

    #[test]
    fn relative_periods_are_the_whole_periods_before_today_oldest_first() {
        assert_eq!(
            names("LAST_4_QUARTERS", "2026-12-03"),
            ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
        );
        assert_eq!(names("LAST_8_QUARTERS", "2026-01-01").len(), 8);
        assert_eq!(names("LAST_8_QUARTERS", "2026-01-01")[7], "2025Q4");
        assert_eq!(names("THIS_QUARTER", "2026-12-03"), ["2026Q4"]);
        assert_eq!(names("LAST_QUARTER", "2026-01-01"), ["2025Q4"]);
        assert_eq!(names("THIS_YEAR", "2026-12-03"), ["2026"]);
        assert_eq!(names("LAST_YEAR", "2026-12-03"), ["2025"]);
        assert_eq!(
            names("LAST_5_YEARS", "2026-12-03"),
            ["2021", "2022", "2023", "2024", "2025"]
        );
    }

    #[test]
    fn a_list_mixes_items_and_names_each_period_once() {
        assert_eq!(
            names("2026Q1, LAST_4_QUARTERS,2026", "2026-12-03"),
            ["2026Q1", "2025Q4", "2026Q2", "2026Q3", "2026"]
        );
    }

    #[test]
    fn every_bad_item_is_reported() {
        let problems = parse_list("2026Q5,,LAST_3_WEEKS,2026Q1..2026,2026Q4..2026Q1").unwrap_err();
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems[2].1.contains("LAST_4_QUARTERS"), "{problems:?}");
        assert!(problems[3].1.contains("one kind"), "{problems:?}");
        assert!(problems[4].1.contains("ends before"), "{problems:?}");
    }

    #[test]
    fn a_selection_is_bounded() {
        assert!(
            parse_list("1976Q1..9999Q4").unwrap_err()[0]
                .1
                .contains("at most")
        );
        let many = parse_list("201001..201912,202001..202912").unwrap();
        assert!(resolve(&many, day("2026-12-03")).is_err());
        let fits = parse_list("201701..202612").unwrap();
        assert_eq!(resolve(&fits, day("2026-12-03")).unwrap().len(), 120);
    }
}
