//! The province report of the Department of Science and Technology: compliance with the lists of
//! late and missing communes, the headline indicators against the previous period and the
//! targets, the innovation index, and annexes with every commune's figures and index rank.

use innoreport_core::{Action, Period, PeriodType, Principal, Target};
use innoreport_documents::{Annex, Block, Column, Document, Table, vn};

use super::{
    DocumentOptions, SUBJECT, deadline_sentence, number_line, percent, period_phrase, signer_block,
    with_type, without_type,
};
use crate::analysis::{AggregateQuery, ComplianceStatus, Level, aggregates, compliance_of};
use crate::dashboard::{Dashboard, dashboard};
use crate::{Service, ServiceError, View};

/// How many indicators one annex table holds side by side (the page is portrait).
const ANNEX_COLUMNS: usize = 4;

/// "Quý IV năm 2026", "Năm 2026": a column header (it wraps between the quarter and the year).
pub(super) fn period_label(period: Period) -> String {
    match period {
        // "Quý IV" holds together (a no-break space): a narrow column wraps after it.
        Period::Quarter(y, q) => format!("Quý\u{a0}{} năm {y}", vn::roman(q.into())),
        Period::Year(y) => format!("Năm {y}"),
        other => other.to_string(),
    }
}

/// Numbered level-one headings: "I. …", "II. …".
pub(super) struct Sections(u32);

impl Sections {
    pub(super) fn new() -> Sections {
        Sections(0)
    }

    pub(super) fn next(&mut self, title: &str) -> Block {
        self.0 += 1;
        Block::Heading {
            level: 1,
            text: format!("{}. {title}", vn::roman(self.0)),
        }
    }
}

fn compliance_blocks(
    view: &View,
    who: &Principal,
    code: &str,
    period: Period,
    as_of: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Block>, ServiceError> {
    let mut out = Vec::new();
    let datasets: Vec<_> = view
        .catalog
        .datasets
        .iter()
        .filter(|d| d.period_type == period.kind())
        .collect();
    for (i, d) in datasets.iter().enumerate() {
        let c = compliance_of(view, who, d.code.as_str(), period, Some(code), as_of)?;
        if datasets.len() > 1 {
            out.push(Block::Heading {
                level: 2,
                text: format!("{}. {}", i + 1, d.name_vi),
            });
        }
        out.push(Block::Paragraph(deadline_sentence(&c, &d.name_vi, period)));
        let t = &c.total;
        let row =
            |label: &str, n: u32| vec![label.to_owned(), n.to_string(), percent(n, t.expected)];
        out.push(Block::Table(Table {
            columns: vec![
                Column::text("Tình hình nộp báo cáo", 5),
                Column::number("Số xã, phường", 2),
                Column::number("Tỷ lệ (%)", 2),
            ],
            rows: vec![
                row("Phải báo cáo", t.expected),
                row("Đã nộp", t.received),
                row("- Đúng hạn", t.on_time),
                row("- Quá hạn", t.late),
                row("Chưa nộp, đã quá hạn", t.missing),
                row("Chưa nộp, chưa đến hạn", t.pending),
            ],
        }));
        let mut late: Vec<_> = c
            .communes
            .iter()
            .filter(|r| r.status == ComplianceStatus::Late)
            .collect();
        late.sort_by(|a, b| {
            b.days_late
                .cmp(&a.days_late)
                .then(a.commune.cmp(&b.commune))
        });
        if !late.is_empty() {
            out.push(Block::Paragraph(format!(
                "Các xã, phường nộp báo cáo quá hạn ({}):",
                late.len()
            )));
            out.push(Block::Table(Table {
                columns: vec![
                    Column::number("TT", 2),
                    Column::text("Xã, phường", 10),
                    Column::text("Ngày nộp", 6),
                    Column::number("Số ngày quá hạn", 5),
                ],
                rows: late
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        vec![
                            (i + 1).to_string(),
                            r.name.clone(),
                            r.first_received_at
                                .map(|t| {
                                    vn::short_date(
                                        t.with_timezone(&innoreport_core::period::vietnam_offset())
                                            .date_naive(),
                                    )
                                })
                                .unwrap_or_default(),
                            r.days_late.unwrap_or(0).to_string(),
                        ]
                    })
                    .collect(),
            }));
        }
        let missing: Vec<&str> = c
            .communes
            .iter()
            .filter(|r| r.status == ComplianceStatus::Missing)
            .map(|r| r.name.as_str())
            .collect();
        if !missing.is_empty() {
            out.push(Block::Paragraph(format!(
                "Các xã, phường chưa nộp báo cáo ({}): {}.",
                missing.len(),
                missing.join(", ")
            )));
        }
    }
    Ok(out)
}

