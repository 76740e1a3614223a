//! The findings of the outside security review, each reproduced as an attack that must now fail:
//! slow bodies holding capacity, sign-in floods and lockouts, what-if reconstruction, formula
//! injection, the change log's scope, shared caches, amplification and computation budgets.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use innoreport_core::Role;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{TestApp, assert_problem, muong_la, son_la_admin, token};

fn port(app: &TestApp) -> u16 {
    app.address.rsplit(':').next().unwrap().parse().unwrap()
}

/// Opens a connection and sends a request head whose body never comes whole.
async fn stalled(port: u16, path: &str, head_extra: &str) -> tokio::net::TcpStream {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    // One byte of the body: as a chunk when the transfer is chunked.
    let first = if head_extra.contains("chunked") {
        "1\r\n{\r\n"
    } else {
        "{"
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{head_extra}\r\n{first}"
    );
    s.write_all(head.as_bytes()).await.expect("writes");
    s
}

/// What a stalled connection was finally answered (the status line), within `wait`.
async fn answer(mut s: tokio::net::TcpStream, wait: Duration) -> String {
    let mut buf = vec![0u8; 512];
    match tokio::time::timeout(wait, s.read(&mut buf)).await {
        Ok(Ok(n)) => String::from_utf8_lossy(&buf[..n])
            .lines()
            .next()
            .unwrap_or("closed")
            .to_owned(),
        Ok(Err(_)) => "reset".to_owned(),
        Err(_) => "no answer".to_owned(),
    }
}

