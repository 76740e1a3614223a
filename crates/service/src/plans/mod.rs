//! Plans (kế hoạch) as data: a commune's plan or a province's template, written whole (JSON or
//! an annex table), versioned like reports (every revision kept with its author), approved and
//! reopened by the province, and adopted from the template by communes (adopted tasks keep the
//! template's codes, so a task compares across communes).
//!
//! Who does what: whoever reads a unit reads its plans; whoever submits for a commune edits its
//! plan and adopts the template; a province admin edits the province's template and approves
//! (locks) or reopens any plan of the province.

mod import;
mod progress;
pub mod samples;
mod views;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use innoreport_core::plans::{
    PlanBody, PlanDraft, PlanOwner, PlanStatus, Section, Task, TaskOrigin, check_plan,
};
use innoreport_core::validation::Issue;
use innoreport_core::{Action, Principal, ProvinceCode, Scope, Target};
use innoreport_store::DbConnection;
use innoreport_store::changes::NewChange;
use innoreport_store::plans::{self as store, PlanFilter, PlanWrite, StoredPlan};

pub use import::{AnnexFormat, ImportedPlan, RowProblem};
pub use progress::{
    check_progress, check_task_codes, commune_plan as commune_plan_body, decode as decode_progress,
    stored_progress, write_progress,
};
pub use views::{
    CommuneCompletion, Feedback, FeedbackItem, ProvinceProgress, SectionCompletion, TaskAcross,
    TaskStanding, count,
};

use crate::reports::clip;
use crate::{Service, ServiceError};

/// A plan as it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanView {
    pub owner: PlanOwner,
    pub unit: String,
    pub province: String,
    pub revision: i32,
    pub status: PlanStatus,
    pub body: PlanBody,
    pub updated_by: String,
    pub updated_at: DateTime<Utc>,
}

/// One revision of a plan, with what it changed.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRevisionView {
    pub number: i32,
    pub action: String,
    pub author: String,
    pub at: DateTime<Utc>,
    pub comment: Option<String>,
    pub status: PlanStatus,
    pub tasks: usize,
    /// `(task, field, old, new)`: a field of a task that changed (`field` = `task` for a task
    /// added or removed).
    pub changes: Vec<(String, String, Option<String>, Option<String>)>,
}

/// What to do with a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanAction {
    Approve,
    Reopen,
}

pub(crate) fn decode_body(p: &StoredPlan) -> Result<PlanBody, ServiceError> {
    serde_json::from_str(&p.body)
        .map_err(|e| ServiceError::internal(format!("plan {} is unreadable", p.id), e))
}

fn status_of(s: &str) -> PlanStatus {
    if s == "approved" {
        PlanStatus::Approved
    } else {
        PlanStatus::Draft
    }
}

fn view_of(p: &StoredPlan) -> Result<PlanView, ServiceError> {
    Ok(PlanView {
        owner: if p.owner == "province" {
            PlanOwner::Province
        } else {
            PlanOwner::Commune
        },
        unit: p.unit.clone(),
        province: p.province.clone(),
        revision: p.revision,
        status: status_of(&p.status),
        body: decode_body(p)?,
        updated_by: p.updated_by.clone(),
        updated_at: p.updated_at,
    })
}

/// The text of each field of a task, to compare revisions.
fn fields(t: &Task) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("section", t.section.clone()),
        ("title", Some(t.title.clone())),
        ("content", Some(t.content.clone())),
        ("lead", Some(t.lead.clone())),
        ("partners", t.partners.clone()),
        ("timeframe", Some(t.timeframe.clone())),
        ("expected", t.expected.clone()),
        ("indicators", Some(t.indicators.join(", "))),
    ]
}

