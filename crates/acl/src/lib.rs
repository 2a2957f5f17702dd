//! Consul's ACL rules as a pure library: the rule language (HCL or JSON text), the
//! merging of every policy a token carries, and the authorizer the agent asks on each
//! request. No I/O, no clock, no async: the same inputs always give the same answers.
//!
//! The path of a request's token:
//! 1. each stored policy's `Rules` text is parsed once ([`Rules::parse`]);
//! 2. a token's policies, its roles' policies, its service and node identities and its
//!    templated policies are merged for the local datacenter ([`TokenRules`]); on a
//!    collision the stronger disposition wins, `deny > write > list > read`;
//! 3. the merge compiles into an [`Authorizer`] over the agent's `default_policy`; a
//!    name is governed by its exact rule if any, else by the longest matching prefix
//!    rule, else by the default policy (which never grants `acl:*` or snapshots);
//! 4. a refusal renders Consul's 403 text ([`Denied`]).
//!
//! HCL is parsed by our own HCL v1 parser (Consul uses HCL v1; hcl-rs is HCL2, which
//! refuses some HCL v1 forms and backtracks exponentially on some inputs), JSON by
//! serde_json. Nothing in rule text is evaluated: `${...}` stays text, as in Consul.
#![deny(missing_docs)]

mod access;
mod authorize;
mod authorizer;
mod builtin_policy;
mod compiled_rules;
mod decision;
mod default_policy;
mod denied;
mod disposition;
mod error;
mod go_string;
mod hcl_lexer;
mod hcl_parser;
mod identity;
mod merge;
mod parse;
mod permission;
mod resource;
mod rule_tree;
mod rules;
mod syntax_tree;
mod synthetic_policy;
mod templated_policy;
mod token_rules;

pub use access::Access;
pub use authorize::Authorize;
pub use authorizer::Authorizer;
pub use builtin_policy::{BUILTIN_POLICIES, BuiltinPolicy, GLOBAL_MANAGEMENT, GLOBAL_READ_ONLY};
pub use default_policy::DefaultPolicy;
pub use denied::{ANONYMOUS_TOKEN_ACCESSOR_ID, Accessor, Denied};
pub use disposition::Disposition;
pub use error::RuleError;
pub use identity::{
    NodeIdentity, ServiceIdentity, is_valid_identity_name, node_identity_rules,
    service_identity_rules,
};
pub use parse::{ParsedRules, parse_rules};
pub use permission::Permission;
pub use resource::{LabelledResource, Matching, Resource, ScalarResource};
pub use rules::{Grant, RuleKey, Rules};
pub use synthetic_policy::{SyntheticPolicy, synthetic_policy_id};
pub use templated_policy::{
    NameRule, TEMPLATES, Template, TemplateError, TemplatedPolicy, template,
};
pub use token_rules::{GrantError, TokenRules};
