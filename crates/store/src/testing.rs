//! Fresh databases for tests: a SQLite file in a temporary folder, or, when
//! `TEST_DATABASE_URL` names a PostgreSQL server, a new database on it, dropped afterwards.

use diesel::prelude::*;

use crate::{Backend, Store};

/// A database that exists for the life of this value.
pub struct TestDatabase {
    pub url: String,
    admin_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// A new empty database on the backend the environment asks for.
    pub fn new() -> TestDatabase {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(url) if Backend::from_url(&url) == Backend::Postgres => Self::postgres(&url),
            _ => Self::sqlite(),
        }
    }

    /// A new empty SQLite database, whatever the environment says.
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("innoreport.db");
        TestDatabase {
            url: format!("sqlite://{}", path.display()),
            admin_url: None,
            name: String::new(),
            _dir: Some(dir),
        }
    }

    fn postgres(admin_url: &str) -> TestDatabase {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("innoreport_test_{}_{}_{}", std::process::id(), nanos, n);
        let mut admin = diesel::PgConnection::establish(admin_url)
            .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is not reachable: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create test database");
        let mut url = url::Url::parse(admin_url).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        TestDatabase {
            url: url.to_string(),
            admin_url: Some(admin_url.to_owned()),
            name,
            _dir: None,
        }
    }

    pub fn backend(&self) -> Backend {
        Backend::from_url(&self.url)
    }

    /// A store on this database, migrated and seeded.
    pub fn store(&self) -> Store {
        let store = Store::open(&self.url, 4).expect("open test database");
        store.migrate().expect("migrate test database");
        store.seed().expect("seed test database");
        store
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(admin_url) = &self.admin_url
            && let Ok(mut admin) = diesel::PgConnection::establish(admin_url)
        {
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = diesel::sql_query(sql).execute(&mut admin);
        }
    }
}
