//! Paging of lists: `limit` (1 to 1000, default 100) and an opaque `cursor`; every list answers
//! `{items, next_cursor}`. One module for every list, in the manner of crates.io's
//! `controllers/helpers/pagination.rs`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::problem::ApiError;

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

/// Paging of a list: `limit` (1 to 1000, default 100) and the opaque `cursor` of the previous
/// page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 1000 (default 100).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn bad_cursor() -> ApiError {
    ApiError::bad_field(
        "cursor",
        "invalid_cursor",
        "cursor is not one this list issued",
    )
}

impl PageParams {
    /// The limit, checked.
    pub fn limit(&self) -> Result<u32, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(n) => Err(ApiError::bad_field(
                "limit",
                "out_of_range",
                format!("limit {n} is outside 1 to {MAX_LIMIT}"),
            )),
        }
    }

    /// The key the cursor points after, decoded.
    pub fn after(&self, kind: &str) -> Result<Option<String>, ApiError> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        decode_cursor(kind, cursor).map(Some).ok_or_else(bad_cursor)
    }

    /// The row id the cursor points after (lists paged by id).
    pub fn after_id(&self, kind: &str) -> Result<Option<i64>, ApiError> {
        self.after(kind)?
            .map(|a| a.parse::<i64>())
            .transpose()
            .map_err(|_| bad_cursor())
    }
}

/// Cursors are opaque to clients: `kind:key`, base64url-encoded.
pub fn encode_cursor(kind: &str, key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{key}"))
}

fn decode_cursor(kind: &str, cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(kind)?
        .strip_prefix(':')
        .map(str::to_owned)
}

/// A page from `limit + 1` rows (the extra row only says that there is more): the rows kept and
/// the cursor of the next page.
pub fn page_of<R>(
    mut rows: Vec<R>,
    limit: u32,
    kind: &str,
    key: impl Fn(&R) -> String,
) -> (Vec<R>, Option<String>) {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|r| encode_cursor(kind, &key(r)))
    } else {
        None
    };
    (rows, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_foreign_ones() {
        let c = encode_cursor("commune", "03808");
        assert_eq!(decode_cursor("commune", &c).as_deref(), Some("03808"));
        assert_eq!(decode_cursor("report", &c), None);
        assert_eq!(decode_cursor("commune", "not base64!"), None);
    }

    #[test]
    fn limits_default_to_100_and_stay_within_1_to_1000() {
        let p = |limit| PageParams {
            limit,
            cursor: None,
        };
        assert_eq!(p(None).limit().unwrap(), 100);
        assert_eq!(p(Some(1000)).limit().unwrap(), 1000);
        assert!(p(Some(0)).limit().is_err());
        assert!(p(Some(1001)).limit().is_err());
    }

    #[test]
    fn a_page_keeps_limit_rows_and_points_after_the_last() {
        let (rows, next) = page_of(vec![1, 2, 3], 2, "n", |r| r.to_string());
        assert_eq!(rows, vec![1, 2]);
        assert_eq!(decode_cursor("n", &next.unwrap()).as_deref(), Some("2"));
        let (rows, next) = page_of(vec![1, 2], 2, "n", |r| r.to_string());
        assert_eq!((rows.len(), next), (2, None));
    }
}
