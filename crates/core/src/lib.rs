//! The domain of innoreport: codes, periods, data sets with their deadline and lock rules, and
//! the catalog of indicators and the innovation index framework.
//!
//! This crate performs no IO, so every rule here is tested in milliseconds and reused by the
//! store, the aggregator and the API without dragging in a database or an HTTP server.

pub mod access;
pub mod catalog;
pub mod codes;
pub mod dataset;
pub mod notify;
pub mod period;
pub mod periods;
pub mod plans;
pub mod report;
pub mod timeframe;
pub mod validation;

pub use access::{Action, Denied, Principal, Role, Scope, Target, allows, may_ever};
pub use catalog::{
    Catalog, CatalogError, Direction, Formula, Indicator, Pillar, PillarIndicator, SpatialRule,
    SubIndex, TemporalRule, ValueType,
};
pub use codes::{CodeError, CommuneCode, DatasetCode, IndicatorCode, ProvinceCode};
pub use dataset::{Dataset, DeadlineRule, LockRule, RuleError};
pub use period::{Period, PeriodError, PeriodType};
pub use report::{
    LockReason, ReportStatus, ReviewAction, Timeliness, lock_reason, review_transition,
};
pub use timeframe::Timeframe;
