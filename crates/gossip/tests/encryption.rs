//! Gossip encryption on real sockets: a wrong key cannot join or read, cluster-wide keyring
//! operations report per node, rotation under traffic loses nobody, the keyring file follows.

mod common;

use std::time::Duration;

use common::*;
use proconsul_gossip::{GossipError, KeyringOp, MemberStatus, generate_key};

const DEADLINE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_key_or_no_key_cannot_join() {
    let key = generate_key();
    let a = start(encrypted(config("a", "127.0.0.1"), &key)).await;
    let b = start(encrypted(config("b", "127.0.0.2"), &key)).await;
    b.join(&[addr(&a)]).await.unwrap();
    assert!(a.encryption_enabled());

    let wrong = start(encrypted(config("wrong", "127.0.0.3"), &generate_key())).await;
    assert!(matches!(
        wrong.join(&[addr(&a)]).await,
        Err(GossipError::NoneJoined(_))
    ));
    let plain = start(config("plain", "127.0.0.4")).await;
    assert!(!plain.encryption_enabled());
    assert!(matches!(
        plain.join(&[addr(&a)]).await,
        Err(GossipError::NoneJoined(_))
    ));
    // An encrypted member cannot join a plaintext one either.
    assert!(matches!(
        wrong.join(&[addr(&plain)]).await,
        Err(GossipError::NoneJoined(_))
    ));

    eventually("a and b see each other", DEADLINE, || {
        all_see(&[&a, &b], "a", MemberStatus::Alive) && all_see(&[&a, &b], "b", MemberStatus::Alive)
    })
    .await;
    // Give the outsiders time to try; they never become members.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for g in [&a, &b] {
        assert!(g.member("wrong").is_none() && g.member("plain").is_none());
    }
    assert_eq!(wrong.members().len(), 1);
    for g in [&a, &b, &wrong, &plain] {
        g.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staged_rollout_with_verify_flags() {
    let key = generate_key();
    // Step 1 of Consul's rollout: the key installed, still sending and accepting plaintext.
    let mut open = encrypted(config("open", "127.0.0.1"), &key);
    open.verify_incoming = false;
    open.verify_outgoing = false;
    let open = start(open).await;
    let plain = start(config("plain", "127.0.0.2")).await;
    plain.join(&[addr(&open)]).await.unwrap();
    // Step 2: encrypting, still accepting plaintext; it can talk to `open` (which reads both).
    let mut half = encrypted(config("half", "127.0.0.3"), &key);
    half.verify_incoming = false;
    let half = start(half).await;
    half.join(&[addr(&open)]).await.unwrap();
    eventually("all three alive at open", DEADLINE, || {
        ["open", "plain", "half"]
            .iter()
            .all(|n| all_see(&[&open], n, MemberStatus::Alive))
    })
    .await;
    for g in [&open, &plain, &half] {
        g.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyring_operations_and_rotation_under_traffic() {
    let dir = tempfile::tempdir().unwrap();
    let k1 = generate_key();
    let mut members = Vec::new();
    for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
        let mut c = encrypted(config(name, &format!("127.0.0.{}", i + 1)), &k1);
        c.keyring_file = Some(dir.path().join(name).join("serf/local.keyring"));
        members.push(start(c).await);
    }
    let seed = addr(&members[0]);
    for g in &members[1..] {
        g.join(&[seed]).await.unwrap();
    }
    let refs: Vec<_> = members.iter().collect();
    eventually("all alive", DEADLINE, || {
        ["a", "b", "c", "d"]
            .iter()
            .all(|n| all_see(&refs, n, MemberStatus::Alive))
    })
    .await;
    let a = &members[0];

    let list = a.keyring_op(KeyringOp::List).await.unwrap();
    assert_eq!(list.num_nodes, 4);
    assert_eq!(list.keys.get(&k1), Some(&4));
    assert_eq!(list.primary_keys.get(&k1), Some(&4));
    assert!(list.messages.is_empty());

    // Traffic keeps flowing while keys rotate: every member's tags change repeatedly.
    let k2 = generate_key();
    let install = a.keyring_op(KeyringOp::Install(k2.clone())).await.unwrap();
    assert_eq!((install.num_nodes, install.num_err), (4, 0));
    let list = a.keyring_op(KeyringOp::List).await.unwrap();
    assert_eq!(list.keys.get(&k2), Some(&4));
    assert_eq!(list.primary_keys.get(&k1), Some(&4));

    let removing_primary = a.keyring_op(KeyringOp::Remove(k1.clone())).await.unwrap();
    assert_eq!(removing_primary.num_err, 4);
    assert!(
        removing_primary
            .messages
            .values()
            .all(|m| m == "Removing the primary key is not allowed")
    );
    assert_eq!(
        removing_primary.failure_message().unwrap(),
        "4/4 nodes reported failure"
    );

    let used = a.keyring_op(KeyringOp::Use(k2.clone())).await.unwrap();
    assert_eq!(used.num_err, 0);
    for round in 0..5 {
        for g in &members {
            let mut tags = std::collections::BTreeMap::new();
            tags.insert("round".to_string(), round.to_string());
            g.set_tags(tags).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let removed = a.keyring_op(KeyringOp::Remove(k1.clone())).await.unwrap();
    assert_eq!(removed.num_err, 0);
    let list = a.keyring_op(KeyringOp::List).await.unwrap();
    assert_eq!(list.keys.len(), 1);
    assert_eq!(list.primary_keys.get(&k2), Some(&4));

    // Nobody was lost, and tags still propagate under the new key.
    eventually(
        "all alive with the last tags after rotation",
        DEADLINE,
        || {
            ["a", "b", "c", "d"].iter().all(|n| {
                refs.iter().all(|g| {
                    g.member(n).is_some_and(|m| {
                        m.status == MemberStatus::Alive
                            && m.tags.get("round").map(String::as_str) == Some("4")
                    })
                })
            })
        },
    )
    .await;
    for g in &members {
        assert!(g.stats().failed == 0, "{} saw a failure", g.local_name());
    }

    // Each member rewrote its keyring file: only k2 is left.
    for name in ["a", "b", "c", "d"] {
        let text =
            std::fs::read_to_string(dir.path().join(name).join("serf/local.keyring")).unwrap();
        let keys: Vec<String> = serde_json::from_str(&text).unwrap();
        assert_eq!(keys, vec![k2.clone()], "{name}");
    }

    // A member restarted from its keyring file (no key configured) still gets in; one
    // holding only the retired key cannot.
    members[3].shutdown().await;
    let mut again = config("d", "127.0.0.4");
    again.keyring_file = Some(dir.path().join("d/serf/local.keyring"));
    let again = start(again).await;
    assert!(again.encryption_enabled());
    again.join(&[seed]).await.unwrap();
    let stale = start(encrypted(config("stale", "127.0.0.5"), &k1)).await;
    assert!(stale.join(&[seed]).await.is_err());
    for g in &members[..3] {
        g.shutdown().await;
    }
    again.shutdown().await;
    stale.shutdown().await;
}
