//! Directions for nodes that sit on top of each other: the spring between them has no
//! direction of its own, so one is drawn. A seeded generator (splitmix64) keeps the
//! crate deterministic; it need not be a good source of randomness, only spread
//! directions over every dimension.

/// A small deterministic generator of directions.
#[derive(Debug, Clone)]
pub(crate) struct Directions {
    state: u64,
}

impl Directions {
    pub(crate) fn new(seed: u64) -> Directions {
        Directions { state: seed }
    }

    /// The next 64 random bits (splitmix64).
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[-0.5, 0.5)`.
    fn next_centered(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }

    /// A unit vector of `dimensions` components. Draws are retried while they are too
    /// short to normalise (vanishingly rare); after a few tries the first axis is used.
    pub(crate) fn unit_vector(&mut self, dimensions: usize) -> Vec<f64> {
        for _ in 0..8 {
            let draw: Vec<f64> = (0..dimensions).map(|_| self.next_centered()).collect();
            let length = draw.iter().map(|x| x * x).sum::<f64>().sqrt();
            if length > 1.0e-6 {
                return draw.into_iter().map(|x| x / length).collect();
            }
        }
        let mut axis = vec![0.0; dimensions];
        if let Some(first) = axis.first_mut() {
            *first = 1.0;
        }
        axis
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_vectors_have_length_one_and_differ() {
        let mut directions = Directions::new(7);
        let a = directions.unit_vector(8);
        let b = directions.unit_vector(8);
        for v in [&a, &b] {
            let length = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            assert!((length - 1.0).abs() < 1e-12, "{length}");
        }
        assert_ne!(a, b);
    }

    #[test]
    fn the_same_seed_gives_the_same_directions() {
        let draws = |seed| {
            let mut directions = Directions::new(seed);
            (0..4)
                .map(|_| directions.unit_vector(3))
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(1), draws(1));
        assert_ne!(draws(1), draws(2));
    }
}
