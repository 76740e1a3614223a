//! The plan parts of the report documents: how far the communes got with their plans' tasks
//! (by section, with the overdue tasks), and the difficulties and proposals they reported,
//! grouped by section. Written only when a commune of the unit has a plan for the period's year.

use chrono::{DateTime, Utc};
use innoreport_core::plans::{Counts, TaskStatus};
use innoreport_core::{Period, Principal};
use innoreport_documents::{Block, Column, Table, vn};

use super::province::Sections;
use crate::{Service, ServiceError};

fn rate(c: &Counts) -> String {
    c.completion_rate().map_or_else(
        || "-".to_owned(),
        |r| format!("{} %", vn::number((1000.0 * r).round() / 10.0)),
    )
}

/// A text of several lines on one line (a table cell, a list item): its lines joined by "; ",
/// without the dashes people start lines with.
fn one_line(s: &str) -> String {
    s.lines()
        .map(|l| l.trim().trim_start_matches(['-', '+', '•']).trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A report's own text as paragraphs: a line each, list items marked with a dash unless the
/// line already has one or introduces a list (ends with ':').
fn paragraphs(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            if l.starts_with(['-', '+', '•']) || l.ends_with(':') {
                l.to_owned()
            } else {
                format!("- {l}")
            }
        })
        .collect()
}

fn counts_row(label: String, c: &Counts) -> Vec<String> {
    vec![
        label,
        c.tasks.to_string(),
        c.completed.to_string(),
        c.in_progress.to_string(),
        (c.not_started + c.not_reported).to_string(),
        c.not_feasible.to_string(),
        c.overdue.to_string(),
        rate(c),
    ]
}

fn counts_columns(first: &str) -> Vec<Column> {
    vec![
        Column::text(first, 12),
        Column::number("Số nhiệm vụ", 3),
        Column::number("Hoàn thành", 3),
        Column::number("Đang triển khai", 3),
        Column::number("Chưa triển khai, chưa báo cáo", 4),
        Column::number("Không thực hiện được", 4),
        Column::number("Quá hạn", 3),
        Column::number("Tỷ lệ hoàn thành", 4),
    ]
}

fn status_vi(s: Option<TaskStatus>) -> &'static str {
    s.map_or("Chưa báo cáo", TaskStatus::name_vi)
}

impl Service {
    /// The province report's plan sections (none when no commune has a plan for the year).
    pub(super) fn province_plan_blocks(
        &self,
        who: &Principal,
        code: &str,
        period: Period,
        as_of: DateTime<Utc>,
        s: &mut Sections,
    ) -> Result<Vec<Block>, ServiceError> {
        let p = self.plan_progress(who, code, period, Some(as_of))?;
        if p.communes_with_plan == 0 {
            return Ok(Vec::new());
        }
        let t = &p.totals;
        let mut out = vec![s.next("TÌNH HÌNH THỰC HIỆN KẾ HOẠCH, NHIỆM VỤ")];
        out.push(Block::Paragraph(format!(
            "{} xã, phường có kế hoạch năm {} với tổng số {} nhiệm vụ; đến {}, đã hoàn thành {} nhiệm vụ (tỷ lệ {}), đang triển khai {}, chưa triển khai hoặc chưa báo cáo {}, không thực hiện được {}; {} nhiệm vụ quá hạn chưa hoàn thành.",
            p.communes_with_plan,
            period.year(),
            t.tasks,
            super::instant(as_of),
            t.completed,
            rate(t),
            t.in_progress,
            t.not_started + t.not_reported,
            t.not_feasible,
            t.overdue,
        )));
        out.push(Block::Table(Table {
            columns: counts_columns("Nội dung"),
            rows: p
                .sections
                .iter()
                .map(|x| {
                    let label = if x.section.is_empty() {
                        "Nhiệm vụ khác".to_owned()
                    } else {
                        format!("{}. {}", x.section, x.title)
                    };
                    counts_row(label, &x.counts)
                })
                .chain([counts_row("Tổng số".into(), t)])
                .collect(),
        }));
        if !p.overdue.is_empty() {
            out.push(Block::Paragraph(
                "Các nhiệm vụ quá hạn chưa hoàn thành:".into(),
            ));
            out.push(Block::Table(Table {
                columns: vec![
                    Column::number("STT", 2),
                    Column::text("Xã, phường", 6),
                    Column::text("Nhiệm vụ", 12),
                    Column::text("Tình trạng", 5),
                    Column::text("Hạn", 4),
                    Column::number("Số ngày quá hạn", 3),
                ],
                rows: p
                    .overdue
                    .iter()
                    .enumerate()
                    .map(|(i, st)| {
                        vec![
                            (i + 1).to_string(),
                            st.name_vi.clone(),
                            format!("{}. {}", st.task.code, st.task.title),
                            status_vi(st.status).to_owned(),
                            st.due
                                .map_or_else(String::new, |d| d.format("%d/%m/%Y").to_string()),
                            st.days_overdue.unwrap_or_default().to_string(),
                        ]
                    })
                    .collect(),
            }));
        }
        let feedback = self.plan_feedback(who, code, period, Some(as_of))?;
        out.push(s.next("KHÓ KHĂN, VƯỚNG MẮC VÀ ĐỀ XUẤT, KIẾN NGHỊ CỦA CÁC XÃ, PHƯỜNG"));
        if feedback.items.is_empty() {
            out.push(Block::Paragraph(
                "Các xã, phường không báo cáo khó khăn, vướng mắc hay đề xuất, kiến nghị trong kỳ."
                    .into(),
            ));
        }
        let mut current: Option<Option<String>> = None;
        let mut n = 0;
        for f in &feedback.items {
            if current.as_ref() != Some(&f.section) {
                n += 1;
                current = Some(f.section.clone());
                let title = match (&f.section, &f.section_title) {
                    (Some(c), Some(t)) => format!("{n}. Về {c}. {}", t.to_lowercase()),
                    (Some(c), None) => format!("{n}. Về nội dung {c}"),
                    _ => format!("{n}. Chung"),
                };
                out.push(Block::Heading {
                    level: 2,
                    text: title,
                });
            }
            let kind = if f.kind == "difficulty" {
                "Khó khăn, vướng mắc"
            } else {
                "Đề xuất, kiến nghị"
            };
            let task = f
                .task
                .as_ref()
                .map_or_else(String::new, |t| format!(", nhiệm vụ {t}"));
            out.push(Block::Paragraph(format!(
                "- {} ({kind}{task}): {}",
                f.name_vi,
                one_line(&f.text)
            )));
        }
        Ok(out)
    }

