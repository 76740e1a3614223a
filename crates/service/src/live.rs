//! The live view of current values that every analysis reads.
//!
//! It holds every report's current values in memory as an [`innoreport_aggregate::Cube`] and,
//! before each read, catches up with the database by reading only what changed since its
//! cursor (see `store::views`). So a submission is visible to the next query on this replica
//! and on every other replica reading the same database, and no request re-reads the whole
//! database. Reading a snapshot is a clone of shared frames: a reader is never blocked by, nor
//! sees half of, a later change.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use innoreport_aggregate::{Cube, ReportCells, Units};
use innoreport_core::Period;
use innoreport_store::views::{ReportState, changes_since, load_all};
use innoreport_store::{DbConnection, StoreError};

use crate::ServiceError;

#[derive(Default)]
struct Inner {
    /// Whether everything was read once (until then the first refresh loads it all).
    loaded: bool,
    cursor: i64,
    cube: Cube,
    /// A fingerprint of each report's state as applied, so a report read again unchanged (the
    /// PostgreSQL cursor re-reads what may have committed late) costs nothing.
    held: HashMap<i64, u64>,
}

/// The live view of one process.
#[derive(Default)]
pub struct LiveView {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for LiveView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LiveView")
    }
}

fn fingerprint(s: &ReportState) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (&s.dataset, &s.period, &s.commune).hash(&mut h);
    s.first_received_at.timestamp_micros().hash(&mut h);
    for (k, v) in &s.values {
        (k, v.to_bits()).hash(&mut h);
    }
    h.finish()
}

impl LiveView {
    /// Catches up with the database and returns the current cube over `units`. A change of the
    /// reference units (new communes) rebuilds the view from scratch.
    pub fn refresh(
        &self,
        conn: &mut DbConnection,
        units: &Arc<Units>,
    ) -> Result<Cube, ServiceError> {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let inner = &mut *guard;
        if !Arc::ptr_eq(inner.cube.units(), units) {
            *inner = Inner {
                cube: Cube::new(Arc::clone(units)),
                ..Inner::default()
            };
        }
        if !inner.loaded {
            // From nothing, frame by frame, so the load never holds every row at once; one
            // thread reads (and parses) the next frames while this one applies the last, since
            // the database and the view each take about half of the load.
            let (cube, held) = (&mut inner.cube, &mut inner.held);
            let reading = &mut *conn;
            let (frames, received) = std::sync::mpsc::sync_channel::<Vec<ReportState>>(2);
            let (read, applied) = std::thread::scope(|scope| {
                let reader = std::thread::Builder::new()
                    .name("live-view-reader".into())
                    .spawn_scoped(scope, move || {
                        load_all(reading, |states| {
                            frames.send(states).map_err(|_| {
                                StoreError::Corrupt("the live view stopped loading".into())
                            })
                        })
                    });
                let applied = received
                    .iter()
                    .try_for_each(|states| apply(cube, held, states));
                // A failed apply drops the receiver, so the reader stops at its next frame.
                drop(received);
                let read = match reader {
                    Ok(reader) => reader.join().unwrap_or_else(|_| {
                        Err(StoreError::Corrupt(
                            "the live view's reader panicked".into(),
                        ))
                    }),
                    Err(e) => Err(StoreError::Corrupt(format!(
                        "the live view's reader could not start: {e}"
                    ))),
                };
                (read, applied)
            });
            applied?;
            inner.cursor = read?;
            inner.loaded = true;
        }
        let (changes, next) = changes_since(conn, inner.cursor)?;
        inner.cursor = next;
        apply(&mut inner.cube, &mut inner.held, changes)?;
        Ok(inner.cube.clone())
    }
}

/// Applies report states the view does not hold yet (a state read again unchanged is skipped).
fn apply(
    cube: &mut Cube,
    held: &mut HashMap<i64, u64>,
    changes: Vec<ReportState>,
) -> Result<(), ServiceError> {
    let mut states = Vec::new();
    for s in changes {
        let print = fingerprint(&s);
        if held.insert(s.report_id, print) == Some(print) {
            continue;
        }
        // A stored period that does not parse cannot be a report of any data set.
        let Ok(period) = Period::parse(&s.period) else {
            continue;
        };
        states.push(ReportCells {
            dataset: s.dataset,
            period,
            commune: s.commune,
            first_received_us: s.first_received_at.timestamp_micros(),
            values: s.values,
        });
    }
    if !states.is_empty() {
        cube.apply(states)
            .map_err(|e| ServiceError::internal("applying changes to the live view", e))?;
    }
    Ok(())
}
