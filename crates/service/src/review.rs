//! Reading reports (one, a list, revisions, review records) and the province's review: approve,
//! return, unapprove, reopen — and opening a report the commune never filed before its lock.

use innoreport_core::notify::{Kind, Names};
use innoreport_core::plans::{Progress, progress_diff};
use innoreport_core::validation::Issue;
use innoreport_core::{
    Action, CommuneCode, Period, Principal, ReportStatus, ReviewAction, Target, review_transition,
};
use innoreport_store::reports as store;
pub use innoreport_store::reports::{Opening, ReportFilter, ReportView, ReviewView, RevisionView};

use crate::reports::ReportNow;
use crate::{Service, ServiceError};

/// Filters of the report list, as typed by the caller.
#[derive(Debug, Clone, Default)]
pub struct ReportQuery {
    pub dataset: Option<String>,
    pub period: Option<Period>,
    pub province: Option<String>,
    pub commune: Option<String>,
    pub status: Option<ReportStatus>,
}

/// What a review action did.
#[derive(Debug, Clone)]
pub enum Reviewed {
    /// The report after the action.
    Report(Box<ReportNow>),
    /// The report was never filed: it is now open for the commune to file (late).
    Opened(Opening),
}

/// The plan part's changes of one revision: `(field, old, new)`.
pub type TextChanges = Vec<(String, Option<String>, Option<String>)>;

impl Service {
    /// The province of `commune` once `who` may do `action` on it (404 for unknown communes).
    pub fn authorize_commune(
        &self,
        conn: &mut innoreport_store::DbConnection,
        who: &Principal,
        commune: &str,
        action: Action,
    ) -> Result<String, ServiceError> {
        let province = if CommuneCode::parse(commune).is_ok() {
            let reference = self.reference(conn, |r| r.commune(commune).is_some())?;
            reference.province_of(commune).map(str::to_owned)
        } else {
            None
        };
        let province = province.ok_or_else(|| {
            ServiceError::not_found(format!(
                "There is no commune {:?}.",
                crate::reports::clip(commune)
            ))
        })?;
        who.require(
            action,
            Target::Commune {
                commune,
                province: &province,
            },
        )?;
        Ok(province)
    }

    /// A report `who` may read, with its facts now (403 outside the scope, 404 when there is
    /// none).
    pub fn report(
        &self,
        who: &Principal,
        dataset: &str,
        period: &str,
        commune: &str,
    ) -> Result<ReportNow, ServiceError> {
        let report = self.find_report(who, dataset, period, commune)?;
        let progress =
            crate::plans::stored_progress(&mut *self.conn()?, report.id, report.revision)?;
        let mut now = ReportNow::at(&*self.current_catalog()?, report, self.now())?;
        now.progress = Some(progress);
        Ok(now)
    }

    fn find_report(
        &self,
        who: &Principal,
        dataset: &str,
        period: &str,
        commune: &str,
    ) -> Result<ReportView, ServiceError> {
        let mut conn = self.conn()?;
        self.authorize_commune(&mut conn, who, commune, Action::Read)?;
        store::get_report(&mut conn, dataset, period, commune)?.ok_or_else(|| {
            ServiceError::not_found(format!(
                "No report of commune {commune} for {} {}.",
                crate::reports::clip(dataset),
                crate::reports::clip(period)
            ))
        })
    }

    /// Every revision of a report, oldest first, with the changes each made to the plan part.
    pub fn revisions(
        &self,
        who: &Principal,
        dataset: &str,
        period: &str,
        commune: &str,
    ) -> Result<(ReportView, Vec<RevisionView>, Vec<TextChanges>), ServiceError> {
        let report = self.find_report(who, dataset, period, commune)?;
        let mut conn = self.conn()?;
        let revisions = store::list_revisions(&mut conn, report.id)?;
        // The plan part's changes, revision by revision (a revision without a stored part keeps
        // the one before).
        let history = innoreport_store::plans::progress_history(&mut conn, report.id)?;
        let mut before = Progress::default();
        let mut texts = Vec::new();
        for r in &revisions {
            match history.iter().find(|(n, _)| *n == r.number) {
                Some((_, body)) => {
                    let after =
                        crate::plans::decode_progress(&format!("report {}", report.id), body)?;
                    texts.push(progress_diff(&before, &after));
                    before = after;
                }
                None => texts.push(Vec::new()),
            }
        }
        Ok((report, revisions, texts))
    }

    /// Every review action on a report, oldest first.
    pub fn reviews(
        &self,
        who: &Principal,
        dataset: &str,
        period: &str,
        commune: &str,
    ) -> Result<Vec<ReviewView>, ServiceError> {
        let report = self.find_report(who, dataset, period, commune)?;
        Ok(store::list_reviews(&mut *self.conn()?, report.id)?)
    }