    /// The commune report's plan section: its tasks and its report's texts for the period.
    pub(super) fn commune_plan_blocks(
        &self,
        who: &Principal,
        code: &str,
        period: Period,
        as_of: DateTime<Utc>,
        s: &mut Sections,
    ) -> Result<Vec<Block>, ServiceError> {
        let tasks = self.commune_tasks(who, code, period, Some(as_of))?;
        if tasks.is_empty() {
            return Ok(Vec::new());
        }
        let counts = crate::plans::count(&tasks);
        let mut out = vec![s.next("TÌNH HÌNH THỰC HIỆN KẾ HOẠCH, NHIỆM VỤ")];
        out.push(Block::Paragraph(format!(
            "Kế hoạch năm {} có {} nhiệm vụ: đã hoàn thành {} (tỷ lệ {}), đang triển khai {}, chưa triển khai hoặc chưa báo cáo {}, không thực hiện được {}; {} nhiệm vụ quá hạn chưa hoàn thành.",
            period.year(),
            counts.tasks,
            counts.completed,
            rate(&counts),
            counts.in_progress,
            counts.not_started + counts.not_reported,
            counts.not_feasible,
            counts.overdue,
        )));
        out.push(Block::Table(Table {
            columns: vec![
                Column::text("Mã", 2),
                Column::text("Nhiệm vụ", 10),
                Column::text("Tình trạng", 5),
                Column::number("Tiến độ", 3),
                Column::text("Kết quả", 8),
            ],
            rows: tasks
                .iter()
                .map(|t| {
                    let mut status = status_vi(t.status).to_owned();
                    if let Some(d) = t.days_overdue {
                        status.push_str(&format!(" (quá hạn {d} ngày)"));
                    }
                    vec![
                        t.task.code.clone(),
                        t.task.title.clone(),
                        status,
                        t.percent.map_or_else(|| "-".into(), |p| format!("{p} %")),
                        t.result.as_deref().map(one_line).unwrap_or_default(),
                    ]
                })
                .collect(),
        }));
        let mut texts: Vec<(String, &'static str)> = Vec::new();
        for t in &tasks {
            if let Some(d) = &t.difficulties {
                texts.push((
                    format!("- Nhiệm vụ {}: {}", t.task.code, one_line(d)),
                    "difficulties",
                ));
            }
            if let Some(p) = &t.proposals {
                texts.push((
                    format!("- Nhiệm vụ {}: {}", t.task.code, one_line(p)),
                    "proposals",
                ));
            }
        }
        let own = self.report_texts(code, period, as_of)?;
        for (heading, key) in [
            ("Kết quả nổi bật", "highlights"),
            ("Khó khăn, vướng mắc", "difficulties"),
            ("Đề xuất, kiến nghị", "proposals"),
        ] {
            let mut lines: Vec<String> = own.get(key).map(|t| paragraphs(t)).unwrap_or_default();
            lines.extend(
                texts
                    .iter()
                    .filter(|(_, k)| *k == key)
                    .map(|(t, _)| t.clone()),
            );
            if lines.is_empty() {
                continue;
            }
            out.push(Block::Heading {
                level: 2,
                text: heading.to_owned(),
            });
            out.extend(lines.into_iter().map(Block::Paragraph));
        }
        Ok(out)
    }
}
