//! Building the running application once, for `main` and for tests.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::dev::Service;
use actix_web::{HttpMessage, HttpServer};
use innoreport_api::http::auth::{MIN_SECRET_BYTES, TokenKeys};
use innoreport_api::{AppState, Clock};
use innoreport_service::passwords::random_token;
use innoreport_store::{Store, StoreError};
use tracing_actix_web::TracingLogger;

use crate::config::{Config, LogFormat};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
    #[error("metrics: {0}")]
    Metrics(String),
    #[error("INNOREPORT_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")]
    WeakSecret,
    #[error("cannot start a thread: {0}")]
    Thread(std::io::Error),
    #[error("notifications: {0}")]
    Notify(String),
}

/// The name under which a generated development signing key is stored.
const GENERATED_SECRET: &str = "jwt_secret";

/// The token keys: from configuration, or a generated key stored in the database (so that
/// every replica and the `innoreport token` command share it).
pub fn token_keys(config: &Config, store: &Store) -> Result<TokenKeys, StartupError> {
    let secret = match &config.jwt_secret {
        Some(s) => s.clone(),
        None => {
            let mut conn = store.conn()?;
            let (secret, created) = innoreport_store::settings::get_or_create_setting(
                &mut conn,
                GENERATED_SECRET,
                || random_token(48),
            )?;
            if created {
                tracing::warn!(
                    "INNOREPORT_JWT_SECRET is not set: generated a signing key and stored it in the database; \
                     set INNOREPORT_JWT_SECRET in production"
                );
            } else {
                tracing::warn!(
                    "INNOREPORT_JWT_SECRET is not set: using the generated signing key stored in the database"
                );
            }
            secret
        }
    };
    TokenKeys::new(
        secret.as_bytes(),
        &config.jwt_issuer,
        &config.jwt_audience,
        config.token_ttl,
    )
    .map_err(|_| StartupError::WeakSecret)
}

/// Opens the database, applies migrations and (unless disabled) loads the reference data.
pub fn prepare_store(config: &Config) -> Result<Store, StartupError> {
    let store = Store::open_with_timeout(
        &config.database_url,
        config.pool_size,
        Duration::from_secs(config.db_timeout),
    )?;
    let applied = store.migrate()?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "applied migrations");
    }
    if config.load_reference_data {
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
        Self::with_clock(config, store, Clock::system())
    }

    /// Binds the listener, with a clock a test can set.
    pub fn with_clock(
        config: &Config,
        store: Store,
        clock: Clock,
    ) -> Result<Application, StartupError> {
        let listener = TcpListener::bind(&config.bind)
            .map_err(|e| StartupError::Bind(config.bind.clone(), e))?;
        let port = listener
            .local_addr()
            .map_err(|e| StartupError::Bind(config.bind.clone(), e))?
            .port();
        let keys = token_keys(config, &store)?;
        let metrics = std::sync::Arc::new(innoreport_api::metrics::Metrics::default());
        let service = innoreport_service::Service::with_observer(
            store,
            clock,
            config.options(),
            metrics.clone(),
        );
        // The live view loads in the background; /ready says 503 until it has. A failure (the
        // database away) is retried each second, for as long as the application lives.
        let warming = service.downgrade();
        std::thread::Builder::new()
            .name("live-view-warm-up".into())
            .spawn(move || {
                while let Some(service) = warming.upgrade() {
                    match service.warm_up() {
                        Ok(took) => {
                            tracing::info!(ms = took.as_millis() as u64, "live view loaded; ready");
                            return;
                        }
                        Err(e) => {
                            tracing::warn!(error = %e.chain(), "loading the live view; retrying in 1 s")
                        }
                    }
                    drop(service);
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            })
            .map_err(StartupError::Thread)?;
        // Reminders, digests and overdue-task notices are scheduled, and the outbox delivered,
        // every --notify-interval.
        crate::notify::spawn(service.downgrade(), config)
            .map_err(|e| StartupError::Notify(e.to_string()))?;
        let state = AppState::new(service, keys, metrics).with_limits(config.limits());
        // Per-route request counts and latencies, with the application's own metrics, at /metrics.
        let prometheus = actix_web_prom::PrometheusMetricsBuilder::new("innoreport_http")
            .registry(state.metrics.registry.clone())
            .endpoint("/metrics")
            // Unknown paths share one label, so probing random URLs cannot grow the metrics.
            .mask_unmatched_patterns("UNMATCHED")
            .build()
            .map_err(|e| StartupError::Metrics(e.to_string()))?;
        let mut server = HttpServer::new(move || {
            innoreport_api::app(state.clone())
                .wrap(prometheus.clone())
                .wrap_fn(|req, srv| {
                    // Echo the request id the logs carry, so a user can quote it.
                    let id = req
                        .extensions()
                        .get::<tracing_actix_web::RequestId>()
                        .map(|id| id.to_string());
                    let fut = srv.call(req);
                    async move {
                        let mut res = fut.await?;
                        if let Some(id) = id
                            .and_then(|id| actix_web::http::header::HeaderValue::from_str(&id).ok())
                        {
                            res.headers_mut().insert(
                                actix_web::http::header::HeaderName::from_static("x-request-id"),
                                id,
                            );
                        }
                        Ok(res)
                    }
                })
                .wrap(TracingLogger::default())
        })
        .shutdown_timeout(config.shutdown_timeout)
        // A request's head must arrive within 5 s, an idle keep-alive connection is closed after
        // 5 s; bodies have their own deadline (see `http::guard`).
        .client_request_timeout(Duration::from_secs(5))
        .keep_alive(Duration::from_secs(5))
        .client_disconnect_timeout(Duration::from_secs(1))
        // A streamed answer's last small chunk would otherwise wait for the ACK of the one
        // before (Nagle), which a client on a kept-alive connection delays by 40 ms: measured,
        // a province table took 55 ms on a reused connection and 10 ms on a fresh one.
        .tcp_nodelay(true);
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
