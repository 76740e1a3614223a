//! The children of run and paragraph properties in the order of the WordprocessingML schema.
//!
//! docx-rs writes `w:rPr` and `w:pPr` children in an order of its own (the size before bold, the
//! paragraph's run properties first); the schema (ECMA-376 Part 1, CT_RPr and CT_PPr) fixes a
//! sequence, which LibreOffice and python-docx do not insist on but validators and, by some
//! reports, Microsoft Word do. Applied to the written XML parts before they are packed.

/// CT_RPr's sequence (EG_RPrBase, then rPrChange).
const RUN: &[&str] = &[
    "rStyle",
    "rFonts",
    "b",
    "bCs",
    "i",
    "iCs",
    "caps",
    "smallCaps",
    "strike",
    "dstrike",
    "outline",
    "shadow",
    "emboss",
    "imprint",
    "noProof",
    "snapToGrid",
    "vanish",
    "webHidden",
    "color",
    "spacing",
    "w",
    "kern",
    "position",
    "sz",
    "szCs",
    "highlight",
    "u",
    "effect",
    "bdr",
    "shd",
    "fitText",
    "vertAlign",
    "rtl",
    "cs",
    "em",
    "lang",
    "eastAsianLayout",
    "specVanish",
    "oMath",
    "ins",
    "del",
    "rPrChange",
];

/// CT_PPr's sequence.
const PARAGRAPH: &[&str] = &[
    "pStyle",
    "keepNext",
    "keepLines",
    "pageBreakBefore",
    "framePr",
    "widowControl",
    "numPr",
    "suppressLineNumbers",
    "pBdr",
    "shd",
    "tabs",
    "suppressAutoHyphens",
    "kinsoku",
    "wordWrap",
    "overflowPunct",
    "topLinePunct",
    "autoSpaceDE",
    "autoSpaceDN",
    "bidi",
    "adjustRightInd",
    "snapToGrid",
    "spacing",
    "ind",
    "contextualSpacing",
    "mirrorIndents",
    "suppressOverlap",
    "jc",
    "textDirection",
    "textAlignment",
    "textboxTightWrap",
    "outlineLvl",
    "divId",
    "cnfStyle",
    "rPr",
    "sectPr",
    "pPrChange",
];

/// The end of the element starting at `xml[start]` (`<…/>` or `<…>…</…>`), by depth.
fn element_end(xml: &str, start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i < xml.len() {
        let rest = &xml[i..];
        let close = rest.find('>')?;
        let tag = &rest[..=close];
        if tag.starts_with("</") {
            depth = depth.checked_sub(1)?;
        } else if !tag.ends_with("/>") {
            depth += 1;
        }
        i += close + 1;
        if depth == 0 {
            return Some(i);
        }
        // Skip text up to the next tag.
        i += xml[i..].find('<')?;
    }
    None
}

/// The local name of the element starting at `tag` (`<w:sz w:val="2"/>` → `sz`).
fn local_name(tag: &str) -> &str {
    let name = tag[1..]
        .split(|c: char| c.is_whitespace() || c == '/' || c == '>')
        .next()
        .unwrap_or("");
    name.rsplit(':').next().unwrap_or(name)
}

/// `xml` with the children of every `<w:{tag}>` element sorted into `order` (unknown children
/// keep their place after the known ones, in their order).
fn sort_children(xml: &str, tag: &str, order: &[&str]) -> String {
    let open = format!("<w:{tag}>");
    let close = format!("</w:{tag}>");
    let mut out = String::with_capacity(xml.len());
    let mut from = 0;
    while let Some(i) = xml[from..].find(&open).map(|i| i + from) {
        let body_start = i + open.len();
        let Some(end) = element_end(xml, i) else {
            break;
        };
        let body_end = end - close.len();
        out.push_str(&xml[from..body_start]);
        let mut children = Vec::new();
        let mut at = body_start;
        let mut whole = true;
        while at < body_end {
            match element_end(xml, at).filter(|e| *e <= body_end && xml[at..].starts_with('<')) {
                Some(e) => {
                    children.push(&xml[at..e]);
                    at = e;
                }
                None => {
                    whole = false;
                    break;
                }
            }
        }
        if whole {
            let rank = |c: &&str| {
                let name = local_name(c);
                order.iter().position(|o| *o == name).unwrap_or(order.len())
            };
            children.sort_by_key(rank);
            for c in children {
                out.push_str(c);
            }
        } else {
            out.push_str(&xml[body_start..body_end]);
        }
        out.push_str(&close);
        from = end;
    }
    out.push_str(&xml[from..]);
    out
}

