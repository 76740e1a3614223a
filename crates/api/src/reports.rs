//! Report submission, reading, revisions and review.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use innoreport_core::validation::{self, Issue};
use innoreport_core::{
    Action, Catalog, CommuneCode, Period, ReportStatus, ReviewAction, Role, Target, Timeliness,
};
use innoreport_store::reports::{
    self as store_reports, LockReason, Outcome, ReportFilter, ReportView, ReviewError, Submission,
    SubmitError, Submitted,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::export::{Cell, ExportParams, Table};
use crate::problem::{ApiError, FieldError, Problem};
use crate::reference::{PageParams, encode_cursor};
use crate::state::AppState;

/// A commune's report for one data set and period. `values` names the indicators reported:
/// indicators not named keep their current value, `null` clears one.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportSubmission {
    /// The commune (5-digit code); may be omitted by a commune officer (their own commune).
    #[schema(example = "03808")]
    pub commune: Option<String>,
    #[schema(example = "dmst-quarterly")]
    pub dataset: String,
    #[schema(example = "2026Q1")]
    pub period: String,
    #[schema(value_type = Object, example = json!({"dossiers_total": 120, "dossiers_online_full": 96}))]
    pub values: BTreeMap<String, serde_json::Value>,
    /// Why this change was made.
    pub comment: Option<String>,
    /// The revision the client last saw; a newer current revision answers 409 (0: expect no report yet).
    pub base_revision: Option<i32>,
}

/// A value accepted but far from the commune's own history (modified z-score above 3.5).
#[derive(Debug, Serialize, ToSchema)]
pub struct ValueWarning {
    pub indicator: String,
    pub code: String,
    pub value: f64,
    /// The modified z-score against the commune's earlier periods.
    pub score: f64,
    pub message: String,
}

/// A report as it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportOut {
    pub commune: String,
    pub province: String,
    pub dataset: String,
    pub period: String,
    /// The current revision number (1, 2, ...).
    pub revision: i32,
    pub status: ReportStatus,
    /// The province lifted the time lock.
    pub reopened: bool,
    /// Whether the commune can still change it now.
    pub locked: bool,
    /// When the current revision was received (server time).
    pub received_at: DateTime<Utc>,
    /// When the first revision was received (server time): the basis of timeliness.
    pub first_received_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    pub lock: Option<DateTime<Utc>>,
    pub timeliness: Timeliness,
    pub author: String,
    pub comment: Option<String>,
    #[schema(value_type = Object)]
    pub values: BTreeMap<String, f64>,
    pub warnings: Vec<ValueWarning>,
}

fn report_out(
    catalog: &Catalog,
    r: ReportView,
    warnings: Vec<ValueWarning>,
    now: DateTime<Utc>,
) -> ReportOut {
    let dataset = catalog.dataset(&r.dataset);
    let period = Period::parse(&r.period).ok();
    let (deadline, lock) = match (dataset, period) {
        (Some(d), Some(p)) => (d.deadline(p), d.lock(p)),
        _ => (r.first_received_at, None),
    };
    let on_time = match (dataset, period) {
        (Some(d), Some(p)) => d.is_on_time(p, r.first_received_at),
        _ => true,
    };
    let time_locked = !r.reopened && lock.is_some_and(|l| now > l);
    ReportOut {
        locked: r.status == ReportStatus::Approved || time_locked,
        timeliness: if on_time {
            Timeliness::OnTime
        } else {
            Timeliness::Late
        },
        commune: r.commune,
        province: r.province,
        dataset: r.dataset,
        period: r.period,
        revision: r.revision,
        status: r.status,
        reopened: r.reopened,
        received_at: r.received_at,
        first_received_at: r.first_received_at,
        deadline,
        lock,
        author: r.author,
        comment: r.comment,
        values: r.values,
        warnings,
    }
}

