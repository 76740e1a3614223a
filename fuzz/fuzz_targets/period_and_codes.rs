//! Periods and codes from any bytes: a value or an error, never a panic; what parses prints back.
#![no_main]

use innoreport_core::{CommuneCode, DatasetCode, IndicatorCode, Period, ProvinceCode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = Period::parse(s) {
        assert_eq!(Period::parse(&p.to_string()).unwrap(), p);
        assert!(p.first_day() <= p.last_day());
    }
    if let Ok(c) = ProvinceCode::parse(s) {
        assert_eq!(c.to_string(), s);
    }
    if let Ok(c) = CommuneCode::parse(s) {
        assert_eq!(c.to_string(), s);
    }
    if let Ok(c) = IndicatorCode::parse(s) {
        assert_eq!(c.to_string(), s);
    }
    if let Ok(c) = DatasetCode::parse(s) {
        assert_eq!(c.to_string(), s);
    }
});
