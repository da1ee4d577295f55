//! Property tests of the pull path: delivery order does not matter, replays change nothing,
//! retention and dedupe match a reference model.

use crate::support::log_gen::{op, realise, Op};

use crate::support::*;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use sync_core::engine::{
    apply_page, pull, MemoryStore, PullConfig, PullError, ScriptedTransport, ServerLog, Store,
    StoreError,
};
use sync_core::protocol::PullItem;

fn config(retention: usize) -> PullConfig {
    PullConfig {
        retention,
        ..PullConfig::new(USER)
    }
}

fn pull_to_drained(
    store: &MemoryStore,
    log: ServerLog,
    config: &PullConfig,
) -> sync_core::engine::PullReport {
    let transport = ScriptedTransport::with_log(log);
    let clock = sync_core::engine::ManualClock::new(T0);
    let random = sync_core::engine::SeededRandom::new(1);
    block_on(pull(
        store,
        &transport,
        &clock,
        &random,
        config,
        &mut |_| {},
    ))
    .unwrap()
}

proptest! {
    #![proptest_config(proptest_config(64))]

    /// Any interleaving of duplicated, replayed, re-ordered and re-paged deliveries, each
    /// applied through the real apply path with the cursor compare-and-set, followed by a
    /// normal pull, ends in exactly the store of one clean pass.
    #[test]
    fn delivery_order_does_not_matter(
        ops in proptest::collection::vec(op(), 0..40),
        page_size in 1usize..6,
        retention in 1usize..4,
        deliveries in proptest::collection::vec((any::<u16>(), 1usize..6), 0..40),
    ) {
        let items = realise(&ops);
        let config = PullConfig { page_size: page_size as u32, ..config(retention) };

        let clean = MemoryStore::new();
        for (cursor, page) in ServerLog::new(items.clone()).clean_pass(page_size) {
            block_on(apply_page(&clean, page, cursor.as_deref(), &config)).unwrap();
        }

        let log = ServerLog::new(items.clone());
        let messy = MemoryStore::new();
        for (start, size) in deliveries {
            let start = usize::from(start) % (items.len() + 1);
            let cursor = (start > 0).then(|| ServerLog::cursor_at(start));
            let page = log.page(cursor.as_deref(), size).unwrap();
            match block_on(apply_page(&messy, page, cursor.as_deref(), &config)) {
                Ok(_) | Err(PullError::Storage(StoreError::CursorMoved)) => {}
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
        }
        let report = pull_to_drained(&messy, log, &config);
        prop_assert!(report.drained);
        prop_assert_eq!(data(&messy), data(&clean));
    }

    /// Re-planning an applied page against the resulting state and committing it leaves
    /// the store unchanged — for any page, in any order, from any prior state.
    #[test]
    fn reapplying_a_page_changes_nothing(
        before in proptest::collection::vec(op(), 0..25),
        page_ops in proptest::collection::vec(op(), 0..30),
        shuffle in proptest::collection::vec(any::<u16>(), 0..30),
        retention in 1usize..4,
    ) {
        let config = config(retention);
        let store = MemoryStore::new();
        block_on(apply_page(&store, page(realise(&before), "c1", false), None, &config)).unwrap();
        // Not a realistic log: snapshots out of order, versions anywhere.
        let mut items = realise(&page_ops);
        for (i, j) in shuffle.iter().enumerate() {
            if !items.is_empty() {
                let len = items.len();
                items.swap(i % len, usize::from(*j) % len);
            }
        }
        block_on(apply_page(&store, page(items.clone(), "c2", false), Some("c1"), &config)).unwrap();
        let applied = data(&store);
        let writes = store.row_writes();
        let again = block_on(apply_page(&store, page(items.clone(), "c3", false), Some("c2"), &config)).unwrap();
        let mut after = data(&store);
        after.meta.cursor = Some("c2".into());
        prop_assert_eq!(after, applied);
        // Without resets or tombstones (after which the page's rows are written again), a
        // replay writes nothing at all.
        let rewrites = items.iter().any(|i| matches!(i, PullItem::Reset { .. } | PullItem::Tombstone { .. }));
        if !rewrites {
            prop_assert!(again.plan.is_empty(), "{:?}", again.plan);
            prop_assert_eq!(store.row_writes(), writes);
        }
    }

    /// Retention and dedupe against a reference model: per widget, a (widgetId,
    /// generatedAt) seen before is skipped, a snapshot identical to the newest held one is
    /// skipped, and only the newest N are kept — whatever the page boundaries.
    #[test]
    fn retention_matches_the_model(
        appends in proptest::collection::vec((0u8..3, 1u8..4, any::<bool>(), 0u8..2, proptest::option::weighted(0.3, any::<u8>())), 0..60),
        cuts in proptest::collection::vec(1usize..8, 1..20),
        retention in 1usize..5,
    ) {
        let ops: Vec<Op> = appends
            .into_iter()
            .map(|(widget, gap, params, value, reemit)| Op::Append { widget, gap, params, value, reemit })
            .collect();
        let items = realise(&ops);
        let config = config(retention);
        let store = MemoryStore::new();
        // Model: per widget, keys ever offered and the held list (oldest first).
        let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
        let mut held: BTreeMap<String, Vec<(String, String, String)>> = BTreeMap::new();
        let mut rest = items.as_slice();
        let mut cursor: Option<String> = None;
        let mut n = 0;
        for cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at((*cut).min(rest.len()));
            rest = tail;
            let writes = store.row_writes();
            let mut model_writes = 0;
            for item in chunk {
                let PullItem::Append { row, .. } = item else { unreachable!() };
                let w = row["widgetId"].as_str().unwrap().to_string();
                let at = row["generatedAt"].as_str().unwrap().to_string();
                let content = (row["paramsHash"].to_string(), row["rows"].to_string());
                if !seen.insert((w.clone(), at.clone())) {
                    continue;
                }
                let list = held.entry(w).or_default();
                if list.last().is_some_and(|(_, p, r)| (p.clone(), r.clone()) == content) {
                    continue;
                }
                list.push((at, content.0, content.1));
                model_writes += 1;
                if list.len() > retention {
                    list.remove(0);
                }
            }
            n += 1;
            let next = format!("c{n}");
            block_on(apply_page(&store, page(chunk.to_vec(), &next, false), cursor.as_deref(), &config)).unwrap();
            cursor = Some(next);
            if model_writes == 0 {
                prop_assert_eq!(store.row_writes(), writes, "model says no write");
            }
            for (w, list) in &held {
                let stored: Vec<String> = block_on(store.snapshots_of(w)).unwrap().into_iter().rev().map(|s| s.generated_at).collect();
                let expected: Vec<String> = list.iter().map(|(at, _, _)| at.clone()).collect();
                prop_assert_eq!(stored, expected, "widget {}", w);
            }
        }
    }
}
