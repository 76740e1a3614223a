//! What a commune may report now: the periods of each data set of this year and the last that
//! have started, with their deadline and lock, and whether the report can be written now (and if
//! not, why). The data-entry form offers the editable ones and shows the others read-only.

use chrono::{DateTime, Datelike, Utc};
use innoreport_core::notify::vietnam_day;
use innoreport_core::{
    Action, LockReason, Period, PeriodType, Principal, ReportStatus, lock_reason,
};
use innoreport_store::reports as store;

use crate::{Service, ServiceError};

/// One period of one data set, as the commune stands with it now.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportingPeriod {
    pub dataset: String,
    pub period: Period,
    pub deadline: DateTime<Utc>,
    pub lock: Option<DateTime<Utc>>,
    /// Past the deadline: a first report now is late.
    pub late: bool,
    /// Why it cannot be written now (None: it can).
    pub locked: Option<LockReason>,
    /// The province reopened it (or opened it, never filed) after its lock.
    pub reopened: bool,
    /// The current revision (0: never filed).
    pub revision: i32,
    pub status: Option<ReportStatus>,
}

/// The periods of `kind` in `year`, newest first.
pub(crate) fn periods_of(kind: PeriodType, year: i32) -> Vec<Period> {
    let mut out: Vec<Period> = if kind == PeriodType::Year {
        Period::new(kind, year, 0).into_iter().collect()
    } else {
        (1..=(12 / kind.months()) as u8)
            .filter_map(|i| Period::new(kind, year, i).ok())
            .collect()
    };
    out.reverse();
    out
}

impl Service {
    /// The periods `commune` reports, this year's and last year's that have started, newest
    /// first within each data set.
    pub fn reporting_periods(
        &self,
        who: &Principal,
        commune: &str,
    ) -> Result<Vec<ReportingPeriod>, ServiceError> {
        let mut conn = self.conn()?;
        self.authorize_commune(&mut conn, who, commune, Action::Read)?;
        let catalog = self.catalog(&mut conn)?;
        let now = self.now();
        let year = vietnam_day(now).year();
        let mut out = Vec::new();
        for d in &catalog.datasets {
            for period in [year, year - 1]
                .into_iter()
                .flat_map(|y| periods_of(d.period_type, y))
                .filter(|p| p.start() <= now)
            {
                let code = period.to_string();
                let report = store::get_report(&mut conn, d.code.as_str(), &code, commune)?;
                let opened = report.is_none()
                    && store::opening(&mut conn, d.code.as_str(), &code, commune)?.is_some();
                let reopened = report.as_ref().is_some_and(|r| r.reopened) || opened;
                let lock = d.lock(period);
                out.push(ReportingPeriod {
                    dataset: d.code.to_string(),
                    period,
                    deadline: d.deadline(period),
                    lock,
                    late: now > d.deadline(period),
                    locked: lock_reason(report.as_ref().map(|r| r.status), reopened, lock, now),
                    reopened,
                    revision: report.as_ref().map_or(0, |r| r.revision),
                    status: report.map(|r| r.status),
                });
            }
        }
        Ok(out)
    }
}
