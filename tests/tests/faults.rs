//! Fault scenarios with fixed seeds (`PROCONSUL_FAULT_SEED` replays another): three
//! servers, about 20 s of bounded client traffic with faults in its middle, then heal,
//! recovery (a leader, a `?consistent` read and a write per key) and the history checked
//! for linearizability (tier 1 and 2), per-server monotonic `?stale` reads, lock fencing,
//! blocking-query guarantees and durability. No timed assertions: the bounds are
//! generous and documented where they are used. See docs/RELIABILITY.md.

use std::time::Duration;

use proconsul_tests::fault::kill::KillNemesis;
use proconsul_tests::fault::nemesis::Schedule;
use proconsul_tests::fault::pause::PauseNemesis;
use proconsul_tests::fault::register_workload::{RegisterConfig, RegisterWorkload};
use proconsul_tests::fault::run::FaultRun;

/// Traffic lasts this long; faults come and go in [`FAULT_WINDOW`] of it.
const TRAFFIC: Duration = Duration::from_secs(20);
const FAULT_WINDOW: Schedule = Schedule {
    start: Duration::from_secs(4),
    end: Duration::from_secs(16),
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w1_registers_under_pauses() {
    let mut run = FaultRun::start("w1_registers_under_pauses", 0x5eed_0101, 3);
    let mut w1 = RegisterWorkload::start(
        &run,
        RegisterConfig {
            prefix: "w1",
            keys: 3,
            clients: 4,
        },
    );
    run.faults(
        vec![Box::new(PauseNemesis::default())],
        FAULT_WINDOW,
        TRAFFIC,
    )
    .await;
    w1.stop().await;
    run.wait_for_leader().await;
    let findings = w1.recover_and_check(&run).await;
    run.finish(findings, &[&w1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w1_registers_under_kill_and_restart() {
    let mut run = FaultRun::start("w1_registers_under_kill_and_restart", 0x5eed_0102, 3);
    let mut w1 = RegisterWorkload::start(
        &run,
        RegisterConfig {
            prefix: "w1",
            keys: 3,
            clients: 4,
        },
    );
    run.faults(
        vec![Box::new(KillNemesis::default())],
        FAULT_WINDOW,
        TRAFFIC,
    )
    .await;
    w1.stop().await;
    run.wait_for_leader().await;
    let findings = w1.recover_and_check(&run).await;
    run.finish(findings, &[&w1]);
}
