//! What the feed answers: the protocol version a client speaks, links, and the JSON of pages
//! and entities in OData V4 or V2.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Map, Value as J, json};

use super::model::{EntityType, NAMESPACE};
use super::paging::{Page, Plan, Token};
use super::query::{self, Expr, Lit, Row};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Version {
    V2,
    V4,
}

pub(super) fn major(req: &HttpRequest, name: &str) -> Option<u32> {
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

pub(super) fn version(req: &HttpRequest, data: bool) -> Version {
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
pub(super) fn root(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}/api/v1/odata/", info.scheme(), info.host())
}

pub(super) fn respond(version: Version, body: &J) -> HttpResponse {
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

pub(super) fn key_predicate(ty: &EntityType, row: &Row) -> String {
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

pub(super) fn next_link(req: &HttpRequest, token: &Token) -> String {
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

pub(super) fn body(req: &HttpRequest, plan: &Plan, page: Page, version: Version) -> J {
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

/// The filter of a key predicate: `'v'` for a single key, or `k1='v1',k2='v2'` naming every
/// key property.
pub(super) fn key_filter(ty: &EntityType, key: &str) -> Result<Expr, String> {
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
pub(super) fn single(req: &HttpRequest, plan: &Plan, row: &Row, version: Version) -> J {
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
