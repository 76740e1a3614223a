//! Notifications as the province and the communes meet them: reminders before a deadline reach
//! exactly the communes that have not submitted, the digest after it lists exactly the late and
//! missing ones (as `/compliance` does), review actions tell the commune in their own
//! transaction, and each role reads its own part of the delivery log. Delivery itself (SMTP,
//! signed webhooks, crashes and retries) is tested against real servers by `tests/notify/run`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike, Duration, Utc};
use innoreport_core::Role;
use serde_json::{Value, json};

use crate::support::{TestApp, assert_problem, demo_app, innoreport, son_la_admin, token};
use crate::trust::communes_of;

const DS: &str = "dmst-quarterly";

/// Every message of the log the caller may read with `query`, all pages.
async fn log(app: &TestApp, who: &str, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor = String::new();
    loop {
        let res = app
            .get_as(
                who,
                &format!("/api/v1/notifications?limit=500&{query}{cursor}"),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        let page = res.json();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return items,
        }
    }
}

async fn compliance(app: &TestApp, period: &str, as_of: DateTime<Utc>) -> Value {
    let res = app
        .get_as(
            &son_la_admin(),
            &format!(
                "/api/v1/compliance?dataset={DS}&period={period}&province=14&as_of={}",
                as_of.to_rfc3339().replace('+', "%2B")
            ),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    res.json()
}

fn with_status<'a>(c: &'a Value, statuses: &[&str]) -> BTreeMap<&'a str, i64> {
    c["communes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| statuses.contains(&r["status"].as_str().unwrap()))
        .map(|r| {
            (
                r["commune"].as_str().unwrap(),
                r["days_late"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

fn notify(app: &TestApp, as_of: DateTime<Utc>, dry_run: bool) -> (String, String) {
    let as_of = as_of.to_rfc3339();
    let mut args = vec!["notify", "--as-of", &as_of];
    if dry_run {
        args.push("--dry-run");
    }
    let out = innoreport(&app.db, &args);
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The previous quarter (Vietnam time): the demo's reports of it arrived around its deadline.
fn previous_quarter() -> String {
    let today = (Utc::now() + Duration::hours(7)).date_naive();
    let (y, q) = (today.year(), today.month0() / 3 + 1);
    if q == 1 {
        format!("{}Q4", y - 1)
    } else {
        format!("{y}Q{}", q - 1)
    }
}

/// "Quý III/2026", as a Vietnamese reminder names the quarter 2026Q3.
fn quarter_words(period: &str) -> String {
    let (y, q) = period.split_once('Q').unwrap();
    let roman = ["I", "II", "III", "IV"][q.parse::<usize>().unwrap() - 1];
    format!("Quý {roman}/{y}")
}

#[actix_web::test]
async fn reminders_reach_exactly_the_communes_not_yet_submitted_and_the_digest_the_late_and_missing()
 {
    let app = demo_app(11).await;
    let admin = token(Role::Admin, None, None);
    let communes = communes_of(&app, "14").await;
    assert_eq!(communes.len(), 75);
    // Every commune's officer has an email address; the DOST admin reads English.
    for c in &communes {
        let res = app
            .post_json(
                Some(&admin),
                "/api/v1/users",
                &json!({"username": format!("xa-{c}"), "role": "commune_officer", "commune": c,
                        "email": format!("xa-{c}@example.vn")}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let res = app
        .post_json(
            Some(&admin),
            "/api/v1/users",
            &json!({"username": "so-khcn", "role": "province_admin", "province": "14",
                    "email": "sokhcn@example.vn", "language": "en"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());

    let period = previous_quarter();
    let deadline: DateTime<Utc> = compliance(&app, &period, Utc::now()).await["deadline"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // Three days before the deadline (the 3-day reminder), and two days later (the 1-day one).
    let three_before = deadline + Duration::seconds(1) - Duration::days(3) + Duration::hours(2);
    let one_before = deadline + Duration::seconds(1) - Duration::days(1) + Duration::hours(2);
    let then = compliance(&app, &period, three_before).await;
    let pending_then = with_status(&then, &["pending"]);
    assert!(
        pending_then.len() >= 3 && pending_then.len() < 75,
        "the demo has some communes in and some not: {}",
        pending_then.len()
    );
    // One officer opts out of reminders.
    let opted_out = pending_then.keys().next().unwrap().to_string();
    let res = app
        .request(
            "PATCH",
            &format!("/api/v1/users/xa-{opted_out}"),
            Some(&admin),
            Some(&json!({"reminders": false})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.json()["reminders"], false);

    // The dry run prints the reminders and writes nothing.
    let (printed, said) = notify(&app, three_before, true);
    let dry: BTreeSet<String> = printed
        .lines()
        .filter(|l| l.starts_with("reminder\t") && l.contains(&quarter_words(&period)))
        .filter_map(|l| l.split('\t').nth(4).map(str::to_owned))
        .collect();
    assert!(said.contains("dry run"), "{said}");
    assert!(
        log(&app, &admin, "kind=reminder").await.is_empty(),
        "a dry run writes nothing"
    );

    notify(&app, three_before, false);
    let reminded = |items: &[Value], stage: i64| -> BTreeSet<String> {
        items
            .iter()
            .filter(|m| m["data"]["period"] == period.as_str() && m["data"]["days_before"] == stage)
            .map(|m| m["commune"].as_str().unwrap().to_owned())
            .collect()
    };
    let items = log(&app, &admin, "kind=reminder").await;
    let expected: BTreeSet<String> = pending_then
        .keys()
        .filter(|c| **c != opted_out)
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        reminded(&items, 3),
        expected,
        "exactly the communes not yet in"
    );
    assert_eq!(dry, expected, "the dry run said what was then written");
    let one = items
        .iter()
        .find(|m| m["data"]["period"] == period.as_str())
        .unwrap();
    let c = one["commune"].as_str().unwrap();
    assert_eq!(one["recipient"], format!("login:xa-{c}"));
    assert_eq!(one["channel"], "email");
    assert_eq!(one["status"], "pending", "no SMTP server: the mail waits");
    assert_eq!(one["language"], "vi");
    assert_eq!(
        one["link"],
        format!("/commune/{c}/entry?dataset={DS}&period={period}"),
        "the reminder opens the form of its report"
    );
    assert!(
        one["subject"].as_str().unwrap().starts_with("Nhắc hạn nộp"),
        "{one}"
    );

    // Again at the same instant: nothing new.
    let (_, said) = notify(&app, three_before, false);
    assert!(said.contains(" 0 messages written"), "{said}");
    // The 1-day reminder goes to those still not in then.
    notify(&app, one_before, false);
    let later = compliance(&app, &period, one_before).await;
    let pending_later = with_status(&later, &["pending"]);
    let items = log(&app, &admin, "kind=reminder").await;
    let expected_later: BTreeSet<String> = pending_later
        .keys()
        .filter(|c| **c != opted_out)
        .map(|c| c.to_string())
        .collect();
    assert_eq!(reminded(&items, 1), expected_later);
    assert!(expected_later.is_subset(&expected));

    // The morning after the deadline: the digest to the province admin, in English.
    let morning = deadline + Duration::seconds(1) + Duration::hours(8) + Duration::minutes(30);
    notify(&app, morning, false);
    let digests: Vec<Value> = log(&app, &admin, "kind=digest&province=14")
        .await
        .into_iter()
        .filter(|m| m["data"]["period"] == period.as_str() && m["data"]["dataset"] == DS)
        .collect();
    assert_eq!(digests.len(), 1, "{digests:?}");
    let digest = &digests[0];
    assert_eq!(digest["recipient"], "login:so-khcn");
    assert_eq!(digest["language"], "en");
    assert_eq!(digest["commune"], Value::Null);
    assert_eq!(
        digest["link"],
        format!("/province/14?period={period}&dataset={DS}")
    );
    let at: DateTime<Utc> = digest["data"]["as_of"].as_str().unwrap().parse().unwrap();
    assert_eq!(at, morning);
    let standing = compliance(&app, &period, at).await;
    let late_and_missing = with_status(&standing, &["late", "missing"]);
    assert!(!late_and_missing.is_empty());
    let listed: BTreeMap<&str, i64> = digest["data"]["communes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["commune"].as_str().unwrap(),
                l["days_late"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed, late_and_missing,
        "the digest says what /compliance says"
    );
    let text = digest["text"].as_str().unwrap();
    let communes = |n: &Value| match n.as_i64().unwrap() {
        1 => "1 commune".to_owned(),
        n => format!("{n} communes"),
    };
    assert!(
        text.contains(&format!(
            "{} late, {} missing",
            communes(&standing["late"]),
            communes(&standing["missing"])
        )),
        "{text}"
    );
    // An officer sees only the own commune's messages: never the province's digest.
    let own = token(Role::CommuneOfficer, Some("14"), Some(&opted_out));
    let mine = log(&app, &own, "").await;
    assert!(mine.iter().all(|m| m["commune"] == opted_out.as_str()));
    assert!(mine.iter().all(|m| m["kind"] != "reminder"), "opted out");
}

#[actix_web::test]
async fn review_actions_tell_the_commune_in_their_own_transaction_and_webhooks_are_scoped() {
    let app = TestApp::spawn_at("2026-05-10T03:00:00Z").await;
    let admin = token(Role::Admin, None, None);
    let padmin = son_la_admin();
    let res = app
        .post_json(
            Some(&admin),
            "/api/v1/users",
            &json!({"username": "xa-muong-la", "role": "commune_officer", "commune": "03808",
                    "email": "vanthu@muongla.example.vn", "password": "một mật khẩu đủ dài"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let officer = token(Role::CommuneOfficer, Some("14"), Some("03808"));
    let body = json!({"commune": "03808", "dataset": DS, "period": "2026Q1",
                      "values": {"dossiers_total": 100, "dossiers_online_full": 50}});
    // 2026Q1 is past its lock: the province opens it, and the commune hears of it.
    let res = app
        .post_json(
            Some(&padmin),
            &format!("/api/v1/reports/{DS}/2026Q1/03808/review"),
            &json!({"action": "reopen", "comment": "Xã nộp bổ sung"}),
        )
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    assert_eq!(app.submit(&officer, &body).await.status, 201);
    let res = app
        .post_json(
            Some(&padmin),
            &format!("/api/v1/reports/{DS}/2026Q1/03808/review"),
            &json!({"action": "return", "comment": "Thiếu số liệu hồ sơ trực tuyến"}),
        )
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    // Written with the action itself: no scheduler has run.
    let mine = log(&app, &officer, "").await;
    let kinds: Vec<&str> = mine.iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["returned", "reopened"], "newest first");
    assert!(
        mine[0]["text"]
            .as_str()
            .unwrap()
            .contains("Thiếu số liệu hồ sơ trực tuyến"),
        "{}",
        mine[0]
    );
    assert_eq!(mine[0]["recipient"], "login:xa-muong-la");
    // Another commune's officer and another province see none of it.
    let sibling = token(Role::CommuneOfficer, Some("14"), Some("03646"));
    assert!(log(&app, &sibling, "").await.is_empty());
    assert_problem(
        &app.get_as(&sibling, "/api/v1/notifications?commune=03808")
            .await,
        403,
    );
    let elsewhere = token(Role::ProvinceAnalyst, Some("01"), None);
    assert_problem(
        &app.get_as(&elsewhere, "/api/v1/notifications?province=14")
            .await,
        403,
    );
    // The log exports whole.
    let csv = app
        .get_as(&padmin, "/api/v1/notifications.csv?commune=03808")
        .await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.text().lines().count(), 3, "{}", csv.text());

    // A commune system registers its webhook: https only, every problem listed.
    let p = assert_problem(
        &app.post_json(
            Some(&officer),
            "/api/v1/webhooks",
            &json!({"url": "http://example.org/hook", "language": "fr"}),
        )
        .await,
        422,
    );
    let fields: Vec<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["url", "language"]);
    let res = app
        .post_json(
            Some(&officer),
            "/api/v1/webhooks",
            &json!({"url": "https://muongla.example.vn/innoreport"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let created = res.json();
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(created["webhook"]["commune"], "03808");
    let id = created["webhook"]["id"].as_i64().unwrap();
    assert_problem(
        &app.post_json(
            Some(&sibling),
            "/api/v1/webhooks",
            &json!({"url": "https://x.example.vn/h", "commune": "03808"}),
        )
        .await,
        403,
    );
    let listed = app.get_as(&officer, "/api/v1/webhooks").await.json();
    assert_eq!(listed["items"][0]["id"], id);
    assert!(listed["items"][0].get("secret").is_none());
    // Approval: the login and the webhook both hear.
    assert_eq!(
        app.submit(
            &officer,
            &json!({"commune": "03808", "dataset": DS, "period": "2026Q1",
        "values": {"dossiers_total": 100, "dossiers_online_full": 60}})
        )
        .await
        .status,
        201
    );
    let res = app
        .post_json(
            Some(&padmin),
            &format!("/api/v1/reports/{DS}/2026Q1/03808/review"),
            &json!({"action": "approve"}),
        )
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    let approved: Vec<Value> = log(&app, &officer, "kind=approved").await;
    let channels: BTreeSet<&str> = approved
        .iter()
        .map(|m| m["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, BTreeSet::from(["email", "webhook"]));
    // Removed, it hears nothing more.
    let res = app
        .request(
            "DELETE",
            &format!("/api/v1/webhooks/{id}"),
            Some(&officer),
            None,
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(res.json()["removed_at"].is_string());
    let res = app
        .post_json(
            Some(&padmin),
            &format!("/api/v1/reports/{DS}/2026Q1/03808/review"),
            &json!({"action": "reopen"}),
        )
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    let reopened = log(&app, &officer, "kind=reopened").await;
    assert_eq!(reopened[0]["channel"], "email");
    assert_eq!(
        reopened
            .iter()
            .filter(|m| m["channel"] == "webhook")
            .count(),
        0
    );

    // The officer's own settings: signed in as the login.
    let res = app
        .post_json(
            None,
            "/api/v1/auth/token",
            &json!({"username": "xa-muong-la", "password": "một mật khẩu đủ dài"}),
        )
        .await;
    let own = res.json()["access_token"].as_str().unwrap().to_owned();
    let now = app.get_as(&own, "/api/v1/auth/notifications").await.json();
    assert_eq!(
        now,
        json!({"email": "vanthu@muongla.example.vn", "language": "vi", "reminders": true})
    );
    let p = assert_problem(
        &app.request(
            "PUT",
            "/api/v1/auth/notifications",
            Some(&own),
            Some(&json!({"email": "not an address", "language": "fr"})),
        )
        .await,
        422,
    );
    assert_eq!(p["errors"].as_array().unwrap().len(), 2, "{p}");
    let res = app
        .request(
            "PUT",
            "/api/v1/auth/notifications",
            Some(&own),
            Some(&json!({"language": "en", "reminders": false})),
        )
        .await;
    assert_eq!(
        res.json(),
        json!({"email": "vanthu@muongla.example.vn", "language": "en", "reminders": false})
    );
    // An operator token has no settings of its own.
    assert_problem(
        &app.get_as(&padmin, "/api/v1/auth/notifications").await,
        403,
    );
}

/// What the webhook receiver of the test saw: each delivery's idempotency key and whether its
/// signature was right.
type Seen = Arc<Mutex<Vec<(String, bool)>>>;

/// The webhook secrets the receiver checks signatures with, by path.
type Secrets = Arc<Mutex<BTreeMap<String, String>>>;

/// A webhook receiver on loopback: its address, what it saw, and the secrets to check with.
async fn receiver() -> (String, Seen, Secrets) {
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    let seen: Seen = Default::default();
    let secrets: Secrets = Default::default();
    let state = (seen.clone(), secrets.clone());
    let server = HttpServer::new(move || {
        let state = state.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let (seen, secrets) = state.clone();
            async move {
                let header = |n: &str| {
                    req.headers()
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let secret = secrets
                    .lock()
                    .unwrap()
                    .get(req.path())
                    .cloned()
                    .unwrap_or_default();
                let ts: i64 = header("x-innoreport-timestamp").parse().unwrap_or(0);
                let want = innoreport_service::notify::deliver::signature(
                    &secret,
                    ts,
                    std::str::from_utf8(&body).unwrap(),
                );
                let good = header("x-innoreport-signature") == format!("sha256={want}");
                seen.lock().unwrap().push((header("idempotency-key"), good));
                HttpResponse::Ok().finish()
            }
        }))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://{}", server.addrs()[0]);
    actix_web::rt::spawn(server.run());
    (url, seen, secrets)
}

#[actix_web::test]
async fn two_deliverers_at_once_send_each_message_exactly_once_signed() {
    let app = TestApp::spawn_at("2026-12-01T03:00:00Z").await;
    let admin = token(Role::Admin, None, None);
    let communes: Vec<String> = communes_of(&app, "14").await.into_iter().take(24).collect();
    let (url, seen, secrets) = receiver().await;
    for c in &communes {
        let res = app
            .post_json(
                Some(&admin),
                "/api/v1/webhooks",
                &json!({"url": format!("{url}/{c}"), "commune": c}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
        let secret = res.json()["secret"].as_str().unwrap().to_owned();
        secrets.lock().unwrap().insert(format!("/{c}"), secret);
    }
    // The province opens each commune's first quarter for late filing: a notice per webhook.
    // Two deliverers start at once, as two replicas would (at an instant when nothing is
    // scheduled, so only these notices go).
    for c in &communes {
        let res = app
            .post_json(
                Some(&admin),
                &format!("/api/v1/reports/{DS}/2026Q1/{c}/review"),
                &json!({"action": "reopen"}),
            )
            .await;
        assert!(res.status.is_success(), "{}", res.text());
    }
    let run = || {
        let db = app.db.clone();
        actix_web::rt::task::spawn_blocking(move || {
            innoreport(&db, &["notify", "--as-of", "2026-07-20T09:00:00+07:00"])
        })
    };
    let (a, b) = (run(), run());
    a.await.unwrap();
    b.await.unwrap();
    let sent = log(&app, &admin, "channel=webhook").await;
    assert_eq!(sent.len(), communes.len(), "a notice per commune's webhook");
    assert!(sent.iter().all(|m| m["kind"] == "reopened"));
    assert!(sent.iter().all(|m| m["status"] == "sent"), "{sent:?}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.len(),
        sent.len(),
        "each message delivered once: {seen:?}"
    );
    let keys: BTreeSet<&str> = seen.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        sent.iter()
            .map(|m| m["idempotency_key"].as_str().unwrap())
            .collect::<BTreeSet<_>>()
    );
    assert!(
        seen.iter().all(|(_, good)| *good),
        "every signature checks out"
    );
}

#[actix_web::test]
async fn a_commune_hears_when_a_task_of_its_plan_becomes_overdue_unless_it_reported_it_done() {
    let app = TestApp::spawn_at("2026-05-03T01:00:00Z").await;
    let admin = token(Role::Admin, None, None);
    let officer = token(Role::CommuneOfficer, Some("14"), Some("03808"));
    let res = app
        .post_json(
            Some(&admin),
            "/api/v1/users",
            &json!({"username": "xa-muong-la", "role": "commune_officer", "commune": "03808",
                    "email": "vanthu@muongla.example.vn"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let plan = json!({
        "title": "Kế hoạch KH, CN và ĐMST năm 2026",
        "sections": [{"code": "I", "title": "THỂ CHẾ"}],
        "tasks": [
            {"code": "I.1", "section": "I", "title": "Rà soát quy chế", "lead": "UBND xã", "timeframe": "Trước 30/4/2026"},
            {"code": "I.2", "section": "I", "title": "Tập huấn chuyển đổi số", "lead": "UBND xã", "timeframe": "Trước 30/4/2026"},
            {"code": "I.3", "section": "I", "title": "Xây dựng mô hình", "lead": "UBND xã", "timeframe": "Quý II/2026"}
        ]
    });
    let res = app
        .put_json(&officer, "/api/v1/plans/commune/03808/2026", &plan)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    // The commune reports I.2 done in its second-quarter report; I.1 it does not mention.
    let res = app
        .submit(
            &officer,
            &json!({"commune": "03808", "dataset": DS, "period": "2026Q2",
                    "tasks": {"I.2": {"status": "completed", "percent": 100}}}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let as_of: DateTime<Utc> = "2026-05-03T09:00:00+07:00".parse().unwrap();
    let (printed, _) = notify(&app, as_of, true);
    let planned: Vec<&str> = printed
        .lines()
        .filter(|l| l.starts_with("task_overdue"))
        .collect();
    assert_eq!(planned.len(), 1, "{printed}");
    notify(&app, as_of, false);
    let told = log(&app, &officer, "kind=task_overdue").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["data"]["task"], "I.1");
    assert_eq!(told[0]["data"]["days_overdue"], 3);
    assert_eq!(told[0]["link"], "/commune/03808/tasks?period=2026Q2");
    assert!(told[0]["subject"].as_str().unwrap().contains("I.1"));
    // What /plans/progress calls overdue then, the commune was told.
    let progress = app
        .get_as(
            &admin,
            "/api/v1/plans/progress?province=14&period=2026Q2&as_of=2026-05-03T02:00:00Z",
        )
        .await
        .json();
    let overdue: Vec<&str> = progress["overdue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["task"].as_str().unwrap())
        .collect();
    assert_eq!(overdue, ["I.1"]);
    // A week later nothing new: it was said once.
    let (_, said) = notify(&app, as_of + Duration::days(7), false);
    assert!(said.contains(" 0 messages written"), "{said}");
}

#[actix_web::test]
async fn a_reminder_whose_deadline_passed_before_its_turn_is_not_sent() {
    let app = TestApp::spawn_at("2026-06-01T03:00:00Z").await;
    let admin = token(Role::Admin, None, None);
    let (url, seen, secrets) = receiver().await;
    let res = app
        .post_json(
            Some(&admin),
            "/api/v1/webhooks",
            &json!({"url": format!("{url}/03808"), "commune": "03808"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
    let secret = res.json()["secret"].as_str().unwrap().to_owned();
    secrets.lock().unwrap().insert("/03808".into(), secret);
    // Written three days before the 2026Q2 deadline (5 June), delivered now: long past it.
    let (_, said) = notify(&app, "2026-06-02T09:00:00+07:00".parse().unwrap(), false);
    assert!(said.contains("no longer true"), "{said}");
    let log = log(&app, &admin, "kind=reminder").await;
    assert!(!log.is_empty());
    assert!(log.iter().all(|m| m["status"] == "cancelled"), "{log:?}");
    assert!(
        log[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("deadline has passed")
    );
    assert!(seen.lock().unwrap().is_empty(), "nothing went out");
    // An instant in the future is for a dry run only.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_innoreport"))
        .args(["notify", "--as-of", "2099-01-01T00:00:00Z"])
        .env("DATABASE_URL", &app.db.url)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("in the future"));
}

#[actix_web::test]
async fn a_webhook_request_lists_every_problem_and_a_unit_has_at_most_five() {
    let app = TestApp::spawn_at("2026-06-01T03:00:00Z").await;
    let padmin = son_la_admin();
    let p = assert_problem(
        &app.post_json(
            Some(&padmin),
            "/api/v1/webhooks",
            &json!({"url": "ftp://x/", "language": "fr", "province": "99"}),
        )
        .await,
        422,
    );
    let fields: BTreeSet<&str> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, BTreeSet::from(["url", "language", "province"]));
    let p = assert_problem(
        &app.post_json(
            Some(&padmin),
            "/api/v1/webhooks",
            &json!({"url": "https://x.example.vn/", "province": "01", "commune": "03808"}),
        )
        .await,
        422,
    );
    assert_eq!(p["errors"][0]["code"], "mismatch");
    for i in 0..5 {
        let res = app
            .post_json(
                Some(&padmin),
                "/api/v1/webhooks",
                &json!({"url": format!("https://x.example.vn/{i}"), "commune": "03808"}),
            )
            .await;
        assert_eq!(res.status, 201, "{}", res.text());
    }
    let p = assert_problem(
        &app.post_json(
            Some(&padmin),
            "/api/v1/webhooks",
            &json!({"url": "https://x.example.vn/6", "commune": "03808"}),
        )
        .await,
        422,
    );
    assert_eq!(p["errors"][0]["code"], "too_many");
    // The metadata service and private networks, by any spelling, are refused (this test
    // server accepts loopback for its own receivers; the unit tests refuse that too).
    for url in [
        "https://169.254.169.254/latest",
        "https://[64:ff9b::a9fe:a9fe]/",
        "https://167772161/",
    ] {
        let p = assert_problem(
            &app.post_json(
                Some(&padmin),
                "/api/v1/webhooks",
                &json!({"url": url, "province": "14"}),
            )
            .await,
            422,
        );
        assert_eq!(p["errors"][0]["code"], "internal_address", "{url}");
    }
}
