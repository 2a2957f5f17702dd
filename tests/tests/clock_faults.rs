//! Clock faults on one server of three, with libfaketime (Debian's `faketime`): its
//! wall clock jumping an hour forward and back while its monotonic clock runs on, and
//! a server whose clocks (wall and monotonic, so its timers too) run three times fast.
//! Raft timing, session TTLs and blocking waits run on the monotonic clock, so a wall
//! clock jump must change nothing: the leader keeps leading, sessions live on, writes
//! are taken. A fast follower may call elections, but no acknowledged write is lost.
//! (A leader whose clocks run slow stretches its read lease: documented in
//! docs/RELIABILITY.md, not tested here.)

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proconsul_tests::cluster::TestCluster;
use proconsul_tests::{TempDir, call, eventually};
use serde_json::Value;

const WITHIN: Duration = Duration::from_secs(60);
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

fn libfaketime() -> &'static str {
    assert!(
        Path::new(LIBFAKETIME).exists(),
        "libfaketime is not installed (apt-get install faketime; scripts/test.sh does)"
    );
    LIBFAKETIME
}

/// The environment that puts a process's wall clock under `timestamp_file` (an offset
/// such as `+0` or `+3600`, re-read at every call) and leaves its monotonic clock real.
fn wall_clock_env(timestamp_file: &Path) -> Vec<(String, String)> {
    vec![
        ("LD_PRELOAD".into(), libfaketime().into()),
        (
            "FAKETIME_TIMESTAMP_FILE".into(),
            timestamp_file.display().to_string(),
        ),
        ("FAKETIME_NO_CACHE".into(), "1".into()),
        ("FAKETIME_DONT_FAKE_MONOTONIC".into(), "1".into()),
    ]
}

async fn put(cluster: &TestCluster, server: usize, path: &str, body: &str) -> Option<String> {
    let url = cluster.agent(server).url(path);
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        call("PUT", &url, Some(body.as_bytes().to_vec())),
    )
    .await
    .ok()?;
    (answer.status == 200).then_some(answer.body)
}

async fn get(cluster: &TestCluster, server: usize, path: &str) -> Option<String> {
    let url = cluster.agent(server).url(path);
    let answer = tokio::time::timeout(Duration::from_secs(10), call("GET", &url, None))
        .await
        .ok()?;
    (answer.status == 200).then_some(answer.body)
}

/// How far ahead of the real clock `server`'s wall clock is, in seconds, from the
/// `Timestamp` of its metrics: the start of the last finished 10 s interval, stamped
/// with its own wall clock when that interval was collected (so a jump shows once the
/// next interval is).
async fn wall_clock_lead(cluster: &TestCluster, server: usize) -> i64 {
    let body = get(cluster, server, "/v1/agent/metrics")
        .await
        .expect("metrics");
    let metrics: Value = serde_json::from_str(&body).unwrap();
    let stamp = metrics["Timestamp"]
        .as_str()
        .unwrap()
        .trim_end_matches(" +0000 UTC");
    let output = std::process::Command::new("date")
        .args(["-u", "-d", stamp, "+%s"])
        .output()
        .expect("cannot run date");
    let theirs: i64 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap();
    let ours = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    theirs - ours
}

