//! The held index: what a pull call needs to know of local state (every held key's version,
//! every held snapshot's metadata, every held widget's references), kept beside the rows so
//! that the next call — in this tab or the next leader — starts knowing it (issue 13, design
//! item 2).
//!
//! Without it, a warm call (rows held, a cursor stored) reads the held version of every key a
//! page names before planning it: ≈ 1 700 whole records structured-cloned per 2 000-item page,
//! most of a warm pull's time. With it, a warm call reads one record per kind at its start and
//! nothing per page, like a cold start.
//!
//! Why it is exact: the index is saved with the cursor it is exact at (`at`), in a transaction that
//! checks the stored cursor and page serial are the ones the saving call knew
//! (`Store::save_held_index`; the serial catches another context's page that came back with the
//! cursor it was fetched with), and every page commit deletes `at` in its own transaction
//! (`Store::commit_page`). So an index exists only while no page has
//! landed since its save: a crash between a call's last commit and its save, another context's
//! page, a 410 or 403 wipe (which drops it all) leave none, and the next call reads per page and
//! rebuilds it. Deleting rather than relying on the cursor moving matters: PROTOCOL §3 does not
//! forbid a page that changes rows from returning the cursor it was fetched with (or an earlier
//! one), and an index checked only against the cursor would then be trusted without that page's
//! writes. The one writer of rows that does not move the cursor is a settled rename: it raises a
//! held Query's version and never creates a row (`OutboxStore::settle_batch` updates held rows
//! only). In the same transaction it records the raised version under [`raised_version_key`] (and
//! bumps the settle epoch), and loading takes the higher of that and the part's version for a key
//! the part holds (a key it does not hold was deleted by a later page: the raise is moot). A save
//! made at a known settle epoch rewrites the Query part with every raise folded in and drops the
//! raised records in the same transaction, refused if the epoch moved since: a raise never outlives
//! a later reset or tombstone that took its row back to a lower version. Without it, the next pull
//! would plan to re-apply the pushed versions it brings back (the in-commit version check would
//! skip the writes, but the call would report them applied).
//!
//! Stored as one record per kind (so a call rewrites only the kinds it changed) plus `at`.
//! Each kind's record is JSON text — one string to structured-clone, one parse
//! (`crate::json`):
//! - versioned kinds: `[[key, version], …]`; Widget: `[[key, version, dashboardId|null,
//!   metricKey|null], …]` (the references the integrity gate checks);
//! - `WidgetSnapshot`: `[[widgetId, generatedAt, paramsHash, rowsDigest], …]`, one per held
//!   snapshot.

use crate::engine::store::cache::{SnapshotMeta, WidgetRef};
use crate::engine::store::json_rows::{read_rows, Field};
use crate::protocol::Kind;

/// One kind's part of the held index: everything of that kind that is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPart {
    pub kind: Kind,
    /// Versioned kinds: every held key with its version.
    pub versions: Vec<(String, u64)>,
    /// Widget only: the references of every held widget.
    pub widgets: Vec<WidgetRef>,
    /// WidgetSnapshot only: every held snapshot's widget and metadata.
    pub snapshots: Vec<(String, SnapshotMeta)>,
}

/// A part's record could not be read back (something this code did not write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPartError(pub String);

impl HeldPart {
    /// An empty part of `kind`.
    pub fn empty(kind: Kind) -> HeldPart {
        HeldPart {
            kind,
            versions: Vec::new(),
            widgets: Vec::new(),
            snapshots: Vec::new(),
        }
    }

    /// The part's record (see the module doc for the shape).
    pub fn to_json(&self) -> String {
        match self.kind {
            Kind::WidgetSnapshot => {
                let rows: Vec<[&str; 4]> = self
                    .snapshots
                    .iter()
                    .map(|(widget, m)| {
                        [widget, &m.generated_at, &m.params_hash, &m.rows_digest]
                            .map(|s| s.as_str())
                    })
                    .collect();
                serde_json::to_string(&rows)
            }
            Kind::Widget => {
                let rows: Vec<(&str, u64, Option<&str>, Option<&str>)> = self
                    .versions
                    .iter()
                    .zip(&self.widgets)
                    .map(|((key, version), w)| {
                        (
                            key.as_str(),
                            *version,
                            w.dashboard_id.as_deref(),
                            w.metric_key.as_deref(),
                        )
                    })
                    .collect();
                serde_json::to_string(&rows)
            }
            _ => serde_json::to_string(&self.versions),
        }
        .expect("strings and integers always serialize")
    }

