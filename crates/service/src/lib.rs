//! The application layer of innoreport: every use case (submitting and reviewing reports,
//! imports, accounts, rollups, compliance, targets, the dashboard, the innovation index), the
//! live view of current values and the caches, with no HTTP in sight.
//!
//! The HTTP adapter (`innoreport-api`) parses a request, calls one method of [`Service`] on the
//! blocking pool and turns the answer (or the [`ServiceError`]) into a response. The
//! command-line tools call the same methods, so a rule lives in one place.
//!
//! Reads go through a [`View`]: one consistent snapshot of the catalog, the reference data and
//! the current values. The computations over a view are pure functions (see [`analysis`],
//! [`dashboard`], [`index`]), tested without a database.

pub mod accounts;
pub mod analysis;
pub mod analytics;
pub mod budget;
pub mod cache;
pub mod changes;
pub mod clock;
pub mod dashboard;
pub mod demo;
pub mod documents;
pub mod entry;
pub mod error;
pub mod imports;
pub mod index;
pub mod keys;
pub mod live;
pub mod notify;
pub mod operators;
pub mod passwords;
pub mod plans;
pub mod reference;
pub mod reports;
pub mod review;
pub mod revocation;
pub mod signin;
pub mod targets;
#[cfg(test)]
pub(crate) mod testing;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use innoreport_aggregate::Cube;
use innoreport_core::Catalog;
use innoreport_store::{DbConnection, PooledConnection, Store};

pub use clock::Clock;
pub use error::ServiceError;
pub use reference::Reference;

/// How long a replica reuses the catalog it read. The catalog changes only when an admin edits
/// the index framework: the replica that saves it forgets its copy at once, other replicas
/// within this time.
pub const CATALOG_TTL: Duration = Duration::from_secs(1);

/// Settings of the application layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Keep computed results (index runs) for the inputs they were computed from. Off only to
    /// check that the cache never changes an answer.
    pub cache_results: bool,
    /// Work units (Monte Carlo draws; a what-if run costs [`budget::WHAT_IF_COST`] more) a user
    /// may spend on computations a minute; 0 turns the budget off.
    pub compute_budget: u64,
    /// Accept webhooks on this machine (http://127.0.0.1/…): for tests only; otherwise a
    /// webhook must be https to a public address.
    pub loopback_webhooks: bool,
}

/// The default per-user computation budget: twenty uncached index runs of 1,000 draws a minute.
pub const DEFAULT_COMPUTE_BUDGET: u64 = 20_000;

impl Default for Options {
    fn default() -> Self {
        Options {
            cache_results: true,
            compute_budget: DEFAULT_COMPUTE_BUDGET,
            loopback_webhooks: false,
        }
    }
}

/// What the application reports about itself (the HTTP layer turns it into metrics).
pub trait Observer: Send + Sync {
    /// The live view caught up in `seconds`; it holds `reports` reports at `version`.
    fn view_refreshed(&self, _seconds: f64, _reports: usize, _version: u64) {}
    /// A submission ended with `outcome` (created, updated, unchanged, invalid, locked, stale,
    /// forbidden, error).
    fn submission(&self, _outcome: &str) {}
}

struct Silent;
impl Observer for Silent {}

/// One consistent snapshot for reading: catalog, reference data, current values, and the
/// time it was taken.
#[derive(Clone)]
pub struct View {
    pub catalog: Arc<Catalog>,
    pub reference: Arc<Reference>,
    pub cube: Cube,
    pub now: chrono::DateTime<chrono::Utc>,
}

struct Inner {
    store: Store,
    clock: Clock,
    options: Options,
    live: live::LiveView,
    reference: reference::ReferenceCache,
    catalog: Mutex<Option<(Instant, Arc<Catalog>)>>,
    results: cache::ResultCache,
    budget: budget::Budget,
    hash_pool: signin::HashPool,
    login_states: revocation::LoginStates,
    key_states: keys::KeyStates,
    observer: Arc<dyn Observer>,
    /// Set once the live view has been loaded: until then the replica is not ready, so a load
    /// balancer does not send it a read that would wait for the load.
    warm: std::sync::atomic::AtomicBool,
}

/// The application: cheap to clone, shared by every request and command.
#[derive(Clone)]
pub struct Service(Arc<Inner>);

/// A handle that does not keep the application alive (for background work that should end
/// with it).
#[derive(Clone)]
pub struct WeakService(std::sync::Weak<Inner>);

impl WeakService {
    /// The application, while it lives.
    pub fn upgrade(&self) -> Option<Service> {
        self.0.upgrade().map(Service)
    }
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("store", &self.0.store)
            .finish()
    }
}

impl Service {
    pub fn new(store: Store, clock: Clock, options: Options) -> Service {
        Service(Arc::new(Inner {
            store,
            clock,
            options,
            live: live::LiveView::default(),
            reference: reference::ReferenceCache::default(),
            catalog: Mutex::new(None),
            results: cache::ResultCache::default(),
            budget: budget::Budget::new(options.compute_budget),
            hash_pool: signin::HashPool::default(),
            login_states: revocation::LoginStates::default(),
            key_states: keys::KeyStates::default(),
            warm: std::sync::atomic::AtomicBool::new(false),
            observer: Arc::new(Silent),
        }))
    }

