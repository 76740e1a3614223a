//! The guard's pieces on their own: client keys, shares, body deadlines.

use super::*;

fn limits(max_in_flight: usize, max_large_uploads: usize) -> Limits {
    Limits {
        max_in_flight,
        max_large_uploads,
        max_per_client: 2,
        rate_per_second: 2,
        burst: 3,
        trust_forwarded_for: false,
        body_timeout: Duration::from_secs(10),
        db_writers: 1,
    }
}

#[test]
fn slots_are_limited_and_given_back_when_dropped() {
    let guard = Guard::new(limits(2, 1));
    let a = guard.admit(false).expect("first");
    let b = guard.admit(false).expect("second");
    assert!(guard.admit(false).is_none(), "third is refused");
    assert_eq!(guard.in_flight(), 2);
    drop(a);
    assert_eq!(guard.in_flight(), 1);
    drop(b);
    assert_eq!(guard.in_flight(), 0);
}

#[test]
fn writes_leave_a_quarter_of_the_slots_to_reads() {
    let guard = Guard::new(limits(8, 1));
    let writes: Vec<_> = (0..6)
        .map(|_| guard.admit(true).expect("a write"))
        .collect();
    assert!(
        guard.admit(true).is_none(),
        "a seventh write of 8 slots waits"
    );
    let reads: Vec<_> = (0..2)
        .map(|_| guard.admit(false).expect("a read"))
        .collect();
    assert!(guard.admit(false).is_none(), "and the slots are all taken");
    drop(writes);
    drop(reads);
    assert_eq!(guard.in_flight(), 0);
}

#[test]
fn a_client_holds_only_its_share_of_open_requests() {
    let guard = Guard::new(limits(10, 1));
    let a = guard.open("ip:1", 2).expect("first");
    let _b = guard.open("ip:1", 2).expect("second");
    assert!(
        guard.open("ip:1", 2).is_none(),
        "a third from the same client waits"
    );
    assert!(
        guard.open("sub:x", 2).is_some(),
        "another client is not affected"
    );
    drop(a);
    assert!(
        guard.open("ip:1", 2).is_some(),
        "a closed request frees its place"
    );
    drop(_b);
    assert!(
        guard.open.lock().unwrap().len() <= 1,
        "clients with nothing open are forgotten"
    );
}

#[test]
fn a_body_has_its_time_plus_time_for_its_size() {
    let guard = Guard::new(limits(10, 1));
    assert_eq!(guard.body_deadline(Some(50)), Duration::from_secs(10));
    assert_eq!(
        guard.body_deadline(Some(3_200 * 1024)),
        Duration::from_secs(110)
    );
    assert!(guard.body_deadline(None) <= Duration::from_secs(MAX_BODY_SECONDS));
}

#[test]
fn the_forwarded_client_is_the_address_the_nearest_proxy_added() {
    let mut headers = actix_web::http::header::HeaderMap::new();
    let xff = actix_web::http::header::HeaderName::from_static("x-forwarded-for");
    assert_eq!(forwarded_client(&headers), None);
    headers.insert(
        xff.clone(),
        HeaderValue::from_static("6.6.6.6, 203.0.113.7"),
    );
    assert_eq!(
        forwarded_client(&headers),
        Some("203.0.113.7".parse().unwrap())
    );
    headers.insert(xff, HeaderValue::from_static("not-an-address"));
    assert_eq!(forwarded_client(&headers), None);
}

#[test]
fn each_client_has_its_own_rate_and_burst() {
    let guard = Guard::new(limits(10, 1));
    for _ in 0..3 {
        guard
            .check_rate(&"sub:a".to_owned())
            .expect("within the burst");
    }
    let wait = guard
        .check_rate(&"sub:a".to_owned())
        .expect_err("over the burst");
    assert!(wait >= 1);
    guard
        .check_rate(&"sub:b".to_owned())
        .expect("another client is not affected");
    let off = Guard::new(Limits {
        rate_per_second: 0,
        ..limits(10, 1)
    });
    for _ in 0..1000 {
        off.check_rate(&"sub:a".to_owned()).expect("rate limit off");
    }
}
