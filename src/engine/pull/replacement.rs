//! A pull that starts without a cursor is a full replacement (PROTOCOL §9.1).
//!
//! Why: a server sends no tombstones on a cold pull, so a dashboard deleted, unshared or made
//! invisible while the client held no cursor (first start, after a 403 or a 410, after a reset
//! database) would otherwise stay on the device forever, with its widgets and snapshots.
//!
//! How (mark and sweep, decided inside each page's transaction so it sees exactly the state
//! the cursor compare-and-set vouches for):
//! - a page committed with no expected cursor starts a replacement: the store drops the marks
//!   of any earlier, abandoned one and sets `SyncMeta::replacing` — unless the store held
//!   nothing when the pull began ([`ReplacementStep::into_empty`]): then only the orphan
//!   snapshots can go, and it starts an orphan sweep (below) instead;
//! - while replacing, every page leaves a mark for each versioned key it *sent* (upserts,
//!   whether or not they were newer than the held row), persisted with the page, so a
//!   replacement interrupted by a crash or a closed tab resumes from its stored cursor and
//!   still knows what the earlier pages sent;
//! - the page that drains it then deletes, in the same transaction, every held row that was
//!   not sent and every snapshot whose widget is no longer held (the history of a widget that
//!   was sent stays, under the retention rule), drops the marks and clears `replacing`.
//!
//! Until the last page commits, the old rows stay readable. A reset of the Widget kind in an
//! incremental pull uses the same end step for its snapshots only (`SyncMeta::orphan_sweep`).
//!
//! [`plan_sweep`] is the one statement of what the sweep removes; `MemoryStore` and the
//! IndexedDB store both call it on what they hold.

use crate::engine::sorting::sort_dedup;
use crate::protocol::{Kind, KindSet};

/// What one page tells the store about replacement. Which of it applies (a replacement in
/// progress or not) the store decides from its own state, inside the page's transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplacementStep {
    /// Versioned keys the page sent as upserts, in page order.
    pub sent: Vec<(Kind, String)>,
    /// The page says `drained`: a replacement (or an orphan sweep) in progress ends with it.
    pub drains: bool,
    /// The page resets the Widget kind: snapshots of widgets that do not come back go at the
    /// end of the pull.
    pub resets_widgets: bool,
    /// The page begins a replacement (it is committed with no expected cursor) into a store
    /// that holds no row of any kind, as the plan's checked page serial vouches
    /// (`ApplyPlan::page_serial`: nothing landed since the call saw it empty). Every row held
    /// when it drains was then sent by it, so the only thing its sweep can remove is a
    /// snapshot whose widget is not held: the store starts an orphan sweep instead
    /// (`SyncMeta::orphan_sweep`) — no marks per page, and at the end only the widget keys
    /// are read, not every store's.
    pub into_empty: bool,
}

/// What a sweep removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swept {
    /// Rows held but not sent by the replacement.
    pub rows: Vec<(Kind, String)>,
    /// (`widget_id`, `generated_at`) of snapshots whose widget is not held any more.
    pub snapshots: Vec<(String, String)>,
}

impl Swept {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.snapshots.is_empty()
    }

    /// The kinds the sweep changed.
    pub fn kinds(&self) -> KindSet {
        let mut kinds: KindSet = self.rows.iter().map(|(k, _)| *k).collect();
        if !self.snapshots.is_empty() {
            kinds.insert(Kind::WidgetSnapshot);
        }
        kinds
    }
}

/// What the sweep at the end of a replacement (or of an orphan sweep) removes, given what is
/// held once the drained page's own writes are applied.
///
/// - `held_rows`: every held versioned row;
/// - `sent`: the replacement's marks (every page's, this one's included), sorted without
///   repeats (as [`sort_dedup`] leaves them: looked up by binary search), or `None` for an
///   orphan-only sweep, which keeps every row;
/// - `held_snapshots`: the keys of every held snapshot.
pub fn plan_sweep<'a>(
    held_rows: impl IntoIterator<Item = &'a (Kind, String)>,
    sent: Option<&[(Kind, String)]>,
    held_snapshots: impl IntoIterator<Item = &'a (String, String)>,
) -> Swept {
    let mut swept = Swept::default();
    let mut widgets = Vec::new();
    for key in held_rows {
        if sent.is_some_and(|sent| sent.binary_search(key).is_err()) {
            swept.rows.push(key.clone());
        } else if key.0 == Kind::Widget {
            widgets.push(key.1.as_str());
        }
    }
    sort_dedup(&mut widgets);
    swept.snapshots = held_snapshots
        .into_iter()
        .filter(|(widget, _)| widgets.binary_search(&widget.as_str()).is_err())
        .cloned()
        .collect();
    swept
}

/// A mark as the IndexedDB store persists it: `"<Kind>/<key>"` (kind names hold no `/`).
pub fn encode_mark(kind: Kind, key: &str) -> String {
    format!("{}/{key}", kind.as_str())
}

/// The inverse of [`encode_mark`]; `None` for text no version of this code wrote.
pub fn decode_mark(mark: &str) -> Option<(Kind, String)> {
    let (kind, key) = mark.split_once('/')?;
    Some((kind.parse().ok()?, key.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: Kind, k: &str) -> (Kind, String) {
        (kind, k.to_string())
    }

    #[test]
    fn rows_not_sent_and_snapshots_of_gone_widgets_are_swept() {
        let held = [
            key(Kind::Dashboard, "d1"),
            key(Kind::Dashboard, "d2"),
            key(Kind::Widget, "w1"),
            key(Kind::Widget, "w2"),
        ];
        let sent = [key(Kind::Dashboard, "d1"), key(Kind::Widget, "w1")];
        let snaps = [
            ("w1".to_string(), "t1".to_string()),
            ("w2".to_string(), "t1".to_string()),
            ("w9".to_string(), "t1".to_string()),
        ];
        let swept = plan_sweep(&held, Some(&sent[..]), &snaps);
        assert_eq!(
            swept.rows,
            vec![key(Kind::Dashboard, "d2"), key(Kind::Widget, "w2")]
        );
        assert_eq!(
            swept.snapshots,
            vec![
                ("w2".to_string(), "t1".to_string()),
                ("w9".to_string(), "t1".to_string())
            ]
        );
        assert_eq!(
            swept.kinds(),
            [Kind::Dashboard, Kind::Widget, Kind::WidgetSnapshot].into()
        );
    }

    #[test]
    fn an_orphan_sweep_keeps_every_row() {
        let held = [key(Kind::Dashboard, "d2"), key(Kind::Widget, "w1")];
        let snaps = [("w2".to_string(), "t".to_string())];
        let swept = plan_sweep(&held, None, &snaps);
        assert!(swept.rows.is_empty());
        assert_eq!(swept.snapshots.len(), 1);
    }

    #[test]
    fn marks_round_trip_and_garbage_is_refused() {
        let mark = encode_mark(Kind::Query, "qry_1/x");
        assert_eq!(decode_mark(&mark), Some(key(Kind::Query, "qry_1/x")));
        assert_eq!(decode_mark("Bogus/x"), None);
        assert_eq!(decode_mark("no-slash"), None);
    }
}
