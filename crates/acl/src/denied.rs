//! `Denied`: the 403 a refused permission turns into, worded as Consul words it, since
//! the HTTP layer answers with this text and clients match on `Permission denied`.

use std::fmt;

use crate::access::Access;
use crate::go_string::quote;
use crate::permission::Permission;
use crate::resource::Resource;

/// The AccessorID of the anonymous token, which gets its own denial wording.
pub const ANONYMOUS_TOKEN_ACCESSOR_ID: &str = "00000000-0000-0000-0000-000000000002";

/// Who asked, as far as denial texts are concerned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Accessor {
    /// The anonymous token (no token given, or the secret `anonymous`).
    Anonymous,
    /// A token, by AccessorID.
    Token(String),
    /// A token whose AccessorID is not known (e.g. the agent recovery token).
    Unknown,
}

impl Accessor {
    /// The accessor with this AccessorID; the anonymous token's ID and `""` map to
    /// `Anonymous` and `Unknown`.
    pub fn from_accessor_id(id: &str) -> Accessor {
        match id {
            "" => Accessor::Unknown,
            ANONYMOUS_TOKEN_ACCESSOR_ID => Accessor::Anonymous,
            id => Accessor::Token(id.to_owned()),
        }
    }
}

/// A permission the token lacks. Its `Display` is Consul's message:
/// `Permission denied: token with AccessorID '<id>' lacks permission 'service:write' on "web"`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Denied {
    accessor: Accessor,
    resource: Resource,
    access: Access,
    name: Option<String>,
}

impl Denied {
    /// The denial of `permission` to `accessor`.
    pub fn new(accessor: Accessor, permission: &Permission<'_>) -> Denied {
        Denied {
            accessor,
            resource: permission.resource(),
            access: permission.access(),
            name: permission.name().map(str::to_owned),
        }
    }

    /// Who was refused.
    pub fn accessor(&self) -> &Accessor {
        &self.accessor
    }

    /// The resource refused.
    pub fn resource(&self) -> Resource {
        self.resource
    }

    /// The access refused.
    pub fn access(&self) -> Access {
        self.access
    }

    /// The name refused, if the permission had one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Permission denied: ")?;
        match &self.accessor {
            Accessor::Anonymous => f.write_str("anonymous token")?,
            Accessor::Token(id) => write!(f, "token with AccessorID '{id}'")?,
            Accessor::Unknown => f.write_str("provided token")?,
        }
        write!(f, " lacks permission '{}:{}'", self.resource, self.access)?;
        if let Some(name) = &self.name {
            write!(f, " on {}", quote(name))?;
        }
        if self.accessor == Accessor::Anonymous {
            f.write_str(
                ". The anonymous token is used implicitly when a request does not specify a token.",
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_match_consul() {
        let token = Accessor::from_accessor_id("4d123dff-f460-73c3-02c4-8dd64d136e01");
        assert_eq!(
            Denied::new(token.clone(), &Permission::service(Access::Write, "web")).to_string(),
            "Permission denied: token with AccessorID '4d123dff-f460-73c3-02c4-8dd64d136e01' \
             lacks permission 'service:write' on \"web\""
        );
        assert_eq!(
            Denied::new(token, &Permission::operator(Access::Read)).to_string(),
            "Permission denied: token with AccessorID '4d123dff-f460-73c3-02c4-8dd64d136e01' \
             lacks permission 'operator:read'"
        );
        let anonymous = Accessor::from_accessor_id(ANONYMOUS_TOKEN_ACCESSOR_ID);
        assert_eq!(
            Denied::new(anonymous, &Permission::key(Access::Read, "foo")).to_string(),
            "Permission denied: anonymous token lacks permission 'key:read' on \"foo\". \
             The anonymous token is used implicitly when a request does not specify a token."
        );
        assert_eq!(
            Denied::new(Accessor::Unknown, &Permission::snapshot()).to_string(),
            "Permission denied: provided token lacks permission 'acl:write'"
        );
    }
}
