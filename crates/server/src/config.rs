//! Configuration: one typed struct, from flags and the environment (flags win).

use clap::{Parser, Subcommand, ValueEnum};

/// innoreport — science, technology and innovation reports of Vietnam's communes.
#[derive(Debug, Clone, Parser)]
#[command(name = "innoreport", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default): migrate, seed, serve.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Migrate, load the shipped reference data and catalog (idempotent), and exit.
    Seed,
    /// Print the OpenAPI document of the API and exit.
    Openapi,
    /// Mint a token with the server's signing key (for operators and tests).
    Token(TokenArgs),
    /// Manage logins.
    #[command(subcommand)]
    User(UserCommand),
    /// Fill the database with realistic demo reports (deterministic for a seed).
    Demo(DemoArgs),
    /// Write the reminders, digests and overdue-task notices due at an instant, and deliver
    /// what is due (once; the server does this every --notify-interval).
    Notify(NotifyArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct NotifyArgs {
    /// The instant to schedule for (RFC 3339, e.g. 2026-11-29T08:00:00+07:00; default now).
    #[arg(long, value_parser = parse_instant)]
    pub as_of: Option<chrono::DateTime<chrono::Utc>>,
    /// Print what would be written, one message a line; write and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// An RFC 3339 instant.
pub fn parse_instant(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("{s:?} is not an instant like 2026-11-29T08:00:00+07:00: {e}"))
}

/// Reminder days: `7,3,1` for every data set, and `<dataset>=14,7,1` entries (separated by `;`)
/// for one.
pub fn parse_reminder_days(s: &str) -> Result<ReminderDays, String> {
    let days = |list: &str| -> Result<Vec<u16>, String> {
        let mut out = Vec::new();
        for d in list.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            let n: u16 = d
                .parse()
                .map_err(|_| format!("{d:?} is not a number of days"))?;
            if !(1..=366).contains(&n) {
                return Err(format!("{n} days is not 1 to 366"));
            }
            out.push(n);
        }
        Ok(out)
    };
    let mut result = ReminderDays::default();
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some((dataset, list)) => {
                result
                    .per_dataset
                    .push((dataset.trim().to_owned(), days(list)?));
            }
            None => result.all = Some(days(part)?),
        }
    }
    Ok(result)
}

/// Reminder days for every data set, and for some.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReminderDays {
    pub all: Option<Vec<u16>>,
    pub per_dataset: Vec<(String, Vec<u16>)>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// The province whose communes report (default 14, Sơn La).
    #[arg(long, default_value = "14", conflicts_with = "national")]
    pub province: String,
    /// Every commune of the country instead of one province (also `--scale national`).
    #[arg(long)]
    pub national: bool,
    /// `province` (the default) or `national`.
    #[arg(long, value_parser = ["province", "national"], default_value = "province")]
    pub scale: String,
    /// Years of reports, ending with the current one.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(i32).range(1..=20))]
    pub years: i32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Connections filling communes at once on PostgreSQL (SQLite always uses one).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub jobs: u16,
}

#[derive(Debug, Clone, clap::Args)]
pub struct TokenArgs {
    /// commune_officer, province_analyst, province_admin, national_analyst or admin.
    #[arg(long)]
    pub role: String,
    /// 2-digit province code (province roles; derived from --commune when omitted).
    #[arg(long)]
    pub province: Option<String>,
    /// 5-digit commune code (commune officers).
    #[arg(long)]
    pub commune: Option<String>,
    /// Lifetime: seconds, or with a unit (90s, 15m, 1h, 7d); at most 30 days.
    #[arg(long, default_value = "1h", value_parser = parse_token_ttl)]
    pub ttl: std::time::Duration,
    /// Who the token speaks for, as the change log and every revision will name it (e.g. the
    /// operator's login, or the system it is for).
    #[arg(long)]
    pub sub: String,
}

/// The longest lifetime of a token from `innoreport token`.
pub const MAX_TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

/// A token lifetime: a duration of at most [`MAX_TOKEN_TTL`].
pub fn parse_token_ttl(s: &str) -> Result<std::time::Duration, String> {
    let d = parse_duration(s)?;
    if d > MAX_TOKEN_TTL {
        return Err(format!("{s} is longer than the 30 days a token may live"));
    }
    Ok(d)
}

