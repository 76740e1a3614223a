//! HTTP clients of the benchmark: timed reads, visibility and concurrent submissions, all on
//! loopback and all bounded in time.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{Failure, Ingest};

/// Tokens signed with the server's key for this run.
pub struct Tokens {
    key: jsonwebtoken::EncodingKey,
}

impl Tokens {
    pub fn new(secret: &str) -> Tokens {
        Tokens {
            key: jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        }
    }

    fn mint(&self, role: &str, province: Option<&str>, commune: Option<&str>) -> String {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({
            "sub": format!("bench-{}", commune.or(province).unwrap_or(role)),
            "role": role,
            "province": province,
            "commune": commune,
            "iss": "innoreport",
            "aud": "innoreport-api",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "jti": format!("bench-{now}-{}", commune.unwrap_or("")),
        });
        let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &self.key)
            .expect("HS256 signing does not fail");
        format!("Bearer {token}")
    }

    pub fn admin(&self) -> String {
        self.mint("admin", None, None)
    }

    pub fn officer(&self, province: &str, commune: &str) -> String {
        self.mint("commune_officer", Some(province), Some(commune))
    }
}

fn client(limit: usize) -> awc::Client {
    awc::Client::builder()
        .connector(awc::Connector::new().limit(limit))
        .timeout(Duration::from_secs(60))
        .finish()
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

pub fn wait_ready(base: &str, within: Duration) -> Result<(), Failure> {
    wait(base, "/ready", within)
}

pub fn wait_port(base: &str, within: Duration) -> Result<(), Failure> {
    wait(base, "/", within)
}

fn wait(base: &str, path: &str, within: Duration) -> Result<(), Failure> {
    let url = format!("{base}{path}");
    actix_web::rt::System::new().block_on(async move {
        let client = client(1);
        let deadline = Instant::now() + within;
        loop {
            if let Ok(res) = client.get(&url).send().await
                && (res.status().is_success() || path == "/")
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("{url} did not answer within {within:?}").into());
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    })
}

/// GET and read the whole body (its time is the server's answer and the transfer, not the
/// client's JSON parsing); a status other than 2xx is a failure that quotes the body.
async fn get_body(
    client: &awc::Client,
    url: &str,
    auth: &str,
) -> Result<actix_web::web::Bytes, Failure> {
    let mut res = client
        .get(url)
        .insert_header(("Authorization", auth))
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let body = res
        .body()
        .limit(256 * 1024 * 1024)
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if !res.status().is_success() {
        return Err(format!(
            "GET {url}: {} {}",
            res.status(),
            String::from_utf8_lossy(&body)
        )
        .into());
    }
    Ok(body)
}

async fn get(client: &awc::Client, url: &str, auth: &str) -> Result<Value, Failure> {
    Ok(serde_json::from_slice(&get_body(client, url, auth).await?)?)
}

/// One GET, timed (ms).
pub fn get_timed(base: &str, path: &str, auth: &str) -> Result<f64, Failure> {
    let url = format!("{base}{path}");
    actix_web::rt::System::new().block_on(async move {
        let client = client(1);
        let started = Instant::now();
        get(&client, &url, auth).await?;
        Ok(ms(started))
    })
}

/// `warmup` untimed then `n` timed GETs, one at a time (ms each).
pub fn repeat_get(
    base: &str,
    path: &str,
    auth: &str,
    warmup: usize,
    n: usize,
) -> Result<Vec<f64>, Failure> {
    let url = format!("{base}{path}");
    actix_web::rt::System::new().block_on(async move {
        let client = client(1);
        for _ in 0..warmup {
            get(&client, &url, auth).await?;
        }
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            let started = Instant::now();
            get_body(&client, &url, auth).await?;
            times.push(ms(started));
        }
        Ok(times)
    })
}

/// GET (JSON) once, for the comparisons.
pub fn get_json(base: &str, path: &str, auth: &str) -> Result<Value, Failure> {
    let url = format!("{base}{path}");
    actix_web::rt::System::new().block_on(async move { get(&client(1), &url, auth).await })
}

pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> f64 {
        // SplitMix64.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn int(&mut self, lo: f64, hi: f64) -> f64 {
        (lo + self.next() * (hi - lo)).round()
    }
}

/// A plausible quarterly report (every part ≤ its whole).
pub fn quarterly_values(rng: &mut Rng) -> Value {
    let dossiers = rng.int(50.0, 900.0);
    let staff = rng.int(25.0, 60.0);
    let members = rng.int(5.0, 60.0);
    let businesses = rng.int(50.0, 700.0);
    let proposed = rng.int(0.0, 12.0);
    json!({
        "dossiers_total": dossiers,
        "dossiers_online_full": (dossiers * rng.next()).round(),
        "staff_total": staff,
        "staff_trained": (staff * rng.next()).round(),
        "digital_team_members": members,
        "digital_teams": (members * rng.next() / 4.0).round(),
        "businesses_total": businesses,
        "businesses_innovating": (businesses * rng.next() * 0.1).round(),
        "initiatives_proposed": proposed,
        "initiatives_recognized": (proposed * rng.next()).round(),
        "st_models": rng.int(0.0, 3.0),
        "outreach_sessions": rng.int(0.0, 6.0),
        "ocop_3star": rng.int(0.0, 5.0),
        "ocop_4star": rng.int(0.0, 3.0),
        "ocop_5star": rng.int(0.0, 1.0),
    })
}

