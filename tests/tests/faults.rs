//! Fault scenarios with fixed seeds (`PROCONSUL_FAULT_SEED` replays another): three
//! servers, about 20 s of bounded client traffic with faults in its middle, then heal,
//! recovery (a leader, a `?consistent` read and a write per key) and the history checked
//! for linearizability (tier 1 and 2), per-server monotonic `?stale` reads, lock fencing,
//! blocking-query guarantees and durability. No timed assertions: the bounds are
//! generous and documented where they are used. See docs/RELIABILITY.md.

use std::time::Duration;

use proconsul_tests::check::register::ReadMode;
use proconsul_tests::fault::kill::KillNemesis;
use proconsul_tests::fault::lock_workload::{LockConfig, LockWorkload};
use proconsul_tests::fault::membership::MembershipNemesis;
use proconsul_tests::fault::nemesis::{Nemesis, Schedule};
use proconsul_tests::fault::partition::PartitionNemesis;
use proconsul_tests::fault::pause::PauseNemesis;
use proconsul_tests::fault::register_workload::{RegisterConfig, RegisterWorkload};
use proconsul_tests::fault::run::FaultRun;
use proconsul_tests::fault::watch_workload::{Watch, WatchWorkload};
use proconsul_tests::faults_api::FAULTS_ENV;
use proconsul_tests::{get, put};

/// Traffic lasts this long; faults come and go in [`FAULT_WINDOW`] of it.
const TRAFFIC: Duration = Duration::from_secs(20);
const FAULT_WINDOW: Schedule = Schedule {
    start: Duration::from_secs(4),
    end: Duration::from_secs(16),
};

/// A register workload (W1, and W4's durability check) on `config` under `nemeses`, on
/// servers started with `env` (the fault layer's switch, for partitions).
async fn register_scenario(
    name: &str,
    seed: u64,
    config: RegisterConfig,
    nemeses: Vec<Box<dyn Nemesis>>,
    env: &[(&str, &str)],
) {
    let mut run = FaultRun::start_with_env(name, seed, 3, env);
    let mut w1 = RegisterWorkload::start(&run, config);
    run.faults(nemeses, FAULT_WINDOW, TRAFFIC).await;
    w1.stop().await;
    run.wait_for_leader_and_voters().await;
    let findings = w1.recover_and_check(&run).await;
    run.finish(findings, &[&w1]);
}

