//! Fixtures shared by the unit tests of the use cases.

use innoreport_core::{CommuneCode, Principal, ProvinceCode, Role};
use innoreport_store::reference::{CommuneRow, ProvinceRow, ProvinceSummary};

use std::collections::BTreeMap;
use std::sync::Arc;

use innoreport_aggregate::cube::{Cube, ReportCells};
use innoreport_core::Period;

use crate::{Reference, View};

/// A caller of `role` with this scope (codes as text).
pub fn who(role: Role, province: Option<&str>, commune: Option<&str>) -> Principal {
    Principal {
        subject: "t".into(),
        role,
        province: province.map(|p| ProvinceCode::parse(p).unwrap()),
        commune: commune.map(|c| CommuneCode::parse(c).unwrap()),
    }
}

/// Reference data of these (commune, province) pairs.
pub fn reference(communes: &[(&str, &str)]) -> Reference {
    let mut provinces: Vec<&str> = communes.iter().map(|(_, p)| *p).collect();
    provinces.sort_unstable();
    provinces.dedup();
    Reference::new(
        provinces
            .iter()
            .map(|p| ProvinceSummary {
                province: ProvinceRow {
                    code: (*p).into(),
                    name_vi: format!("Tỉnh {p}"),
                    name_en: format!("{p} Province"),
                    division_type: "tỉnh".into(),
                    codename: (*p).into(),
                },
                communes: communes.iter().filter(|(_, q)| q == p).count() as i64,
            })
            .collect(),
        communes
            .iter()
            .map(|(code, province)| CommuneRow {
                code: (*code).into(),
                province_code: (*province).into(),
                name_vi: format!("Xã {code}"),
                name_en: format!("{code} Commune"),
                division_type: "xã".into(),
                codename: (*code).into(),
            })
            .collect(),
    )
}

/// Two communes of Sơn La (14) and one of Hà Nội (01), with 2026Q1 and 2026 reports.
pub fn small_view() -> View {
    let reference = Arc::new(crate::testing::reference(&[
        ("03808", "14"),
        ("03811", "14"),
        ("00004", "01"),
    ]));
    let mut cube = Cube::new(reference.units.clone());
    let report = |dataset: &str, period: &str, commune: &str, values: &[(&str, f64)]| ReportCells {
        dataset: dataset.into(),
        period: Period::parse(period).unwrap(),
        commune: commune.into(),
        first_received_us: 0,
        values: values
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect::<BTreeMap<_, _>>(),
    };
    cube.apply(vec![
        report(
            "dmst-quarterly",
            "2026Q1",
            "03808",
            &[("dossiers_total", 100.0), ("dossiers_online_full", 80.0)],
        ),
        report(
            "dmst-quarterly",
            "2026Q1",
            "03811",
            &[("dossiers_total", 300.0), ("dossiers_online_full", 60.0)],
        ),
        report(
            "dmst-quarterly",
            "2026Q1",
            "00004",
            &[("dossiers_total", 50.0)],
        ),
        report("dmst-annual", "2026", "03808", &[("population", 10_000.0)]),
    ])
    .unwrap();
    View {
        catalog: Arc::new(innoreport_store::seed::default_catalog().unwrap()),
        reference,
        cube,
        now: chrono::Utc::now(),
    }
}

/// A province analyst of `province`.
pub fn province_analyst(province: &str) -> Principal {
    who(Role::ProvinceAnalyst, Some(province), None)
}

/// The commune officer of `commune` in `province`.
pub fn officer(province: &str, commune: &str) -> Principal {
    who(Role::CommuneOfficer, Some(province), Some(commune))
}
