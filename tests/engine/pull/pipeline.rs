//! The pipelined pull loop: page n+1 is fetched while page n's local state is read and its
//! commit runs, and that overlap must change nothing but timing.
//!
//! [`SlowStore`] is the in-memory store whose reads and commits each stay pending for a few
//! polls, the way IndexedDB requests do, and records what happens in one event list shared
//! with [`LoggedTransport`]. With zero yields the store finishes at once, the prefetch never
//! starts, and the loop behaves exactly as the sequential one did: the reference every
//! pipelined run is compared against.

use super::pipeline_rig::*;
use crate::support::*;
use sync_core::engine::{
    pull, MemoryContents, MemoryStore, PullError, ScriptedTransport, SeededRandom, ServerLog,
    StoreError,
};
use sync_core::protocol::Kind;

#[test]
fn the_next_page_is_fetched_while_this_one_commits_and_applied_after_it() {
    let rig = Rig::new(ScriptedTransport::with_log(ServerLog::new(items())), 3, 1);
    let report = rig.pull().unwrap();
    let ev = rig.events();
    assert_eq!(rig.gets(), vec!["-", "log.2", "log.4"]);
    // Page 2's request leaves before page 1's commit is done …
    assert!(position(&ev, "GET log.2") < position(&ev, "committed log.2 (true)"));
    assert!(position(&ev, "GET log.4") < position(&ev, "committed log.4 (true)"));
    // … and is planned and committed only after it, with page 1's cursor as the expected one.
    assert!(position(&ev, "committed log.2 (true)") < position(&ev, "commit log.2 -> log.4"));
    assert!(position(&ev, "committed log.4 (true)") < position(&ev, "commit log.4 -> log.6"));
    // No prefetch after the drained page: page 3 is the last request.
    assert_eq!(ev.iter().filter(|e| e.starts_with("GET")).count(), 3);

    let sequential = Rig::new(ScriptedTransport::with_log(ServerLog::new(items())), 0, 0);
    let expected = sequential.pull().unwrap();
    assert_eq!(report, expected);
    assert_eq!(rig.contents(), sequential.contents());
    assert_eq!(sequential.gets(), rig.gets());
    // Without pending storage the loop is strictly sequential: fetch, read, commit.
    let ev = sequential.events();
    assert!(position(&ev, "committed log.2 (true)") < position(&ev, "GET log.2"));
}

#[test]
fn a_failed_commit_drops_the_prefetch_and_sends_nothing_more() {
    // The prefetch meets a 503 and sleeps before its retry; the commit fails meanwhile.
    let transport = ScriptedTransport::with_log(ServerLog::new(items()));
    transport.respond(200, body(items()[..2].to_vec(), "log.2", false));
    transport.respond(503, "");
    let rig = Rig::new(transport, 6, 1);
    rig.clock.yields.set(50);
    rig.store.inner.fail_next_commit(StoreError::QuotaExceeded);
    let e = rig.pull().unwrap_err();
    assert_eq!(e.code(), "quota_exceeded");
    assert_eq!(rig.contents(), MemoryContents::default());
    assert_eq!(rig.gets(), vec!["-", "log.2"]);
    let ev = rig.events();
    assert!(ev.contains(&"answered log.2 503".to_string()), "{ev:#?}");
    assert_eq!(
        ev.last().map(String::as_str),
        Some("committed log.2 (false)")
    );
    // The retry's sleep was cancelled with the prefetch.
    assert!(rig.clock.inner.sleeps().is_empty());
}

#[test]
fn a_moved_cursor_drops_the_prefetch_and_counts_only_what_was_used() {
    let build = |store_yields| {
        let log = ServerLog::new(items());
        let first = log.clean_pass(2)[0].1.clone();
        let rig = Rig::new(ScriptedTransport::with_log(log), store_yields, 1);
        // Another tab applies page 1 and page 2 while we fetch page 1.
        let other = {
            let tmp = MemoryStore::new();
            let config = rig.config.clone();
            let second = ServerLog::new(items()).clean_pass(2)[1].1.clone();
            block_on(sync_core::engine::apply_page(&tmp, first, None, &config)).unwrap();
            block_on(sync_core::engine::apply_page(
                &tmp,
                second,
                Some("log.2"),
                &config,
            ))
            .unwrap();
            tmp.contents()
        };
        rig.store.inner.before_next_commit(move |c| *c = other);
        rig
    };
    let piped = build(3);
    let report = piped.pull().unwrap();
    // Page 2 was prefetched at log.2, then dropped: the run follows the stored cursor.
    assert_eq!(piped.gets(), vec!["-", "log.2", "log.4"]);
    let sequential = build(0);
    let expected = sequential.pull().unwrap();
    assert_eq!(sequential.gets(), vec!["-", "log.4"]);
    assert_eq!(report, expected);
    assert_eq!(report.pages, 1);
    assert_eq!(piped.contents(), sequential.contents());
    let bodies: u64 = [None, Some("log.4")]
        .iter()
        .map(|c| {
            ServerLog::new(items())
                .page(*c, 2)
                .unwrap()
                .to_json_string()
                .len() as u64
        })
        .sum();
    assert_eq!(report.bytes_pulled, bodies);
}

