//! A read-only OData feed (`/api/v1/odata/`) for BI tools: the `/analytics` table at the three
//! levels, reports, communes and indicators, with `$metadata`, `$select`, `$filter`,
//! `$orderby`, `$top`, `$skip`, `$count` and server-driven paging (`@odata.nextLink`).
//!
//! The feed speaks OData V4 JSON (minimal metadata) to clients that say they speak V4
//! (`OData-Version` or `OData-MaxVersion` 4.0: Power BI, Excel, .NET and Java clients), and
//! OData V2's verbose JSON (`{"d": {"results": …}}`, `$inlinecount`) to clients that ask for
//! V2 (`DataServiceVersion`/`MaxDataServiceVersion`) or that name no version and accept only
//! `application/json` (V2 clients such as pyodata). Everything else gets V4.
//!
//! Every read is the caller's, narrowed by the same rules as `/analytics` and `/reports`;
//! credentials are a bearer token or an integration key (also as HTTP Basic), never the URL.

mod answer;
pub mod model;
mod paging;
pub mod query;
pub mod sources;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use serde_json::{Value as J, json};
use utoipa::IntoParams;

use crate::http::auth::Auth;
use crate::http::problem::{ApiError, Problem};
use crate::http::query::Query;
use crate::state::AppState;
use answer::{Version, body, key_filter, respond, root, single, version};
use model::{EntitySet, EntityType};
use paging::{Page, Plan, Token, count_all, read_page};
use query::Expr;
use sources::Options;

/// Rows per page unless the client prefers fewer (`Prefer: odata.maxpagesize=N`).
pub const PAGE_SIZE: usize = 1000;
/// The largest page a client may prefer.
pub const MAX_PAGE_SIZE: usize = 10_000;

/// The query options the feed understands.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// A filter: `eq ne gt ge lt le`, `in (…)`, `and`, `or`, `not`, parentheses,
    /// `contains`/`startswith`/`endswith`. Periods, indicators and provinces it names plainly
    /// (`period eq '2026Q1'`, `indicator in ('a','b')`) are the only ones computed.
    #[serde(rename = "$filter")]
    #[param(
        rename = "$filter",
        example = "period eq '2026Q1' and indicator eq 'online_dossier_rate'"
    )]
    pub filter: Option<String>,
    /// Properties to send, comma-separated.
    #[serde(rename = "$select")]
    #[param(rename = "$select")]
    pub select: Option<String>,
    /// Properties to sort by, each `asc` (default) or `desc`.
    #[serde(rename = "$orderby")]
    #[param(rename = "$orderby")]
    pub orderby: Option<String>,
    #[serde(rename = "$top")]
    #[param(rename = "$top")]
    pub top: Option<u64>,
    #[serde(rename = "$skip")]
    #[param(rename = "$skip")]
    pub skip: Option<u64>,
    /// `true`: the answer carries the number of matching rows (V4).
    #[serde(rename = "$count")]
    #[param(rename = "$count")]
    pub count: Option<bool>,
    /// `allpages`: the answer carries the number of matching rows (V2).
    #[serde(rename = "$inlinecount")]
    #[param(rename = "$inlinecount")]
    pub inlinecount: Option<String>,
    /// Where the next page starts (from a next link).
    #[serde(rename = "$skiptoken")]
    #[param(rename = "$skiptoken")]
    pub skiptoken: Option<String>,
    /// Only `json`.
    #[serde(rename = "$format")]
    #[param(rename = "$format")]
    pub format: Option<String>,
    /// Value sets: the periods to compute when `$filter` names none (the `/analytics` syntax;
    /// default `LAST_8_QUARTERS,THIS_QUARTER,LAST_5_YEARS,THIS_YEAR`).
    pub period: Option<String>,
    /// Value sets: the indicators to compute when `$filter` names none (default: all).
    pub indicator: Option<String>,
    /// Value sets: only this province.
    pub province: Option<String>,
}

/// The query options this feed does not implement: refused rather than ignored.
const UNSUPPORTED: [&str; 6] = ["$expand", "$search", "$apply", "$compute", "$levels", "$id"];

fn refuse_unsupported(req: &HttpRequest) -> Result<(), ApiError> {
    for (k, _) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if k.starts_with('$') && UNSUPPORTED.contains(&k.as_ref()) {
            return Err(ApiError::bad_parameter(
                &k,
                "this feed does not support it (supported: $filter, $select, $orderby, $top, $skip, $count, $inlinecount, $skiptoken, $format)",
            ));
        }
    }
    Ok(())
}

