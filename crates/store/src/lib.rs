//! Persistence of innoreport: one diesel code path over SQLite (the embedded default) and
//! PostgreSQL (production), chosen by the database URL.
//!
//! Everything here is synchronous (diesel with an r2d2 pool); the API runs it on the blocking
//! thread pool. The [`Store`] is cheap to clone and shared by every request.

pub mod changes;
pub mod db;
pub mod documents;
pub mod keys;
pub mod logins;
pub mod notify;
pub mod plans;
mod prepared;
pub mod reference;
pub mod report_reads;
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
    /// True when the failure is the database being unreachable (down, restarting, a connection
    /// cut, SQLite busy past its timeout) rather than the request: the client may retry.
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind as Kind, Error};
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Query(Error::DatabaseError(Kind::ClosedConnection, _))
            | StoreError::Query(Error::DatabaseError(Kind::UnableToSendCommand, _))
            | StoreError::Query(Error::BrokenTransactionManager) => true,
            StoreError::Query(Error::DatabaseError(_, info)) => connection_lost(info.message()),
            _ => false,
        }
    }
}

/// Messages of PostgreSQL (libpq) and SQLite that mean the connection, not the statement, failed:
/// an administrator shutdown (57P01) or a restart in progress (57P03), a cut socket, a busy file.
fn connection_lost(message: &str) -> bool {
    const SIGNS: [&str; 9] = [
        "terminating connection",
        "server closed the connection",
        "no connection to the server",
        "connection to server",
        "could not connect",
        "could not receive data",
        "could not send data",
        "the database system is",
        "database is locked",
    ];
    let message = message.to_lowercase();
    SIGNS.iter().any(|sign| message.contains(sign))
}

/// Runs `f` in one transaction (a savepoint when one is already open): all of it or nothing.
/// `f` may fail with any error that a store error converts into; it is returned as it was.
pub fn transaction<T, E: From<StoreError>>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    use diesel::Connection;
    enum Failed<E> {
        Database(diesel::result::Error),
        Caller(E),
    }
    impl<E> From<diesel::result::Error> for Failed<E> {
        fn from(e: diesel::result::Error) -> Self {
            Failed::Database(e)
        }
    }
    conn.transaction::<T, Failed<E>, _>(|c| f(c).map_err(Failed::Caller))
        .map_err(|e| match e {
            Failed::Database(e) => E::from(StoreError::from(e)),
            Failed::Caller(e) => e,
        })
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
        Self::open_with_timeout(url, pool_size, Duration::from_secs(10))
    }

    /// Like [`Store::open`]; a request waits at most `timeout` for a connection (then
    /// [`StoreError::Unavailable`]), which bounds how long anyone waits while the database is down.
    pub fn open_with_timeout(
        url: &str,
        pool_size: u32,
        timeout: Duration,
    ) -> Result<Store, StoreError> {
        let pool = db::pool(url, pool_size, timeout)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error};

    fn db_error(kind: DatabaseErrorKind, message: &str) -> StoreError {
        StoreError::Query(Error::DatabaseError(kind, Box::new(message.to_owned())))
    }

    #[test]
    fn a_lost_connection_is_unavailable_and_a_bad_statement_is_not() {
        for lost in [
            "terminating connection due to administrator command",
            "server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally",
            "FATAL:  the database system is starting up",
            "database is locked",
        ] {
            assert!(
                db_error(DatabaseErrorKind::Unknown, lost).is_unavailable(),
                "{lost}"
            );
        }
        assert!(db_error(DatabaseErrorKind::ClosedConnection, "x").is_unavailable());
        assert!(StoreError::Unavailable("pool timed out".into()).is_unavailable());
        assert!(
            !db_error(
                DatabaseErrorKind::UniqueViolation,
                "duplicate key value violates unique constraint"
            )
            .is_unavailable()
        );
        assert!(!db_error(DatabaseErrorKind::Unknown, "syntax error at or near").is_unavailable());
        assert!(!StoreError::Corrupt("bad rule".into()).is_unavailable());
    }
}
