//! The national-scale benchmark of innoreport. `bench/run` builds and runs it; see
//! `bench/README.md`. It measures and reports: no figure here fails a build.
//!
//! One run, on one machine:
//! 1. loads the demo data set (`innoreport demo`) into a fresh PostgreSQL database;
//! 2. starts the release server and times reads (aggregates, compliance, dashboard, index),
//!    and how long a submission takes to show in aggregates;
//! 3. drives concurrent authenticated submissions, then the same load against a plain
//!    actix-web server (the ceiling of this machine);
//! 4. computes the same province rollups and compliance in PostgreSQL SQL and in DuckDB, checks
//!    that all three agree, and compares their times;
//! 5. reads the server's resident memory;
//! 6. times whole tables in one request (`/analytics`), a province's and the nation's.

mod ceiling;
mod load;
mod mixed;
mod overload;
mod report;
mod sql;
mod tables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(about = "National-scale benchmark of innoreport (see bench/README.md)")]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Cmd {
    /// A plain actix-web server that parses the same JSON bodies: the ceiling.
    Hello {
        #[arg(long, default_value = "127.0.0.1:18081")]
        bind: String,
    },
    /// Offer twice the measured capacity: what is served, shed or timed out, with and without
    /// the admission cap (bench/README.md).
    Overload(overload::OverloadArgs),
}

#[derive(Args, Clone)]
pub struct RunArgs {
    /// PostgreSQL database for the benchmark; it is dropped and created again unless --reuse.
    #[arg(
        long,
        env = "BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/innoreport_bench"
    )]
    database_url: String,
    /// Keep the database when it already holds reports (skips the load).
    #[arg(long)]
    reuse: bool,
    /// `national` (every commune) or `province` (Sơn La only: a smoke run).
    #[arg(long, default_value = "national", value_parser = ["national", "province"])]
    scale: String,
    #[arg(long, default_value_t = 10)]
    years: i32,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Connections loading the demo data at once.
    #[arg(long, default_value_t = 4)]
    load_jobs: u16,
    /// Concurrent submitting clients.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds of submission load (each for innoreport and for the ceiling).
    #[arg(long, default_value_t = 20)]
    duration: u64,
    /// Timed requests per read endpoint (after 3 warm-up requests).
    #[arg(long, default_value_t = 40)]
    reads: usize,
    /// Repetitions of each SQL and DuckDB query.
    #[arg(long, default_value_t = 7)]
    reps: usize,
    /// A Python with the `duckdb` package (bench/run makes one); DuckDB is skipped without it.
    #[arg(long)]
    python: Option<PathBuf>,
    /// The year whose rollups are compared.
    #[arg(long, default_value_t = 2025)]
    year: i32,
    #[arg(long, default_value_t = 18080)]
    port: u16,
    #[arg(long, default_value_t = 18081)]
    hello_port: u16,
    /// What to run, of reads, tables, mixed, ingest, ceiling, compare (comma-separated).
    #[arg(
        long,
        default_value = "reads,tables,mixed,ingest,ceiling,compare",
        value_delimiter = ','
    )]
    parts: Vec<String>,
    /// Seconds of each phase of the mixed workload.
    #[arg(long, default_value_t = 15)]
    mixed_duration: u64,
    /// Submission rates of the mixed workload's phases (`max`: as fast as 64 clients can).
    #[arg(long, default_value = "0,2,20,max", value_delimiter = ',')]
    mixed_rates: Vec<String>,
}

