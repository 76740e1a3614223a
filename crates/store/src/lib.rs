//! Persistence of innoreport: one diesel code path over SQLite (the embedded default) and
//! PostgreSQL (production), chosen by the database URL.
//!
//! Everything here is synchronous (diesel with an r2d2 pool); the API runs it on the blocking
//! thread pool. The [`Store`] is cheap to clone and shared by every request.

pub mod db;
pub mod reference;
pub mod reports;
pub mod schema;
pub mod seed;
pub mod settings;
pub mod targets;
#[cfg(feature = "testing")]
pub mod testing;
pub mod users;
pub mod views;

use std::time::Duration;

pub use db::{Backend, DbConnection, Pool, PooledConnection};
pub use seed::SeedReport;

/// What can go wrong in the store, by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (or the pool is exhausted): retry later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("migration failed: {0}")]
    Migration(String),
    /// The shipped seed data is broken: a defect of the build.
    #[error("seed data invalid: {0}")]
    Seed(String),
    /// A stored row does not make sense (e.g. a rule that does not parse).
    #[error("stored data invalid: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

impl StoreError {
    /// True when the failure is the database being unreachable rather than the request.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Unavailable(_)
                | StoreError::Query(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::ClosedConnection,
                    _,
                ))
        )
    }
}

/// Runs `f` in one transaction (a savepoint when one is already open): all of it or nothing.
pub fn transaction<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    use diesel::Connection;
    conn.transaction(f)
}

/// Refreshes the planner's statistics (after a bulk load: with stale statistics PostgreSQL may
/// scan whole tables for what is an index lookup).
pub fn analyze(conn: &mut DbConnection) -> Result<(), StoreError> {
    use diesel::RunQueryDsl;
    with_backend!(conn, c => diesel::sql_query("ANALYZE").execute(c))?;
    Ok(())
}

/// The database, as the rest of the product sees it.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    backend: Backend,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Store {
    /// Connects to `url` (PostgreSQL for `postgres://`, otherwise a SQLite file).
    pub fn open(url: &str, pool_size: u32) -> Result<Store, StoreError> {
        let pool = db::pool(url, pool_size, Duration::from_secs(10))?;
        Ok(Store {
            pool,
            backend: Backend::from_url(url),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection from the pool.
    pub fn conn(&self) -> Result<PooledConnection, StoreError> {
        self.pool
            .get()
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Applies pending migrations; returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        db::run_migrations(&mut *self.conn()?)
    }

    /// Loads the shipped reference data and default catalog (idempotent).
    pub fn seed(&self) -> Result<SeedReport, StoreError> {
        seed::seed(&mut *self.conn()?)
    }

    /// Ok when the database answers and every migration is applied.
    pub fn ready(&self) -> Result<bool, StoreError> {
        db::migrations_applied(&mut *self.conn()?)
    }
}
