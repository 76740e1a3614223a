//! Overload: what the service does when offered twice what it can take.
//!
//! One run, side by side: the capacity is measured with closed-loop clients (each sends its next
//! submission when the previous one is answered); then requests arrive open-loop at twice that
//! rate (on a clock, whatever the answers) against the server as configured by default
//! (admission cap) and against the same server with the cap lifted. For each: what was served,
//! shed (503/429) or timed out, latencies, and the server's peak memory.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::process::Stdio;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;

use crate::{Failure, Guard, innoreport, load, median, percentile, sibling, sql};

#[derive(Args, Clone)]
pub struct OverloadArgs {
    /// PostgreSQL database for the run; dropped and created again (reference data only).
    #[arg(
        long,
        env = "OVERLOAD_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/innoreport_overload"
    )]
    database_url: String,
    /// Seconds of each phase (capacity, then overload per configuration).
    #[arg(long, default_value_t = 15)]
    duration: u64,
    /// Closed-loop clients measuring the capacity.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Offered load as a multiple of the measured capacity.
    #[arg(long, default_value_t = 2.0)]
    factor: f64,
    /// A request unanswered after this many seconds counts as timed out.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
    #[arg(long, default_value_t = 18090)]
    port: u16,
}

/// What an open-loop phase saw.
#[derive(Default, Debug)]
struct Outcome {
    offered_per_s: f64,
    sent: usize,
    served: usize,
    shed_503: usize,
    limited_429: usize,
    timed_out: usize,
    other: BTreeMap<String, usize>,
    served_ms: Vec<f64>,
    refused_ms: Vec<f64>,
    seconds: f64,
    rss_peak_mib: f64,
}

