//! The HTTP API of innoreport (v1): actix-web handlers, problem+json errors, and the OpenAPI
//! document generated from the same handlers that serve the requests.
//!
//! [`app`] builds the whole application once, for the binary and for tests alike; [`openapi`]
//! builds the same route table and returns only its document, so the committed
//! `openapi/openapi.json` can be checked against the code.

pub mod http;
pub mod metrics;
pub mod odata;
pub mod pages;
pub mod routes;
pub mod state;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, web};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::SwaggerUi;

pub use http::problem::{ApiError, FieldError, Problem};
pub use innoreport_service::Clock;
pub use state::AppState;

/// The largest request body accepted (bulk imports); JSON bodies are limited to 4 MiB.
pub const MAX_UPLOAD_BYTES: usize = 16 * 1024 * 1024;

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

#[derive(OpenApi)]
#[openapi(
    servers((url = "/", description = "This server (paths include /api/v1)")),
    info(
        title = "innoreport API",
        description = "Science, technology and innovation reports of Vietnam's communes (báo cáo KH, CN & ĐMST cấp xã): submission, reference data, rollups and the innovation index. Errors are application/problem+json (RFC 9457).",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    modifiers(&BearerScheme),
    components(schemas(http::export::Format, http::export::Lang, routes::changes::ChangeAction, routes::plan_views::ProgressTable, routes::notifications::NoticeKind, routes::notifications::DeliveryStatus, routes::notifications::DeliveryChannel)),
    tags(
        (name = "auth", description = "Logins and bearer tokens"),
        (name = "reports", description = "Submitting, reading and reviewing commune reports"),
        (name = "analysis", description = "Rollups, compliance, targets and dashboards (JSON, CSV, xlsx)"),
        (name = "documents", description = "Report documents (báo cáo) in the layout of Decree 30/2020/NĐ-CP, as Word files written from the data"),
        (name = "plans", description = "Plans (kế hoạch) of communes and templates of provinces, their tasks, the progress communes report on them and what the province sees of it"),
        (name = "notifications", description = "Reminders before deadlines, notices of review actions, the province digest and overdue tasks: the delivery log and webhooks"),
        (name = "index", description = "The innovation index: scores, ranks, uncertainty, what-if, framework"),
        (name = "reference", description = "Provinces, communes, indicators and data sets"),
        (name = "odata", description = "A read-only OData feed for BI tools (Power BI, Excel): the analytics table, reports, communes and indicators"),
        (name = "operations", description = "Health and readiness"),
    ),
)]
struct ApiDoc;

/// The `bearer` security scheme: a JWT from `POST /api/v1/auth/token`.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("JWT".into());
        http.description =
            Some("A token from POST /api/v1/auth/token (or `innoreport token`).".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
        let mut basic = Http::new(HttpAuthScheme::Basic);
        basic.description = Some(
            "An integration key as the password, any username (what Power BI and Excel send); for the OData feed and every read."
                .into(),
        );
        components.add_security_scheme("basic", SecurityScheme::Http(basic));
    }
}

/// The answers any operation can give besides its own, added to every operation that does not
/// document them itself, so the document never lies about a status a client can meet:
/// 400 (a malformed parameter or body), 401 and 403 (operations behind a token), 413 and 415 (operations
/// with a body), 429 (per-client rate limit) and 503 (at capacity, or the database unreachable;
/// both with `Retry-After`).
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder, header::HeaderBuilder};

        let problem = |description: &str, retry: bool| {
            let mut response = ResponseBuilder::new().description(description).content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            );
            if retry {
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(
                            utoipa::openapi::ObjectBuilder::new()
                                .schema_type(utoipa::openapi::Type::Integer),
                        )
                        .description(Some("Seconds to wait before retrying"))
                        .build(),
                );
            }
            response.build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let limited = path.starts_with("/api/") && path != OPENAPI_PATH;
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                // A public operation says so (`security: []`), rather than inheriting nothing.
                let public = operation.security.as_ref().is_none_or(|s| {
                    s.iter()
                        .all(|r| *r == utoipa::openapi::security::SecurityRequirement::default())
                });
                if public {
                    operation.security = Some(Vec::new());
                }
                let exports = operation
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| p.name == "format");
                if exports {
                    document_exports(operation);
                }
                let mut add = Vec::new();
                let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let has_body = operation.request_body.is_some();
                if has_params || has_body {
                    add.push(("400", "Malformed parameters or body", false));
                }
                if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    add.push(("401", "Missing or bad token", false));
                    add.push(("403", "Outside the caller's role or scope", false));
                }
                if has_body {
                    add.push(("413", "The body is larger than the limit", false));
                    add.push(("415", "The body is not of a documented content type", false));
                }
                if limited {
                    add.push((
                        "429",
                        "This client sent too many requests; retry after the time given",
                        true,
                    ));
                    add.push((
                        "503",
                        "At capacity or the database is unreachable; retry after the time given",
                        true,
                    ));
                }
                for (status, description, retry) in add {
                    let responses = &mut operation.responses.responses;
                    if !responses.contains_key(status) {
                        responses.insert(status.to_owned(), problem(description, retry).into());
                    }
                }
            }
        }
    }
}

