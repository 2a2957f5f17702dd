//! Consul's text blocks for ACL objects (`-format=pretty`, the default).
//!
//! Tokens label their values in an 18-column field (`AccessorID:       ...`), policies
//! and roles in a 14-column one (`ID:           ...`); links print as
//! `   <id> - <name>`, identities with their datacenters, times as Go's `time.Time`
//! `%v` (`2018-10-22 15:33:39.01789 +0000 UTC`) and hashes in hex. Optional lines and
//! blocks appear only when they have something to say.

use std::fmt::Write;

use proconsul_api::acl::{
    AclLink, AclNodeIdentity, AclPolicy, AclPolicyListStub, AclRole, AclServiceIdentity,
    AclTemplatedPolicy, AclToken, AclTokenListStub,
};
use proconsul_api::client::AclTokenExpanded;
use proconsul_api::go_time::GoTime;

/// A time as Go's `%v` prints a UTC `time.Time` (the server writes UTC).
pub fn go_time(time: GoTime) -> String {
    let rfc3339 = time.to_rfc3339();
    let civil = rfc3339.trim_end_matches('Z').replacen('T', " ", 1);
    format!("{civil} +0000 UTC")
}

fn hex(bytes: &Option<Vec<u8>>) -> String {
    bytes.iter().flatten().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

/// `all` or `dc1, dc2`.
fn datacenters(datacenters: &[String]) -> String {
    if datacenters.is_empty() {
        "all".to_string()
    } else {
        datacenters.join(", ")
    }
}

/// The fields of a token that its text block shows; a token and a list entry both
/// have them.
struct TokenFields<'a> {
    accessor_id: &'a str,
    secret_id: &'a str,
    description: &'a str,
    local: bool,
    auth_method: &'a str,
    create_time: GoTime,
    expiration_time: Option<GoTime>,
    hash: &'a Option<Vec<u8>>,
    create_index: u64,
    modify_index: u64,
    policies: &'a [AclLink],
    roles: &'a [AclLink],
    service_identities: &'a [AclServiceIdentity],
    node_identities: &'a [AclNodeIdentity],
    templated_policies: &'a [AclTemplatedPolicy],
}

impl<'a> From<&'a AclToken> for TokenFields<'a> {
    fn from(token: &'a AclToken) -> TokenFields<'a> {
        TokenFields {
            accessor_id: &token.accessor_id,
            secret_id: &token.secret_id,
            description: &token.description,
            local: token.local,
            auth_method: &token.auth_method,
            create_time: token.create_time,
            expiration_time: token.expiration_time,
            hash: &token.hash,
            create_index: token.create_index,
            modify_index: token.modify_index,
            policies: &token.policies,
            roles: &token.roles,
            service_identities: &token.service_identities,
            node_identities: &token.node_identities,
            templated_policies: &token.templated_policies,
        }
    }
}

impl<'a> From<&'a AclTokenListStub> for TokenFields<'a> {
    fn from(token: &'a AclTokenListStub) -> TokenFields<'a> {
        TokenFields {
            accessor_id: &token.accessor_id,
            secret_id: &token.secret_id,
            description: &token.description,
            local: token.local,
            auth_method: &token.auth_method,
            create_time: token.create_time,
            expiration_time: token.expiration_time,
            hash: &token.hash,
            create_index: token.create_index,
            modify_index: token.modify_index,
            policies: &token.policies,
            roles: &token.roles,
            service_identities: &token.service_identities,
            node_identities: &token.node_identities,
            templated_policies: &token.templated_policies,
        }
    }
}

/// The header lines of a token block: everything but its links and identities.
fn token_header(token: &TokenFields<'_>, meta: bool) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: &dyn std::fmt::Display| {
        let _ = writeln!(out, "{:<18}{value}", format!("{label}:"));
    };
    line("AccessorID", &token.accessor_id);
    line("SecretID", &token.secret_id);
    line("Description", &token.description);
    line("Local", &token.local);
    if !token.auth_method.is_empty() {
        line(
            "Auth Method",
            &format_args!("{} (Namespace: )", token.auth_method),
        );
    }
    line("Create Time", &go_time(token.create_time));
    if let Some(expires) = token.expiration_time {
        line("Expiration Time", &go_time(expires));
    }
    if meta {
        line("Hash", &hex(token.hash));
        line("Create Index", &token.create_index);
        line("Modify Index", &token.modify_index);
    }
    out
}

