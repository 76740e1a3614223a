//! Errors as `application/problem+json` (RFC 9457), mapped to HTTP once, here.
//!
//! Every handler returns `Result<_, ApiError>`; extractor failures (bad JSON, bad query or path
//! parameters) and unknown routes are turned into the same shape, so a client never has to
//! parse two kinds of error.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use innoreport_service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

/// The most field errors one problem lists (the total is always given); a huge bad input gets a
/// small answer.
pub const MAX_PROBLEM_ERRORS: usize = 100;

/// The longest text a problem repeats back (a detail or a message); longer texts are cut.
pub const MAX_PROBLEM_TEXT: usize = 500;

fn bounded(text: &str) -> String {
    if text.len() <= MAX_PROBLEM_TEXT {
        return text.to_owned();
    }
    let mut end = MAX_PROBLEM_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// One problem with one field of the input.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FieldError {
    /// Where the problem is, e.g. `values.staff_trained` or `cursor`.
    pub field: String,
    /// A stable machine-readable code, e.g. `unknown_indicator`.
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:innoreport:problem:not-found`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Every problem with the input, listed at once (validation errors), up to 100.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// How many problems there are in all, when more than `errors` lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub errors_total: Option<usize>,
}

impl Problem {
    /// A problem document whose texts and error list are bounded, whatever the input.
    pub fn new(
        status: StatusCode,
        kind: &str,
        title: &str,
        detail: &str,
        errors: Vec<FieldError>,
    ) -> Problem {
        let total = errors.len();
        let errors: Vec<FieldError> = errors
            .into_iter()
            .take(MAX_PROBLEM_ERRORS)
            .map(|e| FieldError {
                field: bounded(&e.field),
                code: bounded(&e.code),
                message: bounded(&e.message),
            })
            .collect();
        Problem {
            kind: format!("urn:innoreport:problem:{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: bounded(detail),
            errors_total: (total > errors.len()).then_some(total),
            errors,
        }
    }
}

/// Everything a handler can answer instead of success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String, Vec<FieldError>),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String, Vec<FieldError>),
    #[error("{0}")]
    Locked(String, Vec<FieldError>),
    #[error("{0}")]
    Unprocessable(String, Vec<FieldError>),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    TooManyRequests(String, u64),
    /// What the client is told, the cause chain (logged), and when to retry.
    #[error("the service is temporarily unavailable: {1}")]
    Unavailable(String, String, u64),
    /// A defect; the cause chain is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 about one query parameter.
    pub fn bad_parameter(field: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError::BadRequest(
            format!("query parameter {field}: {message}"),
            vec![FieldError::new(field, "invalid_parameter", message)],
        )
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let fields = |issues: Vec<innoreport_core::validation::Issue>| {
            issues
                .into_iter()
                .map(|i| FieldError::new(i.field, i.code, i.message))
                .collect()
        };
        match e {
            ServiceError::BadInput { message, issues } => {
                ApiError::BadRequest(message, fields(issues))
            }
            ServiceError::Invalid { message, issues } => {
                ApiError::Unprocessable(message, fields(issues))
            }
            ServiceError::Unauthorized(m) => ApiError::Unauthorized(m),
            ServiceError::Forbidden(d) => ApiError::Forbidden(d.0),
            ServiceError::NotFound(m) => ApiError::NotFound(m),
            ServiceError::Conflict { message, issues } => {
                ApiError::Conflict(message, fields(issues))
            }
            ServiceError::Locked { message, issues } => ApiError::Locked(message, fields(issues)),
            ServiceError::TooManyRequests {
                message,
                retry_after,
            } => ApiError::TooManyRequests(message, retry_after),
            e @ ServiceError::Unavailable { retry_after, .. } => {
                let ServiceError::Unavailable { message, .. } = &e else {
                    unreachable!()
                };
                ApiError::Unavailable(format!("{message}; retry later."), e.chain(), retry_after)
            }
            e @ ServiceError::Internal { .. } => ApiError::Internal(e.chain()),
        }
    }
}

impl ApiError {
    pub fn bad_field(field: &str, code: &str, message: impl Into<String>) -> ApiError {
        let message = message.into();
        ApiError::BadRequest(message.clone(), vec![FieldError::new(field, code, message)])
    }

    fn kind_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::BadRequest(..) => ("bad-request", "Bad request"),
            ApiError::Unauthorized(_) => ("unauthorized", "Unauthorized"),
            ApiError::Forbidden(_) => ("forbidden", "Forbidden"),
            ApiError::NotFound(_) => ("not-found", "Not found"),
            ApiError::Conflict(..) => ("conflict", "Conflict"),
            ApiError::Locked(..) => ("locked", "Locked"),
            ApiError::Unprocessable(..) => ("validation", "Invalid input"),
            ApiError::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "Unsupported media type")
            }
            ApiError::TooManyRequests(..) => ("too-many-requests", "Too many requests"),
            ApiError::Unavailable(..) => ("unavailable", "Service unavailable"),
            ApiError::Internal(_) => ("internal", "Internal error"),
        }
    }

    pub fn problem(&self) -> Problem {
        let (kind, title) = self.kind_and_title();
        let (detail, errors) = match self {
            ApiError::BadRequest(d, e)
            | ApiError::Unprocessable(d, e)
            | ApiError::Conflict(d, e)
            | ApiError::Locked(d, e) => (d.clone(), e.clone()),
            ApiError::NotFound(d)
            | ApiError::Unauthorized(d)
            | ApiError::Forbidden(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::TooManyRequests(d, _) => (d.clone(), Vec::new()),
            ApiError::Unavailable(detail, ..) => (capitalised(detail), Vec::new()),
            // Never leak internals to the client; they are logged.
            ApiError::Internal(_) => (
                "An unexpected error occurred; it has been logged.".to_owned(),
                Vec::new(),
            ),
        };
        Problem::new(self.status_code(), kind, title, &detail, errors)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(..) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(..) => StatusCode::CONFLICT,
            ApiError::Locked(..) => StatusCode::LOCKED,
            ApiError::Unprocessable(..) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests(..) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(..) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(e) => tracing::error!(error = %e, "internal error"),
            ApiError::Unavailable(_, e, _) => tracing::warn!(error = %e, "unavailable"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        if matches!(self, ApiError::Unauthorized(_)) {
            res.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"innoreport\", Basic realm=\"innoreport\""),
            ));
        }
        if let ApiError::TooManyRequests(_, wait) | ApiError::Unavailable(_, _, wait) = self {
            res.insert_header((header::RETRY_AFTER, HeaderValue::from(*wait)));
        }
        res.body(serde_json::to_string(&self.problem()).expect("problems serialise"))
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(format!("blocking task: {e}"))
    }
}

/// Extractor failures (malformed JSON, query or path) as 400 problems.
pub fn json_error(err: actix_web::error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let (field, code) = match &err {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => ("body", "too_large"),
        E::ContentType => ("body", "content_type"),
        _ => ("body", "malformed_json"),
    };
    let message = err.to_string();
    if code == "content_type" {
        let api = ApiError::UnsupportedMediaType(
            "the body must be JSON (Content-Type: application/json)".into(),
        );
        return actix_web::error::InternalError::from_response(err, api.error_response()).into();
    }
    let api = if code == "too_large" {
        return actix_web::error::InternalError::from_response(
            err,
            problem_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
                &message,
            ),
        )
        .into();
    } else {
        ApiError::BadRequest(message.clone(), vec![FieldError::new(field, code, message)])
    };
    actix_web::error::InternalError::from_response(err, api.error_response()).into()
}

pub fn query_error(err: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    let message = err.to_string();
    let api = ApiError::BadRequest(
        message.clone(),
        vec![FieldError::new("query", "invalid_query", message)],
    );
    actix_web::error::InternalError::from_response(err, api.error_response()).into()
}

pub fn path_error(err: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    let message = err.to_string();
    let api = ApiError::BadRequest(
        message.clone(),
        vec![FieldError::new("path", "invalid_path", message)],
    );
    actix_web::error::InternalError::from_response(err, api.error_response()).into()
}

/// A problem response for statuses outside [`ApiError`] (404 for unknown routes, 413).
pub fn problem_response(status: StatusCode, kind: &str, title: &str, detail: &str) -> HttpResponse {
    let problem = Problem::new(status, kind, title, detail, Vec::new());
    HttpResponse::build(status)
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ))
        .body(serde_json::to_string(&problem).expect("problems serialise"))
}

/// The answer for a route that does not exist.
pub async fn unknown_route(req: HttpRequest) -> HttpResponse {
    problem_response(
        StatusCode::NOT_FOUND,
        "not-found",
        "Not found",
        &format!("No resource at {} {}.", req.method(), req.path()),
    )
}

/// Turns any error answer that is not already a problem document (actix's own 404/405/413
/// answers, payload errors) into one, so every error a client sees has the same shape.
pub fn ensure_problem<B: actix_web::body::MessageBody + 'static>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"));
    if is_problem {
        return Ok(actix_web::middleware::ErrorHandlerResponse::Response(
            res.map_into_left_body(),
        ));
    }
    let status = res.status();
    let (kind, title) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("payload-too-large", "Payload too large"),
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "Method not allowed"),
        StatusCode::TOO_MANY_REQUESTS => ("too-many-requests", "Too many requests"),
        StatusCode::NOT_FOUND => ("not-found", "Not found"),
        s if s.is_server_error() => ("internal", "Internal error"),
        _ => ("bad-request", "Bad request"),
    };
    let detail = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            "The request body is larger than this endpoint accepts.".to_owned()
        }
        s if s.is_server_error() => "An unexpected error occurred; it has been logged.".to_owned(),
        s => {
            s.canonical_reason()
                .unwrap_or("The request was refused.")
                .to_owned()
                + "."
        }
    };
    let (req, _) = res.into_parts();
    let new = problem_response(status, kind, title, &detail);
    Ok(actix_web::middleware::ErrorHandlerResponse::Response(
        actix_web::dev::ServiceResponse::new(req, new).map_into_right_body(),
    ))
}

/// A message as the first words of a sentence.
fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_stays_small_whatever_the_input() {
        let many: Vec<FieldError> = (0..10_000)
            .map(|i| FieldError::new(format!("values.x{i}"), "bad", "y".repeat(10_000)))
            .collect();
        let e = ApiError::Unprocessable("z".repeat(1_000_000), many);
        let p = e.problem();
        assert_eq!(p.errors.len(), MAX_PROBLEM_ERRORS);
        assert_eq!(p.errors_total, Some(10_000));
        let body = serde_json::to_string(&p).unwrap();
        assert!(body.len() < 100_000, "{} bytes", body.len());
    }
}