/// Lists that take `?format=` also answer CSV and Excel: say so on their 200 response.
fn document_exports(operation: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::{ContentBuilder, ObjectBuilder, RefOr, SchemaFormat, Type};
    let Some(RefOr::T(ok)) = operation.responses.responses.get_mut("200") else {
        return;
    };
    let text = || ObjectBuilder::new().schema_type(Type::String);
    ok.content.insert(
        "text/csv".to_owned(),
        ContentBuilder::new().schema(Some(text())).build(),
    );
    ok.content.insert(
        http::export::XLSX_CONTENT_TYPE.to_owned(),
        ContentBuilder::new()
            .schema(Some(text().format(Some(SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Binary,
            )))))
            .build(),
    );
}

type Routes<T> = utoipa_actix_web::UtoipaApp<T>;

fn routes<T>(app: Routes<T>) -> Routes<T>
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = actix_web::Error, InitError = ()>,
{
    use routes::*;
    app.openapi(ApiDoc::openapi())
        .service(health::health)
        .service(health::ready)
        .service(
            scope::scope("/api/v1")
                .service(auth::issue_token)
                .service(auth::change_password)
                .service(accounts::create_user_endpoint)
                .service(accounts::list_users)
                .service(accounts::list_users_csv)
                .service(accounts::list_users_xlsx)
                .service(accounts::get_user)
                .service(accounts::update_user)
                .service(accounts::reset_password)
                .service(keys::create_key)
                .service(keys::list_keys)
                .service(keys::get_key)
                .service(keys::revoke_key)
                .service(notifications::list_notifications)
                .service(notifications::list_notifications_csv)
                .service(notifications::list_notifications_xlsx)
                .service(notifications::create_webhook)
                .service(notifications::list_webhooks)
                .service(notifications::remove_webhook)
                .service(notifications::get_preferences)
                .service(notifications::put_preferences)
                .service(reports::submit_report)
                .service(reports::list_reports)
                .service(reports::list_reports_csv)
                .service(reports::list_reports_xlsx)
                .service(reports::get_report)
                .service(review::list_revisions)
                .service(review::list_revisions_csv)
                .service(review::list_revisions_xlsx)
                .service(review::list_reviews)
                .service(review::review_report)
                .service(changes::list_changes)
                .service(changes::list_changes_csv)
                .service(changes::list_changes_xlsx)
                .service(imports::import_reports)
                .service(imports::import_reports_csv)
                .service(analytics::analytics)
                .service(odata::service_document)
                .service(odata::metadata)
                .service(odata::count_rows)
                .service(odata::entity_set)
                .service(analytics::analytics_csv)
                .service(analytics::analytics_xlsx)
                .service(analysis::aggregates)
                .service(analysis::aggregates_csv)
                .service(analysis::aggregates_xlsx)
                .service(analysis::compliance_report)
                .service(analysis::compliance_report_csv)
                .service(analysis::compliance_report_xlsx)
                .service(analysis::put_targets)
                .service(analysis::get_targets)
                .service(analysis::get_targets_csv)
                .service(analysis::get_targets_xlsx)
                .service(dashboard::dashboard)
                .service(dashboard::dashboard_csv)
                .service(dashboard::dashboard_xlsx)
                .service(documents::province_document)
                .service(documents::commune_document)
                .service(documents::get_province_settings)
                .service(documents::put_province_settings)
                .service(documents::get_commune_settings)
                .service(documents::put_commune_settings)
                .service(plan_views::plan_progress_csv)
                .service(plan_views::plan_progress_xlsx)
                .service(plan_views::plan_progress)
                .service(plan_views::commune_tasks_csv)
                .service(plan_views::commune_tasks_xlsx)
                .service(plan_views::commune_tasks)
                .service(plan_views::task_across_csv)
                .service(plan_views::task_across_xlsx)
                .service(plan_views::task_across)
                .service(plan_feedback::plan_feedback_csv)
                .service(plan_feedback::plan_feedback_xlsx)
                .service(plan_feedback::plan_feedback)
                .service(plans::list_plans)
                .service(plans::get_plan)
                .service(plans::put_plan)
                .service(plans::import_plan)
                .service(plans::adopt_template)
                .service(plans::review_plan)
                .service(plans::plan_revisions)
                .service(index::get_index)
                .service(index::get_index_csv)
                .service(index::get_index_xlsx)
                .service(index::what_if)
                .service(index::get_framework)
                .service(index::put_framework)
                .service(reference::list_provinces)
                .service(reference::list_provinces_csv)
                .service(reference::list_provinces_xlsx)
                .service(reference::get_province)
                .service(reference::list_communes)
                .service(reference::list_communes_csv)
                .service(reference::list_communes_xlsx)
                .service(reference::get_commune)
                .service(entry::reporting_periods)
                .service(reference::list_indicators)
                .service(reference::get_indicator)
                .service(reference::list_datasets)
                .service(reference::get_dataset),
        )
}