/// A period and the province's value of each headline indicator in it.
type HeadlineValues = (Period, Vec<Option<f64>>);

/// The province's value of each headline indicator in the same quarter a year before (what
/// `/aggregates?level=province` serves), for a quarterly report.
fn same_quarter_last_year(
    view: &View,
    who: &Principal,
    code: &str,
    period: Period,
    dash: &Dashboard,
) -> Result<Option<HeadlineValues>, ServiceError> {
    let Some(before) = period
        .same_period_previous_year()
        .filter(|_| period.kind() == PeriodType::Quarter)
    else {
        return Ok(None);
    };
    let mut values = Vec::new();
    for h in &dash.headline {
        let a = aggregates(
            view,
            who,
            &AggregateQuery {
                indicator: h.indicator.clone(),
                period: before,
                level: Level::Province,
                province: Some(code.to_owned()),
            },
        )?;
        values.push(a.rows.first().and_then(|r| r.value));
    }
    Ok(Some((before, values)))
}

fn headline_table(dash: &Dashboard, period: Period, last_year: Option<HeadlineValues>) -> Table {
    let year = period.kind() == PeriodType::Year;
    let previous = period
        .previous()
        .map_or_else(|| "Kỳ trước".to_owned(), period_label);
    let mut columns = vec![
        Column::number("TT", 2),
        Column::text("Chỉ tiêu", 9),
        Column::text("Đơn vị", 3),
        Column::number(period_label(period), 3),
        Column::number(previous, 3),
        Column::number("Tăng, giảm", 3),
    ];
    if let Some((before, _)) = &last_year {
        columns.push(Column::number(format!("Cùng kỳ năm {}", before.year()), 3));
    }
    if year {
        columns.push(Column::number("Tỷ lệ đạt kế hoạch (%)", 3));
    }
    columns.push(Column::number("Số xã có số liệu", 3));
    let rows = dash
        .headline
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let mut row = vec![
                (i + 1).to_string(),
                h.name.clone(),
                h.unit.clone(),
                vn::number_or_dash(h.value),
                vn::number_or_dash(h.previous),
                h.change.map_or_else(|| "-".to_owned(), vn::signed),
            ];
            if let Some((_, values)) = &last_year {
                row.push(vn::number_or_dash(values.get(i).copied().flatten()));
            }
            if year {
                row.push(vn::number_or_dash(h.target_attainment.map(|a| 100.0 * a)));
            }
            row.push(format!("{}/{}", h.communes_reporting, h.communes_expected));
            row
        })
        .collect();
    Table { columns, rows }
}

/// "tỉnh" or "thành phố", for a sentence about the province.
fn unit_word(full_name: &str) -> &'static str {
    if full_name.to_lowercase().starts_with("thành phố") {
        "thành phố"
    } else {
        "tỉnh"
    }
}

fn index_paragraph(dash: &Dashboard, period: Period, unit: &str) -> String {
    let mut text = match (dash.index_score, dash.index_rank) {
        (Some(score), Some(rank)) => format!(
            "Chỉ số đổi mới sáng tạo {} của {unit} đạt {} điểm, xếp thứ {}/{} tỉnh, thành phố có đủ số liệu.",
            period_phrase(period),
            vn::number(score),
            rank,
            dash.provinces_ranked
        ),
        // The provinces' index compares provinces: with none scored, there is nothing to
        // compare yet (too few provinces report, or their values do not differ).
        _ if dash.provinces_ranked == 0 => format!(
            "Chỉ số đổi mới sáng tạo cấp tỉnh {} chưa tính được: chưa có đủ số liệu của các tỉnh, thành phố để so sánh.",
            period_phrase(period)
        ),
        _ => format!(
            "Chỉ số đổi mới sáng tạo {} của {unit} chưa tính được do {unit} chưa có số liệu của ít nhất 2/3 số chỉ tiêu của bộ chỉ số.",
            period_phrase(period)
        ),
    };
    let ranked: Vec<_> = ranked_communes(dash);
    let scored = ranked.iter().filter(|c| c.rank.is_some()).count();
    if scored > 0 {
        let leaders: Vec<String> = ranked
            .iter()
            .take(3)
            .filter(|c| c.score.is_some())
            .map(|c| format!("{} ({} điểm)", c.name, vn::number_or_dash(c.score)))
            .collect();
        text.push_str(&format!(
            " Trong {unit}, {scored}/{} xã, phường có đủ số liệu để xếp hạng (số liệu của ít nhất 2/3 số chỉ tiêu của bộ chỉ số); dẫn đầu là {}. Xếp hạng chi tiết tại Phụ lục II.",
            dash.commune_index.len(),
            leaders.join(", ")
        ));
    }
    text
}