#[derive(Debug, Clone, Subcommand)]
pub enum UserCommand {
    /// Create a login. Without --password-stdin a password is generated and printed once.
    Create {
        #[arg(long)]
        username: String,
        /// commune_officer, province_analyst, province_admin, national_analyst or admin.
        #[arg(long)]
        role: String,
        #[arg(long)]
        province: Option<String>,
        #[arg(long)]
        commune: Option<String>,
        /// Read the password from standard input (first line).
        #[arg(long)]
        password_stdin: bool,
        /// Where the login's notices go.
        #[arg(long)]
        email: Option<String>,
        /// The language of its notices: vi (the default) or en.
        #[arg(long)]
        language: Option<String>,
    },
    /// List logins (all, or filtered).
    List {
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        province: Option<String>,
        #[arg(long)]
        commune: Option<String>,
        /// Only disabled (true) or enabled (false) logins.
        #[arg(long)]
        disabled: Option<bool>,
    },
    /// Show one login.
    Show { username: String },
    /// Disable a login: it signs in to nothing and its tokens end at once.
    Disable { username: String },
    /// Enable a disabled login.
    Enable { username: String },
    /// Change a login's role and scope (its tokens end at once).
    SetRole {
        username: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        province: Option<String>,
        #[arg(long)]
        commune: Option<String>,
    },
    /// Reset a login's password: a new one is generated and printed once, or read from
    /// standard input with --password-stdin. Its tokens end at once.
    ResetPassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

/// `90`, `90s`, `15m`, `1h`, `7d`.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 90s, 15m, 1h or 7d"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{s:?} is not a duration like 90s, 15m, 1h or 7d")),
    };
    if secs == 0 {
        return Err("a duration must be positive".into());
    }
    Ok(std::time::Duration::from_secs(secs))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything the service can be told. Each flag also reads an environment variable.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Database: `postgres://user:pass@host/db` for PostgreSQL, otherwise a SQLite file
    /// (`sqlite://path` or a plain path), created when missing.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://innoreport.db",
        global = true
    )]
    pub database_url: String,

    /// Address and port to listen on.
    #[arg(
        long,
        env = "INNOREPORT_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "INNOREPORT_WORKERS", global = true)]
    pub workers: Option<usize>,

    /// Database connections in the pool (SQLite uses at most 8).
    #[arg(
        long,
        env = "INNOREPORT_POOL_SIZE",
        default_value_t = 16,
        global = true
    )]
    pub pool_size: u32,

    /// Load the shipped reference data at start (inserts only what is missing).
    #[arg(long, env = "INNOREPORT_LOAD_REFERENCE_DATA", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub load_reference_data: bool,

    /// Log format: `text` for people, `json` for log collectors.
    #[arg(long, env = "INNOREPORT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Secret for signing tokens (HS256, at least 32 bytes). When unset, one is generated
    /// once, stored in the database (shared by replicas) and a warning is logged: set it in
    /// production.
    #[arg(
        long,
        env = "INNOREPORT_JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<String>,

    /// Issuer (`iss`) of the tokens.
    #[arg(
        long,
        env = "INNOREPORT_JWT_ISSUER",
        default_value = "innoreport",
        global = true
    )]
    pub jwt_issuer: String,

    /// Audience (`aud`) of the tokens.
    #[arg(
        long,
        env = "INNOREPORT_JWT_AUDIENCE",
        default_value = "innoreport-api",
        global = true
    )]
    pub jwt_audience: String,

    /// Lifetime of tokens from POST /api/v1/auth/token (90s, 15m, 1h, ...).
    #[arg(long, env = "INNOREPORT_TOKEN_TTL", default_value = "1h", value_parser = parse_duration, global = true)]
    pub token_ttl: std::time::Duration,

    /// Seconds to let in-flight requests finish on shutdown.
    #[arg(
        long,
        env = "INNOREPORT_SHUTDOWN_TIMEOUT",
        default_value_t = 30,
        global = true
    )]
    pub shutdown_timeout: u64,

    /// Requests worked on at once (over all workers); beyond it the service answers 503 with
    /// Retry-After at once instead of queueing.
    #[arg(
        long,
        env = "INNOREPORT_MAX_IN_FLIGHT",
        default_value_t = 64,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub max_in_flight: u32,

    /// Seconds a request body may take to arrive (plus one second per 32 KiB of its size, at most
    /// 300 s in all); a slower body is answered 408 and its connection closed.
    #[arg(
        long,
        env = "INNOREPORT_BODY_TIMEOUT",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=300),
        global = true
    )]
    pub body_timeout: u64,

    /// Requests one client (token subject, or address without a token) may have open at once,
    /// bodies being read or being worked on; beyond it 429.
    #[arg(
        long,
        env = "INNOREPORT_MAX_PER_CLIENT",
        default_value_t = 16,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub max_per_client: u32,

    /// Requests a second per client (token subject, or address without a token); beyond it
    /// 429 with Retry-After. 0 turns the limit off.
    #[arg(
        long,
        env = "INNOREPORT_RATE_LIMIT",
        default_value_t = 50,
        global = true
    )]
    pub rate_limit: u32,

    /// Requests a client may send in a burst above --rate-limit.
    #[arg(
        long,
        env = "INNOREPORT_RATE_BURST",
        default_value_t = 100,
        global = true
    )]
    pub rate_burst: u32,

    /// Count requests without a token against the last address of X-Forwarded-For (set only
    /// behind a reverse proxy that is the sole way in, as in docker-compose.yml).
    #[arg(long, env = "INNOREPORT_TRUST_FORWARDED_FOR", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub trust_forwarded_for: bool,

    /// Work units (Monte Carlo draws; a what-if run costs 100 more) a login may spend on
    /// uncached index computations a minute; beyond it 429. 0 turns the budget off.
    #[arg(
        long,
        env = "INNOREPORT_COMPUTE_BUDGET",
        default_value_t = innoreport_service::DEFAULT_COMPUTE_BUDGET,
        global = true
    )]
    pub compute_budget: u64,

    /// Keep computed index runs for the exact inputs they were computed from. Turned off only to
    /// check that the cache never changes an answer.
    #[arg(long, env = "INNOREPORT_RESULT_CACHE", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub result_cache: bool,

    /// Seconds a request waits for a database connection before answering 503.
    #[arg(
        long,
        env = "INNOREPORT_DB_TIMEOUT",
        default_value_t = 3,
        value_parser = clap::value_parser!(u64).range(1..=60),
        global = true
    )]
    pub db_timeout: u64,

    /// The address of the pages as recipients reach them, prefixed to every notice's link
    /// (default: http:// and --bind).
    #[arg(long, env = "INNOREPORT_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Seconds between two runs of the notifier (schedule reminders, digests and overdue-task
    /// notices; deliver what is due); 0 turns it off on this replica.
    #[arg(
        long,
        env = "INNOREPORT_NOTIFY_INTERVAL",
        default_value_t = 60,
        global = true
    )]
    pub notify_interval: u64,

    /// Days before a deadline on which reminders go out: `7,3,1` for every data set, and
    /// `<dataset>=14,7,1` (entries separated by `;`) for one. Empty: no reminders.
    #[arg(long, env = "INNOREPORT_REMINDER_DAYS", default_value = "7,3,1", value_parser = parse_reminder_days, global = true)]
    pub reminder_days: ReminderDays,

    /// SMTP server for notices by email (unset: email waits in the outbox, webhooks still go).
    #[arg(long, env = "INNOREPORT_SMTP_HOST", global = true)]
    pub smtp_host: Option<String>,

    /// SMTP port.
    #[arg(
        long,
        env = "INNOREPORT_SMTP_PORT",
        default_value_t = 587,
        global = true
    )]
    pub smtp_port: u16,

    /// `starttls` (required, port 587), `tls` (port 465) or `none` (a relay on this host only).
    #[arg(long, env = "INNOREPORT_SMTP_SECURITY", value_enum, default_value_t = SmtpSecurity::Starttls, global = true)]
    pub smtp_security: SmtpSecurity,

    /// SMTP username (with --smtp-password).
    #[arg(long, env = "INNOREPORT_SMTP_USERNAME", global = true)]
    pub smtp_username: Option<String>,

    /// SMTP password.
    #[arg(
        long,
        env = "INNOREPORT_SMTP_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub smtp_password: Option<String>,

    /// Accept webhooks to this machine over plain http (http://127.0.0.1/…): for tests only.
    /// Otherwise a webhook must be https to a public address (no private, loopback or
    /// link-local address).
    #[arg(long, env = "INNOREPORT_WEBHOOK_ALLOW_LOOPBACK", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub webhook_allow_loopback: bool,

    /// The sender of notices by email.
    #[arg(
        long,
        env = "INNOREPORT_MAIL_FROM",
        default_value = "innoreport <no-reply@localhost>",
        global = true
    )]
    pub mail_from: String,

    /// The first retry of a failed delivery waits this long; each next one twice as long.
    #[arg(long, env = "INNOREPORT_NOTIFY_RETRY_BASE", default_value = "60s", value_parser = parse_duration, global = true)]
    pub notify_retry_base: std::time::Duration,

    /// Attempts before a delivery is marked failed.
    #[arg(
        long,
        env = "INNOREPORT_NOTIFY_MAX_ATTEMPTS",
        default_value_t = 8,
        value_parser = clap::value_parser!(u32).range(1..=30),
        global = true
    )]
    pub notify_max_attempts: u32,

    /// How long a deliverer holds a message it is sending before another may send it again
    /// (after a crash).
    #[arg(long, env = "INNOREPORT_NOTIFY_LEASE", default_value = "120s", value_parser = parse_duration, global = true)]
    pub notify_lease: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SmtpSecurity {
    Starttls,
    Tls,
    None,
}

