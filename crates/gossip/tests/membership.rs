//! Real sockets on 127.0.0.x: join through one address, tags, failure, leave, force-leave.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use proconsul_gossip::{GossipError, MemberEvent, MemberStatus};

const DEADLINE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_through_one_address_then_fail_and_leave() {
    let a = start(config("a", "127.0.0.1")).await;
    let b = start(config("b", "127.0.0.2")).await;
    let c = start(config("c", "127.0.0.3")).await;
    let d = start(config("d", "127.0.0.4")).await;
    let mut events = a.subscribe();
    let seed = addr(&a);
    for g in [&b, &c, &d] {
        assert_eq!(g.join(&[seed]).await.unwrap(), 1);
    }
    let all = [&a, &b, &c, &d];
    eventually("everyone sees everyone alive", DEADLINE, || {
        ["a", "b", "c", "d"]
            .iter()
            .all(|n| all_see(&all, n, MemberStatus::Alive))
    })
    .await;
    let m = a.member("c").unwrap();
    assert_eq!(m.addr, addr(&c));
    assert_eq!(m.tags.get("role").map(String::as_str), Some("node"));
    assert_eq!(a.members().len(), 4);

    // Tags propagate as an update.
    c.set_tags(BTreeMap::from([("role".into(), "consul".into())]))
        .unwrap();
    eventually("tag update seen", DEADLINE, || {
        all.iter().all(|g| {
            g.member("c")
                .is_some_and(|m| m.tags.get("role").map(String::as_str) == Some("consul"))
        })
    })
    .await;
    let too_big: BTreeMap<String, String> = (0..40)
        .map(|i| (format!("key{i}"), "v".repeat(10)))
        .collect();
    assert!(matches!(c.set_tags(too_big), Err(GossipError::TagsTooLarge(n)) if n > 512));

    // A member that stops without leaving is failed.
    d.shutdown().await;
    eventually("d failed everywhere", DEADLINE, || {
        all_see(&[&a, &b, &c], "d", MemberStatus::Failed)
    })
    .await;

    // A member that leaves is left.
    b.leave().await.unwrap();
    eventually("b left everywhere", DEADLINE, || {
        all_see(&[&a, &c], "b", MemberStatus::Left)
    })
    .await;

    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(e);
    }
    assert!(
        seen.iter()
            .any(|e| matches!(e, MemberEvent::Join(m) if m.name == "c"))
    );
    assert!(
        seen.iter()
            .any(|e| matches!(e, MemberEvent::Update(m) if m.name == "c"))
    );
    assert!(
        seen.iter()
            .any(|e| matches!(e, MemberEvent::Failed(m) if m.name == "d"))
    );
    assert!(
        seen.iter()
            .any(|e| matches!(e, MemberEvent::Leave(m) if m.name == "b"))
    );
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, MemberEvent::Failed(m) if m.name == "b"))
    );

    let stats = a.stats();
    assert_eq!((stats.members, stats.failed, stats.left), (4, 1, 1));
    for g in [&a, &b, &c] {
        g.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_leave_with_and_without_prune() {
    let a = start(config("a", "127.0.0.1")).await;
    let b = start(config("b", "127.0.0.2")).await;
    let c = start(config("c", "127.0.0.3")).await;
    let d = start(config("d", "127.0.0.4")).await;
    for g in [&b, &c, &d] {
        g.join(&[addr(&a)]).await.unwrap();
    }
    eventually("all alive", DEADLINE, || {
        ["a", "b", "c", "d"]
            .iter()
            .all(|n| all_see(&[&a, &b], n, MemberStatus::Alive))
    })
    .await;
    assert!(matches!(
        a.force_leave("nobody", false).await,
        Err(GossipError::NoSuchMember(_))
    ));
    c.shutdown().await;
    d.shutdown().await;
    eventually("c and d failed", DEADLINE, || {
        all_see(&[&a, &b], "c", MemberStatus::Failed)
            && all_see(&[&a, &b], "d", MemberStatus::Failed)
    })
    .await;
    a.force_leave("c", false).await.unwrap();
    a.force_leave("d", true).await.unwrap();
    eventually("c left, d pruned, on both", DEADLINE, || {
        all_see(&[&a, &b], "c", MemberStatus::Left)
            && a.member("d").is_none()
            && b.member("d").is_none()
    })
    .await;
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_nobody_is_an_error() {
    let a = start(config("a", "127.0.0.1")).await;
    let dead = "127.0.0.1:1".parse().unwrap();
    assert!(matches!(
        a.join(&[dead]).await,
        Err(GossipError::NoneJoined(_))
    ));
    a.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_on_a_new_address_replaces_its_old_self() {
    let a = start(config("a", "127.0.0.1")).await;
    let b = start(config("b", "127.0.0.2")).await;
    let c = start(config("c", "127.0.0.3")).await;
    b.join(&[addr(&a)]).await.unwrap();
    c.join(&[addr(&a)]).await.unwrap();
    eventually("all alive", DEADLINE, || {
        ["a", "b", "c"]
            .iter()
            .all(|n| all_see(&[&a, &b], n, MemberStatus::Alive))
    })
    .await;
    let old = a.member("c").unwrap();
    c.shutdown().await;
    // Same name, new address (a rescheduled container): no "node name conflict", the new
    // generation simply wins.
    let c2 = start(config("c", "127.0.0.9")).await;
    c2.join(&[addr(&b)]).await.unwrap();
    let new_addr = addr(&c2);
    assert_ne!(new_addr, old.addr);
    eventually("c replaced everywhere", DEADLINE, || {
        [&a, &b].iter().all(|g| {
            g.member("c").is_some_and(|m| {
                m.status == MemberStatus::Alive
                    && m.addr == new_addr
                    && m.generation > old.generation
            })
        })
    })
    .await;
    assert_eq!(a.members().len(), 3);
    for g in [&a, &b, &c2] {
        g.shutdown().await;
    }
}
