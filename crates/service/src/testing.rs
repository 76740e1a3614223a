//! Fixtures shared by the unit tests of the use cases.

use innoreport_core::{CommuneCode, Principal, ProvinceCode, Role};
use innoreport_store::reference::CommuneRow;

use crate::Reference;

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
    Reference::new(
        Vec::new(),
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
