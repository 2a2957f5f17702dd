//! Consul's texts for refusals whose HTTP status is not the default 500, so the HTTP
//! layer can tell them apart.

/// An unknown or expired token (403 by substring, as in Consul).
pub const ACL_NOT_FOUND: &str = "ACL not found";
/// The start of the refusal of a second bootstrap (403: it says `Permission denied`).
pub const ACL_BOOTSTRAP_NOT_ALLOWED: &str = "Permission denied: ACL bootstrap no longer allowed";
/// Deleting a policy that does not exist (404).
pub const ACL_POLICY_DELETE_NOT_FOUND: &str = "Cannot find policy to delete";
/// Deleting a role that does not exist (404).
pub const ACL_ROLE_DELETE_NOT_FOUND: &str = "Cannot find role to delete";
/// Deleting an auth method that does not exist (404).
pub const ACL_AUTH_METHOD_DELETE_NOT_FOUND: &str = "Cannot find auth method to delete";
/// Deleting a binding rule that does not exist (404).
pub const ACL_BINDING_RULE_DELETE_NOT_FOUND: &str = "Cannot find binding rule to delete";
/// Deleting the anonymous token.
pub const ACL_ANONYMOUS_DELETE: &str = "Delete operation not permitted on the anonymous token";
