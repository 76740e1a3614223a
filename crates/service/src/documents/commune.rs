//! The commune's report to the Department: whether its reports were in on time, and its figures
//! against the previous period and its targets of the year.

use innoreport_aggregate::{cells, check_period as has_values};
use innoreport_core::{Action, Period, PeriodType, Principal};
use innoreport_documents::{Block, Column, Document, Table, vn};

use super::province::{Sections, lower_first, period_label};
use super::{
    DocumentOptions, SUBJECT, deadline_sentence, number_line, period_phrase, with_type,
    without_type,
};
use crate::analysis::{compliance_of, zero_sign};
use crate::{Service, ServiceError, View};

/// The commune's value of `indicator` for `period` (what `/aggregates` serves at commune level).
fn value(view: &View, indicator: &str, period: Period, row: usize) -> Option<f64> {
    cells(&view.cube, &view.catalog, indicator, period)
        .ok()
        .and_then(|c| c.value(row))
}

impl Service {
    /// Commune `code`'s report for a quarter or a year.
    pub fn commune_document(
        &self,
        who: &Principal,
        code: &str,
        period: Period,
        options: &DocumentOptions,
    ) -> Result<Document, ServiceError> {
        let options = &options.tidied();
        options.check(period, self.now())?;
        let mut conn = self.conn()?;
        let province_code = self.authorize_commune(&mut conn, who, code, Action::Read)?;
        let saved = innoreport_store::documents::get_settings(&mut conn, code)?;
        let options = &options.with_saved(saved);
        let view = self.view_on(&mut conn)?;
        let year = period.kind() == PeriodType::Year;
        let targets = if year {
            innoreport_store::targets::list_targets(
                &mut conn,
                period.year(),
                Some(&province_code),
                Some(code),
            )?
        } else {
            Vec::new()
        };
        drop(conn);
        let commune = view
            .reference
            .commune(code)
            .ok_or_else(|| ServiceError::not_found(format!("There is no commune {code:?}.")))?
            .clone();
        let province = view
            .reference
            .province(&province_code)
            .map(|p| p.province.clone())
            .ok_or_else(|| ServiceError::not_found("The commune's province is unknown."))?;
        let row = view
            .cube
            .units()
            .commune_index(code)
            .ok_or_else(|| ServiceError::not_found(format!("Commune {code} has no data.")))?;
        let as_of = options.as_of.unwrap_or(view.now);
        let date = options.date_or_today(view.now);
        let name = with_type(&commune.name_vi, &commune.division_type);
        let province_name = with_type(&province.name_vi, &province.division_type);

        let mut s = Sections::new();
        let mut body = vec![Block::Paragraph(format!(
            "Thực hiện chế độ báo cáo định kỳ về {SUBJECT}, Ủy ban nhân dân {} báo cáo kết quả {} (số liệu tính đến {}) như sau:",
            lower_first(&name),
            period_phrase(period),
            super::instant(view.now)
        ))];
        body.push(s.next("TÌNH HÌNH BÁO CÁO"));
        for d in view
            .catalog
            .datasets
            .iter()
            .filter(|d| d.period_type == period.kind())
        {
            let c = compliance_of(
                &view,
                who,
                d.code.as_str(),
                period,
                Some(&province_code),
                as_of,
            )?;
            body.push(Block::Paragraph(deadline_sentence(&c, &d.name_vi, period)));
            if let Some(mine) = c.communes.iter().find(|r| r.commune == code) {
                body.push(Block::Paragraph(format!(
                    "Báo cáo của {}: {}.",
                    lower_first(&name),
                    super::status_phrase(mine)
                )));
            }
        }
        body.push(s.next("KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU"));
        let mut columns = vec![
            Column::number("TT", 2),
            Column::text("Chỉ tiêu", 9),
            Column::text("Đơn vị", 3),
            Column::number(period_label(period), 3),
            Column::number(
                period
                    .previous()
                    .map_or_else(|| "Kỳ trước".to_owned(), period_label),
                3,
            ),
            Column::number("Tăng, giảm", 3),
        ];
        if year {
            columns.push(Column::number("Kế hoạch năm", 3));
            columns.push(Column::number("Tỷ lệ đạt (%)", 3));
        }
        let mut rows = Vec::new();
        for i in view
            .catalog
            .indicators
            .iter()
            .filter(|i| has_values(&view.catalog, i.code.as_str(), period).is_ok())
        {
            let now = value(&view, i.code.as_str(), period, row);
            let before = period
                .previous()
                .and_then(|p| value(&view, i.code.as_str(), p, row));
            let mut r = vec![
                (rows.len() + 1).to_string(),
                i.name_vi.clone(),
                i.unit_vi.clone(),
                vn::number_or_dash(now),
                vn::number_or_dash(before),
                now.zip(before)
                    .map_or_else(|| "-".to_owned(), |(a, b)| vn::signed(zero_sign(a - b))),
            ];
            if year {
                let target = targets
                    .iter()
                    .find(|t| t.indicator == i.code.as_str())
                    .map(|t| t.value);
                r.push(vn::number_or_dash(target));
                r.push(vn::number_or_dash(
                    now.zip(target.filter(|t| *t != 0.0))
                        .map(|(a, t)| 100.0 * zero_sign(a / t)),
                ));
            }
            rows.push(r);
        }
        if year {
            body.push(Block::Paragraph(
                "Số liệu năm được tổng hợp từ các báo cáo quý và báo cáo năm theo quy tắc của từng chỉ tiêu (chỉ tiêu lũy kế cộng các quý, chỉ tiêu thời điểm lấy quý cuối có số liệu); tỷ lệ đạt là số thực hiện trên kế hoạch năm.".into(),
            ));
        }
        body.push(Block::Table(Table { columns, rows }));
        body.extend(self.commune_plan_blocks(who, code, period, as_of, &mut s)?);
        body.push(Block::Paragraph(format!(
            "Trên đây là báo cáo kết quả thực hiện nhiệm vụ {SUBJECT} {} của Ủy ban nhân dân {}./.",
            period_phrase(period),
            lower_first(&name)
        )));
        Ok(Document {
            authority: None,
            issuer: format!("ỦY BAN NHÂN DÂN\n{}", name.to_uppercase()),
            number: number_line(options.number.as_deref(), "UBND"),
            place_date: format!("{}, {}", without_type(&commune.name_vi), vn::date(date)),
            kind: "BÁO CÁO".into(),
            excerpt: format!(
                "Kết quả thực hiện nhiệm vụ {SUBJECT} {}",
                period_phrase(period)
            ),
            body,
            recipients: options.recipients.clone().unwrap_or_else(|| {
                vec![
                    format!(
                        "Sở Khoa học và Công nghệ {} (để báo cáo)",
                        lower_first(&province_name)
                    ),
                    "Lưu: VT".into(),
                ]
            }),
            signer: super::signer_block(
                Some("TM. ỦY BAN NHÂN DÂN"),
                options.signer_title.as_deref(),
                "CHỦ TỊCH",
                options.signer.as_deref(),
            ),
            annexes: Vec::new(),
            created: Some(view.now),
        })
    }
}
