//! What the province sees of its communes' plans: completion by commune and by section, the
//! overdue tasks, one task across every commune, and the difficulties and proposals of a period.
//!
//! A task's status is the last one stated for it: from the report of the latest period (up to
//! the period viewed, within the plan's years; for a yearly task, within the year viewed),
//! each report read at its latest revision received by `as_of`. It is overdue when its due day
//! (in Vietnam) is before the day of `as_of` and it is not completed.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use innoreport_core::period::vietnam_offset;
use innoreport_core::plans::{Counts, PlanBody, Progress, Standing, Task, TaskStatus, standing};
use innoreport_core::{Action, Period, Principal, Target};
use innoreport_store::plans::{self as store, PlanFilter};

use super::decode_body;
use super::progress::decode;
use crate::{Service, ServiceError};

/// One task of one commune, judged.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskStanding {
    pub commune: String,
    /// The commune's name.
    pub name_vi: String,
    pub task: Task,
    pub section_title: Option<String>,
    pub status: Option<TaskStatus>,
    pub percent: Option<u8>,
    pub result: Option<String>,
    pub difficulties: Option<String>,
    pub proposals: Option<String>,
    /// The period whose report stated the status.
    pub stated_in: Option<String>,
    pub due: Option<NaiveDate>,
    pub days_overdue: Option<i64>,
}

impl TaskStanding {
    /// What the counts need of it.
    pub fn standing(&self) -> Standing {
        Standing {
            status: self.status,
            due: self.due,
            days_overdue: self.days_overdue,
        }
    }
}

/// The counts of a set of judged tasks.
pub fn count<'a>(tasks: impl IntoIterator<Item = &'a TaskStanding>) -> Counts {
    let mut c = Counts::default();
    for t in tasks {
        c.add(&t.standing());
    }
    c
}

#[derive(Debug, Clone, PartialEq)]
pub struct CommuneCompletion {
    pub commune: String,
    pub name_vi: String,
    pub name_en: String,
    /// The plan's title (`None`: the commune has no plan for the year).
    pub plan: Option<String>,
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SectionCompletion {
    pub section: String,
    pub title: String,
    pub communes: usize,
    pub counts: Counts,
}

/// Plan completion of a province's communes for a period.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvinceProgress {
    pub province: String,
    pub period: Period,
    pub as_of: DateTime<Utc>,
    pub totals: Counts,
    pub communes_with_plan: usize,
    pub communes: Vec<CommuneCompletion>,
    pub sections: Vec<SectionCompletion>,
    /// The overdue tasks, most days overdue first.
    pub overdue: Vec<TaskStanding>,
}

/// One task across the communes whose plans have it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskAcross {
    pub province: String,
    pub code: String,
    pub period: Period,
    pub as_of: DateTime<Utc>,
    pub counts: Counts,
    pub rows: Vec<TaskStanding>,
}

/// A commune in a view of plans: its names and its plan's title (`None`: no plan for the year).
#[derive(Debug, Clone, PartialEq)]
struct CommuneRow {
    code: String,
    name_vi: String,
    name_en: String,
    plan: Option<String>,
}

/// One difficulty or proposal of one commune.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackItem {
    /// The section of the task it is about (`None`: the report as a whole).
    pub section: Option<String>,
    pub section_title: Option<String>,
    pub commune: String,
    pub name_vi: String,
    /// The task it is about (`None`: the report as a whole).
    pub task: Option<String>,
    pub task_title: Option<String>,
    /// `difficulty` or `proposal`.
    pub kind: &'static str,
    pub text: String,
}

/// The difficulties and proposals of a province's communes for a period.
#[derive(Debug, Clone, PartialEq)]
pub struct Feedback {
    pub province: String,
    pub period: Period,
    pub as_of: DateTime<Utc>,
    pub items: Vec<FeedbackItem>,
}

/// A commune's reports' plan parts as they stood at `as_of`: period → part.
type Parts = BTreeMap<Period, Progress>;