const W1: RegisterConfig = RegisterConfig {
    prefix: "w1",
    keys: 3,
    clients: 4,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w1_registers_under_pauses() {
    let nemeses: Vec<Box<dyn Nemesis>> = vec![Box::new(PauseNemesis::default())];
    register_scenario("w1_registers_under_pauses", 0x5eed_0101, W1, nemeses, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w1_registers_under_kill_and_restart() {
    let nemeses: Vec<Box<dyn Nemesis>> = vec![Box::new(KillNemesis::default())];
    register_scenario(
        "w1_registers_under_kill_and_restart",
        0x5eed_0102,
        W1,
        nemeses,
        &[],
    )
    .await;
}

/// W1 while the servers are partitioned: the leader cut off alone, a follower cut off,
/// two followers unable to reach each other, or the leader's messages to one follower
/// lost (`PartitionNemesis`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w1_registers_under_partitions() {
    let nemeses: Vec<Box<dyn Nemesis>> = vec![Box::new(PartitionNemesis::default())];
    register_scenario(
        "w1_registers_under_partitions",
        0x5eed_0103,
        W1,
        nemeses,
        FAULTS_ENV,
    )
    .await;
}

/// W1 while servers leave the Raft configuration and come back (`MembershipNemesis`:
/// `PUT /v1/agent/leave`, or `DELETE /v1/operator/raft/peer` and SIGTERM; the leader
/// half of the time), mixed with kill -9 and restart. Autopilot's stabilization time is
/// 1 s instead of Consul's 10 s, so that a returning server is a voter again within a
/// few seconds and several changes fit in the fault window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w1_registers_under_membership_changes() {
    let name = "w1_registers_under_membership_changes";
    let mut run = FaultRun::start(name, 0x5eed_0104, 3);
    set_stabilization_time(&run, "1s").await;
    let mut w1 = RegisterWorkload::start(&run, W1);
    let nemeses: Vec<Box<dyn Nemesis>> = vec![
        Box::new(MembershipNemesis::default()),
        Box::new(KillNemesis::default()),
    ];
    run.faults(nemeses, FAULT_WINDOW, TRAFFIC).await;
    w1.stop().await;
    run.wait_for_leader_and_voters().await;
    let findings = w1.recover_and_check(&run).await;
    run.finish(findings, &[&w1]);
}

/// Sets autopilot's `ServerStabilizationTime` (the rest of its configuration kept: a PUT
/// takes what is missing as Go's zero value).
async fn set_stabilization_time(run: &FaultRun, time: &str) {
    let url = format!(
        "{}/v1/operator/autopilot/configuration",
        run.endpoints.url(0)
    );
    let mut configuration = get(&url).await.json();
    configuration["ServerStabilizationTime"] = time.into();
    let written = put(&url, configuration.to_string()).await;
    assert_eq!(written.status, 200, "{}", written.body);
}

/// A lock workload (W2) under `nemeses`, on servers started with `env`.
async fn lock_scenario(
    name: &str,
    seed: u64,
    nemeses: Vec<Box<dyn Nemesis>>,
    env: &[(&str, &str)],
) {
    let mut run = FaultRun::start_with_env(name, seed, 3, env);
    let config = LockConfig {
        prefix: "w2",
        keys: 2,
        clients: 4,
    };
    let mut w2 = LockWorkload::start(&run, config);
    run.faults(nemeses, FAULT_WINDOW, TRAFFIC).await;
    w2.stop().await;
    run.wait_for_leader_and_voters().await;
    let findings = w2.recover_and_check().await;
    run.finish(findings, &[&w2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w2_locks_under_pauses() {
    let nemeses: Vec<Box<dyn Nemesis>> = vec![Box::new(PauseNemesis::default())];
    lock_scenario("w2_locks_under_pauses", 0x5eed_0201, nemeses, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w2_locks_under_kill_and_restart() {
    let nemeses: Vec<Box<dyn Nemesis>> = vec![Box::new(KillNemesis::default())];
    lock_scenario("w2_locks_under_kill_and_restart", 0x5eed_0202, nemeses, &[]).await;
}

/// W2 under the same partitions as W1: a lock holder's session must not be shared, nor
/// its `LockIndex` go back, when the leader it acquired through is cut off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w2_locks_under_partitions() {
    let nemeses: Vec<Box<dyn Nemesis>> = vec![Box::new(PartitionNemesis::default())];
    lock_scenario(
        "w2_locks_under_partitions",
        0x5eed_0203,
        nemeses,
        FAULTS_ENV,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w3_watches_under_kill_and_restart() {
    let mut run = FaultRun::start("w3_watches_under_kill_and_restart", 0x5eed_0301, 3);
    let mut w1 = RegisterWorkload::start(
        &run,
        RegisterConfig {
            prefix: "w3",
            keys: 2,
            clients: 3,
        },
    );
    let watch = |key: &str, recurse, mode| Watch {
        key: key.to_string(),
        recurse,
        mode,
    };
    let mut w3 = WatchWorkload::start(
        &run,
        "w3",
        vec![
            watch("w3/k0", false, ReadMode::Default),
            watch("w3/k1", false, ReadMode::Consistent),
            watch("w3/", true, ReadMode::Default),
        ],
    );
    run.faults(
        vec![Box::new(KillNemesis::default())],
        FAULT_WINDOW,
        TRAFFIC,
    )
    .await;
    w1.stop().await;
    run.wait_for_leader_and_voters().await;
    w3.stop();
    w3.add_reads_to(&w1);
    let mut findings = w1.recover_and_check(&run).await;
    findings.merge(w3.check(&w1));
    run.finish(findings, &[&w1, &w3]);
}

/// W4 across every fault: pauses, minority kills and whole-cluster kills interleaved,
/// checked for durability (every register run checks it; this one mixes the faults, on
/// more keys).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w4_durability_under_pauses_and_kills() {
    let config = RegisterConfig {
        prefix: "w4",
        keys: 4,
        clients: 4,
    };
    let nemeses: Vec<Box<dyn Nemesis>> = vec![
        Box::new(PauseNemesis::default()),
        Box::new(KillNemesis::default()),
        Box::new(KillNemesis::whole_cluster()),
    ];
    register_scenario(
        "w4_durability_under_pauses_and_kills",
        0x5eed_0401,
        config,
        nemeses,
        &[],
    )
    .await;
}
