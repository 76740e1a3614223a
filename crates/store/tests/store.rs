//! The store against a real database: SQLite always, PostgreSQL when `TEST_DATABASE_URL` is set.

use innoreport_store::reference;
use innoreport_store::testing::TestDatabase;

#[test]
fn seeding_loads_every_unit_and_the_catalog_once() {
    let db = TestDatabase::new();
    let store = db.store(); // migrates and seeds once
    let mut conn = store.conn().unwrap();
    assert_eq!(reference::list_provinces(&mut conn).unwrap().len(), 34);
    assert_eq!(reference::count_communes(&mut conn).unwrap(), 3321);

    // Seeding again, as a restart does, adds nothing.
    let again = store.seed().unwrap();
    assert_eq!(again.total(), 0, "{again:?}");
    assert_eq!(reference::count_communes(&mut conn).unwrap(), 3321);
    assert!(store.ready().unwrap());
    assert!(
        store.migrate().unwrap().is_empty(),
        "no migration left to apply"
    );
}

#[test]
fn the_stored_catalog_equals_the_shipped_one() {
    let db = TestDatabase::new();
    let store = db.store();
    let stored = reference::load_catalog(&mut store.conn().unwrap()).unwrap();
    let shipped = innoreport_store::seed::default_catalog().unwrap();
    assert_eq!(stored, shipped);
}

#[test]
fn communes_page_in_code_order_within_their_province() {
    let db = TestDatabase::new();
    let store = db.store();
    let mut conn = store.conn().unwrap();
    let first = reference::list_communes(&mut conn, "14", None, 50).unwrap();
    assert_eq!(first.len(), 50);
    let rest = reference::list_communes(&mut conn, "14", Some(&first[49].code), 50).unwrap();
    assert_eq!(first.len() + rest.len(), 75, "Sơn La has 75 communes");
    let mut all: Vec<_> = first.iter().chain(&rest).map(|c| c.code.clone()).collect();
    let sorted = {
        let mut s = all.clone();
        s.sort();
        s
    };
    assert_eq!(all, sorted);
    all.dedup();
    assert_eq!(all.len(), 75);
    let muong_la = reference::get_commune(&mut conn, "03808").unwrap().unwrap();
    assert_eq!(muong_la.name_vi, "Xã Mường La");
    assert_eq!(muong_la.province_code, "14");
    assert!(
        reference::get_commune(&mut conn, "99999")
            .unwrap()
            .is_none()
    );
}

#[test]
fn an_unmigrated_database_is_not_ready() {
    let db = TestDatabase::new();
    let store = innoreport_store::Store::open(&db.url, 2).unwrap();
    assert!(!store.ready().unwrap());
}