    /// Reads back a part of `kind` written by [`to_json`](Self::to_json) (or by the store's
    /// scan, which writes the same shape), with `json_rows` (its module doc says why not serde).
    pub fn from_json(kind: Kind, text: &str) -> Result<HeldPart, HeldPartError> {
        let bad = |e: String| HeldPartError(format!("{}: {e}", kind.as_str()));
        let width = match kind {
            Kind::WidgetSnapshot | Kind::Widget => 4,
            _ => 2,
        };
        let fields = read_rows(text, width).map_err(bad)?;
        let mut part = HeldPart::empty(kind);
        for row in fields.chunks_exact(width) {
            if kind == Kind::WidgetSnapshot {
                let [widget, generated_at, params_hash, rows_digest] =
                    [0, 1, 2, 3].map(|i| string(&row[i]));
                let (Some(widget), Some(generated_at), Some(params_hash), Some(rows_digest)) =
                    (widget, generated_at, params_hash, rows_digest)
                else {
                    return Err(bad("a snapshot's fields are strings".into()));
                };
                let meta = SnapshotMeta {
                    generated_at,
                    params_hash,
                    rows_digest,
                };
                part.snapshots.push((widget, meta));
                continue;
            }
            let (Some(key), Field::Int(version)) = (string(&row[0]), &row[1]) else {
                return Err(bad("a key and its version".into()));
            };
            if kind == Kind::Widget {
                let reference = |f: &Field| match f {
                    Field::Null => Ok(None),
                    f => string(f).map(Some).ok_or_else(|| bad("a reference".into())),
                };
                part.widgets.push(WidgetRef {
                    key: key.clone(),
                    dashboard_id: reference(&row[2])?,
                    metric_key: reference(&row[3])?,
                });
            }
            part.versions.push((key, *version));
        }
        Ok(part)
    }
}

/// The text of a string field.
fn string(field: &Field) -> Option<String> {
    match field {
        Field::Str(s) => Some(s.clone()),
        _ => None,
    }
}

/// A stored index: the cursor it is exact at and its parts. Usable only when `at` is the
/// stored cursor and every kind has its part ([`is_whole`](Self::is_whole)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldIndex {
    pub at: String,
    pub parts: Vec<HeldPart>,
    /// Query versions raised by settled renames since the parts were saved (see the module
    /// doc), by query id.
    pub raised: Vec<(String, u64)>,
}

/// Every kind's part read from the rows themselves ([`Store::scan_held`]), with where the
/// store stood when they were read: the index they make may be saved exact there.
///
/// [`Store::scan_held`]: crate::engine::Store::scan_held
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldScan {
    pub cursor: Option<String>,
    pub settled_epoch: u64,
    pub page_serial: u64,
    pub parts: Vec<HeldPart>,
}

/// The index record under which a settled rename records the version it gave query `id`
/// (the record's value is that version): the kind's name, a NUL (no kind name holds one),
/// the id.
pub fn raised_version_key(id: &str) -> String {
    format!("{}\u{0}{id}", Kind::Query.as_str())
}

/// The query id of a [`raised_version_key`], `None` for any other record's key.
pub fn raised_version_id(key: &str) -> Option<&str> {
    key.strip_prefix(Kind::Query.as_str())?
        .strip_prefix('\u{0}')
}

impl HeldIndex {
    /// Whether every kind has a part.
    pub fn is_whole(&self) -> bool {
        Kind::ALL
            .iter()
            .all(|kind| self.parts.iter().any(|p| p.kind == *kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(at: &str) -> SnapshotMeta {
        SnapshotMeta {
            generated_at: at.into(),
            params_hash: "p".into(),
            rows_digest: "d".into(),
        }
    }

    #[test]
    fn every_kind_of_part_reads_back_as_written() {
        let mut query = HeldPart::empty(Kind::Query);
        query.versions = vec![("q\u{0}1\"\n".into(), 3), ("q2".into(), (1 << 53) - 1)];
        let mut widget = HeldPart::empty(Kind::Widget);
        widget.versions = vec![("w1".into(), 1), ("w2".into(), 2)];
        widget.widgets = vec![
            WidgetRef {
                key: "w1".into(),
                dashboard_id: Some("d1".into()),
                metric_key: None,
            },
            WidgetRef {
                key: "w2".into(),
                dashboard_id: None,
                metric_key: Some("adr".into()),
            },
        ];
        let mut snapshots = HeldPart::empty(Kind::WidgetSnapshot);
        snapshots.snapshots = vec![("w1".into(), meta("2026-01-01T00:00:00Z"))];
        for part in [query, widget, snapshots, HeldPart::empty(Kind::Dashboard)] {
            assert_eq!(HeldPart::from_json(part.kind, &part.to_json()), Ok(part));
        }
    }

    #[test]
    fn a_record_of_another_shape_is_refused() {
        assert!(HeldPart::from_json(Kind::Query, "[[\"q\",-1]]").is_err());
        assert!(HeldPart::from_json(Kind::WidgetSnapshot, "[[\"w\",\"g\"]]").is_err());
        assert!(HeldPart::from_json(Kind::Widget, "{}").is_err());
    }
}
