//! `GET /changes`: the change log of what is not a report (targets, the index framework,
//! logins), each role its own part of it (see `innoreport_service::changes`).

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use innoreport_core::ProvinceCode;
use innoreport_service::changes::ChangeRow;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::auth::Auth;
use crate::http::export::{
    BATCH_ROWS, Cell, Export, ExportParams, ExportRow, Format, Lang, Pages, columns, respond,
};
use crate::http::pagination::{PageParams, page_of};
use crate::http::problem::{ApiError, Problem};
use crate::http::query::Query;
use crate::routes::words;
use crate::state::AppState;

/// What a change-log entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub enum ChangeAction {
    #[serde(rename = "targets.set")]
    TargetsSet,
    #[serde(rename = "framework.replace")]
    FrameworkReplace,
    #[serde(rename = "user.create")]
    UserCreate,
    #[serde(rename = "user.disable")]
    UserDisable,
    #[serde(rename = "user.enable")]
    UserEnable,
    #[serde(rename = "user.update")]
    UserUpdate,
    #[serde(rename = "user.reset_password")]
    UserResetPassword,
    #[serde(rename = "user.change_password")]
    UserChangePassword,
    #[serde(rename = "user.duplicate")]
    UserDuplicate,
    #[serde(rename = "token.mint")]
    TokenMint,
    #[serde(rename = "key.create")]
    KeyCreate,
    #[serde(rename = "key.revoke")]
    KeyRevoke,
    #[serde(rename = "documents.settings")]
    DocumentsSettings,
    #[serde(rename = "plan.edit")]
    PlanEdit,
    #[serde(rename = "plan.import")]
    PlanImport,
    #[serde(rename = "plan.adopt")]
    PlanAdopt,
    #[serde(rename = "plan.approve")]
    PlanApprove,
    #[serde(rename = "plan.reopen")]
    PlanReopen,
    #[serde(rename = "webhook.create")]
    WebhookCreate,
    #[serde(rename = "webhook.remove")]
    WebhookRemove,
    #[serde(rename = "user.preferences")]
    UserPreferences,
}

impl ChangeAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::TargetsSet => "targets.set",
            ChangeAction::FrameworkReplace => "framework.replace",
            ChangeAction::UserCreate => "user.create",
            ChangeAction::UserDisable => "user.disable",
            ChangeAction::UserEnable => "user.enable",
            ChangeAction::UserUpdate => "user.update",
            ChangeAction::UserResetPassword => "user.reset_password",
            ChangeAction::UserChangePassword => "user.change_password",
            ChangeAction::UserDuplicate => "user.duplicate",
            ChangeAction::TokenMint => "token.mint",
            ChangeAction::KeyCreate => "key.create",
            ChangeAction::KeyRevoke => "key.revoke",
            ChangeAction::DocumentsSettings => "documents.settings",
            ChangeAction::PlanEdit => "plan.edit",
            ChangeAction::PlanImport => "plan.import",
            ChangeAction::PlanAdopt => "plan.adopt",
            ChangeAction::PlanApprove => "plan.approve",
            ChangeAction::PlanReopen => "plan.reopen",
            ChangeAction::WebhookCreate => "webhook.create",
            ChangeAction::WebhookRemove => "webhook.remove",
            ChangeAction::UserPreferences => "user.preferences",
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangeQuery {
    /// Only changes of this kind.
    pub action: Option<ChangeAction>,
    /// Only this province's changes (national roles: with the national ones).
    #[param(value_type = Option<String>, example = "14")]
    pub province: Option<ProvinceCode>,
}

/// What a change did: for targets `{year, commune, changes: [{indicator, old, new}]}`, for the
/// framework `{old, new}`, for logins the login's fields before and after.
#[derive(Debug, Serialize)]
pub struct ChangeDetail(pub serde_json::Value);

impl utoipa::PartialSchema for ChangeDetail {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::Object)
            .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(true)))
            .description(Some(
                "What the change did: for targets {year, commune, changes: [{indicator, old, new}]}; for the framework {old, new}; for logins the fields before and after.",
            ))
            .into()
    }
}

