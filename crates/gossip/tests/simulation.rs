//! Deterministic simulations of the membership core: hundreds of members in one process,
//! virtual time, seeded randomness, with loss, partitions, a CPU-starved member, kills and
//! leaves. Bounds are on virtual time, so they hold on any machine.

use std::time::Duration;

use proconsul_gossip::MemberStatus;
use proconsul_gossip::sim::{ObservedKind, SimConfig, Simulation};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// A cluster of `n` running for 10 s, recording from then on.
fn settled(config: SimConfig) -> Simulation {
    let mut sim = Simulation::new(config);
    sim.run_for(secs(10));
    sim.start_recording();
    sim
}

fn failed_events(sim: &Simulation, subject: Option<usize>) -> usize {
    sim.observations()
        .iter()
        .filter(|o| o.kind == ObservedKind::Failed && subject.is_none_or(|s| o.subject == s))
        .count()
}

#[test]
fn a_killed_member_is_failed_everywhere_within_the_bound() {
    let mut sim = settled(SimConfig::lan(200, 1));
    let victim = 17;
    let killed_at = sim.now();
    sim.kill(victim);
    let detected = sim.run_until(killed_at + secs(30), |s| {
        s.all_running_see(victim, MemberStatus::Failed)
    });
    assert!(detected, "not everyone saw the failure within 30 s");
    let took = sim.now() - killed_at;
    // Consul's unconfirmed suspicion at 200 members is 4 × log10(200) ≈ 9.2 s; confirmations
    // shorten it, so detection everywhere stays well under it plus a few probe intervals.
    assert!(took < secs(12), "took {took:?}");
    // Nobody else was failed.
    let others: usize = sim
        .observations()
        .iter()
        .filter(|o| o.kind == ObservedKind::Failed && o.subject != victim)
        .count();
    assert_eq!(others, 0);
    assert_eq!(failed_events(&sim, Some(victim)), 199);
}

#[test]
fn no_false_failures_with_five_percent_loss() {
    let mut config = SimConfig::lan(200, 2);
    config.loss = 0.05;
    let mut sim = settled(config);
    sim.run_for(secs(300));
    assert_eq!(
        failed_events(&sim, None),
        0,
        "{:?}",
        &sim.observations()[..sim.observations().len().min(10)]
    );
    let traffic = sim.traffic();
    assert!(traffic.lost > 0 && traffic.rtt_samples > 0);
    assert!(
        traffic.largest_datagram <= proconsul_gossip::MAX_DATAGRAM,
        "{traffic:?}"
    );
}

#[test]
fn a_starved_member_fails_nobody_else() {
    let mut config = SimConfig::lan(200, 3);
    config.loss = 0.01;
    let mut sim = settled(config);
    let starved = 5;
    // Frozen 700 ms of every second: it misses most acks of its own probes.
    sim.starve(
        starved,
        Duration::from_millis(300),
        Duration::from_millis(700),
    );
    sim.run_for(secs(300));
    let others: Vec<_> = sim
        .observations()
        .iter()
        .filter(|o| o.kind == ObservedKind::Failed && o.subject != starved)
        .collect();
    assert!(others.is_empty(), "false failures: {others:?}");
    assert!(
        sim.health_score(starved) > 0,
        "the starved member should know it is unhealthy"
    );
}

#[test]
fn a_leaving_member_is_left_not_failed() {
    let mut sim = settled(SimConfig::lan(100, 4));
    sim.leave(9, secs(3));
    let left = sim.run_until(sim.now() + secs(30), |s| {
        s.all_running_see(9, MemberStatus::Left)
    });
    assert!(left);
    assert_eq!(failed_events(&sim, Some(9)), 0);
    assert_eq!(
        sim.observations()
            .iter()
            .filter(|o| o.kind == ObservedKind::Leave && o.subject == 9 && o.observer != 9)
            .count(),
        99
    );
}

#[test]
fn force_leave_of_a_failed_member_and_of_an_alive_one() {
    let mut sim = settled(SimConfig::lan(50, 5));
    sim.kill(3);
    assert!(sim.run_until(sim.now() + secs(30), |s| {
        s.all_running_see(3, MemberStatus::Failed)
    }));
    sim.force_leave(0, "node-3", false).unwrap();
    // Gossip reaches nearly everyone at once; push-pull (every 60 s at this size) catches
    // the rare member every retransmission missed.
    assert!(sim.run_until(sim.now() + secs(90), |s| {
        s.all_running_see(3, MemberStatus::Left)
    }));
    // Force-leaving an alive member: it refutes with a newer join intent and stays alive.
    sim.force_leave(0, "node-4", false).unwrap();
    sim.run_for(secs(10));
    assert!(sim.all_running_see(4, MemberStatus::Alive));
    assert_eq!(sim.status_seen(4, 4), Some(MemberStatus::Alive));
    // Prune erases a failed member everywhere.
    sim.kill(6);
    assert!(sim.run_until(sim.now() + secs(30), |s| {
        s.all_running_see(6, MemberStatus::Failed)
    }));
    sim.force_leave(1, "node-6", true).unwrap();
    assert!(sim.run_until(sim.now() + secs(90), |s| {
        (0..s.len())
            .filter(|&i| s.is_running(i))
            .all(|i| s.status_seen(i, 6).is_none())
    }));
}

