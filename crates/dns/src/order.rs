//! The order answers are given in: a random permutation in which an instance's chance
//! of coming first is proportional to its weight. Most clients take the first address,
//! so this is what makes `Weights` mean something for A records (Consul's issue #1088).

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

/// The first `keep` items of a random order of `items` by weight (Efraimidis–Spirakis:
/// each item draws the key `-ln(u) / w`, keys ascending). Weight 0 sorts last. When all
/// weights are equal this is a plain partial shuffle, O(`keep`); otherwise O(n) to draw
/// the keys plus O(`keep` log `keep`) to order the kept ones.
pub fn weighted_order<T>(
    mut items: Vec<(T, u32)>,
    rng: &mut impl Rng,
    keep: usize,
) -> Vec<(T, u32)> {
    let keep = keep.min(items.len());
    if items.len() < 2 || keep == 0 {
        items.truncate(keep);
        return items;
    }
    let first_weight = items[0].1;
    if first_weight > 0 && items.iter().all(|(_, weight)| *weight == first_weight) {
        let (kept, _) = items.partial_shuffle(rng, keep);
        let kept_len = kept.len();
        // partial_shuffle leaves the chosen ones at the end in rand 0.9.
        let start = items.len() - kept_len;
        return items.drain(start..).collect();
    }
    let mut keyed: Vec<(f64, (T, u32))> = items
        .into_iter()
        .map(|(item, weight)| {
            let key = if weight == 0 {
                f64::INFINITY
            } else {
                // `random` is in [0, 1); 1 - u is in (0, 1], so the log is finite.
                let uniform: f64 = 1.0 - rng.random::<f64>();
                -uniform.ln() / f64::from(weight)
            };
            (key, (item, weight))
        })
        .collect();
    if keep < keyed.len() {
        keyed.select_nth_unstable_by(keep - 1, |a, b| a.0.total_cmp(&b.0));
        keyed.truncate(keep);
    }
    keyed.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    keyed.into_iter().map(|(_, item)| item).collect()
}

/// One rotation of the random order `seed` draws: the same seed gives the same order,
/// and rotation `variant` of `variants` starts `variant * len / variants` places in,
/// so that the rotations together put each item first equally often. The first `keep`.
pub fn rotated<T: Clone>(
    items: &[T],
    seed: u64,
    variant: usize,
    variants: usize,
    keep: usize,
) -> Vec<T> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    let start = if variants == 0 || items.is_empty() {
        0
    } else {
        (variant % variants) * items.len() / variants
    };
    order
        .iter()
        .cycle()
        .skip(start)
        .take(keep.min(items.len()))
        .map(|&i| items[i].clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_place_follows_the_weights() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut firsts = [0u32; 3];
        for _ in 0..30_000 {
            let order = weighted_order(vec![(0, 1), (1, 3), (2, 0)], &mut rng, 3);
            firsts[order[0].0] += 1;
            assert_eq!(order[2].0, 2, "weight 0 always comes last");
        }
        // Expected 1:3 between the two weighted items.
        let ratio = f64::from(firsts[1]) / f64::from(firsts[0]);
        assert!(
            (2.7..3.3).contains(&ratio),
            "ratio {ratio}, counts {firsts:?}"
        );
        assert_eq!(firsts[2], 0);
    }

    #[test]
    fn equal_weights_shuffle() {
        let mut rng = StdRng::seed_from_u64(1);
        let items: Vec<(u32, u32)> = (0..10).map(|i| (i, 1)).collect();
        let orders: std::collections::HashSet<Vec<u32>> = (0..20)
            .map(|_| {
                weighted_order(items.clone(), &mut rng, 10)
                    .into_iter()
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect();
        assert!(orders.len() > 10, "answers are shuffled");
    }

    #[test]
    fn rotations_put_each_item_first_once() {
        let items: Vec<u32> = (0..10).collect();
        let firsts: std::collections::BTreeSet<u32> = (0..10)
            .map(|variant| rotated(&items, 42, variant, 10, 3)[0])
            .collect();
        assert_eq!(firsts.len(), 10);
        assert_eq!(
            rotated(&items, 42, 3, 10, 10),
            rotated(&items, 42, 3, 10, 10)
        );
        assert_ne!(
            rotated(&items, 42, 0, 10, 10),
            rotated(&items, 43, 0, 10, 10)
        );
        let many: Vec<u32> = (0..1000).collect();
        let firsts: std::collections::BTreeSet<u32> = (0..16)
            .map(|variant| rotated(&many, 7, variant, 16, 5)[0])
            .collect();
        assert_eq!(firsts.len(), 16);
        assert_eq!(rotated(&many, 7, 2, 16, 100).len(), 100);
    }

    #[test]
    fn keeps_the_first_ones() {
        let mut rng = StdRng::seed_from_u64(3);
        let equal: Vec<(u32, u32)> = (0..100).map(|i| (i, 1)).collect();
        let kept = weighted_order(equal, &mut rng, 7);
        assert_eq!(kept.len(), 7);
        let distinct: std::collections::HashSet<u32> = kept.iter().map(|(i, _)| *i).collect();
        assert_eq!(distinct.len(), 7);
        let mut firsts = [0u32; 2];
        for _ in 0..20_000 {
            let weighted: Vec<(usize, u32)> =
                (0..100).map(|i| (i, if i == 0 { 50 } else { 1 })).collect();
            let kept = weighted_order(weighted, &mut rng, 3);
            assert_eq!(kept.len(), 3);
            firsts[usize::from(kept[0].0 != 0)] += 1;
        }
        // Item 0 has half of the total weight (50 of 149): first about a third of the time.
        let share = f64::from(firsts[0]) / 20_000.0;
        assert!((0.31..0.36).contains(&share), "share {share}");
    }
}
