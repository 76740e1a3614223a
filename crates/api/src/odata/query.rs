//! The query options of the feed: `$filter` (comparisons `eq ne gt ge lt le`, `in`, `and`,
//! `or`, `not`, parentheses, and the text functions `contains`, `startswith`, `endswith` and
//! V2's `substringof`), `$orderby` and `$select`, parsed against an entity type and evaluated
//! on its rows. Literals: `'text'` (`''` for a quote), numbers (V2 suffixes `d`, `m`, `f`, `L`
//! allowed), `true`, `false`, `null`, instants (`2026-12-01T00:00:00Z`, or V2's
//! `datetimeoffset'…'`/`datetime'…'`).

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use super::model::{Edm, EntityType};

/// A value of a row or a literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Null,
    Str(String),
    Num(f64),
    Bool(bool),
    Time(DateTime<Utc>),
}

impl Lit {
    fn compare(&self, other: &Lit) -> Option<Ordering> {
        match (self, other) {
            (Lit::Str(a), Lit::Str(b)) => Some(a.cmp(b)),
            (Lit::Num(a), Lit::Num(b)) => a.partial_cmp(b),
            (Lit::Bool(a), Lit::Bool(b)) => Some(a.cmp(b)),
            (Lit::Time(a), Lit::Time(b)) => Some(a.cmp(b)),
            (Lit::Null, Lit::Null) => Some(Ordering::Equal),
            _ => None,
        }
    }

    /// Order for `$orderby`: nulls first, then values.
    pub fn sort_key(&self, other: &Lit) -> Ordering {
        match (self, other) {
            (Lit::Null, Lit::Null) => Ordering::Equal,
            (Lit::Null, _) => Ordering::Less,
            (_, Lit::Null) => Ordering::Greater,
            _ => self.compare(other).unwrap_or(Ordering::Equal),
        }
    }
}

/// A row: one value per property of its entity type, in order.
pub type Row = Vec<Lit>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFn {
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Prop(usize),
    Lit(Lit),
}

/// A parsed `$filter`.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cmp(Operand, Op, Operand),
    In(usize, Vec<Lit>),
    Text(TextFn, usize, String),
}

impl Expr {
    pub fn eval(&self, row: &Row) -> bool {
        let value = |o: &Operand| match o {
            Operand::Prop(i) => row.get(*i).cloned().unwrap_or(Lit::Null),
            Operand::Lit(l) => l.clone(),
        };
        match self {
            Expr::And(a, b) => a.eval(row) && b.eval(row),
            Expr::Or(a, b) => a.eval(row) || b.eval(row),
            Expr::Not(a) => !a.eval(row),
            Expr::Cmp(a, op, b) => {
                let (a, b) = (value(a), value(b));
                match op {
                    Op::Eq => a.compare(&b) == Some(Ordering::Equal),
                    Op::Ne => a.compare(&b) != Some(Ordering::Equal),
                    _ if a == Lit::Null || b == Lit::Null => false,
                    Op::Gt => a.compare(&b) == Some(Ordering::Greater),
                    Op::Ge => matches!(a.compare(&b), Some(Ordering::Greater | Ordering::Equal)),
                    Op::Lt => a.compare(&b) == Some(Ordering::Less),
                    Op::Le => matches!(a.compare(&b), Some(Ordering::Less | Ordering::Equal)),
                }
            }
            Expr::In(i, list) => {
                let v = row.get(*i).cloned().unwrap_or(Lit::Null);
                list.iter().any(|l| v.compare(l) == Some(Ordering::Equal))
            }
            Expr::Text(f, i, needle) => match row.get(*i) {
                Some(Lit::Str(s)) => match f {
                    TextFn::Contains => s.contains(needle.as_str()),
                    TextFn::StartsWith => s.starts_with(needle.as_str()),
                    TextFn::EndsWith => s.ends_with(needle.as_str()),
                },
                _ => false,
            },
        }
    }

