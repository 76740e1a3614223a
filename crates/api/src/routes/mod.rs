//! What clients see: the DTOs and handlers of the v1 API, one module per resource. Handlers
//! parse, call one use case of `innoreport_service` and shape the answer; they decide nothing.

pub mod accounts;
pub mod analysis;
pub mod analytics;
pub mod auth;
pub mod changes;
pub mod dashboard;
pub mod documents;
pub mod entry;
pub mod health;
pub mod imports;
pub mod index;
pub mod keys;
pub mod notifications;
pub mod plan_feedback;
pub mod plan_views;
pub mod plans;
pub mod reference;
pub mod reports;
pub mod review;
pub mod words;
