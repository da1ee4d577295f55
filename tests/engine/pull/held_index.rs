//! The held index (`store/held_index.rs`, `pull/held_index.rs`; issue 13 design item 2): a
//! call that starts from an index exact at the stored cursor reads no local state; an index
//! that is not exact (another context's page, a crash before the save, damage, a wipe) is
//! never used and is rebuilt by a scan; and whatever happens between calls, the index
//! changes nothing: the store ends as planning each page against a fresh read leaves it.

use crate::support::log_gen::{op, realise};
use crate::support::*;
use proptest::prelude::*;
use sync_core::engine::{apply_page, MemoryStore, PullConfig, ScriptedTransport, ServerLog, Store};
use sync_core::protocol::{Kind, PullItem};

/// Another context (a tab before this one, an older leader) applies the next page itself.
pub(crate) fn other_context_applies_next_page(
    store: &MemoryStore,
    log: &[PullItem],
    config: &PullConfig,
) {
    let log = ServerLog::new(log.to_vec());
    let cursor = block_on(store.meta()).unwrap().cursor;
    let page = log
        .page(cursor.as_deref(), config.page_size as usize)
        .unwrap();
    block_on(apply_page(store, page, cursor.as_deref(), config)).unwrap();
}

/// The index the store holds, exact at its cursor: every part as a scan of the rows reads
/// it (raised query versions applied), sorted.
pub(crate) fn assert_index_is_exact(store: &MemoryStore) {
    let mut index = block_on(store.held_index())
        .unwrap()
        .expect("an index is left");
    assert_eq!(
        Some(index.at.clone()),
        block_on(store.meta()).unwrap().cursor
    );
    let scan = block_on(store.scan_held()).unwrap().unwrap();
    assert_eq!(scan.cursor, Some(index.at.clone()));
    let mut scanned = scan.parts;
    for (id, version) in &index.raised {
        for part in index.parts.iter_mut().filter(|p| p.kind == Kind::Query) {
            for (key, held) in part.versions.iter_mut() {
                if key == id {
                    *held = (*held).max(*version);
                }
            }
        }
    }
    for parts in [&mut index.parts, &mut scanned] {
        parts.sort_by_key(|p| p.kind);
        for part in parts.iter_mut() {
            part.versions.sort();
            part.widgets.sort_by(|a, b| a.key.cmp(&b.key));
            part.snapshots
                .sort_by(|a, b| (&a.0, &a.1.generated_at).cmp(&(&b.0, &b.1.generated_at)));
        }
    }
    assert_eq!(index.parts, scanned);
}

/// The store a single uninterrupted pull of `log` leaves.
pub(crate) fn reference(log: &[PullItem], config: &PullConfig) -> MemoryStore {
    let store = MemoryStore::new();
    pull_log(&store, log, config).unwrap();
    store
}

#[test]
fn a_warm_call_from_the_held_index_reads_no_local_state() {
    let (log, config) = (busy_log(), paged_config(2, 2));
    let store = MemoryStore::new();
    pull_log(
        &store,
        &log,
        &PullConfig {
            max_pages: 2,
            ..config.clone()
        },
    )
    .unwrap();
    assert_eq!(
        store.held_index_records().get("at").cloned(),
        block_on(store.meta()).unwrap().cursor
    );
    pull_log(&store, &log, &config).unwrap();
    assert_eq!(
        store.state_reads(),
        0,
        "every page is planned from the index"
    );
    assert_eq!(store.index_scans(), 0);
    assert_eq!(store.contents(), reference(&log, &config).contents());
    assert_index_is_exact(&store);
}

#[test]
fn an_index_behind_the_stored_cursor_is_not_used_and_is_rebuilt() {
    let (log, config) = (busy_log(), paged_config(2, 2));
    let store = MemoryStore::new();
    pull_log(
        &store,
        &log,
        &PullConfig {
            max_pages: 1,
            ..config.clone()
        },
    )
    .unwrap();
    // Page 2 lands without the index taking it in: the index is exact at page 1's cursor.
    other_context_applies_next_page(&store, &log, &config);
    pull_log(
        &store,
        &log,
        &PullConfig {
            max_pages: 2,
            ..config.clone()
        },
    )
    .unwrap();
    assert!(store.state_reads() > 0, "a stale index is not trusted");
    assert_eq!(store.index_scans(), 1, "and the call leaves a rebuilt one");
    let reads = store.state_reads();
    pull_log(&store, &log, &config).unwrap();
    assert_eq!(
        store.state_reads(),
        reads,
        "the next call starts from the rebuilt index"
    );
    assert_eq!(store.contents(), reference(&log, &config).contents());
}

#[test]
fn a_damaged_or_partial_index_is_not_used() {
    let (log, config) = (busy_log(), paged_config(2, 2));
    for damage in ["[[1,2]]", ""] {
        let store = MemoryStore::new();
        pull_log(
            &store,
            &log,
            &PullConfig {
                max_pages: 3,
                ..config.clone()
            },
        )
        .unwrap();
        if damage.is_empty() {
            store.held_index_records().remove("Widget");
        } else {
            store
                .held_index_records()
                .insert("Dashboard".into(), damage.into());
        }
        pull_log(&store, &log, &config).unwrap();
        assert!(store.state_reads() > 0);
        assert_eq!(store.contents(), reference(&log, &config).contents());
    }
}

