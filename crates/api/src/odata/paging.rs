//! Pages of an entity set: a request's plan, where a page starts (`$skiptoken`), and reading
//! one page from a source, unsorted (resuming inside a chunk) or sorted (all matching rows).

use super::model::EntitySet;
use super::query::{Expr, Row};
use super::sources::Chunks;
use crate::http::problem::ApiError;

/// The most rows a `$orderby` sorts (they are held in memory).
pub const MAX_SORTED_ROWS: usize = 500_000;
/// A parsed request on an entity set.
pub(super) struct Plan {
    pub(super) set: &'static EntitySet,
    pub(super) filter: Option<Expr>,
    pub(super) order: Vec<(usize, bool)>,
    pub(super) select: Vec<usize>,
    pub(super) skip: usize,
    pub(super) top: Option<usize>,
    pub(super) page: usize,
    pub(super) count: bool,
    pub(super) token: Option<Token>,
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    /// Unsorted: the chunk, the matching row within it, rows sent and rows skipped before.
    At {
        chunk: Option<String>,
        index: usize,
        sent: usize,
        skipped: usize,
    },
    /// Sorted: the offset into the sorted rows (after `$skip`).
    Offset(usize),
}

impl Token {
    pub(super) fn write(&self) -> String {
        match self {
            Token::At {
                chunk,
                index,
                sent,
                skipped,
            } => format!(
                "c.{sent}.{skipped}.{index}.{}",
                chunk.as_deref().unwrap_or("-")
            ),
            Token::Offset(o) => format!("o.{o}"),
        }
    }

    pub(super) fn read(s: &str) -> Option<Token> {
        if let Some(o) = s.strip_prefix("o.") {
            return o.parse().ok().map(Token::Offset);
        }
        let rest = s.strip_prefix("c.")?;
        let mut parts = rest.splitn(4, '.');
        let sent = parts.next()?.parse().ok()?;
        let skipped = parts.next()?.parse().ok()?;
        let index = parts.next()?.parse().ok()?;
        let chunk = parts.next()?;
        Some(Token::At {
            chunk: (chunk != "-").then(|| chunk.to_owned()),
            index,
            sent,
            skipped,
        })
    }
}

/// One page: its rows, the next page's token, and the number of matching rows if asked.
pub(super) struct Page {
    pub(super) rows: Vec<Row>,
    pub(super) next: Option<Token>,
    pub(super) count: Option<usize>,
}

pub(super) fn matches(plan: &Plan, row: &Row) -> bool {
    plan.filter.as_ref().is_none_or(|f| f.eval(row))
}

pub(super) fn count_all(plan: &Plan, src: &mut dyn Chunks) -> Result<usize, ApiError> {
    let mut at: Option<String> = None;
    let mut n = 0;
    loop {
        let (rows, next) = src.chunk(at.as_deref())?;
        n += rows.iter().filter(|r| matches(plan, r)).count();
        match next {
            Some(k) => at = Some(k),
            None => return Ok(n),
        }
    }
}

pub(super) fn read_page(plan: &Plan, src: &mut dyn Chunks) -> Result<Page, ApiError> {
    if !plan.order.is_empty() {
        return sorted_page(plan, src);
    }
    let (mut at, mut start, sent_before, mut skipped) = match &plan.token {
        None => (None, 0, 0, 0),
        Some(Token::At {
            chunk,
            index,
            sent,
            skipped,
        }) => (chunk.clone(), *index, *sent, *skipped),
        Some(Token::Offset(_)) => {
            return Err(ApiError::bad_parameter(
                "$skiptoken",
                "this $skiptoken belongs to a sorted request",
            ));
        }
    };
    let mut out: Vec<Row> = Vec::new();
    loop {
        let (rows, next) = src.chunk(at.as_deref())?;
        let matching: Vec<Row> = rows.into_iter().filter(|r| matches(plan, r)).collect();
        let mut i = start;
        start = 0;
        for row in matching.into_iter().skip(i) {
            if plan.top.is_some_and(|t| sent_before + out.len() >= t) {
                return Ok(Page {
                    rows: out,
                    next: None,
                    count: None,
                });
            }
            if skipped < plan.skip {
                skipped += 1;
                i += 1;
                continue;
            }
            if out.len() == plan.page {
                return Ok(Page {
                    next: Some(Token::At {
                        chunk: at,
                        index: i,
                        sent: sent_before + out.len(),
                        skipped,
                    }),
                    rows: out,
                    count: None,
                });
            }
            out.push(row);
            i += 1;
        }
        match next {
            Some(k) => at = Some(k),
            None => {
                return Ok(Page {
                    rows: out,
                    next: None,
                    count: None,
                });
            }
        }
    }
}

pub(super) fn sorted_page(plan: &Plan, src: &mut dyn Chunks) -> Result<Page, ApiError> {
    let mut all: Vec<Row> = Vec::new();
    let mut at: Option<String> = None;
    loop {
        let (rows, next) = src.chunk(at.as_deref())?;
        all.extend(rows.into_iter().filter(|r| matches(plan, r)));
        if all.len() > MAX_SORTED_ROWS {
            return Err(ApiError::bad_parameter(
                "$orderby",
                format!(
                    "more than {MAX_SORTED_ROWS} rows match: narrow the $filter to sort them, or read them unsorted"
                ),
            ));
        }
        match next {
            Some(k) => at = Some(k),
            None => break,
        }
    }
    all.sort_by(|a, b| {
        for &(i, desc) in &plan.order {
            let o = a[i].sort_key(&b[i]);
            let o = if desc { o.reverse() } else { o };
            if o.is_ne() {
                return o;
            }
        }
        std::cmp::Ordering::Equal
    });
    let total = all.len();
    let offset = match plan.token {
        Some(Token::Offset(o)) => o,
        Some(Token::At { .. }) => {
            return Err(ApiError::bad_parameter(
                "$skiptoken",
                "this $skiptoken belongs to an unsorted request",
            ));
        }
        None => 0,
    };
    let window_end = plan
        .top
        .map_or(total, |t| (plan.skip.saturating_add(t)).min(total));
    let from = plan.skip.saturating_add(offset).min(window_end);
    let to = from.saturating_add(plan.page).min(window_end);
    let next = (to < window_end).then_some(Token::Offset(offset + (to - from)));
    Ok(Page {
        rows: all.drain(from..to).collect(),
        next,
        count: Some(total),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_read_back_what_they_wrote() {
        for t in [
            Token::At {
                chunk: None,
                index: 3,
                sent: 1000,
                skipped: 5,
            },
            Token::At {
                chunk: Some("17".into()),
                index: 0,
                sent: 0,
                skipped: 0,
            },
            Token::Offset(2000),
        ] {
            assert_eq!(Token::read(&t.write()), Some(t));
        }
        assert_eq!(Token::read("c.1.2"), None);
        assert_eq!(Token::read("o.x"), None);
    }
}