impl RunArgs {
    fn part(&self, name: &str) -> bool {
        self.parts.iter().any(|p| p == name)
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Cmd::Hello { bind }) => hello(&bind),
        Some(Cmd::Overload(args)) => overload::run(args),
        None => run(cli.run),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("innoreport-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

pub type Failure = Box<dyn std::error::Error>;

fn hello(bind: &str) -> Result<(), Failure> {
    use actix_web::{App, HttpResponse, HttpServer, web};
    actix_web::rt::System::new().block_on(async {
        HttpServer::new(|| {
            App::new().route(
                "/api/v1/reports",
                web::post().to(|body: web::Json<serde_json::Value>| async move {
                    HttpResponse::Created().json(serde_json::json!({
                        "revision": 1,
                        "values": body.get("values"),
                    }))
                }),
            )
        })
        .bind(bind)?
        .run()
        .await
    })?;
    Ok(())
}

/// A child process that is killed when dropped.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sibling(name: &str) -> Result<PathBuf, Failure> {
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name(name);
    if !path.exists() {
        return Err(format!(
            "{} not found: build it with `cargo build --release` first",
            path.display()
        )
        .into());
    }
    Ok(path)
}

fn secret() -> String {
    // Not a credential: a throwaway key for this run's own server and tokens.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("bench-{nanos:032x}-{:08x}", std::process::id())
}

fn innoreport(bin: &Path, url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .env_remove("INNOREPORT_JWT_SECRET");
    cmd
}

fn run(args: RunArgs) -> Result<(), Failure> {
    let bin = sibling("innoreport")?;
    let me = std::env::current_exe()?;
    let mut report = report::Report::default();
    let machine = machine();
    println!("# innoreport benchmark\n\n{machine}\n");

    // 1. Data.
    let loaded = !args.reuse || sql::count_reports(&args.database_url).unwrap_or(0) == 0;
    if loaded {
        sql::recreate_database(&args.database_url)?;
        let status = innoreport(&bin, &args.database_url, &["seed"])
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            return Err("innoreport seed failed".into());
        }
        let started = Instant::now();
        let years = args.years.to_string();
        let seed = args.seed.to_string();
        let jobs = args.load_jobs.to_string();
        let out = innoreport(
            &bin,
            &args.database_url,
            &[
                "demo",
                "--scale",
                &args.scale,
                "--years",
                &years,
                "--seed",
                &seed,
                "--jobs",
                &jobs,
            ],
        )
        .output()?;
        if !out.status.success() {
            return Err(format!(
                "innoreport demo failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        report.load_seconds = Some(started.elapsed().as_secs_f64());
        print!("{}", String::from_utf8_lossy(&out.stdout));
        // The demo's plain progress lines give the load rate of each tenth of the communes.
        report.load_tenths = String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter_map(|l| {
                l.strip_suffix(" reports/s in this tenth")?
                    .rsplit("; ")
                    .next()?
                    .parse::<f64>()
                    .ok()
            })
            .collect();
    }
    let sizes = sql::sizes(&args.database_url)?;
    println!(
        "data: {} reports, {} revisions, {} values ({} current)\n",
        sizes.reports, sizes.revisions, sizes.values, sizes.current_values
    );

    // 2. The server.
    let key = secret();
    let server = Guard(
        innoreport(&bin, &args.database_url, &["serve"])
            .env("INNOREPORT_BIND", format!("127.0.0.1:{}", args.port))
            .env("INNOREPORT_JWT_SECRET", &key)
            .env("INNOREPORT_LOAD_REFERENCE_DATA", "false")
            // One admin token times every read: the per-client rate is not what is measured.
            .env("INNOREPORT_RATE_LIMIT", "0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let base = format!("http://127.0.0.1:{}", args.port);
    let spawned = Instant::now();
    load::wait_ready(&base, Duration::from_secs(120))?;
    report.ready_after_ms = Some(spawned.elapsed().as_secs_f64() * 1000.0);
    let communes = sql::communes(&args.database_url, args.scale == "province")?;
    let province = communes.first().map(|c| c.1.clone()).ok_or("no communes")?;
    let tokens = load::Tokens::new(&key);
    let admin = tokens.admin();

    let y = args.year;
    let reads: Vec<(String, String)> = vec![
        (
            "aggregates: province, quarter (ratio)".into(),
            format!("/api/v1/aggregates?indicator=online_dossier_rate&period={y}Q4&level=province"),
        ),
        (
            "aggregates: province, year (temporal rule)".into(),
            format!("/api/v1/aggregates?indicator=online_dossier_rate&period={y}&level=province"),
        ),
        (
            "aggregates: every commune, quarter".into(),
            format!("/api/v1/aggregates?indicator=staff_trained_rate&period={y}Q4&level=commune"),
        ),
        (
            "compliance: national, quarter".into(),
            format!("/api/v1/compliance?dataset=dmst-quarterly&period={y}Q4"),
        ),
        (
            "dashboard: one province".into(),
            format!("/api/v1/provinces/{province}/dashboard?period={y}Q4"),
        ),
        (
            "index: 34 provinces, 1,000 draws".into(),
            format!("/api/v1/index?period={y}&uncertainty=true&draws=1000"),
        ),
    ];
    let cold = load::get_timed(&base, &reads[0].1, &admin)?;
    report.cold_first_read_ms = Some(cold);
    if args.part("reads") {
        for (name, path) in &reads {
            let times = load::repeat_get(&base, path, &admin, 3, args.reads)?;
            report.reads.push((name.clone(), times));
        }
    }
    report.rss_after_reads = load::rss_kib(server.0.id(), "VmRSS");
    if args.part("tables") {
        report.tables = Some(tables::measure(
            &base,
            &admin,
            server.0.id(),
            &province,
            y,
            args.reads,
        )?);
    }

    // Reads while communes submit to the current quarter.
    let cy = current_year();
    report.mixed_reads = vec![
        (
            format!("province dashboard ({province}, {cy}Q4)"),
            format!("/api/v1/provinces/{province}/dashboard?period={cy}Q4"),
        ),
        (
            format!("index of the provinces, {y}"),
            format!("/api/v1/index?period={y}"),
        ),
        (
            format!("commune aggregates, national, {cy}Q4"),
            format!("/api/v1/aggregates?indicator=staff_trained_rate&period={cy}Q4&level=commune"),
        ),
        (
            format!("province aggregate, {cy}"),
            format!(
                "/api/v1/aggregates?indicator=online_dossier_rate&period={cy}&level=province&province={province}"
            ),
        ),
        (
            format!("national compliance, {cy}Q4"),
            format!("/api/v1/compliance?dataset=dmst-quarterly&period={cy}Q4"),
        ),
    ];
    if args.part("mixed") {
        for rate in &args.mixed_rates {
            let rate = match rate.as_str() {
                "max" => None,
                r => Some(r.parse::<f64>().map_err(|_| format!("bad rate {r:?}"))?),
            };
            let writers = if rate.is_none() { args.concurrency } else { 8 };
            report.mixed.push(mixed::phase(
                &base,
                &tokens,
                &admin,
                &communes,
                &format!("{cy}Q4"),
                &report.mixed_reads,
                rate,
                writers,
                Duration::from_secs(args.mixed_duration),
            )?);
        }
    }

    // Visibility of a submission in aggregates.
    report.visibility_ms = load::visibility(
        &base,
        &tokens,
        &communes,
        10,
        &format!("{}Q4", current_year()),
    )?;

    // 3. Ingest, then the ceiling.
    let period = format!("{}Q4", current_year());
    let ingest_at = |base: &str| {
        load::ingest(
            base,
            &tokens,
            &communes,
            &period,
            args.concurrency,
            Duration::from_secs(args.duration),
        )
    };
    if args.part("ingest") {
        report.ingest = Some(ingest_at(&base)?);
    }
    report.rss_peak = load::rss_kib(server.0.id(), "VmHWM");
    report.rss_after_ingest = load::rss_kib(server.0.id(), "VmRSS");
    if args.part("ceiling") {
        // The database's own ceiling for the same transaction, with the server idle.
        report.pgbench = ceiling::pgbench(
            &args.database_url,
            sizes.reports,
            &[16, args.concurrency],
            Duration::from_secs(args.duration),
        )?;
    }
    if args.part("ingest") {
        let _hello = Guard(
            Command::new(&me)
                .args(["hello", "--bind", &format!("127.0.0.1:{}", args.hello_port)])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?,
        );
        let hello_base = format!("http://127.0.0.1:{}", args.hello_port);
        load::wait_port(&hello_base, Duration::from_secs(10))?;
        report.ceiling = Some(ingest_at(&hello_base)?);
    }

    // 4. The same rollups elsewhere.
    if args.part("compare") {
        report.compare = sql::compare(&args, &base, &admin)?;
    }
    drop(server);

    report.print(&args, &sizes);
    Ok(())
}

fn current_year() -> i32 {
    use chrono::Datelike;
    (chrono::Utc::now() + chrono::Duration::hours(7)).year()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map(|k| format!("{:.0} GiB", k as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!(
        "machine: {cores} cores ({cpu}), {mem}; server, PostgreSQL and the load client share it"
    )
}

/// Latencies in milliseconds.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    percentile(&v, 50.0)
}

#[derive(Debug, Clone, Default)]
pub struct Ingest {
    pub ok: usize,
    pub failed: BTreeMap<String, usize>,
    pub seconds: f64,
    pub latencies_ms: Vec<f64>,
}

impl Ingest {
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.seconds
    }
}

/// One compared computation: its time in each engine and whether the results agree.
#[derive(Debug, Clone, Default)]
pub struct Compared {
    pub name: String,
    /// The aggregator alone, in this process, on the same rows.
    pub innoreport_ms: f64,
    /// The API's answer, end to end (warm: it may be served from the view's result cache).
    pub http_ms: f64,
    pub postgres_ms: f64,
    pub duckdb_ms: Option<f64>,
    pub agree: String,
}

pub(crate) fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}
