//! RTT samples for Vivaldi on real sockets: each probe's round trip comes with the peer's
//! coordinate (carried on its ack), and coordinates are gossiped to every member.

mod common;

use std::time::Duration;

use common::*;
use proconsul_gossip::MemberStatus;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtt_samples_carry_the_peers_coordinate() {
    let a = start(config("a", "127.0.0.1")).await;
    let b = start(config("b", "127.0.0.2")).await;
    let c = start(config("c", "127.0.0.3")).await;
    let mut samples = b.rtt_samples();
    b.join(&[addr(&a)]).await.unwrap();
    c.join(&[addr(&a)]).await.unwrap();
    a.set_coordinate(vec![1, 2, 3]);
    // Oversized blobs are refused (kept out of every datagram).
    c.set_coordinate(vec![0; 200]);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let sample = loop {
        let sample = tokio::time::timeout_at(deadline, samples.recv())
            .await
            .expect("an RTT sample of a with its coordinate within 30 s")
            .unwrap();
        if sample.node == "a" && sample.peer_coordinate.is_some() {
            break sample;
        }
    };
    assert_eq!(sample.peer_coordinate.as_deref(), Some(&[1u8, 2, 3][..]));
    assert!(sample.rtt > Duration::ZERO && sample.rtt < Duration::from_secs(1));

    // Gossiped too: c learns a's coordinate without probing it necessarily.
    eventually("c knows a's coordinate", Duration::from_secs(30), || {
        c.coordinate_of("a") == Some(vec![1, 2, 3])
    })
    .await;
    assert_eq!(a.coordinate_of("c"), None);
    assert!(all_see(&[&a, &b, &c], "c", MemberStatus::Alive));
    for g in [&a, &b, &c] {
        g.shutdown().await;
    }
}
