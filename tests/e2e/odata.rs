//! The OData feed as BI tools read it: a model, pages followed by their next links, the same
//! numbers as `/analytics`, filters, sorting, selection and counts, V4 for V4 clients and V2's
//! JSON for V2 clients, and the caller's scope. (A real client, pyodata, reads it in
//! `tests/clients/`; the authorization matrix covers its operations.)

use std::collections::BTreeMap;

use innoreport_core::Role;
use serde_json::Value;

use crate::analytics::fixture;
use crate::support::{TestApp, assert_problem, muong_la, token};

const V4: [(&str, &str); 2] = [("odata-maxversion", "4.0"), ("accept", "application/json")];

async fn v4(app: &TestApp, who: &str, path: &str, page: usize) -> crate::support::Answer {
    let prefer = format!("odata.maxpagesize={page}");
    app.get_with(who, path, &[V4[0], V4[1], ("prefer", &prefer)])
        .await
}

/// Every row of a V4 collection, following `@odata.nextLink` page by page.
async fn all_pages(app: &TestApp, who: &str, first: &str, page: usize) -> (Vec<Value>, usize) {
    let mut rows = Vec::new();
    let mut pages = 0;
    let mut path = first.to_owned();
    loop {
        let res = v4(app, who, &path, page).await;
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        assert_eq!(res.header("odata-version"), Some("4.0"));
        let body = res.json();
        let value = body["value"].as_array().unwrap();
        assert!(value.len() <= page);
        rows.extend(value.iter().cloned());
        pages += 1;
        match body["@odata.nextLink"].as_str() {
            Some(next) => {
                let url = url::Url::parse(next).unwrap();
                assert_eq!(
                    url.host_str(),
                    Some("127.0.0.1"),
                    "an absolute link to this server"
                );
                path = format!("{}?{}", url.path(), url.query().unwrap_or(""));
            }
            None => return (rows, pages),
        }
    }
}

fn key(r: &Value) -> (String, String, String) {
    (
        r["indicator"].as_str().unwrap().to_owned(),
        r["period"].as_str().unwrap().to_owned(),
        r["unit"].as_str().unwrap().to_owned(),
    )
}

