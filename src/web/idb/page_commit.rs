//! A pulled page's commit in IndexedDB ([`Store::commit_page`](crate::engine::Store)): one
//! readwrite transaction holding the page's writes and the new cursor, or nothing
//! (PROTOCOL §3 atomicity).
//!
//! Every record is encoded before the transaction opens. Inside it the cursor compare-and-set
//! (with the page serial's, which it bumps, and the settle epoch's) is the first request (a mismatch aborts the transaction from that request's success
//! handler), every clear/delete/put is issued right behind it without awaiting, the Query
//! puts once their in-commit version check has answered (`idb/version_guard.rs`), then the
//! replacement bookkeeping (`idb/replacement.rs`) and the cursor; a single commit await
//! reports whether the browser really committed.

use crate::engine::{sort_dedup, ApplyPlan, StoreError, Swept};
use crate::protocol::{Kind, KindSet};
use crate::web::idb::batch::{check_cursor, CountCheck, CursorCheck};
use crate::web::idb::error::IdbError;
use crate::web::idb::handle::Handle;
use crate::web::idb::page_decode::JsRow;
use crate::web::idb::records::{encode_writes, RecordRef, WriteOp};
use crate::web::idb::replacement;
use crate::web::idb::schema::{store_name, CURSOR_KEY, HELD_AT_KEY, HELD_INDEX_STORE, META_STORE};
use crate::web::idb::transaction::{Durability, WriteTransaction};
use crate::web::idb::version_guard::GuardedPuts;
use crate::web::idb::write_sets::{delete_writes, hold, stores_of_kinds};
use js_sys::Array;

impl Handle {
    pub(super) async fn write_page<P: Clone + Into<JsRow>>(
        &self,
        plan: &ApplyPlan<P>,
        expected_cursor: Option<&str>,
        next_cursor: &str,
    ) -> Result<Swept, StoreError> {
        // Everything expensive happens before the transaction exists.
        let clears = clear_stores(plan);
        let rows = Array::new();
        // The puts that need an in-commit version read (`ApplyPlan::checks_in_commit`) are
        // `guarded`; the others go with the page's writes.
        let writes = encode_page(plan, &rows)?;
        let guarded = GuardedPuts::encode(plan, &rows)?;
        let mut stores = page_stores(plan);
        stores.extend(replacement::sweep_stores(&plan.replacement));
        let held_index = self.has_held_index()?;
        if held_index {
            stores.push(HELD_INDEX_STORE);
        }
        sort_dedup(&mut stores);
        let mut tx = self.begin_write(&stores, Durability::Relaxed)?;

        // The compare-and-set is the transaction's first request; its success handler aborts
        // the transaction on a mismatch, before any request issued after it has run. So the
        // page's writes are issued right behind it, without awaiting: the browser clones
        // them while an earlier commit is still being written.
        let flag_keys = [replacement::REPLACING_KEY, replacement::ORPHAN_SWEEP_KEY];
        let counts = CountCheck::serial_and_epoch(plan.page_serial, true, plan.settled_epoch);
        let check = check_cursor(
            tx.raw(),
            META_STORE,
            CURSOR_KEY,
            expected_cursor,
            &flag_keys,
            &counts,
        );

        // The test hook: issue only the first `fail_after` writes, then abort.
        let fail_after = self.fail_after.take();
        let budget = |tx: &WriteTransaction| {
            fail_after.map_or(usize::MAX, |n| n.saturating_sub(tx.writes()))
        };
        let issued = issue_page_writes(&mut tx, &clears, &writes, &rows, budget);
        let versions = guarded.start(&tx);
        // Every request issued is awaited before returning, whatever happened.
        let check = check.await;
        let versions = versions.finish().await;
        let flags = match check? {
            CursorCheck::Matched(flags) => replacement::Flags::decode(&flags)?,
            CursorCheck::Moved => {
                let _ = tx.commit().await;
                return Err(StoreError::CursorMoved);
            }
            CursorCheck::Corrupt => {
                let _ = tx.commit().await;
                let what = "the stored cursor is not a string, or a count of meta not a count";
                return Err(IdbError::Decode(what.into()).into());
            }
        };
        issued?;
        let limit = budget(&tx);
        guarded.issue(&mut tx, versions?, limit)?;
        let swept = replacement::issue_replacement(
            &mut tx,
            &plan.replacement,
            flags,
            expected_cursor,
            next_cursor,
        )
        .await?;
        if budget(&tx) > 0 {
            tx.put(META_STORE, &next_cursor.into(), Some(&CURSOR_KEY.into()))?;
            if held_index {
                // The held index is exact only until the next page commit
                // (`engine/store/held_index.rs`).
                tx.delete(HELD_INDEX_STORE, &HELD_AT_KEY.into())?;
            }
        }
        if fail_after.is_some() {
            tx.abort();
        }
        tx.commit().await?;
        Ok(swept)
    }
}