fn diff(
    old: Option<&PlanBody>,
    new: &PlanBody,
) -> Vec<(String, String, Option<String>, Option<String>)> {
    let mut out = Vec::new();
    let empty = Vec::new();
    let old_tasks = old.map_or(&empty, |o| &o.tasks);
    for t in &new.tasks {
        match old_tasks.iter().find(|o| o.code == t.code) {
            None => out.push((t.code.clone(), "task".into(), None, Some(t.title.clone()))),
            Some(o) => {
                for ((name, a), (_, b)) in fields(o).into_iter().zip(fields(t)) {
                    if a != b {
                        out.push((t.code.clone(), name.into(), a, b));
                    }
                }
            }
        }
    }
    for o in old_tasks {
        if new.task(&o.code).is_none() {
            out.push((o.code.clone(), "task".into(), Some(o.title.clone()), None));
        }
    }
    if let Some(o) = old
        && o.title != new.title
    {
        out.push((
            "".into(),
            "title".into(),
            Some(o.title.clone()),
            Some(new.title.clone()),
        ));
    }
    out
}

impl Service {
    /// The province of a plan's unit, once `who` may do `action` on it.
    fn plan_unit(
        &self,
        conn: &mut DbConnection,
        who: &Principal,
        owner: PlanOwner,
        unit: &str,
        action: Action,
    ) -> Result<String, ServiceError> {
        match owner {
            PlanOwner::Commune => self.authorize_commune(conn, who, unit, action),
            PlanOwner::Province => {
                let known = ProvinceCode::parse(unit).is_ok()
                    && self
                        .reference(conn, |r| r.province(unit).is_some())?
                        .province(unit)
                        .is_some();
                if !known {
                    return Err(ServiceError::not_found(format!(
                        "There is no province {:?}.",
                        clip(unit)
                    )));
                }
                who.require(action, Target::Province(unit))?;
                Ok(unit.to_owned())
            }
        }
    }

    fn stored_plan(
        &self,
        conn: &mut DbConnection,
        owner: PlanOwner,
        unit: &str,
        year: i32,
    ) -> Result<StoredPlan, ServiceError> {
        store::covering(conn, owner.as_str(), unit, year)?.ok_or_else(|| {
            ServiceError::not_found(format!(
                "{} {} has no plan for {year}.",
                match owner {
                    PlanOwner::Commune => "Commune",
                    PlanOwner::Province => "Province",
                },
                clip(unit)
            ))
        })
    }

    /// The plan of a unit covering `year`.
    pub fn plan(
        &self,
        who: &Principal,
        owner: PlanOwner,
        unit: &str,
        year: i32,
    ) -> Result<PlanView, ServiceError> {
        let mut conn = self.conn()?;
        self.plan_unit(&mut conn, who, owner, unit, Action::Read)?;
        view_of(&self.stored_plan(&mut conn, owner, unit, year)?)
    }

    /// The plans `who` may read, filtered by owner, province, commune and year.
    pub fn plans(
        &self,
        who: &Principal,
        owner: Option<PlanOwner>,
        province: Option<&str>,
        commune: Option<&str>,
        year: Option<i32>,
    ) -> Result<Vec<PlanView>, ServiceError> {
        let mut conn = self.conn()?;
        let scope = who.scope();
        let province = match (&scope, province) {
            (Scope::All, p) => p.map(str::to_owned),
            (Scope::Province(mine) | Scope::Commune { province: mine, .. }, Some(p))
                if p != mine =>
            {
                return Err(ServiceError::forbidden(format!(
                    "{} may read only province {mine}",
                    who.role
                )));
            }
            (Scope::Province(mine) | Scope::Commune { province: mine, .. }, _) => {
                Some(mine.clone())
            }
        };
        match (&scope, commune) {
            (Scope::Commune { commune: mine, .. }, Some(c)) if c != mine => {
                return Err(ServiceError::forbidden(format!(
                    "{} may read only commune {mine}",
                    who.role
                )));
            }
            (Scope::Province(mine), Some(c)) => {
                let reference = self.reference(&mut conn, |r| r.commune(c).is_some())?;
                if reference.province_of(c) != Some(mine.as_str()) {
                    return Err(ServiceError::forbidden(format!(
                        "{} may read only the communes of province {mine}",
                        who.role
                    )));
                }
            }
            _ => {}
        }
        let rows = store::list(
            &mut conn,
            &PlanFilter {
                owner: owner.map(|o| o.as_str().to_owned()),
                province,
                unit: commune.map(str::to_owned),
                year,
            },
        )?;
        rows.iter()
            // A commune officer reads its own plans and its province's templates.
            .filter(|p| match &scope {
                Scope::Commune { commune: mine, .. } => p.owner == "province" || &p.unit == mine,
                _ => true,
            })
            .map(view_of)
            .collect()
    }