    /// The only text values property `prop` can have in a row this filter accepts, when the
    /// filter says so plainly (`prop eq 'a'`, `prop in ('a','b')`, or these joined by `and`
    /// and `or`); `None` when it does not limit them. Used to compute only what may match.
    pub fn allowed(&self, prop: usize) -> Option<Vec<String>> {
        match self {
            Expr::And(a, b) => match (a.allowed(prop), b.allowed(prop)) {
                (Some(x), Some(y)) => Some(x.into_iter().filter(|v| y.contains(v)).collect()),
                (x, None) => x,
                (None, y) => y,
            },
            Expr::Or(a, b) => match (a.allowed(prop), b.allowed(prop)) {
                (Some(mut x), Some(y)) => {
                    for v in y {
                        if !x.contains(&v) {
                            x.push(v);
                        }
                    }
                    Some(x)
                }
                _ => None,
            },
            Expr::Cmp(Operand::Prop(p), Op::Eq, Operand::Lit(Lit::Str(s)))
            | Expr::Cmp(Operand::Lit(Lit::Str(s)), Op::Eq, Operand::Prop(p))
                if *p == prop =>
            {
                Some(vec![s.clone()])
            }
            Expr::In(p, list) if *p == prop => Some(
                list.iter()
                    .filter_map(|l| match l {
                        Lit::Str(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
    Comma,
}

fn tokens(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '\'' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("a text literal is not closed".into()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            text.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            text.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(text));
            }
            _ => {
                let start = i;
                while i < chars.len() && !" \t\n\r(),'".contains(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                // V2 typed literals: datetimeoffset'…', datetime'…'.
                if chars.get(i) == Some(&'\'')
                    && matches!(word.as_str(), "datetimeoffset" | "datetime")
                {
                    let end = chars[i + 1..]
                        .iter()
                        .position(|c| *c == '\'')
                        .ok_or("a date literal is not closed")?;
                    let text: String = chars[i + 1..i + 1 + end].iter().collect();
                    out.push(Tok::Word(format!("@time:{text}")));
                    i += end + 2;
                } else {
                    out.push(Tok::Word(word));
                }
            }
        }
    }
    Ok(out)
}

/// The deepest nesting of parentheses, `not` and functions a filter may have.
pub const MAX_DEPTH: usize = 32;
/// The most comparisons (and functions) a filter may join.
pub const MAX_CONDITIONS: usize = 256;

struct Parser<'a> {
    toks: Vec<Tok>,
    at: usize,
    ty: &'a EntityType,
    depth: usize,
    conditions: usize,
}

fn time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
                .ok()
                .map(|t| t.and_utc())
        })
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&mut self, k: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(w)) if w == k) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: Tok, what: &str) -> Result<(), String> {
        match self.next() {
            Some(x) if x == t => Ok(()),
            _ => Err(format!("expected {what}")),
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        let e = self.unary_inner();
        self.depth -= 1;
        e
    }

    fn unary_inner(&mut self) -> Result<Expr, String> {
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "a filter nests parentheses, not and functions at most {MAX_DEPTH} deep"
            ));
        }
        if self.keyword("not") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.peek() == Some(&Tok::Open) {
            self.at += 1;
            let e = self.or()?;
            self.expect(Tok::Close, "')'")?;
            return Ok(e);
        }
        self.conditions += 1;
        if self.conditions > MAX_CONDITIONS {
            return Err(format!(
                "a filter joins at most {MAX_CONDITIONS} conditions"
            ));
        }
        if let Some(Tok::Word(w)) = self.peek().cloned()
            && self.toks.get(self.at + 1) == Some(&Tok::Open)
        {
            return self.function(&w);
        }
        let left = self.operand()?;
        if self.keyword("in") {
            let Operand::Prop(p) = left else {
                return Err("'in' needs a property on its left".into());
            };
            self.expect(Tok::Open, "'(' after 'in'")?;
            let mut list = Vec::new();
            loop {
                match self.operand()? {
                    Operand::Lit(l) => list.push(l),
                    Operand::Prop(_) => return Err("'in' lists literals".into()),
                }
                match self.next() {
                    Some(Tok::Comma) => continue,
                    Some(Tok::Close) => break,
                    _ => return Err("expected ',' or ')' in an 'in' list".into()),
                }
            }
            return Ok(Expr::In(p, list));
        }
        let op = match self.next() {
            Some(Tok::Word(w)) => match w.as_str() {
                "eq" => Op::Eq,
                "ne" => Op::Ne,
                "gt" => Op::Gt,
                "ge" => Op::Ge,
                "lt" => Op::Lt,
                "le" => Op::Le,
                other => return Err(format!("unknown operator {other:?}")),
            },
            _ => return Err("expected an operator (eq, ne, gt, ge, lt, le, in)".into()),
        };
        let right = self.operand()?;
        Ok(Expr::Cmp(left, op, right))
    }

    fn function(&mut self, name: &str) -> Result<Expr, String> {
        if !matches!(name, "contains" | "startswith" | "endswith" | "substringof") {
            return Err(format!(
                "function {name:?} is not supported (contains, startswith, endswith, substringof)"
            ));
        }
        self.at += 2; // the name and '('
        let a = self.operand()?;
        self.expect(Tok::Comma, "',' between a function's arguments")?;
        let b = self.operand()?;
        self.expect(Tok::Close, "')' after a function's arguments")?;
        let (f, prop, needle) = match (name, a, b) {
            ("contains", Operand::Prop(p), Operand::Lit(Lit::Str(s))) => (TextFn::Contains, p, s),
            ("startswith", Operand::Prop(p), Operand::Lit(Lit::Str(s))) => {
                (TextFn::StartsWith, p, s)
            }
            ("endswith", Operand::Prop(p), Operand::Lit(Lit::Str(s))) => (TextFn::EndsWith, p, s),
            ("substringof", Operand::Lit(Lit::Str(s)), Operand::Prop(p)) => {
                (TextFn::Contains, p, s)
            }
            (f, ..) => {
                return Err(format!(
                    "function {f:?} is not supported here (contains, startswith, endswith, substringof on a text property)"
                ));
            }
        };
        let expr = Expr::Text(f, prop, needle);
        // V2 writes `substringof('x', p) eq true`.
        if self.keyword("eq") {
            return match self.operand()? {
                Operand::Lit(Lit::Bool(true)) => Ok(expr),
                Operand::Lit(Lit::Bool(false)) => Ok(Expr::Not(Box::new(expr))),
                _ => Err("a function is compared with true or false".into()),
            };
        }
        Ok(expr)
    }

    fn operand(&mut self) -> Result<Operand, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Operand::Lit(Lit::Str(s))),
            Some(Tok::Word(w)) => {
                if let Some(i) = self.ty.index(&w) {
                    return Ok(Operand::Prop(i));
                }
                match w.as_str() {
                    "null" => return Ok(Operand::Lit(Lit::Null)),
                    "true" => return Ok(Operand::Lit(Lit::Bool(true))),
                    "false" => return Ok(Operand::Lit(Lit::Bool(false))),
                    _ => {}
                }
                if let Some(t) = w.strip_prefix("@time:") {
                    return time(t)
                        .map(|t| Operand::Lit(Lit::Time(t)))
                        .ok_or_else(|| format!("{t:?} is not an instant"));
                }
                if w.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
                    if w.len() > 10
                        && w.as_bytes().get(4) == Some(&b'-')
                        && let Some(t) = time(&w)
                    {
                        return Ok(Operand::Lit(Lit::Time(t)));
                    }
                    let n = w.trim_end_matches(['d', 'D', 'm', 'M', 'f', 'F', 'L', 'l']);
                    if let Ok(x) = n.parse::<f64>()
                        && x.is_finite()
                    {
                        return Ok(Operand::Lit(Lit::Num(x)));
                    }
                }
                Err(format!(
                    "{w:?} is neither a property of {} nor a literal",
                    self.ty.name
                ))
            }
            Some(t) => Err(format!("unexpected {t:?}")),
            None => Err("the filter ends too early".into()),
        }
    }
}

