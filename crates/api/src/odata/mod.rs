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

pub mod model;
pub mod query;
pub mod sources;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use serde_json::{Map, Value as J, json};
use utoipa::IntoParams;

use crate::http::auth::Auth;
use crate::http::problem::{ApiError, Problem};
use crate::http::query::Query;
use crate::state::AppState;
use model::{EntitySet, EntityType, NAMESPACE};
use query::{Expr, Lit, Row};
use sources::{Chunks, Options};

/// Rows per page unless the client prefers fewer (`Prefer: odata.maxpagesize=N`).
pub const PAGE_SIZE: usize = 1000;
/// The largest page a client may prefer.
pub const MAX_PAGE_SIZE: usize = 10_000;
/// The most rows a `$orderby` sorts (they are held in memory).
pub const MAX_SORTED_ROWS: usize = 500_000;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V2,
    V4,
}

fn major(req: &HttpRequest, name: &str) -> Option<u32> {
    req.headers()
        .get(name)?
        .to_str()
        .ok()?
        .split(['.', ';'])
        .next()?
        .trim()
        .parse()
        .ok()
}

fn version(req: &HttpRequest, data: bool) -> Version {
    let v4 = major(req, "odata-maxversion").or_else(|| major(req, "odata-version"));
    if let Some(v) = v4 {
        return if v >= 4 { Version::V4 } else { Version::V2 };
    }
    if major(req, "maxdataserviceversion")
        .or_else(|| major(req, "dataserviceversion"))
        .is_some()
    {
        return Version::V2;
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if data && accept.trim().eq_ignore_ascii_case("application/json") {
        Version::V2
    } else {
        Version::V4
    }
}

/// The feed's root URL as the client reached it.
fn root(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}/api/v1/odata/", info.scheme(), info.host())
}

