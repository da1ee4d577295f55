//! A pulled page never lowers a stored version, checked inside the page's transaction.
//!
//! The planner decided each put against versions read in an earlier, readonly transaction.
//! For most kinds that is safe: every writer of their rows is a page commit, and the cursor
//! compare-and-set refuses a page whose state read another page overtook. Query rows are
//! also written by a push settling a rename (`idb/outbox_settle.rs`), which does not move
//! the cursor; so a page's Query puts re-read the stored versions in the commit itself and
//! only the newer ones are issued — unless the plan is exact at a settle epoch
//! (`ApplyPlan::settled_epoch`): its commit is then refused if a settlement landed since,
//! and its Query puts go with the others.

use crate::engine::{ApplyPlan, StoredRow};
use crate::protocol::Kind;
use crate::web::idb::batch::{start_read_versions, Pending};
use crate::web::idb::error::IdbError;
use crate::web::idb::page_decode::JsRow;
use crate::web::idb::records::{encode_writes, RecordRef, WriteOp};
use crate::web::idb::schema::store_name;
use crate::web::idb::transaction::WriteTransaction;
use crate::web::idb::write_sets::hold;
use js_sys::Array;

/// A page's guarded puts, encoded before the transaction opens.
pub struct GuardedPuts<'a, P> {
    puts: Vec<&'a StoredRow<P>>,
    writes: Array,
    /// The page's row objects, which the writes name by index.
    rows: Array,
}

impl<'a, P: Clone + Into<JsRow>> GuardedPuts<'a, P> {
    /// Encodes the puts of `plan` its commit checks (`ApplyPlan::checks_in_commit`),
    /// appending their row objects to `rows` (the page's, shared with its other puts).
    pub fn encode(plan: &'a ApplyPlan<P>, rows: &Array) -> Result<GuardedPuts<'a, P>, IdbError> {
        let puts: Vec<&StoredRow<P>> = plan
            .row_puts
            .iter()
            .filter(|r| plan.checks_in_commit(r.kind))
            .collect();
        let mut ops = Vec::with_capacity(puts.len());
        for row in &puts {
            let index = hold(rows, &row.row);
            let record = RecordRef::held_row(row)?;
            ops.push(WriteOp::put_held(
                store_name(row.kind),
                record,
                index,
                false,
            ));
        }
        Ok(GuardedPuts {
            puts,
            writes: encode_writes(&ops)?,
            rows: rows.clone(),
        })
    }

    /// Issues, inside `tx`, the reads of the stored versions (not awaited).
    pub fn start(&self, tx: &WriteTransaction) -> GuardReads {
        if self.puts.is_empty() {
            return GuardReads(None);
        }
        let keys: Vec<(Kind, &str)> = self.puts.iter().map(|r| (r.kind, r.key.as_str())).collect();
        GuardReads(Some(start_read_versions(tx.raw(), &keys)))
    }

    /// Issues the puts that are newer than the stored `versions` ([`GuardReads::finish`]),
    /// at most `limit` of them (the atomicity test hook's budget).
    pub fn issue(
        &self,
        tx: &mut WriteTransaction,
        versions: Vec<Option<u64>>,
        limit: usize,
    ) -> Result<(), IdbError> {
        if self.puts.is_empty() {
            return Ok(());
        }
        let newer = Array::new();
        for (i, (row, held)) in self.puts.iter().zip(versions).enumerate() {
            if held.is_none_or(|v| v < row.version) {
                newer.push(&self.writes.get(i as u32));
            }
        }
        tx.issue_with_rows(&newer, &self.rows, limit)?;
        Ok(())
    }
}

/// The version reads of [`GuardedPuts::start`], issued and not yet awaited.
pub struct GuardReads(Option<Pending>);

impl GuardReads {
    /// The stored versions, in the order of the guarded puts (none when there are none).
    pub async fn finish(self) -> Result<Vec<Option<u64>>, IdbError> {
        match self.0 {
            Some(pending) => pending.versions().await,
            None => Ok(Vec::new()),
        }
    }
}
