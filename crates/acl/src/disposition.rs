//! A rule's disposition (`read`, `list`, `write`, `deny`): how values compare when
//! policies merge, and which requested access each one grants.

use std::fmt;

use crate::access::Access;

/// The value of a rule's `policy` (or `intentions`, or a scalar rule such as `acl`).
///
/// The variants are declared weakest first, so `Ord` is Consul's merge precedence:
/// `deny > write > list > read`, and the merge of two dispositions is their maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Disposition {
    /// Grants read.
    Read,
    /// Grants read and list (keys only).
    List,
    /// Grants read, list and write.
    Write,
    /// Grants nothing and stops the search: no default policy applies after it.
    Deny,
}

impl Disposition {
    /// Parses a disposition as Consul does: case-insensitively; `None` for anything else,
    /// the empty string included (the caller decides whether "unset" is allowed).
    pub fn parse(text: &str) -> Option<Disposition> {
        // Consul lower-cases before comparing, so `READ` is a valid disposition.
        [
            Disposition::Read,
            Disposition::List,
            Disposition::Write,
            Disposition::Deny,
        ]
        .into_iter()
        .find(|d| d.as_str().eq_ignore_ascii_case(text))
    }

    /// The stronger of two dispositions, i.e. the one a merge keeps.
    pub fn strongest(self, other: Disposition) -> Disposition {
        self.max(other)
    }

    /// Whether a rule with this disposition lets a request with `access` through.
    pub fn grants(self, access: Access) -> bool {
        match self {
            Disposition::Write => true,
            Disposition::List => matches!(access, Access::Read | Access::List),
            Disposition::Read => access == Access::Read,
            Disposition::Deny => false,
        }
    }

    /// The word used in rules and in Consul's messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Read => "read",
            Disposition::List => "list",
            Disposition::Write => "write",
            Disposition::Deny => "deny",
        }
    }
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_is_deny_write_list_read() {
        use Disposition::*;
        assert_eq!(Read.strongest(List), List);
        assert_eq!(List.strongest(Write), Write);
        assert_eq!(Write.strongest(Deny), Deny);
        assert_eq!(Deny.strongest(Read), Deny);
    }

    #[test]
    fn parse_is_case_insensitive_and_rejects_empty() {
        assert_eq!(Disposition::parse("WRITE"), Some(Disposition::Write));
        assert_eq!(Disposition::parse("List"), Some(Disposition::List));
        assert_eq!(Disposition::parse(""), None);
        assert_eq!(Disposition::parse("nope"), None);
    }

    #[test]
    fn grants_follow_consul() {
        use Disposition::*;
        assert!(Write.grants(Access::List));
        assert!(List.grants(Access::Read));
        assert!(!List.grants(Access::Write));
        assert!(!Read.grants(Access::List));
        assert!(!Deny.grants(Access::Read));
    }
}