fn parts_by_commune(
    rows: Vec<store::ProgressRow>,
    as_of: DateTime<Utc>,
) -> Result<BTreeMap<String, Parts>, ServiceError> {
    // The latest revision received by `as_of`, per report.
    let mut latest: BTreeMap<(String, String, String), (i32, String)> = BTreeMap::new();
    for r in rows.into_iter().filter(|r| r.received_at <= as_of) {
        let key = (r.commune, r.dataset, r.period);
        match latest.get(&key) {
            Some((rev, _)) if *rev > r.revision => {}
            _ => {
                latest.insert(key, (r.revision, r.body));
            }
        }
    }
    let mut out: BTreeMap<String, Parts> = BTreeMap::new();
    for ((commune, _, period), (_, body)) in latest {
        let Ok(period) = Period::parse(&period) else {
            continue;
        };
        let part = decode(&format!("{commune} {period}"), &body)?;
        out.entry(commune).or_default().insert(period, part);
    }
    Ok(out)
}

/// The standing of each task of `plan` for the period viewed.
fn judge(
    commune: &CommuneRow,
    plan: &PlanBody,
    parts: Option<&Parts>,
    period: Period,
    today: NaiveDate,
) -> Vec<TaskStanding> {
    let year = period.year();
    plan.tasks
        .iter()
        .map(|t| {
            // The latest period up to the one viewed that states this task.
            let stated = parts.and_then(|parts| {
                parts
                    .iter()
                    .filter(|(p, _)| p.last_day() <= period.last_day())
                    .filter(|(p, _)| plan.covers(p.year()))
                    .filter(|(p, _)| !t.schedule.recurs() || p.year() == year)
                    .filter_map(|(p, part)| part.tasks.get(&t.code).map(|s| (*p, s)))
                    .max_by_key(|(p, _)| (p.last_day(), std::cmp::Reverse(p.kind())))
            });
            let s = standing(t, stated.map(|(_, s)| s.status), year, today);
            TaskStanding {
                commune: commune.code.clone(),
                name_vi: commune.name_vi.clone(),
                task: t.clone(),
                section_title: t
                    .section
                    .as_deref()
                    .and_then(|s| plan.section_title(s))
                    .map(str::to_owned),
                status: s.status,
                percent: stated.and_then(|(_, s)| s.percent),
                result: stated.and_then(|(_, s)| s.result.clone()),
                difficulties: stated.and_then(|(_, s)| s.difficulties.clone()),
                proposals: stated.and_then(|(_, s)| s.proposals.clone()),
                stated_in: stated.map(|(p, _)| p.to_string()),
                due: s.due,
                days_overdue: s.days_overdue,
            }
        })
        .collect()
}

/// The plans of the communes of `province` (or of one commune) covering `year`, by commune.
fn commune_plans(
    conn: &mut innoreport_store::DbConnection,
    province: &str,
    commune: Option<String>,
    year: i32,
) -> Result<BTreeMap<String, PlanBody>, ServiceError> {
    store::list(
        conn,
        &PlanFilter {
            owner: Some("commune".into()),
            province: Some(province.to_owned()),
            unit: commune,
            year: Some(year),
        },
    )?
    .iter()
    .map(|p| Ok((p.unit.clone(), decode_body(p)?)))
    .collect()
}

fn today(as_of: DateTime<Utc>) -> NaiveDate {
    as_of.with_timezone(&vietnam_offset()).date_naive()
}

impl Service {
    /// Every task of every commune of `province` (or of one commune) that has a plan for the
    /// period's year, judged at `as_of`; with the communes in scope and their plans.
    fn standings(
        &self,
        province: &str,
        commune: Option<&str>,
        period: Period,
        as_of: DateTime<Utc>,
    ) -> Result<(Vec<CommuneRow>, Vec<TaskStanding>), ServiceError> {
        let mut conn = self.conn()?;
        let reference = self.reference(&mut conn, |r| r.province(province).is_some())?;
        let plans = commune_plans(
            &mut conn,
            province,
            commune.map(str::to_owned),
            period.year(),
        )?;
        let parts = parts_by_commune(
            store::progress_rows(&mut conn, Some(province), commune)?,
            as_of,
        )?;
        let day = today(as_of);
        let mut communes = Vec::new();
        let mut all = Vec::new();
        for c in reference
            .communes_of(province)
            .filter(|c| commune.is_none_or(|x| x == c.code))
        {
            let plan = plans.get(&c.code);
            let row = CommuneRow {
                code: c.code.clone(),
                name_vi: c.name_vi.clone(),
                name_en: c.name_en.clone(),
                plan: plan.map(|p| p.title.clone()),
            };
            if let Some(plan) = plan {
                all.extend(judge(&row, plan, parts.get(&c.code), period, day));
            }
            communes.push(row);
        }
        Ok((communes, all))
    }