/// Concurrent submissions for `duration`: each client owns its own communes (no two clients
/// write one report) and sends a new revision of a full quarterly report each time.
pub fn ingest(
    base: &str,
    tokens: &Tokens,
    communes: &[(String, String)],
    period: &str,
    concurrency: usize,
    duration: Duration,
) -> Result<Ingest, Failure> {
    let url = format!("{base}/api/v1/reports");
    let auth: Vec<String> = communes.iter().map(|(c, p)| tokens.officer(p, c)).collect();
    let period = period.to_owned();
    actix_web::rt::System::new().block_on(async move {
        let client = client(concurrency);
        let result = Rc::new(RefCell::new(Ingest::default()));
        let auth = Rc::new(auth);
        let started = Instant::now();
        let deadline = started + duration;
        let mut tasks = Vec::new();
        for worker in 0..concurrency {
            let (client, result, auth, url, period) = (
                client.clone(),
                Rc::clone(&result),
                Rc::clone(&auth),
                url.clone(),
                period.clone(),
            );
            tasks.push(actix_web::rt::spawn(async move {
                let mut rng = Rng(worker as u64 * 7919 + 17);
                let mut k = 0usize;
                while Instant::now() < deadline {
                    let i = (worker + k * concurrency) % auth.len();
                    k += 1;
                    let body = json!({
                        "dataset": "dmst-quarterly",
                        "period": period,
                        "values": quarterly_values(&mut rng),
                    });
                    let sent = Instant::now();
                    let outcome = match client
                        .post(&url)
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
                        Err(e) => Err(format!("{e}")),
                    };
                    let took = ms(sent);
                    let mut r = result.borrow_mut();
                    match outcome {
                        Ok(()) => {
                            r.ok += 1;
                            r.latencies_ms.push(took);
                        }
                        Err(e) => *r.failed.entry(e).or_default() += 1,
                    }
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        let mut out = result.borrow().clone();
        out.seconds = started.elapsed().as_secs_f64();
        Ok(out)
    })
}

/// Times from sending a changed report to the first aggregate that shows it (ms), `n` times.
pub fn visibility(
    base: &str,
    tokens: &Tokens,
    communes: &[(String, String)],
    n: usize,
    period: &str,
) -> Result<Vec<f64>, Failure> {
    let admin = tokens.admin();
    let base = base.to_owned();
    let period = period.to_owned();
    let picks: Vec<(String, String)> = (0..n)
        .map(|i| communes[(i * 331 + 7) % communes.len()].clone())
        .collect();
    actix_web::rt::System::new().block_on(async move {
        let client = client(2);
        let mut rng = Rng(99);
        let mut times = Vec::new();
        for (commune, province) in picks {
            let mut values = quarterly_values(&mut rng);
            // A staff count no report of this run has used, so its appearance is unambiguous.
            let marker = 100_000.0 + (rng.next() * 1e6).round();
            values["staff_total"] = json!(marker);
            let started = Instant::now();
            let mut res = client
                .post(format!("{base}/api/v1/reports"))
                .insert_header(("Authorization", admin.as_str()))
                .send_json(&json!({
                    "commune": commune, "dataset": "dmst-quarterly", "period": period,
                    "values": values,
                }))
                .await
                .map_err(|e| format!("submit: {e}"))?;
            let body = res.body().await.unwrap_or_default();
            if !res.status().is_success() {
                return Err(format!(
                    "submit for visibility: {} {}",
                    res.status(),
                    String::from_utf8_lossy(&body)
                )
                .into());
            }
            let url = format!(
                "{base}/api/v1/aggregates?indicator=staff_total&period={period}&level=commune&province={province}"
            );
            loop {
                let doc = get(&client, &url, &admin).await?;
                let seen = doc["items"].as_array().is_some_and(|items| {
                    items
                        .iter()
                        .any(|i| i["unit"] == commune.as_str() && i["value"] == json!(marker))
                });
                if seen {
                    times.push(ms(started));
                    break;
                }
                if started.elapsed() > Duration::from_secs(10) {
                    return Err("a submission was not visible within 10 s".into());
                }
            }
        }
        Ok(times)
    })
}

/// A line of /proc/<pid>/status in KiB (VmRSS now, VmHWM peak).
pub fn rss_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
