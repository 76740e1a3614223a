//! Rollups, deadline compliance and the innovation index of innoreport.
//!
//! This crate will hold the polars engine over the current values of all reports plus the
//! catalog (temporal rule per commune, spatial rollup, derived indicators). It depends only on
//! `core`, so the store and the HTTP layer stay free of polars and its build time.
//! It is empty until the analysis work lands; nothing uses it yet.
