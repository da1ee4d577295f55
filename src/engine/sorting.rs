//! One stable sort for the whole crate.
//!
//! Why not `slice::sort_by`: every element type and every comparison closure compiles its own
//! copy of the standard library's driftsort and quicksort into the wasm, ≈ 4.5 KB each. Ten of
//! them were 9.6 KB of the shipped gzip (BENCHMARKS.md, "Size"). Here one bottom-up merge sort
//! orders indices through a `dyn` comparison: one compiled body for every caller, plus a few
//! bytes per element type to move the elements into their order. The lists sorted are small
//! (a widget's snapshots, a page's stores, the outbox) or sorted once per call (the held
//! widgets), so the indirection costs nothing measurable.

use std::cmp::Ordering;

/// Sorts `items` stably (equal elements keep their order) by `compare`.
pub fn sort_by<T>(items: &mut Vec<T>, mut compare: impl FnMut(&T, &T) -> Ordering) {
    if items.len() < 2 {
        return;
    }
    let order = sorted_indices(items.len(), &mut |a, b| compare(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.iter().filter_map(|&i| slots[i].take()));
}

/// Sorts `items` stably by the key `key` extracts.
pub fn sort_by_key<T, K: Ord>(items: &mut Vec<T>, mut key: impl FnMut(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `items` and removes repeated elements: what collecting into a `BTreeSet` gave.
pub fn sort_dedup<T: Ord>(items: &mut Vec<T>) {
    sort_by(items, Ord::cmp);
    items.dedup();
}

/// The indices `0..n` in the stable order `compare` defines (a bottom-up merge sort).
fn sorted_indices(n: usize, compare: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut buffer = vec![0usize; n];
    let mut width = 1;
    while width < n {
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut left, mut right) = (start, mid);
            for slot in &mut buffer[start..end] {
                // Ties take from the left run: that keeps the sort stable.
                let take_left =
                    right >= end || (left < mid && compare(order[left], order[right]).is_le());
                if take_left {
                    *slot = order[left];
                    left += 1;
                } else {
                    *slot = order[right];
                    right += 1;
                }
            }
            start = end;
        }
        std::mem::swap(&mut order, &mut buffer);
        width *= 2;
    }
    order
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Same result as the standard library's stable sort, ties included.
        #[test]
        fn equals_the_standard_stable_sort(items in prop::collection::vec((0u8..6, any::<u16>()), 0..200)) {
            let mut ours = items.clone();
            sort_by_key(&mut ours, |(k, _)| *k);
            let mut std_sorted = items.clone();
            std_sorted.sort_by_key(|(k, _)| *k);
            prop_assert_eq!(ours, std_sorted);
        }

        #[test]
        fn sort_dedup_equals_a_btree_set(items in prop::collection::vec(".{0,3}", 0..100)) {
            let mut ours = items.clone();
            sort_dedup(&mut ours);
            let set: std::collections::BTreeSet<String> = items.into_iter().collect();
            prop_assert_eq!(ours, set.into_iter().collect::<Vec<_>>());
        }
    }
}
