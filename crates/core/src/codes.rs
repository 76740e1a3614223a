//! Codes that name things across the whole product.
//!
//! Codes travel as strings in the API (`"08"`, `"03808"`), because the leading zeros of the
//! GSO codes are part of the code. They are validated once, at the edge, so the rest of the
//! code can trust a `CommuneCode` to be five digits.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a valid code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} code {value:?} is invalid: {expected}")]
pub struct CodeError {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static str,
}

macro_rules! string_code {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $expected:literal, $pattern:literal, $example:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Parses and validates a code.
            pub fn parse(value: &str) -> Result<Self, CodeError> {
                let check: fn(&str) -> bool = $check;
                if check(value) {
                    Ok(Self(value.to_owned()))
                } else {
                    Err(CodeError { kind: $kind, value: value.to_owned(), expected: $expected })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = CodeError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some($pattern))
                    .description(Some(concat!("A ", $kind, " code: ", $expected, ".")))
                    .examples([serde_json::json!($example)])
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

fn all_digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

/// Slug of lowercase ASCII letters, digits and `sep`, starting with a letter, at most 64 bytes.
fn slug(s: &str, sep: u8) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == sep)
        && !s.ends_with(sep as char)
}

string_code!(
    /// A province (tỉnh / thành phố): the 2-digit GSO code, e.g. `"08"` Tuyên Quang.
    ProvinceCode,
    "province",
    "exactly 2 digits",
    "^[0-9]{2}$",
    "08",
    |s| all_digits(s, 2) && s != "00"
);

string_code!(
    /// A commune (xã / phường / đặc khu): the 5-digit GSO code, e.g. `"03808"` Xã Mường La.
    CommuneCode,
    "commune",
    "exactly 5 digits",
    "^[0-9]{5}$",
    "03808",
    |s| all_digits(s, 5) && s != "00000"
);

string_code!(
    /// An indicator (chỉ tiêu), e.g. `"online_dossier_rate"`.
    IndicatorCode,
    "indicator",
    "lowercase letters, digits and '_', starting with a letter, at most 64 characters",
    "^[a-z][a-z0-9_]{0,63}$",
    "online_dossier_rate",
    |s| slug(s, b'_')
);

string_code!(
    /// A data set (biểu mẫu), e.g. `"dmst-quarterly"`.
    DatasetCode,
    "dataset",
    "lowercase letters, digits and '-', starting with a letter, at most 64 characters",
    "^[a-z][a-z0-9-]{0,63}$",
    "dmst-quarterly",
    |s| slug(s, b'-')
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn province_codes_are_two_digits() {
        assert_eq!(ProvinceCode::parse("08").unwrap().as_str(), "08");
        for bad in ["8", "008", "0a", "", " 08", "00", "٠٨"] {
            assert!(ProvinceCode::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn commune_codes_are_five_digits_with_leading_zeros_kept() {
        let c = CommuneCode::parse("03808").unwrap();
        assert_eq!(c.to_string(), "03808");
        for bad in ["3808", "038080", "0380a", "", "00000", "03808 "] {
            assert!(CommuneCode::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn indicator_and_dataset_codes_are_slugs() {
        assert!(IndicatorCode::parse("online_dossier_rate").is_ok());
        assert!(IndicatorCode::parse("ocop_3star").is_ok());
        for bad in ["", "3star", "Online", "a-b", "a_", "a b", &"a".repeat(65)] {
            assert!(IndicatorCode::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(DatasetCode::parse("dmst-quarterly").is_ok());
        for bad in ["dmst_quarterly", "-a", "a-", "Dmst"] {
            assert!(DatasetCode::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn codes_deserialize_only_when_valid() {
        let ok: CommuneCode = serde_json::from_str("\"03808\"").unwrap();
        assert_eq!(ok.as_str(), "03808");
        let err = serde_json::from_str::<CommuneCode>("\"3808\"").unwrap_err();
        assert!(err.to_string().contains("exactly 5 digits"));
        assert!(serde_json::from_str::<CommuneCode>("3808").is_err());
    }
}
