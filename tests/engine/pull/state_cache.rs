//! The pull call's state cache (`pull/state_cache.rs`, issue 13 design item 2): a cold start into
//! an empty store asks the store nothing before planning, a key is read at most once per
//! call, and whatever the log, the pages, the retention and the store a call starts from,
//! the cache changes nothing: the store and the report are those of planning every page
//! against a fresh read of the store.

use crate::support::log_gen::{op, realise};
use crate::support::*;
use proptest::prelude::*;
use sync_core::engine::{
    apply_page, check_integrity, IntegrityScope, MemoryStore, PullConfig, PullReport, ServerLog,
};
use sync_core::protocol::PullItem;

fn pull_with(store: &MemoryStore, log: &[PullItem], config: &PullConfig) -> PullReport {
    pull_log(store, log, config).unwrap()
}

/// The reference: from the stored cursor to `drained`, every page planned against a fresh
/// state read, then the integrity gate reading the store.
fn page_by_page(store: &MemoryStore, log: &[PullItem], config: &PullConfig) -> PullReport {
    let log = ServerLog::new(log.to_vec());
    let mut cursor = block_on(sync_core::engine::Store::meta(store))
        .unwrap()
        .cursor;
    let mut report = PullReport::default();
    let mut scope = IntegrityScope::default();
    while !report.drained {
        let page = log
            .page(cursor.as_deref(), config.page_size as usize)
            .unwrap();
        let (next, drained) = (page.next_cursor.clone(), page.drained);
        let planned = block_on(apply_page(store, page, cursor.as_deref(), config)).unwrap();
        report.record_page(&planned.summary);
        scope.merge(planned.summary.scope);
        report.drained = drained;
        cursor = Some(next);
    }
    // The gate over the store itself, with the scope the pages touched.
    if !scope.is_empty() {
        report.integrity = block_on(check_integrity(store, &scope)).unwrap();
    }
    report
}

/// The figures a page's plan decides (not the transport's: bytes, retries, duration).
fn decided(r: &PullReport) -> impl PartialEq + std::fmt::Debug {
    (
        r.pages,
        r.applied,
        r.duplicates_skipped,
        r.snapshots_trimmed,
        r.snapshots_too_large.clone(),
        r.resets.clone(),
        r.rows_swept,
        r.snapshots_swept,
        r.changed_kinds,
        r.drained,
        r.integrity.clone(),
    )
}

#[test]
fn a_cold_start_into_an_empty_store_reads_no_local_state() {
    let log = busy_log();
    let config = paged_config(2, 2);
    let cached = MemoryStore::new();
    let report = pull_with(&cached, &log, &config);
    assert_eq!(report.pages, 6);
    assert_eq!(
        cached.state_reads(),
        0,
        "every answer is known: nothing is held"
    );

    let reference = MemoryStore::new();
    let expected = page_by_page(&reference, &log, &config);
    assert_eq!(
        reference.state_reads(),
        6,
        "the reference reads before every page"
    );
    assert_eq!(cached.contents(), reference.contents());
    assert_eq!(decided(&report), decided(&expected));
}

#[test]
fn a_warm_call_reads_each_key_once_then_knows_what_it_committed() {
    let log = busy_log();
    let config = paged_config(2, 2);
    let store = MemoryStore::new();
    // A first call stops after one page: the next call starts warm (a cursor, rows held).
    pull_with(
        &store,
        &log,
        &PullConfig {
            max_pages: 1,
            ..config.clone()
        },
    );
    // Without the held index that call left (a database from before it existed).
    store.held_index_records().clear();
    let before = store.state_reads();
    pull_with(&store, &log, &config);
    // Pages 2..6 name dsh_1, wdg_1 and mtr_1 again and again; only a page naming a key or
    // a widget's snapshots this call has not seen yet reads: page 2 (mtr_1, wdg_1's
    // snapshots), page 3 (dsh_1), page 4 (the Widget wdg_1); pages 5 and 6 read nothing.
    assert_eq!(store.state_reads() - before, 3);
}

#[test]
fn a_cold_start_into_a_store_holding_rows_still_reads_them() {
    // A full replacement (no cursor, rows held): versions held must be honoured.
    let store = MemoryStore::new();
    block_on(apply_page(
        &store,
        page(vec![dashboard("dsh_1", 5, &["t"])], "old", true),
        None,
        &paged_config(2, 2),
    ))
    .unwrap();
    block_on(sync_core::engine::Store::wipe(&store, &[], true)).unwrap();
    let log = vec![dashboard("dsh_1", 4, &["t"])];
    let report = pull_with(&store, &log, &paged_config(2, 2));
    assert_eq!(
        report.duplicates_skipped, 1,
        "version 4 is older than the held 5"
    );
    assert!(store.state_reads() > 1);
}

proptest! {
    #![proptest_config(proptest_config(64))]

    /// Whatever the store holds when the call starts (nothing, an earlier pass of another log
    /// with or without its cursor, part of this log), pulling with the cache leaves the store
    /// and the report exactly as planning each page against a fresh state read does.
    #[test]
    fn the_cache_changes_nothing(
        before in proptest::collection::vec(op(), 0..20),
        ops in proptest::collection::vec(op(), 0..40),
        page_size in 1usize..6,
        retention in 1usize..4,
        start in 0u8..3,
        first_pages in 1u32..4,
    ) {
        let config = paged_config(page_size, retention);
        let log = realise(&ops);
        let (cached, reference) = (MemoryStore::new(), MemoryStore::new());
        for store in [&cached, &reference] {
            match start {
                // Rows of an earlier pass, cursor dropped: a full replacement follows.
                1 => {
                    block_on(apply_page(store, page(realise(&before), "old", true), None, &config)).unwrap();
                    block_on(sync_core::engine::Store::wipe(store, &[], true)).unwrap();
                }
                // Part of this log pulled by an earlier call.
                2 => {
                    pull_with(store, &log, &PullConfig { max_pages: first_pages, ..config.clone() });
                }
                _ => {}
            }
        }
        let report = pull_with(&cached, &log, &config);
        let expected = page_by_page(&reference, &log, &config);
        prop_assert_eq!(cached.contents(), reference.contents());
        prop_assert_eq!(decided(&report), decided(&expected));
    }
}
