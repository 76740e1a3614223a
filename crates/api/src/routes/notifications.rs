//! Notifications: the delivery log (`GET /notifications`, each role its own scope), webhooks
//! (`/webhooks`) and a login's own settings (`/auth/notifications`). What is sent and when is
//! `innoreport_service::notify`.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use innoreport_core::{CommuneCode, ProvinceCode};
use innoreport_service::notify::settings::MessageRow;
use innoreport_service::notify::settings::{
    LogQuery, NewHook, Preferences, PreferencesChange, Webhook,
};
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

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Reminder,
    Returned,
    Approved,
    Reopened,
    Unapproved,
    Digest,
    TaskOverdue,
}

impl NoticeKind {
    fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Reminder => "reminder",
            NoticeKind::Returned => "returned",
            NoticeKind::Approved => "approved",
            NoticeKind::Reopened => "reopened",
            NoticeKind::Unapproved => "unapproved",
            NoticeKind::Digest => "digest",
            NoticeKind::TaskOverdue => "task_overdue",
        }
    }
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt or for a retry.
    Pending,
    Sent,
    /// Given up after the attempt limit, or refused for good.
    Failed,
    /// A reminder no longer true when its turn came (the commune had submitted, or the
    /// deadline had passed): not sent.
    Cancelled,
}

/// How a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryChannel {
    Email,
    Webhook,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// Only this province's messages (province roles: their own, the default).
    #[param(value_type = Option<String>, example = "14")]
    pub province: Option<ProvinceCode>,
    /// Only the messages about this commune (a commune officer: their own, always).
    #[param(value_type = Option<String>, example = "03808")]
    pub commune: Option<CommuneCode>,
    pub kind: Option<NoticeKind>,
    pub status: Option<DeliveryStatus>,
    pub channel: Option<DeliveryChannel>,
}

impl LogParams {
    fn query(&self) -> LogQuery {
        LogQuery {
            province: self.province.as_ref().map(ToString::to_string),
            commune: self.commune.as_ref().map(ToString::to_string),
            kind: self.kind.map(|k| k.as_str().to_owned()),
            status: self.status.map(|s| {
                match s {
                    DeliveryStatus::Pending => "pending",
                    DeliveryStatus::Sent => "sent",
                    DeliveryStatus::Failed => "failed",
                    DeliveryStatus::Cancelled => "cancelled",
                }
                .to_owned()
            }),
            channel: self.channel.map(|c| {
                match c {
                    DeliveryChannel::Email => "email",
                    DeliveryChannel::Webhook => "webhook",
                }
                .to_owned()
            }),
        }
    }
}

/// One message of the delivery log.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeOut {
    pub id: i64,
    /// `reminder`, `returned`, `approved`, `reopened`, `unapproved`, `digest` or
    /// `task_overdue`.
    pub kind: String,
    /// `email` or `webhook`.
    pub channel: String,
    /// `login:<username>` or `webhook:<id>` (never an address).
    pub recipient: String,
    pub province: String,
    pub commune: Option<String>,
    /// `vi` or `en`.
    pub language: String,
    pub subject: String,
    /// The page it is about.
    pub link: String,
    /// Sent with each attempt as its `Idempotency-Key` (webhooks) or Message-ID (email).
    pub idempotency_key: String,
    /// The message's text (without its link).
    pub text: String,
    /// The facts it states, as a webhook receives them (a digest: its late and missing
    /// communes with their days late, and the instant it was judged at).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// `pending`, `sent`, `failed` or `cancelled`.
    pub status: String,
    pub attempts: i32,
    /// When it is tried next (pending).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<MessageRow> for NoticeOut {
    fn from(m: MessageRow) -> Self {
        let content = m.content().ok();
        NoticeOut {
            id: m.id,
            language: content
                .as_ref()
                .map(|c| c.language.clone())
                .unwrap_or_default(),
            subject: content
                .as_ref()
                .map(|c| c.subject.clone())
                .unwrap_or_default(),
            text: content.as_ref().map(|c| c.body.clone()).unwrap_or_default(),
            data: content.as_ref().map(|c| c.data.clone()).unwrap_or_default(),
            link: content.map(|c| c.link).unwrap_or_default(),
            next_attempt_at: (m.status == "pending").then(|| m.next_attempt_at.and_utc()),
            kind: m.kind,
            channel: m.channel,
            recipient: m.recipient,
            province: m.province_code,
            commune: m.commune_code,
            idempotency_key: m.idempotency_key,
            created_at: m.created_at.and_utc(),
            status: m.status,
            attempts: m.attempts,
            last_error: m.last_error,
            sent_at: m.sent_at.map(|t| t.and_utc()),
        }
    }
}

