//! The snapshots one widget holds, and the rules for taking in a new one (PROTOCOL §6):
//! keep the newest N, never write a snapshot identical to the newest held one, never write
//! the same (widgetId, generatedAt) twice.
//!
//! The rules are written so that offering the same snapshots again changes nothing — that
//! is what makes re-applying a page idempotent: a snapshot that was trimmed (or refused for
//! being older than everything at full retention) is refused again on a replay.

use super::store::SnapshotMeta;
use super::time::parse_rfc3339_ms;
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

/// What happened to an offered snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Now held; the `generated_at` of each snapshot trimmed to make room, oldest first.
    Kept { trimmed: Vec<String> },
    /// A snapshot with the same `generatedAt` is already held.
    SameKeyHeld,
    /// Same `paramsHash` and rows digest as the newest held snapshot.
    IdenticalToNewest,
    /// It would be trimmed at once: at least `retention` newer snapshots are held.
    OlderThanRetained,
}

/// The held snapshots of one widget, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotRetention {
    held: Vec<SnapshotMeta>,
}

impl SnapshotRetention {
    /// From whatever the store returned, in any order; duplicate keys are collapsed.
    pub fn new(mut held: Vec<SnapshotMeta>) -> Self {
        held.sort_by(|a, b| generated_at_order(&a.generated_at, &b.generated_at));
        held.dedup_by(|a, b| a.generated_at == b.generated_at);
        SnapshotRetention { held }
    }

    /// Held snapshots, oldest first.
    pub fn held(&self) -> &[SnapshotMeta] {
        &self.held
    }

    /// Whether a snapshot with this `generatedAt` is held.
    pub fn contains(&self, generated_at: &str) -> bool {
        self.held.iter().any(|m| m.generated_at == generated_at)
    }

    /// Offers a snapshot under a retention of `retention` (at least 1).
    pub fn admit(&mut self, new: SnapshotMeta, retention: usize) -> Admission {
        if self.contains(&new.generated_at) {
            return Admission::SameKeyHeld;
        }
        if let Some(newest) = self.held.last() {
            if newest.params_hash == new.params_hash && newest.rows_digest == new.rows_digest {
                return Admission::IdenticalToNewest;
            }
        }
        let retention = retention.max(1);
        let position = self
            .held
            .iter()
            .take_while(|m| generated_at_order(&m.generated_at, &new.generated_at).is_lt())
            .count();
        // How many must go once the new one is in; if the new one is among them, keeping it
        // would only write it to delete it.
        let excess = (self.held.len() + 1).saturating_sub(retention);
        if position < excess {
            return Admission::OlderThanRetained;
        }
        self.held.insert(position, new);
        let trimmed = self.held.drain(..excess).map(|m| m.generated_at).collect();
        Admission::Kept { trimmed }
    }

    /// Drops every held snapshot (the widget was tombstoned).
    pub fn clear(&mut self) {
        self.held.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(at: &str, hash: &str, digest: &str) -> SnapshotMeta {
        SnapshotMeta {
            generated_at: at.into(),
            params_hash: hash.into(),
            rows_digest: digest.into(),
        }
    }

    fn ts(minute: u32) -> String {
        format!("2026-01-01T00:{minute:02}:00Z")
    }

    #[test]
    fn keeps_newest_n_and_refuses_what_would_be_trimmed() {
        let mut r = SnapshotRetention::default();
        for m in 0..3 {
            assert_eq!(
                r.admit(meta(&ts(m), "p", &m.to_string()), 3),
                Admission::Kept { trimmed: vec![] }
            );
        }
        assert_eq!(
            r.admit(meta(&ts(5), "p", "5"), 3),
            Admission::Kept {
                trimmed: vec![ts(0)]
            }
        );
        assert_eq!(
            r.admit(meta(&ts(0), "p", "x"), 3),
            Admission::OlderThanRetained
        );
        // Between held ones: kept, the oldest goes.
        assert_eq!(
            r.admit(meta(&ts(3), "p", "3"), 3),
            Admission::Kept {
                trimmed: vec![ts(1)]
            }
        );
        let held: Vec<_> = r.held().iter().map(|m| m.generated_at.clone()).collect();
        assert_eq!(held, vec![ts(2), ts(3), ts(5)]);
    }

    #[test]
    fn dedupes_by_key_and_by_newest_content() {
        let mut r = SnapshotRetention::new(vec![meta(&ts(2), "p", "b"), meta(&ts(1), "p", "a")]);
        assert_eq!(r.admit(meta(&ts(1), "q", "z"), 12), Admission::SameKeyHeld);
        assert_eq!(
            r.admit(meta(&ts(3), "p", "b"), 12),
            Admission::IdenticalToNewest
        );
        // Same rows under other params is a different snapshot.
        assert_eq!(
            r.admit(meta(&ts(3), "q", "b"), 12),
            Admission::Kept { trimmed: vec![] }
        );
        // Identical to an older one but not to the newest: kept.
        assert_eq!(
            r.admit(meta(&ts(4), "p", "a"), 12),
            Admission::Kept { trimmed: vec![] }
        );
    }

    #[test]
    fn lowered_retention_trims_the_excess_on_next_append() {
        let mut r =
            SnapshotRetention::new((0..5).map(|m| meta(&ts(m), "p", &m.to_string())).collect());
        assert_eq!(
            r.admit(meta("2026-01-01T00:02:30Z", "p", "x"), 2),
            Admission::OlderThanRetained
        );
        assert_eq!(
            r.admit(meta(&ts(9), "p", "9"), 2),
            Admission::Kept {
                trimmed: vec![ts(0), ts(1), ts(2), ts(3)]
            }
        );
    }

    #[test]
    fn order_is_by_instant() {
        assert!(generated_at_order("2026-01-01T01:00:00+02:00", "2026-01-01T00:00:00Z").is_lt());
        assert!(generated_at_order("not a time", "2026-01-01T00:00:00Z").is_lt());
        assert!(generated_at_order("b", "a").is_gt());
    }
}