/// Issues a page's clears, then its deletes and puts, at most `budget` of them (the test
/// hook's).
fn issue_page_writes(
    tx: &mut WriteTransaction,
    clears: &[&'static str],
    writes: &Array,
    rows: &Array,
    budget: impl Fn(&WriteTransaction) -> usize,
) -> Result<(), IdbError> {
    for store in clears {
        if budget(tx) == 0 {
            return Ok(());
        }
        tx.clear(store)?;
    }
    tx.issue_with_rows(writes, rows, budget(tx))?;
    Ok(())
}

/// Every object store a page writes to, plus `meta` for the cursor.
fn page_stores<P>(plan: &ApplyPlan<P>) -> Vec<&'static str> {
    let mut kinds: KindSet = plan.clear_kinds.iter().copied().collect();
    kinds.extend(plan.row_deletes.iter().map(|(kind, _)| *kind));
    kinds.extend(plan.row_puts.iter().map(|row| row.kind));
    if !plan.snapshot_deletes.is_empty() || !plan.snapshot_puts.is_empty() {
        kinds.insert(Kind::WidgetSnapshot);
    }
    let kinds: Vec<Kind> = kinds.into_iter().collect();
    let mut stores = stores_of_kinds(&kinds);
    stores.push(META_STORE);
    stores
}

/// The stores the page resets, cleared before anything else is written.
fn clear_stores<P>(plan: &ApplyPlan<P>) -> Vec<&'static str> {
    stores_of_kinds(&plan.clear_kinds)
}

/// The page's deletes and puts in plan order, as one JS array for `issueWrites`; the new
/// cursor is written after them. Each put's row object is appended to `rows` and the put
/// names its index (`putHeld`): the objects the page decoder made are stored as they are.
fn encode_page<P: Clone + Into<JsRow>>(
    plan: &ApplyPlan<P>,
    rows: &Array,
) -> Result<Array, IdbError> {
    let snapshots = store_name(Kind::WidgetSnapshot);
    let mut writes = Vec::with_capacity(
        plan.row_deletes.len()
            + plan.snapshot_deletes.len()
            + plan.row_puts.len()
            + plan.snapshot_puts.len(),
    );
    writes.extend(delete_writes(&plan.row_deletes, &plan.snapshot_deletes));
    // Puts checked in the commit are issued by `GuardedPuts`, after their version read.
    for row in plan
        .row_puts
        .iter()
        .filter(|r| !plan.checks_in_commit(r.kind))
    {
        let index = hold(rows, &row.row);
        let record = RecordRef::held_row(row)?;
        let widget = row.kind == Kind::Widget;
        writes.push(WriteOp::put_held(
            store_name(row.kind),
            record,
            index,
            widget,
        ));
    }
    for snapshot in &plan.snapshot_puts {
        let index = hold(rows, &snapshot.row);
        let record = RecordRef::held_snapshot(snapshot);
        writes.push(WriteOp::put_held(snapshots, record, index, false));
    }
    encode_writes(&writes)
}
