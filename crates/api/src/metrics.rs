//! Application metrics, exported in Prometheus text format at `/metrics` together with the
//! per-route request counts and latencies the HTTP middleware records.

use prometheus::{Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    /// Report submissions by outcome: created, updated, unchanged, invalid, locked, stale, forbidden.
    pub submissions: IntCounterVec,
    /// Time the live view takes to catch up with the database before a read.
    pub view_refresh: Histogram,
    /// Reports held by the live view.
    pub view_reports: IntGauge,
    /// Version of the live view (grows with every batch of changes applied).
    pub view_version: IntGauge,
    /// Requests refused because the service was at capacity (503).
    pub shed: IntCounter,
    /// Requests refused because their client was over its rate (429).
    pub rate_limited: IntCounter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let registry = Registry::new();
        let submissions = IntCounterVec::new(
            Opts::new(
                "innoreport_submissions_total",
                "Report submissions by outcome",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let view_refresh = Histogram::with_opts(
            HistogramOpts::new(
                "innoreport_view_refresh_seconds",
                "Catch-up time of the aggregator's live view",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
        )
        .expect("valid metric");
        let view_reports =
            IntGauge::new("innoreport_view_reports", "Reports held by the live view")
                .expect("valid metric");
        let view_version = IntGauge::new("innoreport_view_version", "Version of the live view")
            .expect("valid metric");
        let shed = IntCounter::new(
            "innoreport_shed_total",
            "Requests refused at capacity (503)",
        )
        .expect("valid metric");
        let rate_limited = IntCounter::new(
            "innoreport_rate_limited_total",
            "Requests refused over a client's rate (429)",
        )
        .expect("valid metric");
        for m in [
            Box::new(submissions.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(view_refresh.clone()),
            Box::new(view_reports.clone()),
            Box::new(view_version.clone()),
            Box::new(shed.clone()),
            Box::new(rate_limited.clone()),
        ] {
            registry.register(m).expect("metrics register once");
        }
        Metrics {
            registry,
            submissions,
            view_refresh,
            view_reports,
            view_version,
            shed,
            rate_limited,
        }
    }
}

impl innoreport_service::Observer for Metrics {
    fn view_refreshed(&self, seconds: f64, reports: usize, version: u64) {
        self.view_refresh.observe(seconds);
        self.view_reports.set(reports as i64);
        self.view_version.set(version as i64);
    }

    fn submission(&self, outcome: &str) {
        self.submissions.with_label_values(&[outcome]).inc();
    }
}
