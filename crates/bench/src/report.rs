//! The benchmark's report: every figure of one run, printed as Markdown tables beside its
//! target.

use crate::{Compared, Ingest, RunArgs, ceiling, met, mixed, percentile, sql};

#[derive(Default)]
pub struct Report {
    pub load_seconds: Option<f64>,
    /// The demo's load rate (reports a second) in each tenth of the communes.
    pub load_tenths: Vec<f64>,
    /// From starting the server to `/ready` answering 200.
    pub ready_after_ms: Option<f64>,
    pub mixed_reads: Vec<(String, String)>,
    pub mixed: Vec<mixed::Phase>,
    pub pgbench: Vec<ceiling::Ceiling>,
    pub cold_first_read_ms: Option<f64>,
    pub reads: Vec<(String, Vec<f64>)>,
    pub visibility_ms: Vec<f64>,
    pub ingest: Option<Ingest>,
    pub ceiling: Option<Ingest>,
    pub compare: Vec<Compared>,
    pub rss_after_reads: Option<u64>,
    pub rss_after_ingest: Option<u64>,
    pub rss_peak: Option<u64>,
    pub tables: Option<crate::tables::Tables>,
}

impl Report {
    pub fn print(&self, args: &RunArgs, sizes: &sql::Sizes) {
        println!("\n## Results\n");
        println!(
            "scale: {}, {} years; {} reports, {} values stored ({} current)",
            args.scale, args.years, sizes.reports, sizes.values, sizes.current_values
        );
        if let Some(s) = self.load_seconds {
            println!(
                "load: {:.0} s ({:.0} values/s through the submission code)",
                s,
                sizes.values as f64 / s
            );
        }
        if !self.load_tenths.is_empty() {
            let t = &self.load_tenths;
            let (lo, hi) = t
                .iter()
                .fold((f64::MAX, 0.0f64), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
            println!(
                "load rate per tenth of the communes (reports/s): {} (slowest ÷ fastest {:.2}; target: the same speed from first to last)",
                t.iter()
                    .map(|r| format!("{r:.0}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                lo / hi
            );
        }
        if let Some(ms) = self.ready_after_ms {
            println!(
                "server start to /ready (the live view loaded): {ms:.0} ms (target: view load ≤ 1,500 ms: {})",
                met(ms <= 1500.0)
            );
        }
        if let Some(ms) = self.cold_first_read_ms {
            println!(
                "first read after /ready: {ms:.1} ms (target ≤ 50 ms: {})",
                met(ms <= 50.0)
            );
        }
        println!("\n| measure | p50 | p95 | target | |\n|---|---|---|---|---|");
        for (name, times) in &self.reads {
            let mut t = times.clone();
            t.sort_by(f64::total_cmp);
            let (p50, p95) = (percentile(&t, 50.0), percentile(&t, 95.0));
            let (target, ok) = if name.starts_with("index") {
                ("≤ 1,000 ms", p95 <= 1000.0)
            } else {
                ("p95 ≤ 20 ms", p95 <= 20.0)
            };
            println!(
                "| {name} | {p50:.1} ms | {p95:.1} ms | {target} | {} |",
                met(ok)
            );
        }
        if !self.visibility_ms.is_empty() {
            let mut t = self.visibility_ms.clone();
            t.sort_by(f64::total_cmp);
            let p95 = percentile(&t, 95.0);
            println!(
                "| submission → visible in aggregates | {:.1} ms | {:.1} ms (max) | ≤ 1 s | {} |",
                percentile(&t, 50.0),
                t.last().copied().unwrap_or(f64::NAN),
                met(p95 <= 1000.0 && t.last().is_some_and(|m| *m <= 1000.0))
            );
        }
        if let Some(t) = &self.tables {
            crate::tables::print(t);
        }
        println!(
            "\n| ingest ({} clients, {} s) | ok/s | p50 | p99 | failed | target | |\n|---|---|---|---|---|---|---|",
            args.concurrency, args.duration
        );
        for (name, ingest, target) in [
            (
                "innoreport POST /reports (PostgreSQL)",
                &self.ingest,
                Some(()),
            ),
            (
                "plain actix-web, same bodies (ceiling)",
                &self.ceiling,
                None,
            ),
        ] {
            if let Some(i) = ingest {
                let mut t = i.latencies_ms.clone();
                t.sort_by(f64::total_cmp);
                let p99 = percentile(&t, 99.0);
                let failed: Vec<String> =
                    i.failed.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                let (goal, ok) = match target {
                    Some(()) => ("see the database's ceiling below", ""),
                    None => ("", ""),
                };
                println!(
                    "| {name} | {:.0} | {:.1} ms | {p99:.1} ms | {} | {goal} | {ok} |",
                    i.rate(),
                    percentile(&t, 50.0),
                    if failed.is_empty() {
                        "0".to_owned()
                    } else {
                        failed.join(", ")
                    }
                );
            }
        }
        mixed::print(&self.mixed, &self.mixed_reads);
        if !self.pgbench.is_empty() {
            println!(
                "\n| the database's own ceiling (bench/pgbench-submit.sql, pgbench -M prepared) | clients | transactions/s | latency (mean) |\n|---|---|---|---|"
            );
            for c in &self.pgbench {
                println!(
                    "| same work as a submission, by hand | {} | {:.0} | {:.1} ms |",
                    c.clients, c.tps, c.latency_ms
                );
            }
            let best = self.pgbench.iter().map(|c| c.tps).fold(0.0, f64::max);
            if let Some(i) = &self.ingest {
                let mut t = i.latencies_ms.clone();
                t.sort_by(f64::total_cmp);
                let p99 = percentile(&t, 99.0);
                let share = 100.0 * i.rate() / best;
                println!(
                    "\ninnoreport ingest is {share:.0}% of its database's ceiling ({:.0} of {best:.0}/s), p99 {p99:.1} ms with {} clients (target ≥ 80%, p99 ≤ 50 ms: {})",
                    i.rate(),
                    args.concurrency,
                    met(share >= 80.0 && p99 <= 50.0)
                );
            }
        }
        if let (Some(i), Some(c)) = (&self.ingest, &self.ceiling) {
            println!(
                "\ninnoreport ingest is {:.1}% of the ceiling",
                100.0 * i.rate() / c.rate()
            );
        }
        println!(
            "\n| same result, computed by | innoreport aggregator (median) | PostgreSQL SQL (median) | DuckDB (median) | PG ÷ aggregator | DuckDB ÷ aggregator | API, warm (median) | results |\n|---|---|---|---|---|---|---|---|"
        );
        for c in &self.compare {
            let duck = c
                .duckdb_ms
                .map_or("skipped".to_owned(), |d| format!("{d:.1} ms"));
            let duck_ratio = c.duckdb_ms.map_or("–".to_owned(), |d| {
                format!(
                    "{:.1}× ({})",
                    d / c.innoreport_ms,
                    met(d / c.innoreport_ms >= 1.0)
                )
            });
            println!(
                "| {} | {:.1} ms | {:.1} ms | {duck} | {:.1}× ({}) | {duck_ratio} | {:.1} ms | {} |",
                c.name,
                c.innoreport_ms,
                c.postgres_ms,
                c.postgres_ms / c.innoreport_ms,
                met(c.postgres_ms / c.innoreport_ms >= 3.0),
                c.http_ms,
                c.agree
            );
        }
        let mib =
            |k: Option<u64>| k.map_or("?".to_owned(), |k| format!("{:.0} MiB", k as f64 / 1024.0));
        println!(
            "\nserver memory: {} resident after the reads (target ≤ 256 MiB: {}), {} after ingest, {} peak",
            mib(self.rss_after_reads),
            met(self.rss_after_reads.is_some_and(|k| k <= 256 * 1024)),
            mib(self.rss_after_ingest),
            mib(self.rss_peak)
        );
    }
}
