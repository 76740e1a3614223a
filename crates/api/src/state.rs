//! What every handler shares.

use actix_web::web;
use innoreport_core::Catalog;
use innoreport_store::{DbConnection, Store, StoreError};

use crate::problem::ApiError;

/// Shared, cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
}

impl AppState {
    pub fn new(store: Store) -> AppState {
        AppState { store }
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

    /// The catalog as stored.
    pub async fn catalog(&self) -> Result<Catalog, ApiError> {
        self.db(innoreport_store::reference::load_catalog).await
    }
}