/// Communes by rank, the unranked after them by code.
fn ranked_communes(dash: &Dashboard) -> Vec<crate::dashboard::CommuneIndexRank> {
    let mut list = dash.commune_index.clone();
    list.sort_by(|a, b| {
        (a.rank.is_none(), a.rank, &a.commune).cmp(&(b.rank.is_none(), b.rank, &b.commune))
    });
    list
}

/// Every commune's headline figures, a few indicators per table.
fn figures_annex(
    view: &View,
    who: &Principal,
    code: &str,
    period: Period,
    dash: &Dashboard,
) -> Result<Vec<Block>, ServiceError> {
    let communes: Vec<_> = view.reference.communes_of(code).collect();
    let indicators: Vec<&str> = dash.headline.iter().map(|h| h.indicator.as_str()).collect();
    let mut out = Vec::new();
    for (n, chunk) in indicators.chunks(ANNEX_COLUMNS).enumerate() {
        if n > 0 {
            out.push(Block::Paragraph("(tiếp theo)".into()));
        }
        let mut columns = vec![Column::number("TT", 2), Column::text("Xã, phường", 8)];
        let mut values = Vec::new();
        for i in chunk {
            let a = aggregates(
                view,
                who,
                &AggregateQuery {
                    indicator: (*i).to_owned(),
                    period,
                    level: Level::Commune,
                    province: Some(code.to_owned()),
                },
            )?;
            columns.push(Column::number(
                format!("{} ({})", a.indicator.name_vi, a.indicator.unit_vi),
                6,
            ));
            values.push(
                a.rows
                    .into_iter()
                    .map(|r| (r.unit, r.value))
                    .collect::<std::collections::HashMap<_, _>>(),
            );
        }
        let rows = communes
            .iter()
            .enumerate()
            .map(|(n, c)| {
                let mut row = vec![(n + 1).to_string(), c.name_vi.clone()];
                row.extend(
                    values
                        .iter()
                        .map(|v| vn::number_or_dash(v.get(&c.code).copied().flatten())),
                );
                row
            })
            .collect();
        out.push(Block::Table(Table { columns, rows }));
    }
    Ok(out)
}

