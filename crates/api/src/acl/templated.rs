//! The built-in policy templates a token or role may use, by name, with their reserved
//! IDs and whether they need the `name` variable. Enough to validate and store a
//! templated policy; rendering one into rules is the ACL engine's business.

/// One built-in template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplatedPolicyBase {
    /// The reserved ID Consul gives it (`TemplateID`).
    pub id: &'static str,
    /// `builtin/service`, ...
    pub name: &'static str,
    /// Whether its schema requires `name`.
    pub requires_name: bool,
}

/// The templates of Consul CE (1.17+); `...0007` (workload identity) is gone.
pub const BUILTIN_TEMPLATED_POLICIES: &[TemplatedPolicyBase] = &[
    TemplatedPolicyBase {
        id: "00000000-0000-0000-0000-000000000003",
        name: "builtin/service",
        requires_name: true,
    },
    TemplatedPolicyBase {
        id: "00000000-0000-0000-0000-000000000004",
        name: "builtin/node",
        requires_name: true,
    },
    TemplatedPolicyBase {
        id: "00000000-0000-0000-0000-000000000005",
        name: "builtin/dns",
        requires_name: false,
    },
    TemplatedPolicyBase {
        id: "00000000-0000-0000-0000-000000000006",
        name: "builtin/nomad-server",
        requires_name: false,
    },
    TemplatedPolicyBase {
        id: "00000000-0000-0000-0000-000000000008",
        name: "builtin/api-gateway",
        requires_name: true,
    },
    TemplatedPolicyBase {
        id: "00000000-0000-0000-0000-000000000009",
        name: "builtin/nomad-client",
        requires_name: true,
    },
];

/// The built-in template called `name`.
pub fn builtin_templated_policy(name: &str) -> Option<&'static TemplatedPolicyBase> {
    BUILTIN_TEMPLATED_POLICIES
        .iter()
        .find(|template| template.name == name)
}
