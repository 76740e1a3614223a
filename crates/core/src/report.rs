//! The life of a report: its status, the review actions, and timeliness.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a report stands in the province's review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// Received, not yet reviewed (or corrected after a return).
    Submitted,
    /// Sent back to the commune for correction.
    Returned,
    /// Approved by the province: locked until unapproved.
    Approved,
}

/// What a province admin does to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    /// Accept the report; it is locked until unapproved.
    Approve,
    /// Ask the commune to correct it (lifts the time lock, like a reopening).
    Return,
    /// Withdraw an approval.
    Unapprove,
    /// Lift the time lock (and any approval) so the commune can correct it.
    Reopen,
}

/// Whether a report arrived by its deadline (judged on the server's receipt time of the
/// first accepted revision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Timeliness {
    OnTime,
    Late,
}

macro_rules! words {
    ($t:ty { $($v:ident => $s:literal),* $(,)? }) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),* }
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($s => Ok(Self::$v),)*
                    _ => Err(format!("unknown {} {s:?}", stringify!($t))),
                }
            }
        }
    };
}

words!(ReportStatus { Submitted => "submitted", Returned => "returned", Approved => "approved" });
words!(ReviewAction { Approve => "approve", Return => "return", Unapprove => "unapprove", Reopen => "reopen" });
words!(Timeliness { OnTime => "on_time", Late => "late" });

/// Why a commune cannot change a report now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LockReason {
    /// Approved by the province: locked until unapproved.
    Approved,
    /// Past the data set's lock instant, and not reopened by the province.
    PastLock,
}

/// Whether a report is locked at `now`, and why: the one rule behind both the refusal of a
/// write (423) and the `locked` a reader is shown. `status` is `None` for a report never filed;
/// `reopened` is set when the province reopened it (or, never filed, opened it) after its lock.
pub fn lock_reason(
    status: Option<ReportStatus>,
    reopened: bool,
    lock: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<LockReason> {
    if status == Some(ReportStatus::Approved) {
        return Some(LockReason::Approved);
    }
    match lock {
        Some(lock) if now > lock && !reopened => Some(LockReason::PastLock),
        _ => None,
    }
}

/// The state of a report after a review action, or why the action does not apply.
pub fn review_transition(
    status: ReportStatus,
    action: ReviewAction,
) -> Result<(ReportStatus, bool), &'static str> {
    // Returns (new status, reopened).
    match (action, status) {
        (ReviewAction::Approve, ReportStatus::Approved) => Err("the report is already approved"),
        (ReviewAction::Approve, _) => Ok((ReportStatus::Approved, false)),
        (ReviewAction::Return, ReportStatus::Approved) => {
            Err("an approved report must be unapproved before it is returned")
        }
        // Asking for a correction lets the commune make it, even past the lock date.
        (ReviewAction::Return, _) => Ok((ReportStatus::Returned, true)),
        (ReviewAction::Unapprove, ReportStatus::Approved) => Ok((ReportStatus::Submitted, false)),
        (ReviewAction::Unapprove, _) => Err("only an approved report can be unapproved"),
        (ReviewAction::Reopen, ReportStatus::Approved) => Ok((ReportStatus::Submitted, true)),
        (ReviewAction::Reopen, s) => Ok((s, true)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReportStatus::*;
    use ReviewAction::*;

    #[test]
    fn review_transitions() {
        assert_eq!(review_transition(Submitted, Approve), Ok((Approved, false)));
        assert!(review_transition(Approved, Approve).is_err());
        assert_eq!(review_transition(Submitted, Return), Ok((Returned, true)));
        assert!(review_transition(Approved, Return).is_err());
        assert_eq!(
            review_transition(Approved, Unapprove),
            Ok((Submitted, false))
        );
        assert!(review_transition(Returned, Unapprove).is_err());
        assert_eq!(review_transition(Approved, Reopen), Ok((Submitted, true)));
        assert_eq!(review_transition(Returned, Reopen), Ok((Returned, true)));
    }

    #[test]
    fn approval_locks_and_time_locks_unless_reopened() {
        let t = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        let lock = Some(t("2026-04-04T23:59:59+07:00"));
        let before = t("2026-04-01T00:00:00Z");
        let after = t("2026-04-05T00:00:00+07:00");
        assert_eq!(lock_reason(Some(Submitted), false, lock, before), None);
        assert_eq!(
            lock_reason(Some(Submitted), false, lock, after),
            Some(LockReason::PastLock)
        );
        assert_eq!(lock_reason(Some(Returned), true, lock, after), None);
        assert_eq!(
            lock_reason(Some(Approved), true, lock, before),
            Some(LockReason::Approved)
        );
        assert_eq!(
            lock_reason(None, false, lock, after),
            Some(LockReason::PastLock),
            "a report never filed is locked after the lock date too"
        );
        assert_eq!(lock_reason(None, true, lock, after), None, "unless opened");
        assert_eq!(lock_reason(Some(Submitted), false, None, after), None);
    }

    #[test]
    fn words_round_trip() {
        for s in ["submitted", "returned", "approved"] {
            assert_eq!(s.parse::<ReportStatus>().unwrap().as_str(), s);
        }
        assert_eq!("reopen".parse::<ReviewAction>().unwrap(), Reopen);
        assert!("delete".parse::<ReviewAction>().is_err());
    }
}