fn issues_to_fields(issues: Vec<Issue>) -> Vec<FieldError> {
    issues
        .into_iter()
        .map(|i| FieldError::new(i.field, i.code, i.message))
        .collect()
}

/// The outcome of one submission, shared by single submissions and imports.
pub(crate) enum Checked<'a> {
    Ready(Submission<'a>),
    Invalid(Vec<Issue>),
}

/// Resolves the commune of a submission and checks the caller's scope (403), then checks
/// data set, period and values (every problem listed).
pub(crate) fn check_submission<'a>(
    auth: &Auth,
    catalog: &'a Catalog,
    provinces: &BTreeMap<String, String>,
    body: &ReportSubmission,
    now: DateTime<Utc>,
) -> Result<Checked<'a>, ApiError> {
    let mut issues = Vec::new();
    let commune = match (&body.commune, &auth.0.commune) {
        (Some(c), _) => Some(c.clone()),
        (None, Some(own)) if auth.0.role == Role::CommuneOfficer => Some(own.to_string()),
        (None, _) => {
            issues.push(Issue::new(
                "commune",
                "required",
                "name the commune (5-digit code)",
            ));
            None
        }
    };
    let mut province = None;
    if let Some(c) = &commune {
        if CommuneCode::parse(c).is_err() {
            issues.push(Issue::new(
                "commune",
                "invalid_commune",
                format!("{c:?} is not a 5-digit commune code"),
            ));
        } else if let Some(p) = provinces.get(c) {
            province = Some(p.clone());
        } else {
            issues.push(Issue::new(
                "commune",
                "unknown_commune",
                format!("there is no commune {c}"),
            ));
        }
    }
    if let (Some(c), Some(p)) = (&commune, &province) {
        auth.require(
            Action::Submit,
            Target::Commune {
                commune: c,
                province: p,
            },
        )?;
    }
    if let Some(comment) = &body.comment
        && comment.chars().count() > 2000
    {
        issues.push(Issue::new(
            "comment",
            "too_long",
            "a comment has at most 2000 characters",
        ));
    }
    let Some(dataset) = catalog.dataset(&body.dataset) else {
        issues.push(Issue::new(
            "dataset",
            "unknown_dataset",
            format!("there is no data set {:?}", body.dataset),
        ));
        return Ok(Checked::Invalid(issues));
    };
    let period = match validation::check_period(dataset, &body.period, now) {
        Ok(p) => Some(p),
        Err(issue) => {
            issues.push(issue);
            None
        }
    };
    let (changes, value_issues) = validation::check_values(catalog, dataset, &body.values);
    issues.extend(value_issues);
    match (commune, province, period) {
        (Some(commune), Some(_), Some(period)) => Ok(Checked::Ready(Submission {
            dataset,
            period,
            commune,
            changes,
            field_issues: issues,
            comment: body.comment.clone().filter(|c| !c.trim().is_empty()),
            base_revision: body.base_revision,
            author: auth.0.subject.clone(),
            now,
        })),
        _ => Ok(Checked::Invalid(issues)),
    }
}

pub(crate) fn submit_error(e: SubmitError) -> ApiError {
    match e {
        SubmitError::Invalid(issues) => {
            let n = issues.len();
            ApiError::Unprocessable(
                format!("The report has {n} problem(s); nothing was stored."),
                issues_to_fields(issues),
            )
        }
        SubmitError::Locked { reason, revision } => {
            let (code, message) = match reason {
                LockReason::Approved => (
                    "approved",
                    "the report is approved; the province must unapprove it first",
                ),
                LockReason::PastLock => (
                    "past_lock",
                    "the report is past its lock date; the province must reopen it",
                ),
            };
            ApiError::Locked(
                format!("The report is locked at revision {revision}: {message}."),
                vec![FieldError::new("report", code, message)],
            )
        }
        SubmitError::Stale { given, current } => ApiError::Conflict(
            format!(
                "base_revision {given} is not the current revision {current}; reload and resubmit."
            ),
            vec![FieldError::new(
                "base_revision",
                "stale",
                format!("the current revision is {current}"),
            )],
        ),
        SubmitError::Store(e) => e.into(),
        SubmitError::DryRun(_) => ApiError::Internal("dry run escaped".into()),
    }
}

