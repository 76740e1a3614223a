//! The server's clock: the system time, or a time set by a test. Deadlines, locks and receipt
//! times all read it, so deadline behaviour can be tested at any instant.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

#[derive(Clone, Debug, Default)]
pub struct Clock(Arc<RwLock<Option<DateTime<Utc>>>>);

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
