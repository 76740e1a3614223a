//! Property tests of the parsers every request goes through: periods, unit and catalog codes,
//! and the catalog TOML. Any input is answered with a value or an error, never a panic, and what
//! parses prints back to itself.
//!
//! `PROPTEST_CASES` sets the number of cases (default 256 per property); the long run in the
//! README uses it.

use innoreport_core::{Catalog, CommuneCode, DatasetCode, IndicatorCode, Period, ProvinceCode};
use proptest::prelude::*;

const SHIPPED_CATALOG: &str = include_str!("../../store/seed/catalog.toml");

/// Strings near the formats: digits, the period letters, signs, spaces, non-ASCII.
fn near_period() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{0,6}",
        "[0-9]{4}[SQMsq]?[0-9]{0,3}",
        "[0-9SQ+\\- ]{0,8}",
        "[0-9]{2,4}[ĐđÂâ\u{0300}\u{FEFF}]{1,2}[0-9]{0,2}",
        any::<String>(),
    ]
}

proptest! {
    #[test]
    fn any_text_is_a_period_or_an_error_and_periods_print_back(s in near_period()) {
        if let Ok(p) = Period::parse(&s) {
            prop_assert_eq!(Period::parse(&p.to_string()).unwrap(), p);
            prop_assert!(p.first_month() >= 1 && p.last_month() <= 12);
            prop_assert!(p.first_day() <= p.last_day());
        }
    }

    #[test]
    fn every_real_period_parses(year in 1976i32..=9999, kind in 0u8..4, index in 1u8..=12) {
        let text = match kind {
            0 => format!("{year}"),
            1 => format!("{year}S{}", 1 + index % 2),
            2 => format!("{year}Q{}", 1 + index % 4),
            _ => format!("{year}{index:02}"),
        };
        let p = Period::parse(&text).unwrap();
        prop_assert_eq!(p.to_string(), text);
        prop_assert_eq!(p.year(), year);
    }

    #[test]
    fn any_text_is_a_code_or_an_error_and_codes_print_back(s in prop_oneof![
        "[0-9]{0,6}", "[a-z0-9_\\-]{0,70}", "[A-Za-z0-9_\\- đ]{0,10}", any::<String>()
    ]) {
        if let Ok(c) = ProvinceCode::parse(&s) { prop_assert_eq!(c.to_string(), s.clone()); }
        if let Ok(c) = CommuneCode::parse(&s) { prop_assert_eq!(c.to_string(), s.clone()); }
        if let Ok(c) = IndicatorCode::parse(&s) {
            prop_assert!(c.to_string().len() <= 64);
            prop_assert_eq!(c.to_string(), s.clone());
        }
        if let Ok(c) = DatasetCode::parse(&s) { prop_assert_eq!(c.to_string(), s.clone()); }
    }

    /// The shipped catalog with a piece cut out and something else put in (an edited framework
    /// arrives through PUT /index/framework; a broken one must be refused, not crash).
    #[test]
    fn an_edited_catalog_is_a_catalog_or_an_error(
        at in 0.0f64..1.0,
        cut in 0usize..200,
        insert in prop_oneof!["[ -~\n]{0,20}", "-?[0-9.e+]{1,8}", Just(String::new())],
    ) {
        let text = SHIPPED_CATALOG;
        let mut start = ((text.len() as f64) * at) as usize;
        while !text.is_char_boundary(start) { start -= 1; }
        let mut end = (start + cut).min(text.len());
        while !text.is_char_boundary(end) { end -= 1; }
        let edited = format!("{}{}{}", &text[..start], insert, &text[end..]);
        // Ok or a list of problems; the property is that it returns at all.
        let _ = Catalog::from_toml(&edited);
    }
}