fn submit_outcome(e: &SubmitError) -> &'static str {
    match e {
        SubmitError::Invalid(_) => "invalid",
        SubmitError::Locked { .. } => "locked",
        SubmitError::Stale { .. } => "stale",
        SubmitError::Store(_) | SubmitError::DryRun(_) => "error",
    }
}

pub(crate) fn warnings_out(catalog: &Catalog, s: &Submitted) -> Vec<ValueWarning> {
    s.warnings
        .iter()
        .map(|w| ValueWarning {
            indicator: w.indicator.clone(),
            code: "far_from_history".into(),
            value: w.value,
            score: (w.score * 1000.0).round() / 1000.0,
            message: format!(
                "{} = {} is far from this commune's {} earlier values (modified z-score {:.1}); check it",
                catalog.indicator(&w.indicator).map_or(w.indicator.as_str(), |i| i.name_vi.as_str()),
                w.value,
                w.history,
                w.score
            ),
        })
        .collect()
}

/// A list filtered to one commune is a read of that commune: 403 outside the caller's scope
/// (a filter the caller may not ask for is refused, not answered with an empty list).
pub(crate) async fn authorize_commune_filter(
    state: &AppState,
    auth: &Auth,
    commune: Option<&str>,
) -> Result<(), ApiError> {
    let Some(commune) = commune else {
        return Ok(());
    };
    let provinces = commune_provinces(state, Some(vec![commune.to_owned()])).await?;
    match provinces.get(commune) {
        Some(province) => auth.require(Action::Read, Target::Commune { commune, province }),
        // An unknown commune has nothing to show anyone.
        None => Ok(()),
    }
}

/// Commune → province, for the named communes (all communes when `only` is `None`).
pub(crate) async fn commune_provinces(
    state: &AppState,
    only: Option<Vec<String>>,
) -> Result<BTreeMap<String, String>, ApiError> {
    // Communes change only when reference data is loaded: the whole map is read once, and
    // only codes it lacks (loaded after this replica started, or unknown) are asked again.
    let cached = state
        .communes
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let all = match cached {
        Some(all) => all,
        None => {
            let all = Arc::new(
                state
                    .db(|conn| innoreport_store::reference::commune_provinces(conn, None))
                    .await?,
            );
            *state.communes.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&all));
            all
        }
    };
    let Some(codes) = only else {
        return Ok(all.as_ref().clone());
    };
    let (mut found, missing): (BTreeMap<String, String>, Vec<String>) = (
        codes
            .iter()
            .filter_map(|c| all.get(c).map(|p| (c.clone(), p.clone())))
            .collect(),
        codes.into_iter().filter(|c| !all.contains_key(c)).collect(),
    );
    if !missing.is_empty() {
        found.extend(
            state
                .db(move |conn| {
                    innoreport_store::reference::commune_provinces(conn, Some(&missing))
                })
                .await?,
        );
    }
    Ok(found)
}

/// Submits or corrects a report (upsert by commune × data set × period).
#[utoipa::path(
    tag = "reports",
    request_body = ReportSubmission,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "A new revision was stored", body = ReportOut),
        (status = 200, description = "Nothing changed (a safe retry): the current revision", body = ReportOut),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The commune is outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "base_revision is not the current revision", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid values, every problem listed; nothing stored", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "The report is locked (approved, or past its lock date)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/reports")]