    /// The same service reporting to `observer`.
    pub fn with_observer(
        store: Store,
        clock: Clock,
        options: Options,
        observer: Arc<dyn Observer>,
    ) -> Service {
        let mut s = Service::new(store, clock, options);
        if let Some(inner) = Arc::get_mut(&mut s.0) {
            inner.observer = observer;
        }
        s
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    pub fn clock(&self) -> &Clock {
        &self.0.clock
    }

    pub fn options(&self) -> Options {
        self.0.options
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.clock.now()
    }

    pub(crate) fn observer(&self) -> &dyn Observer {
        self.0.observer.as_ref()
    }

    pub(crate) fn results(&self) -> &cache::ResultCache {
        &self.0.results
    }

    pub(crate) fn hash_pool(&self) -> &signin::HashPool {
        &self.0.hash_pool
    }

    pub(crate) fn login_states(&self) -> &revocation::LoginStates {
        &self.0.login_states
    }

    pub(crate) fn key_states(&self) -> &keys::KeyStates {
        &self.0.key_states
    }

    /// Spends `cost` units of `who`'s computation budget (429 when spent).
    pub(crate) fn spend(&self, who: &str, cost: u64) -> Result<(), ServiceError> {
        self.0
            .budget
            .spend(who, cost)
            .map_err(|wait| ServiceError::TooManyRequests {
                message: format!(
                    "this login has used its computation budget ({} units a minute); retry after {wait} s",
                    self.0.options.compute_budget
                ),
                retry_after: wait,
            })
    }

    /// A database connection (503 when none comes within the pool's timeout).
    pub fn conn(&self) -> Result<PooledConnection, ServiceError> {
        Ok(self.0.store.conn()?)
    }

    /// The catalog as stored (read at most once a [`CATALOG_TTL`]).
    pub fn catalog(&self, conn: &mut DbConnection) -> Result<Arc<Catalog>, ServiceError> {
        if let Some((at, catalog)) = &*self.0.catalog.lock().unwrap_or_else(|e| e.into_inner())
            && at.elapsed() < CATALOG_TTL
        {
            return Ok(Arc::clone(catalog));
        }
        let catalog = Arc::new(innoreport_store::reference::load_catalog(conn)?);
        *self.0.catalog.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), Arc::clone(&catalog)));
        Ok(catalog)
    }

    /// Forgets the cached catalog (after this replica changed it).
    pub fn catalog_changed(&self) {
        *self.0.catalog.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The reference data (read once; again when `known` says a code is missing).
    pub fn reference(
        &self,
        conn: &mut DbConnection,
        known: impl Fn(&Reference) -> bool,
    ) -> Result<Arc<Reference>, ServiceError> {
        Ok(self.0.reference.knowing(conn, known)?)
    }

    /// A consistent snapshot for reading, caught up with the database.
    pub fn view(&self) -> Result<View, ServiceError> {
        let mut conn = self.conn()?;
        self.view_on(&mut conn)
    }

    /// Like [`Service::view`], on a connection the caller holds.
    pub fn view_on(&self, conn: &mut DbConnection) -> Result<View, ServiceError> {
        let catalog = self.catalog(conn)?;
        let reference = self.0.reference.get(conn)?;
        let started = Instant::now();
        let cube = self.0.live.refresh(conn, &reference.units)?;
        self.observer().view_refreshed(
            started.elapsed().as_secs_f64(),
            cube.reports(),
            cube.version(),
        );
        Ok(View {
            catalog,
            reference,
            cube,
            now: self.now(),
        })
    }
}

impl Service {
    /// Ready to serve: the database answers, every migration is applied and the live view is
    /// loaded (503 otherwise). Returns the backend's name.
    pub fn ready(&self) -> Result<&'static str, ServiceError> {
        if !self.0.store.ready()? {
            return Err(ServiceError::Unavailable {
                message: "migrations are not applied".into(),
                retry_after: 5,
                source: None,
            });
        }
        if !self.0.warm.load(std::sync::atomic::Ordering::Acquire) {
            return Err(ServiceError::Unavailable {
                message: "the live view is loading".into(),
                retry_after: 1,
                source: None,
            });
        }
        Ok(self.0.store.backend().name())
    }

    /// A handle that does not keep the application alive.
    pub fn downgrade(&self) -> WeakService {
        WeakService(Arc::downgrade(&self.0))
    }

    /// Loads the live view (every report's current values) and marks the replica ready.
    /// Started with the server; a failure (the database away) is retried by the caller.
    pub fn warm_up(&self) -> Result<std::time::Duration, ServiceError> {
        let started = Instant::now();
        self.view()?;
        self.0
            .warm
            .store(true, std::sync::atomic::Ordering::Release);
        Ok(started.elapsed())
    }
}

impl Service {
    /// The reference data (provinces and communes), as this replica holds it.
    pub fn reference_data(&self) -> Result<Arc<Reference>, ServiceError> {
        let mut conn = self.conn()?;
        self.reference(&mut conn, |_| true)
    }

    /// The reference data, read again if `province` or `commune` is unknown to it.
    pub fn reference_knowing(
        &self,
        province: Option<&str>,
        commune: Option<&str>,
    ) -> Result<Arc<Reference>, ServiceError> {
        let mut conn = self.conn()?;
        self.reference(&mut conn, |r| {
            province.is_none_or(|p| r.province(p).is_some())
                && commune.is_none_or(|c| r.commune(c).is_some())
        })
    }

    /// The catalog in force.
    pub fn current_catalog(&self) -> Result<Arc<Catalog>, ServiceError> {
        let mut conn = self.conn()?;
        self.catalog(&mut conn)
    }
}
