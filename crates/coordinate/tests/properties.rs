//! Properties of the Vivaldi client: any sequence of samples leaves a finite
//! coordinate, and a simulated network whose latencies are known converges to them.

use std::time::Duration;

use proconsul_coordinate::{Config, Coordinate, VivaldiClient};
use proptest::prelude::*;

/// A finite number anywhere from tiny to huge, of either sign.
fn any_finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1.0e3..1.0e3f64,
        -1.0..1.0f64,
        prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO,
    ]
}

fn any_coordinate() -> impl Strategy<Value = Coordinate> {
    (
        prop::collection::vec(any_finite(), 8),
        any_finite(),
        any_finite(),
        any_finite(),
    )
        .prop_map(|(vec, error, adjustment, height)| Coordinate {
            vec,
            error,
            adjustment,
            height,
        })
}

proptest! {
    #[test]
    fn coordinates_stay_finite_whatever_the_samples(
        seed in any::<u64>(),
        samples in prop::collection::vec(
            (0..4usize, any_coordinate(), 1..=10_000_000_000u64),
            1..60,
        ),
    ) {
        let mut client = VivaldiClient::new(Config { seed, ..Config::default() });
        for (peer, other, rtt_ns) in samples {
            let moved = client
                .update(&format!("n{peer}"), &other, Duration::from_nanos(rtt_ns))
                .expect("a finite, compatible coordinate and an RTT in range are accepted");
            prop_assert!(moved.is_valid(), "{moved:?}");
            prop_assert_eq!(&moved, &client.coordinate());
            // Every distance from it is defined.
            let _ = moved.distance_to(&other);
        }
    }
}

/// A deterministic generator for the simulation (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `nodes` hosts on a plane (up to 60 ms apart) with access links of 0.5–5 ms: the
/// true RTT is the distance plus both links, which the height-vector model can express.
fn network(rng: &mut Rng, nodes: usize) -> Vec<Vec<f64>> {
    let hosts: Vec<(f64, f64, f64)> = (0..nodes)
        .map(|_| {
            (
                rng.unit() * 0.042,
                rng.unit() * 0.042,
                0.0005 + rng.unit() * 0.0045,
            )
        })
        .collect();
    hosts
        .iter()
        .map(|a| {
            hosts
                .iter()
                .map(|b| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt() + a.2 + b.2)
                .collect()
        })
        .collect()
}

/// Each round every node samples one random peer (with ±5% jitter on the RTT); the
/// answer is the average relative error of the predictions over every pair.
fn simulate(seed: u64, nodes: usize, rounds: usize) -> f64 {
    let mut rng = Rng(seed | 1);
    let rtts = network(&mut rng, nodes);
    let mut clients: Vec<VivaldiClient> = (0..nodes)
        .map(|i| {
            VivaldiClient::new(Config {
                seed: seed ^ (i as u64).wrapping_mul(0x9e37_79b9),
                ..Config::default()
            })
        })
        .collect();
    for _ in 0..rounds {
        for i in 0..nodes {
            let j = (i + 1 + (rng.next() as usize) % (nodes - 1)) % nodes;
            let jitter = 0.95 + rng.unit() * 0.1;
            let rtt = Duration::from_secs_f64(rtts[i][j] * jitter);
            let peer = clients[j].coordinate();
            clients[i].update(&format!("n{j}"), &peer, rtt).unwrap();
        }
    }
    let mut total = 0.0;
    let mut pairs = 0;
    for i in 0..nodes {
        for j in (i + 1)..nodes {
            let predicted = clients[i]
                .coordinate()
                .distance_to(&clients[j].coordinate())
                .as_secs_f64();
            total += (predicted - rtts[i][j]).abs() / rtts[i][j];
            pairs += 1;
        }
    }
    total / pairs as f64
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]
    #[test]
    fn a_simulated_network_converges_to_its_latencies(seed in any::<u64>()) {
        let error = simulate(seed, 20, 300);
        prop_assert!(error < 0.06, "average relative error {error}");
    }
}

#[test]
fn more_rounds_mean_smaller_errors() {
    for seed in [1, 2, 3] {
        let early = simulate(seed, 20, 5);
        let late = simulate(seed, 20, 300);
        assert!(late < early, "seed {seed}: {early} then {late}");
        eprintln!("seed {seed}: {early:.3} after 5 rounds, {late:.3} after 300");
    }
}