#[actix_web::test]
async fn a_province_table_paged_through_the_feed_equals_analytics() {
    let (app, _) = fixture(11).await;
    let admin = token(Role::Admin, None, None);
    let created = app
        .post_json(
            Some(&crate::support::son_la_admin()),
            "/api/v1/keys",
            &serde_json::json!({"name": "Power BI"}),
        )
        .await;
    let key_secret = created.json()["secret"].as_str().unwrap().to_owned();
    let filter = "indicator in ('online_dossier_rate','dossiers_total','staff_trained_rate') and (period eq '2026Q1' or period eq '2026Q2' or period eq '2026')";
    let path = format!(
        "/api/v1/odata/CommuneValues?$filter={}&$count=true",
        urlencode(filter)
    );
    let (rows, pages) = all_pages(&app, &key_secret, &path, 100).await;
    let communes = crate::trust::communes_of(&app, "14").await.len();
    assert_eq!(rows.len(), 3 * 3 * communes, "every row, once");
    assert!(pages >= 6, "{pages} pages of 100");
    let first = v4(&app, &key_secret, &path, 100).await.json();
    assert_eq!(first["@odata.count"], rows.len());
    assert!(
        first["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/api/v1/odata/$metadata#CommuneValues")
    );
    // The same numbers as /analytics for the same table.
    let table = app
        .get_as(
            &key_secret,
            "/api/v1/analytics?indicator=online_dossier_rate,dossiers_total,staff_trained_rate&period=2026Q1,2026Q2,2026&level=commune",
        )
        .await
        .json();
    let want: BTreeMap<_, _> = table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (key(r), r.clone()))
        .collect();
    let got: BTreeMap<_, _> = rows.iter().map(|r| (key(r), r.clone())).collect();
    assert_eq!(got.len(), rows.len(), "no row twice");
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (k, r) in &got {
        for field in [
            "value",
            "numerator",
            "denominator",
            "communes_reporting",
            "communes_expected",
            "name",
        ] {
            assert_eq!(r[field], want[k][field], "{k:?} {field}");
        }
        assert_eq!(r["province"], "14");
    }
    // The count alone.
    let count = app
        .get_as(
            &key_secret,
            &format!(
                "/api/v1/odata/CommuneValues/$count?$filter={}",
                urlencode(filter)
            ),
        )
        .await;
    assert_eq!(count.text(), rows.len().to_string());
    // Sorted, windowed and narrowed to a few properties.
    let sorted = v4(
        &app,
        &admin,
        &format!(
            "/api/v1/odata/CommuneValues?province=14&$filter={}&$orderby=value%20desc,unit&$top=7&$skip=2&$select=unit,value",
            urlencode("indicator eq 'dossiers_total' and period eq '2026Q1' and value ne null")
        ),
        3,
    )
    .await
    .json();
    let values: Vec<f64> = sorted["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values.len(), 3, "a page of the preferred size");
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "{values:?}");
    assert_eq!(
        sorted["value"][0]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["unit", "value"]
    );
    assert!(
        sorted["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#CommuneValues(unit,value)")
    );
    let reported: Vec<f64> = want
        .iter()
        .filter(|(k, r)| k.0 == "dossiers_total" && k.1 == "2026Q1" && !r["value"].is_null())
        .map(|(_, r)| r["value"].as_f64().unwrap())
        .collect();
    let mut reported = reported;
    reported.sort_by(|a, b| b.partial_cmp(a).unwrap());
    assert_eq!(values, reported[2..5], "$skip=2 of the sorted rows");
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[actix_web::test]
async fn v2_clients_get_v2_json_and_the_model_in_their_dialect() {
    let (app, _) = fixture(3).await;
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    // A client that names no version and accepts only JSON (pyodata) reads V2.
    let res = app
        .get_with(
            &analyst,
            "/api/v1/odata/Reports?$top=3&$inlinecount=allpages",
            &[("accept", "application/json")],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("dataserviceversion"), Some("2.0"));
    let d = &res.json()["d"];
    assert_eq!(d["results"].as_array().unwrap().len(), 3);
    assert!(d["__count"].as_str().unwrap().parse::<usize>().unwrap() >= 6 * 10);
    let first = &d["results"][0];
    assert!(
        first["__metadata"]["uri"]
            .as_str()
            .unwrap()
            .contains("/api/v1/odata/Reports(dataset='")
    );
    assert!(
        first["deadline"].as_str().unwrap().starts_with("/Date("),
        "V2 instants: {first}"
    );
    assert_eq!(first["province"], "14");
    // V2 paging.
    let paged = app
        .get_with(
            &analyst,
            "/api/v1/odata/Communes",
            &[
                ("maxdataserviceversion", "2.0"),
                ("prefer", "odata.maxpagesize=10"),
            ],
        )
        .await
        .json();
    assert!(
        paged["d"]["__next"]
            .as_str()
            .unwrap()
            .contains("$skiptoken=")
    );
    let meta = app
        .get_with(
            &analyst,
            "/api/v1/odata/$metadata",
            &[("maxdataserviceversion", "2.0")],
        )
        .await;
    assert!(meta.content_type().starts_with("application/xml"));
    assert!(
        meta.text()
            .contains("http://schemas.microsoft.com/ado/2007/06/edmx")
    );
    let meta4 = app.get_as(&analyst, "/api/v1/odata/$metadata").await;
    assert!(
        meta4
            .text()
            .contains("http://docs.oasis-open.org/odata/ns/edmx")
    );
    assert!(
        meta4
            .text()
            .contains("<EntitySet Name=\"CommuneValues\" EntityType=\"innoreport.Value\"/>")
    );
    let doc = v4(&app, &analyst, "/api/v1/odata/", 10).await.json();
    assert_eq!(doc["value"].as_array().unwrap().len(), 6);
    // One entity by its key, in both dialects; the V2 links lead to it.
    let one = v4(&app, &analyst, "/api/v1/odata/Indicators('ocop_3star')", 10).await;
    assert_eq!(one.status, 200, "{}", one.text());
    let one = one.json();
    assert_eq!(one["code"], "ocop_3star");
    assert!(
        one["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#Indicators/$entity")
    );
    let cell = "CommuneValues(indicator='dossiers_total',period='2026Q1',unit='03808')";
    let v4_cell = v4(&app, &analyst, &format!("/api/v1/odata/{cell}"), 10)
        .await
        .json();
    assert_eq!(v4_cell["unit"], "03808");
    let v2_cell = app
        .get_with(
            &analyst,
            &format!("/api/v1/odata/{cell}"),
            &[("maxdataserviceversion", "2.0")],
        )
        .await
        .json();
    assert_eq!(v2_cell["d"]["value"], v4_cell["value"]);
    let link = v2_cell["d"]["__metadata"]["uri"].as_str().unwrap();
    let link = url::Url::parse(link).unwrap();
    let again = app
        .get_with(&analyst, link.path(), &[("maxdataserviceversion", "2.0")])
        .await;
    assert_eq!(
        again.status,
        200,
        "the V2 link of a row reads that row: {}",
        link.path()
    );
    for missing in [
        "/api/v1/odata/Indicators('nope')",
        "/api/v1/odata/Indicators(name='x')",
        "/api/v1/odata/CommuneValues(indicator='dossiers_total')",
    ] {
        assert_problem(&v4(&app, &analyst, missing, 10).await, 404);
    }
    // A count only when asked, and the page size said back.
    let sorted = v4(
        &app,
        &analyst,
        "/api/v1/odata/Communes?$orderby=code%20desc&$top=2",
        10,
    )
    .await;
    assert_eq!(
        sorted.header("preference-applied"),
        Some("odata.maxpagesize=10")
    );
    assert!(sorted.json().get("@odata.count").is_none());
}