pub async fn submit_report(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<ReportSubmission>,
) -> Result<HttpResponse, ApiError> {
    let now = state.now();
    let catalog = state.catalog().await?;
    let named = body
        .commune
        .clone()
        .or_else(|| auth.0.commune.as_ref().map(ToString::to_string));
    let provinces = commune_provinces(&state, Some(named.into_iter().collect())).await?;
    let checked = check_submission(&auth, &catalog, &provinces, &body, now).inspect_err(|_| {
        state
            .metrics
            .submissions
            .with_label_values(&["forbidden"])
            .inc();
    })?;
    let submission = match checked {
        Checked::Ready(s) => OwnedSubmission::from(s),
        Checked::Invalid(issues) => {
            state
                .metrics
                .submissions
                .with_label_values(&["invalid"])
                .inc();
            return Err(submit_error(SubmitError::Invalid(issues)));
        }
    };
    let cat = catalog.clone();
    let done = state
        .db(move |conn| {
            Ok(store_reports::submit(
                conn,
                &cat,
                &submission.borrow(&cat),
                false,
            ))
        })
        .await?
        .map_err(|e| {
            state
                .metrics
                .submissions
                .with_label_values(&[submit_outcome(&e)])
                .inc();
            submit_error(e)
        })?;
    state
        .metrics
        .submissions
        .with_label_values(&[match done.outcome {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::Unchanged => "unchanged",
        }])
        .inc();
    let status = if done.outcome == Outcome::Unchanged {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let warnings = warnings_out(&catalog, &done);
    let out = report_out(&catalog, done.report, warnings, now);
    let location = format!(
        "/api/v1/reports/{}/{}/{}",
        out.dataset, out.period, out.commune
    );
    Ok(HttpResponse::build(status)
        .insert_header((header::LOCATION, location))
        .json(out))
}

/// A submission that owns its data, to cross into the blocking pool.
pub(crate) struct OwnedSubmission {
    dataset: String,
    period: Period,
    commune: String,
    changes: validation::Changes,
    field_issues: Vec<Issue>,
    comment: Option<String>,
    base_revision: Option<i32>,
    author: String,
    now: DateTime<Utc>,
}

impl From<Submission<'_>> for OwnedSubmission {
    fn from(s: Submission<'_>) -> Self {
        OwnedSubmission {
            dataset: s.dataset.code.to_string(),
            period: s.period,
            commune: s.commune,
            changes: s.changes,
            field_issues: s.field_issues,
            comment: s.comment,
            base_revision: s.base_revision,
            author: s.author,
            now: s.now,
        }
    }
}

impl OwnedSubmission {
    pub(crate) fn borrow<'a>(&self, catalog: &'a Catalog) -> Submission<'a> {
        Submission {
            dataset: catalog
                .dataset(&self.dataset)
                .expect("checked against this catalog"),
            period: self.period,
            commune: self.commune.clone(),
            changes: self.changes.clone(),
            field_issues: self.field_issues.clone(),
            comment: self.comment.clone(),
            base_revision: self.base_revision,
            author: self.author.clone(),
            now: self.now,
        }
    }
}

/// Finds the report's commune and checks the caller may `action` it; 404 for unknown communes.
async fn authorize_commune(
    state: &AppState,
    auth: &Auth,
    commune: &str,
    action: Action,
) -> Result<String, ApiError> {
    let c = commune.to_owned();
    let province = if CommuneCode::parse(commune).is_ok() {
        state
            .db(move |conn| store_reports::commune_province(conn, &c))
            .await?
    } else {
        None
    };
    let province =
        province.ok_or_else(|| ApiError::NotFound(format!("There is no commune {commune:?}.")))?;
    auth.require(
        action,
        Target::Commune {
            commune,
            province: &province,
        },
    )?;
    Ok(province)
}

async fn load_report(
    state: &AppState,
    dataset: &str,
    period: &str,
    commune: &str,
) -> Result<ReportView, ApiError> {
    let (d, p, c) = (dataset.to_owned(), period.to_owned(), commune.to_owned());
    state
        .db(move |conn| store_reports::get_report(conn, &d, &p, &c))
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "No report of commune {commune} for {dataset} {period}."
            ))
        })
}

