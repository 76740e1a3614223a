//! Administrative documents: a report ("báo cáo") as data, and its `.docx` in the layout of
//! Decree 30/2020/NĐ-CP (Appendix I): A4, Times New Roman, the issuing body and the number at
//! the left of the head, the national motto and the place and date at the right, the kind of
//! document and its excerpt centred, numbered sections, then "Nơi nhận" and the signature block.
//!
//! The model holds text already written in Vietnamese conventions ([`vn`]): the application
//! layer decides what a report says, this crate only how it is laid out.

mod docx;
mod order;
pub mod vn;

pub use docx::{DocumentError, Layout, docx, xml_char};

/// One document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    /// The managing body above the issuer ("UBND TỈNH SƠN LA"), upper case; none for a body
    /// with no managing body on its head (a commune People's Committee).
    pub authority: Option<String>,
    /// The issuing body ("SỞ KHOA HỌC VÀ CÔNG NGHỆ"), upper case; a line break starts a second
    /// line ("ỦY BAN NHÂN DÂN\nXÃ MƯỜNG LA").
    pub issuer: String,
    /// "Số: 125/BC-SKHCN" (or with the number left blank for the clerk).
    pub number: String,
    /// "Sơn La, ngày 05 tháng 12 năm 2026".
    pub place_date: String,
    /// The kind of document: "BÁO CÁO".
    pub kind: String,
    /// Its excerpt ("Kết quả thực hiện nhiệm vụ … quý IV năm 2026").
    pub excerpt: String,
    pub body: Vec<Block>,
    /// "Nơi nhận": one line each, without the leading dash.
    pub recipients: Vec<String>,
    pub signer: Signer,
    /// Annexes, each on its own pages after the signature.
    pub annexes: Vec<Annex>,
    /// When it was written (the file's creation and modification dates).
    pub created: Option<chrono::DateTime<chrono::Utc>>,
}

/// Who signs, and in what capacity.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Signer {
    /// "TM. ỦY BAN NHÂN DÂN", "KT. GIÁM ĐỐC", one line each (none when the head signs in their
    /// own name).
    pub capacity: Option<String>,
    /// "GIÁM ĐỐC", "CHỦ TỊCH".
    pub title: String,
    /// The signer's full name; none leaves the line for the signer to fill.
    pub name: Option<String>,
}

/// An annex ("Phụ lục").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Annex {
    /// "Phụ lục I".
    pub label: String,
    pub title: String,
    /// "(Kèm theo Báo cáo số …/BC-SKHCN ngày … của …)".
    pub subtitle: String,
    pub body: Vec<Block>,
}

/// A piece of the body.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A section heading with its number in the text ("I. TÌNH HÌNH BÁO CÁO", "1. Đúng hạn");
    /// level 1 or 2.
    Heading { level: u8, text: String },
    /// A paragraph of running text.
    Paragraph(String),
    /// A table.
    Table(Table),
}

/// A table with a header row; numeric columns are aligned right.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub header: String,
    /// The column's share of the table width (relative to the other columns').
    pub weight: u16,
    pub numeric: bool,
}

impl Column {
    pub fn text(header: impl Into<String>, weight: u16) -> Column {
        Column {
            header: header.into(),
            weight,
            numeric: false,
        }
    }

    pub fn number(header: impl Into<String>, weight: u16) -> Column {
        Column {
            header: header.into(),
            weight,
            numeric: true,
        }
    }
}

impl Document {
    /// Every text of the document in reading order, one string per paragraph or table cell
    /// (for tests and for checking what a document says without opening it).
    pub fn texts(&self) -> Vec<String> {
        let mut out: Vec<String> = self.authority.iter().cloned().collect();
        out.extend([
            self.issuer.clone(),
            self.number.clone(),
            self.place_date.clone(),
            self.kind.clone(),
            self.excerpt.clone(),
        ]);
        let blocks = |out: &mut Vec<String>, body: &[Block]| {
            for b in body {
                match b {
                    Block::Heading { text, .. } | Block::Paragraph(text) => out.push(text.clone()),
                    Block::Table(t) => {
                        out.extend(t.columns.iter().map(|c| c.header.clone()));
                        out.extend(t.rows.iter().flatten().cloned());
                    }
                }
            }
        };
        blocks(&mut out, &self.body);
        out.extend(self.recipients.iter().cloned());
        out.extend(self.signer.capacity.iter().cloned());
        out.push(self.signer.title.clone());
        out.extend(self.signer.name.iter().cloned());
        for a in &self.annexes {
            out.extend([a.label.clone(), a.title.clone(), a.subtitle.clone()]);
            blocks(&mut out, &a.body);
        }
        out
    }
}