/// The service document: the entity sets.
#[utoipa::path(
    tag = "odata",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The entity sets (OData service document)", body = Object, content_type = "application/json"),
        (status = 401, description = "Missing or bad credentials", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/odata")]
pub async fn service_document(req: HttpRequest, auth: Auth) -> HttpResponse {
    service_document_with_slash(req, auth).await
}

/// The service document at `/api/v1/odata/` too, where OData clients look for it (the
/// documented path has no trailing slash).
pub async fn service_document_with_slash(req: HttpRequest, _auth: Auth) -> HttpResponse {
    let sets: Vec<J> = model::SETS
        .iter()
        .map(|s| json!({"name": s.name, "kind": "EntitySet", "url": s.name}))
        .collect();
    match version(&req, true) {
        Version::V4 => respond(
            Version::V4,
            &json!({"@odata.context": format!("{}$metadata", root(&req)), "value": sets}),
        ),
        Version::V2 => respond(
            Version::V2,
            &json!({"d": {"EntitySets": model::SETS.iter().map(|s| s.name).collect::<Vec<_>>()}}),
        ),
    }
}

/// The entity model: CSDL (V4), or EDMX (V2) for V2 clients.
#[utoipa::path(
    tag = "odata",
    security(("bearer" = []), ("basic" = [])),
    responses(
        (status = 200, description = "The entity model", body = String, content_type = "application/xml"),
        (status = 401, description = "Missing or bad credentials", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/odata/$metadata")]
pub async fn metadata(req: HttpRequest, _auth: Auth) -> HttpResponse {
    let (doc, version) = match version(&req, false) {
        Version::V4 => (model::csdl_v4(), "4.0"),
        Version::V2 => (model::edmx_v2(), "2.0"),
    };
    let header = if version == "4.0" {
        "OData-Version"
    } else {
        "DataServiceVersion"
    };
    HttpResponse::Ok()
        .insert_header((header, version))
        .content_type("application/xml")
        .body(doc)
}

fn page_size(req: &HttpRequest) -> usize {
    page_size_asked(req).map_or(PAGE_SIZE, |n| n.clamp(1, MAX_PAGE_SIZE))
}

fn plan(req: &HttpRequest, set: &'static EntitySet, q: &FeedQuery) -> Result<Plan, ApiError> {
    refuse_unsupported(req)?;
    if let Some(f) = &q.format
        && !f.eq_ignore_ascii_case("json")
        && !f.starts_with("application/json")
    {
        return Err(ApiError::bad_parameter("$format", "only json"));
    }
    let ty: &EntityType = set.entity_type;
    let filter = q
        .filter
        .as_deref()
        .map(|f| query::filter(f, ty))
        .transpose()
        .map_err(|m| ApiError::bad_parameter("$filter", m))?;
    let order = q
        .orderby
        .as_deref()
        .map(|o| query::order_by(o, ty))
        .transpose()
        .map_err(|m| ApiError::bad_parameter("$orderby", m))?
        .unwrap_or_default();
    let select = q
        .select
        .as_deref()
        .map(|s| query::select(s, ty))
        .transpose()
        .map_err(|m| ApiError::bad_parameter("$select", m))?
        .unwrap_or_else(|| (0..ty.properties.len()).collect());
    let count = match (q.count, q.inlinecount.as_deref()) {
        (Some(c), _) => c,
        (None, Some("allpages")) => true,
        (None, Some("none") | None) => false,
        (None, Some(_)) => {
            return Err(ApiError::bad_parameter("$inlinecount", "allpages or none"));
        }
    };
    let token = q
        .skiptoken
        .as_deref()
        .map(|t| {
            Token::read(t).ok_or_else(|| {
                ApiError::bad_parameter("$skiptoken", "not a $skiptoken this service wrote")
            })
        })
        .transpose()?;
    let clip = |n: Option<u64>| n.map(|n| n.min(usize::MAX as u64 / 2) as usize);
    Ok(Plan {
        set,
        filter,
        order,
        select,
        skip: clip(q.skip).unwrap_or(0),
        top: clip(q.top),
        page: page_size(req),
        count,
        token,
    })
}

fn find_set(name: &str) -> Result<&'static EntitySet, ApiError> {
    model::set(name).ok_or_else(|| {
        ApiError::NotFound(format!(
            "There is no entity set {:?} (the feed has {}).",
            innoreport_service::reports::clip(name),
            model::SETS
                .iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

fn options(q: &FeedQuery) -> Options {
    Options {
        period: q.period.clone(),
        indicator: q.indicator.clone(),
        province: q.province.clone(),
    }
}

/// Rows of an entity set, a page at a time.
#[utoipa::path(
    tag = "odata",
    security(("bearer" = []), ("basic" = [])),
    params(
        ("entity_set" = String, Path, description = "CommuneValues, ProvinceValues, NationalValues, Reports, Communes or Indicators; or one entity by its key, e.g. `Indicators('ocop_3star')`, `CommuneValues(indicator='dossiers_total',period='2026Q1',unit='03808')`"),
        FeedQuery,
    ),
    responses(
        (status = 200, description = "One page: V4 `{\"@odata.context\", \"value\": […], \"@odata.nextLink\"}` or, for V2 clients, `{\"d\": {\"results\": […], \"__next\"}}`", body = Object, content_type = "application/json"),
        (status = 400, description = "A query option that cannot be understood or is not supported", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad credentials", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A province or level outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entity set, or no entity of that key", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/odata/{entity_set}")]
pub async fn entity_set(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    name: web::Path<String>,
    q: Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    // `Set(key)`: one entity by its key.
    let (set_name, key) = match name.split_once('(') {
        Some((set, rest)) if rest.ends_with(')') => (set, Some(&rest[..rest.len() - 1])),
        _ => (name.as_str(), None),
    };
    let set = find_set(set_name)?;
    let mut plan = plan(&req, set, &q)?;
    if let Some(key) = key {
        let by_key = key_filter(set.entity_type, key)
            .map_err(|m| ApiError::NotFound(format!("Not an entity of {set_name}: {m}.")))?;
        plan.filter = Some(match plan.filter.take() {
            Some(f) => Expr::And(Box::new(by_key), Box::new(f)),
            None => by_key,
        });
        plan.order.clear();
        plan.page = 1;
        plan.skip = 0;
        plan.count = false;
    }
    let options = options(&q);
    let version = version(&req, true);
    let asked_page = page_size_asked(&req);
    let page = state
        .call(move |s| {
            Ok((move || -> Result<(Plan, Page), ApiError> {
                let open = |plan: &Plan, pay: bool| {
                    sources::open(s, &auth.0, set, plan.filter.as_ref(), &options, pay)
                };
                let pay = plan.token.is_none() || !plan.order.is_empty();
                let mut page = read_page(&plan, &mut *open(&plan, pay)?)?;
                if !plan.count {
                    page.count = None;
                } else if page.count.is_none() {
                    page.count = Some(count_all(&plan, &mut *open(&plan, true)?)?);
                }
                Ok((plan, page))
            })())
        })
        .await?;
    let (plan, page) = page?;
    if key.is_some() {
        let Some(row) = page.rows.first() else {
            return Err(ApiError::NotFound(format!(
                "There is no such entity in {set_name}."
            )));
        };
        return Ok(respond(version, &single(&req, &plan, row, version)));
    }
    let mut res = respond(version, &body(&req, &plan, page, version));
    if let Some(n) = asked_page
        && let Ok(v) = header::HeaderValue::from_str(&format!(
            "odata.maxpagesize={}",
            n.clamp(1, MAX_PAGE_SIZE)
        ))
    {
        res.headers_mut()
            .insert(header::HeaderName::from_static("preference-applied"), v);
    }
    Ok(res)
}

/// The `odata.maxpagesize` the client asked for, if any.
fn page_size_asked(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| {
            p.trim()
                .strip_prefix("odata.maxpagesize=")
                .and_then(|n| n.trim().parse::<usize>().ok())
        })
}

/// The number of rows of an entity set that match `$filter`, as text.
#[utoipa::path(
    tag = "odata",
    security(("bearer" = []), ("basic" = [])),
    params(
        ("entity_set" = String, Path, description = "An entity set of the feed"),
        FeedQuery,
    ),
    responses(
        (status = 200, description = "The number of matching rows", body = String, content_type = "text/plain"),
        (status = 400, description = "A query option that cannot be understood", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad credentials", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A province or level outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such entity set", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/odata/{entity_set}/$count")]
pub async fn count_rows(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    name: web::Path<String>,
    q: Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let set = find_set(&name)?;
    let plan = plan(&req, set, &q)?;
    let options = options(&q);
    let n = state
        .call(move |s| {
            Ok((|| -> Result<usize, ApiError> {
                let mut src = sources::open(s, &auth.0, set, plan.filter.as_ref(), &options, true)?;
                count_all(&plan, &mut *src)
            })())
        })
        .await??;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(n.to_string()))
}
