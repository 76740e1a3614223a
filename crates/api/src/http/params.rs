//! Unknown query parameters are refused, never ignored: a typo (`indicators=` for
//! `indicator=`) would otherwise answer something else than was asked, silently. The
//! parameters each operation accepts are those the OpenAPI document lists for it, so the rule
//! and the contract cannot drift apart.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use actix_web::HttpMessage;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::http::problem::{ApiError, FieldError};

/// An operation's path as segments (`None`: a `{parameter}`), and its query parameters.
struct Operation {
    segments: Vec<Option<String>>,
    query: HashSet<String>,
    /// Behind a credential: without one the answer is 401, whatever the parameters.
    secured: bool,
}

fn operations() -> &'static HashMap<String, Vec<Operation>> {
    static OPS: OnceLock<HashMap<String, Vec<Operation>>> = OnceLock::new();
    OPS.get_or_init(|| {
        let doc = crate::openapi();
        let mut out: HashMap<String, Vec<Operation>> = HashMap::new();
        for (path, item) in &doc.paths.paths {
            let segments: Vec<Option<String>> = path
                .split('/')
                .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_owned()))
                .collect();
            let ops = [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                let query = op
                    .parameters
                    .iter()
                    .flatten()
                    .filter(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query))
                    .map(|p| p.name.clone())
                    .collect();
                let secured = op.security.as_ref().is_some_and(|s| {
                    s.iter()
                        .any(|r| *r != utoipa::openapi::security::SecurityRequirement::default())
                });
                out.entry(method.to_owned()).or_default().push(Operation {
                    segments: segments.clone(),
                    query,
                    secured,
                });
            }
        }
        out
    })
}

/// The query parameters the operation at `method` `path` accepts (`None`: no such operation;
/// the router answers it). Literal segments win over parameters (`/odata/$metadata` over
/// `/odata/{entity_set}`).
fn operation(method: &str, path: &str) -> Option<&'static Operation> {
    let parts: Vec<&str> = path.split('/').collect();
    operations()
        .get(method)?
        .iter()
        .filter(|op| {
            op.segments.len() == parts.len()
                && op
                    .segments
                    .iter()
                    .zip(&parts)
                    .all(|(s, p)| s.as_deref().is_none_or(|s| s == *p))
        })
        .max_by_key(|op| op.segments.iter().filter(|s| s.is_some()).count())
}

fn accepted(method: &str, path: &str) -> Option<&'static HashSet<String>> {
    operation(method, path).map(|op| &op.query)
}

/// The unknown parameters of a request (empty: none).
pub fn unknown(method: &str, path: &str, query: &str) -> Vec<String> {
    let Some(known) = accepted(method, path) else {
        return Vec::new();
    };
    let mut out: Vec<String> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, _)| k.into_owned())
        .filter(|k| !known.contains(k))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Refuses an API request that carries a query parameter its operation does not document.
pub async fn strict(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody + 'static>>, actix_web::Error> {
    let path = req.path();
    if !path.starts_with("/api/") || path == crate::OPENAPI_PATH || req.query_string().is_empty() {
        return next.call(req).await.map(|r| r.map_into_left_body());
    }
    // Authentication comes first: a secured operation asked without a valid credential is
    // answered 401 by its handler (the admission guard has verified any credential already).
    let signed = req
        .extensions()
        .get::<innoreport_core::Principal>()
        .is_some();
    let secured = operation(req.method().as_str(), path).is_some_and(|op| op.secured);
    let bad = if secured && !signed {
        Vec::new()
    } else {
        unknown(req.method().as_str(), path, req.query_string())
    };
    if bad.is_empty() {
        return next.call(req).await.map(|r| r.map_into_left_body());
    }
    let known: Vec<&String> = {
        let mut k: Vec<&String> = accepted(req.method().as_str(), path)
            .map(|s| s.iter().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    let known = if known.is_empty() {
        "none".to_owned()
    } else {
        known
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let errors = bad
        .iter()
        .map(|name| {
            FieldError::new(
                innoreport_service::reports::clip(name),
                "unknown_parameter",
                format!("this operation has no query parameter of this name (it takes: {known})"),
            )
        })
        .collect();
    let e = ApiError::BadRequest(
        format!(
            "Unknown query parameter(s): {}.",
            bad.iter()
                .map(|b| innoreport_service::reports::clip(b))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        errors,
    );
    let res = actix_web::ResponseError::error_response(&e);
    Ok(req.into_response(res).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_document_lists_is_what_a_request_may_send() {
        assert!(unknown("GET", "/api/v1/analytics", "period=2026Q1&indicator=a").is_empty());
        assert_eq!(
            unknown("GET", "/api/v1/analytics", "period=2026Q1&indicators=a&x=1"),
            ["indicators", "x"]
        );
        assert!(unknown("GET", "/api/v1/reports", "limit=5&cursor=abc&format=csv").is_empty());
        assert_eq!(unknown("GET", "/api/v1/keys/abc", "q=1"), ["q"]);
        assert!(unknown("GET", "/api/v1/odata/$metadata", "").is_empty());
        assert_eq!(
            unknown("GET", "/api/v1/odata/$metadata", "$filter=x"),
            ["$filter"]
        );
        assert!(unknown("GET", "/api/v1/odata/Reports", "$filter=x&$top=1").is_empty());
        assert!(
            unknown("GET", "/api/v1/nowhere", "x=1").is_empty(),
            "the router answers 404"
        );
    }
}