/// Writes a revision of commune's 2026Q1 quarterly report (no rules: the store only stores).
fn write(conn: &mut innoreport_store::DbConnection, commune: &str, value: f64) {
    use innoreport_store::reports::{NewRevision, find, lock, write_revision};
    let values: innoreport_core::validation::Values = [("dossiers_total".to_owned(), value)].into();
    lock(conn, "dmst-quarterly", "2026Q1", commune).unwrap();
    let existing = find(conn, "dmst-quarterly", "2026Q1", commune).unwrap();
    write_revision(
        conn,
        &NewRevision {
            report: existing.as_ref(),
            dataset: "dmst-quarterly",
            period: "2026Q1",
            commune,
            reopened: false,
            author: "test",
            comment: None,
            at: chrono::DateTime::parse_from_rfc3339("2026-02-10T03:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
            values: &values,
        },
    )
    .unwrap();
}

#[test]
fn a_report_carries_its_current_values_and_every_revision_is_kept() {
    let db = TestDatabase::new();
    let store = db.store();
    let mut conn = store.conn().unwrap();
    write(&mut conn, "03808", 5.0);
    write(&mut conn, "03808", 7.0);
    let report = innoreport_store::reports::find(&mut conn, "dmst-quarterly", "2026Q1", "03808")
        .unwrap()
        .unwrap();
    assert_eq!(report.revision, 2);
    assert_eq!(report.values.get("dossiers_total"), Some(&7.0));
    let revisions = innoreport_store::reports::list_revisions(&mut conn, report.id).unwrap();
    assert_eq!(revisions.len(), 2);
    assert_eq!(
        revisions[1].changes.get("dossiers_total"),
        Some(&(Some(5.0), Some(7.0)))
    );
    let (states, _) = innoreport_store::views::changes_since(&mut conn, 0).unwrap();
    assert_eq!(states.len(), 1, "one report, its current values");
    assert_eq!(states[0].values.get("dossiers_total"), Some(&7.0));
}

/// A revision whose transaction commits after a later one must still reach the views.
#[test]
fn views_never_skip_a_revision_that_commits_late() {
    use diesel::Connection;
    use innoreport_store::views::changes_since;
    let db = TestDatabase::new();
    let store = db.store();
    let mut reader = store.conn().unwrap();
    let (_, cursor0) = changes_since(&mut reader, 0).unwrap();

    let (inserted_tx, inserted_rx) = std::sync::mpsc::channel();
    let (commit_tx, commit_rx) = std::sync::mpsc::channel::<()>();
    let slow_store = store.clone();
    let backend = db.backend();
    let slow = std::thread::spawn(move || {
        let mut conn = slow_store.conn().unwrap();
        conn.transaction::<_, diesel::result::Error, _>(|c| {
            write(c, "03808", 1.0);
            inserted_tx.send(()).unwrap();
            if backend == innoreport_store::Backend::Postgres {
                commit_rx.recv().unwrap();
            }
            Ok(())
        })
        .unwrap();
    });
    inserted_rx.recv().unwrap();
    let mut slow = Some(slow);
    if db.backend() == innoreport_store::Backend::Sqlite {
        // One writer at a time: let the slow transaction commit first.
        slow.take().unwrap().join().unwrap();
    }
    let mut fast = store.conn().unwrap();
    write(&mut fast, "03646", 2.0);
    let (seen, cursor1) = changes_since(&mut reader, cursor0).unwrap();
    assert!(seen.iter().any(|s| s.commune == "03646"));
    if db.backend() == innoreport_store::Backend::Postgres {
        assert!(
            !seen.iter().any(|s| s.commune == "03808"),
            "not committed yet"
        );
        commit_tx.send(()).unwrap();
        slow.take().unwrap().join().unwrap();
    }
    let (late, _) = changes_since(&mut reader, cursor1).unwrap();
    let all: Vec<&str> = seen
        .iter()
        .chain(&late)
        .map(|s| s.commune.as_str())
        .collect();
    assert!(all.contains(&"03808"), "the late commit is read: {all:?}");
}

#[test]
fn the_login_migration_keeps_logins_that_differ_only_by_case_and_reports_them() {
    use diesel::RunQueryDsl;
    use innoreport_store::{changes, db, users};
    let db = TestDatabase::new();
    let store = db.store();
    let mut conn = store.conn().unwrap();
    // Back to the schema before folded usernames, where "Admin" and "admin" could both exist
    // (reverting the later migrations first).
    let mut reverted = 0;
    loop {
        let last = db::revert_last_migration(&mut conn).unwrap();
        reverted += 1;
        if last.contains("000008") {
            break;
        }
        assert!(reverted < 10, "000008 was never reverted: {last}");
    }
    for name in ["Can-Bo", "can-bo", "CAN-BO", "rieng"] {
        diesel::sql_query(format!(
            "INSERT INTO users (username, password_hash, role, province_code, commune_code, \
             display_name, disabled, created_at) VALUES ('{name}', 'x', 'commune_officer', '14', \
             '03808', '', FALSE, '2026-01-05 03:00:00')"
        ))
        .execute(&mut *conn)
        .unwrap();
    }
    assert_eq!(store.migrate().unwrap().len(), reverted);

    // Nothing is lost: every login is still there under its own name; the oldest holds the key.
    let oldest = users::find_user(&mut conn, "Can-Bo").unwrap().unwrap();
    assert_eq!(oldest.username_key.as_deref(), Some("can-bo"));
    assert_eq!(oldest.token_version, 1);
    assert!(oldest.updated_at.is_some());
    for name in ["can-bo", "CAN-BO"] {
        let later = users::find_user(&mut conn, name).unwrap().unwrap();
        assert_eq!(
            later.username_key,
            Some(format!("can-bo#{}", later.id)),
            "{name}"
        );
    }
    assert_eq!(
        users::find_user(&mut conn, "rieng")
            .unwrap()
            .unwrap()
            .username_key
            .as_deref(),
        Some("rieng")
    );
    // The two later ones are reported in the change log, naming the login they clash with.
    let reported = changes::list_changes(
        &mut conn,
        &changes::Scope::All,
        Some("user.duplicate"),
        None,
        100,
    )
    .unwrap();
    let mut subjects: Vec<_> = reported.iter().map(|c| c.subject.clone()).collect();
    subjects.sort();
    assert_eq!(subjects, vec!["CAN-BO", "can-bo"]);
    for change in &reported {
        assert_eq!(change.detail["same_as"], "Can-Bo", "{change:?}");
        assert_eq!(change.province.as_deref(), Some("14"));
    }
}
