//! What the contract promises a client: every documented query parameter is parsed strictly
//! (a bad value is a 400 naming it, an unknown parameter is refused), and an export carries every
//! row its filters select, whatever the page limit.

use innoreport_core::Role;
use serde_json::json;

use crate::support::{TestApp, assert_problem, token};
use crate::trust::communes_of;

/// A valid value of each query parameter the API documents, by name.
fn valid(name: &str) -> &'static str {
    match name {
        "period" => "2026",
        "year" => "2026",
        "dataset" => "dmst-annual",
        "indicator" | "rank_by" => "dossiers_total",
        "level" => "province",
        "province" => "14",
        "commune" => "03808",
        "limit" => "10",
        "lang" => "vi",
        "format" => "json",
        "status" => "submitted",
        "as_of" => "2026-05-01T00:00:00Z",
        "uncertainty" => "false",
        "draws" => "10",
        "seed" => "7",
        "dry_run" => "true",
        "action" => "targets.set",
        "number" => "125",
        "date" => "2026-05-10",
        "signer" => "Nguyễn Văn A",
        "signer_title" => "GIÁM ĐỐC",
        "recipients" => "Lưu: VT",
        "owner" => "commune",
        "table" => "sections",
        "title" => "Kế hoạch năm 2026",
        "last_year" => "2026",
        "base_revision" => "1",
        "kind" => "reminder",
        "channel" => "email",
        other => panic!("no valid value for the query parameter {other}: add one"),
    }
}

/// A value of a query parameter that must be refused: malformed for a typed parameter, too long
/// for a free text (a name, a title, a recipient: at most 200 characters).
fn bad(name: &str) -> String {
    match name {
        "signer" | "signer_title" | "recipients" => "x".repeat(201),
        "title" => "x".repeat(301),
        _ => "garbage%21".to_owned(),
    }
}

#[actix_web::test]
async fn every_documented_query_parameter_refuses_a_bad_value_naming_it() {
    let app = TestApp::spawn_at("2026-05-10T03:00:00Z").await;
    let admin = token(Role::Admin, None, None);
    let doc = app.get("/api/v1/openapi.json").await.json();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let params: Vec<(&str, bool)> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .filter(|p| p["in"] == "query")
                        .map(|p| {
                            (
                                p["name"].as_str().unwrap(),
                                p["required"].as_bool().unwrap_or(false),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let concrete = path
                .replace("{code}", "14")
                .replace("{dataset}", "dmst-annual")
                .replace("{period}", "2026")
                .replace("{commune}", "03808")
                .replace("{year}", "2026")
                .replace("{owner}", "commune")
                .replace("{entity_set}", "CommuneValues");
            for (name, _) in &params {
                if *name == "cursor" {
                    continue; // checked below: any text is a cursor until decoded
                }
                let mut query: Vec<String> = params
                    .iter()
                    .filter(|(n, required)| *required && n != name)
                    .map(|(n, _)| format!("{n}={}", valid(n)))
                    .collect();
                query.push(format!("{name}={}", bad(name)));
                let url = format!("{concrete}?{}", query.join("&"));
                let res = match method.as_str() {
                    "get" => app.get_as(&admin, &url).await,
                    "post" => {
                        app.request("POST", &url, Some(&admin), Some(&json!({})))
                            .await
                    }
                    _ => continue,
                };
                let p = assert_problem(&res, 400);
                let fields: Vec<&str> = p["errors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["field"].as_str().unwrap())
                    .collect();
                assert!(
                    fields.contains(name),
                    "{method} {url}: the problem names {fields:?}, not {name}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 40, "{checked} parameters checked");
    let p = assert_problem(
        &app.get_as(&admin, "/api/v1/reports?cursor=garbage%21")
            .await,
        400,
    );
    assert_eq!(p["errors"][0]["field"], "cursor");
    // The filters that used to be lenient.
    for bad in ["garbage", "2026q3"] {
        let p = assert_problem(
            &app.get_as(&admin, &format!("/api/v1/reports?period={bad}"))
                .await,
            400,
        );
        assert_eq!(p["errors"][0]["field"], "period");
    }
}

#[actix_web::test]
async fn exports_carry_every_row_the_filters_select_whatever_the_limit() {
    let app = TestApp::spawn_at("2026-12-01T03:00:00Z").await;
    let admin = token(Role::Admin, None, None);
    let provinces = app.get("/api/v1/provinces").await.json();
    let mut communes = Vec::new();
    for p in provinces["items"].as_array().unwrap() {
        communes.extend(communes_of(&app, p["code"].as_str().unwrap()).await);
        if communes.len() > 1100 {
            break;
        }
    }
    communes.truncate(1100);
    let mut csv = String::from("commune,dataset,period,indicator,value,comment\n");
    for (i, c) in communes.iter().enumerate() {
        csv.push_str(&format!(
            "{c},dmst-annual,2026,population,{},=HYPERLINK(\"http://x.example\")\n",
            1000 + i
        ));
    }
    let res = app
        .post_bytes(Some(&admin), "/api/v1/imports.csv", "text/csv", &csv)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(
        res.json()["created"],
        1100,
        "{}",
        &res.text()[..600.min(res.text().len())]
    );
    // JSON pages.
    let mut rows = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/reports?limit=1000&cursor={c}"),
            None => "/api/v1/reports?limit=1000".to_owned(),
        };
        let page = app.get_as(&admin, &path).await.json();
        rows += page["items"].as_array().unwrap().len();
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(rows, 1100);
    // Every export has every row, without paging: both paths and ?format=.
    for path in ["/api/v1/reports.csv", "/api/v1/reports?format=csv"] {
        let text = app.get_as(&admin, path).await.text();
        assert_eq!(
            text.lines().count(),
            1101,
            "{path}: a header and every report"
        );
    }
    let xlsx = app.get_as(&admin, "/api/v1/reports.xlsx?lang=vi").await;
    assert_eq!(xlsx.status, 200);
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(xlsx.body.clone())).expect("a workbook");
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(sheet.get_size().0, 1101);
    assert_eq!(
        sheet.get((1, 5)),
        Some(&Data::String("Đã nộp".into())),
        "a status in Vietnamese"
    );
    assert!(
        matches!(sheet.get((1, 7)), Some(Data::DateTime(_))),
        "an instant is an Excel date-time: {:?}",
        sheet.get((1, 7))
    );
    // The revisions CSV neutralises a comment a spreadsheet would run.
    let revisions = app
        .get_as(
            &admin,
            &format!(
                "/api/v1/reports/dmst-annual/2026/{}/revisions.csv",
                communes[0]
            ),
        )
        .await
        .text();
    assert!(revisions.contains("'=HYPERLINK"), "{revisions}");
    assert!(!revisions.contains(",=HYPERLINK"), "{revisions}");
}
