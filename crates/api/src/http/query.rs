//! Query parameters parsed strictly: a malformed value, an unknown enum value, a repeated
//! parameter or a missing required one is a 400 problem naming the parameter — never a lenient
//! empty answer. Parameters are typed (periods, codes, enums, instants), so each is checked once,
//! here.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::http::problem::{ApiError, FieldError};

/// `web::Query`, strictly.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// The parameter at fault in a failed parse, with its problem.
fn fault<T: DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, FieldError> {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let message = e.inner().to_string();
        let path = e.path().to_string();
        let named = |prefix: &str| {
            message
                .strip_prefix(prefix)
                .and_then(|rest| rest.split('`').next())
                .map(str::to_owned)
        };
        let (field, code) = if let Some(f) = named("missing field `") {
            (f, "required")
        } else if let Some(f) = named("duplicate field `") {
            (f, "repeated")
        } else if path.is_empty() || path == "." {
            ("query".to_owned(), "invalid_query")
        } else {
            (path, "invalid_parameter")
        };
        let detail = format!("query parameter {field}: {message}");
        FieldError::new(field, code, detail)
    })
}

/// Parses a query string into `T`, naming every parameter at fault: a parameter found at
/// fault is moved to the end and the rest parsed again (the parser reads in order), so one
/// request hears of all its malformed parameters, and of a missing one.
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut errors: Vec<FieldError> = Vec::new();
    let mut bad: Vec<String> = Vec::new();
    loop {
        match fault::<T>(&pairs) {
            Ok(t) if errors.is_empty() => return Ok(t),
            Ok(_) => break,
            Err(e) => {
                if bad.contains(&e.field) {
                    break; // only parameters already named are left at fault
                }
                let (field, code) = (e.field.clone(), e.code.clone());
                errors.push(e);
                if code == "required" || code == "invalid_query" || errors.len() >= 20 {
                    break;
                }
                let (mut at_fault, rest): (Vec<_>, Vec<_>) =
                    pairs.into_iter().partition(|(k, _)| *k == field);
                pairs = rest;
                pairs.append(&mut at_fault);
                bad.push(field);
            }
        }
    }
    // A required parameter missing besides the malformed ones.
    let rest: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| !bad.contains(k))
        .cloned()
        .collect();
    if let Err(e) = fault::<T>(&rest)
        && e.code == "required"
        && !bad.contains(&e.field)
        && !errors.iter().any(|x| x.field == e.field)
    {
        errors.push(e);
    }
    let detail = errors
        .iter()
        .map(|e| e.message.clone())
        .collect::<Vec<_>>()
        .join("; ");
    Err(ApiError::BadRequest(detail, errors))
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse(req.query_string()).map(Query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use innoreport_core::Period;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Q {
        period: Period,
        limit: Option<u32>,
        as_of: Option<chrono::DateTime<chrono::Utc>>,
    }

    fn field(q: &str) -> String {
        match parse::<Q>(q).unwrap_err() {
            ApiError::BadRequest(_, errors) => errors[0].field.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_bad_parameter_is_named() {
        assert!(parse::<Q>("period=2026Q3&limit=5").is_ok());
        assert_eq!(field("period=garbage"), "period");
        assert_eq!(field("period=2026q3"), "period");
        assert_eq!(field("limit=5"), "period");
        assert_eq!(field("period=2026Q3&limit=-1"), "limit");
        assert_eq!(field("period=2026Q3&as_of=yesterday"), "as_of");
        assert_eq!(field("period=2026Q3&period=2026Q4"), "period");
        let every = match parse::<Q>("period=2026q3&limit=-1&as_of=yesterday").unwrap_err() {
            ApiError::BadRequest(_, errors) => {
                errors.iter().map(|e| e.field.clone()).collect::<Vec<_>>()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(
            every,
            ["period", "limit", "as_of"],
            "every bad parameter at once"
        );
        let missing = match parse::<Q>("limit=-1").unwrap_err() {
            ApiError::BadRequest(_, errors) => errors
                .iter()
                .map(|e| (e.field.clone(), e.code.clone()))
                .collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            missing,
            [
                ("limit".to_owned(), "invalid_parameter".to_owned()),
                ("period".into(), "required".into())
            ]
        );
        assert!(
            parse::<Q>("period=2026Q3&unknown=1").is_ok(),
            "the parser ignores them: `http::params` refuses them before any handler runs"
        );
    }
}
