//! Building the running application once, for `main` and for tests.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::HttpServer;
use actix_web::dev::Server;
use innoreport_api::AppState;
use innoreport_store::{Store, StoreError};
use tracing_actix_web::TracingLogger;

use crate::config::{Config, LogFormat};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
}

/// Opens the database, applies migrations and (unless disabled) loads the reference data.
pub fn prepare_store(config: &Config) -> Result<Store, StartupError> {
    let store = Store::open(&config.database_url, config.pool_size)?;
    let applied = store.migrate()?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "applied migrations");
    }
    if config.seed {
        let seeded = store.seed()?;
        if seeded.total() > 0 {
            tracing::info!(?seeded, "loaded reference data");
        }
    }
    Ok(store)
}

/// A bound, not yet running, HTTP server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Prepares the store and binds the listener.
    pub fn build(config: &Config) -> Result<Application, StartupError> {
        let store = prepare_store(config)?;
        Self::with_store(config, store)
    }

    /// Binds the listener over an already prepared store.
    pub fn with_store(config: &Config, store: Store) -> Result<Application, StartupError> {
        let listener = TcpListener::bind(&config.bind)
            .map_err(|e| StartupError::Bind(config.bind.clone(), e))?;
        let port = listener
            .local_addr()
            .map_err(|e| StartupError::Bind(config.bind.clone(), e))?
            .port();
        let state = AppState::new(store);
        let mut server = HttpServer::new(move || {
            innoreport_api::app(state.clone()).wrap(TracingLogger::default())
        })
        .shutdown_timeout(config.shutdown_timeout)
        .client_request_timeout(Duration::from_secs(30));
        if let Some(workers) = config.workers {
            server = server.workers(workers.max(1));
        }
        let server = server
            .listen(listener)
            .map_err(|e| StartupError::Bind(config.bind.clone(), e))?
            .run();
        Ok(Application { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until SIGINT/SIGTERM, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    pub fn into_server(self) -> Server {
        self.server
    }
}

/// Installs the global tracing subscriber (`RUST_LOG` filters, default `info`).
pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