impl ToSchema for ChangeDetail {}

/// One change: who, when, what, and the old and new values.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeOut {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub province: Option<String>,
    pub commune: Option<String>,
    pub subject: String,
    pub detail: ChangeDetail,
}

impl From<ChangeRow> for ChangeOut {
    fn from(r: ChangeRow) -> Self {
        ChangeOut {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            province: r.province,
            commune: r.commune,
            subject: r.subject,
            detail: ChangeDetail(r.detail),
        }
    }
}

impl ExportRow for ChangeOut {
    fn columns() -> Vec<(String, String)> {
        columns(&[
            ("id", "Số"),
            ("at", "Thời điểm"),
            ("actor", "Người thay đổi"),
            ("action", "Thao tác"),
            ("province", "Mã tỉnh"),
            ("commune", "Mã xã"),
            ("subject", "Đối tượng"),
            ("detail", "Chi tiết"),
        ])
    }

    fn cells(&self) -> Vec<Cell> {
        vec![
            self.id.into(),
            self.at.into(),
            self.actor.as_str().into(),
            words::change_action(&self.action),
            self.province.clone().into(),
            self.commune.clone().into(),
            self.subject.as_str().into(),
            self.detail.0.to_string().into(),
        ]
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeList {
    pub items: Vec<ChangeOut>,
    pub next_cursor: Option<String>,
}

/// Who changed targets, the index framework and logins, and when (oldest first).
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ChangeQuery, PageParams, ExportParams),
    responses(
        (status = 200, description = "The changes in the caller's scope (as CSV or xlsx: all of them)", body = ChangeList),
        (status = 403, description = "A province outside the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/changes")]
pub async fn list_changes(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<ChangeQuery>,
    page: Query<PageParams>,
    export: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req);
    if format != Format::Json {
        return export_changes(state, auth, query, format, export.lang()).await;
    }
    let limit = page.limit()?;
    let after = page.after_id("change")?;
    let q = query.into_inner();
    let rows = state
        .call(move |s| {
            s.changes(
                &auth.0,
                q.province.as_ref().map(|p| p.as_str()),
                q.action.map(ChangeAction::as_str),
                after,
                limit as i64 + 1,
            )
        })
        .await?;
    let (rows, next_cursor) = page_of(rows, limit, "change", |r| r.id.to_string());
    Ok(HttpResponse::Ok().json(ChangeList {
        items: rows.into_iter().map(ChangeOut::from).collect(),
        next_cursor,
    }))
}

async fn export_changes(
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<ChangeQuery>,
    format: Format,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let service = state.service.clone();
    // The scope is checked before the answer starts.
    let who = auth.0.clone();
    let province = q.province.as_ref().map(ToString::to_string);
    let (w, p) = (who.clone(), province.clone());
    state
        .call(move |s| innoreport_service::changes::scope(&w, p.as_deref()).map(|_| s.now()))
        .await?;
    let pages = Pages::new(move |after: Option<&i64>| {
        let rows = service.changes(
            &who,
            province.as_deref(),
            q.action.map(ChangeAction::as_str),
            after.copied(),
            BATCH_ROWS as i64,
        )?;
        let last = (rows.len() == BATCH_ROWS as usize)
            .then(|| rows.last().map(|r| r.id))
            .flatten();
        Ok((
            rows.into_iter()
                .map(|r| ChangeOut::from(r).cells())
                .collect(),
            last,
        ))
    });
    respond(
        format,
        lang,
        || Export::new("changes", ChangeOut::columns(), pages),
        || HttpResponse::Ok().finish(),
    )
    .await
}

crate::export_routes! {
    module: list_changes_exports,
    tag: "reports",
    security: (("bearer" = [])),
    csv: list_changes_csv = "/changes.csv",
    xlsx: list_changes_xlsx = "/changes.xlsx",
    params: (ChangeQuery,),
    args: (auth: Auth, query: Query<ChangeQuery>),
    export: export_changes,
}
