//! Plans and their tasks: the sample plans transcribed from the seeds import from CSV and xlsx;
//! a commune adopts the province's template, reports progress for two quarters, and the
//! province sees completion, overdue tasks and the compiled difficulties and proposals.

use innoreport_core::Role;
use serde_json::{Value, json};

use crate::docx_reader::Docx;
use crate::support::{TestApp, assert_problem, error_codes, muong_la, son_la_admin, token};

const MUONG_LA_CSV: &str = include_str!("../../crates/service/plans/muong-la-2026.csv");
const DAI_SON_CSV: &str = include_str!("../../crates/service/plans/dai-son-2026.csv");

/// The same table as an xlsx workbook (what people have), written with rust_xlsxwriter.
fn as_xlsx(csv_text: &str) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text.as_bytes());
    for (r, record) in reader.records().enumerate() {
        for (c, cell) in record.unwrap().iter().enumerate() {
            sheet.write_string(r as u32, c as u16, cell).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

fn task<'a>(plan: &'a Value, code: &str) -> &'a Value {
    plan["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == code)
        .unwrap_or_else(|| panic!("no task {code}"))
}

#[actix_web::test]
async fn the_sample_plans_import_from_csv_and_xlsx_as_the_seeds_write_them() {
    let app = TestApp::spawn_at("2026-05-10T03:00:00Z").await;
    let admin = token(Role::Admin, None, None);
    const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    for (unit, csv_text, tasks, sections) in [
        ("03808", MUONG_LA_CSV, 9, 4),
        ("11086", DAI_SON_CSV, 32, 10),
    ] {
        for (media, body, dry_run) in [
            ("text/csv", csv_text.as_bytes().to_vec(), true),
            (XLSX, as_xlsx(csv_text), true),
            ("text/csv", csv_text.as_bytes().to_vec(), false),
        ] {
            let res = app
                .post_bytes(
                    Some(&admin),
                    &format!("/api/v1/plans/commune/{unit}/2026/import?dry_run={dry_run}&title=K%E1%BA%BF%20ho%E1%BA%A1ch"),
                    media,
                    &body,
                )
                .await;
            assert_eq!(res.status, 200, "{unit} {media}: {}", res.text());
            let plan = &res.json()["plan"];
            assert_eq!(
                plan["tasks"].as_array().unwrap().len(),
                tasks,
                "{unit} {media}"
            );
            assert_eq!(plan["sections"].as_array().unwrap().len(), sections);
        }
        // The dry runs stored nothing: the plan is at its first revision.
        let plan = app
            .get_as(&admin, &format!("/api/v1/plans/commune/{unit}/2026"))
            .await;
        assert_eq!(plan.json()["revision"], 1);
    }
    // Three tasks against the seed text.
    let ml = app
        .get_as(&admin, "/api/v1/plans/commune/03808/2026")
        .await
        .json();
    let t = task(&ml, "II.2");
    assert_eq!(t["title"], "Môi trường");
    assert_eq!(
        t["content"],
        "Ứng dụng các mô hình xử lý chất thải sinh hoạt, chất thải chăn nuôi quy mô hộ gia đình, bản, tiểu khu"
    );
    assert_eq!(t["lead"], "Phòng Kinh tế");
    assert_eq!(t["timeframe"], "Năm 2026");
    assert_eq!(
        t["schedule"],
        json!({"kind": "periods", "periods": ["2026"]})
    );
    assert_eq!(task(&ml, "IV.1")["schedule"], json!({"kind": "yearly"}));
    let ds = app
        .get_as(&admin, "/api/v1/plans/commune/11086/2026")
        .await
        .json();
    let t = task(&ds, "X.32");
    assert_eq!(
        t["content"],
        "Đảm bảo an toàn thông tin, an ninh mạng trong các hoạt động khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số."
    );
    assert_eq!(t["lead"], "Công an xã");
    assert_eq!(t["partners"], "Các cơ quan, đơn vị liên quan");
    assert_eq!(t["expected"], "Báo cáo");
    assert_eq!(t["schedule"], json!({"kind": "ongoing"}));
    let t = task(&ds, "III.7");
    assert!(
        t["content"].as_str().unwrap().ends_with(
            "tổ chức tuyên truyền, phổ biến đến cán bộ, công chức và Nhân dân trên địa bàn."
        ),
        "a task continued on the next page is one task"
    );
    assert_eq!(t["timeframe"], "Hằng năm");
}

#[actix_web::test]
async fn a_rejected_annex_lists_every_bad_row_with_its_line_and_stores_nothing() {
    let app = TestApp::spawn_at("2026-05-10T03:00:00Z").await;
    let csv_text = "STT,Nội dung,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Thời gian thực hiện\n\
                    I,THỂ CHẾ,,,,\n\
                    1,Một,Việc một,Phòng Kinh tế,,sớm nhất có thể\n\
                    2,Hai,Việc hai,,,Năm 2026\n\
                    2,Ba,Việc ba,Phòng Kinh tế,,Quý V/2026\n\
                    4,Bốn\n\
                    5,Năm,Việc năm,Phòng Kinh tế,,Quý I/2025\n";
    let res = app
        .post_bytes(
            Some(&muong_la()),
            "/api/v1/plans/commune/03808/2026/import",
            "text/csv",
            csv_text.as_bytes(),
        )
        .await;
    let p = assert_problem(&res, 422);
    let codes = error_codes(&p);
    for want in [
        ("line 3: tasks[0].timeframe", "invalid_timeframe"),
        ("line 4: tasks[1].lead", "required"),
        ("line 5: tasks[2].code", "duplicate"),
        ("line 5: tasks[2].timeframe", "invalid_timeframe"),
        ("line 6: row", "short_row"),
        ("line 7: tasks[3].timeframe", "outside_plan"),
    ] {
        assert!(
            codes.contains(&(want.0.to_owned(), want.1.to_owned())),
            "{want:?} in {codes:?}"
        );
    }
    let res = app
        .get_as(&muong_la(), "/api/v1/plans/commune/03808/2026")
        .await;
    assert_eq!(res.status, 404, "nothing stored");
}

fn template() -> Value {
    json!({
        "title": "Kế hoạch KH, CN và ĐMST năm 2026",
        "sections": [{"code": "I", "title": "THỂ CHẾ"}, {"code": "II", "title": "ỨNG DỤNG"}],
        "tasks": [
            {"code": "I.1", "section": "I", "title": "Triển khai chính sách", "lead": "Phòng Văn hóa - Xã hội", "timeframe": "Quý I/2026"},
            {"code": "I.2", "section": "I", "title": "Rà soát, đề xuất", "lead": "Phòng Văn hóa - Xã hội", "timeframe": "Trước 30/4/2026"},
            {"code": "II.1", "section": "II", "title": "Chuyển đổi số", "lead": "Phòng Kinh tế", "timeframe": "Thường xuyên"}
        ]
    })
}

#[actix_web::test]
async fn a_commune_adopts_the_template_reports_two_quarters_and_the_province_sees_it() {
    let app = TestApp::spawn_at("2026-05-10T03:00:00Z").await;
    let (admin, officer) = (son_la_admin(), muong_la());
    // The province writes and publishes its template; a draft cannot be adopted.
    let res = app
        .put_json(&admin, "/api/v1/plans/province/14/2026", &template())
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let adopt = "/api/v1/plans/commune/03808/2026/adopt";
    assert_eq!(
        app.post_json(Some(&officer), adopt, &json!({}))
            .await
            .status,
        404
    );
    let res = app
        .post_json(
            Some(&admin),
            "/api/v1/plans/province/14/2026/review",
            &json!({"action": "approve"}),
        )
        .await;
    assert_eq!(res.json()["status"], "approved");
    // The commune adopts it: the tasks keep the template's codes.
    let res = app
        .post_json(Some(&officer), adopt, &json!({"base_revision": 0}))
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let plan = res.json();
    assert_eq!(plan["tasks"].as_array().unwrap().len(), 3);
    assert!(
        plan["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["origin"] == "template")
    );

    // 2026Q1 is past its lock: the province opens it, and the commune files it late.
    let res = app
        .post_json(
            Some(&admin),
            "/api/v1/reports/dmst-quarterly/2026Q1/03808/review",
            &json!({"action": "reopen"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let q1 = json!({"dataset": "dmst-quarterly", "period": "2026Q1", "values": {"dossiers_total": 100},
        "tasks": {"I.1": {"status": "not_started"}, "I.2": {"status": "in_progress", "percent": 30}}});
    assert_eq!(app.submit(&officer, &q1).await.status, 201);
    let q2 = json!({"dataset": "dmst-quarterly", "period": "2026Q2", "values": {"dossiers_total": 120},
        "tasks": {
            "I.1": {"status": "in_progress", "percent": 50, "difficulties": "Thiếu kinh phí tổ chức hội nghị"},
            "I.2": {"status": "completed", "percent": 100, "result": "Đã gửi văn bản đề xuất", "proposals": "Đề nghị tỉnh ban hành hướng dẫn"}},
        "texts": {"highlights": "Hoàn thành rà soát", "proposals": "Đề nghị Sở tổ chức tập huấn"}});
    let res = app.submit(&officer, &q2).await;
    assert_eq!(res.status, 201, "{}", res.text());
    assert_eq!(res.json()["tasks"]["I.2"]["status"], "completed");
    // A commune that imports the template's own table keeps the template's tasks (same code,
    // title and content), and a multi-line content keeps its lines.
    let table = "STT,Nội dung,Nhiệm vụ,Cơ quan chủ trì,Cơ quan phối hợp,Thời gian thực hiện\n\
                 I,THỂ CHẾ,,,,\n\
                 1,Triển khai chính sách,Triển khai chính sách,Phòng Văn hóa - Xã hội,,Quý I/2026\n\
                 9,Việc riêng,\"Dòng 1\r\nDòng 2\",UBND xã,,Năm 2026\n";
    let res = app
        .post_bytes(
            Some(&officer),
            "/api/v1/plans/commune/03808/2026/import?dry_run=true",
            "text/csv",
            table,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let dry = res.json();
    assert_eq!(task(&dry["plan"], "I.1")["origin"], "template");
    assert_eq!(task(&dry["plan"], "I.9")["origin"], "own");
    assert_eq!(task(&dry["plan"], "I.9")["content"], "Dòng 1\nDòng 2");

    // A correction of one text is a new revision; the untouched tasks stay.
    let fix = json!({"dataset": "dmst-quarterly", "period": "2026Q2", "base_revision": 1, "values": {},
        "texts": {"proposals": "Đề nghị Sở tổ chức tập huấn về ĐMST"}});
    let res = app.submit(&officer, &fix).await;
    assert_eq!(res.status, 201, "{}", res.text());
    let report = app
        .get_as(&officer, "/api/v1/reports/dmst-quarterly/2026Q2/03808")
        .await
        .json();
    assert_eq!(report["revision"], 2);
    assert_eq!(
        report["texts"]["proposals"],
        "Đề nghị Sở tổ chức tập huấn về ĐMST"
    );
    assert_eq!(report["texts"]["highlights"], "Hoàn thành rà soát");
    assert_eq!(report["tasks"]["I.1"]["percent"], 50);
    // The same again is a harmless retry.
    assert_eq!(app.submit(&officer, &fix).await.status, 200);
    let revisions = app
        .get_as(
            &officer,
            "/api/v1/reports/dmst-quarterly/2026Q2/03808/revisions",
        )
        .await
        .json();
    let second = &revisions["items"][1]["text_changes"];
    assert_eq!(
        second,
        &json!([{"field": "texts.proposals", "old": "Đề nghị Sở tổ chức tập huấn", "new": "Đề nghị Sở tổ chức tập huấn về ĐMST"}])
    );

    // As of the Q2 deadline (end of 5 June in Vietnam): I.1 (Quý I) is 66 days overdue, I.2 done.
    let url = "/api/v1/plans/progress?province=14&period=2026Q2&as_of=2026-06-05T16:59:59Z";
    let p = app.get_as(&admin, url).await.json();
    let ml = p["communes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["commune"] == "03808")
        .unwrap();
    assert_eq!(
        (
            &ml["tasks"],
            &ml["completed"],
            &ml["in_progress"],
            &ml["not_reported"],
            &ml["overdue"]
        ),
        (&json!(3), &json!(1), &json!(1), &json!(1), &json!(1))
    );
    assert!((ml["completion_rate"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(p["communes_with_plan"], 1);
    assert_eq!(p["overdue"].as_array().unwrap().len(), 1);
    let o = &p["overdue"][0];
    assert_eq!(
        (&o["task"], &o["days_overdue"], &o["due"], &o["status"]),
        (
            &json!("I.1"),
            &json!(66),
            &json!("2026-03-31"),
            &json!("in_progress")
        )
    );
    let section = p["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["section"] == "I")
        .unwrap();
    assert_eq!(
        (&section["tasks"], &section["completed"]),
        (&json!(2), &json!(1))
    );
    // As of Q1's end, before the Q2 report: I.2 was in progress, nothing overdue yet.
    let early = app
        .get_as(
            &admin,
            "/api/v1/plans/progress?province=14&period=2026Q1&as_of=2026-03-31T10:00:00Z",
        )
        .await
        .json();
    assert_eq!(early["totals"]["completed"], 0);
    assert_eq!(early["totals"]["overdue"], 0);

    // The same task across communes, and the compiled difficulties and proposals.
    let across = app
        .get_as(&admin, "/api/v1/plans/tasks/I.2?province=14&period=2026Q2")
        .await
        .json();
    assert_eq!(across["items"].as_array().unwrap().len(), 1);
    assert_eq!(across["items"][0]["result"], "Đã gửi văn bản đề xuất");
    let fb = app
        .get_as(&admin, "/api/v1/plans/feedback?province=14&period=2026Q2")
        .await
        .json();
    let items: Vec<(Value, Value, Value)> = fb["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["section"].clone(), i["task"].clone(), i["kind"].clone()))
        .collect();
    assert_eq!(
        items,
        vec![
            (Value::Null, Value::Null, json!("proposal")),
            (json!("I"), json!("I.1"), json!("difficulty")),
            (json!("I"), json!("I.2"), json!("proposal")),
        ]
    );
    assert_eq!(
        fb["items"][0]["text"],
        "Đề nghị Sở tổ chức tập huấn về ĐMST"
    );

    // Exports: the CSV and the workbook carry the JSON's rows.
    let csv_res = app
        .get_as(&admin, &format!("{url}&format=csv&table=overdue"))
        .await;
    assert!(csv_res.content_type().starts_with("text/csv"));
    let text = csv_res.text();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][2], "I.1");
    let xlsx = app.get_as(&admin, &format!("{url}&format=xlsx")).await;
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.body.to_vec())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    assert_eq!(
        range.height(),
        1 + 75,
        "a header and every commune of Sơn La"
    );

    // The dashboard headline carries the plan completion (at its own instant, now).
    let dash = app
        .get_as(&admin, "/api/v1/provinces/14/dashboard?period=2026Q2")
        .await
        .json();
    let pc = &dash["plan_completion"];
    assert_eq!(
        (
            &pc["communes_with_plan"],
            &pc["tasks"],
            &pc["completed"],
            &pc["overdue"]
        ),
        (&json!(1), &json!(3), &json!(1), &json!(1))
    );
    let none = app
        .get_as(&admin, "/api/v1/provinces/14/dashboard?period=2025Q4")
        .await
        .json();
    assert_eq!(none["plan_completion"], Value::Null, "no plan for 2025");

    // The department's report document has the plan sections, with the same figures.
    let doc = Docx::read(
        &app.get_as(&admin, "/api/v1/documents/province/14?period=2026Q2&date=2026-06-10&as_of=2026-06-05T16:59:59Z")
            .await,
    );
    assert!(doc.says("TÌNH HÌNH THỰC HIỆN KẾ HOẠCH, NHIỆM VỤ"));
    let sections = doc.table(&["Nội dung", "Số nhiệm vụ", "Hoàn thành"]);
    assert_eq!(
        sections[1][..4],
        ["I. THỂ CHẾ", "2", "1", "1"].map(String::from)
    );
    assert_eq!(
        sections.last().unwrap()[..3],
        ["Tổng số", "3", "1"].map(String::from)
    );
    let overdue = doc.table(&["STT", "Xã, phường", "Nhiệm vụ"]);
    assert_eq!(overdue.len(), 2);
    assert_eq!(overdue[1][2], "I.1. Triển khai chính sách");
    assert_eq!(overdue[1][5], "66");
    assert!(doc.says("Đề nghị Sở tổ chức tập huấn về ĐMST"));
    assert!(doc.says("Thiếu kinh phí tổ chức hội nghị"));
    // And the commune's own report lists its tasks and its texts.
    let own_doc = Docx::read(
        &app.get_as(&officer, "/api/v1/documents/commune/03808?period=2026Q2&date=2026-06-10&as_of=2026-06-05T16:59:59Z")
            .await,
    );
    let tasks = own_doc.table(&["Mã", "Nhiệm vụ", "Tình trạng"]);
    assert_eq!(tasks.len(), 4);
    assert_eq!(tasks[1][2], "Đang triển khai (quá hạn 66 ngày)");
    assert!(own_doc.says("Hoàn thành rà soát"));

    // Every view also downloads whole from its `.csv` / `.xlsx` path.
    for (path, rows) in [
        ("/api/v1/plans/tasks/I.2.csv?province=14&period=2026Q2", 1),
        ("/api/v1/plans/feedback.csv?province=14&period=2026Q2", 3),
        (
            "/api/v1/plans/progress.csv?province=14&period=2026Q2&table=sections",
            2,
        ),
        ("/api/v1/plans/progress/03808.csv?period=2026Q2", 3),
    ] {
        let res = app.get_as(&admin, path).await;
        assert!(
            res.content_type().starts_with("text/csv"),
            "{path}: {}",
            res.text()
        );
        let text = res.text();
        let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        assert_eq!(reader.records().count(), rows, "{path}");
    }
    let res = app
        .get_as(
            &admin,
            "/api/v1/plans/progress/03808.xlsx?period=2026Q2&lang=vi",
        )
        .await;
    assert_eq!(res.status, 200);
    // The plans list pages like every list.
    let first = app.get_as(&admin, "/api/v1/plans?limit=1").await.json();
    assert_eq!(first["items"][0]["owner"], "commune");
    let cursor = first["next_cursor"].as_str().expect("a second page");
    let second = app
        .get_as(&admin, &format!("/api/v1/plans?limit=1&cursor={cursor}"))
        .await
        .json();
    assert_eq!(second["items"][0]["owner"], "province");
    assert_eq!(second["next_cursor"], Value::Null);

    // The officer sees its own tasks, not the province's table.
    let own = app
        .get_as(
            &officer,
            "/api/v1/plans/progress/03808?period=2026Q2&as_of=2026-06-05T16:59:59Z",
        )
        .await
        .json();
    assert_eq!(own["totals"]["overdue"], 1);
    assert_eq!(app.get_as(&officer, url).await.status, 403);
}

#[actix_web::test]
async fn progress_follows_the_rules_of_values_every_problem_at_once() {
    let app = TestApp::spawn_at("2026-05-10T03:00:00Z").await;
    let (admin, officer) = (son_la_admin(), muong_la());
    let body = json!({"dataset": "dmst-quarterly", "period": "2026Q2", "values": {"dossiers_total": 5},
        "tasks": {"I.1": {"status": "done"}, "Z.9": {"status": "completed", "percent": 80}},
        "texts": {"summary": "x", "proposals": 5}});
    // No plan yet: the task codes cannot be checked.
    let res = app.submit(&officer, &body).await;
    let codes = error_codes(&assert_problem(&res, 422));
    for want in [
        ("tasks.I.1", "invalid_progress"),
        ("tasks.Z.9.percent", "invalid_percent"),
        ("texts.summary", "unknown_text"),
        ("texts.proposals", "invalid_text"),
    ] {
        assert!(
            codes.contains(&(want.0.to_owned(), want.1.to_owned())),
            "{want:?} in {codes:?}"
        );
    }
    // With a plan, an unknown task is named; nothing was stored.
    let res = app
        .put_json(&officer, "/api/v1/plans/commune/03808/2026", &template())
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let body = json!({"dataset": "dmst-quarterly", "period": "2026Q2", "values": {"dossiers_total": 5},
        "tasks": {"Z.9": {"status": "completed"}}});
    let codes = error_codes(&assert_problem(&app.submit(&officer, &body).await, 422));
    assert_eq!(
        codes,
        vec![("tasks.Z.9".to_owned(), "unknown_task".to_owned())]
    );
    assert_eq!(
        app.get_as(&officer, "/api/v1/reports/dmst-quarterly/2026Q2/03808")
            .await
            .status,
        404
    );
    // An approved plan is locked until the province reopens it; edits are revisions.
    let review = "/api/v1/plans/commune/03808/2026/review";
    assert_eq!(
        app.post_json(Some(&officer), review, &json!({"action": "approve"}))
            .await
            .status,
        403
    );
    assert_eq!(
        app.post_json(Some(&admin), review, &json!({"action": "approve"}))
            .await
            .status,
        200
    );
    let mut edited = template();
    edited["tasks"][2]["timeframe"] = json!("Năm 2026");
    let res = app
        .put_json(&officer, "/api/v1/plans/commune/03808/2026", &edited)
        .await;
    assert_problem(&res, 423);
    assert_eq!(
        app.post_json(Some(&admin), review, &json!({"action": "reopen"}))
            .await
            .status,
        200
    );
    edited["base_revision"] = json!(1);
    assert_problem(
        &app.put_json(&officer, "/api/v1/plans/commune/03808/2026", &edited)
            .await,
        409,
    );
    edited["base_revision"] = json!(3);
    assert_eq!(
        app.put_json(&officer, "/api/v1/plans/commune/03808/2026", &edited)
            .await
            .status,
        200
    );
    let revisions = app
        .get_as(&officer, "/api/v1/plans/commune/03808/2026/revisions")
        .await
        .json();
    let actions: Vec<&str> = revisions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["edit", "approve", "reopen", "edit"]);
    assert_eq!(
        revisions["items"][3]["changes"],
        json!([{"task": "II.1", "field": "timeframe", "old": "Thường xuyên", "new": "Năm 2026"}])
    );
    let changes = app
        .get_as(&admin, "/api/v1/changes?province=14")
        .await
        .json();
    assert!(
        changes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["action"] == "plan.approve"),
        "plan edits are in the change log"
    );
    // Overlapping plans of one commune are refused.
    let mut span = template();
    span["last_year"] = json!(2027);
    let res = app
        .put_json(&officer, "/api/v1/plans/commune/03808/2025", &span)
        .await;
    assert_eq!(
        error_codes(&assert_problem(&res, 422)),
        vec![("last_year".to_owned(), "overlaps".to_owned())]
    );
}