#[actix_web::test]
async fn slow_bodies_from_one_client_never_hold_the_api() {
    let app = TestApp::spawn_with(|c| c.body_timeout = 2).await;
    let port = port(&app);
    // 64 anonymous connections send the head and 1 byte of a 50-byte sign-in, then nothing.
    let mut slow = Vec::new();
    for _ in 0..64 {
        slow.push(stalled(port, "/api/v1/auth/token", "Content-Length: 50\r\n").await);
    }
    // Meanwhile an honest client is served at its normal pace.
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    for _ in 0..20 {
        let started = Instant::now();
        let res = app
            .get_as(
                &analyst,
                "/api/v1/aggregates?indicator=dossiers_total&period=2026",
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }
    let started = Instant::now();
    let res = app
        .post_json(
            None,
            "/api/v1/auth/token",
            &json!({"username": "nobody", "password": "not-a-password"}),
        )
        .await;
    assert!(
        matches!(res.status.as_u16(), 401 | 429),
        "a sign-in is answered: {}",
        res.text()
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    // Each stalled connection is answered: at once when its client has too many open (429),
    // else when its body misses the deadline (408).
    let answers = join_all(slow.into_iter().map(|s| answer(s, Duration::from_secs(5)))).await;
    let timed_out = answers.iter().filter(|a| a.contains(" 408")).count();
    let refused = answers.iter().filter(|a| a.contains(" 429")).count();
    assert_eq!(timed_out + refused, 64, "{answers:?}");
    assert!(
        timed_out >= 1 && refused >= 32,
        "{timed_out} timed out, {refused} refused"
    );
}

#[actix_web::test]
async fn idle_uploads_hold_no_slot_past_the_deadline_and_one_client_holds_one() {
    let app = TestApp::spawn_with(|c| c.body_timeout = 2).await;
    let port = port(&app);
    // Four commune systems start chunked uploads and go quiet.
    let mut idle = Vec::new();
    let son_la = app.get("/api/v1/provinces/14/communes").await.json();
    for c in son_la["items"].as_array().unwrap().iter().take(4) {
        let t = token(
            Role::CommuneOfficer,
            Some("14"),
            Some(c["code"].as_str().unwrap()),
        );
        idle.push(
            stalled(
                port,
                "/api/v1/imports",
                &format!("Authorization: Bearer {t}\r\nTransfer-Encoding: chunked\r\n"),
            )
            .await,
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A client holds one large upload at a time.
    let admin = token(Role::Admin, None, None);
    let first = stalled(
        port,
        "/api/v1/imports",
        &format!("Authorization: Bearer {admin}\r\nTransfer-Encoding: chunked\r\n"),
    )
    .await;
    let second = stalled(
        port,
        "/api/v1/imports",
        &format!("Authorization: Bearer {admin}\r\nTransfer-Encoding: chunked\r\n"),
    )
    .await;
    let second = answer(second, Duration::from_secs(1)).await;
    assert!(
        second.contains(" 429") || second.contains(" 503"),
        "a second large upload is refused at once: {second}"
    );
    // The idle uploads are cut at the deadline; then an honest upload passes.
    let answers = join_all(idle.into_iter().map(|s| answer(s, Duration::from_secs(5)))).await;
    assert!(answers.iter().all(|a| a.contains(" 408")), "{answers:?}");
    drop(first);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let csv = "commune,dataset,period,indicator,value\n03808,dmst-annual,2025,population,100\n";
    let res = app
        .post_bytes(
            Some(&admin),
            "/api/v1/imports?dry_run=true",
            "text/csv",
            csv,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
}

#[actix_web::test]
async fn a_flood_of_sign_ins_is_limited_per_address_and_never_starves_the_api() {
    let app = TestApp::spawn_with(|c| c.trust_forwarded_for = true).await;
    // One address: after its allowance every attempt is refused at once.
    let mut statuses = Vec::new();
    for i in 0..40 {
        let res = app
            .request_with(
                "POST",
                "/api/v1/auth/token",
                None,
                Some(&json!({"username": format!("random-{i}"), "password": "x"})),
                &[("x-forwarded-for", "198.51.100.7")],
            )
            .await;
        statuses.push(res.status.as_u16());
    }
    assert!(statuses[..30].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[30..].iter().all(|s| *s == 429), "{statuses:?}");
    // Many addresses at once: answered 401 or, beyond the hashing pool's queue, 503 at once;
    // other users' reads go on.
    let flood = join_all((0..48).map(|i| {
        let app = &app;
        async move {
            let body = json!({"username": format!("flood-{i}"), "password": "x"});
            let from = format!("203.0.113.{i}");
            app.request_with(
                "POST",
                "/api/v1/auth/token",
                None,
                Some(&body),
                &[("x-forwarded-for", &from)],
            )
            .await
        }
    }));
    let reader = async {
        let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
        let mut slowest = Duration::ZERO;
        for _ in 0..5 {
            let started = Instant::now();
            let res = app
                .get_as(
                    &analyst,
                    "/api/v1/compliance?dataset=dmst-annual&period=2025",
                )
                .await;
            assert_eq!(res.status, 200);
            slowest = slowest.max(started.elapsed());
        }
        slowest
    };
    let (answers, slowest) = futures_util::join!(flood, reader);
    assert!(
        answers
            .iter()
            .all(|a| matches!(a.status.as_u16(), 401 | 503)),
        "{:?}",
        answers
            .iter()
            .map(|a| a.status.as_u16())
            .collect::<Vec<_>>()
    );
    assert!(
        slowest < Duration::from_secs(2),
        "reads slowed to {slowest:?}"
    );
}

#[actix_web::test]
async fn guessing_a_password_never_locks_the_owner_out_and_replicas_share_the_backoff() {
    let app = TestApp::spawn_with(|c| c.trust_forwarded_for = true).await;
    let replica = TestApp::spawn_configured(std::sync::Arc::clone(&app.db), |c| {
        c.trust_forwarded_for = true
    })
    .await;
    let admin = token(Role::Admin, None, None);
    let password = "mật-khẩu-rất-riêng-2026";
    let created = app
        .post_json(
            Some(&admin),
            "/api/v1/users",
            &json!({"username": "xa-muong-la", "role": "commune_officer", "commune": "03808", "password": password}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let attempt = |from: &'static str, pw: &'static str| {
        let app = &app;
        async move {
            app.request_with(
                "POST",
                "/api/v1/auth/token",
                None,
                Some(&json!({"username": "Xa-Muong-La", "password": pw})),
                &[("x-forwarded-for", from)],
            )
            .await
        }
    };
    // A stranger guesses: five attempts, then a back-off that doubles with every failure.
    for _ in 0..5 {
        assert_problem(&attempt("198.51.100.66", "guess").await, 401);
    }
    let res = attempt("198.51.100.66", "guess").await;
    let p = assert_problem(&res, 429);
    assert_eq!(p["type"], "urn:innoreport:problem:too-many-requests");
    assert_eq!(res.header("retry-after"), Some("1"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_problem(&attempt("198.51.100.66", "guess").await, 401);
    let res = attempt("198.51.100.66", "guess").await;
    assert_problem(&res, 429);
    assert_eq!(res.header("retry-after"), Some("2"), "the wait grows");
    // Even the right password waits from that address...
    assert_problem(&attempt("198.51.100.66", password).await, 429);
    // ...on every replica...
    let res = replica
        .request_with(
            "POST",
            "/api/v1/auth/token",
            None,
            Some(&json!({"username": "xa-muong-la", "password": password})),
            &[("x-forwarded-for", "198.51.100.66")],
        )
        .await;
    assert_problem(&res, 429);
    // ...but the owner, elsewhere, signs in.
    let res = attempt("203.0.113.20", password).await;
    assert_eq!(res.status, 200, "{}", res.text());
}

#[actix_web::test]
async fn what_if_reveals_no_more_than_aggregates_would() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let officer = muong_la();
    let hanoi = json!({"period": "2025", "level": "province",
                       "overrides": [{"unit": "01", "indicator": "online_dossier_rate", "value": 0}]});
    // The reconstruction of the review: a commune officer of 14 probing province 01.
    assert_problem(
        &app.post_json(Some(&officer), "/api/v1/index/what-if", &hanoi)
            .await,
        403,
    );
    let own = json!({"period": "2025", "level": "province",
                     "overrides": [{"unit": "14", "indicator": "online_dossier_rate", "value": 0}]});
    for who in [
        officer.clone(),
        token(Role::ProvinceAnalyst, Some("14"), None),
        son_la_admin(),
    ] {
        assert_problem(
            &app.post_json(Some(&who), "/api/v1/index/what-if", &own)
                .await,
            403,
        );
    }
    let communes = json!({"period": "2025", "level": "commune", "province": "14", "overrides": []});
    assert_problem(
        &app.post_json(Some(&officer), "/api/v1/index/what-if", &communes)
            .await,
        403,
    );
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    let res = app
        .post_json(Some(&analyst), "/api/v1/index/what-if", &communes)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let other = json!({"period": "2025", "level": "commune", "province": "01", "overrides": []});
    assert_problem(
        &app.post_json(Some(&analyst), "/api/v1/index/what-if", &other)
            .await,
        403,
    );
    let national = token(Role::NationalAnalyst, None, None);
    let res = app
        .post_json(Some(&national), "/api/v1/index/what-if", &hanoi)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    // An override is a value a report could hold: a rate of 1e308 would leave a unit without a
    // score at rank 1.
    for value in [json!(1e308), json!(-1), json!(100.5)] {
        let probe = json!({"period": "2025", "level": "commune", "province": "14",
                           "overrides": [{"unit": "03808", "indicator": "online_dossier_rate", "value": value}]});
        let p = assert_problem(
            &app.post_json(Some(&analyst), "/api/v1/index/what-if", &probe)
                .await,
            422,
        );
        assert_eq!(p["errors"][0]["code"], "out_of_range", "{value}");
    }
}

#[actix_web::test]
async fn a_sign_in_declaring_a_body_too_large_is_refused_at_once() {
    let app = TestApp::spawn().await;
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port(&app)))
        .await
        .expect("connects");
    s.write_all(
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
          Content-Length: 1048576\r\n\r\n{",
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let first = answer(s, Duration::from_secs(5)).await;
    assert!(first.contains(" 413"), "{first}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "not held for the body deadline"
    );
}

#[actix_web::test]
async fn text_a_spreadsheet_would_run_is_neutralised_in_every_csv() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let admin = token(Role::Admin, None, None);
    // Usernames a spreadsheet would run are not accepted any more...
    for name in ["-cmd", "@sum"] {
        let res = app
            .post_json(
                Some(&admin),
                "/api/v1/users",
                &json!({"username": name, "role": "national_analyst", "password": "một-mật-khẩu-dài-đủ"}),
            )
            .await;
        let p = assert_problem(&res, 422);
        assert_eq!(p["errors"][0]["code"], "invalid_username");
    }
    // ...and a comment that would is neutralised in the change log's CSV (a target's subject
    // holds no text of the caller's; the actor of an operator token does).
    let odd = crate::support::keys().mint(
        &innoreport_core::Principal {
            subject: "=cmd|' /C calc'!A0".into(),
            role: Role::Admin,
            province: None,
            commune: None,
        },
        Duration::from_secs(600),
    );
    let res = app
        .put_json(
            &odd,
            "/api/v1/targets/2026/03808",
            &json!({"values": {"staff_total": 3}}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let changes = app.get_as(&admin, "/api/v1/changes.csv").await.text();
    assert!(changes.contains(",'=cmd|' /C calc'!A0,"), "{changes}");
    // A pillar named like a formula, in the index CSV's header.
    let mut framework = app.get("/api/v1/index/framework").await.json();
    framework["pillars"][0]["name"] = json!("=HYPERLINK(\"http://x.example\")");
    let res = app
        .put_json(&admin, "/api/v1/index/framework", &framework)
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let index = app
        .get_as(
            &admin,
            "/api/v1/index.csv?period=2025&uncertainty=false&lang=vi",
        )
        .await
        .text();
    let header = index.lines().next().unwrap();
    assert!(header.contains("'=HYPERLINK"), "{header}");
}

#[actix_web::test]
async fn the_change_log_shows_each_role_only_its_own_scope() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let admin = token(Role::Admin, None, None);
    let created = app
        .post_json(
            Some(&admin),
            "/api/v1/users",
            &json!({"username": "phan-tich-quoc-gia", "role": "national_analyst", "password": "một-mật-khẩu-dài-đủ"}),
        )
        .await;
    assert_eq!(created.status, 201);
    // A login of the commune: its administration is the managers' business, not the officers'.
    let officer_login = app
        .post_json(
            Some(&admin),
            "/api/v1/users",
            &json!({"username": "xa-muong-la-2", "role": "commune_officer", "commune": "03808"}),
        )
        .await;
    assert_eq!(officer_login.status, 201);
    let sibling = app.get("/api/v1/provinces/14/communes").await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .find(|c| c != "03808")
        .unwrap();
    for (commune, value) in [("03808", 30), (sibling.as_str(), 40)] {
        let path = format!("/api/v1/targets/2026/{commune}");
        let body = json!({"values": {"staff_total": value}});
        assert_eq!(
            app.put_json(&son_la_admin(), &path, &body).await.status,
            200
        );
    }
    let subjects = |who: String| {
        let app = &app;
        async move {
            app.get_as(&who, "/api/v1/changes").await.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["subject"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(subjects(muong_la()).await, vec!["2026/03808"]);
    assert_eq!(
        subjects(token(Role::ProvinceAnalyst, Some("14"), None)).await,
        vec![
            "xa-muong-la-2".to_owned(),
            "2026/03808".to_owned(),
            format!("2026/{sibling}")
        ]
    );
    assert!(
        subjects(token(Role::NationalAnalyst, None, None))
            .await
            .contains(&"phan-tich-quoc-gia".to_owned())
    );
}

#[actix_web::test]
async fn no_shared_cache_keeps_an_answer_and_tags_are_bound_to_the_scope() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let officer = muong_la();
    for (path, token) in [
        ("/api/v1/reports", Some(officer.clone())),
        ("/api/v1/provinces", None),
        ("/api/v1/reports", None),
    ] {
        let res = match &token {
            Some(t) => app.get_as(t, path).await,
            None => app.get(path).await,
        };
        assert_eq!(res.header("cache-control"), Some("no-store"), "{path}");
        assert!(
            res.header("vary").unwrap_or("").contains("Authorization"),
            "{path}"
        );
        assert_eq!(
            res.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    let signin = app
        .post_json(
            None,
            "/api/v1/auth/token",
            &json!({"username": "x", "password": "y"}),
        )
        .await;
    assert_eq!(signin.header("cache-control"), Some("no-store"));
    // Two tokens with one subject in two provinces never share a tag.
    let mint = |province: &str| {
        use innoreport_core::{Principal, ProvinceCode};
        crate::support::keys().mint(
            &Principal {
                subject: "same-name".into(),
                role: Role::ProvinceAnalyst,
                province: Some(ProvinceCode::parse(province).unwrap()),
                commune: None,
            },
            Duration::from_secs(600),
        )
    };
    let path = "/api/v1/aggregates?indicator=dossiers_total&period=2026&level=commune";
    let a = app.get_as(&mint("14"), path).await;
    let tag = a.header("etag").unwrap().to_owned();
    assert_eq!(a.header("cache-control"), Some("private, no-cache"));
    assert!(!tag.contains('v') || tag.len() > 20, "an opaque tag: {tag}");
    let b = app
        .get_with(&mint("01"), path, &[("if-none-match", &tag)])
        .await;
    assert_eq!(b.status, 200, "another scope never gets a 304 for this tag");
    let again = app
        .get_with(&mint("14"), path, &[("if-none-match", &tag)])
        .await;
    assert_eq!(again.status, 304);
    // The dashboard revalidates the same way.
    let dashboard = "/api/v1/provinces/14/dashboard?period=2026Q1";
    let first = app.get_as(&mint("14"), dashboard).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let tag = first
        .header("etag")
        .expect("the dashboard has a tag")
        .to_owned();
    let again = app
        .get_with(&mint("14"), dashboard, &[("if-none-match", &tag)])
        .await;
    assert_eq!(again.status, 304);
}

#[actix_web::test]
async fn a_huge_bad_input_gets_a_small_answer() {
    let app = TestApp::spawn_at("2026-02-10T03:00:00Z").await;
    let officer = muong_la();
    let values: serde_json::Map<String, serde_json::Value> = (0..80_000)
        .map(|i| (format!("unknown_indicator_{i:06}"), json!("not a number")))
        .collect();
    let body = json!({"dataset": "dmst-quarterly", "period": "2026Q1", "values": values});
    assert!(body.to_string().len() > 3 * 1024 * 1024);
    let res = app.submit(&officer, &body).await;
    let p = assert_problem(&res, 422);
    assert!(res.body.len() < 64 * 1024, "{} bytes", res.body.len());
    assert_eq!(p["errors"].as_array().unwrap().len(), 100);
    assert_eq!(p["errors_total"], 80_000);
    let mut csv = String::from("commune,dataset,period,indicator,value\n");
    while csv.len() < 8 * 1024 * 1024 {
        csv.push_str("03808,dmst-quarterly,2026Q1,no_such_indicator_with_a_long_name,x\n");
    }
    let res = app
        .post_bytes(
            Some(&officer),
            "/api/v1/imports?dry_run=true",
            "text/csv",
            &csv,
        )
        .await;
    assert_eq!(res.status, 200);
    assert!(res.body.len() < 512 * 1024, "{} bytes", res.body.len());
    assert!(res.json()["conflicts_total"].as_u64().unwrap() > 100_000);
}

#[actix_web::test]
async fn expensive_computations_have_a_budget_per_login() {
    let app = TestApp::spawn_with(|c| c.compute_budget = 2500).await;
    let analyst = token(Role::ProvinceAnalyst, Some("14"), None);
    let path = |seed: u32| {
        format!("/api/v1/index?period=2025&level=commune&province=14&draws=1000&seed={seed}")
    };
    assert_eq!(app.get_as(&analyst, &path(1)).await.status, 200);
    assert_eq!(app.get_as(&analyst, &path(2)).await.status, 200);
    let res = app.get_as(&analyst, &path(3)).await;
    let p = assert_problem(&res, 429);
    assert!(p["detail"].as_str().unwrap().contains("budget"));
    assert!(res.header("retry-after").is_some());
    // A cached answer costs nothing; another login has its own budget.
    assert_eq!(app.get_as(&analyst, &path(1)).await.status, 200);
    assert_eq!(app.get_as(&son_la_admin(), &path(3)).await.status, 200);
}
