//! What the planner needs of a pulled item: its identity, never its row.
//!
//! Planning a page decides from keys, versions and snapshot metadata alone; the rows only
//! have to be written afterwards. Keeping the planner on [`ItemMeta`] (issue 13, design
//! item 1) lets whoever owns the page's row objects — the native engine, or a browser
//! wrapper holding the objects it parsed — compute these few fields and write the rows the
//! plan names by index, without the rows ever crossing into the planner.
//!
//! [`item_meta`] is also where an item that the strict parser would have refused (wrong op
//! for its kind, key missing, snapshot fields missing) is refused, so a hand-built page
//! cannot plan garbage either.

use crate::engine::canonical::{rows_digest, write_canonical_object};
use crate::engine::pull::config::PullConfig;
use crate::engine::pull::integrity::WidgetRef;
use crate::engine::sorting::sort_dedup;
use crate::engine::store::cache::{SnapshotMeta, StateRequest};
use crate::protocol::{Kind, PageError, PullItem, Row};

/// One pulled item as the planner sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemMeta {
    /// An upsert of a versioned kind, with the row's key.
    Upsert {
        kind: Kind,
        key: String,
        version: u64,
        /// A Widget's references, which the integrity gate checks once the row is put
        /// (`None` for every other kind).
        widget: Option<WidgetRef>,
    },
    /// A tombstone of a versioned kind.
    Tombstone {
        kind: Kind,
        id: String,
    },
    /// A snapshot within the size budget.
    Append {
        widget_id: String,
        snapshot: SnapshotMeta,
    },
    /// A snapshot over `max_snapshot_bytes`: dropped and reported.
    TooLarge {
        widget_id: String,
    },
    Reset {
        kind: Kind,
    },
}

fn item_error(index: usize, reason: &str) -> PageError {
    PageError::Item {
        index,
        reason: reason.to_string(),
    }
}

fn row_str<'a>(row: &'a Row, field: &str) -> Option<&'a str> {
    row.get(field).and_then(|v| v.as_str())
}

/// The key of a versioned row, or `None` when its key field is missing.
pub fn row_key(kind: Kind, row: &Row) -> Option<&str> {
    kind.key_field().and_then(|f| row_str(row, f))
}

/// Counts what is written to it; measures a serialization without keeping it.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The size of `row` serialized as compact JSON, without building the text. Numbers count
/// as JavaScript writes them (`es_number.rs`; key order does not change a length), so the
/// browser's decoder, which measures `JSON.stringify` of the object it parsed, draws the
/// snapshot budget at exactly the same byte.
fn serialized_len(row: &Row) -> usize {
    let mut count = ByteCount(0);
    match write_canonical_object(row, &mut count) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

/// The metadata of a snapshot row within the size budget.
fn snapshot_meta(index: usize, row: &Row) -> Result<SnapshotMeta, PageError> {
    let field = |name: &str| {
        row_str(row, name)
            .map(str::to_string)
            .ok_or_else(|| item_error(index, &format!("snapshot without {name}")))
    };
    let rows = row
        .get("rows")
        .and_then(|v| v.as_array())
        .ok_or_else(|| item_error(index, "snapshot rows is not an array"))?;
    Ok(SnapshotMeta {
        generated_at: field("generatedAt")?,
        params_hash: field("paramsHash")?,
        rows_digest: rows_digest(rows),
    })
}

/// The planner's view of item `index` of a page (after privacy stripping: the size budget
/// applies to what would be stored).
pub fn item_meta(
    index: usize,
    item: &PullItem,
    config: &PullConfig,
) -> Result<ItemMeta, PageError> {
    Ok(match item {
        PullItem::Upsert { kind, row, version } => {
            if !kind.is_versioned() {
                return Err(item_error(index, "upsert of an unversioned kind"));
            }
            let key = row_key(*kind, row).ok_or_else(|| item_error(index, "row without key"))?;
            ItemMeta::Upsert {
                kind: *kind,
                key: key.to_string(),
                version: *version,
                widget: (*kind == Kind::Widget).then(|| WidgetRef::of_row(key, row)),
            }
        }
        PullItem::Tombstone { kind, id } => {
            if !kind.is_versioned() {
                return Err(item_error(index, "tombstone of an unversioned kind"));
            }
            ItemMeta::Tombstone {
                kind: *kind,
                id: id.clone(),
            }
        }
        PullItem::Append { kind, row } => {
            if *kind != Kind::WidgetSnapshot {
                return Err(item_error(
                    index,
                    "append of a kind that is not WidgetSnapshot",
                ));
            }
            let widget_id = row_str(row, "widgetId")
                .ok_or_else(|| item_error(index, "snapshot without widgetId"))?
                .to_string();
            if serialized_len(row) > config.max_snapshot_bytes {
                ItemMeta::TooLarge { widget_id }
            } else {
                ItemMeta::Append {
                    widget_id,
                    snapshot: snapshot_meta(index, row)?,
                }
            }
        }
        PullItem::Reset { kind } => ItemMeta::Reset { kind: *kind },
    })
}

/// What the planner must know about local state to plan `metas`: the version of every key
/// an upsert or tombstone names, the held snapshots of every widget an append or a Widget
/// tombstone names; each once, sorted.
pub fn metas_request(metas: &[ItemMeta]) -> StateRequest {
    let mut keys = Vec::new();
    let mut widgets = Vec::new();
    for meta in metas {
        match meta {
            ItemMeta::Upsert { kind, key, .. } => {
                keys.push((*kind, key.clone()));
            }
            ItemMeta::Tombstone { kind, id } => {
                keys.push((*kind, id.clone()));
                if *kind == Kind::Widget {
                    widgets.push(id.clone());
                }
            }
            ItemMeta::Append { widget_id, .. } | ItemMeta::TooLarge { widget_id } => {
                widgets.push(widget_id.clone());
            }
            ItemMeta::Reset { .. } => {}
        }
    }
    sort_dedup(&mut keys);
    sort_dedup(&mut widgets);
    StateRequest { keys, widgets }
}
