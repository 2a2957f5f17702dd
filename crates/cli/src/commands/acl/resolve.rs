//! Which object an `-id`, `-policy-id` or `-role-id` names. Consul's ACL commands take
//! a full ID, a unique prefix of one (`-id 986`), or a built-in's name (`anonymous` for
//! the anonymous token, `global-management` for its policy); a prefix is matched
//! against the listed objects. `-name` flags go through the by-name endpoints instead.

use proconsul_api::acl::{
    ANONYMOUS_TOKEN_ACCESSOR_ID, GLOBAL_MANAGEMENT_POLICY_ID, GLOBAL_MANAGEMENT_POLICY_NAME,
    GLOBAL_READ_ONLY_POLICY_ID, GLOBAL_READ_ONLY_POLICY_NAME,
};
use proconsul_api::client::{Client, ClientError, QueryOptions};

/// The length of a UUID as text: such an ID is used as given, without a listing.
const FULL_ID_LENGTH: usize = 36;

/// The kinds of object an ID prefix may name; they differ only in their messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Token,
    Policy,
    Role,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Token => "token",
            Kind::Policy => "policy",
            Kind::Role => "role",
        }
    }
}

/// The one ID among `ids` that starts with `partial`.
pub fn unique_prefix<'a>(
    kind: Kind,
    partial: &str,
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<String, String> {
    let mut matches = ids.into_iter().filter(|id| id.starts_with(partial));
    match (matches.next(), matches.next()) {
        (Some(id), None) => Ok(id.to_string()),
        (Some(_), Some(_)) => Err(format!("Partial {} ID is not unique", kind.noun())),
        (None, _) => Err(format!("No such {} ID with prefix: {partial}", kind.noun())),
    }
}

/// The accessor ID a token `-id` names.
pub async fn token_id(client: &Client, partial: &str) -> Result<String, String> {
    if partial == "anonymous" {
        return Ok(ANONYMOUS_TOKEN_ACCESSOR_ID.to_string());
    }
    if partial.len() == FULL_ID_LENGTH {
        return Ok(partial.to_string());
    }
    let tokens = client
        .acl_token_list(&QueryOptions::default())
        .await
        .map_err(|error| error.to_string())?;
    unique_prefix(
        Kind::Token,
        partial,
        tokens.iter().map(|token| token.accessor_id.as_str()),
    )
}

/// The ID a policy `-id` or `-policy-id` names.
pub async fn policy_id(client: &Client, partial: &str) -> Result<String, String> {
    match partial {
        GLOBAL_MANAGEMENT_POLICY_NAME => return Ok(GLOBAL_MANAGEMENT_POLICY_ID.to_string()),
        GLOBAL_READ_ONLY_POLICY_NAME => return Ok(GLOBAL_READ_ONLY_POLICY_ID.to_string()),
        _ if partial.len() == FULL_ID_LENGTH => return Ok(partial.to_string()),
        _ => {}
    }
    let policies = client
        .acl_policy_list()
        .await
        .map_err(|error| error.to_string())?;
    unique_prefix(
        Kind::Policy,
        partial,
        policies.iter().map(|policy| policy.id.as_str()),
    )
}

/// The ID a role `-id` or `-role-id` names.
pub async fn role_id(client: &Client, partial: &str) -> Result<String, String> {
    if partial.len() == FULL_ID_LENGTH {
        return Ok(partial.to_string());
    }
    let roles = client
        .acl_role_list()
        .await
        .map_err(|error| error.to_string())?;
    unique_prefix(
        Kind::Role,
        partial,
        roles.iter().map(|role| role.id.as_str()),
    )
}

/// A 404 from a by-name read as Consul's CLI words it; other errors as they are.
fn by_name_error(kind: Kind, name: &str, error: ClientError) -> String {
    match error.status() {
        Some(404) => format!("No such {} with name {name}", kind.noun()),
        _ => error.to_string(),
    }
}

/// The ID of the policy called `name`.
pub async fn policy_id_by_name(client: &Client, name: &str) -> Result<String, String> {
    client
        .acl_policy_read_by_name(name)
        .await
        .map(|policy| policy.id)
        .map_err(|error| by_name_error(Kind::Policy, name, error))
}

/// The ID of the role called `name`.
pub async fn role_id_by_name(client: &Client, name: &str) -> Result<String, String> {
    client
        .acl_role_read_by_name(name)
        .await
        .map(|role| role.id)
        .map_err(|error| by_name_error(Kind::Role, name, error))
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: [&str; 3] = [
        "986193b5-e2b5-eb26-6264-b524ea60cc6d",
        "98aa0000-0000-0000-0000-000000000000",
        "4d123dff-f460-73c3-02c4-8dd64d136e01",
    ];

    #[test]
    fn a_unique_prefix_names_one_id() {
        assert_eq!(
            unique_prefix(Kind::Token, "986", IDS).unwrap(),
            "986193b5-e2b5-eb26-6264-b524ea60cc6d"
        );
        assert_eq!(
            unique_prefix(Kind::Policy, "4d", IDS).unwrap(),
            "4d123dff-f460-73c3-02c4-8dd64d136e01"
        );
    }

    #[test]
    fn ambiguous_and_unknown_prefixes_say_so() {
        assert_eq!(
            unique_prefix(Kind::Token, "98", IDS).unwrap_err(),
            "Partial token ID is not unique"
        );
        assert_eq!(
            unique_prefix(Kind::Role, "ff", IDS).unwrap_err(),
            "No such role ID with prefix: ff"
        );
        assert_eq!(
            unique_prefix(Kind::Policy, "x", []).unwrap_err(),
            "No such policy ID with prefix: x"
        );
    }

    #[tokio::test]
    async fn full_ids_and_builtin_names_need_no_listing() {
        // Nothing listens here: a listing would fail.
        let client = Client::new("127.0.0.1:1").unwrap();
        assert_eq!(
            token_id(&client, "anonymous").await.unwrap(),
            ANONYMOUS_TOKEN_ACCESSOR_ID
        );
        assert_eq!(token_id(&client, IDS[0]).await.unwrap(), IDS[0]);
        assert_eq!(
            policy_id(&client, "global-management").await.unwrap(),
            GLOBAL_MANAGEMENT_POLICY_ID
        );
        assert_eq!(role_id(&client, IDS[2]).await.unwrap(), IDS[2]);
        assert!(token_id(&client, "986").await.is_err());
    }
}