    /// Plan completion of the communes of `province` for `period`, judged at `as_of` (default
    /// now).
    pub fn plan_progress(
        &self,
        who: &Principal,
        province: &str,
        period: Period,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<ProvinceProgress, ServiceError> {
        who.require(Action::Read, Target::Communes(province))?;
        self.province_exists(province)?;
        let as_of = as_of.unwrap_or_else(|| self.now());
        let (communes, all) = self.standings(province, None, period, as_of)?;
        let mut by_commune: BTreeMap<&str, Counts> = BTreeMap::new();
        let mut by_section: BTreeMap<(String, String), (Counts, std::collections::BTreeSet<&str>)> =
            BTreeMap::new();
        let mut totals = Counts::default();
        let mut overdue = Vec::new();
        for s in &all {
            let st = s.standing();
            totals.add(&st);
            by_commune.entry(&s.commune).or_default().add(&st);
            let key = (
                s.task.section.clone().unwrap_or_default(),
                s.section_title.clone().unwrap_or_default(),
            );
            let e = by_section.entry(key).or_default();
            e.0.add(&st);
            e.1.insert(&s.commune);
            if s.days_overdue.is_some() {
                overdue.push(s.clone());
            }
        }
        overdue.sort_by(|a, b| {
            b.days_overdue
                .cmp(&a.days_overdue)
                .then(a.commune.cmp(&b.commune))
                .then(a.task.code.cmp(&b.task.code))
        });
        Ok(ProvinceProgress {
            province: province.to_owned(),
            period,
            as_of,
            totals,
            communes_with_plan: communes.iter().filter(|c| c.plan.is_some()).count(),
            communes: communes
                .iter()
                .map(|c| CommuneCompletion {
                    commune: c.code.clone(),
                    name_vi: c.name_vi.clone(),
                    name_en: c.name_en.clone(),
                    plan: c.plan.clone(),
                    counts: by_commune.get(c.code.as_str()).copied().unwrap_or_default(),
                })
                .collect(),
            sections: by_section
                .into_iter()
                .map(|((section, title), (counts, communes))| SectionCompletion {
                    section,
                    title,
                    communes: communes.len(),
                    counts,
                })
                .collect(),
            overdue,
        })
    }

    /// A commune's tasks, judged at `as_of` (default now).
    pub fn commune_tasks(
        &self,
        who: &Principal,
        commune: &str,
        period: Period,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<TaskStanding>, ServiceError> {
        let province = {
            let mut conn = self.conn()?;
            self.authorize_commune(&mut conn, who, commune, Action::Read)?
        };
        let as_of = as_of.unwrap_or_else(|| self.now());
        Ok(self.standings(&province, Some(commune), period, as_of)?.1)
    }

    /// One task (by its code, as adopted from the template) across the communes of `province`.
    pub fn task_across(
        &self,
        who: &Principal,
        province: &str,
        code: &str,
        period: Period,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<TaskAcross, ServiceError> {
        who.require(Action::Read, Target::Communes(province))?;
        self.province_exists(province)?;
        let as_of = as_of.unwrap_or_else(|| self.now());
        let rows: Vec<TaskStanding> = self
            .standings(province, None, period, as_of)?
            .1
            .into_iter()
            .filter(|s| s.task.code == code)
            .collect();
        let counts = count(&rows);
        Ok(TaskAcross {
            province: province.to_owned(),
            code: code.to_owned(),
            period,
            as_of,
            counts,
            rows,
        })
    }

    /// The difficulties and proposals the communes of `province` reported for `period` (their
    /// reports of exactly that period, at the latest revision received by `as_of`), grouped by
    /// section: the report's own texts first, then by task.
    pub fn plan_feedback(
        &self,
        who: &Principal,
        province: &str,
        period: Period,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Feedback, ServiceError> {
        who.require(Action::Read, Target::Communes(province))?;
        self.province_exists(province)?;
        let as_of = as_of.unwrap_or_else(|| self.now());
        let mut conn = self.conn()?;
        let reference = self.reference(&mut conn, |r| r.province(province).is_some())?;
        let parts = parts_by_commune(
            store::progress_rows(&mut conn, Some(province), None)?,
            as_of,
        )?;
        let plans = commune_plans(&mut conn, province, None, period.year())?;
        let mut items = Vec::new();
        for c in reference.communes_of(province) {
            let Some(part) = parts.get(&c.code).and_then(|p| p.get(&period)) else {
                continue;
            };
            let plan = plans.get(&c.code);
            for (key, kind) in [("difficulties", "difficulty"), ("proposals", "proposal")] {
                if let Some(text) = part.texts.get(key) {
                    items.push(FeedbackItem {
                        section: None,
                        section_title: None,
                        commune: c.code.clone(),
                        name_vi: c.name_vi.clone(),
                        task: None,
                        task_title: None,
                        kind,
                        text: text.clone(),
                    });
                }
            }
            for (code, p) in &part.tasks {
                let task = plan.and_then(|pl| pl.task(code));
                let section = task.and_then(|t| t.section.clone());
                let section_title = section
                    .as_deref()
                    .and_then(|s| plan.and_then(|pl| pl.section_title(s)))
                    .map(str::to_owned);
                for (text, kind) in [(&p.difficulties, "difficulty"), (&p.proposals, "proposal")] {
                    if let Some(text) = text {
                        items.push(FeedbackItem {
                            section: section.clone(),
                            section_title: section_title.clone(),
                            commune: c.code.clone(),
                            name_vi: c.name_vi.clone(),
                            task: Some(code.clone()),
                            task_title: task.map(|t| t.title.clone()),
                            kind,
                            text: text.clone(),
                        });
                    }
                }
            }
        }
        // Grouped by section (the report's own texts first), then commune, task, kind.
        items.sort_by(|a, b| {
            (a.section.is_some(), &a.section, &a.commune, &a.task, a.kind).cmp(&(
                b.section.is_some(),
                &b.section,
                &b.commune,
                &b.task,
                b.kind,
            ))
        });
        Ok(Feedback {
            province: province.to_owned(),
            period,
            as_of,
            items,
        })
    }

    /// The completion counts of every task of the communes of `province` for `period` at
    /// `as_of`, with the number of communes that have a plan (`None`: none has).
    pub fn plan_totals(
        &self,
        province: &str,
        period: Period,
        as_of: DateTime<Utc>,
    ) -> Result<Option<(Counts, usize)>, ServiceError> {
        let (communes, all) = self.standings(province, None, period, as_of)?;
        let with_plan = communes.iter().filter(|c| c.plan.is_some()).count();
        if with_plan == 0 {
            return Ok(None);
        }
        Ok(Some((count(&all), with_plan)))
    }

    /// The texts (highlights, difficulties, proposals) of a commune's report for exactly
    /// `period`, at its latest revision received by `as_of` (the caller checked the scope).
    pub fn report_texts(
        &self,
        commune: &str,
        period: Period,
        as_of: DateTime<Utc>,
    ) -> Result<BTreeMap<String, String>, ServiceError> {
        let mut conn = self.conn()?;
        let parts = parts_by_commune(store::progress_rows(&mut conn, None, Some(commune))?, as_of)?;
        Ok(parts
            .get(commune)
            .and_then(|p| p.get(&period))
            .map(|p| p.texts.clone())
            .unwrap_or_default())
    }

    fn province_exists(&self, province: &str) -> Result<(), ServiceError> {
        let mut conn = self.conn()?;
        if self
            .reference(&mut conn, |r| r.province(province).is_some())?
            .province(province)
            .is_none()
        {
            return Err(ServiceError::not_found(format!(
                "There is no province {:?}.",
                crate::reports::clip(province)
            )));
        }
        Ok(())
    }
}
