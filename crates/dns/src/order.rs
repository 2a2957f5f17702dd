//! The order answers are given in: a random permutation in which an instance's chance
//! of coming first is proportional to its weight. Most clients take the first address,
//! so this is what makes `Weights` mean something for A records (Consul's issue #1088).

use rand::Rng;

/// Orders `items` by weight at random (Efraimidis–Spirakis: each item draws the key
/// `-ln(u) / w` and keys are sorted ascending). Weight 0 sorts last.
pub fn weighted_order<T>(items: Vec<(T, u32)>, rng: &mut impl Rng) -> Vec<(T, u32)> {
    if items.len() < 2 {
        return items;
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
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    keyed.into_iter().map(|(_, item)| item).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn first_place_follows_the_weights() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut firsts = [0u32; 3];
        for _ in 0..30_000 {
            let order = weighted_order(vec![(0, 1), (1, 3), (2, 0)], &mut rng);
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
                weighted_order(items.clone(), &mut rng)
                    .into_iter()
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect();
        assert!(orders.len() > 10, "answers are shuffled");
    }
}
