//! Rollups, deadline compliance and the innovation index of innoreport, computed with polars
//! over the current values of all reports plus the catalog.
//!
//! Everything here is a pure function of its inputs (no IO): the service keeps the inputs live
//! ([`cube::Cube`]) and calls these functions per request. Temporal rules first (a commune's
//! year from its quarters: flows sum, stocks take the latest value, ratios pair their parts
//! quarter by quarter), then derived indicators per commune (a sum with a missing term is
//! missing), then the spatial rollup (commune → province → nation) of every component over
//! the communes that have it whole, so a ratio is always Σ numerator / Σ denominator and never a
//! mean of rates (see [`eval`]).

pub mod compliance;
pub mod cube;
pub mod eval;
pub mod index;

pub use compliance::{ComplianceRow, ComplianceStatus, ComplianceSummary, compliance};
pub use cube::{Cube, ReportCells, Units};
pub use eval::{AggregateRow, Cells, Level, UnitFilter, cells, check_period, rollup};

/// Why an aggregate cannot be computed.
#[derive(Debug, thiserror::Error)]
pub enum AggregateError {
    #[error("unknown indicator {0}")]
    UnknownIndicator(String),
    #[error("{0}")]
    Unsupported(String),
    /// A period finer than the data sets the indicator draws on (a month of a quarterly
    /// indicator): refused rather than answered with the whole quarter.
    #[error("{indicator} is reported by {finest} at the finest, so it has no value for {period}")]
    PeriodTooFine {
        indicator: String,
        period: String,
        finest: innoreport_core::PeriodType,
    },
    #[error(transparent)]
    Polars(#[from] polars::error::PolarsError),
}