    /// Every revision of a plan, with what each changed.
    pub fn plan_revisions(
        &self,
        who: &Principal,
        owner: PlanOwner,
        unit: &str,
        year: i32,
    ) -> Result<Vec<PlanRevisionView>, ServiceError> {
        let mut conn = self.conn()?;
        self.plan_unit(&mut conn, who, owner, unit, Action::Read)?;
        let plan = self.stored_plan(&mut conn, owner, unit, year)?;
        let mut previous: Option<PlanBody> = None;
        let mut out = Vec::new();
        for r in store::revisions_of(&mut conn, plan.id)? {
            let body: PlanBody = serde_json::from_str(&r.body).map_err(|e| {
                ServiceError::internal(format!("revision {} of plan {}", r.number, plan.id), e)
            })?;
            out.push(PlanRevisionView {
                number: r.number,
                action: r.action,
                author: r.author,
                at: r.at,
                comment: r.comment,
                status: status_of(&r.status),
                tasks: body.tasks.len(),
                changes: diff(previous.as_ref(), &body),
            });
            previous = Some(body);
        }
        Ok(out)
    }

    /// Writes a whole plan (a new one, or the next revision of the unit's plan starting in
    /// `first_year`).
    #[allow(clippy::too_many_arguments)]
    pub fn put_plan(
        &self,
        who: &Principal,
        owner: PlanOwner,
        unit: &str,
        first_year: i32,
        draft: &PlanDraft,
        base_revision: Option<i32>,
        comment: Option<&str>,
        dry_run: bool,
    ) -> Result<PlanView, ServiceError> {
        let mut conn = self.conn()?;
        let catalog = self.catalog(&mut conn)?;
        let province = self.plan_unit(&mut conn, who, owner, unit, Action::Submit)?;
        let body = check_plan(draft, first_year, &|c| catalog.indicator(c).is_some())
            .map_err(|issues| ServiceError::invalid("plan", issues))?;
        self.write_plan(
            &mut conn,
            who,
            owner,
            unit,
            &province,
            body,
            base_revision,
            "edit",
            comment,
            dry_run,
        )
    }

