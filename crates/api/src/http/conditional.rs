//! Conditional requests: an `ETag` on GETs of reports and aggregates, `If-None-Match` answered
//! 304. The tag is opaque: a digest of the answer's body and of the caller's scope, so two
//! callers who see different things never share a tag, replicas agree on it, and it tells
//! nothing about the service's state.

use std::hash::{Hash, Hasher};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use innoreport_core::Principal;

/// The tag of `body` as `who` sees it.
pub fn etag(who: &Principal, body: &[u8]) -> String {
    let mut a = std::collections::hash_map::DefaultHasher::new();
    let mut b = std::collections::hash_map::DefaultHasher::new();
    0x5bd1_e995_u32.hash(&mut b);
    for h in [&mut a, &mut b] {
        who.scope().hash(h);
        who.role.as_str().hash(h);
        body.hash(h);
    }
    format!("\"{:016x}{:016x}\"", a.finish(), b.finish())
}

/// Whether the request's `If-None-Match` matches `tag` (or is `*`).
pub fn not_modified(req: &HttpRequest, tag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == tag || t == "*")
}

/// A JSON answer with its tag, or 304 when the client has it already.
pub fn tagged_json(
    req: &HttpRequest,
    who: &Principal,
    body: &impl serde::Serialize,
) -> HttpResponse {
    let bytes = match serde_json::to_vec(body) {
        Ok(b) => b,
        Err(e) => {
            return actix_web::ResponseError::error_response(
                &crate::http::problem::ApiError::Internal(format!("serialising: {e}")),
            );
        }
    };
    let tag = etag(who, &bytes);
    if not_modified(req, &tag) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::CACHE_CONTROL, "private, no-cache"))
            .finish();
    }
    HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .content_type("application/json")
        .body(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use innoreport_core::{ProvinceCode, Role};

    fn who(province: &str) -> Principal {
        Principal {
            subject: "same".into(),
            role: Role::ProvinceAnalyst,
            province: Some(ProvinceCode::parse(province).unwrap()),
            commune: None,
        }
    }

    #[test]
    fn tags_are_bound_to_the_scope_and_the_body() {
        assert_eq!(etag(&who("14"), b"x"), etag(&who("14"), b"x"));
        assert_ne!(etag(&who("14"), b"x"), etag(&who("01"), b"x"));
        assert_ne!(etag(&who("14"), b"x"), etag(&who("14"), b"y"));
    }
}
