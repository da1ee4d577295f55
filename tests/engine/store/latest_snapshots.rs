//! `latest_snapshots`: the newest snapshot of many widgets in one call (first render). The
//! answer must be, id for id, what `latest_snapshot` answers alone — through `MemoryStore`
//! and through the trait's one-by-one default, which a store without a batched read inherits.

use crate::support::*;
use serde_json::json;
use std::cell::RefCell;
use sync_core::engine::{
    latest_snapshot, latest_snapshots, MemoryStore, Store, StoreError, StoredSnapshot,
};

/// Snapshots of widgets whose ids share prefixes, appended out of time order (after their
/// widgets: a cold pull keeps only snapshots of widgets it holds).
fn pulled() -> Harness {
    let mut log: Vec<_> = ["wid_1", "wid_10", "wid_1x", "wid_0"]
        .iter()
        .map(|id| widget(id, 1, "dsh_1", "occupancy"))
        .collect();
    log.extend(
        [7u32, 3, 11, 5]
            .iter()
            .map(|&m| snapshot("wid_1", m, "p", json!(m))),
    );
    log.push(snapshot("wid_10", 30, "p", json!(30)));
    log.push(snapshot("wid_10", 20, "p", json!(20)));
    log.push(snapshot("wid_1x", 2, "p", json!(2)));
    log.push(snapshot("wid_0", 40, "p", json!(40)));
    let mut h = Harness::with_log(log);
    h.pull().unwrap();
    h
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Asked for, in this order: held widgets, prefixes of held ids, a missing one, a repeat.
const ASKED: [&str; 8] = [
    "wid_10", "wid_1", "wid_", "wid_none", "wid_1x", "wid_0", "wid_1", "wid",
];

#[test]
fn memory_store_answers_each_id_as_latest_snapshot_does() {
    let h = pulled();
    let all = block_on(latest_snapshots(&h.store, &ids(&ASKED))).unwrap();
    assert_eq!(all.len(), ASKED.len());
    for (id, got) in ASKED.iter().zip(&all) {
        assert_eq!(
            got,
            &block_on(latest_snapshot(&h.store, id)).unwrap(),
            "{id}"
        );
    }
    let minute = |s: &Option<StoredSnapshot>| s.as_ref().map(|s| s.generated_at.clone());
    assert_eq!(minute(&all[0]).as_deref(), Some("2026-01-01T00:30:00Z"));
    assert_eq!(minute(&all[1]).as_deref(), Some("2026-01-01T00:11:00Z"));
    assert_eq!(
        all[1].as_ref().unwrap().row["rows"][0]["occupancy"],
        json!(11)
    );
    assert_eq!((&all[2], &all[3], &all[7]), (&None, &None, &None));
    assert_eq!(minute(&all[4]).as_deref(), Some("2026-01-01T00:02:00Z"));
    assert_eq!(all[1], all[6], "a repeated id gets the same answer");
    assert!(block_on(latest_snapshots(&h.store, &[]))
        .unwrap()
        .is_empty());
}

/// A store that only has the required methods (it delegates them to a `MemoryStore`) and
/// records which single reads the inherited `latest_snapshots` makes; one id can be made
/// to fail like a broken record would.
struct OneByOne {
    inner: MemoryStore,
    asked: RefCell<Vec<String>>,
    failing: &'static str,
}

impl Store for OneByOne {
    type Payload = <MemoryStore as Store>::Payload;
    forward_store_writes!(inner);
    forward_store_reads!(inner);
    async fn latest_snapshot(&self, widget_id: &str) -> Result<Option<StoredSnapshot>, StoreError> {
        self.asked.borrow_mut().push(widget_id.to_string());
        if widget_id == self.failing {
            return Err(StoreError::Corrupt(format!("record of {widget_id}")));
        }
        self.inner.latest_snapshot(widget_id).await
    }
}

fn one_by_one(failing: &'static str) -> OneByOne {
    OneByOne {
        inner: pulled().store,
        asked: RefCell::new(Vec::new()),
        failing,
    }
}

#[test]
fn the_default_reads_each_id_once_in_order() {
    let store = one_by_one("");
    let all = block_on(latest_snapshots(&store, &ids(&ASKED))).unwrap();
    assert_eq!(*store.asked.borrow(), ASKED);
    let expected = block_on(latest_snapshots(&store.inner, &ids(&ASKED))).unwrap();
    assert_eq!(all, expected);
    assert!(all[0].is_some() && all[3].is_none());
}

#[test]
fn the_default_fails_with_the_first_failing_read() {
    let store = one_by_one("wid_none");
    let err = block_on(latest_snapshots(&store, &ids(&ASKED))).unwrap_err();
    assert_eq!(err, StoreError::Corrupt("record of wid_none".into()));
    // It stops there: nothing after the failing id is read.
    assert_eq!(*store.asked.borrow(), ASKED[..4]);
}
