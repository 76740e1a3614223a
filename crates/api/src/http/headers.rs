//! Headers every API answer carries, so no shared cache keeps one caller's answer for another
//! and no browser guesses a type: `Cache-Control: no-store` (answers with an ETag say
//! `private, no-cache` themselves), `Vary: Authorization` and `X-Content-Type-Options: nosniff`.
//! They wrap the admission guard too, so refusals carry them.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

/// The middleware: `App::wrap(actix_web::middleware::from_fn(headers::secure))`.
pub async fn secure<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let api = req.path().starts_with("/api/");
    let mut res = next.call(req).await?;
    if api {
        let headers = res.headers_mut();
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        headers.append(header::VARY, HeaderValue::from_static("Authorization"));
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    }
    Ok(res)
}
