//! The `.docx` of a [`Document`], laid out as Decree 30/2020/NĐ-CP asks (Appendix I, the layout
//! of an administrative document): A4 portrait; margins top and bottom 20 mm, left 30 mm, right
//! 15 mm; Times New Roman, the body in 14 pt; the head as two columns without borders; page
//! numbers centred at the top from the second page.

use docx_rs::{
    AlignmentType, Docx, Header, LineSpacing, PageMargin, PageNum, Paragraph, Run, RunFonts,
    SpecialIndentType, Table, TableAlignmentType, TableCell, TableCellMargins, TableLayoutType,
    TableRow, VAlignType, WidthType,
};

use crate::{Block, Document};

/// The page and type of every document, in the units of the file (twips: 1/1440 inch; font
/// sizes in half-points).
pub struct Layout;

impl Layout {
    /// A4: 210 × 297 mm.
    pub const PAGE_WIDTH: u32 = 11906;
    pub const PAGE_HEIGHT: u32 = 16838;
    /// 20 mm.
    pub const MARGIN_TOP: i32 = 1134;
    /// 20 mm.
    pub const MARGIN_BOTTOM: i32 = 1134;
    /// 30 mm.
    pub const MARGIN_LEFT: i32 = 1701;
    /// 15 mm.
    pub const MARGIN_RIGHT: i32 = 850;
    /// The page number sits 10 mm from the top edge.
    pub const HEADER: i32 = 567;
    pub const FONT: &'static str = "Times New Roman";
    /// The body: 14 pt.
    pub const BODY_SIZE: usize = 28;
    /// The head's upper-case lines (the bodies, the motto's first line): 12–13 pt (Appendix I).
    pub const HEAD_SIZE: usize = 24;
    /// The number line ("Số: …"): 13 pt.
    pub const NUMBER_SIZE: usize = 26;
    /// Table cells: 12 pt (tables of figures; the decree sets no size for them).
    pub const TABLE_SIZE: usize = 24;
    /// Column titles: 11 pt.
    pub const TABLE_HEADER_SIZE: usize = 22;
    /// Space left and right inside a table cell: 1 mm.
    pub const CELL_PADDING: usize = 57;
    /// The list of recipients: 11 pt.
    pub const RECIPIENT_SIZE: usize = 22;
    /// The width text may take between the margins.
    pub const TEXT_WIDTH: usize =
        (Self::PAGE_WIDTH as i32 - Self::MARGIN_LEFT - Self::MARGIN_RIGHT) as usize;
    /// First-line indent of body paragraphs: 1 cm.
    pub const INDENT: i32 = 567;
    /// Space before a body paragraph: 6 pt.
    pub const SPACE_BEFORE: u32 = 120;
}

/// The writer failed (never for a well-formed model; an IO error of the in-memory archive).
#[derive(Debug, thiserror::Error)]
#[error("the document could not be written: {0}")]
pub struct DocumentError(String);

/// Whether XML 1.0 allows `c` in text (the writer does not check: a U+FFFE in a name would make
/// the part unreadable).
pub fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn run(text: &str, size: usize) -> Run {
    let text: String = text.chars().filter(|c| xml_char(*c)).collect();
    Run::new().add_text(text).size(size)
}

/// A paragraph without spacing, of one run.
fn line(text: &str, size: usize, align: AlignmentType) -> Paragraph {
    Paragraph::new()
        .add_run(run(text, size))
        .align(align)
        .line_spacing(LineSpacing::new().before(0).after(0))
}

/// The short rule under the issuer and under the motto.
fn rule(width_chars: usize) -> Paragraph {
    line(&"─".repeat(width_chars), 16, AlignmentType::Center)
}

fn cell(width: usize) -> TableCell {
    TableCell::new().width(width, WidthType::Dxa)
}

