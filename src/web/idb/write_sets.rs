//! The write sets shared by a page's commit (`idb/page_commit.rs`), the sweep that ends a
//! replacement (`idb/replacement.rs`), the guarded puts (`idb/version_guard.rs`) and wipes
//! (`idb/store.rs`): which stores a set of kinds spans, the deletes of rows and snapshots,
//! and the row objects a put holds. A leaf, so those files need not import each other.

use crate::engine::sort_dedup;
use crate::protocol::Kind;
use crate::web::idb::page_decode::JsRow;
use crate::web::idb::records::WriteOp;
use crate::web::idb::schema::store_name;
use js_sys::Array;

/// The object stores holding `kinds`, once each.
pub fn stores_of_kinds(kinds: &[Kind]) -> Vec<&'static str> {
    let mut stores: Vec<&'static str> = kinds.iter().map(|kind| store_name(*kind)).collect();
    sort_dedup(&mut stores);
    stores
}

/// Appends `row`'s object to `rows`; returns its index.
pub fn hold<P: Clone + Into<JsRow>>(rows: &Array, row: &P) -> u32 {
    let JsRow(object) = row.clone().into();
    rows.push(&object) - 1
}

/// Deletes of rows and of snapshots, in that order: a page's own deletes, and the sweep that
/// ends a replacement.
pub fn delete_writes<'a>(
    rows: &'a [(Kind, String)],
    snapshots: &'a [(String, String)],
) -> Vec<WriteOp<'a>> {
    let snapshot_store = store_name(Kind::WidgetSnapshot);
    let mut writes = Vec::with_capacity(rows.len() + snapshots.len());
    writes.extend(
        rows.iter()
            .map(|(kind, key)| WriteOp::delete_row(store_name(*kind), key)),
    );
    writes.extend(
        snapshots
            .iter()
            .map(|(widget, at)| WriteOp::delete_snapshot(snapshot_store, widget, at)),
    );
    writes
}
