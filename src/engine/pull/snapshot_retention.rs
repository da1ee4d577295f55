//! The snapshots one widget holds, and the rules for taking in new ones (PROTOCOL §6):
//! keep the newest N, never write a snapshot identical to the one before it (for a new
//! snapshot that is the newest held one: same `paramsHash`, same rows digest), never write
//! the same (widgetId, generatedAt) twice.
//!
//! The rules are applied to the page's offers *as a set*, in chronological order, not one
//! offer at a time in arrival order. That is what makes re-applying a page a no-op even when
//! a widget's snapshots arrive out of order: a snapshot judged "identical to the one before
//! it" is judged against the same neighbour on every replay, and a snapshot trimmed (or
//! older than everything held at full retention) is below the newest N again on a replay.
//! For snapshots that arrive in chronological order — what the server promises — this is
//! exactly "skip if identical to the newest held one".

use crate::engine::sorting::sort_by;
use crate::engine::store::cache::SnapshotMeta;
use crate::engine::time::parse_rfc3339_ms;
use std::cmp::Ordering;

/// Chronological order of two `generatedAt` values: by instant when both parse as RFC 3339
/// (so `…:00Z` and `…:00.000+00:00` sort by time, not by spelling), with unparseable values
/// before all parseable ones; ties broken by the string. A total order, so retention is
/// deterministic whatever the server sends.
pub fn generated_at_order(a: &str, b: &str) -> Ordering {
    match (parse_rfc3339_ms(a), parse_rfc3339_ms(b)) {
        (Some(x), Some(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

fn same_content(a: &SnapshotMeta, b: &SnapshotMeta) -> bool {
    a.params_hash == b.params_hash && a.rows_digest == b.rows_digest
}

/// The held snapshots of one widget plus the ones a page offers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotRetention {
    held: Vec<SnapshotMeta>,
    offered: Vec<SnapshotMeta>,
}

/// Where a widget's snapshots end up once a page's offers are taken in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Retained {
    /// What the widget holds afterwards, oldest first.
    pub kept: Vec<SnapshotMeta>,
    /// `generatedAt` of the offered snapshots that are kept (to be written), oldest first
    /// (at most the retention: a vector, not a set type of its own in the wasm).
    pub admitted: Vec<String>,
    /// Offers identical to the snapshot before them (zero writes).
    pub identical: u64,
    /// Snapshots dropped by retention: held ones trimmed and offers below the newest N.
    pub trimmed: u64,
}

/// Sorts a widget's held snapshots oldest first (one sort instance for every caller: each
/// closure type would compile its own copy of the stable sort into the wasm).
pub fn sort_oldest_first(held: &mut Vec<SnapshotMeta>) {
    sort_by(held, |a, b| {
        generated_at_order(&a.generated_at, &b.generated_at)
    });
}

impl SnapshotRetention {
    /// From whatever the store returned, in any order; duplicate keys are collapsed.
    pub fn new(mut held: Vec<SnapshotMeta>) -> Self {
        sort_oldest_first(&mut held);
        held.dedup_by(|a, b| a.generated_at == b.generated_at);
        SnapshotRetention {
            held,
            offered: Vec::new(),
        }
    }

    /// Held snapshots, oldest first (before this page's offers).
    pub fn held(&self) -> &[SnapshotMeta] {
        &self.held
    }

    /// Offers a snapshot. Returns `false`, and ignores it, when its (widgetId, generatedAt)
    /// is already held or was offered earlier in the page (the first one wins).
    pub fn offer(&mut self, snapshot: SnapshotMeta) -> bool {
        let taken = |m: &SnapshotMeta| m.generated_at == snapshot.generated_at;
        if self.held.iter().any(taken) || self.offered.iter().any(taken) {
            return false;
        }
        self.offered.push(snapshot);
        true
    }

    /// Drops everything held and offered so far (the widget was tombstoned).
    pub fn clear(&mut self) {
        self.held.clear();
        self.offered.clear();
    }

    /// Takes the offers in under a retention of `retention` (at least 1).
    pub fn resolve(&self, retention: usize) -> Retained {
        let mut candidates: Vec<(&SnapshotMeta, bool)> = self
            .held
            .iter()
            .map(|m| (m, true))
            .chain(self.offered.iter().map(|m| (m, false)))
            .collect();
        sort_by(&mut candidates, |a, b| {
            generated_at_order(&a.0.generated_at, &b.0.generated_at)
        });
        let mut out = Retained::default();
        let mut kept: Vec<(&SnapshotMeta, bool)> = Vec::with_capacity(candidates.len());
        for (meta, held) in candidates {
            // Held snapshots are stored already: never dropped as duplicates.
            let duplicate = !held
                && kept
                    .last()
                    .is_some_and(|(prev, _)| same_content(prev, meta));
            if duplicate {
                out.identical += 1;
            } else {
                kept.push((meta, held));
            }
        }
        let excess = kept.len().saturating_sub(retention.max(1));
        out.trimmed = excess as u64;
        for (meta, held) in kept.into_iter().skip(excess) {
            if !held {
                out.admitted.push(meta.generated_at.clone());
            }
            out.kept.push(meta.clone());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(minute: u32, content: &str) -> SnapshotMeta {
        SnapshotMeta {
            generated_at: format!("2026-01-01T00:{minute:02}:00Z"),
            params_hash: "p".into(),
            rows_digest: content.into(),
        }
    }

    fn kept(r: &Retained) -> Vec<String> {
        r.kept
            .iter()
            .map(|m| format!("{}{}", &m.generated_at[14..16], m.rows_digest))
            .collect()
    }

    #[test]
    fn keeps_newest_n() {
        let mut r = SnapshotRetention::new(vec![meta(2, "b"), meta(1, "a")]);
        assert!(r.offer(meta(3, "c")));
        assert!(r.offer(meta(0, "z")));
        let out = r.resolve(3);
        assert_eq!(kept(&out), vec!["01a", "02b", "03c"]);
        assert_eq!(out.trimmed, 1);
        assert_eq!(out.admitted.len(), 1);
    }

    #[test]
    fn dedupes_by_key_and_by_content_of_the_one_before() {
        let mut r = SnapshotRetention::new(vec![meta(1, "a")]);
        assert!(!r.offer(meta(1, "other")));
        assert!(r.offer(meta(2, "a")));
        assert!(!r.offer(meta(2, "b")));
        assert!(r.offer(meta(3, "b")));
        assert!(r.offer(meta(4, "a")));
        let out = r.resolve(12);
        assert_eq!(kept(&out), vec!["01a", "03b", "04a"]);
        assert_eq!(out.identical, 1);
        // Same rows under other params is another snapshot.
        let mut r = SnapshotRetention::new(vec![meta(1, "a")]);
        r.offer(SnapshotMeta {
            params_hash: "q".into(),
            ..meta(2, "a")
        });
        assert_eq!(r.resolve(12).kept.len(), 2);
    }

    #[test]
    fn out_of_order_offers_resolve_the_same_on_replay() {
        let offers = [meta(3, "h"), meta(2, "k"), meta(5, "k"), meta(4, "k")];
        let mut first = SnapshotRetention::new(vec![meta(1, "h")]);
        for o in &offers {
            first.offer(o.clone());
        }
        let once = first.resolve(3);
        let mut replay = SnapshotRetention::new(once.kept.clone());
        for o in &offers {
            replay.offer(o.clone());
        }
        let twice = replay.resolve(3);
        assert_eq!(twice.kept, once.kept);
        assert!(twice.admitted.is_empty());
    }

    #[test]
    fn order_is_by_instant() {
        assert!(generated_at_order("2026-01-01T01:00:00+02:00", "2026-01-01T00:00:00Z").is_lt());
        assert!(generated_at_order("not a time", "2026-01-01T00:00:00Z").is_lt());
        assert!(generated_at_order("b", "a").is_gt());
    }
}