impl Service {
    /// The department's report on province `code` for a quarter or a year.
    pub fn province_document(
        &self,
        who: &Principal,
        code: &str,
        period: Period,
        options: &DocumentOptions,
    ) -> Result<Document, ServiceError> {
        let options = &options.tidied();
        options.check(period, self.now())?;
        // The report lists communes one by one: province roles and above.
        who.require(Action::Read, Target::Communes(code))?;
        let mut conn = self.conn()?;
        let saved = innoreport_store::documents::get_settings(&mut conn, code)?;
        let options = &options.with_saved(saved);
        let view = self.view_on(&mut conn)?;
        let province = view
            .reference
            .province(code)
            .ok_or_else(|| {
                ServiceError::not_found(format!("There is no province with code {code:?}."))
            })?
            .province
            .clone();
        let targets = if period.kind() == PeriodType::Year {
            innoreport_store::targets::list_targets(&mut conn, period.year(), Some(code), None)?
        } else {
            Vec::new()
        };
        drop(conn);
        let dash = dashboard(self, &view, who, code, period, None, &targets)?;
        let as_of = options.as_of.unwrap_or(view.now);
        let date = options.date_or_today(view.now);
        let full_name = with_type(&province.name_vi, &province.division_type);
        let place = without_type(&province.name_vi);
        let department = format!("Sở Khoa học và Công nghệ {}", lower_first(&full_name));
        let number = number_line(options.number.as_deref(), "SKHCN");
        let excerpt = format!(
            "Kết quả thực hiện nhiệm vụ {SUBJECT} {}",
            period_phrase(period)
        );

        let mut s = Sections::new();
        let mut body = vec![Block::Paragraph(format!(
            "Thực hiện chế độ báo cáo định kỳ về {SUBJECT}, {department} báo cáo kết quả {} trên địa bàn {} từ số liệu các xã, phường báo cáo trực tuyến (số liệu tổng hợp đến {}) như sau:",
            period_phrase(period),
            lower_first(&full_name),
            super::instant(view.now),
        ))];
        body.push(s.next("TÌNH HÌNH BÁO CÁO CỦA CÁC XÃ, PHƯỜNG"));
        body.extend(compliance_blocks(&view, who, code, period, as_of)?);
        body.push(s.next("KẾT QUẢ CÁC CHỈ TIÊU CHỦ YẾU"));
        body.push(Block::Paragraph(format!(
            "Số liệu tổng hợp của {} {} so với {}{}; số liệu từng xã, phường tại Phụ lục I.{}",
            unit_word(&full_name),
            period_phrase(period),
            match (period.previous(), period.same_period_previous_year()) {
                (Some(p), Some(y)) if period.kind() == PeriodType::Quarter =>
                    format!("{} và cùng kỳ {}", period_phrase(p), period_phrase(y)),
                (p, _) => p.map_or_else(|| "kỳ trước".to_owned(), period_phrase),
            },
            if period.kind() == PeriodType::Year {
                " và với kế hoạch năm (tỷ lệ đạt: tổng thực hiện trên tổng kế hoạch của các xã có cả hai số liệu)"
            } else {
                ""
            },
            if period.kind() == PeriodType::Year {
                " Số liệu năm được tổng hợp từ các báo cáo quý và báo cáo năm theo quy tắc của từng chỉ tiêu (chỉ tiêu lũy kế cộng các quý, chỉ tiêu thời điểm lấy quý cuối có số liệu)."
            } else {
                ""
            }
        )));
        let last_year = same_quarter_last_year(&view, who, code, period, &dash)?;
        body.push(Block::Table(headline_table(&dash, period, last_year)));
        body.push(s.next("CHỈ SỐ ĐỔI MỚI SÁNG TẠO"));
        body.push(Block::Paragraph(index_paragraph(
            &dash,
            period,
            unit_word(&full_name),
        )));
        body.extend(self.province_plan_blocks(who, code, period, as_of, &mut s)?);
        body.push(Block::Paragraph(format!(
            "Trên đây là báo cáo kết quả thực hiện nhiệm vụ {SUBJECT} {} của {department}./.",
            period_phrase(period)
        )));

        let reference = format!(
            "(Kèm theo Báo cáo số {}/BC-SKHCN {} của {department})",
            options
                .number
                .as_deref()
                .map_or_else(|| "\u{a0}".repeat(6), |n| n.trim().to_owned()),
            vn::date(date)
        );
        let ranks = ranked_communes(&dash);
        let annexes = vec![
            Annex {
                label: "Phụ lục I".into(),
                title: format!(
                    "SỐ LIỆU CÁC CHỈ TIÊU CHỦ YẾU CỦA CÁC XÃ, PHƯỜNG {}",
                    period_phrase(period).to_uppercase()
                ),
                subtitle: reference.clone(),
                body: figures_annex(&view, who, code, period, &dash)?,
            },
            Annex {
                label: "Phụ lục II".into(),
                title: format!(
                    "XẾP HẠNG CHỈ SỐ ĐỔI MỚI SÁNG TẠO CỦA CÁC XÃ, PHƯỜNG {}",
                    period_phrase(period).to_uppercase()
                ),
                subtitle: reference,
                body: vec![Block::Table(Table {
                    columns: vec![
                        Column::number("Xếp hạng", 3),
                        Column::text("Xã, phường", 10),
                        Column::number("Điểm", 4),
                    ],
                    rows: ranks
                        .iter()
                        .map(|c| {
                            vec![
                                c.rank.map_or_else(|| "-".to_owned(), |r| r.to_string()),
                                c.name.clone(),
                                vn::number_or_dash(c.score),
                            ]
                        })
                        .collect(),
                })],
            },
        ];
        Ok(Document {
            authority: Some(format!("UBND {}", full_name.to_uppercase())),
            issuer: "SỞ KHOA HỌC VÀ CÔNG NGHỆ".into(),
            number,
            place_date: format!("{place}, {}", vn::date(date)),
            kind: "BÁO CÁO".into(),
            excerpt,
            body,
            recipients: options.recipients.clone().unwrap_or_else(|| {
                vec![
                    format!("UBND {} (để báo cáo)", lower_first(&full_name)),
                    "Bộ Khoa học và Công nghệ (để báo cáo)".into(),
                    "UBND các xã, phường".into(),
                    "Lưu: VT".into(),
                ]
            }),
            signer: signer_block(
                None,
                options.signer_title.as_deref(),
                "GIÁM ĐỐC",
                options.signer.as_deref(),
            ),
            annexes,
            created: Some(view.now),
        })
    }
}

/// "tỉnh Sơn La" from "Tỉnh Sơn La" (inside a sentence).
pub(super) fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}
