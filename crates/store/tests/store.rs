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

fn submission<'a>(
    dataset: &'a innoreport_core::Dataset,
    commune: &str,
    value: f64,
) -> innoreport_store::reports::Submission<'a> {
    innoreport_store::reports::Submission {
        dataset,
        period: innoreport_core::Period::parse("2026Q1").unwrap(),
        commune: commune.into(),
        changes: [("dossiers_total".to_owned(), Some(value))].into(),
        field_issues: Vec::new(),
        comment: None,
        base_revision: None,
        author: "test".into(),
        now: chrono::DateTime::parse_from_rfc3339("2026-02-10T03:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc),
    }
}

/// A revision whose transaction commits after a later one must still reach the views.
#[test]
fn views_never_skip_a_revision_that_commits_late() {
    use diesel::Connection;
    use innoreport_store::views::changes_since;
    let db = TestDatabase::new();
    let store = db.store();
    let catalog = std::sync::Arc::new(innoreport_store::seed::default_catalog().unwrap());
    let mut reader = store.conn().unwrap();
    let (_, cursor0) = changes_since(&mut reader, 0).unwrap();

    let (inserted_tx, inserted_rx) = std::sync::mpsc::channel();
    let (commit_tx, commit_rx) = std::sync::mpsc::channel::<()>();
    let slow_store = store.clone();
    let slow_catalog = catalog.clone();
    let backend = db.backend();
    let slow = std::thread::spawn(move || {
        let mut conn = slow_store.conn().unwrap();
        conn.transaction::<_, diesel::result::Error, _>(|c| {
            let dataset = slow_catalog.dataset("dmst-quarterly").unwrap();
            innoreport_store::reports::submit(
                c,
                &slow_catalog,
                &submission(dataset, "03808", 1.0),
                false,
            )
            .unwrap();
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
    let dataset = catalog.dataset("dmst-quarterly").unwrap();
    let mut fast = store.conn().unwrap();
    innoreport_store::reports::submit(
        &mut fast,
        &catalog,
        &submission(dataset, "03646", 2.0),
        false,
    )
    .unwrap();
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
