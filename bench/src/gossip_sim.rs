//! Gossip failure detection measured in the deterministic simulator (`proconsul_gossip::sim`):
//! the same membership core the agent runs, thousands of members in one process, virtual
//! time. Prints Markdown rows: detection time (every member knows a killed member failed),
//! bytes per second per member, and false failures with loss and a CPU-starved member.

use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use proconsul_gossip::MemberStatus;
use proconsul_gossip::sim::{ObservedKind, SimConfig, Simulation};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Scenario {
    /// Kill one member, time until every member knows it failed.
    Detection,
    /// Run with datagram loss and one starved member; count failures of healthy members.
    FalseFailures,
}

#[derive(Debug, Args)]
pub struct GossipSimArgs {
    #[arg(long, value_enum)]
    pub scenario: Scenario,
    /// Cluster size.
    #[arg(long, default_value_t = 1000)]
    pub members: usize,
    /// Independent runs (seeds 1..=N) for detection.
    #[arg(long, default_value_t = 5)]
    pub trials: u64,
    /// Datagram loss rate.
    #[arg(long, default_value_t = 0.0)]
    pub loss: f64,
    /// Virtual seconds simulated for false failures.
    #[arg(long, default_value_t = 3600)]
    pub seconds: u64,
    /// The starved member runs this long ...
    #[arg(long, default_value_t = 300)]
    pub run_ms: u64,
    /// ... then is frozen this long, repeatedly.
    #[arg(long, default_value_t = 700)]
    pub freeze_ms: u64,
}

pub fn run(args: GossipSimArgs) -> anyhow::Result<()> {
    match args.scenario {
        Scenario::Detection => detection(&args),
        Scenario::FalseFailures => false_failures(&args),
    }
}

/// Nearest-rank percentile of sorted values (the median of two is the lower one).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn detection(args: &GossipSimArgs) -> anyhow::Result<()> {
    let wall = Instant::now();
    let mut everyone = Vec::new();
    let mut per_observer = Vec::new();
    let mut bytes_per_member_s = Vec::new();
    let mut false_failed = 0;
    for seed in 1..=args.trials {
        let mut config = SimConfig::lan(args.members, seed);
        config.loss = args.loss;
        let mut sim = Simulation::new(config);
        sim.run_for(Duration::from_secs(20));
        // Steady-state traffic over 30 s.
        let before = sim.traffic();
        sim.run_for(Duration::from_secs(30));
        let after = sim.traffic();
        let bytes = (after.datagram_bytes - before.datagram_bytes)
            + (after.stream_bytes - before.stream_bytes);
        bytes_per_member_s.push(bytes as f64 / args.members as f64 / 30.0);

        sim.start_recording();
        let victim = (seed as usize * 7919) % args.members;
        let killed = sim.now();
        sim.kill(victim);
        let done = sim.run_until(killed + Duration::from_secs(120), |s| {
            s.all_running_see(victim, MemberStatus::Failed)
        });
        anyhow::ensure!(
            done,
            "seed {seed}: failure not known everywhere within 120 s"
        );
        everyone.push((sim.now() - killed).as_secs_f64());
        eprintln!(
            "seed {seed}: victim {victim} failed everywhere after {:.1} s",
            (sim.now() - killed).as_secs_f64()
        );
        for o in sim.observations() {
            if o.kind == ObservedKind::Failed {
                if o.subject == victim {
                    per_observer.push((o.at - killed).as_secs_f64());
                } else {
                    false_failed += 1;
                }
            }
        }
    }
    everyone.sort_by(f64::total_cmp);
    per_observer.sort_by(f64::total_cmp);
    bytes_per_member_s.sort_by(f64::total_cmp);
    println!(
        "| {} | {} | {:.0}% | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} | {} | {:.0} |",
        args.members,
        args.trials,
        args.loss * 100.0,
        percentile(&everyone, 50.0),
        percentile(&everyone, 99.0),
        percentile(&per_observer, 50.0),
        percentile(&per_observer, 99.0),
        percentile(&bytes_per_member_s, 50.0),
        false_failed,
        wall.elapsed().as_secs_f64(),
    );
    Ok(())
}

fn false_failures(args: &GossipSimArgs) -> anyhow::Result<()> {
    let wall = Instant::now();
    let mut config = SimConfig::lan(args.members, 1);
    config.loss = args.loss;
    let mut sim = Simulation::new(config);
    sim.run_for(Duration::from_secs(10));
    sim.start_recording();
    let starved = 0;
    // A member starved of CPU: frozen `freeze_ms` of every `run_ms + freeze_ms`.
    sim.starve(
        starved,
        Duration::from_millis(args.run_ms),
        Duration::from_millis(args.freeze_ms),
    );
    let mut worst_health = 0;
    let hours = args.seconds as f64 / 3600.0;
    for _ in 0..args.seconds / 10 {
        sim.run_for(Duration::from_secs(10));
        worst_health = worst_health.max(sim.health_score(starved));
    }
    let healthy_failed = sim
        .observations()
        .iter()
        .filter(|o| o.kind == ObservedKind::Failed && o.subject != starved)
        .count();
    let starved_failed = sim
        .observations()
        .iter()
        .filter(|o| o.kind == ObservedKind::Failed && o.subject == starved)
        .count();
    let traffic = sim.traffic();
    println!(
        "| {} | {:.0}% | {} / {} ms | {} | {:.2} | {:.2} | {} | {} | {:.0} |",
        args.members,
        args.loss * 100.0,
        args.run_ms,
        args.freeze_ms,
        args.seconds,
        healthy_failed as f64 / hours,
        starved_failed as f64 / hours,
        worst_health,
        traffic.tcp_probes,
        wall.elapsed().as_secs_f64(),
    );
    Ok(())
}
