//! Errors in rule text, worded as Consul words them, because the HTTP layer returns the
//! text as the response body and clients match on its beginning.

use crate::go_string::quote;
use crate::resource::LabelledResource;

/// Why rule text was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The text is not HCL or JSON, or a resource has the wrong shape (a block where a
    /// string belongs, or the reverse).
    #[error("Failed to parse ACL rules: {0}")]
    Syntax(String),
    /// A disposition that is not `read`, `write`, `deny` (or `list`, for keys), or a
    /// labelled rule without one. `rule` is the rule as Go's `%#v` prints it in Consul's
    /// message; clients should only rely on the text before it.
    #[error("Invalid {keyword} policy: {rule}")]
    InvalidPolicy {
        /// The resource keyword, e.g. `key_prefix` or `acl`.
        keyword: &'static str,
        /// The offending rule, Go-formatted.
        rule: String,
    },
    /// An `intentions` value that is not `read`, `write` or `deny`.
    #[error("Invalid {keyword} intentions policy: {rule}")]
    InvalidIntentions {
        /// `service`, `service_prefix`, `identity` or `identity_prefix`.
        keyword: &'static str,
        /// The offending rule, Go-formatted.
        rule: String,
    },
}

/// A labelled rule as it was written, for the Go-formatted part of an error.
pub(crate) struct WrittenRule<'a> {
    pub(crate) resource: LabelledResource,
    pub(crate) label: &'a str,
    pub(crate) policy: &'a str,
    pub(crate) intentions: &'a str,
}

impl WrittenRule<'_> {
    /// The rule as Go's `%#v` prints Consul's rule structs (`&acl.KeyRule{...}`).
    pub(crate) fn go_dump(&self) -> String {
        let label = quote(self.label);
        let policy = quote(self.policy);
        let intentions = quote(self.intentions);
        let enterprise = "EnterpriseRule:acl.EnterpriseRule{}";
        match self.resource {
            LabelledResource::Agent => format!("&acl.AgentRule{{Node:{label}, Policy:{policy}}}"),
            LabelledResource::Event => format!("&acl.EventRule{{Event:{label}, Policy:{policy}}}"),
            LabelledResource::Identity => format!(
                "&acl.IdentityRule{{Name:{label}, Policy:{policy}, Intentions:{intentions}, {enterprise}}}"
            ),
            LabelledResource::Key => {
                format!("&acl.KeyRule{{Prefix:{label}, Policy:{policy}, {enterprise}}}")
            }
            LabelledResource::Node => {
                format!("&acl.NodeRule{{Name:{label}, Policy:{policy}, {enterprise}}}")
            }
            LabelledResource::Query => {
                format!("&acl.PreparedQueryRule{{Prefix:{label}, Policy:{policy}}}")
            }
            LabelledResource::Service => format!(
                "&acl.ServiceRule{{Name:{label}, Policy:{policy}, Intentions:{intentions}, {enterprise}}}"
            ),
            LabelledResource::Session => {
                format!("&acl.SessionRule{{Node:{label}, Policy:{policy}}}")
            }
        }
    }
}