/// Sends `rate` submissions a second for `duration`, on a clock.
fn open_loop(
    base: &str,
    tokens: &load::Tokens,
    communes: &[(String, String)],
    period: &str,
    rate: f64,
    duration: Duration,
    timeout: Duration,
) -> Outcome {
    let url = format!("{base}/api/v1/reports");
    let auth: Vec<String> = communes.iter().map(|(c, p)| tokens.officer(p, c)).collect();
    let period = period.to_owned();
    actix_web::rt::System::new().block_on(async move {
        let client = awc::Client::builder()
            .connector(awc::Connector::new().limit(8192))
            .timeout(timeout)
            .finish();
        let out = Rc::new(RefCell::new(Outcome {
            offered_per_s: rate,
            ..Outcome::default()
        }));
        let started = Instant::now();
        let mut tasks = Vec::new();
        let mut i = 0usize;
        while started.elapsed() < duration {
            let due = started + Duration::from_secs_f64(i as f64 / rate);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                actix_web::rt::time::sleep(wait).await;
            }
            let (client, out, url) = (client.clone(), Rc::clone(&out), url.clone());
            let auth = auth[i % auth.len()].clone();
            let body = json!({"dataset": "dmst-quarterly", "period": period,
                "values": {"dossiers_total": 100 + i, "dossiers_online_full": 50}});
            i += 1;
            tasks.push(actix_web::rt::spawn(async move {
                let sent = Instant::now();
                let answer = client
                    .post(&url)
                    .insert_header(("Authorization", auth.as_str()))
                    .send_json(&body)
                    .await;
                let took = sent.elapsed().as_secs_f64() * 1000.0;
                let status = match answer {
                    Ok(mut res) => {
                        let _ = res.body().await;
                        Ok(res.status().as_u16())
                    }
                    Err(e) => Err(e),
                };
                let mut o = out.borrow_mut();
                o.sent += 1;
                match status {
                    Ok(s) if (200..300).contains(&s) => {
                        o.served += 1;
                        o.served_ms.push(took);
                    }
                    Ok(503) => {
                        o.shed_503 += 1;
                        o.refused_ms.push(took);
                    }
                    Ok(429) => {
                        o.limited_429 += 1;
                        o.refused_ms.push(took);
                    }
                    Ok(s) => *o.other.entry(s.to_string()).or_default() += 1,
                    Err(awc::error::SendRequestError::Timeout) => o.timed_out += 1,
                    Err(e) => *o.other.entry(e.to_string()).or_default() += 1,
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        let mut o = std::mem::take(&mut *out.borrow_mut());
        o.seconds = started.elapsed().as_secs_f64();
        o
    })
}

/// Samples the resident memory of `pid` every 50 ms until stopped; the maximum in MiB.
struct MemoryWatch {
    stop: Arc<AtomicBool>,
    peak_kib: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl MemoryWatch {
    fn start(pid: u32) -> MemoryWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let peak_kib = Arc::new(AtomicU64::new(0));
        let (s, p) = (Arc::clone(&stop), Arc::clone(&peak_kib));
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if let Some(kib) = load::rss_kib(pid, "VmRSS") {
                    p.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        MemoryWatch {
            stop,
            peak_kib,
            thread: Some(thread),
        }
    }

    fn peak_mib(mut self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.peak_kib.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

pub fn run(args: OverloadArgs) -> Result<(), Failure> {
    let bin = sibling("innoreport")?;
    println!("# innoreport overload\n\n{}\n", crate::machine());
    sql::recreate_database(&args.database_url)?;
    let status = innoreport(&bin, &args.database_url, &["seed"])
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        return Err("innoreport seed failed".into());
    }
    let communes = sql::communes(&args.database_url, false)?;
    let key = crate::secret();
    let tokens = load::Tokens::new(&key);
    let period = format!("{}Q4", crate::current_year());
    let base = format!("http://127.0.0.1:{}", args.port);
    let duration = Duration::from_secs(args.duration);
    let start = |max_in_flight: &str| -> Result<Guard, Failure> {
        let server = Guard(
            innoreport(&bin, &args.database_url, &["serve"])
                .env("INNOREPORT_BIND", format!("127.0.0.1:{}", args.port))
                .env("INNOREPORT_JWT_SECRET", &key)
                .env("INNOREPORT_LOAD_REFERENCE_DATA", "false")
                // Every commune system is its own client; the per-client rate is not the subject.
                .env("INNOREPORT_RATE_LIMIT", "0")
                .env("INNOREPORT_MAX_IN_FLIGHT", max_in_flight)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?,
        );
        load::wait_ready(&base, Duration::from_secs(60))?;
        Ok(server)
    };

    // Capacity, closed loop, with the default configuration.
    let capacity = {
        let _server = start("64")?;
        load::ingest(
            &base,
            &tokens,
            &communes,
            &period,
            args.concurrency,
            duration,
        )?
    };
    let capacity_per_s = capacity.ok as f64 / capacity.seconds;
    let rate = capacity_per_s * args.factor;
    println!(
        "capacity: {capacity_per_s:.0} submissions/s with {} closed-loop clients (failed: {:?})\n\
         offered: {rate:.0}/s open-loop for {} s, timeout {} s\n",
        args.concurrency, capacity.failed, args.duration, args.timeout
    );

    let mut rows = Vec::new();
    for (name, max_in_flight) in [
        ("default (admission cap 64)", "64"),
        ("cap lifted (--max-in-flight 1000000)", "1000000"),
    ] {
        let server = start(max_in_flight)?;
        let watch = MemoryWatch::start(server.0.id());
        let mut outcome = open_loop(
            &base,
            &tokens,
            &communes,
            &period,
            rate,
            duration,
            Duration::from_secs(args.timeout),
        );
        outcome.rss_peak_mib = watch.peak_mib();
        // The server answers again at once after the burst.
        let after = load::get_timed(&base, "/ready", "")?;
        drop(server);
        rows.push((name, outcome, after));
    }

    println!(
        "| server | offered/s | sent | served | served/s | 503 shed | 429 | timed out | other | served p50 | served p99 | refused p99 | peak RSS | /ready after |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (name, mut o, after) in rows {
        o.served_ms
            .sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        o.refused_ms
            .sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        println!(
            "| {name} | {:.0} | {} | {} | {:.0} | {} | {} | {} | {:?} | {:.1} ms | {:.1} ms | {:.1} ms | {:.0} MiB | {after:.1} ms |",
            o.offered_per_s,
            o.sent,
            o.served,
            o.served as f64 / o.seconds,
            o.shed_503,
            o.limited_429,
            o.timed_out,
            o.other,
            median(&o.served_ms),
            percentile(&o.served_ms, 99.0),
            percentile(&o.refused_ms, 99.0),
            o.rss_peak_mib,
        );
    }
    Ok(())
}