/// Whether session `id` still exists, as `server` reads it.
async fn session_exists(cluster: &TestCluster, server: usize, id: &str) -> bool {
    let body = get(
        cluster,
        server,
        &format!("/v1/session/info/{id}?consistent"),
    )
    .await
    .unwrap_or_default();
    serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|sessions| sessions.as_array().map(|list| !list.is_empty()))
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leaders_wall_clock_jumping_an_hour_changes_nothing() {
    let clocks = TempDir::new("clock-files");
    let clock_of = |i: usize| -> PathBuf { clocks.path().join(format!("server-{i}.offset")) };
    for i in 0..3 {
        std::fs::write(clock_of(i), "+0").unwrap();
    }
    let cluster = TestCluster::start_with_env_of(3, &[], |i| wall_clock_env(&clock_of(i)));
    let leader = cluster.wait_for_leader(WITHIN);
    let session = put(
        &cluster,
        leader,
        "/v1/session/create",
        r#"{"TTL": "30s", "LockDelay": "0s", "Behavior": "delete"}"#,
    )
    .await
    .expect("session create");
    let session: Value = serde_json::from_str(&session).unwrap();
    let session = session["ID"].as_str().unwrap().to_string();
    let locked = put(
        &cluster,
        leader,
        &format!("/v1/kv/clock/lock?acquire={session}"),
        "held",
    )
    .await;
    assert_eq!(locked.as_deref().map(str::trim), Some("true"));

    // An hour forward, then back to the real time (an hour backward).
    for (step, offset) in ["+3600", "+0"].iter().enumerate() {
        std::fs::write(clock_of(leader), offset).unwrap();
        // The jump took: the leader's wall clock is off by the offset (within the
        // metrics interval and this test's own delays).
        let wanted: i64 = offset.parse().unwrap();
        eventually("the leader's wall clock to move", WITHIN, || async {
            (wall_clock_lead(&cluster, leader).await - wanted).abs() < 40
        })
        .await;
        // For 3 s after the jump: the same leader, writes taken, the session alive (its
        // TTL counts on the monotonic clock), renewals accepted.
        let until = Instant::now() + Duration::from_secs(3);
        let mut round = 0;
        while Instant::now() < until {
            round += 1;
            assert_eq!(
                cluster.wait_for_leader(WITHIN),
                leader,
                "the leader changed after its wall clock moved by {offset}"
            );
            let written = put(
                &cluster,
                leader,
                "/v1/kv/clock/register",
                &format!("{step}-{round}"),
            )
            .await;
            assert_eq!(
                written.as_deref().map(str::trim),
                Some("true"),
                "write after {offset}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        assert!(
            session_exists(&cluster, leader, &session).await,
            "the session ended when the leader's wall clock moved by {offset}"
        );
        let renewed = put(
            &cluster,
            leader,
            &format!("/v1/session/renew/{session}"),
            "",
        )
        .await;
        assert!(renewed.is_some(), "renewal refused after {offset}");
    }
    // Still held: the session outlived both jumps.
    let held = get(&cluster, leader, "/v1/kv/clock/lock?raw&consistent").await;
    assert_eq!(held.as_deref(), Some("held"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_whose_clocks_run_three_times_fast_loses_no_acknowledged_write() {
    // Server 3's clocks (wall and monotonic: its timers fire three times early). Started
    // together, any of the three may lead; the fast one is the last.
    let cluster = TestCluster::start_with_env_of(3, &[], |i| {
        if i == 2 {
            vec![
                ("LD_PRELOAD".into(), libfaketime().into()),
                ("FAKETIME".into(), "+0 x3".into()),
                ("FAKETIME_NO_CACHE".into(), "1".into()),
            ]
        } else {
            Vec::new()
        }
    });
    let first_leader = cluster.wait_for_leader(WITHIN);
    let mut last_acked = None;
    // Writes after the last acknowledged one whose outcome is unknown (refused by a
    // server mid-election, or unanswered): one of them may still have been applied.
    let mut maybe_after: Vec<String> = Vec::new();
    let until = Instant::now() + Duration::from_secs(10);
    let mut attempt = 0;
    while Instant::now() < until {
        attempt += 1;
        let writer = attempt % 2; // the two servers with real clocks
        let value = format!("v{attempt}");
        if put(&cluster, writer, "/v1/kv/clock/fast", &value)
            .await
            .as_deref()
            .map(str::trim)
            == Some("true")
        {
            last_acked = Some(value);
            maybe_after.clear();
        } else {
            maybe_after.push(value);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let last_acked = last_acked.expect("no write was acknowledged in 10 s");
    let leader = cluster.wait_for_leader(WITHIN);
    // The fault took: server 3's clock is well ahead of the real one.
    eventually("server 3's clock to run ahead", WITHIN, || async {
        wall_clock_lead(&cluster, 2).await > 10
    })
    .await;
    eprintln!("leader at first: server {first_leader}; at the end: server {leader}");
    let settled = get(&cluster, leader, "/v1/kv/clock/fast?raw&consistent")
        .await
        .expect("a consistent read after the run");
    assert!(
        settled == last_acked || maybe_after.contains(&settled),
        "the cluster holds {settled}; {last_acked} was the last acknowledged write"
    );
    for server in 0..3 {
        eventually("every server holds the settled value", WITHIN, || async {
            get(&cluster, server, "/v1/kv/clock/fast?raw&stale")
                .await
                .as_deref()
                == Some(settled.as_str())
        })
        .await;
    }
}
