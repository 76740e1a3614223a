//! The report documents (`/documents/…`): a Word file in the layout of Decree 30/2020, every
//! figure equal to what the API serves for the same unit and period. The documents are read back
//! as a docx reader would: the archive opened, the XML's tables and paragraphs taken apart.

use std::collections::HashMap;

use innoreport_core::Role;
use innoreport_documents::vn;
use serde_json::{Value, json};

use crate::docx_reader::Docx;
use crate::support::{TestApp, assert_problem, at, error_codes, muong_la, token};

/// A figure of the document equals the API's value (as written: rounded to two decimals).
fn same(written: &str, served: &Value, what: &str) {
    let served = served.as_f64();
    assert_eq!(
        written,
        vn::number_or_dash(served),
        "{what}: the document says {written}, the API {served:?}"
    );
}

/// The layout rules of Decree 30/2020 as they appear in the file.
fn assert_layout(d: &Docx) {
    let doc = &d.document;
    assert!(doc.contains(r#"<w:pgSz w:w="11906" w:h="16838""#), "A4");
    // Top and bottom 20 mm, left 30 mm, right 15 mm (in twips: 1 mm = 56.7).
    for (side, lo, hi) in [
        ("top", 20.0, 25.0),
        ("bottom", 20.0, 25.0),
        ("left", 30.0, 35.0),
        ("right", 15.0, 20.0),
    ] {
        let key = format!("w:{side}=\"");
        let pg = &doc[doc.find("<w:pgMar").unwrap()..];
        let v: f64 = pg[pg.find(&key).unwrap() + key.len()..]
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let mm = v / 1440.0 * 25.4;
        assert!(
            (lo - 0.05..=hi + 0.05).contains(&mm),
            "{side} margin {mm} mm"
        );
    }
    assert!(
        d.styles.contains(r#"w:ascii="Times New Roman""#),
        "{}",
        d.styles
    );
    assert!(d.styles.contains(r#"w:hAnsi="Times New Roman""#));
    // The body in 14 pt (28 half-points).
    assert!(d.styles.contains(r#"<w:sz w:val="28" />"#), "{}", d.styles);
    let p = d.paragraphs();
    let at = |s: &str| {
        p.iter()
            .position(|x| x == s)
            .unwrap_or_else(|| panic!("no paragraph {s:?}: {p:?}"))
    };
    let motto = at("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM");
    assert_eq!(p[motto + 1], "Độc lập - Tự do - Hạnh phúc");
    let title = at("BÁO CÁO");
    assert!(p[title + 1].starts_with(
        "Kết quả thực hiện nhiệm vụ khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số"
    ));
    assert!(p.iter().any(|x| x == "Nơi nhận:"));
    assert!(
        doc.contains("<w:titlePg"),
        "no page number on the first page"
    );
}

#[actix_web::test]
async fn the_province_report_of_son_la_from_demo_data_says_what_the_api_serves() {
    let app = crate::support::demo_app(5).await;
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    let (year, quarter) = {
        use chrono::Datelike;
        let today = chrono::Utc::now() + chrono::Duration::hours(7);
        (today.year() - 1, today.month().div_ceil(3))
    };
    // One instant for the document and the API (the deadline passes for both alike).
    let as_of = "2026-12-03T00:00:00Z";
    // (The demo's two years end with the current one: the current quarter has a same quarter a
    // year before.)
    for period in [
        year.to_string(),
        format!("{year}Q4"),
        format!("{year}Q3"),
        format!("{}Q{quarter}", year + 1),
    ] {
        let annual = !period.contains('Q');
        let res = app
            .get_as(
                &analyst,
                &format!("/api/v1/documents/province/14?period={period}&number=125&date=2026-12-05&signer=Nguy%E1%BB%85n%20V%C4%83n%20A&as_of={as_of}"),
            )
            .await;
        assert!(res.header("content-disposition").unwrap().contains(".docx"));
        let d = Docx::read(&res);
        assert_layout(&d);
        assert!(d.says("UBND TỈNH SƠN LA") && d.says("SỞ KHOA HỌC VÀ CÔNG NGHỆ"));
        assert!(d.says("Số: 125/BC-SKHCN"));
        assert!(d.says("Sơn La, ngày 05 tháng 12 năm 2026"));
        assert!(d.says("Nguyễn Văn A"));
        let phrase = if annual {
            format!("năm {year}")
        } else {
            format!(
                "quý {} năm {}",
                ["I", "II", "III", "IV"][period[5..].parse::<usize>().unwrap() - 1],
                &period[..4]
            )
        };
        assert!(
            d.paragraphs()[..12].iter().any(|p| p.ends_with(&phrase)),
            "an {} report: {:?}",
            if annual { "annual" } else { "quarterly" },
            &d.paragraphs()[..12]
        );

        // Compliance: the counts, the late communes with their days, the missing ones.
        let dataset = if annual {
            "dmst-annual"
        } else {
            "dmst-quarterly"
        };
        let c = app
            .get_as(
                &analyst,
                &format!(
                    "/api/v1/compliance?dataset={dataset}&period={period}&province=14&as_of={as_of}"
                ),
            )
            .await
            .json();
        let counts = d.table(&["Tình hình nộp báo cáo"]);
        for (row, key) in counts[1..].iter().zip([
            "expected", "received", "on_time", "late", "missing", "pending",
        ]) {
            same(&row[1], &c[key], &format!("{period} compliance {key}"));
        }
        let communes = c["communes"].as_array().unwrap();
        let late: HashMap<&str, i64> = communes
            .iter()
            .filter(|r| r["status"] == "late")
            .map(|r| {
                (
                    r["name"].as_str().unwrap(),
                    r["days_late"].as_i64().unwrap(),
                )
            })
            .collect();
        if late.is_empty() {
            assert!(
                d.tables()
                    .iter()
                    .all(|t| t[0].get(3).is_none_or(|h| h != "Số ngày quá hạn"))
            );
        } else {
            let listed = d.table(&["TT", "Xã, phường", "Ngày nộp", "Số ngày quá hạn"]);
            assert_eq!(
                listed.len() - 1,
                late.len(),
                "{period}: every late commune, once"
            );
            for r in &listed[1..] {
                assert_eq!(
                    late[r[1].as_str()].to_string(),
                    r[3],
                    "{period} days late of {}",
                    r[1]
                );
            }
        }
        let missing: Vec<&str> = communes
            .iter()
            .filter(|r| r["status"] == "missing")
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        if !missing.is_empty() {
            assert!(d.says(&format!(
                "Các xã, phường chưa nộp báo cáo ({}): {}.",
                missing.len(),
                missing.join(", ")
            )));
        }

        // The headline against the previous period and the targets.
        let dash = app
            .get_as(
                &analyst,
                &format!("/api/v1/provinces/14/dashboard?period={period}"),
            )
            .await
            .json();
        let headline = d.table(&["TT", "Chỉ tiêu", "Đơn vị"]);
        let served = dash["headline"].as_array().unwrap();
        assert_eq!(
            headline.len() - 1,
            served.len(),
            "{period}: one row per headline indicator"
        );
        for (row, h) in headline[1..].iter().zip(served) {
            let what = format!("{period} {}", h["indicator"]);
            assert_eq!(row[1], h["name"].as_str().unwrap());
            same(&row[3], &h["value"], &what);
            same(&row[4], &h["previous"], &what);
            let change = h["change"].as_f64().map_or("-".to_owned(), vn::signed);
            assert_eq!(row[5], change, "{what} change");
            let reporting = format!("{}/{}", h["communes_reporting"], h["communes_expected"]);
            if annual {
                same(
                    &row[6],
                    &json!(h["target_attainment"].as_f64().map(|a| 100.0 * a)),
                    &what,
                );
                assert_eq!(row[7], reporting);
            } else {
                // The same quarter a year before, as /aggregates serves the province.
                let last_year = period[..4].parse::<i32>().unwrap() - 1;
                let before = format!("{last_year}Q{}", &period[5..]);
                assert_eq!(headline[0][6], format!("Cùng kỳ năm {last_year}"));
                let agg = app
                    .get_as(
                        &analyst,
                        &format!(
                            "/api/v1/aggregates?indicator={}&period={before}&level=province&province=14",
                            h["indicator"].as_str().unwrap()
                        ),
                    )
                    .await
                    .json();
                same(
                    &row[6],
                    &agg["items"][0]["value"],
                    &format!("{what} {before}"),
                );
                assert_eq!(row[7], reporting);
            }
        }

        // Annex I: every commune's figures, as /aggregates serves them.
        let annex = d.tables_headed("TT", "Xã, phường");
        let mut compared = 0;
        for table in annex.iter().filter(|t| t[0][2] != "Ngày nộp") {
            for (col, header) in table[0].iter().enumerate().skip(2) {
                let h = served
                    .iter()
                    .find(|h| header.starts_with(h["name"].as_str().unwrap()))
                    .unwrap();
                let agg = app
                    .get_as(&analyst, &format!("/api/v1/aggregates?indicator={}&period={period}&level=commune&province=14", h["indicator"].as_str().unwrap()))
                    .await
                    .json();
                let by_name: HashMap<&str, &Value> = agg["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| (r["name"].as_str().unwrap(), &r["value"]))
                    .collect();
                assert_eq!(
                    table.len() - 1,
                    by_name.len(),
                    "every commune of the province"
                );
                for row in &table[1..] {
                    same(
                        &row[col],
                        by_name[row[1].as_str()],
                        &format!("{period} {} of {}", h["indicator"], row[1]),
                    );
                    compared += 1;
                }
            }
        }
        assert_eq!(
            compared,
            75 * served.len(),
            "{period}: every commune × every headline indicator"
        );

        // Annex II: the communes' index ranks.
        let index = app
            .get_as(
                &analyst,
                &format!("/api/v1/index?period={period}&level=commune&province=14"),
            )
            .await
            .json();
        let ranks = d.table(&["Xếp hạng", "Xã, phường", "Điểm"]);
        let by_name: HashMap<&str, &Value> = index["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["name"].as_str().unwrap(), r))
            .collect();
        assert_eq!(ranks.len() - 1, by_name.len());
        for row in &ranks[1..] {
            let r = by_name[row[1].as_str()];
            assert_eq!(
                row[0],
                r["rank"].as_u64().map_or("-".to_owned(), |n| n.to_string())
            );
            same(
                &row[2],
                &r["score"],
                &format!("{period} score of {}", row[1]),
            );
        }
    }
}

#[actix_web::test]
async fn a_commune_report_carries_its_figures_its_targets_and_whether_it_was_on_time() {
    let app = TestApp::spawn_at("2025-09-01T03:00:00Z").await;
    let officer = muong_la();
    let q = |period: &str, values: Value| json!({"commune": "03808", "dataset": "dmst-quarterly", "period": period, "values": values});
    for (period, total, online, ocop, now) in [
        ("2025Q3", 200, 120, 2, "2025-09-01T03:00:00Z"),
        ("2025Q4", 260, 200, 3, "2025-11-20T03:00:00Z"),
    ] {
        app.clock.set(at(now));
        let res = app
            .submit(&officer, &q(period, json!({"dossiers_total": total, "dossiers_online_full": online, "ocop_4star": ocop, "staff_total": 30, "staff_trained": 12})))
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let res = app
        .put_json(
            &crate::support::son_la_admin(),
            "/api/v1/targets/2025/03808",
            &json!({"values": {"dossiers_total": 1000, "online_dossier_rate": 80}}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    // After the annual deadline (5 December), with no annual report: missing.
    app.clock.set(at("2025-12-20T03:00:00Z"));

    let quarter = Docx::read(
        &app.get_as(
            &officer,
            "/api/v1/documents/commune/03808?period=2025Q4&date=2026-01-05",
        )
        .await,
    );
    assert_layout(&quarter);
    assert!(quarter.says("ỦY BAN NHÂN DÂN") && quarter.says("XÃ MƯỜNG LA"));
    assert!(quarter.says("Mường La, ngày 05 tháng 01 năm 2026"));
    assert!(quarter.says("TM. ỦY BAN NHÂN DÂN") && quarter.says("CHỦ TỊCH"));
    assert!(
        quarter
            .paragraphs()
            .iter()
            .any(|p| p.starts_with("Số:") && p.ends_with("/BC-UBND")),
        "a number left blank"
    );
    assert!(quarter.says("Báo cáo của xã Mường La: đã nộp ngày 20/11/2025, đúng hạn."));
    let rows = quarter.table(&[
        "TT",
        "Chỉ tiêu",
        "Đơn vị",
        "Quý IV năm 2025",
        "Quý III năm 2025",
        "Tăng, giảm",
    ]);
    let catalog = app.get("/api/v1/indicators").await.json();
    let name_of: HashMap<&str, &str> = catalog["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap(), i["code"].as_str().unwrap()))
        .collect();
    let value = async |indicator: &str, period: &str| {
        app.get_as(
            &officer,
            &format!("/api/v1/aggregates?indicator={indicator}&period={period}&level=commune"),
        )
        .await
        .json()["items"][0]["value"]
            .clone()
    };
    for row in &rows[1..] {
        let code = name_of[row[1].as_str()];
        same(&row[3], &value(code, "2025Q4").await, code);
        same(&row[4], &value(code, "2025Q3").await, code);
    }
    let row = |rows: &[Vec<String>], code: &str| {
        rows.iter()
            .find(|r| name_of.get(r[1].as_str()) == Some(&code))
            .unwrap()
            .clone()
    };
    assert_eq!(row(&rows, "dossiers_total")[3..6], ["260", "200", "+60"]);
    assert_eq!(
        row(&rows, "online_dossier_rate")[3],
        "76,92",
        "100 × 200 / 260"
    );

    let year = Docx::read(&app.get_as(&officer, "/api/v1/documents/commune/03808?period=2025&number=07&signer_title=PH%C3%93%20CH%E1%BB%A6%20T%E1%BB%8ACH&recipients=S%E1%BB%9F%20KH%26CN%20t%E1%BB%89nh%20S%C6%A1n%20La;L%C6%B0u:%20VT").await);
    assert_layout(&year);
    assert!(year.says("Số: 07/BC-UBND") && year.says("PHÓ CHỦ TỊCH"));
    assert!(year.says("- Sở KH&CN tỉnh Sơn La;") && year.says("- Lưu: VT."));
    assert!(year.says("Báo cáo của xã Mường La: chưa nộp (đã quá hạn)."));
    let rows = year.table(&[
        "TT",
        "Chỉ tiêu",
        "Đơn vị",
        "Năm 2025",
        "Năm 2024",
        "Tăng, giảm",
        "Kế hoạch năm",
        "Tỷ lệ đạt (%)",
    ]);
    let targets = app
        .get_as(&officer, "/api/v1/targets?year=2025")
        .await
        .json();
    for t in targets["items"].as_array().unwrap() {
        let r = row(&rows, t["indicator"].as_str().unwrap());
        same(&r[3], &t["actual"], "actual");
        same(&r[6], &t["target"], "target");
        same(
            &r[7],
            &json!(t["attainment"].as_f64().map(|a| 100.0 * a)),
            "attainment",
        );
    }
    // A flow sums its quarters; the attainment is actual ÷ target.
    assert_eq!(
        row(&rows, "dossiers_total")[3..8],
        ["460", "-", "-", "1.000", "46"]
    );
}

#[actix_web::test]
async fn documents_follow_the_scope_rules_and_list_every_problem_of_a_request() {
    let app = TestApp::spawn_at("2026-05-10T03:00:00Z").await;
    let officer = muong_la();
    // A commune officer: their own commune's report, never the province's or a neighbour's.
    let own = app
        .get_as(&officer, "/api/v1/documents/commune/03808?period=2026Q1")
        .await;
    assert_eq!(own.status, 200);
    assert_problem(
        &app.get_as(&officer, "/api/v1/documents/province/14?period=2026Q1")
            .await,
        403,
    );
    let neighbour = app.get("/api/v1/provinces/14/communes").await.json()["items"][1]["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_problem(
        &app.get_as(
            &officer,
            &format!("/api/v1/documents/commune/{neighbour}?period=2026Q1"),
        )
        .await,
        403,
    );
    // A province role: its own province and communes, not another province's.
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    assert_eq!(
        app.get_as(
            &analyst,
            &format!("/api/v1/documents/commune/{neighbour}?period=2026Q1")
        )
        .await
        .status,
        200
    );
    assert_problem(
        &app.get_as(&analyst, "/api/v1/documents/province/01?period=2026Q1")
            .await,
        403,
    );
    let admin = token(Role::Admin, None, None);
    assert_problem(
        &app.get_as(&admin, "/api/v1/documents/province/99?period=2026Q1")
            .await,
        404,
    );
    assert_problem(
        &app.get("/api/v1/documents/province/14?period=2026Q1").await,
        401,
    );
    // Every problem at once; a report covers a quarter or a year.
    let p = assert_problem(
        &app.get_as(
            &admin,
            &format!(
                "/api/v1/documents/province/14?period=2026S1&number=12a&signer=%20&recipients={}",
                "x".repeat(201)
            ),
        )
        .await,
        400,
    );
    let codes = error_codes(&p);
    for (field, code) in [
        ("period", "wrong_period_type"),
        ("number", "invalid_number"),
        ("signer", "empty"),
        ("recipients", "too_long"),
    ] {
        assert!(
            codes.contains(&(field.to_owned(), code.to_owned())),
            "{codes:?}"
        );
    }
    let p = assert_problem(
        &app.get_as(&admin, "/api/v1/documents/commune/03808?period=202603")
            .await,
        400,
    );
    assert_eq!(error_codes(&p)[0].0, "period");
    assert_problem(
        &app.get_as(&admin, "/api/v1/documents/commune/03808").await,
        400,
    );
    // A period that has not begun, a date before the period, a character no document can carry
    // (U+FFFE would make the file unreadable) or that disguises a name (a right-to-left override).
    let p = assert_problem(
        &app.get_as(
            &admin,
            "/api/v1/documents/commune/03808?period=2026Q3&date=2026-05-01&signer=a%EF%BF%BEb&signer_title=%E2%80%AEC",
        )
        .await,
        400,
    );
    let codes = error_codes(&p);
    for (field, code) in [
        ("period", "future_period"),
        ("date", "before_period"),
        ("signer", "invalid_character"),
        ("signer_title", "invalid_character"),
    ] {
        assert!(
            codes.contains(&(field.to_owned(), code.to_owned())),
            "{codes:?}"
        );
    }
    let p = assert_problem(
        &app.put_json(
            &admin,
            "/api/v1/documents/province/14/settings",
            &json!({"signer": "a\u{FFFF}"}),
        )
        .await,
        422,
    );
    assert_eq!(
        error_codes(&p),
        [("signer".to_owned(), "invalid_character".to_owned())]
    );
}

#[actix_web::test]
async fn saved_settings_sign_and_address_the_documents_unless_the_request_says_otherwise() {
    let app = TestApp::spawn_at("2026-05-10T03:00:00Z").await;
    let admin = crate::support::son_la_admin();
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    let path = "/api/v1/documents/province/14/settings";
    let empty = app.get_as(&analyst, path).await.json();
    assert_eq!(empty["signer"], Value::Null);
    assert_eq!(empty["updated_by"], Value::Null);

    // Every problem at once, nothing saved.
    let bad = json!({"signer": "", "recipients": ["x".repeat(201), "ok"], "signer_title": "GIÁM\u{7}ĐỐC"});
    let p = assert_problem(&app.put_json(&admin, path, &bad).await, 422);
    let codes = error_codes(&p);
    assert_eq!(codes.len(), 3, "{codes:?}");
    assert_problem(
        &app.put_json(&admin, path, &json!({"signer": "A", "nope": 1}))
            .await,
        400,
    );
    assert_eq!(
        app.get_as(&analyst, path).await.json()["signer"],
        Value::Null
    );
    // An analyst reads them but may not change them.
    assert_problem(
        &app.put_json(&analyst, path, &json!({"signer": "B"})).await,
        403,
    );

    let saved = json!({
        "signer": "Trần Thị B",
        "signer_title": "PHÓ GIÁM ĐỐC",
        "recipients": ["UBND tỉnh Sơn La (để báo cáo)", "- Bộ KH&CN;", " Lưu: VT, QLKH."],
    });
    let res = app.put_json(&admin, path, &saved).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let got = app.get_as(&analyst, path).await.json();
    // Saved as the list shows them: the dash and the end marks are the list's own.
    assert_eq!(
        got["recipients"],
        json!(["UBND tỉnh Sơn La (để báo cáo)", "Bộ KH&CN", "Lưu: VT, QLKH"])
    );
    assert_eq!(got["updated_by"], "province_admin-14");

    let d = Docx::read(
        &app.get_as(&analyst, "/api/v1/documents/province/14?period=2026Q1")
            .await,
    );
    assert!(d.says("Trần Thị B") && d.says("PHÓ GIÁM ĐỐC"));
    assert!(d.says("- Bộ KH&CN;") && d.says("- Lưu: VT, QLKH."));
    assert!(d.says("- UBND tỉnh Sơn La (để báo cáo);"));
    assert!(
        !d.says("UBND các xã, phường"),
        "the saved recipients replace the default ones"
    );
    // A deputy signs on behalf of the head (Decree 30/2020: "KT. GIÁM ĐỐC").
    let p = d.paragraphs();
    let title = p.iter().position(|x| x == "PHÓ GIÁM ĐỐC").unwrap();
    assert_eq!(p[title - 1], "KT. GIÁM ĐỐC");
    // The request's own parameters win.
    let d = Docx::read(
        &app.get_as(
            &analyst,
            "/api/v1/documents/province/14?period=2026Q1&signer=L%C3%AA%20V%C4%83n%20C",
        )
        .await,
    );
    assert!(d.says("Lê Văn C") && !d.says("Trần Thị B") && d.says("PHÓ GIÁM ĐỐC"));

    // A commune's officer saves its own; the change log shows old → new.
    let officer = muong_la();
    let res = app
        .put_json(
            &officer,
            "/api/v1/documents/commune/03808/settings",
            &json!({"signer": "Lò Văn D"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let d = Docx::read(
        &app.get_as(&officer, "/api/v1/documents/commune/03808?period=2026Q1")
            .await,
    );
    assert!(d.says("Lò Văn D") && d.says("CHỦ TỊCH"));
    let changes = app
        .get_as(&admin, "/api/v1/changes?action=documents.settings")
        .await
        .json();
    let items = changes["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{changes}");
    let province = items.iter().find(|c| c["subject"] == "14").unwrap();
    assert_eq!(province["detail"]["old"], Value::Null);
    assert_eq!(province["detail"]["new"]["signer"], "Trần Thị B");
}
