//! Reads while communes submit: one reader cycles through the analysts' requests while writers
//! submit quarterly reports at a set rate (or as fast as 64 clients can), and every read is
//! timed. Reporting weeks are never quiet, so this is the figure that matters.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::load::{Rng, Tokens, quarterly_values};
use crate::{Failure, Ingest, percentile};

/// What one phase measured.
#[derive(Debug, Clone)]
pub struct Phase {
    /// Submissions a second asked for (`None`: as fast as the writers can).
    pub rate: Option<f64>,
    pub reads: BTreeMap<String, Vec<f64>>,
    pub writes: Ingest,
}

/// One phase of `duration`: a reader cycling through `reads` while writers submit at `rate`
/// (spread over `writers` clients, each owning its communes).
#[allow(clippy::too_many_arguments)]
pub fn phase(
    base: &str,
    tokens: &Tokens,
    admin: &str,
    communes: &[(String, String)],
    period: &str,
    reads: &[(String, String)],
    rate: Option<f64>,
    writers: usize,
    duration: Duration,
) -> Result<Phase, Failure> {
    let base = base.to_owned();
    let admin = admin.to_owned();
    let period = period.to_owned();
    let reads = reads.to_vec();
    let auth: Vec<String> = communes.iter().map(|(c, p)| tokens.officer(p, c)).collect();
    actix_web::rt::System::new().block_on(async move {
        let client = awc::Client::builder()
            .connector(awc::Connector::new().limit(writers + 2))
            .timeout(Duration::from_secs(60))
            .finish();
        let started = Instant::now();
        let deadline = started + duration;
        let writes = Rc::new(RefCell::new(Ingest::default()));
        let auth = Rc::new(auth);
        let mut tasks = Vec::new();
        let writers = match rate {
            Some(r) if r <= 0.0 => 0,
            _ => writers,
        };
        for worker in 0..writers {
            let (client, writes, auth, base, period) = (
                client.clone(),
                Rc::clone(&writes),
                Rc::clone(&auth),
                base.clone(),
                period.clone(),
            );
            // Each writer sends on its own schedule: every `gap`, first at a staggered offset.
            let gap = rate.map(|r| Duration::from_secs_f64(writers as f64 / r));
            tasks.push(actix_web::rt::spawn(async move {
                let mut rng = Rng(worker as u64 * 104_729 + 3);
                let mut next = started
                    + gap.map_or(Duration::ZERO, |g| {
                        g.mul_f64(worker as f64 / writers as f64)
                    });
                let mut k = 0usize;
                while Instant::now() < deadline {
                    if let Some(g) = gap {
                        let now = Instant::now();
                        if next > now {
                            actix_web::rt::time::sleep(next - now).await;
                        }
                        next += g;
                        if Instant::now() >= deadline {
                            break;
                        }
                    }
                    let i = (worker + k * writers) % auth.len();
                    k += 1;
                    let body = json!({"dataset": "dmst-quarterly", "period": period,
                                      "values": quarterly_values(&mut rng)});
                    let sent = Instant::now();
                    let outcome = match client
                        .post(format!("{base}/api/v1/reports"))
                        .insert_header(("Authorization", auth[i].as_str()))
                        .send_json(&body)
                        .await
                    {
                        Ok(mut res) => {
                            let _ = res.body().await;
                            if res.status().is_success() {
                                Ok(())
                            } else {
                                // A shed request is retried as a well-behaved client would:
                                // after the Retry-After it was given.
                                if res.status() == awc::http::StatusCode::SERVICE_UNAVAILABLE {
                                    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
                                }
                                Err(res.status().as_u16().to_string())
                            }
                        }
                        Err(e) => Err(e.to_string()),
                    };
                    let took = sent.elapsed().as_secs_f64() * 1000.0;
                    let mut w = writes.borrow_mut();
                    match outcome {
                        Ok(()) => {
                            w.ok += 1;
                            w.latencies_ms.push(took);
                        }
                        Err(e) => *w.failed.entry(e).or_default() += 1,
                    }
                }
            }));
        }
        // The reader: one request at a time, cycling through the list.
        let mut times: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut n = 0usize;
        while Instant::now() < deadline {
            let (name, path) = &reads[n % reads.len()];
            n += 1;
            let sent = Instant::now();
            let mut res = client
                .get(format!("{base}{path}"))
                .insert_header(("Authorization", admin.as_str()))
                .send()
                .await
                .map_err(|e| format!("GET {path}: {e}"))?;
            let body = res
                .body()
                .limit(256 * 1024 * 1024)
                .await
                .map_err(|e| format!("GET {path}: {e}"))?;
            if !res.status().is_success() {
                return Err(format!(
                    "GET {path}: {} {}",
                    res.status(),
                    String::from_utf8_lossy(&body)
                )
                .into());
            }
            times
                .entry(name.clone())
                .or_default()
                .push(sent.elapsed().as_secs_f64() * 1000.0);
        }
        for t in tasks {
            let _ = t.await;
        }
        let mut w = writes.borrow().clone();
        w.seconds = started.elapsed().as_secs_f64();
        Ok(Phase {
            rate,
            reads: times,
            writes: w,
        })
    })
}

/// The table of the phases: a row per request, p50/p95 per phase, against the targets (p95
/// ≤ 20 ms at up to 20 submissions a second, ≤ 50 ms at the highest rate).
pub fn print(phases: &[Phase], reads: &[(String, String)]) {
    if phases.is_empty() {
        return;
    }
    let label = |p: &Phase| match p.rate {
        Some(r) if r <= 0.0 => "no writes".to_owned(),
        Some(r) => format!("{r:.0} submissions/s"),
        None => format!("as fast as possible ({:.0}/s)", p.writes.rate()),
    };
    println!("\n### Reads while communes submit (one reader; p50 / p95)\n");
    let mut head = "| request |".to_owned();
    let mut rule = "|---|".to_owned();
    for p in phases {
        head.push_str(&format!(" {} |", label(p)));
        rule.push_str("---|");
    }
    println!("{head} target | |\n{rule}---|---|");
    for (name, _) in reads {
        let mut row = format!("| {name} |");
        let mut ok = true;
        for p in phases {
            let mut t = p.reads.get(name).cloned().unwrap_or_default();
            t.sort_by(f64::total_cmp);
            if t.is_empty() {
                row.push_str(" – |");
                continue;
            }
            let p95 = percentile(&t, 95.0);
            let limit = if p.rate.is_none() { 50.0 } else { 20.0 };
            ok &= p95 <= limit;
            row.push_str(&format!(" {:.1} / {p95:.1} ms |", percentile(&t, 50.0)));
        }
        println!(
            "{row} p95 ≤ 20 ms (≤ 50 ms at the highest rate) | {} |",
            crate::met(ok)
        );
    }
    let mut row = "| writes: ok/s, p99, failed |".to_owned();
    for p in phases {
        let mut t = p.writes.latencies_ms.clone();
        t.sort_by(f64::total_cmp);
        let failed: usize = p.writes.failed.values().sum();
        row.push_str(&if t.is_empty() {
            " – |".to_owned()
        } else {
            format!(
                " {:.1}/s, {:.1} ms, {failed} |",
                p.writes.rate(),
                percentile(&t, 99.0)
            )
        });
    }
    println!("{row} | |");
}