impl ExportRow for NoticeOut {
    fn columns() -> Vec<(String, String)> {
        columns(&[
            ("id", "Số"),
            ("created_at", "Thời điểm tạo"),
            ("kind", "Loại thông báo"),
            ("channel", "Kênh"),
            ("recipient", "Người nhận"),
            ("province", "Mã tỉnh"),
            ("commune", "Mã xã"),
            ("subject", "Tiêu đề"),
            ("status", "Trạng thái"),
            ("attempts", "Số lần gửi"),
            ("sent_at", "Thời điểm gửi"),
            ("last_error", "Lỗi gần nhất"),
        ])
    }

    fn cells(&self) -> Vec<Cell> {
        vec![
            self.id.into(),
            self.created_at.into(),
            words::notice_kind(&self.kind),
            words::channel(&self.channel),
            self.recipient.as_str().into(),
            self.province.as_str().into(),
            self.commune.clone().into(),
            self.subject.as_str().into(),
            words::delivery_status(&self.status),
            i64::from(self.attempts).into(),
            self.sent_at.into(),
            self.last_error.clone().into(),
        ]
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeList {
    pub items: Vec<NoticeOut>,
    pub next_cursor: Option<String>,
}

/// The delivery log: every message written (reminders, notices of review actions, digests,
/// overdue tasks), newest first, with where its delivery stands.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(LogParams, PageParams, ExportParams),
    responses(
        (status = 200, description = "The messages in the caller's scope (as CSV or xlsx: all of them)", body = NoticeList),
        (status = 403, description = "A province or commune outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/notifications")]
pub async fn list_notifications(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<LogParams>,
    page: Query<PageParams>,
    export: Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let format = export.format(&req);
    if format != Format::Json {
        return export_notifications(state, auth, query, format, export.lang()).await;
    }
    let limit = page.limit()?;
    let before = page.after_id("notice")?;
    let q = query.query();
    let rows = state
        .call(move |s| {
            let filter = s.log_filter(&auth.0, &q)?;
            s.notification_log(&filter, before, limit as i64 + 1)
        })
        .await?;
    let (rows, next_cursor) = page_of(rows, limit, "notice", |r| r.id.to_string());
    Ok(HttpResponse::Ok().json(NoticeList {
        items: rows.into_iter().map(NoticeOut::from).collect(),
        next_cursor,
    }))
}

async fn export_notifications(
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<LogParams>,
    format: Format,
    lang: Lang,
) -> Result<HttpResponse, ApiError> {
    let q = query.query();
    // The scope is checked before the answer starts.
    let filter = state.call(move |s| s.log_filter(&auth.0, &q)).await?;
    let service = state.service.clone();
    let pages = Pages::new(move |before: Option<&i64>| {
        let rows = service.notification_log(&filter, before.copied(), BATCH_ROWS as i64)?;
        let last = (rows.len() == BATCH_ROWS as usize)
            .then(|| rows.last().map(|r| r.id))
            .flatten();
        Ok((
            rows.into_iter()
                .map(|r| NoticeOut::from(r).cells())
                .collect(),
            last,
        ))
    });
    respond(
        format,
        lang,
        || Export::new("notifications", NoticeOut::columns(), pages),
        || HttpResponse::Ok().finish(),
    )
    .await
}

crate::export_routes! {
    module: list_notifications_exports,
    tag: "notifications",
    security: (("bearer" = [])),
    csv: list_notifications_csv = "/notifications.csv",
    xlsx: list_notifications_xlsx = "/notifications.xlsx",
    params: (LogParams,),
    args: (auth: Auth, query: Query<LogParams>),
    export: export_notifications,
}

/// A webhook to register.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where deliveries are POSTed: https (http only to this machine, for tests).
    #[schema(example = "https://xa-muongla.example.vn/innoreport")]
    pub url: String,
    /// The commune it hears about (a commune officer: their own, the default).
    #[schema(example = "03808")]
    pub commune: Option<String>,
    /// The province it hears about, when no commune is named (a province admin: their own,
    /// the default): it gets the province's digests.
    #[schema(example = "14")]
    pub province: Option<String>,
    /// `vi` (the default) or `en`.
    #[schema(example = "vi")]
    pub language: Option<String>,
    /// Whether it gets reminders and overdue-task notices (default true).
    pub reminders: Option<bool>,
}

/// A webhook as its managers see it (never its secret after creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookOut {
    pub id: i64,
    pub province: String,
    /// Null: the province's own webhook (digests).
    pub commune: Option<String>,
    pub url: String,
    pub language: String,
    pub reminders: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
    pub removed_by: Option<String>,
}

impl From<Webhook> for WebhookOut {
    fn from(w: Webhook) -> Self {
        WebhookOut {
            id: w.id,
            province: w.province,
            commune: w.commune,
            url: w.url,
            language: w.language,
            reminders: w.reminders,
            created_by: w.created_by,
            created_at: w.created_at,
            removed_at: w.removed_at,
            removed_by: w.removed_by,
        }
    }
}

