//! `GET /changes`: the change log of what is not a report (targets, the index framework,
//! logins). A report's own history is its revisions and review records.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use innoreport_core::{Action, Role, Target};
use innoreport_store::changes::{ChangeRow, Scope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::export::{ExportParams, Table};
use crate::problem::{ApiError, Problem};
use crate::reference::{PageParams, encode_cursor};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangeQuery {
    /// `targets.set`, `framework.replace` or `user.create`.
    #[param(example = "targets.set")]
    pub action: Option<String>,
    /// Only this province's changes (and the national ones).
    #[param(example = "14")]
    pub province: Option<String>,
}

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
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeList {
    pub items: Vec<ChangeOut>,
    pub next_cursor: Option<String>,
}

/// Whose changes the caller sees: national roles everything (or one province with the filter),
/// province roles their province's, commune officers their commune's; everyone the national
/// ones (the framework). A filter outside the caller's scope is 403.
fn scope(auth: &Auth, province: Option<&str>) -> Result<Scope, ApiError> {
    let p = &auth.0;
    if let Some(f) = province {
        auth.require(Action::Read, Target::Province(f))?;
    }
    Ok(match (p.role, &p.province, &p.commune) {
        (Role::Admin | Role::NationalAnalyst, ..) => {
            province.map_or(Scope::All, |f| Scope::Province(f.to_owned()))
        }
        (Role::CommuneOfficer, _, Some(c)) => Scope::Commune(c.to_string()),
        (_, Some(own), _) => Scope::Province(own.to_string()),
        _ => return Err(ApiError::Forbidden("no scope".into())),
    })
}

/// Who changed targets, the index framework and logins, and when (oldest first).
#[utoipa::path(
    tag = "reports",
    security(("bearer" = [])),
    params(ChangeQuery, PageParams, ExportParams),
    responses(
        (status = 200, description = "The changes in the caller's scope", body = ChangeList),
        (status = 403, description = "A province outside the caller's scope", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/changes")]
pub async fn list_changes(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    query: web::Query<ChangeQuery>,
    page: web::Query<PageParams>,
    export: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = page.limit()?;
    let after = page.after_id("change")?;
    let scope = scope(&auth, query.province.as_deref())?;
    let action = query.action.clone();
    let mut rows: Vec<ChangeRow> = state
        .db(move |conn| {
            innoreport_store::changes::list_changes(
                conn,
                &scope,
                action.as_deref(),
                after,
                limit as i64 + 1,
            )
        })
        .await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .map(|r| encode_cursor("change", &r.id.to_string()))
    } else {
        None
    };
    let items: Vec<ChangeOut> = rows
        .into_iter()
        .map(|r| ChangeOut {
            id: r.id,
            at: r.at,
            actor: r.actor,
            action: r.action,
            province: r.province,
            commune: r.commune,
            subject: r.subject,
            detail: r.detail,
        })
        .collect();
    let mut table = Table::new(
        "changes",
        &[
            ("id", "Số"),
            ("at", "Thời điểm (UTC)"),
            ("actor", "Người thay đổi"),
            ("action", "Thao tác"),
            ("province", "Mã tỉnh"),
            ("commune", "Mã xã"),
            ("subject", "Đối tượng"),
            ("detail", "Chi tiết"),
        ],
    );
    for c in &items {
        table.push(vec![
            (c.id as f64).into(),
            c.at.to_rfc3339().into(),
            c.actor.as_str().into(),
            c.action.as_str().into(),
            c.province.clone().into(),
            c.commune.clone().into(),
            c.subject.as_str().into(),
            c.detail.to_string().into(),
        ]);
    }
    let doc = ChangeList { items, next_cursor };
    table.respond(export.format(&req), export.lang.unwrap_or_default(), || {
        HttpResponse::Ok().json(&doc)
    })
}