#[test]
fn a_partition_heals_and_everyone_is_alive_again() {
    let mut sim = settled(SimConfig::lan(60, 6));
    sim.partition(|i| (i % 2) as u32);
    assert!(sim.run_until(sim.now() + secs(60), |s| {
        s.status_seen(0, 1) == Some(MemberStatus::Failed)
            && s.status_seen(1, 0) == Some(MemberStatus::Failed)
    }));
    sim.heal();
    // Push-pull reconnects to failed members (serf's reconnect), the buried identities
    // rejoin as the next generation.
    let healed = sim.run_until(sim.now() + secs(600), |s| {
        (0..s.len()).all(|subject| s.all_running_see(subject, MemberStatus::Alive))
    });
    assert!(healed, "partition did not heal");
}

#[test]
fn a_restarted_member_on_a_new_address_replaces_its_old_self() {
    let mut sim = settled(SimConfig::lan(50, 7));
    let old_addr = sim.member_seen(0, 8).unwrap().addr;
    sim.kill(8);
    sim.run_for(Duration::from_millis(500));
    sim.restart(8, 0);
    let replaced = sim.run_until(sim.now() + secs(30), |s| {
        (0..s.len()).filter(|&i| i != 8).all(|i| {
            s.member_seen(i, 8)
                .is_some_and(|m| m.status == MemberStatus::Alive && m.addr != old_addr)
        })
    });
    assert!(replaced);
    // The old generation was replaced, never reported failed.
    sim.run_for(secs(20));
    assert_eq!(failed_events(&sim, Some(8)), 0);
    assert!(sim.all_running_see(8, MemberStatus::Alive));
}

#[test]
fn same_seed_same_run() {
    let run = |seed| {
        let mut config = SimConfig::lan(40, seed);
        config.loss = 0.05;
        let mut sim = settled(config);
        sim.kill(2);
        sim.run_for(secs(30));
        (sim.traffic(), sim.observations().to_vec())
    };
    assert_eq!(run(9), run(9));
}

#[test]
fn a_member_whose_udp_is_blocked_stays_alive_through_tcp_probes() {
    let mut sim = settled(SimConfig::lan(50, 8));
    sim.block_udp(7, true);
    let before = sim.traffic().tcp_probes;
    sim.run_for(secs(60));
    assert_eq!(failed_events(&sim, None), 0);
    assert!(sim.all_running_see(7, MemberStatus::Alive));
    assert!(
        sim.traffic().tcp_probes > before + 50,
        "{:?}",
        sim.traffic()
    );
}

#[test]
fn a_briefly_unreachable_member_is_suspected_refutes_and_never_fails() {
    // Seed 2: the isolated member is probed (and suspected) while cut off.
    let mut sim = settled(SimConfig::lan(100, 2));
    let isolated = 9;
    assert_eq!(sim.incarnation(isolated), 0);
    sim.partition(|i| u32::from(i == isolated));
    sim.run_for(Duration::from_millis(1800));
    sim.heal();
    sim.run_for(secs(30));
    // It was suspected (it raised its incarnation to refute) but nobody declared it failed.
    assert!(sim.incarnation(isolated) > 0);
    assert_eq!(failed_events(&sim, None), 0);
    assert!(sim.all_running_see(isolated, MemberStatus::Alive));
}

#[test]
fn failed_and_left_members_are_reaped_after_their_timeouts() {
    let mut config = SimConfig::lan(30, 10);
    config.reconnect_timeout = secs(40);
    config.tombstone_timeout = secs(20);
    let mut sim = settled(config);
    sim.kill(3);
    sim.leave(4, secs(3));
    // Member 4 has left: it no longer follows the cluster, so it is not asked.
    let others = |s: &Simulation| {
        (0..s.len())
            .filter(|&i| s.is_running(i) && i != 4)
            .collect::<Vec<_>>()
    };
    assert!(sim.run_until(sim.now() + secs(30), |s| {
        others(s).iter().all(|&i| {
            s.status_seen(i, 3) == Some(MemberStatus::Failed)
                && s.status_seen(i, 4) == Some(MemberStatus::Left)
        })
    }));
    let gone = |s: &Simulation, subject| {
        others(s)
            .iter()
            .all(|&i| s.status_seen(i, subject).is_none())
    };
    // Left members go first (tombstone 20 s), failed ones after the reconnect timeout.
    let t = sim.now();
    assert!(sim.run_until(t + secs(30), |s| gone(s, 4)));
    assert!(
        others(&sim)
            .iter()
            .all(|&i| sim.status_seen(i, 3) == Some(MemberStatus::Failed))
    );
    assert!(sim.run_until(t + secs(60), |s| gone(s, 3)));
    let reaps = sim
        .observations()
        .iter()
        .filter(|o| {
            o.kind == ObservedKind::Reap && (o.subject == 3 || o.subject == 4) && o.observer != 4
        })
        .count();
    assert_eq!(reaps, 2 * 28);
    // Nothing brings them back.
    sim.run_for(secs(120));
    assert!(gone(&sim, 3) && gone(&sim, 4));
}

#[test]
fn encrypted_gossip_keeps_datagrams_within_1400_bytes() {
    let mut config = SimConfig::lan(100, 11);
    config.encrypt = true;
    let mut sim = settled(config);
    sim.kill(1);
    assert!(sim.run_until(sim.now() + secs(30), |s| {
        s.all_running_see(1, MemberStatus::Failed)
    }));
    let traffic = sim.traffic();
    assert!(traffic.largest_datagram > 200, "{traffic:?}");
    assert!(
        traffic.largest_datagram <= proconsul_gossip::MAX_DATAGRAM,
        "{traffic:?}"
    );
}