impl Config {
    /// The defaults, as a fresh `innoreport` with no flags and no environment would use them
    /// (the environment of this process is not read).
    pub fn defaults() -> Config {
        use clap::{CommandFactory, FromArgMatches};
        let command = Cli::command().mut_args(|a| a.env(None::<&str>));
        let matches = command.get_matches_from(["innoreport"]);
        Cli::from_arg_matches(&matches)
            .expect("the defaults parse")
            .config
    }

    /// The settings of the application layer.
    pub fn options(&self) -> innoreport_service::Options {
        innoreport_service::Options {
            compute_budget: self.compute_budget,
            cache_results: self.result_cache,
            loopback_webhooks: self.webhook_allow_loopback,
        }
    }

    /// The admission limits of the HTTP service.
    pub fn limits(&self) -> innoreport_api::http::guard::Limits {
        innoreport_api::http::guard::Limits {
            max_in_flight: self.max_in_flight as usize,
            max_large_uploads: innoreport_api::http::guard::Limits::default().max_large_uploads,
            max_per_client: self.max_per_client as usize,
            body_timeout: std::time::Duration::from_secs(self.body_timeout),
            rate_per_second: self.rate_limit,
            burst: self.rate_burst,
            trust_forwarded_for: self.trust_forwarded_for,
            // PostgreSQL: all but two connections of the pool; SQLite has one writer anyway.
            db_writers: if self.database_url.starts_with("postgres") {
                (self.pool_size as usize).saturating_sub(2).max(1)
            } else {
                1
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_defaults_and_subcommands_take_global_flags() {
        let cli = Cli::parse_from(["innoreport", "migrate", "--database-url", "postgres://h/db"]);
        assert!(matches!(cli.command, Some(Command::Migrate)));
        assert_eq!(cli.config.database_url, "postgres://h/db");
        let cli = Cli::parse_from([
            "innoreport",
            "--bind",
            "127.0.0.1:9000",
            "--load-reference-data",
            "false",
        ]);
        assert!(cli.command.is_none());
        assert_eq!(cli.config.bind, "127.0.0.1:9000");
        assert!(!cli.config.load_reference_data);
    }

    #[test]
    fn the_defaults_ignore_the_environment() {
        // SAFETY: tests of this crate do not read this variable concurrently.
        unsafe { std::env::set_var("INNOREPORT_BIND", "0.0.0.0:1") };
        assert_eq!(Config::defaults().bind, "127.0.0.1:8080");
        unsafe { std::env::remove_var("INNOREPORT_BIND") };
    }

    #[test]
    fn durations_take_units() {
        assert_eq!(parse_duration("90").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("15m").unwrap().as_secs(), 900);
        assert_eq!(parse_duration("1h").unwrap().as_secs(), 3600);
        assert_eq!(parse_duration("7d").unwrap().as_secs(), 604_800);
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("1w").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_token_ttl("30d").is_ok());
        assert!(parse_token_ttl("31d").is_err());
        assert!(parse_token_ttl("36500d").is_err());
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