#[actix_web::test]
async fn the_feed_keeps_to_the_callers_scope_and_refuses_what_it_cannot_do() {
    let (app, _) = fixture(4).await;
    let officer = muong_la();
    let (rows, _) = all_pages(
        &app,
        &officer,
        "/api/v1/odata/CommuneValues?period=2026Q1&indicator=dossiers_total",
        50,
    )
    .await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["unit"], "03808");
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    assert_problem(
        &v4(&app, &analyst, "/api/v1/odata/NationalValues", 10).await,
        403,
    );
    assert_problem(
        &v4(
            &app,
            &analyst,
            "/api/v1/odata/ProvinceValues?province=01",
            10,
        )
        .await,
        403,
    );
    let others = v4(
        &app,
        &analyst,
        "/api/v1/odata/Reports?$filter=province%20eq%20'01'",
        10,
    )
    .await;
    assert_problem(&others, 403);
    for bad in [
        "/api/v1/odata/CommuneValues?$filter=nope%20eq%201",
        "/api/v1/odata/CommuneValues?$filter=period%20eq",
        "/api/v1/odata/CommuneValues?$expand=x",
        "/api/v1/odata/CommuneValues?$skiptoken=zzz",
        "/api/v1/odata/CommuneValues?$orderby=value%20sideways",
        "/api/v1/odata/CommuneValues?$top=-1",
        "/api/v1/odata/CommuneValues?$format=xml",
    ] {
        assert_problem(&v4(&app, &analyst, bad, 10).await, 400);
    }
    assert_problem(&v4(&app, &analyst, "/api/v1/odata/Secrets", 10).await, 404);
    // A filter nested thousands deep is a 400, never a crashed server.
    let deep = format!("{}value%20eq%201{}", "(".repeat(2800), ")".repeat(2800));
    assert_problem(
        &v4(
            &app,
            &analyst,
            &format!("/api/v1/odata/Indicators?$filter={deep}"),
            10,
        )
        .await,
        400,
    );
    assert_eq!(app.get("/health").await.status, 200, "still up");
    // An option the feed does not know is refused, not ignored.
    let unknown = assert_problem(
        &v4(
            &app,
            &analyst,
            "/api/v1/odata/Reports?$foo=1&provinc=14",
            10,
        )
        .await,
        400,
    );
    assert_eq!(
        crate::support::error_codes(&unknown),
        [
            ("$foo".to_owned(), "unknown_parameter".to_owned()),
            ("provinc".into(), "unknown_parameter".into())
        ]
    );
    assert_problem(&app.get("/api/v1/odata/Communes").await, 401);
    // A filter that names no real period matches nothing, rather than failing.
    let none = v4(
        &app,
        &analyst,
        "/api/v1/odata/CommuneValues?$filter=period%20eq%20'someday'",
        10,
    )
    .await;
    assert_eq!(none.status, 200);
    assert_eq!(none.json()["value"], serde_json::json!([]));
}