    /// Applies a review action and records it. `reopen` on a report never filed opens it, so
    /// the commune can file it after its lock (it is then late).
    pub fn review(
        &self,
        who: &Principal,
        dataset: &str,
        period: &str,
        commune: &str,
        action: ReviewAction,
        comment: Option<&str>,
    ) -> Result<Reviewed, ServiceError> {
        if comment.is_some_and(|c| c.chars().count() > crate::reports::MAX_COMMENT_CHARS) {
            return Err(ServiceError::invalid(
                "review",
                vec![Issue::new(
                    "comment",
                    "too_long",
                    format!(
                        "a comment has at most {} characters",
                        crate::reports::MAX_COMMENT_CHARS
                    ),
                )],
            ));
        }
        let comment = comment.filter(|c| !c.trim().is_empty());
        let now = self.now();
        let mut conn = self.conn()?;
        let province = self.authorize_commune(&mut conn, who, commune, Action::Review)?;
        let catalog = self.catalog(&mut conn)?;
        let commune_names = self
            .reference(&mut conn, |r| r.commune(commune).is_some())?
            .names(commune);
        // The commune hears of the action: its notices are written in the action's transaction.
        let notify = |conn: &mut innoreport_store::DbConnection, kind| {
            let Some(d) = catalog.dataset(dataset) else {
                return Ok(0);
            };
            let Ok(p) = Period::parse(period) else {
                return Ok(0);
            };
            crate::notify::review_notices(
                conn,
                (
                    Names {
                        vi: commune_names.0.clone(),
                        en: commune_names.1.clone(),
                    },
                    Names {
                        vi: d.name_vi.clone(),
                        en: d.name_en.clone(),
                    },
                ),
                kind,
                dataset,
                p,
                &province,
                commune,
                &who.subject,
                comment,
                now,
            )
        };
        innoreport_store::transaction(&mut conn, |conn| {
            let (Some(report), _) = store::find_for_update(conn, dataset, period, commune, 0)?
            else {
                if action != ReviewAction::Reopen {
                    return Err(ServiceError::not_found(format!(
                        "No report of commune {commune} for {} {}.",
                        crate::reports::clip(dataset),
                        crate::reports::clip(period)
                    )));
                }
                // Only a report the commune could file may be opened.
                let Some(d) = catalog.dataset(dataset) else {
                    return Err(ServiceError::not_found(format!(
                        "There is no data set {:?}.",
                        crate::reports::clip(dataset)
                    )));
                };
                if let Err(issue) = innoreport_core::validation::check_period(d, period, now) {
                    return Err(ServiceError::invalid("opening", vec![issue]));
                }
                let opened = store::open(
                    conn,
                    &Opening {
                        dataset: dataset.to_owned(),
                        period: period.to_owned(),
                        commune: commune.to_owned(),
                        actor: who.subject.clone(),
                        comment: comment.map(str::to_owned),
                        at: now,
                    },
                )?;
                notify(conn, Kind::Reopened)?;
                return Ok(Reviewed::Opened(opened));
            };
            let (status, reopened) =
                review_transition(report.status, action).map_err(|why| ServiceError::Conflict {
                    message: format!("Cannot {action} this report: {why}."),
                    issues: vec![Issue::new("action", "invalid_transition", why)],
                })?;
            store::set_status(conn, report.id, status, reopened)?;
            store::record_review(
                conn,
                report.id,
                action,
                &who.subject,
                comment,
                report.revision,
                now,
            )?;
            let kind = match action {
                ReviewAction::Return => Some(Kind::Returned),
                ReviewAction::Approve => Some(Kind::Approved),
                ReviewAction::Reopen => Some(Kind::Reopened),
                ReviewAction::Unapprove => Some(Kind::Unapproved),
            };
            if let Some(kind) = kind {
                notify(conn, kind)?;
            }
            let view = store::get_report(conn, dataset, period, commune)?
                .ok_or_else(|| ServiceError::bug("a report vanished inside its transaction"))?;
            Ok(Reviewed::Report(Box::new(ReportNow::at(
                &catalog, view, now,
            )?)))
        })
    }

    /// The store filter of a report list in `who`'s scope: a filter outside it is 403, never
    /// an empty list.
    pub fn report_filter(
        &self,
        who: &Principal,
        q: &ReportQuery,
    ) -> Result<ReportFilter, ServiceError> {
        let mut conn = self.conn()?;
        if let Some(c) = &q.commune {
            match self.authorize_commune(&mut conn, who, c, Action::Read) {
                // An unknown commune has nothing to show anyone.
                Err(ServiceError::NotFound(_)) | Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        if let Some(p) = &q.province {
            let reference = self.reference(&mut conn, |r| r.province(p).is_some())?;
            crate::analysis::known_province_in(&reference, p)?;
        }
        let province = who.province_filter(q.province.as_deref())?;
        let commune = match who.own_commune() {
            Some(own) => Some(own.to_owned()),
            None => q.commune.clone(),
        };
        Ok(ReportFilter {
            dataset: q.dataset.clone(),
            period: q.period.map(|p| p.to_string()),
            province,
            commune,
            status: q.status,
        })
    }

    /// One page of reports after the report id `after`, with their facts at one instant.
    pub fn reports_page(
        &self,
        filter: &ReportFilter,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ReportNow>, ServiceError> {
        let rows = store::list_reports(&mut *self.conn()?, filter, after, limit)?;
        let (catalog, now) = (self.current_catalog()?, self.now());
        rows.into_iter()
            .map(|r| ReportNow::at(&catalog, r, now))
            .collect()
    }
}
