//! What every handler shares: the application, the token keys, metrics and admission control.

use std::sync::Arc;

use actix_web::web;
use innoreport_service::{Service, ServiceError};

use crate::http::auth::TokenKeys;
use crate::http::guard::{Guard, Limits};
use crate::http::problem::ApiError;
use crate::metrics::Metrics;

/// Shared, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub keys: Arc<TokenKeys>,
    pub metrics: Arc<Metrics>,
    /// Admission control: rate per client and requests at once.
    pub guard: Arc<Guard>,
    /// Sign-in attempts per username.
    pub login_limiter: Arc<crate::routes::auth::LoginLimiter>,
    /// Turns of writes at the database, first come first served (see [`AppState::call_write`]).
    pub writers: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("service", &self.service)
            .finish()
    }
}

impl AppState {
    /// The state over an application that reports to `metrics`.
    pub fn new(service: Service, keys: TokenKeys, metrics: Arc<Metrics>) -> AppState {
        AppState {
            service,
            keys: Arc::new(keys),
            metrics,
            guard: Arc::new(Guard::new(Limits::default())),
            login_limiter: Arc::new(crate::routes::auth::login_limiter()),
            writers: Arc::new(tokio::sync::Semaphore::new(Limits::default().db_writers)),
        }
    }

    pub fn with_limits(mut self, limits: Limits) -> AppState {
        self.writers = Arc::new(tokio::sync::Semaphore::new(limits.db_writers.max(1)));
        self.guard = Arc::new(Guard::new(limits));
        self
    }

    /// Runs a use case on the blocking thread pool (actix workers are single-threaded runtimes:
    /// blocking them stalls every request on that worker).
    pub async fn call<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        F: FnOnce(&Service) -> Result<R, ServiceError> + Send + 'static,
        R: Send + 'static,
    {
        let service = self.service.clone();
        Ok(web::block(move || f(&service)).await??)
    }

    /// Like [`AppState::call`], for a use case that writes: it waits its turn among writes
    /// (first come, first served; at most `db_writers` at once), so a rush of submissions
    /// takes the database's connections in order (the pool's own waiters are woken in no
    /// order) and leaves some to reads.
    pub async fn call_write<R, F>(&self, f: F) -> Result<R, ApiError>
    where
        F: FnOnce(&Service) -> Result<R, ServiceError> + Send + 'static,
        R: Send + 'static,
    {
        let _turn = self
            .writers
            .acquire()
            .await
            .map_err(|_| ApiError::Internal("the writers' queue is closed".into()))?;
        self.call(f).await
    }
}
