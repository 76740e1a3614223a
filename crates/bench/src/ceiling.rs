//! The database's own ceiling: the minimal durable submission transaction
//! (`bench/pgbench-submit.sql`), driven by pgbench with prepared statements on the same
//! database, so innoreport's ingest can be stated as a share of what its database can do.

use std::process::Command;
use std::time::Duration;

use crate::Failure;

const SCRIPT: &str = include_str!("../../../bench/pgbench-submit.sql");

/// One pgbench run.
#[derive(Debug, Clone)]
pub struct Ceiling {
    pub clients: usize,
    pub tps: f64,
    pub latency_ms: f64,
}

/// Runs the script with each number of `clients` for `duration` (pgbench must be installed).
pub fn pgbench(
    database_url: &str,
    reports: i64,
    clients: &[usize],
    duration: Duration,
) -> Result<Vec<Ceiling>, Failure> {
    let dir = std::env::temp_dir().join(format!("innoreport-pgbench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("submit.sql");
    std::fs::write(&script, SCRIPT)?;
    let mut out = Vec::new();
    for &c in clients {
        let run = Command::new("pgbench")
            .args(["-n", "-M", "prepared", "-j", "2"])
            .args(["-c", &c.to_string(), "-T", &duration.as_secs().to_string()])
            .args(["-D", &format!("reports={}", reports.max(1))])
            .arg("-f")
            .arg(&script)
            .arg(database_url)
            .output()
            .map_err(|e| format!("pgbench could not run (is it installed?): {e}"))?;
        let text = String::from_utf8_lossy(&run.stdout);
        if !run.status.success() {
            return Err(format!(
                "pgbench failed: {}{}",
                text,
                String::from_utf8_lossy(&run.stderr)
            )
            .into());
        }
        let number = |prefix: &str| {
            text.lines()
                .find(|l| l.starts_with(prefix))
                .and_then(|l| l[prefix.len()..].split_whitespace().next())
                .and_then(|v| v.parse::<f64>().ok())
        };
        out.push(Ceiling {
            clients: c,
            tps: number("tps = ").ok_or("pgbench printed no tps")?,
            latency_ms: number("latency average = ").unwrap_or(f64::NAN),
        });
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(out)
}
