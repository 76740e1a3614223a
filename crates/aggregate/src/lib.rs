//! Rollups, deadline compliance and the innovation index of innoreport, computed with polars
//! over the current values of all reports plus the catalog.
//!
//! Everything here is a pure function of its inputs (no IO): the API keeps the inputs live
//! and calls these functions per request. Temporal rules first (a commune's year from its
//! quarters: flows sum, stocks take the latest value), then the spatial rollup (commune →
//! province → nation), then derived indicators from the rolled-up components, so a ratio is
//! always Σ numerator / Σ denominator and never a mean of rates.

pub mod compliance;
pub mod index;
pub mod rollup;

pub use compliance::{ComplianceRow, ComplianceStatus, ComplianceSummary, compliance};
pub use rollup::{AggregateRow, Level, UnitInfo, ValueRecord, rollup};

/// Why an aggregate cannot be computed.
#[derive(Debug, thiserror::Error)]
pub enum AggregateError {
    #[error("unknown indicator {0}")]
    UnknownIndicator(String),
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    Polars(#[from] polars::error::PolarsError),
}
