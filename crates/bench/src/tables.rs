//! One request for a whole table (`/api/v1/analytics`): a third-party dashboard's table
//! (8 indicators × 8 quarters × a province's communes) timed like the reads, and the national
//! table (every indicator, 8 quarters, commune level) streamed as CSV, with the server's
//! resident memory sampled every 5 ms while it streams.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::{Failure, load, met, percentile};

/// The indicators of the dashboard table: reported and derived.
const EIGHT: &str = "dossiers_total,online_dossier_rate,staff_trained,staff_trained_rate,business_innovation_rate,ocop_high_star_share,digital_team_members,initiatives_recognized";

pub struct NationalRun {
    pub seconds: f64,
    pub bytes: u64,
    pub rows: u64,
    pub rss_before_kib: u64,
    pub rss_peak_kib: u64,
}

pub struct Tables {
    pub province: String,
    pub province_rows: usize,
    pub province_ms: Vec<f64>,
    pub periods: String,
    pub national: Vec<NationalRun>,
}

/// Streams a GET's body, counting bytes and lines, keeping none of it.
fn stream(base: &str, path: &str, auth: &str) -> Result<(f64, u64, u64), Failure> {
    let url = format!("{base}{path}");
    actix_web::rt::System::new().block_on(async move {
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(300))
            .finish();
        let started = Instant::now();
        let mut res = client
            .get(&url)
            .insert_header(("Authorization", auth))
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if !res.status().is_success() {
            return Err(format!("GET {url}: {}", res.status()).into());
        }
        let (mut bytes, mut lines) = (0u64, 0u64);
        while let Some(chunk) = res.next().await {
            let chunk = chunk.map_err(|e| format!("GET {url}: {e}"))?;
            bytes += chunk.len() as u64;
            lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        }
        Ok((started.elapsed().as_secs_f64(), bytes, lines))
    })
}

pub fn measure(
    base: &str,
    auth: &str,
    pid: u32,
    province: &str,
    year: i32,
    reads: usize,
) -> Result<Tables, Failure> {
    let periods = format!("{year}Q1..{}Q4", year + 1);
    let province_path = format!(
        "/api/v1/analytics?indicator={EIGHT}&period={periods}&level=commune&province={province}"
    );
    let first = load::get_json(base, &province_path, auth)?;
    let province_rows = first["rows"].as_array().map_or(0, Vec::len);
    let province_ms = load::repeat_get(base, &province_path, auth, 3, reads)?;

    let national_path = format!("/api/v1/analytics.csv?period={periods}&level=commune");
    let mut national = Vec::new();
    for _ in 0..5 {
        let before = load::rss_kib(pid, "VmRSS").unwrap_or(0);
        let peak = Arc::new(AtomicU64::new(before));
        let done = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, done) = (Arc::clone(&peak), Arc::clone(&done));
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    if let Some(k) = load::rss_kib(pid, "VmRSS") {
                        peak.fetch_max(k, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        let result = stream(base, &national_path, auth);
        done.store(true, Ordering::Relaxed);
        let _ = sampler.join();
        let (seconds, bytes, lines) = result?;
        national.push(NationalRun {
            seconds,
            bytes,
            rows: lines.saturating_sub(1),
            rss_before_kib: before,
            rss_peak_kib: peak.load(Ordering::Relaxed),
        });
    }
    Ok(Tables {
        province: province.to_owned(),
        province_rows,
        province_ms,
        periods,
        national,
    })
}

pub fn print(t: &Tables) {
    let mut ms = t.province_ms.clone();
    ms.sort_by(f64::total_cmp);
    let p95 = percentile(&ms, 95.0);
    println!("\n### One request for a whole table (/api/v1/analytics)\n");
    println!("| measure | p50 | p95 | target | |\n|---|---|---|---|---|");
    println!(
        "| province {} table: 8 indicators × {} × its communes ({} rows), JSON | {:.1} ms | {:.1} ms | p95 ≤ 50 ms | {} |",
        t.province,
        t.periods,
        t.province_rows,
        percentile(&ms, 50.0),
        p95,
        met(p95 <= 50.0)
    );
    let mut secs: Vec<f64> = t.national.iter().map(|r| r.seconds).collect();
    secs.sort_by(f64::total_cmp);
    let median = percentile(&secs, 50.0);
    let growth = t
        .national
        .iter()
        .map(|r| r.rss_peak_kib.saturating_sub(r.rss_before_kib))
        .max()
        .unwrap_or(0);
    let rows = t.national.first().map_or(0, |r| r.rows);
    let mb = t.national.first().map_or(0, |r| r.bytes) as f64 / 1e6;
    println!(
        "| national table: every indicator × {} × 3,321 communes ({rows} rows, {mb:.0} MB), CSV streamed, median of {} | {median:.2} s | max {:.2} s | ≤ 2 s | {} |",
        t.periods,
        t.national.len(),
        secs.last().copied().unwrap_or(f64::NAN),
        met(median <= 2.0)
    );
    println!(
        "| server resident memory growth while the national table streams (max of the runs) | | {:.1} MiB | ≤ 64 MiB | {} |",
        growth as f64 / 1024.0,
        met(growth <= 64 * 1024)
    );
}