/// A new webhook with its signing secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    pub webhook: WebhookOut,
    /// Shown only this once. Each delivery carries `X-Innoreport-Timestamp` (Unix seconds) and
    /// `X-Innoreport-Signature: sha256=<hex>`, the HMAC-SHA256 with this secret of
    /// `<timestamp>.<body>`, and an `Idempotency-Key` that stays the same on every retry.
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookOut>,
}

/// Registers a webhook for a commune (its reminders and the notices of its reports) or a
/// province (the digests of its deadlines).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    request_body = NewWebhook,
    responses(
        (status = 201, description = "Registered; `secret` is shown only this once", body = CreatedWebhook),
        (status = 403, description = "A unit outside the caller's scope, or a role without webhooks", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad URL, language or province, every problem listed", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<NewWebhook>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let (hook, secret) = state
        .call(move |s| {
            s.create_webhook(
                &auth.0,
                NewHook {
                    url: b.url,
                    commune: b.commune,
                    province: b.province,
                    language: b.language,
                    reminders: b.reminders,
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(CreatedWebhook {
        webhook: hook.into(),
        secret,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebhookQuery {
    /// Only this commune's webhooks (a commune officer: their own, always).
    #[param(value_type = Option<String>, example = "03808")]
    pub commune: Option<CommuneCode>,
    /// This province's webhooks and its communes' (a province admin: their own, the default).
    #[param(value_type = Option<String>, example = "14")]
    pub province: Option<ProvinceCode>,
}

/// The webhooks the caller manages, removed ones included, oldest first.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(WebhookQuery),
    responses(
        (status = 200, description = "The webhooks", body = WebhookList),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such commune", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Name the province or the commune", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    auth: Auth,
    query: Query<WebhookQuery>,
) -> Result<HttpResponse, ApiError> {
    let commune = query.commune.as_ref().map(ToString::to_string);
    let province = query.province.as_ref().map(ToString::to_string);
    let hooks = state
        .call(move |s| s.webhooks(&auth.0, commune.as_deref(), province.as_deref()))
        .await?;
    Ok(HttpResponse::Ok().json(WebhookList {
        items: hooks.into_iter().map(WebhookOut::from).collect(),
    }))
}

/// Removes a webhook: nothing more goes to it, and what was waiting for it fails. It stays
/// listed, with who removed it; removing it again changes nothing.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "The webhook's id")),
    responses(
        (status = 200, description = "Removed", body = WebhookOut),
        (status = 403, description = "Outside the caller's scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such webhook", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/webhooks/{id}")]
pub async fn remove_webhook(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let hook = state.call(move |s| s.remove_webhook(&auth.0, id)).await?;
    Ok(HttpResponse::Ok().json(WebhookOut::from(hook)))
}

/// A login's own notification settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreferencesOut {
    /// Where its notices go (null: none by email).
    pub email: Option<String>,
    /// `vi` or `en`.
    pub language: String,
    /// Reminders and overdue-task notices; the notices of review actions and the digests always
    /// go.
    pub reminders: bool,
}

impl From<Preferences> for PreferencesOut {
    fn from(p: Preferences) -> Self {
        PreferencesOut {
            email: p.email,
            language: p.language,
            reminders: p.reminders,
        }
    }
}

/// A change of them: fields left out are kept; `"email": null` removes the address.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesIn {
    #[serde(default, deserialize_with = "crate::routes::accounts::some")]
    #[schema(value_type = Option<String>, example = "vanthu@muongla.sonla.gov.vn")]
    pub email: Option<Option<String>>,
    #[schema(example = "vi")]
    pub language: Option<String>,
    pub reminders: Option<bool>,
}

/// The caller's own notification settings (a login's token only).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The settings", body = PreferencesOut),
        (status = 403, description = "Not a login's token", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/auth/notifications")]
pub async fn get_preferences(
    state: web::Data<AppState>,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let p = state.call(move |s| s.preferences(&auth.0)).await?;
    Ok(HttpResponse::Ok().json(PreferencesOut::from(p)))
}

/// Changes the caller's own email address, language or reminder choice.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = PreferencesIn,
    responses(
        (status = 200, description = "The settings now", body = PreferencesOut),
        (status = 403, description = "Not a login's token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad address or language, every problem listed", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/auth/notifications")]
pub async fn put_preferences(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<PreferencesIn>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let change = PreferencesChange {
        email: b.email,
        language: b.language,
        reminders: b.reminders,
    };
    let p = state
        .call(move |s| s.set_preferences(&auth.0, change))
        .await?;
    Ok(HttpResponse::Ok().json(PreferencesOut::from(p)))
}