/// The path of one report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ReportPath {
    #[param(example = "dmst-quarterly")]
    pub dataset: String,
    #[param(example = "2026Q1")]
    pub period: String,
    #[param(example = "03808")]
    pub commune: String,
}

/// The report at `path`, once the caller may read its commune (403), or 404.
async fn readable_report(
    state: &AppState,
    auth: &Auth,
    path: &ReportPath,
) -> Result<ReportView, ApiError> {
    authorize_commune(state, auth, &path.commune, Action::Read).await?;
    load_report(state, &path.dataset, &path.period, &path.commune).await
}

fn etag(r: &ReportView) -> String {
    format!(
        "\"r{}-{}-{}-{}\"",
        r.id,
        r.revision,
        r.status.as_str(),
        u8::from(r.reopened)
    )
}

fn not_modified(req: &HttpRequest, tag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
}

/// The current revision of a report.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ReportPath),
    responses(
        (status = 200, description = "The report", body = ReportOut),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/reports/{dataset}/{period}/{commune}")]
pub async fn get_report(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<ReportPath>,
) -> Result<HttpResponse, ApiError> {
    let report = readable_report(&state, &auth, &path).await?;
    let tag = etag(&report);
    if not_modified(&req, &tag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .finish());
    }
    let catalog = state.catalog().await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, tag))
        .json(report_out(&catalog, report, Vec::new(), state.now())))
}

