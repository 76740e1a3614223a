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
    #[arg(long, env = "INNOREPORT_SEED", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub seed: bool,

    /// Log format: `text` for people, `json` for log collectors.
    #[arg(long, env = "INNOREPORT_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Seconds to let in-flight requests finish on shutdown.
    #[arg(
        long,
        env = "INNOREPORT_SHUTDOWN_TIMEOUT",
        default_value_t = 30,
        global = true
    )]
    pub shutdown_timeout: u64,
}

impl Config {
    /// The defaults, as a fresh `innoreport` with no flags and no environment would use them.
    pub fn defaults() -> Config {
        Cli::parse_from(["innoreport"]).config
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
        let cli = Cli::parse_from(["innoreport", "--bind", "127.0.0.1:9000", "--seed", "false"]);
        assert!(cli.command.is_none());
        assert_eq!(cli.config.bind, "127.0.0.1:9000");
        assert!(!cli.config.seed);
    }

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