fn borderless(columns: &[usize], cells: Vec<TableCell>) -> Table {
    Table::without_borders(vec![TableRow::new(cells).cant_split()])
        // The columns use the whole width: the motto's first line must fit on one line.
        .margins(TableCellMargins::new().margin(0, 0, 0, 0))
        .set_grid(columns.to_vec())
        .width(Layout::TEXT_WIDTH, WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
        .align(TableAlignmentType::Center)
}

/// The head: issuer and number at the left, motto and place and date at the right.
fn head(doc: &Document) -> Table {
    let left_width = 3828; // 6.75 cm
    let right_width = Layout::TEXT_WIDTH - left_width;
    let mut left = cell(left_width);
    for authority in doc.authority.iter().flat_map(|a| a.lines()) {
        left = left.add_paragraph(line(authority, Layout::HEAD_SIZE, AlignmentType::Center));
    }
    for issuer in doc.issuer.lines() {
        left = left.add_paragraph(
            Paragraph::new()
                .add_run(run(issuer, Layout::HEAD_SIZE).bold())
                .align(AlignmentType::Center)
                .line_spacing(LineSpacing::new().before(0).after(0)),
        );
    }
    left = left.add_paragraph(rule(10)).add_paragraph(line(
        &doc.number,
        Layout::NUMBER_SIZE,
        AlignmentType::Center,
    ));
    let right = cell(right_width)
        .add_paragraph(
            Paragraph::new()
                .add_run(run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", Layout::HEAD_SIZE).bold())
                .align(AlignmentType::Center)
                .line_spacing(LineSpacing::new().before(0).after(0)),
        )
        .add_paragraph(
            Paragraph::new()
                .add_run(run("Độc lập - Tự do - Hạnh phúc", Layout::BODY_SIZE).bold())
                .align(AlignmentType::Center)
                .line_spacing(LineSpacing::new().before(0).after(0)),
        )
        .add_paragraph(rule(18))
        .add_paragraph(
            Paragraph::new()
                .add_run(run(&doc.place_date, Layout::BODY_SIZE).italic())
                .align(AlignmentType::Center)
                .line_spacing(LineSpacing::new().before(0).after(0)),
        );
    borderless(&[left_width, right_width], vec![left, right])
}

fn heading(level: u8, text: &str) -> Paragraph {
    let r = run(text, Layout::BODY_SIZE).bold();
    let r = if level > 1 { r.italic() } else { r };
    Paragraph::new()
        .add_run(r)
        .align(AlignmentType::Both)
        .indent(
            None,
            Some(SpecialIndentType::FirstLine(Layout::INDENT)),
            None,
            None,
        )
        .line_spacing(LineSpacing::new().before(Layout::SPACE_BEFORE).after(0))
        .keep_next(true)
}

fn paragraph(text: &str) -> Paragraph {
    Paragraph::new()
        .add_run(run(text, Layout::BODY_SIZE))
        .align(AlignmentType::Both)
        .indent(
            None,
            Some(SpecialIndentType::FirstLine(Layout::INDENT)),
            None,
            None,
        )
        .line_spacing(LineSpacing::new().before(Layout::SPACE_BEFORE).after(0))
}

fn table(t: &crate::Table) -> Table {
    let total: usize = t.columns.iter().map(|c| c.weight.max(1) as usize).sum();
    let widths: Vec<usize> = t
        .columns
        .iter()
        .map(|c| Layout::TEXT_WIDTH * c.weight.max(1) as usize / total.max(1))
        .collect();
    let text_cell = |text: &str, width: usize, align: AlignmentType, bold: bool| {
        // Column titles a point smaller, so narrow columns of figures keep "Quý III" whole.
        let size = if bold {
            Layout::TABLE_HEADER_SIZE
        } else {
            Layout::TABLE_SIZE
        };
        let r = run(text, size);
        cell(width)
            .vertical_align(VAlignType::Center)
            .add_paragraph(
                Paragraph::new()
                    .add_run(if bold { r.bold() } else { r })
                    .align(align)
                    .line_spacing(LineSpacing::new().before(40).after(40)),
            )
    };
    let header = TableRow::new(
        t.columns
            .iter()
            .zip(&widths)
            .map(|(c, w)| text_cell(&c.header, *w, AlignmentType::Center, true))
            .collect(),
    )
    .cant_split();
    let mut rows = vec![header];
    for r in &t.rows {
        rows.push(
            TableRow::new(
                t.columns
                    .iter()
                    .zip(&widths)
                    .enumerate()
                    .map(|(i, (c, w))| {
                        let text = r.get(i).map_or("", String::as_str);
                        let align = if c.numeric {
                            AlignmentType::Right
                        } else {
                            AlignmentType::Left
                        };
                        text_cell(text, *w, align, false)
                    })
                    .collect(),
            )
            .cant_split(),
        );
    }
    Table::new(rows)
        .set_grid(widths)
        .width(Layout::TEXT_WIDTH, WidthType::Dxa)
        .layout(TableLayoutType::Fixed)
        .align(TableAlignmentType::Center)
        .margins(TableCellMargins::new().margin(0, Layout::CELL_PADDING, 0, Layout::CELL_PADDING))
}

fn blocks(mut docx: Docx, body: &[Block]) -> Docx {
    for b in body {
        docx = match b {
            Block::Heading { level, text } => docx.add_paragraph(heading(*level, text)),
            Block::Paragraph(text) => docx.add_paragraph(paragraph(text)),
            Block::Table(t) => docx
                .add_paragraph(line("", 8, AlignmentType::Left))
                .add_table(table(t)),
        };
    }
    docx
}

/// "Nơi nhận" at the left, the signer at the right.
fn signature(doc: &Document) -> Table {
    let left_width = 4536; // 8 cm
    let right_width = Layout::TEXT_WIDTH - left_width;
    let mut left = cell(left_width).add_paragraph(
        Paragraph::new()
            .add_run(run("Nơi nhận:", 24).bold().italic())
            .line_spacing(LineSpacing::new().before(0).after(0)),
    );
    let last = doc.recipients.len().saturating_sub(1);
    for (i, r) in doc.recipients.iter().enumerate() {
        let end = if i == last { "." } else { ";" };
        left = left.add_paragraph(line(
            &format!("- {r}{end}"),
            Layout::RECIPIENT_SIZE,
            AlignmentType::Left,
        ));
    }
    let bold_line = |text: &str| {
        Paragraph::new()
            .add_run(run(text, Layout::BODY_SIZE).bold())
            .align(AlignmentType::Center)
            .line_spacing(LineSpacing::new().before(0).after(0))
    };
    let mut right = cell(right_width);
    for capacity in doc.signer.capacity.iter().flat_map(|c| c.lines()) {
        right = right.add_paragraph(bold_line(capacity));
    }
    right = right.add_paragraph(bold_line(&doc.signer.title));
    // Room for the signature and the seal.
    for _ in 0..4 {
        right = right.add_paragraph(line("", Layout::BODY_SIZE, AlignmentType::Center));
    }
    if let Some(name) = &doc.signer.name {
        right = right.add_paragraph(bold_line(name));
    }
    borderless(&[left_width, right_width], vec![left, right])
}

/// The document as the bytes of a `.docx` file.
pub fn docx(doc: &Document) -> Result<Vec<u8>, DocumentError> {
    let fonts = RunFonts::new()
        .ascii(Layout::FONT)
        .hi_ansi(Layout::FONT)
        .cs(Layout::FONT)
        .east_asia(Layout::FONT);
    let mut d = Docx::new()
        .page_size(Layout::PAGE_WIDTH, Layout::PAGE_HEIGHT)
        .page_margin(
            PageMargin::new()
                .top(Layout::MARGIN_TOP)
                .bottom(Layout::MARGIN_BOTTOM)
                .left(Layout::MARGIN_LEFT)
                .right(Layout::MARGIN_RIGHT)
                .header(Layout::HEADER)
                .footer(Layout::HEADER),
        )
        .default_fonts(fonts)
        .default_size(Layout::BODY_SIZE)
        // Page numbers from the second page on, centred at the top.
        .header(
            Header::new().add_paragraph(
                Paragraph::new()
                    .add_page_num(PageNum::new())
                    .align(AlignmentType::Center)
                    .size(Layout::BODY_SIZE),
            ),
        )
        .first_header(Header::new())
        .title_pg()
        .add_table(head(doc))
        .add_paragraph(line("", Layout::BODY_SIZE, AlignmentType::Center))
        .add_paragraph(
            Paragraph::new()
                .add_run(run(&doc.kind, Layout::BODY_SIZE).bold())
                .align(AlignmentType::Center)
                .line_spacing(LineSpacing::new().before(Layout::SPACE_BEFORE).after(0)),
        )
        .add_paragraph(
            Paragraph::new()
                .add_run(run(&doc.excerpt, Layout::BODY_SIZE).bold())
                .align(AlignmentType::Center)
                .line_spacing(LineSpacing::new().before(0).after(0)),
        )
        .add_paragraph(rule(12));
    if let Some(at) = doc.created {
        let at = at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        d = d.created_at(&at).updated_at(&at);
    }
    d = blocks(d, &doc.body);
    d = d
        .add_paragraph(line("", Layout::BODY_SIZE, AlignmentType::Left))
        .add_table(signature(doc));
    for annex in &doc.annexes {
        d = d
            .add_paragraph(
                Paragraph::new()
                    .add_run(run(&annex.label, Layout::BODY_SIZE).bold())
                    .align(AlignmentType::Center)
                    .page_break_before(true)
                    .line_spacing(LineSpacing::new().before(0).after(0)),
            )
            .add_paragraph(
                Paragraph::new()
                    .add_run(run(&annex.title, Layout::BODY_SIZE).bold())
                    .align(AlignmentType::Center)
                    .line_spacing(LineSpacing::new().before(0).after(0)),
            )
            .add_paragraph(
                Paragraph::new()
                    .add_run(run(&annex.subtitle, Layout::BODY_SIZE).italic())
                    .align(AlignmentType::Center)
                    .line_spacing(LineSpacing::new().before(0).after(0)),
            );
        d = blocks(d, &annex.body);
    }
    let mut stored = std::io::Cursor::new(Vec::new());
    d.build()
        .pack(&mut stored)
        .map_err(|e| DocumentError(e.to_string()))?;
    deflate(stored.into_inner())
}

/// The archive again with its parts compressed (the writer stores them as they are: a province
/// report's tables take 440 kB stored and a tenth of that deflated).
fn deflate(stored: Vec<u8>) -> Result<Vec<u8>, DocumentError> {
    use std::io::{Read, Write};
    let fail = |e: &dyn std::fmt::Display| DocumentError(e.to_string());
    let mut input = zip::ZipArchive::new(std::io::Cursor::new(stored)).map_err(|e| fail(&e))?;
    let mut output = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..input.len() {
        let mut part = input.by_index(i).map_err(|e| fail(&e))?;
        if part.is_dir() {
            continue;
        }
        let name = part.name().to_owned();
        let mut bytes = Vec::with_capacity(part.size() as usize);
        part.read_to_end(&mut bytes).map_err(|e| fail(&e))?;
        if name.starts_with("word/") && name.ends_with(".xml") {
            let xml = String::from_utf8(bytes).map_err(|e| fail(&e))?;
            let xml = crate::order::schema_order(&xml);
            bytes = if name == "word/document.xml" {
                crate::order::repeat_header_rows(&xml)
            } else {
                xml
            }
            .into_bytes();
        }
        output.start_file(name, options).map_err(|e| fail(&e))?;
        output.write_all(&bytes).map_err(|e| fail(&e))?;
    }
    Ok(output.finish().map_err(|e| fail(&e))?.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::{Annex, Column, Signer};

    fn sample() -> Document {
        Document {
            authority: Some("UBND TỈNH SƠN LA".into()),
            issuer: "SỞ KHOA HỌC VÀ CÔNG NGHỆ".into(),
            number: "Số: 12/BC-SKHCN".into(),
            place_date: "Sơn La, ngày 05 tháng 12 năm 2026".into(),
            kind: "BÁO CÁO".into(),
            excerpt: "Kết quả quý IV năm 2026".into(),
            body: vec![
                Block::Heading {
                    level: 1,
                    text: "I. TÌNH HÌNH BÁO CÁO".into(),
                },
                Block::Paragraph("Có 75 xã phải báo cáo.".into()),
                Block::Table(crate::Table {
                    columns: vec![Column::text("Chỉ tiêu", 3), Column::number("Giá trị", 1)],
                    rows: vec![vec!["Sản phẩm OCOP".into(), "1.234,5".into()]],
                }),
            ],
            recipients: vec!["UBND tỉnh (b/c)".into(), "Lưu: VT".into()],
            signer: Signer {
                capacity: None,
                title: "GIÁM ĐỐC".into(),
                name: Some("Nguyễn Văn A".into()),
            },
            annexes: vec![Annex {
                label: "Phụ lục I".into(),
                title: "SỐ LIỆU CÁC XÃ".into(),
                subtitle: "(Kèm theo Báo cáo)".into(),
                body: vec![],
            }],
            created: None,
        }
    }

    fn part(bytes: &[u8], name: &str) -> String {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut xml).unwrap();
        xml
    }

    #[test]
    fn the_page_is_a4_with_the_decree_margins_and_times_new_roman() {
        let bytes = docx(&sample()).unwrap();
        let document = part(&bytes, "word/document.xml");
        assert!(document.contains(r#"w:w="11906""#) && document.contains(r#"w:h="16838""#));
        for m in [
            r#"w:top="1134""#,
            r#"w:bottom="1134""#,
            r#"w:left="1701""#,
            r#"w:right="850""#,
        ] {
            assert!(document.contains(m), "{m}");
        }
        let styles = part(&bytes, "word/styles.xml");
        assert!(styles.contains(r#"w:ascii="Times New Roman""#), "{styles}");
        assert!(styles.contains(r#"<w:sz w:val="28""#), "{styles}");
        for text in [
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "Số: 12/BC-SKHCN",
            "BÁO CÁO",
            "1.234,5",
            "Nơi nhận:",
            "- Lưu: VT.",
            "Phụ lục I",
        ] {
            assert!(document.contains(text), "{text}");
        }
        assert!(
            document.contains("titlePg"),
            "no page number on the first page"
        );
    }
}
