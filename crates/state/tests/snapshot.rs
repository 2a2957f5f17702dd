//! Property tests: any sequence of commands, snapshotted and restored at any point,
//! answers every query the same as the original, and keeps doing so as commands go on.

use proconsul_api::coordinate::Coordinate;
use proconsul_api::query::{PreparedQuery, QueryTemplate, ServiceQuery};
use proconsul_api::{
    AgentService, CatalogDeregistration, CatalogRegistration, HealthCheck, HealthStatus, Session,
    SessionBehavior, UserEvent,
};
use proconsul_state::{
    Command, CoordinateUpdate, KvCommand, KvOp, PreparedQueryOp, RequestId, State, Table,
};
use proptest::prelude::*;

const NODES: &[&str] = &["n1", "n2", "n3"];
const SERVICES: &[&str] = &["web", "db", "cache"];
const KEYS: &[&str] = &["a", "a/b", "a/c", "b", "b/x/y", ""];
const SESSIONS: &[&str] = &["s1", "s2"];
const QUERY_IDS: &[&str] = &["q1", "q2"];

fn status() -> impl Strategy<Value = HealthStatus> {
    prop_oneof![
        Just(HealthStatus::Passing),
        Just(HealthStatus::Warning),
        Just(HealthStatus::Critical)
    ]
}

fn plain_command() -> impl Strategy<Value = Command> {
    let register = (
        0..NODES.len(),
        proptest::option::of((0..SERVICES.len(), 0..3usize, 0u16..3)),
        proptest::option::of((status(), any::<bool>())),
    )
        .prop_map(|(node, service, check)| {
            let node = NODES[node].to_string();
            let service = service.map(|(name, id, port)| AgentService {
                id: format!("{}-{id}", SERVICES[name]),
                service: SERVICES[name].to_string(),
                port,
                ..AgentService::default()
            });
            let checks = check
                .map(|(status, bound)| {
                    let service_id = match (&service, bound) {
                        (Some(service), true) => service.id.clone(),
                        _ => String::new(),
                    };
                    vec![HealthCheck {
                        check_id: format!("check-{service_id}"),
                        service_id,
                        status,
                        ..HealthCheck::default()
                    }]
                })
                .unwrap_or_default();
            Command::Register(Box::new(CatalogRegistration {
                node,
                address: "127.0.0.1".to_string(),
                service,
                checks,
                ..CatalogRegistration::default()
            }))
        });
    let deregister = (0..NODES.len(), 0..3usize, 0..SERVICES.len()).prop_map(|(node, what, s)| {
        let mut d = CatalogDeregistration {
            node: NODES[node].to_string(),
            ..CatalogDeregistration::default()
        };
        match what {
            0 => {}
            1 => d.service_id = format!("{}-0", SERVICES[s]),
            _ => d.check_id = "check-".to_string(),
        }
        Command::Deregister(d)
    });
    let kv = (
        prop_oneof![
            Just(KvOp::Set),
            Just(KvOp::Delete),
            Just(KvOp::DeleteTree),
            (0..SESSIONS.len()).prop_map(|s| KvOp::Acquire(SESSIONS[s].to_string())),
            (0..SESSIONS.len()).prop_map(|s| KvOp::Release(SESSIONS[s].to_string())),
        ],
        0..KEYS.len(),
        proptest::collection::vec(any::<u8>(), 0..4),
        proptest::option::of(0u64..6),
    )
        .prop_map(|(op, key, value, cas)| {
            Command::Kv(KvCommand {
                op,
                key: KEYS[key].to_string(),
                value,
                flags: 3,
                cas,
            })
        });
    let session_create =
        (0..SESSIONS.len(), 0..NODES.len(), any::<bool>()).prop_map(|(id, node, delete)| {
            Command::SessionCreate(Box::new(Session {
                id: SESSIONS[id].to_string(),
                node: NODES[node].to_string(),
                lock_delay: 1_000_000_000,
                behavior: if delete {
                    SessionBehavior::Delete
                } else {
                    SessionBehavior::Release
                },
                ..Session::default()
            }))
        });
    let session_destroy =
        (0..SESSIONS.len(), 0u64..10_000).prop_map(|(id, now_ms)| Command::SessionDestroy {
            id: SESSIONS[id].to_string(),
            now_ms,
        });
    let event = (0..3u8).prop_map(|n| {
        Command::EventFire(Box::new(UserEvent {
            id: format!("e{n}"),
            name: format!("event-{n}"),
            ..UserEvent::default()
        }))
    });
    let query_set = (
        0..QUERY_IDS.len(),
        0..3usize,
        any::<bool>(),
        proptest::option::of(0..SESSIONS.len()),
        any::<bool>(),
    )
        .prop_map(
            |(id, name, template, session, update)| Command::PreparedQuerySet {
                op: if update {
                    PreparedQueryOp::Update
                } else {
                    PreparedQueryOp::Create
                },
                query: Box::new(PreparedQuery {
                    id: QUERY_IDS[id].to_string(),
                    name: ["", "q", "web"][name].to_string(),
                    session: session.map(|s| SESSIONS[s].to_string()).unwrap_or_default(),
                    template: QueryTemplate {
                        kind: if template {
                            "name_prefix_match".into()
                        } else {
                            String::new()
                        },
                        ..QueryTemplate::default()
                    },
                    service: ServiceQuery {
                        service: "${name.full}".into(),
                        ..ServiceQuery::default()
                    },
                    ..PreparedQuery::default()
                }),
            },
        );
    let query_delete = (0..QUERY_IDS.len()).prop_map(|id| Command::PreparedQueryDelete {
        id: QUERY_IDS[id].to_string(),
    });
    let coordinates =
        proptest::collection::vec((0..NODES.len() + 1, 0u8..4), 1..4).prop_map(|entries| {
            Command::CoordinateBatchUpdate(
                entries
                    .into_iter()
                    .map(|(node, x)| CoordinateUpdate {
                        // One name the catalog never knows.
                        node: NODES.get(node).unwrap_or(&"ghost").to_string(),
                        segment: String::new(),
                        coord: Coordinate {
                            vec: vec![f64::from(x) / 100.0; 8],
                            error: 1.5,
                            adjustment: 0.0,
                            height: 1.0e-5,
                        },
                    })
                    .collect(),
            )
        });
    prop_oneof![
        register,
        deregister,
        coordinates,
        kv,
        session_create,
        session_destroy,
        event,
        query_set,
        query_delete
    ]
}

