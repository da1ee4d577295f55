//! Sets of kinds and counts per kind, as a bitmask and an array.
//!
//! Why not `BTreeSet<Kind>`/`BTreeMap<Kind, u64>`: there are seven kinds, and each B-tree
//! instantiation compiles ≈ 7 KB of node code into the wasm (fourteen of them were 24 KB of the
//! shipped gzip, BENCHMARKS.md "Size"). Both keep the B-tree's order (`Kind`'s, which is
//! [`Kind::ALL`]'s) and serialize as it did: a set as an array of wire names, counts as an
//! object of the kinds counted.

use crate::protocol::Kind;
use serde::ser::{Serialize, SerializeMap, Serializer};

/// A set of kinds, iterated in [`Kind::ALL`] order.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct KindSet(u8);

impl KindSet {
    pub const fn new() -> Self {
        KindSet(0)
    }

    /// Every kind.
    pub fn all() -> Self {
        Kind::ALL.into_iter().collect()
    }

    fn bit(kind: Kind) -> u8 {
        1 << (kind as u8)
    }

    /// Adds `kind`; true when it was not in the set.
    pub fn insert(&mut self, kind: Kind) -> bool {
        let added = !self.contains(&kind);
        self.0 |= Self::bit(kind);
        added
    }

    pub fn contains(&self, kind: &Kind) -> bool {
        self.0 & Self::bit(*kind) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn clear(&mut self) {
        self.0 = 0;
    }

    /// The kinds, in [`Kind::ALL`] order.
    pub fn iter(&self) -> KindSetIter {
        KindSetIter {
            set: *self,
            next: 0,
        }
    }
}

/// The kinds of a [`KindSet`], in [`Kind::ALL`] order.
pub struct KindSetIter {
    set: KindSet,
    next: usize,
}

impl Iterator for KindSetIter {
    type Item = Kind;

    fn next(&mut self) -> Option<Kind> {
        while let Some(&kind) = Kind::ALL.get(self.next) {
            self.next += 1;
            if self.set.contains(&kind) {
                return Some(kind);
            }
        }
        None
    }
}

impl IntoIterator for KindSet {
    type Item = Kind;
    type IntoIter = KindSetIter;

    fn into_iter(self) -> KindSetIter {
        self.iter()
    }
}

impl FromIterator<Kind> for KindSet {
    fn from_iter<I: IntoIterator<Item = Kind>>(iter: I) -> Self {
        let mut set = KindSet::new();
        set.extend(iter);
        set
    }
}

impl Extend<Kind> for KindSet {
    fn extend<I: IntoIterator<Item = Kind>>(&mut self, iter: I) {
        for kind in iter {
            self.insert(kind);
        }
    }
}

impl<const N: usize> From<[Kind; N]> for KindSet {
    fn from(kinds: [Kind; N]) -> Self {
        kinds.into_iter().collect()
    }
}

impl std::fmt::Debug for KindSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Serialize for KindSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// A count per kind; a kind never counted is absent (not 0), as in a map.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCounts([Option<u64>; Kind::ALL.len()]);

impl KindCounts {
    pub const fn new() -> Self {
        KindCounts([None; Kind::ALL.len()])
    }

    /// Adds `n` to `kind`'s count (present from then on, even when `n` is 0).
    pub fn add(&mut self, kind: Kind, n: u64) {
        let slot = &mut self.0[kind as usize];
        *slot = Some(slot.unwrap_or(0) + n);
    }

    /// `kind`'s count, `None` when it was never counted.
    pub fn get(&self, kind: &Kind) -> Option<&u64> {
        self.0[*kind as usize].as_ref()
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }

    /// The counted kinds and their counts, in [`Kind::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Kind, u64)> + '_ {
        Kind::ALL
            .into_iter()
            .filter_map(|kind| self.0[kind as usize].map(|n| (kind, n)))
    }

    /// Every count added together.
    pub fn total(&self) -> u64 {
        self.0.iter().flatten().sum()
    }
}

impl<const N: usize> From<[(Kind, u64); N]> for KindCounts {
    fn from(counts: [(Kind, u64); N]) -> Self {
        let mut out = KindCounts::new();
        for (kind, n) in counts {
            out.add(kind, n);
        }
        out
    }
}

impl std::fmt::Debug for KindCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for KindCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (kind, n) in self.iter() {
            map.serialize_entry(&kind, &n)?;
        }
        map.end()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn kind() -> impl Strategy<Value = Kind> {
        prop::sample::select(Kind::ALL.to_vec())
    }

    #[test]
    fn all_is_in_discriminant_order() {
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, i, "{kind:?}");
        }
    }

    proptest! {
        /// Same members, order, serialization and Debug as the `BTreeSet` it replaces.
        #[test]
        fn a_kind_set_behaves_as_a_btree_set(kinds in prop::collection::vec(kind(), 0..12)) {
            let ours: KindSet = kinds.iter().copied().collect();
            let model: BTreeSet<Kind> = kinds.iter().copied().collect();
            prop_assert_eq!(ours.iter().collect::<Vec<_>>(), model.iter().copied().collect::<Vec<_>>());
            prop_assert_eq!(ours.len(), model.len());
            prop_assert_eq!(serde_json::to_string(&ours).unwrap(), serde_json::to_string(&model).unwrap());
            prop_assert_eq!(format!("{ours:?}"), format!("{model:?}"));
            for k in Kind::ALL {
                prop_assert_eq!(ours.contains(&k), model.contains(&k));
            }
        }

        /// Same counts, order, serialization and Debug as the `BTreeMap` it replaces.
        #[test]
        fn kind_counts_behave_as_a_btree_map(adds in prop::collection::vec((kind(), 0u64..5), 0..12)) {
            let mut ours = KindCounts::new();
            let mut model: BTreeMap<Kind, u64> = BTreeMap::new();
            for (k, n) in &adds {
                ours.add(*k, *n);
                *model.entry(*k).or_default() += n;
            }
            prop_assert_eq!(ours.iter().collect::<Vec<_>>(), model.iter().map(|(k, n)| (*k, *n)).collect::<Vec<_>>());
            prop_assert_eq!(ours.total(), model.values().sum::<u64>());
            prop_assert_eq!(ours.is_empty(), model.is_empty());
            prop_assert_eq!(serde_json::to_string(&ours).unwrap(), serde_json::to_string(&model).unwrap());
            prop_assert_eq!(format!("{ours:?}"), format!("{model:?}"));
            for k in Kind::ALL {
                prop_assert_eq!(ours.get(&k), model.get(&k));
            }
        }
    }
}
