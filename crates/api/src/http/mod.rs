//! The HTTP machinery every route shares: authentication, admission control, problems,
//! paging, conditional requests, strict query parsing and exports.

pub mod auth;
pub mod conditional;
pub mod export;
pub mod guard;
pub mod headers;
pub mod pagination;
pub mod params;
pub mod problem;
pub mod query;