/// `Policies:`/`Roles:` followed by `<indent><id> - <name>` lines; nothing when empty.
fn link_block(out: &mut String, title: &str, links: &[AclLink], indent: &str) {
    if links.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title}:");
    for link in links {
        let _ = writeln!(out, "{indent}{} - {}", link.id, link.name);
    }
}

/// The identity and templated-policy blocks tokens and roles share.
fn identity_blocks(
    out: &mut String,
    service_identities: &[AclServiceIdentity],
    node_identities: &[AclNodeIdentity],
    templated_policies: &[AclTemplatedPolicy],
    indent: &str,
) {
    if !service_identities.is_empty() {
        out.push_str("Service Identities:\n");
        for identity in service_identities {
            let _ = writeln!(
                out,
                "{indent}{} (Datacenters: {})",
                identity.service_name,
                datacenters(&identity.datacenters)
            );
        }
    }
    if !node_identities.is_empty() {
        out.push_str("Node Identities:\n");
        for identity in node_identities {
            let _ = writeln!(
                out,
                "{indent}{} (Datacenter: {})",
                identity.node_name, identity.datacenter
            );
        }
    }
    if !templated_policies.is_empty() {
        out.push_str("Templated Policies:\n");
        for policy in templated_policies {
            let _ = writeln!(out, "{indent}{}", policy.template_name);
            if let Some(variables) = &policy.template_variables {
                let _ = writeln!(out, "{indent}   Name: {}", variables.name);
            }
            let _ = writeln!(
                out,
                "{indent}   Datacenters: {}",
                datacenters(&policy.datacenters)
            );
        }
    }
}

fn token_text(token: &TokenFields<'_>, meta: bool) -> String {
    let mut out = token_header(token, meta);
    link_block(&mut out, "Policies", token.policies, "   ");
    link_block(&mut out, "Roles", token.roles, "   ");
    identity_blocks(
        &mut out,
        token.service_identities,
        token.node_identities,
        token.templated_policies,
        "   ",
    );
    out
}

/// `consul acl token read|create|update|clone` and `acl bootstrap`.
pub fn token(token: &AclToken, meta: bool) -> String {
    token_text(&token.into(), meta)
}

