//! A leader's client pulls again and again over one store: each call leaves its state cache
//! for the next (`pull_keeping`), which uses it instead of loading the held index only while
//! the store is exactly where the call left it — no page, wipe or settlement of any context
//! since. Whatever happens between calls, the store ends as one uninterrupted pull leaves it.

use crate::pull::held_index::{assert_index_is_exact, other_context_applies_next_page, reference};
use crate::support::log_gen::{op, realise};
use crate::support::*;
use proptest::prelude::*;
use serde_json::json;
use sync_core::engine::{apply_page, MemoryStore, PullConfig, PullReport, StateCache, Store};
use sync_core::protocol::{Kind, PullItem};

/// One call of `pull_keeping` against a server holding `log`.
fn pull_kept(
    store: &MemoryStore,
    log: &[PullItem],
    config: &PullConfig,
    kept: &mut Option<StateCache>,
) -> PullReport {
    pull_log_keeping(store, log, config, kept).unwrap()
}

fn query(version: u64) -> PullItem {
    upsert(
        Kind::Query,
        version,
        json!({"id": "qry_1", "ownerId": USER, "name_i18n": {"default": "q"}}),
    )
}

#[test]
fn a_second_call_of_the_same_client_reads_neither_the_index_nor_any_state() {
    let store = MemoryStore::new();
    let config = paged_config(2, 2);
    let mut log = busy_log();
    let mut kept = None;
    pull_kept(&store, &log, &config, &mut kept);
    assert!(kept.is_some(), "a cold start knows every held key");
    let (index_reads, state_reads) = (store.index_reads(), store.state_reads());
    log.push(dashboard("dsh_2", 1, &["t"]));
    let report = pull_kept(&store, &log, &config, &mut kept);
    assert_eq!(report.items_applied(), 1);
    assert_eq!(
        store.index_reads(),
        index_reads,
        "the index is not loaded again"
    );
    assert_eq!(store.state_reads(), state_reads);
    assert_index_is_exact(&store);
}

#[test]
fn a_settlement_between_calls_makes_the_next_call_load_the_index() {
    let store = MemoryStore::new();
    let config = paged_config(2, 2);
    let mut log = vec![query(1)];
    let mut kept = None;
    pull_kept(&store, &log, &config, &mut kept);
    // A pushed rename settles at version 5: the row, its raised record and the epoch, as
    // `OutboxStore::settle_batch` writes them.
    let cursor = block_on(store.meta()).unwrap().cursor;
    store.before_next_commit(|c| {
        let row = c.rows.get_mut(&(Kind::Query, "qry_1".to_string())).unwrap();
        row.version = 5;
        c.meta.settled_epoch += 1;
    });
    let empty = sync_core::engine::ApplyPlan::<sync_core::protocol::Row>::default();
    let at = cursor.as_deref();
    block_on(store.commit_page(&empty, at, at.unwrap())).unwrap();
    store
        .held_index_records()
        .insert(sync_core::engine::raised_version_key("qry_1"), "5".into());
    let index_reads = store.index_reads();
    // The server sends back the version the push made.
    log.push(query(5));
    let report = pull_kept(&store, &log, &config, &mut kept);
    assert!(
        store.index_reads() > index_reads,
        "the kept state was not used"
    );
    assert_eq!(report.duplicates_skipped, 1, "5 is already held");
    assert_eq!(report.items_applied(), 0);
}

#[test]
fn another_contexts_page_between_calls_makes_the_next_call_load_the_index() {
    let store = MemoryStore::new();
    let config = paged_config(2, 2);
    let mut kept = None;
    pull_kept(&store, &[dashboard("dsh_1", 1, &["t"])], &config, &mut kept);
    // Another context applies a page that comes back with the cursor it was fetched with.
    let cursor = block_on(store.meta()).unwrap().cursor.unwrap();
    let raised = page(vec![dashboard("dsh_1", 5, &["t"])], &cursor, false);
    block_on(apply_page(&store, raised, Some(&cursor), &config)).unwrap();
    let index_reads = store.index_reads();
    let log = vec![dashboard("dsh_1", 1, &["t"]), dashboard("dsh_1", 4, &["t"])];
    let report = pull_kept(&store, &log, &config, &mut kept);
    assert!(
        store.index_reads() > index_reads,
        "the kept state was not used"
    );
    assert_eq!(report.duplicates_skipped, 1, "4 is older than the held 5");
    let held = block_on(store.row(Kind::Dashboard, "dsh_1"))
        .unwrap()
        .unwrap();
    assert_eq!(held.version, 5);
}

proptest! {
    #![proptest_config(proptest_config(64))]

    /// Calls of a few pages each by one client keeping its state, and between them any of:
    /// nothing, the index lost, another context applying the next page, a settlement — the
    /// store ends exactly as one uninterrupted pull leaves it.
    #[test]
    fn kept_state_changes_nothing_across_calls(
        ops in proptest::collection::vec(op(), 0..40),
        page_size in 1usize..6,
        retention in 1usize..4,
        steps in proptest::collection::vec((1u32..3, 0u8..4), 1..12),
    ) {
        let config = paged_config(page_size, retention);
        let log = realise(&ops);
        let store = MemoryStore::new();
        let mut kept = None;
        let mut drained = false;
        for (pages, between) in steps.iter().cycle().take(64) {
            let report = pull_kept(&store, &log, &PullConfig { max_pages: *pages, ..config.clone() }, &mut kept);
            if report.drained {
                drained = true;
                break;
            }
            match between {
                1 => store.held_index_records().clear(),
                2 => other_context_applies_next_page(&store, &log, &config),
                3 => {
                    // A settlement that raised nothing still moves the epoch.
                    let cursor = block_on(store.meta()).unwrap().cursor;
                    store.before_next_commit(|c| c.meta.settled_epoch += 1);
                    let empty = sync_core::engine::ApplyPlan::<sync_core::protocol::Row>::default();
                    let at = cursor.as_deref();
                    block_on(store.commit_page(&empty, at, at.unwrap_or(""))).unwrap();
                }
                _ => {}
            }
        }
        if !drained {
            pull_kept(&store, &log, &config, &mut kept);
        }
        let mut held = data(&store);
        held.meta.settled_epoch = 0; // the settlements between calls counted here only
        prop_assert_eq!(held, data(&reference(&log, &config)));
        assert_usable_index_is_exact(&store);
    }
}

/// An index the next call would use (whole, at the stored cursor) is exact. A client that
/// keeps its state saves only the parts it changed, so an index damaged between its calls
/// (a part lost) stays unusable until a call without kept state rebuilds it — never wrong.
fn assert_usable_index_is_exact(store: &MemoryStore) {
    let cursor = block_on(store.meta()).unwrap().cursor;
    if let Some(index) = block_on(store.held_index()).unwrap() {
        if index.is_whole() && cursor.as_ref() == Some(&index.at) {
            assert_index_is_exact(store);
        }
    }
}
