//! User events against a real agent: firing with filters, listing what this agent
//! accepts, `?name`, blocking, and bad input.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proconsul_tests::{TestAgent, get, put};
use serde_json::json;

#[tokio::test]
async fn events_fire_filter_and_block() {
    let agent = TestAgent::start();
    put(
        &agent.url("/v1/agent/service/register"),
        json!({"Name": "web", "Tags": ["v2"], "Port": 80}).to_string(),
    )
    .await;
    let fired = put(&agent.url("/v1/event/fire/deploy"), "v1.2.3").await;
    assert_eq!(fired.status, 200, "{}", fired.body);
    let event = fired.json();
    assert_eq!(event["Name"], "deploy");
    assert_eq!(event["Payload"], STANDARD.encode("v1.2.3"));
    assert_eq!(event["Version"], 1);
    assert!(!event["ID"].as_str().unwrap().is_empty());
    let node = &agent.node_name;
    for (query, expect) in [
        (format!("?node=^{node}$"), true),
        ("?node=^elsewhere$".to_string(), false),
        ("?service=web&tag=v2".to_string(), true),
        ("?service=web&tag=v9".to_string(), false),
        ("?service=db".to_string(), false),
    ] {
        let answer = put(&agent.url(&format!("/v1/event/fire/aimed{query}")), "").await;
        assert_eq!(answer.status, 200, "{query}: {}", answer.body);
        let id = answer.json()["ID"].as_str().unwrap().to_string();
        let listed = get(&agent.url("/v1/event/list?name=aimed")).await.json();
        let seen = listed.as_array().unwrap().iter().any(|e| e["ID"] == id);
        assert_eq!(seen, expect, "{query}");
    }
    let all = get(&agent.url("/v1/event/list")).await;
    let names: Vec<String> = all
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["deploy", "aimed", "aimed"]);
    // The index is the latest event's ID folded to 64 bits, which Consul's clients
    // (IDToIndex) compute to find the event they fired.
    let last_id = all.json().as_array().unwrap().last().unwrap()["ID"]
        .as_str()
        .unwrap()
        .replace('-', "");
    let half = |hex: &str| u64::from_str_radix(hex, 16).unwrap();
    assert_eq!(all.index(), half(&last_id[..16]) ^ half(&last_id[16..]));

    // A blocking list wakes when an event is fired. As in Consul, a list's index is
    // derived from its latest event's ID (1 when it has none), so a watch takes the
    // index of the list it watches.
    let late = get(&agent.url("/v1/event/list?name=late")).await;
    assert_eq!(late.index(), 1);
    let index = late.index();
    let url = agent.url(&format!("/v1/event/list?name=late&index={index}&wait=10s"));
    let waiter = tokio::spawn(async move { get(&url).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    put(&agent.url("/v1/event/fire/late"), "").await;
    let woke = waiter.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(woke.json()[0]["Name"], "late");

    let tag_alone = put(&agent.url("/v1/event/fire/x?tag=v2"), "").await;
    assert_eq!(tag_alone.status, 400);
    let bad_regex = put(&agent.url("/v1/event/fire/x?node=(("), "").await;
    assert_eq!(bad_regex.status, 400);
    let big = put(&agent.url("/v1/event/fire/x"), vec![b'x'; 600]).await;
    assert_eq!(big.status, 400);
}