/// The OpenAPI document of the v1 API (collected from the route table once per process).
pub fn openapi() -> utoipa::openapi::OpenApi {
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let (_, mut api) = routes(App::new().into_utoipa_app()).split_for_parts();
        api.info.version = env!("CARGO_PKG_VERSION").to_owned();
        // After the routes: their operations exist only once the route table is collected.
        CommonResponses.modify(&mut api);
        api
    })
    .clone()
}

/// The OpenAPI document as the pretty JSON committed in `openapi/openapi.json`.
pub fn openapi_json() -> String {
    let mut text = openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    text.push('\n');
    text
}

/// The whole application: routes, shared state, error shapes, the document and Swagger UI.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    // The document is registered before the `/api/v1` scope: a scope owns every path under
    // its prefix, so a later service would never see `/api/v1/openapi.json`.
    let docs = SwaggerUi::new("/docs/{_:.*}").url(OPENAPI_PATH, openapi());
    let feed_root =
        web::resource("/api/v1/odata/").route(web::get().to(odata::service_document_with_slash));
    let (app, _) = routes(
        App::new()
            .service(docs)
            .service(feed_root)
            .into_utoipa_app(),
    )
    .split_for_parts();
    app.wrap(
        actix_web::middleware::ErrorHandlers::new().default_handler(http::problem::ensure_problem),
    )
    .wrap(actix_web::middleware::from_fn(http::params::strict))
    .wrap(actix_web::middleware::from_fn(http::guard::admit))
    .wrap(actix_web::middleware::from_fn(http::headers::secure))
    .app_data(web::Data::new(state))
    .app_data(
        web::JsonConfig::default()
            .limit(4 * 1024 * 1024)
            .error_handler(http::problem::json_error),
    )
    .app_data(web::PayloadConfig::new(MAX_UPLOAD_BYTES))
    .app_data(web::QueryConfig::default().error_handler(http::problem::query_error))
    .app_data(web::PathConfig::default().error_handler(http::problem::path_error))
    .service(web::redirect("/docs", "/docs/"))
    .configure(pages::configure)
    .default_service(web::to(http::problem::unknown_route))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Schemathesis found statuses the service answers but the document did not list; the
    /// common answers are now added to every operation, and this keeps it so.
    #[test]
    fn every_operation_documents_the_answers_any_request_can_get() {
        let doc = openapi();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [("GET", &item.get), ("POST", &item.post), ("PUT", &item.put)] {
                let Some(op) = op else { continue };
                let has = |s: &str| op.responses.responses.contains_key(s);
                if path.starts_with("/api/") && path != OPENAPI_PATH {
                    assert!(has("429") && has("503"), "{method} {path}");
                }
                if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                    assert!(has("401") && has("403"), "{method} {path}");
                }
                if op.request_body.is_some() {
                    assert!(has("400") && has("413") && has("415"), "{method} {path}");
                }
            }
        }
    }
}
