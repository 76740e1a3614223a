//! A `.docx` read back as a docx reader would: the archive opened, the XML's tables and
//! paragraphs taken apart (for the report document tests).

use std::io::Read;

use crate::support::Answer;

pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// A document read back.
pub struct Docx {
    pub document: String,
    pub styles: String,
    paragraphs: Vec<String>,
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Every `<tag …>…</tag>` piece of `xml`, in order (the tags do not nest in these documents).
fn pieces<'a>(xml: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = xml[from..].find(open).map(|i| i + from) {
        let after = xml.as_bytes().get(i + open.len());
        if !matches!(after, Some(b'>' | b' ')) {
            from = i + open.len();
            continue;
        }
        let Some(j) = xml[i..].find(close) else {
            break;
        };
        out.push(&xml[i..i + j]);
        from = i + j + close.len();
    }
    out
}

/// The text of a piece: its runs' texts joined.
fn text(xml: &str) -> String {
    let mut out = String::new();
    for t in pieces(xml, "<w:t", "</w:t>") {
        if let Some(k) = t.find('>') {
            // A no-break space reads as a space.
            out.push_str(&unescape(&t[k + 1..]).replace('\u{a0}', " "));
        }
    }
    out
}

impl Docx {
    pub fn read(answer: &Answer) -> Docx {
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(answer.content_type(), DOCX);
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(answer.body.clone())).unwrap();
        let mut part = |name: &str| {
            let mut s = String::new();
            zip.by_name(name).unwrap().read_to_string(&mut s).unwrap();
            s
        };
        let document = part("word/document.xml");
        let paragraphs = pieces(&document, "<w:p", "</w:p>")
            .into_iter()
            .map(text)
            .filter(|t| !t.is_empty())
            .collect();
        Docx {
            styles: part("word/styles.xml"),
            document,
            paragraphs,
        }
    }

    /// Every table: rows of cell texts.
    pub fn tables(&self) -> Vec<Vec<Vec<String>>> {
        pieces(&self.document, "<w:tbl", "</w:tbl>")
            .into_iter()
            .map(|t| {
                pieces(t, "<w:tr", "</w:tr>")
                    .into_iter()
                    .map(|r| {
                        pieces(r, "<w:tc", "</w:tc>")
                            .into_iter()
                            .map(text)
                            .collect()
                    })
                    .collect()
            })
            .collect()
    }

    /// The table whose header row starts with these cells.
    pub fn table(&self, header: &[&str]) -> Vec<Vec<String>> {
        self.tables()
            .into_iter()
            .find(|t| {
                t.first().is_some_and(|h| {
                    h.len() >= header.len() && h.iter().zip(header).all(|(a, b)| a == b)
                })
            })
            .unwrap_or_else(|| panic!("no table headed {header:?}"))
    }

    pub fn tables_headed(&self, first: &str, second: &str) -> Vec<Vec<Vec<String>>> {
        self.tables()
            .into_iter()
            .filter(|t| {
                t.first()
                    .is_some_and(|h| h.len() > 2 && h[0] == first && h[1] == second)
            })
            .collect()
    }

    pub fn paragraphs(&self) -> Vec<String> {
        self.paragraphs.clone()
    }

    pub fn says(&self, s: &str) -> bool {
        self.paragraphs.iter().any(|p| p.contains(s))
    }
}