/// `consul acl token list`: one block per token, a blank line between them.
pub fn token_list(tokens: &[AclTokenListStub], meta: bool) -> String {
    tokens
        .iter()
        .map(|token| token_text(&token.into(), meta))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One policy of `token read -expanded`, tab-indented at `depth`.
fn expanded_policy(out: &mut String, policy: &AclPolicy, depth: usize) {
    let tabs = "\t".repeat(depth);
    let _ = writeln!(out, "{tabs}Policy Name: {}", policy.name);
    let _ = writeln!(out, "{tabs}\tID: {}", policy.id);
    let _ = writeln!(out, "{tabs}\tDescription: {}", policy.description);
    let _ = writeln!(out, "{tabs}\tRules:");
    for line in policy.rules.trim_matches('\n').lines() {
        let _ = writeln!(out, "{tabs}\t\t{line}");
    }
    out.push('\n');
}

/// `consul acl token read -expanded`: the token header, the contents of its policies
/// and roles, then the agent's defaults that decide what no rule covers.
pub fn token_expanded(expanded: &AclTokenExpanded, meta: bool) -> String {
    let token = &expanded.token;
    let mut out = token_header(&token.into(), meta);
    let policy = |id: &str| {
        expanded
            .expanded_policies
            .iter()
            .find(|policy| policy.id == id)
    };
    if !token.policies.is_empty() {
        out.push_str("Policies:\n");
        for link in &token.policies {
            match policy(&link.id) {
                Some(policy) => expanded_policy(&mut out, policy, 1),
                None => {
                    let _ = writeln!(out, "\tPolicy Name: {}\n\t\tID: {}\n", link.name, link.id);
                }
            }
        }
    }
    if !token.roles.is_empty() {
        out.push_str("Roles:\n");
        for link in &token.roles {
            let role = expanded
                .expanded_roles
                .iter()
                .find(|role| role.id == link.id);
            let _ = writeln!(out, "\tRole Name: {}", link.name);
            let _ = writeln!(out, "\t\tID: {}", link.id);
            if let Some(role) = role {
                let _ = writeln!(out, "\t\tDescription: {}", role.description);
                for policy_link in &role.policies {
                    match policy(&policy_link.id) {
                        Some(policy) => expanded_policy(&mut out, policy, 2),
                        None => {
                            let _ = writeln!(out, "\t\tPolicy Name: {}", policy_link.name);
                        }
                    }
                }
            }
            // A role's last policy already ends with a blank line.
            if !out.ends_with("\n\n") {
                out.push('\n');
            }
        }
    }
    identity_blocks(
        &mut out,
        &token.service_identities,
        &token.node_identities,
        &token.templated_policies,
        "   ",
    );
    out.push_str("=== End of Authorizer Layer 0: Token ===\n");
    out.push_str("=== Start of Authorizer Layer 2: Agent Configuration Defaults (Inherited) ===\n");
    out.push_str(
        "Description: Defined at request-time by the agent that resolves the ACL token; \
         other agents may have different configuration defaults\n",
    );
    let _ = writeln!(out, "Resolved By Agent: {:?}\n", expanded.resolved_by_agent);
    let _ = writeln!(
        out,
        "Default Policy: {}\n\tDescription: Backstop rule used if no preceding layer has a \
         matching rule (refer to default_policy option in agent configuration)\n",
        expanded.agent_acl_default_policy
    );
    let _ = writeln!(
        out,
        "Down Policy: {}\n\tDescription: Defines what to do if this Token's information \
         cannot be read from the primary_datacenter (refer to down_policy option in agent \
         configuration)",
        expanded.agent_acl_down_policy
    );
    out
}

/// The `Hash:`/`Create Index:`/`Modify Index:` lines of policies and roles.
fn meta_lines(out: &mut String, indent: &str, hash: &Option<Vec<u8>>, create: u64, modify: u64) {
    let _ = writeln!(out, "{indent}Hash:         {}", hex(hash));
    let _ = writeln!(out, "{indent}Create Index: {create}");
    let _ = writeln!(out, "{indent}Modify Index: {modify}");
}

/// `consul acl policy read|create|update`. The rules are printed verbatim; the
/// `Datacenters:` line keeps its two spaces when there are none, as Consul's does.
pub fn policy(policy: &AclPolicy, meta: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "ID:           {}", policy.id);
    let _ = writeln!(out, "Name:         {}", policy.name);
    let _ = writeln!(out, "Description:  {}", policy.description);
    let _ = writeln!(out, "Datacenters:  {}", policy.datacenters.join(", "));
    if meta {
        meta_lines(
            &mut out,
            "",
            &policy.hash,
            policy.create_index,
            policy.modify_index,
        );
    }
    let _ = writeln!(out, "Rules:\n{}", policy.rules);
    out
}

/// `consul acl policy list`: `<name>:` then the entry's fields indented.
pub fn policy_list(policies: &[AclPolicyListStub], meta: bool) -> String {
    let mut out = String::new();
    for policy in policies {
        let _ = writeln!(out, "{}:", policy.name);
        let _ = writeln!(out, "   ID:           {}", policy.id);
        let _ = writeln!(out, "   Description:  {}", policy.description);
        let _ = writeln!(
            out,
            "   Datacenters:  {}",
            policy.datacenters.as_deref().unwrap_or_default().join(", ")
        );
        if meta {
            meta_lines(
                &mut out,
                "   ",
                &policy.hash,
                policy.create_index,
                policy.modify_index,
            );
        }
    }
    out
}

/// A role's lines, each prefixed with `indent` (list entries are indented).
fn role_text(role: &AclRole, meta: bool, indent: &str, with_name: bool) -> String {
    let mut body = String::new();
    let _ = writeln!(body, "ID:           {}", role.id);
    if with_name {
        let _ = writeln!(body, "Name:         {}", role.name);
    }
    let _ = writeln!(body, "Description:  {}", role.description);
    if meta {
        meta_lines(
            &mut body,
            "",
            &role.hash,
            role.create_index,
            role.modify_index,
        );
    }
    link_block(&mut body, "Policies", &role.policies, "   ");
    identity_blocks(
        &mut body,
        &role.service_identities,
        &role.node_identities,
        &role.templated_policies,
        "   ",
    );
    body.lines().fold(String::new(), |mut out, line| {
        let _ = writeln!(out, "{indent}{line}");
        out
    })
}

/// `consul acl role read|create|update`.
pub fn role(role: &AclRole, meta: bool) -> String {
    role_text(role, meta, "", true)
}

