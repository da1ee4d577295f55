//! A pulled page never lowers a stored version (PROTOCOL §3 monotonicity), even when another
//! context wrote the row between the page's state read and its commit — a push settling a
//! rename writes the Query row without touching the cursor, so the cursor compare-and-set
//! cannot see it. The version check therefore happens inside the commit itself.

use crate::support::*;
use serde_json::json;
use sync_core::engine::{apply_page, Store};
use sync_core::protocol::{Kind, PullItem};

fn query(version: u64, name: &str) -> PullItem {
    upsert(
        Kind::Query,
        version,
        json!({"id": "qry_1", "ownerId": USER, "name_i18n": {"default": name}}),
    )
}

#[test]
fn a_row_written_after_the_state_read_is_not_lowered_by_the_commit() {
    let h = Harness::with_log(vec![]);
    let config = h.config.clone();
    block_on(apply_page(
        &h.store,
        page(vec![query(1, "v1")], "c1", false),
        None,
        &config,
    ))
    .unwrap();
    // Between this page's state read (which saw version 1) and its commit, another tab
    // settles a pushed rename: version 5.
    h.store.before_next_commit(|c| {
        let row = c.rows.get_mut(&(Kind::Query, "qry_1".to_string())).unwrap();
        row.version = 5;
        row.row
            .insert("name_i18n".into(), json!({"default": "renamed"}));
    });
    block_on(apply_page(
        &h.store,
        page(vec![query(2, "v2")], "c2", false),
        Some("c1"),
        &config,
    ))
    .unwrap();
    let held = block_on(h.store.row(Kind::Query, "qry_1"))
        .unwrap()
        .unwrap();
    assert_eq!(held.version, 5);
    assert_eq!(held.row["name_i18n"]["default"], "renamed");
    assert_eq!(
        h.cursor().as_deref(),
        Some("c2"),
        "the page itself committed"
    );
}

/// A call that starts from the held index knows every version at the stored settle epoch,
/// so its plans carry that epoch instead of re-checking Query versions in the commit.
#[test]
fn a_settlement_during_a_call_from_the_index_refuses_the_commit_and_the_call_replans() {
    let mut h = Harness::with_log(vec![query(1, "v1")]);
    h.pull().unwrap();
    // The server moves on; meanwhile (after this call read the index) a pushed rename
    // settles: version 5, and the settle epoch moves.
    h.transport.log().unwrap().extend([query(2, "v2")]);
    h.store.before_next_commit(|c| {
        let row = c.rows.get_mut(&(Kind::Query, "qry_1".to_string())).unwrap();
        row.version = 5;
        row.row
            .insert("name_i18n".into(), json!({"default": "renamed"}));
        c.meta.settled_epoch += 1;
    });
    let report = h.pull().unwrap();
    let held = block_on(h.store.row(Kind::Query, "qry_1"))
        .unwrap()
        .unwrap();
    assert_eq!(held.version, 5, "the settled version is not lowered");
    assert_eq!(held.row["name_i18n"]["default"], "renamed");
    assert_eq!(
        report.duplicates_skipped, 1,
        "replanned on the row as it is now"
    );
    assert_eq!(report.applied.get(&Kind::Query), None);
    assert!(report.drained);
}

#[test]
fn without_the_index_a_commit_still_checks_query_versions_itself() {
    let mut h = Harness::with_log(vec![query(1, "v1")]);
    h.pull().unwrap();
    h.transport.log().unwrap().extend([query(3, "v3")]);
    // A database without the index: the call reads versions per page, at no known epoch.
    h.store.held_index_records().clear();
    h.store.before_next_commit(|c| {
        // Written after the read and recorded nowhere else: the in-commit check alone keeps it.
        c.rows
            .get_mut(&(Kind::Query, "qry_1".to_string()))
            .unwrap()
            .version = 9;
    });
    h.pull().unwrap();
    let held = block_on(h.store.row(Kind::Query, "qry_1"))
        .unwrap()
        .unwrap();
    assert_eq!(held.version, 9);
}

/// A plan without Query puts cannot lower a version a settlement raised, so it carries no
/// epoch: a settlement during the call does not refuse it (a refusal costs the call its cache —
/// per-page reads for the rest of it). Its Query deletes and resets take the rows whatever
/// their versions, as a refused-and-replanned page would.
#[test]
fn a_settlement_does_not_refuse_a_page_without_query_puts() {
    let other = |version: u64| {
        upsert(
            Kind::Query,
            version,
            json!({"id": "qry_2", "ownerId": USER, "name_i18n": {"default": "other"}}),
        )
    };
    for last in [tombstone(Kind::Query, "qry_2"), reset(Kind::Query)] {
        let mut h = Harness::with_log(vec![query(1, "v1"), other(1)]);
        h.pull().unwrap();
        h.transport
            .log()
            .unwrap()
            .extend([dashboard("dsh_1", 1, &["t"]), last.clone()]);
        h.store.before_next_commit(|c| {
            c.rows
                .get_mut(&(Kind::Query, "qry_2".to_string()))
                .unwrap()
                .version = 5;
            c.meta.settled_epoch += 1;
        });
        let report = h.pull().unwrap();
        assert_eq!(report.applied.get(&Kind::Dashboard), Some(&1));
        assert_eq!(
            h.store.state_reads(),
            0,
            "the page was not refused and re-read ({last:?})"
        );
        assert!(block_on(h.store.row(Kind::Query, "qry_2"))
            .unwrap()
            .is_none());
    }
}