    /// Stores `body` as the unit's plan: checks overlap, lock and base revision, keeps the
    /// origin of the tasks adopted from the template, and logs the change.
    #[allow(clippy::too_many_arguments)]
    fn write_plan(
        &self,
        conn: &mut DbConnection,
        who: &Principal,
        owner: PlanOwner,
        unit: &str,
        province: &str,
        mut body: PlanBody,
        base_revision: Option<i32>,
        action: &str,
        comment: Option<&str>,
        dry_run: bool,
    ) -> Result<PlanView, ServiceError> {
        let existing = store::list(
            conn,
            &PlanFilter {
                owner: Some(owner.as_str().to_owned()),
                unit: Some(unit.to_owned()),
                ..Default::default()
            },
        )?
        .into_iter()
        .find(|p| p.first_year == body.first_year);
        let overlaps = store::overlapping(
            conn,
            owner.as_str(),
            unit,
            body.first_year,
            body.last_year,
            existing.as_ref().map(|p| p.id),
        )?;
        if let Some(o) = overlaps.first() {
            return Err(ServiceError::invalid(
                "plan",
                vec![Issue::new(
                    "last_year",
                    "overlaps",
                    format!(
                        "{} {unit} already has a plan for {}–{}: a unit's plans may not overlap",
                        owner.as_str(),
                        o.first_year,
                        o.last_year
                    ),
                )],
            ));
        }
        let revision = existing.as_ref().map_or(0, |p| p.revision);
        if existing
            .as_ref()
            .is_some_and(|e| status_of(&e.status) == PlanStatus::Approved)
        {
            return Err(ServiceError::Locked {
                message: format!(
                    "The plan is approved (revision {revision}); the province must reopen it first."
                ),
                issues: vec![Issue::new(
                    "plan",
                    "approved",
                    "reopen the plan to change it",
                )],
            });
        }
        if let Some(given) = base_revision
            && given != revision
        {
            return Err(stale(given, revision));
        }
        // A commune's task is the template's when the province's template for the year has the
        // same task (code, title and content): written by hand, imported or adopted alike; under
        // a template's code, another task is the commune's own.
        if owner == PlanOwner::Commune {
            let template = match store::covering(conn, "province", province, body.first_year)? {
                Some(t) => Some(decode_body(&t)?),
                None => None,
            };
            for t in &mut body.tasks {
                let same = template
                    .as_ref()
                    .and_then(|tp| tp.task(&t.code))
                    .is_some_and(|o| o.title == t.title && o.content == t.content);
                t.origin = if same {
                    TaskOrigin::Template
                } else {
                    TaskOrigin::Own
                };
            }
        }
        let now = self.now();
        let status = PlanStatus::Draft;
        let view = PlanView {
            owner,
            unit: unit.to_owned(),
            province: province.to_owned(),
            revision: revision + 1,
            status,
            body,
            updated_by: who.subject.clone(),
            updated_at: now,
        };
        if dry_run {
            return Ok(view);
        }
        self.store_plan(conn, existing.as_ref(), &view, action, comment)?;
        Ok(view)
    }

    fn store_plan(
        &self,
        conn: &mut DbConnection,
        existing: Option<&StoredPlan>,
        view: &PlanView,
        action: &str,
        comment: Option<&str>,
    ) -> Result<(), ServiceError> {
        let body = serde_json::to_string(&view.body).expect("plans serialize");
        let commune = (view.owner == PlanOwner::Commune).then_some(view.unit.as_str());
        let subject = format!(
            "{}/{}/{}",
            view.owner.as_str(),
            view.unit,
            view.body.first_year
        );
        let written = store::write(
            conn,
            existing.map(|p| (p.id, p.revision)),
            &PlanWrite {
                owner: view.owner.as_str(),
                unit: &view.unit,
                province: &view.province,
                first_year: view.body.first_year,
                last_year: view.body.last_year,
                status: view.status.as_str(),
                body: &body,
                action,
                author: &view.updated_by,
                at: view.updated_at,
                comment,
            },
            &NewChange {
                at: view.updated_at,
                actor: &view.updated_by,
                action: &format!("plan.{action}"),
                province: Some(&view.province),
                commune,
                subject,
                detail: serde_json::json!({
                    "revision": view.revision,
                    "status": view.status.as_str(),
                    "tasks": view.body.tasks.len(),
                    "comment": comment,
                }),
            },
        );
        match written {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(stale(view.revision - 1, view.revision)),
            Err(e) if innoreport_store::reports::is_unique_violation(&e) => Err(stale(0, 1)),
            Err(e) => Err(e.into()),
        }
    }

