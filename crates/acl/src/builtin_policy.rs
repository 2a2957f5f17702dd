//! Consul's two built-in policies, with their reserved IDs and their rule text exactly as
//! Consul stores and returns it (`GET /v1/acl/policy/:id` echoes `Rules` verbatim).

/// A policy Consul creates itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltinPolicy {
    /// Reserved ID.
    pub id: &'static str,
    /// Name (renamable by users in Consul, but created with this one).
    pub name: &'static str,
    /// Description.
    pub description: &'static str,
    /// Rule text.
    pub rules: &'static str,
}

/// `global-management`: unlimited access; its rules cannot be changed.
pub const GLOBAL_MANAGEMENT: BuiltinPolicy = BuiltinPolicy {
    id: "00000000-0000-0000-0000-000000000001",
    name: "global-management",
    description: "Builtin Policy that grants unlimited access",
    rules: "\nacl = \"write\"\nagent_prefix \"\" {\n\tpolicy = \"write\"\n}\nevent_prefix \"\" {\n\tpolicy = \"write\"\n}\nkey_prefix \"\" {\n\tpolicy = \"write\"\n}\nkeyring = \"write\"\nnode_prefix \"\" {\n\tpolicy = \"write\"\n}\noperator = \"write\"\nmesh = \"write\"\npeering = \"write\"\nquery_prefix \"\" {\n\tpolicy = \"write\"\n}\nservice_prefix \"\" {\n\tpolicy = \"write\"\n\tintentions = \"write\"\n}\nsession_prefix \"\" {\n\tpolicy = \"write\"\n}",
};

/// `builtin/global-read-only`: read access to everything.
pub const GLOBAL_READ_ONLY: BuiltinPolicy = BuiltinPolicy {
    id: "00000000-0000-0000-0000-000000000002",
    name: "builtin/global-read-only",
    description: "Builtin Policy that grants unlimited read-only access to all components",
    rules: "\nacl = \"read\"\nagent_prefix \"\" {\n\tpolicy = \"read\"\n}\nevent_prefix \"\" {\n\tpolicy = \"read\"\n}\nkey_prefix \"\" {\n\tpolicy = \"read\"\n}\nkeyring = \"read\"\nnode_prefix \"\" {\n\tpolicy = \"read\"\n}\noperator = \"read\"\nmesh = \"read\"\npeering = \"read\"\nquery_prefix \"\" {\n\tpolicy = \"read\"\n}\nservice_prefix \"\" {\n\tpolicy = \"read\"\n\tintentions = \"read\"\n}\nsession_prefix \"\" {\n\tpolicy = \"read\"\n}",
};

/// Both built-in policies.
pub const BUILTIN_POLICIES: [BuiltinPolicy; 2] = [GLOBAL_MANAGEMENT, GLOBAL_READ_ONLY];
