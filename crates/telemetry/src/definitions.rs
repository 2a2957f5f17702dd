//! The metrics Consul declares to its Prometheus sink up front (hashicorp/consul
//! `agent/setup.go` `getPrometheusDefs` and the definitions it gathers), for those
//! Proconsul emits: they are listed from start-up (counters and gauges at 0, timers with
//! `NaN` quantiles), never expire, and give their HELP text to every series of the
//! name. Undeclared metrics are listed once updated, with their name as HELP.

use crate::Kind;

/// `(name without the prefix, kind, HELP)`.
pub const DECLARED: &[(&str, Kind, &str)] = &[
    (
        "api.http",
        Kind::Timer,
        "Samples how long it takes to service the given HTTP request for the given verb and path.",
    ),
    (
        "raft.apply",
        Kind::Counter,
        "This counts the number of Raft transactions occurring over the interval.",
    ),
    (
        "raft.state.candidate",
        Kind::Counter,
        "This increments whenever a Consul server starts an election.",
    ),
    (
        "raft.state.leader",
        Kind::Counter,
        "This increments whenever a Consul server becomes a leader.",
    ),
    (
        "raft.commitTime",
        Kind::Timer,
        "This measures the time it takes to commit a new entry to the Raft log on the leader.",
    ),
    (
        "raft.leader.lastContact",
        Kind::Timer,
        "Measures the time since the leader was last able to contact the follower nodes when checking its leader lease.",
    ),
    (
        "kvs.apply",
        Kind::Timer,
        "Measures the time it takes to complete an update to the KV store.",
    ),
    (
        "txn.apply",
        Kind::Timer,
        "Measures the time spent applying a transaction operation.",
    ),
    (
        "txn.read",
        Kind::Timer,
        "Measures the time spent returning a read transaction.",
    ),
    (
        "session.apply",
        Kind::Timer,
        "Measures the time spent applying a session update.",
    ),
    (
        "session.renew",
        Kind::Timer,
        "Measures the time spent renewing a session.",
    ),
    (
        "catalog.register",
        Kind::Timer,
        "Measures the time it takes to complete a catalog register operation.",
    ),
    (
        "catalog.deregister",
        Kind::Timer,
        "Measures the time it takes to complete a catalog deregister operation.",
    ),
    (
        "catalog.service.query",
        Kind::Counter,
        "Increments for each catalog query for the given service.",
    ),
    (
        "catalog.service.query-tag",
        Kind::Counter,
        "Increments for each catalog query for the given service with the given tag.",
    ),
    (
        "catalog.service.query-tags",
        Kind::Counter,
        "Increments for each catalog query for the given service with the given tags.",
    ),
    (
        "catalog.service.not-found",
        Kind::Counter,
        "Increments for each catalog query where the given service could not be found.",
    ),
    (
        "rpc.request",
        Kind::Counter,
        "Increments when a server receives a Consul-related RPC request.",
    ),
    (
        "rpc.query",
        Kind::Counter,
        "Increments when a server receives a read request, indicating the rate of new read queries.",
    ),
    (
        "rpc.request_error",
        Kind::Counter,
        "Increments when a server returns an error from an RPC request.",
    ),
    (
        "client.rpc",
        Kind::Counter,
        "Increments whenever a Consul agent in client mode makes an RPC request to a Consul server.",
    ),
    (
        "client.rpc.failed",
        Kind::Counter,
        "Increments whenever a Consul agent in client mode fails to make an RPC request to a Consul server.",
    ),
    (
        "leader.reconcile",
        Kind::Timer,
        "Measures the time spent updating the raft store from the serf member information.",
    ),
    (
        "leader.reconcileMember",
        Kind::Timer,
        "Measures the time spent updating the raft store for a single serf member's information.",
    ),
    (
        "leader.barrier",
        Kind::Timer,
        "Measures the time spent waiting for the raft barrier upon gaining leadership.",
    ),
    (
        "rpc.queries_blocking",
        Kind::Gauge,
        "Shows the current number of in-flight blocking queries the server is handling.",
    ),
    (
        "autopilot.healthy",
        Kind::Gauge,
        "Tracks the overall health of the local server cluster. 1 if all servers are healthy, 0 if one or more are unhealthy.",
    ),
    (
        "autopilot.failure_tolerance",
        Kind::Gauge,
        "Tracks the number of voting servers that the cluster can lose while continuing to function.",
    ),
    (
        "acl.ResolveToken",
        Kind::Timer,
        "Measures the time it takes to resolve an ACL token.",
    ),
    (
        "acl.token.cache_hit",
        Kind::Counter,
        "Increments if Consul is able to resolve a token's identity from the cache.",
    ),
    (
        "acl.token.cache_miss",
        Kind::Counter,
        "Increments if Consul cannot resolve a token's identity from the cache.",
    ),
    (
        "acl.token.upsert",
        Kind::Timer,
        "Measures the time it takes to create or update an ACL token.",
    ),
    (
        "acl.token.clone",
        Kind::Timer,
        "Measures the time it takes to clone an ACL token.",
    ),
    (
        "acl.token.delete",
        Kind::Timer,
        "Measures the time it takes to delete an ACL token.",
    ),
    (
        "acl.policy.upsert",
        Kind::Timer,
        "Measures the time it takes to create or update an ACL policy.",
    ),
    (
        "acl.policy.delete",
        Kind::Timer,
        "Measures the time it takes to delete an ACL policy.",
    ),
    (
        "acl.role.upsert",
        Kind::Timer,
        "Measures the time it takes to create or update an ACL role.",
    ),
    (
        "acl.role.delete",
        Kind::Timer,
        "Measures the time it takes to delete an ACL role.",
    ),
    (
        "acl.bindingrule.upsert",
        Kind::Timer,
        "Measures the time it takes to create or update a binding rule.",
    ),
    (
        "acl.bindingrule.delete",
        Kind::Timer,
        "Measures the time it takes to delete a binding rule.",
    ),
    (
        "acl.authmethod.upsert",
        Kind::Timer,
        "Measures the time it takes to create or update an authentication method.",
    ),
    (
        "acl.authmethod.delete",
        Kind::Timer,
        "Measures the time it takes to delete an authentication method.",
    ),
    (
        "acl.login",
        Kind::Timer,
        "Measures the time it takes to complete an ACL login.",
    ),
    (
        "acl.logout",
        Kind::Timer,
        "Measures the time it takes to complete an ACL logout.",
    ),
];
