//! Disk faults under a 3-server cluster, with libfiu (Debian's `fiu-utils`): every
//! server runs with libfiu's POSIX preload, and `fiu-ctrl` makes one live server's
//! `fdatasync`/`fsync` fail with EIO, or its writes fail with ENOSPC. A server whose disk
//! fails must stop acknowledging writes and never acknowledge one it did not persist; it
//! must not keep answering reads as if it still led; the other two carry on; and after
//! the fault is lifted and the server restarted, it catches up. Every write a client saw
//! acknowledged is in the final state.

use std::process::Command;
use std::time::{Duration, Instant};

use proconsul_tests::cluster::TestCluster;
use proconsul_tests::{Answer, call, eventually};

const WITHIN: Duration = Duration::from_secs(60);
const PRELOAD_DIR: &str = "/usr/lib/fiu";

/// The environment `fiu-run -x` gives a program: libfiu's POSIX wrappers and its remote
/// control (named pipes `/tmp/fiu-ctrl-<pid>.{in,out}`, which `fiu-ctrl` talks to).
fn libfiu_env() -> Vec<(&'static str, String)> {
    assert!(
        std::path::Path::new(PRELOAD_DIR)
            .join("fiu_posix_preload.so")
            .exists(),
        "libfiu is not installed (apt-get install fiu-utils; scripts/test.sh does)"
    );
    vec![
        (
            "LD_PRELOAD",
            format!("{PRELOAD_DIR}/fiu_run_preload.so {PRELOAD_DIR}/fiu_posix_preload.so"),
        ),
        ("FIU_CTRL_FIFO", "/tmp/fiu-ctrl".to_string()),
        ("FIU_ENABLE", String::new()),
    ]
}

/// Runs `fiu-ctrl -c COMMAND PID` for each command.
fn fiu_ctrl(pid: u32, commands: &[&str]) {
    for command in commands {
        let status = Command::new("fiu-ctrl")
            .args(["-c", command, &pid.to_string()])
            .status()
            .expect("cannot run fiu-ctrl");
        assert!(status.success(), "fiu-ctrl -c '{command}' {pid} failed");
    }
}

/// `PUT /v1/kv/<key>` on `server` with a short client timeout; `None` when no answer.
async fn try_put(cluster: &TestCluster, server: usize, key: &str, value: &str) -> Option<Answer> {
    let url = cluster.agent(server).url(&format!("/v1/kv/{key}"));
    tokio::time::timeout(
        Duration::from_secs(10),
        call("PUT", &url, Some(value.as_bytes().to_vec())),
    )
    .await
    .ok()
}

/// The value of `key` as `server` reads it with `?consistent`, if it answers 200.
async fn consistent_value(cluster: &TestCluster, server: usize, key: &str) -> Option<String> {
    let url = cluster
        .agent(server)
        .url(&format!("/v1/kv/{key}?raw&consistent"));
    let answer = tokio::time::timeout(Duration::from_secs(10), call("GET", &url, None))
        .await
        .ok()?;
    (answer.status == 200).then_some(answer.body)
}

/// Runs one disk fault on the leader: `enable` commands for fiu-ctrl.
async fn leader_disk_fails(enable: &[&str]) {
    let env = libfiu_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut cluster = TestCluster::start_with_env(3, &[], &env);
    let leader = cluster.wait_for_leader(WITHIN);
    let key = "disk/register";
    let first = try_put(&cluster, leader, key, "before-0").await.unwrap();
    assert_eq!(first.status, 200, "{}", first.body);

    let pid = cluster.agent(leader).pid().unwrap();
    fiu_ctrl(pid, enable);
    // Writes to the failing leader: each is acknowledged, refused or unanswered; an
    // acknowledged one must survive.
    let mut acked_after_fault = Vec::new();
    for i in 1..=5 {
        let value = format!("during-{i}");
        if let Some(answer) = try_put(&cluster, leader, key, &value).await {
            eprintln!(
                "write {i} to the failing leader: {} {}",
                answer.status,
                answer.body.trim()
            );
            if answer.status == 200 && answer.body.trim() == "true" {
                acked_after_fault.push(value);
            }
        } else {
            eprintln!("write {i} to the failing leader: no answer");
        }
    }

    // The other two carry on: one of them leads and takes writes.
    let others: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    let mut written_elsewhere = None;
    let deadline = Instant::now() + WITHIN;
    'write: while Instant::now() < deadline {
        for &other in &others {
            if let Some(answer) = try_put(&cluster, other, key, "after-fault").await
                && answer.status == 200
            {
                written_elsewhere = Some(other);
                break 'write;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let healthy = written_elsewhere.expect("the two healthy servers took no write");
    // The last acknowledged write (one key, written in order): what every server must
    // end up with.
    let last_acked = "after-fault".to_string();

    // The failed server must not answer a default read with the old value as if current.
    let stale_url = cluster.agent(leader).url(&format!("/v1/kv/{key}?raw"));
    if let Ok(answer) =
        tokio::time::timeout(Duration::from_secs(10), call("GET", &stale_url, None)).await
    {
        eprintln!(
            "default read on the failed server: {} {}",
            answer.status, answer.body
        );
        assert!(
            answer.status != 200 || answer.body == last_acked,
            "the failed server served {} while {} was acknowledged elsewhere",
            answer.body,
            last_acked
        );
    }

    // Restart the failed server (its disk healthy again: the new process starts with
    // no failure point enabled): it catches up.
    cluster.kill(leader);
    cluster.restart_and_wait(leader);
    eventually("the restarted server catches up", WITHIN, || async {
        consistent_value(&cluster, leader, key).await.as_deref() == Some(last_acked.as_str())
    })
    .await;
    assert_eq!(
        consistent_value(&cluster, healthy, key).await.as_deref(),
        Some(last_acked.as_str())
    );
    assert!(
        acked_after_fault.is_empty(),
        "the failing leader acknowledged {acked_after_fault:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_whose_fsync_fails_stops_acknowledging_and_the_cluster_carries_on() {
    leader_disk_fails(&[
        "enable name=posix/io/sync/fdatasync,failinfo=5",
        "enable name=posix/io/sync/fsync,failinfo=5",
    ])
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_whose_disk_is_full_stops_acknowledging_and_the_cluster_carries_on() {
    leader_disk_fails(&[
        // redb writes with pwrite; plain write is left alone (the log goes through it).
        "enable name=posix/io/rw/pwrite,failinfo=28",
        "enable name=posix/io/rw/pwritev,failinfo=28",
    ])
    .await;
}