/// `consul acl role list`: `<name>:` then the role's fields indented.
pub fn role_list(roles: &[AclRole], meta: bool) -> String {
    roles.iter().fold(String::new(), |mut out, role| {
        let _ = writeln!(out, "{}:", role.name);
        out.push_str(&role_text(role, meta, "   ", false));
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proconsul_api::acl::AclTemplatedPolicyVariables;

    fn link(id: &str, name: &str) -> AclLink {
        AclLink {
            id: id.into(),
            name: name.into(),
        }
    }

    fn bootstrap_token() -> AclToken {
        AclToken {
            accessor_id: "4d123dff-f460-73c3-02c4-8dd64d136e01".into(),
            secret_id: "86cddfb9-2760-d947-358d-a2811156bf31".into(),
            description: "Bootstrap Token (Global Management)".into(),
            policies: vec![link(
                "00000000-0000-0000-0000-000000000001",
                "global-management",
            )],
            create_time: GoTime::parse_rfc3339("2018-10-22T15:27:04.479026Z").unwrap(),
            hash: Some(vec![0xb3, 0x02]),
            create_index: 12,
            modify_index: 13,
            ..AclToken::default()
        }
    }

    #[test]
    fn times_print_as_gos_percent_v() {
        assert_eq!(go_time(GoTime::ZERO), "0001-01-01 00:00:00 +0000 UTC");
        assert_eq!(
            go_time(GoTime::parse_rfc3339("2018-10-22T11:27:04.479026-04:00").unwrap()),
            "2018-10-22 15:27:04.479026 +0000 UTC"
        );
    }

    #[test]
    fn a_token_block_as_consul_prints_it() {
        assert_eq!(
            token(&bootstrap_token(), false),
            "AccessorID:       4d123dff-f460-73c3-02c4-8dd64d136e01\n\
             SecretID:         86cddfb9-2760-d947-358d-a2811156bf31\n\
             Description:      Bootstrap Token (Global Management)\n\
             Local:            false\n\
             Create Time:      2018-10-22 15:27:04.479026 +0000 UTC\n\
             Policies:\n   \
             00000000-0000-0000-0000-000000000001 - global-management\n"
        );
    }

    #[test]
    fn every_optional_line_and_block_of_a_token() {
        let mut token_value = bootstrap_token();
        token_value.local = true;
        token_value.expiration_time =
            Some(GoTime::parse_rfc3339("2018-10-22T15:42:04.479026Z").unwrap());
        token_value.roles = vec![link("r-1", "ops")];
        token_value.service_identities = vec![
            AclServiceIdentity {
                service_name: "web".into(),
                datacenters: vec![],
            },
            AclServiceIdentity {
                service_name: "db".into(),
                datacenters: vec!["dc1".into(), "dc2".into()],
            },
        ];
        token_value.node_identities = vec![AclNodeIdentity {
            node_name: "n1".into(),
            datacenter: "dc1".into(),
        }];
        token_value.templated_policies = vec![AclTemplatedPolicy {
            template_name: "builtin/service".into(),
            template_variables: Some(AclTemplatedPolicyVariables { name: "api".into() }),
            ..AclTemplatedPolicy::default()
        }];
        let text = token(&token_value, true);
        assert_eq!(
            text,
            "AccessorID:       4d123dff-f460-73c3-02c4-8dd64d136e01\n\
             SecretID:         86cddfb9-2760-d947-358d-a2811156bf31\n\
             Description:      Bootstrap Token (Global Management)\n\
             Local:            true\n\
             Create Time:      2018-10-22 15:27:04.479026 +0000 UTC\n\
             Expiration Time:  2018-10-22 15:42:04.479026 +0000 UTC\n\
             Hash:             b302\n\
             Create Index:     12\n\
             Modify Index:     13\n\
             Policies:\n   00000000-0000-0000-0000-000000000001 - global-management\n\
             Roles:\n   r-1 - ops\n\
             Service Identities:\n   web (Datacenters: all)\n   db (Datacenters: dc1, dc2)\n\
             Node Identities:\n   n1 (Datacenter: dc1)\n\
             Templated Policies:\n   builtin/service\n      Name: api\n      Datacenters: all\n"
        );
    }

    #[test]
    fn token_lists_separate_entries_with_a_blank_line() {
        let stub = bootstrap_token().stub();
        let anonymous = AclToken {
            accessor_id: "00000000-0000-0000-0000-000000000002".into(),
            secret_id: "anonymous".into(),
            description: "Anonymous Token".into(),
            ..AclToken::default()
        }
        .stub();
        let text = token_list(&[stub, anonymous], false);
        assert!(
            text.contains(
                "global-management\n\nAccessorID:       00000000-0000-0000-0000-000000000002\n"
            ),
            "{text}"
        );
        assert!(text.ends_with("Create Time:      0001-01-01 00:00:00 +0000 UTC\n"));
        assert_eq!(token_list(&[], false), "");
    }

    #[test]
    fn a_policy_block_and_list() {
        let policy_value = AclPolicy {
            id: "35b8ecb0-707c-ee18-2002-81b238b54b38".into(),
            name: "acl-replication".into(),
            description: "Token capable of replicating ACL policies".into(),
            rules: "acl = \"read\"".into(),
            hash: Some(vec![1, 0xab]),
            create_index: 5,
            modify_index: 6,
            ..AclPolicy::default()
        };
        assert_eq!(
            policy(&policy_value, false),
            "ID:           35b8ecb0-707c-ee18-2002-81b238b54b38\n\
             Name:         acl-replication\n\
             Description:  Token capable of replicating ACL policies\n\
             Datacenters:  \n\
             Rules:\n\
             acl = \"read\"\n"
        );
        let mut stub = policy_value.stub();
        stub.datacenters = Some(vec!["dc1".into(), "dc2".into()]);
        assert_eq!(
            policy_list(&[stub], true),
            "acl-replication:\n   \
             ID:           35b8ecb0-707c-ee18-2002-81b238b54b38\n   \
             Description:  Token capable of replicating ACL policies\n   \
             Datacenters:  dc1, dc2\n   \
             Hash:         01ab\n   \
             Create Index: 5\n   \
             Modify Index: 6\n"
        );
    }

    #[test]
    fn a_role_block_and_list() {
        let role_value = AclRole {
            id: "57147d87-6bf7-f794-1a6e-7d038c4e4ae9".into(),
            name: "crawler".into(),
            description: "web crawler role".into(),
            policies: vec![link("2f8f99c7-edd9-2f09-7e4b-a1f519eb4fc2", "crawler-kv")],
            service_identities: vec![AclServiceIdentity {
                service_name: "crawler".into(),
                datacenters: vec![],
            }],
            ..AclRole::default()
        };
        assert_eq!(
            role(&role_value, false),
            "ID:           57147d87-6bf7-f794-1a6e-7d038c4e4ae9\n\
             Name:         crawler\n\
             Description:  web crawler role\n\
             Policies:\n   2f8f99c7-edd9-2f09-7e4b-a1f519eb4fc2 - crawler-kv\n\
             Service Identities:\n   crawler (Datacenters: all)\n"
        );
        assert_eq!(
            role_list(&[role_value], false),
            "crawler:\n   \
             ID:           57147d87-6bf7-f794-1a6e-7d038c4e4ae9\n   \
             Description:  web crawler role\n   \
             Policies:\n      2f8f99c7-edd9-2f09-7e4b-a1f519eb4fc2 - crawler-kv\n   \
             Service Identities:\n      crawler (Datacenters: all)\n"
        );
    }

    #[test]
    fn an_expanded_token_shows_policy_contents_and_agent_defaults() {
        let expanded = AclTokenExpanded {
            token: AclToken {
                policies: vec![link("p-1", "foo")],
                ..bootstrap_token()
            },
            expanded_policies: vec![AclPolicy {
                id: "p-1".into(),
                name: "foo".into(),
                description: "user policy on token".into(),
                rules: "service_prefix \"\" {\n  policy = \"read\"\n}".into(),
                ..AclPolicy::default()
            }],
            agent_acl_default_policy: "deny".into(),
            agent_acl_down_policy: "extend-cache".into(),
            resolved_by_agent: "node-1".into(),
            ..AclTokenExpanded::default()
        };
        let text = token_expanded(&expanded, false);
        assert!(
            text.contains(
                "Policies:\n\tPolicy Name: foo\n\t\tID: p-1\n\t\tDescription: user policy on token\n\
                 \t\tRules:\n\t\t\tservice_prefix \"\" {\n\t\t\t  policy = \"read\"\n\t\t\t}\n\n"
            ),
            "{text}"
        );
        assert!(text.contains("=== End of Authorizer Layer 0: Token ===\n"));
        assert!(text.contains("Resolved By Agent: \"node-1\"\n"));
        assert!(text.contains("Default Policy: deny\n"));
        assert!(text.contains("Down Policy: extend-cache\n"));
    }
}
