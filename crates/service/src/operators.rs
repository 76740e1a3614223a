//! Operators' logins and tokens: the first `admin` of a new installation, and the tokens an
//! operator mints with `innoreport token` for a person or a commune's system. Both follow the
//! rules of every login (`accounts`) and go to the change log.

use chrono::{DateTime, Utc};
use innoreport_core::validation::Issue;
use innoreport_core::{Principal, Role};

use crate::accounts::{NewAccount, create_account, scope_of};
use crate::{Service, ServiceError};

impl Service {
    /// On a database without logins, creates the login `admin` with a generated password and
    /// returns the password (for the first start to print once). Nothing when any login exists,
    /// or when another replica starting at the same moment created it first.
    pub fn bootstrap_admin(&self) -> Result<Option<String>, ServiceError> {
        let mut conn = self.conn()?;
        if innoreport_store::users::count_users(&mut conn)? > 0 {
            return Ok(None);
        }
        let first = NewAccount {
            username: "admin".into(),
            role: Some(Role::Admin),
            ..NewAccount::default()
        };
        match create_account(&mut conn, first, "innoreport (first start)", self.now()) {
            Ok(created) => Ok(created.generated_password),
            Err(ServiceError::Conflict { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The principal of a token an operator mints for `sub`: its scope is checked as a login's
    /// would be (a commune's province derived, unknown units and scopes that do not fit the role
    /// refused, every problem listed), and the minting is recorded in the change log
    /// (`token.mint`, with its expiry).
    pub fn operator_token(
        &self,
        operator: &str,
        sub: &str,
        role: Role,
        province: Option<&str>,
        commune: Option<&str>,
        expires_at: DateTime<Utc>,
    ) -> Result<Principal, ServiceError> {
        let mut conn = self.conn()?;
        let mut issues = Vec::new();
        let sub = sub.trim();
        if sub.is_empty() {
            issues.push(Issue::new(
                "sub",
                "required",
                "name who the token speaks for",
            ));
        }
        let principal = scope_of(&mut conn, sub, role, province, commune, &mut issues)?;
        let Some(principal) = principal.filter(|_| issues.is_empty()) else {
            return Err(ServiceError::invalid("token", issues));
        };
        let (province, commune) = (
            principal.province.as_ref().map(|p| p.as_str()),
            principal.commune.as_ref().map(|c| c.as_str()),
        );
        innoreport_store::changes::record(
            &mut conn,
            &innoreport_store::changes::NewChange {
                at: self.now(),
                actor: operator,
                action: "token.mint",
                province,
                commune,
                subject: principal.subject.clone(),
                detail: serde_json::json!({"sub": principal.subject, "role": role.as_str(),
                    "province": province, "commune": commune,
                    "expires_at": expires_at.to_rfc3339()}),
            },
        )?;
        Ok(principal)
    }
}
