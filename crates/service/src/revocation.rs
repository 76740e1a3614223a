//! Revocation at once: a token carries its login's version, and each request is checked against
//! the login's state (enabled, same version). A replica keeps what it read of each login for
//! [`LOGIN_STATE_TTL`], so a change made on another replica ends the login's tokens here within
//! that time, and at once on the replica that made it (which forgets its copy).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{Service, ServiceError};

/// How long a replica trusts what it read of a login's state: a change made on another replica
/// ends that login's tokens here within this time (at once on the replica that made it).
pub const LOGIN_STATE_TTL: Duration = Duration::from_secs(1);

/// What a login's state is, for checking its tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginState {
    pub version: i32,
    pub disabled: bool,
}

/// What this replica last read of logins' states.
#[derive(Debug, Default)]
pub struct LoginStates(Mutex<HashMap<String, (Instant, Option<LoginState>)>>);

impl LoginStates {
    pub(crate) fn fresh(&self, username: &str) -> Option<Option<LoginState>> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(username)
            .filter(|(at, _)| at.elapsed() < LOGIN_STATE_TTL)
            .map(|(_, s)| *s)
    }

    pub(crate) fn put(&self, username: &str, state: Option<LoginState>) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (at, _)| at.elapsed() < LOGIN_STATE_TTL);
        }
        map.insert(username.to_owned(), (Instant::now(), state));
    }

    pub(crate) fn forget(&self, username: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(username);
    }
}

impl Service {
    /// The state of a login as this replica knows it without the database (None: not known
    /// freshly, ask [`Service::login_state`]).
    pub fn cached_login_state(&self, username: &str) -> Option<Option<LoginState>> {
        self.login_states().fresh(username)
    }

    /// The state of a login (None: no such login), read again when older than
    /// [`LOGIN_STATE_TTL`].
    pub fn login_state(&self, username: &str) -> Result<Option<LoginState>, ServiceError> {
        if let Some(s) = self.login_states().fresh(username) {
            return Ok(s);
        }
        let user = innoreport_store::users::find_user(&mut *self.conn()?, username)?;
        let state = user.map(|u| LoginState {
            version: u.token_version,
            disabled: u.disabled,
        });
        self.login_states().put(username, state);
        Ok(state)
    }
}
