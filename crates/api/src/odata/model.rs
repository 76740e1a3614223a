//! The feed's entity model: its types and sets, and their `$metadata` documents (CSDL of
//! OData V4, and the EDMX of OData V2 for V2 clients).

use std::fmt::Write as _;

/// The primitive types the feed uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edm {
    String,
    Double,
    Int32,
    Boolean,
    DateTimeOffset,
}

impl Edm {
    pub fn name(self) -> &'static str {
        match self {
            Edm::String => "Edm.String",
            Edm::Double => "Edm.Double",
            Edm::Int32 => "Edm.Int32",
            Edm::Boolean => "Edm.Boolean",
            Edm::DateTimeOffset => "Edm.DateTimeOffset",
        }
    }
}

/// A property: name, type, whether it may be null.
pub type Property = (&'static str, Edm, bool);

/// An entity type.
#[derive(Debug)]
pub struct EntityType {
    pub name: &'static str,
    pub key: &'static [&'static str],
    pub properties: &'static [Property],
}

impl EntityType {
    /// The position of a property.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.properties.iter().position(|(n, ..)| *n == name)
    }
}

/// What an entity set reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The `/analytics` table at a level.
    Values(innoreport_service::analysis::Level),
    Reports,
    Communes,
    Indicators,
}

/// An entity set.
#[derive(Debug)]
pub struct EntitySet {
    pub name: &'static str,
    pub entity_type: &'static EntityType,
    pub source: Source,
}

pub const NAMESPACE: &str = "innoreport";

/// One value of an indicator for a period and a unit: a row of `/analytics`.
pub static VALUE: EntityType = EntityType {
    name: "Value",
    key: &["indicator", "period", "unit"],
    properties: &[
        ("indicator", Edm::String, false),
        ("period", Edm::String, false),
        ("period_type", Edm::String, false),
        ("year", Edm::Int32, false),
        ("unit", Edm::String, false),
        ("name", Edm::String, false),
        ("name_en", Edm::String, false),
        ("province", Edm::String, true),
        ("value", Edm::Double, true),
        ("numerator", Edm::Double, true),
        ("denominator", Edm::Double, true),
        ("communes_reporting", Edm::Int32, false),
        ("communes_expected", Edm::Int32, false),
    ],
};

/// A commune's report (its values are in `CommuneValues`).
pub static REPORT: EntityType = EntityType {
    name: "Report",
    key: &["dataset", "period", "commune"],
    properties: &[
        ("dataset", Edm::String, false),
        ("period", Edm::String, false),
        ("commune", Edm::String, false),
        ("province", Edm::String, false),
        ("revision", Edm::Int32, false),
        ("status", Edm::String, false),
        ("reopened", Edm::Boolean, false),
        ("locked", Edm::Boolean, false),
        ("timeliness", Edm::String, false),
        ("deadline", Edm::DateTimeOffset, false),
        ("first_received_at", Edm::DateTimeOffset, false),
        ("received_at", Edm::DateTimeOffset, false),
    ],
};

pub static COMMUNE: EntityType = EntityType {
    name: "Commune",
    key: &["code"],
    properties: &[
        ("code", Edm::String, false),
        ("name", Edm::String, false),
        ("name_en", Edm::String, false),
        ("division_type", Edm::String, false),
        ("province_code", Edm::String, false),
        ("province_name", Edm::String, false),
    ],
};

pub static INDICATOR: EntityType = EntityType {
    name: "Indicator",
    key: &["code"],
    properties: &[
        ("code", Edm::String, false),
        ("name", Edm::String, false),
        ("name_en", Edm::String, false),
        ("unit_of_measure", Edm::String, false),
        ("unit_of_measure_en", Edm::String, false),
        ("value_type", Edm::String, false),
        ("dataset", Edm::String, true),
        ("derived", Edm::Boolean, false),
    ],
};

use innoreport_service::analysis::Level;

pub static SETS: [EntitySet; 6] = [
    EntitySet {
        name: "CommuneValues",
        entity_type: &VALUE,
        source: Source::Values(Level::Commune),
    },
    EntitySet {
        name: "ProvinceValues",
        entity_type: &VALUE,
        source: Source::Values(Level::Province),
    },
    EntitySet {
        name: "NationalValues",
        entity_type: &VALUE,
        source: Source::Values(Level::National),
    },
    EntitySet {
        name: "Reports",
        entity_type: &REPORT,
        source: Source::Reports,
    },
    EntitySet {
        name: "Communes",
        entity_type: &COMMUNE,
        source: Source::Communes,
    },
    EntitySet {
        name: "Indicators",
        entity_type: &INDICATOR,
        source: Source::Indicators,
    },
];

pub fn set(name: &str) -> Option<&'static EntitySet> {
    SETS.iter().find(|s| s.name == name)
}

fn types() -> [&'static EntityType; 4] {
    [&VALUE, &REPORT, &COMMUNE, &INDICATOR]
}

fn entity_types(out: &mut String) {
    for t in types() {
        let _ = write!(out, "<EntityType Name=\"{}\"><Key>", t.name);
        for k in t.key {
            let _ = write!(out, "<PropertyRef Name=\"{k}\"/>");
        }
        out.push_str("</Key>");
        for (name, edm, nullable) in t.properties {
            let _ = write!(
                out,
                "<Property Name=\"{name}\" Type=\"{}\" Nullable=\"{nullable}\"/>",
                edm.name()
            );
        }
        out.push_str("</EntityType>");
    }
}

fn entity_sets(out: &mut String) {
    for s in &SETS {
        let _ = write!(
            out,
            "<EntitySet Name=\"{}\" EntityType=\"{NAMESPACE}.{}\"/>",
            s.name, s.entity_type.name
        );
    }
}

/// The CSDL of OData V4.
pub fn csdl_v4() -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <edmx:Edmx xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\" Version=\"4.0\">\
         <edmx:DataServices>",
    );
    let _ = write!(
        out,
        "<Schema xmlns=\"http://docs.oasis-open.org/odata/ns/edm\" Namespace=\"{NAMESPACE}\">"
    );
    entity_types(&mut out);
    out.push_str("<EntityContainer Name=\"Container\">");
    entity_sets(&mut out);
    out.push_str("</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>");
    out
}

/// The EDMX of OData V2 (the same model).
pub fn edmx_v2() -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <edmx:Edmx xmlns:edmx=\"http://schemas.microsoft.com/ado/2007/06/edmx\" Version=\"1.0\">\
         <edmx:DataServices xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\" m:DataServiceVersion=\"2.0\">",
    );
    let _ = write!(
        out,
        "<Schema xmlns=\"http://schemas.microsoft.com/ado/2008/09/edm\" Namespace=\"{NAMESPACE}\">"
    );
    entity_types(&mut out);
    out.push_str("<EntityContainer Name=\"Container\" m:IsDefaultEntityContainer=\"true\">");
    entity_sets(&mut out);
    out.push_str("</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_set_is_named_once_and_every_key_is_a_property() {
        let mut names: Vec<&str> = SETS.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SETS.len());
        for t in types() {
            for k in t.key {
                assert!(t.index(k).is_some(), "{} key {k}", t.name);
            }
        }
        let v4 = csdl_v4();
        assert!(v4.contains("<EntitySet Name=\"CommuneValues\" EntityType=\"innoreport.Value\"/>"));
        assert!(edmx_v2().contains("m:IsDefaultEntityContainer=\"true\""));
    }
}