/// A plain command, or one forwarded under a request ID from a small set, so that IDs
/// repeat (a write sent again applies once, before and after a snapshot alike).
fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        3 => plain_command(),
        1 => (plain_command(), 0u64..4).prop_map(|(command, seq)| Command::Identified {
            id: RequestId { origin: 1, seq },
            command: std::sync::Arc::new(command),
        }),
    ]
}

/// Every query the HTTP layer can ask, rendered to comparable text.
fn answers(state: &State) -> String {
    let mut out = format!("{:?}\n", state.table_indexes());
    for node in state.nodes() {
        out += &format!(
            "node {node:?} {:?} {:?}\n",
            state.node_services(&node.node),
            state.node_checks(&node.node)
        );
    }
    out += &format!("{:?}\n", state.service_names());
    for name in SERVICES {
        out += &format!(
            "{name} {} {:?} {:?} {:?}\n",
            state.service_index(name),
            state.catalog_service(name),
            state.health_service(name),
            state.service_checks(name)
        );
    }
    out += &format!(
        "{:?}\n{:?}\n",
        state.checks_in_state(None),
        state.kv_list("")
    );
    out += &format!("{:?}\n", state.kv_keys("", Some("/")));
    out += &format!(
        "{:?}\n{:?}\n",
        state.sessions().collect::<Vec<_>>(),
        state.sessions_to_invalidate()
    );
    for key in KEYS {
        out += &format!("{key} {:?}\n", state.lock_delay_until(key));
    }
    out += &format!("{:?}\n", state.events().collect::<Vec<_>>());
    out += &format!("{:?}\n", state.prepared_queries().collect::<Vec<_>>());
    out += &format!("{:?}\n", state.coordinates().collect::<Vec<_>>());
    let mut near: Vec<&str> = NODES.to_vec();
    state.sort_by_distance_from("n1", &mut near, |node| node);
    out += &format!("{near:?}\n");
    for name in ["q", "web", "webby", "x", "q1"] {
        out += &format!("{name} {:?}\n", state.resolve_prepared_query(name));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn snapshot_restore_answers_every_query_the_same(
        commands in proptest::collection::vec(command(), 0..60),
        cut in 0usize..60,
    ) {
        let cut = cut.min(commands.len());
        let mut original = State::default();
        for (i, command) in commands[..cut].iter().enumerate() {
            original.apply(i as u64 + 1, command);
        }
        let mut restored = State::from_snapshot(&original.to_snapshot()).unwrap();
        prop_assert_eq!(&restored, &original);
        prop_assert_eq!(answers(&restored), answers(&original));
        for (i, command) in commands[cut..].iter().enumerate() {
            let index = (cut + i) as u64 + 1;
            prop_assert_eq!(original.apply(index, command), restored.apply(index, command));
        }
        prop_assert_eq!(answers(&restored), answers(&original));
    }

    #[test]
    fn table_indexes_never_exceed_the_last_applied_index_and_never_go_back(
        commands in proptest::collection::vec(command(), 0..60),
    ) {
        let mut state = State::default();
        for (i, command) in commands.iter().enumerate() {
            let before = state.table_indexes();
            state.apply(i as u64 + 1, command);
            let after = state.table_indexes();
            for table in Table::ALL {
                prop_assert!(after.get(table) >= before.get(table));
                prop_assert!(after.get(table) <= state.last_applied());
            }
            for name in SERVICES {
                prop_assert!(state.service_index(name) <= state.last_applied());
            }
        }
    }

    #[test]
    fn a_service_index_moves_whenever_its_health_answer_changes(
        commands in proptest::collection::vec(command(), 1..60),
    ) {
        let mut state = State::default();
        for (i, command) in commands.iter().enumerate() {
            let before: Vec<_> = SERVICES.iter().map(|s| (state.health_service(s), state.service_index(s))).collect();
            state.apply(i as u64 + 1, command);
            for (name, (answer, index)) in SERVICES.iter().zip(before) {
                if state.health_service(name) != answer {
                    prop_assert!(state.service_index(name) > index, "{} changed without its index moving", name);
                }
            }
        }
    }

    /// A real snapshot with bytes changed (a damaged disk or transfer): reading it
    /// never panics, and whatever it yields can be applied to and snapshotted again.
    #[test]
    fn damaged_snapshots_never_panic(
        commands in proptest::collection::vec(command(), 1..30),
        edits in proptest::collection::vec((any::<usize>(), 1u8..=255), 1..6),
    ) {
        let mut state = State::default();
        for (i, command) in commands.iter().enumerate() {
            state.apply(i as u64 + 1, command);
        }
        let mut bytes = state.to_snapshot();
        for (at, flip) in edits {
            let at = at % bytes.len();
            bytes[at] ^= flip;
        }
        if let Ok(mut read) = State::from_snapshot(&bytes) {
            let next = read.last_applied() + 1;
            read.apply(next, &commands[0]);
            let _ = read.to_snapshot();
        }
    }

    /// A Raft log entry's command as stored (postcard), damaged or cut short: decoding
    /// refuses it or yields a command the state machine applies without panicking.
    #[test]
    fn damaged_log_entries_never_panic(
        command in command(),
        edits in proptest::collection::vec((any::<usize>(), 1u8..=255), 0..4),
        cut in any::<usize>(),
    ) {
        let mut bytes = postcard::to_allocvec(&command).unwrap();
        for (at, flip) in edits {
            let at = at % bytes.len();
            bytes[at] ^= flip;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        if let Ok(decoded) = postcard::from_bytes::<Command>(&bytes) {
            let mut state = State::default();
            state.apply(1, &decoded);
        }
    }

    #[test]
    fn corrupt_snapshots_are_refused_not_panicked_on(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = State::from_snapshot(&bytes);
        let mut with_header = b"PCSNAP\0\x01".to_vec();
        with_header.extend(bytes);
        let _ = State::from_snapshot(&with_header);
    }
}
