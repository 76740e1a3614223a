//! One connection type over PostgreSQL and SQLite, a pool, and migrations.
//!
//! `DbConnection` is diesel's `MultiConnection`: ordinary queries are written once against it.
//! What the multi-connection cannot express (batch inserts, `ON CONFLICT`, advisory locks) goes
//! through [`with_backend!`], which runs the same expression on the inner connection.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::StoreError;

pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs `$body` with `$c` bound to the inner connection of either backend.
#[macro_export]
macro_rules! with_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Pg($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// `postgres://` and `postgresql://` URLs are PostgreSQL; anything else is a SQLite file
    /// (`sqlite://path`, `sqlite:path` or a plain path).
    pub fn from_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgresql",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// The file path of a SQLite URL.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Opens connections for the pool, choosing the backend from the URL and preparing SQLite for
/// concurrent use (WAL, busy timeout, foreign keys, full sync: an acknowledged write survives
/// a power cut).
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
    backend: Backend,
}

impl Manager {
    pub fn new(url: &str) -> Manager {
        Manager {
            url: url.to_owned(),
            backend: Backend::from_url(url),
        }
    }

    fn open(&self) -> Result<DbConnection, diesel::ConnectionError> {
        match self.backend {
            Backend::Postgres => diesel::PgConnection::establish(&self.url).map(DbConnection::Pg),
            Backend::Sqlite => {
                let mut c = diesel::SqliteConnection::establish(sqlite_path(&self.url))?;
                c.batch_execute(
                    "PRAGMA busy_timeout = 15000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
                )
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(c))
            }
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        self.open().map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        with_backend!(conn, c => c.is_broken())
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConnection = r2d2::PooledConnection<Manager>;

/// Builds a pool. SQLite gets a small pool (one writer at a time anyway); the pool waits at
/// most `timeout` for a free connection.
pub fn pool(url: &str, max_size: u32, timeout: Duration) -> Result<Pool, StoreError> {
    let manager = Manager::new(url);
    let size = match manager.backend {
        Backend::Postgres => max_size.max(1),
        Backend::Sqlite => max_size.clamp(1, 8),
    };
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        // No `SELECT 1` round trip before every use: a connection that broke (a database
        // restart) fails its next statement, is answered 503 and dropped from the pool.
        .test_on_check_out(false)
        .connection_timeout(timeout)
        .build(manager)
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}

/// A key held while migrating PostgreSQL, so replicas starting together migrate once.
const MIGRATION_LOCK_KEY: i64 = 0x696e_6e6f_7265_706f; // "innorepo"

/// Applies pending migrations; returns the versions applied.
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let applied = match conn {
        DbConnection::Pg(c) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(c)?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>());
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(c)?;
            result
        }
        DbConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>()),
    };
    applied.map_err(|e| StoreError::Migration(e.to_string()))
}

/// Reverts the last applied migration (its `down.sql`); returns its version. For operators
/// rolling back a release, and for tests that prove a migration keeps existing rows.
pub fn revert_last_migration(conn: &mut DbConnection) -> Result<String, StoreError> {
    let reverted = match conn {
        DbConnection::Pg(c) => c.revert_last_migration(POSTGRES_MIGRATIONS),
        DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS),
    };
    reverted
        .map(|v| v.to_string())
        .map_err(|e| StoreError::Migration(e.to_string()))
}

/// True when every embedded migration has been applied.
pub fn migrations_applied(conn: &mut DbConnection) -> Result<bool, StoreError> {
    let pending = match conn {
        DbConnection::Pg(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
    };
    pending
        .map(|p| !p)
        .map_err(|e| StoreError::Migration(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_scheme_chooses_the_backend() {
        assert_eq!(Backend::from_url("postgres://u@h/db"), Backend::Postgres);
        assert_eq!(Backend::from_url("postgresql://h/db"), Backend::Postgres);
        assert_eq!(Backend::from_url("sqlite://data/x.db"), Backend::Sqlite);
        assert_eq!(Backend::from_url("innoreport.db"), Backend::Sqlite);
        assert_eq!(sqlite_path("sqlite://data/x.db"), "data/x.db");
        assert_eq!(sqlite_path("sqlite:x.db"), "x.db");
        assert_eq!(sqlite_path("/abs/x.db"), "/abs/x.db");
    }
}
