//! What every handler shares.

use std::sync::Arc;

use actix_web::web;
use chrono::{DateTime, Utc};
use innoreport_core::Catalog;
use innoreport_store::{DbConnection, Store, StoreError};

use crate::auth::TokenKeys;
use crate::live::{LiveView, Snapshot};
use crate::metrics::Metrics;
use crate::problem::ApiError;

/// The server's clock: the system time, or a time set by a test. Deadlines, locks and
/// receipt times all read it, so deadline behaviour can be tested at any instant.
#[derive(Clone, Debug, Default)]
pub struct Clock(Arc<std::sync::RwLock<Option<DateTime<Utc>>>>);

impl Clock {
    pub fn system() -> Clock {
        Clock::default()
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.0
            .read()
            .map(|t| *t)
            .ok()
            .flatten()
            .unwrap_or_else(Utc::now)
    }

    /// Fixes the time (tests only ever call this).
    pub fn set(&self, at: DateTime<Utc>) {
        if let Ok(mut t) = self.0.write() {
            *t = Some(at);
        }
    }
}

/// The province of each commune, by commune code.
pub type CommuneProvinces = std::collections::BTreeMap<String, String>;

/// Shared, cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub keys: Arc<TokenKeys>,
    pub clock: Clock,
    pub live: Arc<LiveView>,
    pub metrics: Arc<Metrics>,
    pub login_limiter: Arc<crate::auth::LoginLimiter>,
    catalog: Arc<std::sync::Mutex<Option<(std::time::Instant, Catalog)>>>,
    /// Rollups and index runs of the live view's current version.
    pub results: Arc<crate::cache::ResultCache>,
    /// Province of every commune (reference data), read once.
    pub communes: Arc<std::sync::RwLock<Option<Arc<CommuneProvinces>>>>,
    /// Admission control: rate per client and requests at once.
    pub guard: Arc<crate::guard::Guard>,
}

/// How long a replica reuses the catalog it read. The catalog changes only when an admin edits
/// the index framework: the replica that saves it forgets its copy at once, other replicas
/// within this time.
const CATALOG_TTL: std::time::Duration = std::time::Duration::from_secs(1);

impl AppState {
    pub fn new(store: Store, keys: TokenKeys) -> AppState {
        AppState {
            store,
            keys: Arc::new(keys),
            clock: Clock::system(),
            live: Arc::new(LiveView::default()),
            metrics: Arc::new(Metrics::default()),
            login_limiter: Arc::new(crate::auth::login_limiter()),
            catalog: Arc::default(),
            results: Arc::default(),
            communes: Arc::default(),
            guard: Arc::new(crate::guard::Guard::new(Default::default())),
        }
    }

    pub fn with_limits(mut self, limits: crate::guard::Limits) -> AppState {
        self.guard = Arc::new(crate::guard::Guard::new(limits));
        self
    }

    pub fn with_clock(mut self, clock: Clock) -> AppState {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Runs blocking database work on the blocking thread pool (actix workers are
    /// single-threaded runtimes: blocking them stalls every request on that worker).
    pub async fn db<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<R, StoreError> + Send + 'static,
        R: Send + 'static,
    {
        let store = self.store.clone();
        let result = web::block(move || {
            let mut conn = store.conn()?;
            f(&mut conn)
        })
        .await?;
        Ok(result?)
    }

    /// The live view, caught up with the database.
    pub async fn snapshot(&self) -> Result<Snapshot, ApiError> {
        let live = Arc::clone(&self.live);
        let started = std::time::Instant::now();
        let snapshot = self.db(move |conn| live.refresh(conn)).await?;
        self.metrics
            .view_refresh
            .observe(started.elapsed().as_secs_f64());
        self.metrics.view_reports.set(snapshot.reports as i64);
        self.metrics.view_version.set(snapshot.version as i64);
        Ok(snapshot)
    }

    /// The catalog as stored (read at most once a second; see [`CATALOG_TTL`]).
    pub async fn catalog(&self) -> Result<Catalog, ApiError> {
        if let Some((at, catalog)) = &*self.catalog.lock().unwrap_or_else(|e| e.into_inner())
            && at.elapsed() < CATALOG_TTL
        {
            return Ok(catalog.clone());
        }
        let catalog = self.db(innoreport_store::reference::load_catalog).await?;
        *self.catalog.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((std::time::Instant::now(), catalog.clone()));
        Ok(catalog)
    }

    /// Forgets the cached catalog (after this replica changed it).
    pub fn catalog_changed(&self) {
        *self.catalog.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}