#[test]
fn a_403_wipe_drops_the_index() {
    let store = MemoryStore::new();
    pull_log(&store, &busy_log(), &paged_config(2, 2)).unwrap();
    assert!(!store.held_index_records().is_empty());
    block_on(store.wipe(&[Kind::Dashboard], true)).unwrap();
    assert!(store.held_index_records().is_empty());
}

proptest! {
    #![proptest_config(proptest_config(64))]

    /// Calls of a few pages each, and between them any of: nothing, the index lost, one part
    /// lost, another context applying a page, the held cursor damaged — the store ends
    /// exactly as one uninterrupted pull leaves it.
    #[test]
    fn the_index_changes_nothing_across_calls(
        ops in proptest::collection::vec(op(), 0..40),
        page_size in 1usize..6,
        retention in 1usize..4,
        steps in proptest::collection::vec((1u32..3, 0u8..5), 1..12),
    ) {
        let config = paged_config(page_size, retention);
        let log = realise(&ops);
        let store = MemoryStore::new();
        let mut drained = false;
        for (pages, between) in steps.iter().cycle().take(64) {
            let report = pull_log(&store, &log, &PullConfig { max_pages: *pages, ..config.clone() }).unwrap();
            if report.drained {
                drained = true;
                break;
            }
            match between {
                1 => store.held_index_records().clear(),
                2 => { store.held_index_records().remove(Kind::Query.as_str()); }
                3 => other_context_applies_next_page(&store, &log, &config),
                4 => { store.held_index_records().insert("at".into(), "old".into()); }
                _ => {}
            }
        }
        if !drained {
            pull_log(&store, &log, &config).unwrap();
        }
        prop_assert_eq!(data(&store), data(&reference(&log, &config)));
        assert_index_is_exact(&store);
    }
}

/// The held version of `qry_1`.
fn query_version(store: &MemoryStore) -> u64 {
    block_on(store.row(Kind::Query, "qry_1"))
        .unwrap()
        .unwrap()
        .version
}

/// A settled rename's raised version must not outlive a later reset that refills the row at
/// a lower version: the index would then believe the old raise and skip every upsert below it.
#[test]
fn a_raise_recorded_by_a_settlement_does_not_outlive_a_reset_to_lower_versions() {
    let query = |version: u64, name: &str| {
        upsert(
            Kind::Query,
            version,
            serde_json::json!({"id": "qry_1", "ownerId": USER, "name_i18n": {"default": name}}),
        )
    };
    let mut h = Harness::with_log(vec![query(1, "v1")]);
    h.pull().unwrap();
    // A pushed rename settles at version 5 (row, raised record, epoch), as
    // `OutboxStore::settle_batch` does.
    let cursor = block_on(h.store.meta()).unwrap().cursor;
    h.store.before_next_commit(|c| {
        c.rows
            .get_mut(&(Kind::Query, "qry_1".to_string()))
            .unwrap()
            .version = 5;
        c.meta.settled_epoch += 1;
    });
    let empty = sync_core::engine::ApplyPlan::<sync_core::protocol::Row>::default();
    block_on(
        h.store
            .commit_page(&empty, cursor.as_deref(), cursor.as_deref().unwrap()),
    )
    .unwrap();
    h.store
        .held_index_records()
        .insert(sync_core::engine::raised_version_key("qry_1"), "5".into());
    // The server is restored: Query is reset and refilled at version 2, then moves to 3.
    h.transport
        .log()
        .unwrap()
        .extend([PullItem::Reset { kind: Kind::Query }, query(2, "restored")]);
    h.pull().unwrap();
    assert_eq!(query_version(&h.store), 2);
    h.transport.log().unwrap().extend([query(3, "next")]);
    h.pull().unwrap();
    assert_eq!(
        query_version(&h.store),
        3,
        "version 3 is applied over the held 2"
    );
    assert_index_is_exact(&h.store);
}

/// PROTOCOL §3 lets a page that changes rows come back with the very cursor it was fetched
/// with (it only says a stored cursor is replaced by the `nextCursor` of a page applied after
/// it; a server not ours may not advance an opaque cursor on every write). If the call then
/// fails before it saves the index, the index still names the stored cursor but misses that
/// page's writes: it must not be trusted by the next call.
#[test]
fn a_page_that_keeps_the_cursor_leaves_no_index_that_misses_its_writes() {
    let transport = ScriptedTransport::new();
    transport
        .respond(200, body(vec![dashboard("dsh_1", 1, &["t"])], "c1", true))
        .respond(200, body(vec![dashboard("dsh_1", 2, &["t"])], "c1", false))
        .respond(400, r#"{"error":"bad_page_size"}"#)
        .respond(200, body(vec![dashboard("dsh_1", 2, &["t"])], "c1", true));
    let mut h = Harness::new(transport);
    h.pull().unwrap();
    assert_eq!(
        h.store.held_index_records().get("at").map(String::as_str),
        Some("c1")
    );
    // Page 1 lands (version 2, cursor still c1), then the call fails before any save.
    assert!(h.pull().is_err());
    let report = h.pull().unwrap();
    assert_eq!(
        (report.items_applied(), report.duplicates_skipped),
        (0, 1),
        "version 2 is held: the page repeats it"
    );
    assert_index_is_exact(&h.store);
}
