//! The objects every ACL-enabled cluster has, with the IDs and texts Consul gives them,
//! and the prefix of IDs reserved for them.

/// IDs starting with this are reserved for built-in objects; clients may not choose one.
pub const ACL_RESERVED_PREFIX: &str = "00000000-0000-0000-0000-0000000000";

/// The `global-management` policy: everything, including `acl:write`.
pub const GLOBAL_MANAGEMENT_POLICY_ID: &str = "00000000-0000-0000-0000-000000000001";
/// Its name (which an operator may change).
pub const GLOBAL_MANAGEMENT_POLICY_NAME: &str = "global-management";
/// Its description.
pub const GLOBAL_MANAGEMENT_POLICY_DESCRIPTION: &str =
    "Builtin Policy that grants unlimited access";
/// Its rules, which may not be changed.
pub const GLOBAL_MANAGEMENT_POLICY_RULES: &str = r#"
acl = "write"
agent_prefix "" {
	policy = "write"
}
event_prefix "" {
	policy = "write"
}
key_prefix "" {
	policy = "write"
}
keyring = "write"
node_prefix "" {
	policy = "write"
}
operator = "write"
mesh = "write"
peering = "write"
query_prefix "" {
	policy = "write"
}
service_prefix "" {
	policy = "write"
	intentions = "write"
}
session_prefix "" {
	policy = "write"
}"#;

/// The `builtin/global-read-only` policy: read access to everything.
pub const GLOBAL_READ_ONLY_POLICY_ID: &str = "00000000-0000-0000-0000-000000000002";
/// Its name.
pub const GLOBAL_READ_ONLY_POLICY_NAME: &str = "builtin/global-read-only";
/// Its description.
pub const GLOBAL_READ_ONLY_POLICY_DESCRIPTION: &str =
    "Builtin Policy that grants unlimited read-only access to all components";
/// Its rules, which may not be changed.
pub const GLOBAL_READ_ONLY_POLICY_RULES: &str = r#"
acl = "read"
agent_prefix "" {
	policy = "read"
}
event_prefix "" {
	policy = "read"
}
key_prefix "" {
	policy = "read"
}
keyring = "read"
node_prefix "" {
	policy = "read"
}
operator = "read"
mesh = "read"
peering = "read"
query_prefix "" {
	policy = "read"
}
service_prefix "" {
	policy = "read"
	intentions = "read"
}
session_prefix "" {
	policy = "read"
}"#;

/// The anonymous token, used by requests that carry no token.
pub const ANONYMOUS_TOKEN_ACCESSOR_ID: &str = "00000000-0000-0000-0000-000000000002";
/// Its secret: the literal word, so that `X-Consul-Token: anonymous` selects it.
pub const ANONYMOUS_TOKEN_SECRET_ID: &str = "anonymous";
/// Its description.
pub const ANONYMOUS_TOKEN_DESCRIPTION: &str = "Anonymous Token";

/// The description of the token made from `acl.tokens.initial_management`.
pub const INITIAL_MANAGEMENT_TOKEN_DESCRIPTION: &str = "Initial Management Token";
/// The description of the token `PUT /v1/acl/bootstrap` makes.
pub const BOOTSTRAP_TOKEN_DESCRIPTION: &str = "Bootstrap Token (Global Management)";

/// Whether `id` falls in the reserved range.
pub fn acl_id_reserved(id: &str) -> bool {
    id.starts_with(ACL_RESERVED_PREFIX)
}
