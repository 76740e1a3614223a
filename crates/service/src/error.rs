//! What a use case answers instead of success, by what the caller should do about it. The HTTP
//! adapter maps each kind to a status once; internal failures keep their cause for the log.

use innoreport_core::Denied;
use innoreport_core::validation::Issue;
use innoreport_store::StoreError;

/// A failure with its cause chain.
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A parameter that cannot be understood (400): a malformed period, an unknown code.
    #[error("{message}")]
    BadInput { message: String, issues: Vec<Issue> },
    /// Well-formed input the rules refuse, every problem listed (422); nothing was stored.
    #[error("{message}")]
    Invalid { message: String, issues: Vec<Issue> },
    /// Not signed in, or the credentials are wrong (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Outside the caller's role or scope (403).
    #[error(transparent)]
    Forbidden(#[from] Denied),
    /// No such thing (404).
    #[error("{0}")]
    NotFound(String),
    /// The state changed meanwhile, or the action does not apply to it (409).
    #[error("{message}")]
    Conflict { message: String, issues: Vec<Issue> },
    /// The report is locked (423).
    #[error("{message}")]
    Locked { message: String, issues: Vec<Issue> },
    /// A budget or rate is spent (429).
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// The database cannot be reached or the service is at capacity: retry later (503).
    #[error("unavailable: {message}")]
    Unavailable {
        message: String,
        retry_after: u64,
        #[source]
        source: Option<Source>,
    },
    /// A defect or corrupt state (500); the cause is logged, never shown.
    #[error("{context}")]
    Internal {
        context: String,
        #[source]
        source: Option<Source>,
    },
}

impl ServiceError {
    /// A 400 about one field.
    pub fn bad(field: &str, code: &str, message: impl Into<String>) -> ServiceError {
        let message = message.into();
        ServiceError::BadInput {
            issues: vec![Issue::new(field, code, message.clone())],
            message,
        }
    }

    /// A 422 listing every problem.
    pub fn invalid(what: &str, issues: Vec<Issue>) -> ServiceError {
        ServiceError::Invalid {
            message: format!(
                "The {what} has {} problem(s); nothing was stored.",
                issues.len()
            ),
            issues,
        }
    }

    pub fn internal(context: impl Into<String>, source: impl Into<Source>) -> ServiceError {
        ServiceError::Internal {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// A defect without an underlying error.
    pub fn bug(context: impl Into<String>) -> ServiceError {
        ServiceError::Internal {
            context: context.into(),
            source: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> ServiceError {
        ServiceError::NotFound(message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> ServiceError {
        ServiceError::Forbidden(Denied(message.into()))
    }

    /// The whole cause chain, for the log.
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut next = std::error::Error::source(self);
        while let Some(e) = next {
            out.push_str(": ");
            out.push_str(&e.to_string());
            next = e.source();
        }
        out
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            ServiceError::Unavailable {
                message: "the database is unreachable".into(),
                retry_after: 5,
                source: Some(Box::new(e)),
            }
        } else {
            ServiceError::internal("database", e)
        }
    }
}

impl From<innoreport_aggregate::AggregateError> for ServiceError {
    fn from(e: innoreport_aggregate::AggregateError) -> Self {
        use innoreport_aggregate::AggregateError as E;
        match e {
            E::UnknownIndicator(i) => ServiceError::bad(
                "indicator",
                "unknown_indicator",
                format!("there is no indicator {i:?}"),
            ),
            E::Unsupported(m) => ServiceError::bad("indicator", "unsupported", m),
            e @ E::PeriodTooFine { .. } => {
                ServiceError::bad("period", "period_too_fine", e.to_string())
            }
            e @ E::Polars(_) => ServiceError::internal("aggregation", e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_keeps_every_cause() {
        let inner = std::io::Error::other("disk full");
        let e = ServiceError::internal("writing the export", inner);
        assert_eq!(e.chain(), "writing the export: disk full");
    }
}