fn respond(version: Version, body: &J) -> HttpResponse {
    match version {
        Version::V4 => HttpResponse::Ok()
            .insert_header(("OData-Version", "4.0"))
            .content_type("application/json;odata.metadata=minimal")
            .json(body),
        Version::V2 => HttpResponse::Ok()
            .insert_header(("DataServiceVersion", "2.0"))
            .content_type("application/json")
            .json(body),
    }
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

/// A parsed request on an entity set.
struct Plan {
    set: &'static EntitySet,
    filter: Option<Expr>,
    order: Vec<(usize, bool)>,
    select: Vec<usize>,
    skip: usize,
    top: Option<usize>,
    page: usize,
    count: bool,
    token: Option<Token>,
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// Unsorted: the chunk, the matching row within it, rows sent and rows skipped before.
    At {
        chunk: Option<String>,
        index: usize,
        sent: usize,
        skipped: usize,
    },
    /// Sorted: the offset into the sorted rows (after `$skip`).
    Offset(usize),
}

impl Token {
    fn write(&self) -> String {
        match self {
            Token::At {
                chunk,
                index,
                sent,
                skipped,
            } => format!(
                "c.{sent}.{skipped}.{index}.{}",
                chunk.as_deref().unwrap_or("-")
            ),
            Token::Offset(o) => format!("o.{o}"),
        }
    }

    fn read(s: &str) -> Option<Token> {
        if let Some(o) = s.strip_prefix("o.") {
            return o.parse().ok().map(Token::Offset);
        }
        let rest = s.strip_prefix("c.")?;
        let mut parts = rest.splitn(4, '.');
        let sent = parts.next()?.parse().ok()?;
        let skipped = parts.next()?.parse().ok()?;
        let index = parts.next()?.parse().ok()?;
        let chunk = parts.next()?;
        Some(Token::At {
            chunk: (chunk != "-").then(|| chunk.to_owned()),
            index,
            sent,
            skipped,
        })
    }
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

/// One page: its rows, the next page's token, and the number of matching rows if asked.
struct Page {
    rows: Vec<Row>,
    next: Option<Token>,
    count: Option<usize>,
}

fn matches(plan: &Plan, row: &Row) -> bool {
    plan.filter.as_ref().is_none_or(|f| f.eval(row))
}

fn count_all(plan: &Plan, src: &mut dyn Chunks) -> Result<usize, ApiError> {
    let mut at: Option<String> = None;
    let mut n = 0;
    loop {
        let (rows, next) = src.chunk(at.as_deref())?;
        n += rows.iter().filter(|r| matches(plan, r)).count();
        match next {
            Some(k) => at = Some(k),
            None => return Ok(n),
        }
    }
}

fn read_page(plan: &Plan, src: &mut dyn Chunks) -> Result<Page, ApiError> {
    if !plan.order.is_empty() {
        return sorted_page(plan, src);
    }
    let (mut at, mut start, sent_before, mut skipped) = match &plan.token {
        None => (None, 0, 0, 0),
        Some(Token::At {
            chunk,
            index,
            sent,
            skipped,
        }) => (chunk.clone(), *index, *sent, *skipped),
        Some(Token::Offset(_)) => {
            return Err(ApiError::bad_parameter(
                "$skiptoken",
                "this $skiptoken belongs to a sorted request",
            ));
        }
    };
    let mut out: Vec<Row> = Vec::new();
    loop {
        let (rows, next) = src.chunk(at.as_deref())?;
        let matching: Vec<Row> = rows.into_iter().filter(|r| matches(plan, r)).collect();
        let mut i = start;
        start = 0;
        for row in matching.into_iter().skip(i) {
            if plan.top.is_some_and(|t| sent_before + out.len() >= t) {
                return Ok(Page {
                    rows: out,
                    next: None,
                    count: None,
                });
            }
            if skipped < plan.skip {
                skipped += 1;
                i += 1;
                continue;
            }
            if out.len() == plan.page {
                return Ok(Page {
                    next: Some(Token::At {
                        chunk: at,
                        index: i,
                        sent: sent_before + out.len(),
                        skipped,
                    }),
                    rows: out,
                    count: None,
                });
            }
            out.push(row);
            i += 1;
        }
        match next {
            Some(k) => at = Some(k),
            None => {
                return Ok(Page {
                    rows: out,
                    next: None,
                    count: None,
                });
            }
        }
    }
}

fn sorted_page(plan: &Plan, src: &mut dyn Chunks) -> Result<Page, ApiError> {
    let mut all: Vec<Row> = Vec::new();
    let mut at: Option<String> = None;
    loop {
        let (rows, next) = src.chunk(at.as_deref())?;
        all.extend(rows.into_iter().filter(|r| matches(plan, r)));
        if all.len() > MAX_SORTED_ROWS {
            return Err(ApiError::bad_parameter(
                "$orderby",
                format!(
                    "more than {MAX_SORTED_ROWS} rows match: narrow the $filter to sort them, or read them unsorted"
                ),
            ));
        }
        match next {
            Some(k) => at = Some(k),
            None => break,
        }
    }
    all.sort_by(|a, b| {
        for &(i, desc) in &plan.order {
            let o = a[i].sort_key(&b[i]);
            let o = if desc { o.reverse() } else { o };
            if o.is_ne() {
                return o;
            }
        }
        std::cmp::Ordering::Equal
    });
    let total = all.len();
    let offset = match plan.token {
        Some(Token::Offset(o)) => o,
        Some(Token::At { .. }) => {
            return Err(ApiError::bad_parameter(
                "$skiptoken",
                "this $skiptoken belongs to an unsorted request",
            ));
        }
        None => 0,
    };
    let window_end = plan
        .top
        .map_or(total, |t| (plan.skip.saturating_add(t)).min(total));
    let from = plan.skip.saturating_add(offset).min(window_end);
    let to = from.saturating_add(plan.page).min(window_end);
    let next = (to < window_end).then_some(Token::Offset(offset + (to - from)));
    Ok(Page {
        rows: all.drain(from..to).collect(),
        next,
        count: Some(total),
    })
}

fn key_predicate(ty: &EntityType, row: &Row) -> String {
    ty.key
        .iter()
        .filter_map(|k| ty.index(k))
        .map(|i| {
            let v = match &row[i] {
                Lit::Str(s) => format!("'{}'", s.replace('\'', "''")),
                other => format!("{other:?}"),
            };
            format!("{}={v}", ty.properties[i].0)
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn next_link(req: &HttpRequest, token: &Token) -> String {
    // Keys as the client wrote them (`$filter`, not `%24filter`), values percent-encoded.
    let encode = |v: &str| {
        form_urlencoded::byte_serialize(v.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    let mut parts: Vec<String> = form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| k != "$skiptoken")
        .map(|(k, v)| format!("{}={}", encode(&k).replace("%24", "$"), encode(&v)))
        .collect();
    parts.push(format!("$skiptoken={}", encode(&token.write())));
    let info = req.connection_info();
    format!(
        "{}://{}{}?{}",
        info.scheme(),
        info.host(),
        req.path(),
        parts.join("&")
    )
}

fn body(req: &HttpRequest, plan: &Plan, page: Page, version: Version) -> J {
    let ty = plan.set.entity_type;
    let entity = |row: &Row| {
        let mut m = Map::new();
        if version == Version::V2 {
            m.insert(
                "__metadata".into(),
                json!({
                    "uri": format!("{}{}({})", root(req), plan.set.name, key_predicate(ty, row)),
                    "type": format!("{NAMESPACE}.{}", ty.name),
                }),
            );
        }
        for &i in &plan.select {
            let (name, edm, _) = ty.properties[i];
            m.insert(
                name.into(),
                query::json(&row[i], edm, version == Version::V2),
            );
        }
        J::Object(m)
    };
    let rows: Vec<J> = page.rows.iter().map(entity).collect();
    let next = page.next.as_ref().map(|t| next_link(req, t));
    match version {
        Version::V4 => {
            let mut m = Map::new();
            let selected = if plan.select.len() == ty.properties.len() {
                String::new()
            } else {
                let names: Vec<&str> = plan.select.iter().map(|&i| ty.properties[i].0).collect();
                format!("({})", names.join(","))
            };
            m.insert(
                "@odata.context".into(),
                J::String(format!(
                    "{}$metadata#{}{selected}",
                    root(req),
                    plan.set.name
                )),
            );
            if let Some(c) = page.count {
                m.insert("@odata.count".into(), J::from(c));
            }
            m.insert("value".into(), J::Array(rows));
            if let Some(n) = next {
                m.insert("@odata.nextLink".into(), J::String(n));
            }
            J::Object(m)
        }
        Version::V2 => {
            let mut d = Map::new();
            d.insert("results".into(), J::Array(rows));
            if let Some(c) = page.count {
                d.insert("__count".into(), J::String(c.to_string()));
            }
            if let Some(n) = next {
                d.insert("__next".into(), J::String(n));
            }
            json!({ "d": d })
        }
    }
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

/// The filter of a key predicate: `'v'` for a single key, or `k1='v1',k2='v2'` naming every
/// key property.
fn key_filter(ty: &EntityType, key: &str) -> Result<Expr, String> {
    let mut parts: Vec<(Option<String>, String)> = Vec::new();
    let chars: Vec<char> = key.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && chars[i] != '=' && chars[i] != '\'' {
            i += 1;
        }
        let name: String = chars[start..i].iter().collect::<String>().trim().to_owned();
        let name = if i < chars.len() && chars[i] == '=' {
            i += 1;
            Some(name)
        } else if name.is_empty() {
            None
        } else {
            return Err(format!("{name:?} is not a key value"));
        };
        if chars.get(i) != Some(&'\'') {
            return Err("key values are quoted text".into());
        }
        i += 1;
        let mut value = String::new();
        loop {
            match chars.get(i) {
                None => return Err("a key value is not closed".into()),
                Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                    value.push('\'');
                    i += 2;
                }
                Some('\'') => {
                    i += 1;
                    break;
                }
                Some(c) => {
                    value.push(*c);
                    i += 1;
                }
            }
        }
        parts.push((name, value));
        match chars.get(i) {
            None => break,
            Some(',') => i += 1,
            Some(_) => return Err("key values are separated by commas".into()),
        }
    }
    let named: Vec<(usize, String)> = match parts.as_slice() {
        [(None, v)] if ty.key.len() == 1 => vec![(ty.index(ty.key[0]).unwrap_or(0), v.clone())],
        _ => {
            let mut out = Vec::new();
            for (name, v) in &parts {
                let name = name.as_deref().ok_or("name every key property")?;
                if !ty.key.contains(&name) {
                    return Err(format!("{name:?} is not a key property of {}", ty.name));
                }
                out.push((ty.index(name).unwrap_or(0), v.clone()));
            }
            if out.len() != ty.key.len() {
                return Err(format!("the key of {} is {}", ty.name, ty.key.join(", ")));
            }
            out
        }
    };
    let mut expr: Option<Expr> = None;
    for (i, v) in named {
        let cmp = Expr::Cmp(
            query::Operand::Prop(i),
            query::Op::Eq,
            query::Operand::Lit(Lit::Str(v)),
        );
        expr = Some(match expr {
            Some(e) => Expr::And(Box::new(e), Box::new(cmp)),
            None => cmp,
        });
    }
    expr.ok_or_else(|| "an empty key".to_owned())
}

/// One entity: V4 with its context, V2 as `{"d": {…}}`.
fn single(req: &HttpRequest, plan: &Plan, row: &Row, version: Version) -> J {
    let page = Page {
        rows: vec![row.clone()],
        next: None,
        count: None,
    };
    let mut collection = body(req, plan, page, version);
    let entity = match version {
        Version::V4 => collection["value"][0].take(),
        Version::V2 => collection["d"]["results"][0].take(),
    };
    match (version, entity) {
        (Version::V4, J::Object(mut m)) => {
            m.insert(
                "@odata.context".into(),
                J::String(format!("{}$metadata#{}/$entity", root(req), plan.set.name)),
            );
            J::Object(m)
        }
        (_, e) => json!({ "d": e }),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_read_back_what_they_wrote() {
        for t in [
            Token::At {
                chunk: None,
                index: 3,
                sent: 1000,
                skipped: 5,
            },
            Token::At {
                chunk: Some("17".into()),
                index: 0,
                sent: 0,
                skipped: 0,
            },
            Token::Offset(2000),
        ] {
            assert_eq!(Token::read(&t.write()), Some(t));
        }
        assert_eq!(Token::read("c.1.2"), None);
        assert_eq!(Token::read("o.x"), None);
    }
}
