//! The catalog (data sets, indicators, the index framework) from any text: a catalog or a list
//! of problems, never a panic.
#![no_main]

use innoreport_core::Catalog;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = Catalog::from_toml(s);
    }
});