/// An XML part with its run and paragraph properties in schema order.
pub fn schema_order(xml: &str) -> String {
    // Run properties first: those inside paragraph properties are sorted before their parent.
    let runs = sort_children(xml, "rPr", RUN);
    sort_children(&runs, "pPr", PARAGRAPH)
}

/// `xml` with the first row of every table marked as its header row (`w:tblHeader`), so a
/// table that runs over a page repeats its column titles (docx-rs has no setter for it). The
/// writer makes every row unsplittable, so each row has `<w:trPr><w:cantSplit /></w:trPr>`.
pub fn repeat_header_rows(xml: &str) -> String {
    const ROW: &str = "<w:trPr><w:cantSplit /></w:trPr>";
    const HEADER: &str = "<w:trPr><w:cantSplit /><w:tblHeader /></w:trPr>";
    let mut out = String::with_capacity(xml.len() + 64);
    let mut rest = xml;
    while let Some(t) = rest.find("<w:tbl>") {
        let after = t + "<w:tbl>".len();
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        // The first row's properties, unless the table ends (or another begins) first.
        let next_table = rest.find("<w:tbl>").unwrap_or(rest.len());
        if let Some(r) = rest.find(ROW).filter(|r| *r < next_table) {
            out.push_str(&rest[..r]);
            out.push_str(HEADER);
            rest = &rest[r + ROW.len()..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_and_paragraph_properties_follow_the_schema() {
        let xml = r#"<w:p><w:pPr><w:rPr><w:sz w:val="24" /><w:b /></w:rPr><w:jc w:val="center" /><w:spacing w:before="0" /></w:pPr><w:r><w:rPr><w:sz w:val="26" /><w:szCs w:val="26" /><w:b /><w:bCs /><w:i /></w:rPr><w:t>x</w:t></w:r></w:p>"#;
        assert_eq!(
            schema_order(xml),
            r#"<w:p><w:pPr><w:spacing w:before="0" /><w:jc w:val="center" /><w:rPr><w:b /><w:sz w:val="24" /></w:rPr></w:pPr><w:r><w:rPr><w:b /><w:bCs /><w:i /><w:sz w:val="26" /><w:szCs w:val="26" /></w:rPr><w:t>x</w:t></w:r></w:p>"#
        );
    }

    #[test]
    fn the_first_row_of_each_table_repeats_on_every_page() {
        let row = "<w:tr><w:trPr><w:cantSplit /></w:trPr></w:tr>";
        let xml = format!("<w:tbl>{row}{row}</w:tbl><w:tbl>{row}</w:tbl>");
        let out = repeat_header_rows(&xml);
        assert_eq!(out.matches("<w:tblHeader />").count(), 2);
        assert!(out.starts_with("<w:tbl><w:tr><w:trPr><w:cantSplit /><w:tblHeader />"));
    }

    #[test]
    fn empty_and_self_closing_properties_are_left_alone() {
        let xml = r#"<w:pPr><w:rPr /><w:jc w:val="left" /></w:pPr><w:rPr></w:rPr>"#;
        assert_eq!(
            schema_order(xml),
            r#"<w:pPr><w:jc w:val="left" /><w:rPr /></w:pPr><w:rPr></w:rPr>"#
        );
    }
}