/// Parses a `$filter` against `ty`.
pub fn filter(text: &str, ty: &EntityType) -> Result<Expr, String> {
    if text.len() > 8192 {
        return Err("a filter has at most 8,192 characters".into());
    }
    let toks = tokens(text)?;
    let mut p = Parser {
        toks,
        at: 0,
        ty,
        depth: 0,
        conditions: 0,
    };
    let e = p.or()?;
    if p.at < p.toks.len() {
        return Err(format!("unexpected {:?}", p.toks[p.at]));
    }
    Ok(e)
}

/// Parses a `$orderby`: properties, each `asc` (default) or `desc`.
pub fn order_by(text: &str, ty: &EntityType) -> Result<Vec<(usize, bool)>, String> {
    text.split(',')
        .map(|part| {
            let mut words = part.split_whitespace();
            let name = words.next().ok_or("an empty $orderby item")?;
            let i = ty
                .index(name)
                .ok_or_else(|| format!("{name:?} is not a property of {}", ty.name))?;
            let desc = match words.next() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(other) => return Err(format!("{other:?}: expected asc or desc")),
            };
            if words.next().is_some() {
                return Err(format!("{part:?}: one property and a direction"));
            }
            Ok((i, desc))
        })
        .collect()
}

/// Parses a `$select`: the properties to send (`*`: all), in the type's order.
pub fn select(text: &str, ty: &EntityType) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for name in text.split(',').map(str::trim) {
        if name == "*" {
            return Ok((0..ty.properties.len()).collect());
        }
        let i = ty
            .index(name)
            .ok_or_else(|| format!("{name:?} is not a property of {}", ty.name))?;
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// The JSON of a value in OData V4 (`v2`: V2's verbose JSON, instants as `/Date(ms)/`).
pub fn json(value: &Lit, edm: Edm, v2: bool) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Lit::Null => J::Null,
        Lit::Str(s) => J::String(s.clone()),
        Lit::Bool(b) => J::Bool(*b),
        Lit::Num(n) if edm == Edm::Int32 => J::from(*n as i64),
        Lit::Num(n) => serde_json::Number::from_f64(*n).map_or(J::Null, J::Number),
        Lit::Time(t) if v2 => J::String(format!("/Date({}+0000)/", t.timestamp_millis())),
        Lit::Time(t) => J::String(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::model::VALUE;
    use super::*;

    fn row(indicator: &str, period: &str, value: Option<f64>) -> Row {
        let mut r = vec![Lit::Null; VALUE.properties.len()];
        r[0] = Lit::Str(indicator.into());
        r[1] = Lit::Str(period.into());
        r[4] = Lit::Str("03808".into());
        r[5] = Lit::Str("Xã Mường La".into());
        r[8] = value.map_or(Lit::Null, Lit::Num);
        r
    }

    fn accepts(f: &str, r: &Row) -> bool {
        filter(f, &VALUE).unwrap().eval(r)
    }

    #[test]
    fn comparisons_logic_and_lists_evaluate_as_odata_says() {
        let r = row("online_dossier_rate", "2026Q1", Some(62.5));
        assert!(accepts("period eq '2026Q1'", &r));
        assert!(accepts("period eq '2026Q1' and value gt 60", &r));
        assert!(!accepts("period eq '2026Q1' and value gt 62.5", &r));
        assert!(accepts("value ge 62.5d and value le 62.5", &r));
        assert!(accepts(
            "(period eq '2025Q4' or period eq '2026Q1') and not (value lt 1)",
            &r
        ));
        assert!(accepts("indicator in ('x','online_dossier_rate')", &r));
        assert!(accepts("numerator eq null and value ne null", &r));
        assert!(!accepts("numerator gt 0", &r), "null is never greater");
        assert!(accepts(
            "contains(name,'Mường') and startswith(unit,'038')",
            &r
        ));
        assert!(accepts("substringof('La',name) eq true", &r));
        assert!(accepts("name eq 'Xã Mường La'", &r));
        assert!(!accepts("name eq 'it''s'", &r));
    }

    #[test]
    fn what_a_filter_allows_narrows_the_computation() {
        let period = VALUE.index("period").unwrap();
        let f = |s: &str| filter(s, &VALUE).unwrap().allowed(period);
        assert_eq!(f("period eq '2026Q1'"), Some(vec!["2026Q1".into()]));
        assert_eq!(
            f("indicator eq 'x' and (period eq 'a' or period eq 'b')"),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            f("period in ('a','b') and period eq 'b'"),
            Some(vec!["b".into()])
        );
        assert_eq!(f("period eq 'a' or value gt 1"), None);
        assert_eq!(f("value gt 1"), None);
    }

    #[test]
    fn bad_filters_say_why() {
        for bad in [
            "period eq",
            "nope eq 1",
            "period eq '2026",
            "period like 'x'",
            "(period eq 'a'",
            "length(name) eq 3",
            "period eq 'a' extra",
        ] {
            assert!(filter(bad, &VALUE).is_err(), "{bad}");
        }
        assert!(order_by("value desc, period", &VALUE).is_ok());
        assert!(order_by("value sideways", &VALUE).is_err());
        assert_eq!(select("value,indicator", &VALUE).unwrap(), vec![0, 8]);
        assert!(select("secret", &VALUE).is_err());
    }

    #[test]
    fn a_filter_nested_or_joined_beyond_its_bounds_is_refused_not_recursed() {
        let deep = format!("{}value eq 1{}", "(".repeat(2800), ")".repeat(2800));
        assert!(filter(&deep, &VALUE).unwrap_err().contains("deep"));
        let nots = format!("{}value eq 1", "not ".repeat(40));
        assert!(filter(&nots, &VALUE).is_err());
        let ok = format!("{}value eq 1{}", "(".repeat(30), ")".repeat(30));
        assert!(filter(&ok, &VALUE).is_ok());
        let many = vec!["value eq 1"; 300].join(" or ");
        assert!(filter(&many, &VALUE).unwrap_err().contains("conditions"));
        let fine = vec!["value eq 1"; 200].join(" and ");
        assert!(
            filter(&fine, &VALUE)
                .unwrap()
                .eval(&row("a", "b", Some(1.0)))
        );
        assert!(
            filter("length(name) gt 3", &VALUE)
                .unwrap_err()
                .contains("not supported")
        );
    }

    #[test]
    fn instants_compare_in_both_spellings() {
        let mut r = vec![Lit::Null; 12];
        r[9] = Lit::Time("2026-12-05T00:00:00Z".parse().unwrap());
        let ty = &super::super::model::REPORT;
        let ok = |f: &str| filter(f, ty).unwrap().eval(&r);
        assert!(ok("deadline lt 2026-12-06T00:00:00Z"));
        assert!(ok("deadline ge datetimeoffset'2026-12-05T00:00:00Z'"));
        assert!(!ok("deadline gt datetime'2026-12-05T00:00:00'"));
    }
}
