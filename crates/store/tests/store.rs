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