    /// Adopts the province's published (approved) template for `year` into the commune's plan:
    /// the template's tasks replace those adopted before, the commune's own tasks stay.
    pub fn adopt_template(
        &self,
        who: &Principal,
        commune: &str,
        year: i32,
        base_revision: Option<i32>,
    ) -> Result<PlanView, ServiceError> {
        let mut conn = self.conn()?;
        let province =
            self.plan_unit(&mut conn, who, PlanOwner::Commune, commune, Action::Submit)?;
        let template = store::covering(&mut conn, "province", &province, year)?
            .filter(|t| status_of(&t.status) == PlanStatus::Approved)
            .ok_or_else(|| {
                ServiceError::not_found(format!(
                    "Province {province} has published (approved) no template plan for {year}."
                ))
            })?;
        let template = decode_body(&template)?;
        let current = store::covering(&mut conn, "commune", commune, year)?;
        let mut body = match &current {
            Some(c) => decode_body(c)?,
            None => PlanBody {
                title: template.title.clone(),
                first_year: template.first_year.max(year),
                last_year: template.last_year,
                sections: Vec::new(),
                tasks: Vec::new(),
            },
        };
        let template_codes: BTreeSet<&str> =
            template.tasks.iter().map(|t| t.code.as_str()).collect();
        let clashes: Vec<Issue> = body
            .tasks
            .iter()
            .filter(|t| t.origin == TaskOrigin::Own && template_codes.contains(t.code.as_str()))
            .map(|t| {
                Issue::new(
                    format!("tasks.{}", t.code),
                    "code_taken",
                    format!(
                        "the commune's own task {} has a code of the template: renumber it first",
                        t.code
                    ),
                )
            })
            .collect();
        if !clashes.is_empty() {
            return Err(ServiceError::invalid("adoption", clashes));
        }
        body.tasks.retain(|t| t.origin == TaskOrigin::Own);
        let own = std::mem::take(&mut body.tasks);
        body.tasks = template
            .tasks
            .iter()
            .map(|t| Task {
                origin: TaskOrigin::Template,
                ..t.clone()
            })
            .chain(own)
            .collect();
        let mut sections: Vec<Section> = template.sections.clone();
        for s in &body.sections {
            if !sections.iter().any(|t| t.code == s.code) {
                sections.push(s.clone());
            }
        }
        body.sections = sections;
        self.write_plan(
            &mut conn,
            who,
            PlanOwner::Commune,
            commune,
            &province,
            body,
            base_revision,
            "adopt",
            None,
            false,
        )
    }

    /// Approves (locks) or reopens a plan: a province admin's decision. Approving an approved
    /// plan, or reopening an open one, changes nothing and answers the plan.
    pub fn review_plan(
        &self,
        who: &Principal,
        owner: PlanOwner,
        unit: &str,
        year: i32,
        action: PlanAction,
        comment: Option<&str>,
    ) -> Result<PlanView, ServiceError> {
        let mut conn = self.conn()?;
        let province = self.plan_unit(&mut conn, who, owner, unit, Action::Read)?;
        who.require(Action::Review, Target::Communes(&province))?;
        let stored = self.stored_plan(&mut conn, owner, unit, year)?;
        let mut view = view_of(&stored)?;
        let (to, name) = match (action, view.status) {
            (PlanAction::Approve, PlanStatus::Draft) => (PlanStatus::Approved, "approve"),
            (PlanAction::Reopen, PlanStatus::Approved) => (PlanStatus::Draft, "reopen"),
            // Already so: a harmless repeat, answered with the plan as it is.
            _ => return Ok(view),
        };
        view.status = to;
        view.revision += 1;
        view.updated_by = who.subject.clone();
        view.updated_at = self.now();
        self.store_plan(&mut conn, Some(&stored), &view, name, comment)?;
        Ok(view)
    }
}

fn stale(given: i32, current: i32) -> ServiceError {
    ServiceError::Conflict {
        message: format!(
            "base_revision {given} is not the plan's current revision {current}; reload and retry."
        ),
        issues: vec![Issue::new(
            "base_revision",
            "stale",
            format!("the current revision is {current}"),
        )],
    }
}