/// One value's change in a revision.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValueChange {
    pub indicator: String,
    pub old: Option<f64>,
    pub new: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionOut {
    pub revision: i32,
    pub author: String,
    pub received_at: DateTime<Utc>,
    pub comment: Option<String>,
    pub changes: Vec<ValueChange>,
    #[schema(value_type = Object)]
    pub values: BTreeMap<String, f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevisionList {
    pub items: Vec<RevisionOut>,
    pub next_cursor: Option<String>,
}

/// Every revision of a report, oldest first, with author, time, comment and old → new values.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ReportPath, ExportParams),
    responses(
        (status = 200, description = "The revisions (as CSV or xlsx: one row per changed value)", body = RevisionList),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/reports/{dataset}/{period}/{commune}/revisions")]
pub async fn list_revisions(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<ReportPath>,
    export: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let report = readable_report(&state, &auth, &path).await?;
    let id = report.id;
    let revisions = state
        .db(move |conn| store_reports::list_revisions(conn, id))
        .await?;
    let items: Vec<RevisionOut> = revisions
        .into_iter()
        .map(|r| RevisionOut {
            revision: r.number,
            author: r.author,
            received_at: r.received_at,
            comment: r.comment,
            changes: r
                .changes
                .into_iter()
                .map(|(indicator, (old, new))| ValueChange {
                    indicator,
                    old,
                    new,
                })
                .collect(),
            values: r.values,
        })
        .collect();
    let table = revisions_table(&path, &items);
    let doc = RevisionList {
        items,
        next_cursor: None,
    };
    table.respond(export.format(&req), export.lang.unwrap_or_default(), || {
        HttpResponse::Ok().json(&doc)
    })
}

/// Revisions as a table: one row per changed value (the audit trail in a spreadsheet).
fn revisions_table(path: &ReportPath, items: &[RevisionOut]) -> Table {
    let mut table = Table::new(
        &format!(
            "revisions-{}-{}-{}",
            path.dataset, path.period, path.commune
        ),
        &[
            ("revision", "Lần sửa"),
            ("author", "Người nộp"),
            ("received_at", "Thời điểm nhận (UTC)"),
            ("comment", "Ghi chú"),
            ("indicator", "Chỉ tiêu"),
            ("old", "Giá trị cũ"),
            ("new", "Giá trị mới"),
        ],
    );
    for r in items {
        for c in &r.changes {
            table.push(vec![
                (r.revision as f64).into(),
                r.author.as_str().into(),
                r.received_at.to_rfc3339().into(),
                r.comment.clone().into(),
                c.indicator.as_str().into(),
                c.old.into(),
                c.new.into(),
            ]);
        }
    }
    table
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewOut {
    pub action: ReviewAction,
    pub actor: String,
    pub comment: Option<String>,
    /// The report's revision when the action was taken.
    pub revision: i32,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewList {
    pub items: Vec<ReviewOut>,
    pub next_cursor: Option<String>,
}

/// Every review action taken on a report, oldest first.
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ReportPath),
    responses(
        (status = 200, description = "The review actions", body = ReviewList),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/reports/{dataset}/{period}/{commune}/reviews")]
pub async fn list_reviews(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<ReportPath>,
) -> Result<web::Json<ReviewList>, ApiError> {
    let report = readable_report(&state, &auth, &path).await?;
    let id = report.id;
    let reviews = state
        .db(move |conn| store_reports::list_reviews(conn, id))
        .await?;
    let items = reviews
        .into_iter()
        .map(|r| ReviewOut {
            action: r.action,
            actor: r.actor,
            comment: r.comment,
            revision: r.revision,
            at: r.at,
        })
        .collect();
    Ok(web::Json(ReviewList {
        items,
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    pub action: ReviewAction,
    pub comment: Option<String>,
}

/// Reviews a report (province admin): approve (locks), return (asks for a correction),
/// unapprove, reopen (lifts the lock for this report).
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    request_body = ReviewRequest,
    params(ReportPath),
    responses(
        (status = 200, description = "The report after the action", body = ReportOut),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the province admin of this commune", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such report", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The action does not apply to the report's status", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/reports/{dataset}/{period}/{commune}/review")]
pub async fn review_report(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<ReportPath>,
    body: web::Json<ReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    let ReportPath {
        dataset,
        period,
        commune,
    } = path.into_inner();
    authorize_commune(&state, &auth, &commune, Action::Review).await?;
    let ReviewRequest { action, comment } = body.into_inner();
    if comment.as_ref().is_some_and(|c| c.chars().count() > 2000) {
        return Err(ApiError::Unprocessable(
            "The comment is too long.".into(),
            vec![FieldError::new(
                "comment",
                "too_long",
                "a comment has at most 2000 characters",
            )],
        ));
    }
    let actor = auth.0.subject.clone();
    let now = state.now();
    let (d, p, c) = (dataset.clone(), period.clone(), commune.clone());
    let result = state
        .db(move |conn| {
            Ok(store_reports::review(
                conn,
                &d,
                &p,
                &c,
                action,
                &actor,
                comment.as_deref().filter(|c| !c.trim().is_empty()),
                now,
            ))
        })
        .await?;
    let report = result.map_err(|e| match e {
        ReviewError::NotFound => ApiError::NotFound(format!(
            "No report of commune {commune} for {dataset} {period}."
        )),
        ReviewError::Conflict(why) => ApiError::Conflict(
            format!("Cannot {action} this report: {why}."),
            vec![FieldError::new("action", "invalid_transition", why)],
        ),
        ReviewError::Store(e) => e.into(),
    })?;
    let catalog = state.catalog().await?;
    Ok(HttpResponse::Ok().json(report_out(&catalog, report, Vec::new(), now)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    pub dataset: Option<String>,
    pub period: Option<String>,
    pub province: Option<String>,
    pub commune: Option<String>,
    pub status: Option<ReportStatus>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportList {
    pub items: Vec<ReportOut>,
    pub next_cursor: Option<String>,
}

/// Reports in the caller's scope, filtered, in the order they were first received (pages
/// stay stable while new reports arrive).
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ReportQuery, PageParams, ExportParams),
    responses(
        (status = 200, description = "One page of reports (JSON, CSV or xlsx)", body = ReportList),
        (status = 400, description = "Bad filter, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A filter outside the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/reports")]
pub async fn list_reports(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<ReportQuery>,
    page: web::Query<PageParams>,
    export: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let after = page.after_id("report")?;
    let mut filter = ReportFilter {
        dataset: query.dataset.clone(),
        period: query.period.clone(),
        province: query.province.clone(),
        commune: query.commune.clone(),
        status: query.status,
    };
    // Narrow the filter to the caller's scope; asking for more is 403.
    authorize_commune_filter(&state, &auth, filter.commune.as_deref()).await?;
    let p = &auth.0;
    match p.role {
        Role::Admin | Role::NationalAnalyst => {}
        Role::ProvinceAnalyst | Role::ProvinceAdmin => {
            let own = p.province.as_ref().map(ToString::to_string);
            if filter.province.is_some() && filter.province != own {
                auth.require(
                    Action::Read,
                    Target::Province(filter.province.as_deref().unwrap_or("")),
                )?;
            }
            filter.province = own;
        }
        Role::CommuneOfficer => {
            let own = p.commune.as_ref().map(ToString::to_string);
            if filter.commune.is_some() && filter.commune != own {
                return Err(ApiError::Forbidden(
                    "a commune officer reads only their own commune's reports".into(),
                ));
            }
            if filter.province.is_some()
                && filter.province != p.province.as_ref().map(ToString::to_string)
            {
                return Err(ApiError::Forbidden(
                    "a commune officer reads only their own commune's reports".into(),
                ));
            }
            filter.commune = own;
        }
    }
    let rows = state
        .db(move |conn| store_reports::list_reports(conn, &filter, after, limit as i64 + 1))
        .await?;
    let catalog = state.catalog().await?;
    let now = state.now();
    let more = rows.len() > limit as usize;
    let mut rows = rows;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last()
            .map(|r| encode_cursor("report", &r.id.to_string()))
    } else {
        None
    };
    let items: Vec<ReportOut> = rows
        .into_iter()
        .map(|r| report_out(&catalog, r, Vec::new(), now))
        .collect();
    let table = reports_table(&catalog, &items);
    let doc = ReportList { items, next_cursor };
    table.respond(export.format(&req), export.lang.unwrap_or_default(), || {
        HttpResponse::Ok().json(&doc)
    })
}

/// One row per report, one column per indicator (in catalog order) that any report has.
fn reports_table(catalog: &Catalog, items: &[ReportOut]) -> Table {
    let mut table = Table::new(
        "reports",
        &[
            ("commune", "Mã xã"),
            ("province", "Mã tỉnh"),
            ("dataset", "Biểu mẫu"),
            ("period", "Kỳ báo cáo"),
            ("revision", "Lần sửa"),
            ("status", "Trạng thái"),
            ("timeliness", "Đúng hạn"),
            ("first_received_at", "Nhận lần đầu (UTC)"),
            ("received_at", "Nhận bản hiện hành (UTC)"),
        ],
    );
    let codes: Vec<&innoreport_core::Indicator> = catalog
        .indicators
        .iter()
        .filter(|i| items.iter().any(|r| r.values.contains_key(i.code.as_str())))
        .collect();
    for i in &codes {
        table.add_column(i.code.as_str(), &i.name_vi);
    }
    for r in items {
        let mut row: Vec<Cell> = vec![
            r.commune.as_str().into(),
            r.province.as_str().into(),
            r.dataset.as_str().into(),
            r.period.as_str().into(),
            (r.revision as f64).into(),
            r.status.as_str().into(),
            r.timeliness.as_str().into(),
            r.first_received_at.to_rfc3339().into(),
            r.received_at.to_rfc3339().into(),
        ];
        row.extend(
            codes
                .iter()
                .map(|i| Cell::from(r.values.get(i.code.as_str()).copied())),
        );
        table.push(row);
    }
    table
}