#[test]
fn a_forbidden_prefetch_is_acted_on_after_the_commit_and_nothing_follows() {
    let transport = ScriptedTransport::new();
    transport.respond(200, body(items()[..2].to_vec(), "c1", false));
    transport.respond(403, r#"{"error":"forbidden","kinds":["Dashboard"]}"#);
    let rig = Rig::new(transport, 3, 1);
    let e = rig.pull().unwrap_err();
    assert!(matches!(e, PullError::Forbidden { ref kinds } if kinds == &[Kind::Dashboard]));
    let ev = rig.events();
    assert_eq!(rig.gets(), vec!["-", "c1"]);
    // Page 1 committed first, then the 403 wiped what it names.
    assert!(position(&ev, "committed c1 (true)") < position(&ev, "wipe"));
    assert_eq!(ev.last().map(String::as_str), Some("wipe"));
    let held = rig.contents();
    assert!(held.rows.keys().all(|(k, _)| *k != Kind::Dashboard));
    assert!(held
        .rows
        .contains_key(&(Kind::MetricDefinition, "occupancy".into())));
    assert!(held.meta.access_revoked);
    assert_eq!(held.meta.cursor, None);
}

#[test]
fn a_gone_cursor_on_the_prefetch_cold_starts_once_as_before() {
    let run = |store_yields| {
        let transport = ScriptedTransport::with_log(ServerLog::new(items()));
        transport.respond(200, body(items()[..2].to_vec(), "stale.2", false));
        transport.respond(410, r#"{"error":"cursor_invalid"}"#);
        let rig = Rig::new(transport, store_yields, 1);
        let report = rig.pull().unwrap();
        (report, rig.gets(), rig.contents())
    };
    let (report, gets, contents) = run(3);
    assert_eq!(gets, vec!["-", "stale.2", "-", "log.2", "log.4"]);
    assert_eq!(report.cold_restarts, 1);
    assert_eq!((report, gets, contents), run(0));
}

#[test]
fn no_prefetch_past_max_pages_or_a_drained_page() {
    let rig = Rig::new(ScriptedTransport::with_log(ServerLog::new(items())), 3, 1);
    let mut config = rig.config.clone();
    config.max_pages = 2;
    let report = block_on(pull(
        &rig.store,
        &rig.transport,
        &rig.clock,
        &SeededRandom::new(42),
        &config,
        &mut |_| {},
    ))
    .unwrap();
    assert!(!report.drained);
    assert_eq!(rig.gets(), vec!["-", "log.2"]);

    let rig = Rig::new(ScriptedTransport::with_log(ServerLog::new(items())), 3, 1);
    let mut config = rig.config.clone();
    config.page_size = 100;
    assert!(
        block_on(pull(
            &rig.store,
            &rig.transport,
            &rig.clock,
            &SeededRandom::new(42),
            &config,
            &mut |_| {},
        ))
        .unwrap()
        .drained
    );
    assert_eq!(rig.gets(), vec!["-"]);
}

#[test]
fn retries_and_rate_limits_of_a_prefetch_count_once_as_before() {
    let run = |store_yields| {
        let transport = ScriptedTransport::with_log(ServerLog::new(items()));
        transport.respond(200, body(items()[..2].to_vec(), "log.2", false));
        transport.respond(503, "oops");
        transport.rate_limit("2");
        transport.respond(401, "");
        let rig = Rig::new(transport, store_yields, 1);
        let report = rig.pull().unwrap();
        (report, rig.gets(), rig.clock.inner.sleeps(), rig.contents())
    };
    let (report, gets, sleeps, contents) = run(4);
    assert_eq!(report.retries, 3);
    assert_eq!(gets, vec!["-", "log.2", "log.2", "log.2", "log.2", "log.4"]);
    assert_eq!(sleeps[1], 2_000);
    assert_eq!((report, gets, sleeps, contents), run(0));
}

#[test]
fn the_next_commit_is_issued_before_this_one_lands_and_lands_after_it() {
    // Commits slower than fetches: page n+1 is planned and its commit issued while page n's
    // commit is still running (the store orders commits as issued).
    let rig = Rig::new(ScriptedTransport::with_log(ServerLog::new(items())), 12, 1);
    let report = rig.pull().unwrap();
    let ev = rig.events();
    assert!(
        position(&ev, "commit log.2 -> log.4") < position(&ev, "committed log.2 (true)"),
        "{ev:#?}"
    );
    assert!(position(&ev, "committed log.2 (true)") < position(&ev, "committed log.4 (true)"));
    assert!(position(&ev, "committed log.4 (true)") < position(&ev, "committed log.6 (true)"));
    assert!(
        ev.iter().all(|e| e != "state"),
        "a cold start reads nothing: {ev:#?}"
    );

    let sequential = Rig::new(ScriptedTransport::with_log(ServerLog::new(items())), 0, 0);
    assert_eq!(report, sequential.pull().unwrap());
    assert_eq!(rig.contents(), sequential.contents());
    assert_eq!(rig.gets(), sequential.gets());
}

#[test]
fn a_failed_commit_runs_the_commit_issued_behind_it_to_a_refusal() {
    let rig = Rig::new(ScriptedTransport::with_log(ServerLog::new(items())), 12, 1);
    rig.store.inner.fail_next_commit(StoreError::QuotaExceeded);
    let e = rig.pull().unwrap_err();
    assert_eq!(e.code(), "quota_exceeded");
    let ev = rig.events();
    // Page 2's commit had been issued. It is not dropped midway (an IndexedDB request's
    // handlers would outlive its future) but runs to its end, where its compare-and-set
    // refuses it: nothing of either page is held.
    assert!(position(&ev, "commit log.2 -> log.4") < position(&ev, "committed log.2 (false)"));
    assert!(position(&ev, "committed log.2 (false)") < position(&ev, "committed log.4 (false)"));
    assert_eq!(rig.contents(), MemoryContents::default());
}

#[test]
fn a_page_that_does_not_move_the_cursor_lands_before_the_next_commit_is_issued() {
    // A server answering a page with the cursor it was asked for (not drained): the next
    // page's compare-and-set could not tell a failed commit, so it is not issued early.
    let transport = ScriptedTransport::new();
    transport.respond(200, body(items()[..2].to_vec(), "same", false));
    transport.respond(200, body(items()[2..4].to_vec(), "same", false));
    transport.respond(200, body(items()[4..].to_vec(), "end", true));
    let rig = Rig::new(transport, 12, 1);
    rig.pull().unwrap();
    let ev = rig.events();
    assert!(
        position(&ev, "committed same (true)") < position(&ev, "commit same -> end"),
        "{ev:#?}"
    );
}

#[test]
fn a_moved_cursor_under_a_pipelined_commit_follows_the_stored_cursor() {
    let log = ServerLog::new(items());
    let pages = log.clean_pass(2);
    let rig = Rig::new(ScriptedTransport::with_log(log), 12, 1);
    // Another tab commits page 1 while ours runs.
    let other = {
        let tmp = MemoryStore::new();
        block_on(sync_core::engine::apply_page(
            &tmp,
            pages[0].1.clone(),
            None,
            &rig.config,
        ))
        .unwrap();
        tmp.contents()
    };
    rig.store.inner.before_next_commit(move |c| *c = other);
    let report = rig.pull().unwrap();
    assert!(report.drained);
    assert_eq!(
        report.pages, 2,
        "pages 2 and 3, after the other tab's page 1"
    );
    let clean = Rig::new(ScriptedTransport::with_log(ServerLog::new(items())), 0, 0);
    clean.pull().unwrap();
    assert_eq!(rig.contents(), clean.contents());
}

#[test]
fn a_page_is_reported_when_its_commit_lands_not_when_the_next_page_arrives() {
    // Slow network, quick storage: page 1's commit lands long before page 2 arrives.
    let rig = Rig::new(ScriptedTransport::with_log(ServerLog::new(items())), 1, 20);
    let events = rig.events.clone();
    let report = block_on(pull(
        &rig.store,
        &rig.transport,
        &rig.clock,
        &SeededRandom::new(42),
        &rig.config,
        &mut |p| events.borrow_mut().push(format!("progress {}", p.pages)),
    ))
    .unwrap();
    assert_eq!(report.pages, 3);
    let ev = rig.events();
    assert!(
        position(&ev, "progress 1") < position(&ev, "answered log.2 200"),
        "{ev:#?}"
    );
    assert!(position(&ev, "progress 2") < position(&ev, "answered log.4 200"));
}

#[test]
fn a_warm_page_reads_its_state_before_the_commit_of_the_page_before() {
    // Commits slower than fetches: page 2's read is issued while page 1's commit has not
    // been issued yet, so it does not queue behind it (IndexedDB runs a read created after a
    // commit over the same stores only once that commit is done).
    let rig = warm_rig(12, 1);
    let report = rig.pull().unwrap();
    let ev = rig.events();
    let reads: Vec<usize> = ev
        .iter()
        .enumerate()
        .filter(|(_, e)| *e == "state")
        .map(|(i, _)| i)
        .collect();
    assert!(reads.len() >= 3, "every warm page reads: {ev:#?}");
    // Page 1 is log.6 -> log.8, page 2 log.8 -> log.10, page 3 log.10 -> log.12.
    assert!(reads[1] < position(&ev, "commit log.6 -> log.8"), "{ev:#?}");
    assert!(
        reads[2] < position(&ev, "commit log.8 -> log.10"),
        "{ev:#?}"
    );

    // The same outcome as the sequential loop.
    let sequential = warm_rig(0, 0);
    assert_eq!(report, sequential.pull().unwrap());
    assert_eq!(rig.contents(), sequential.contents());
    assert_eq!(rig.gets(), sequential.gets());
    let ev = sequential.events();
    assert!(position(&ev, "committed log.8 (true)") < position(&ev, "GET log.8"));
}
