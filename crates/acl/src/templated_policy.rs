//! Templated policies (Consul 1.17+): built-in rule templates with a `name` variable,
//! rendered into synthetic policies. The catalog below is what
//! `/v1/acl/templated-policies` lists and what tokens and roles may reference.
//!
//! Rule texts, IDs, descriptions and schemas are Consul's (CE). Consul's newest source
//! also has read/write templates for single resources (IDs `...0010` to `...0029`);
//! their names are not in the released documentation, so they are not listed here.

use crate::go_string::quote;
use crate::identity::is_valid_identity_name;
use crate::synthetic_policy::SyntheticPolicy;

/// The placeholder Consul's Go templates use for the `name` variable.
const NAME_PLACEHOLDER: &str = "{{.Name}}";

/// The JSON schema of templates that need a `name`, as Consul returns it.
const NAME_SCHEMA: &str = "{\n\t\"type\": \"object\",\n\t\"properties\": {\n\t\t\"name\": { \"type\": \"string\", \"$ref\": \"#/definitions/min-length-one\" }\n\t},\n\t\"required\": [\"name\"],\n\t\"definitions\": {\n\t\t\"min-length-one\": {\n\t\t\t\t\"type\": \"string\",\n\t\t\t\t\"minLength\": 1\n\t\t}\n\t}\n}";

/// The workload identity template's schema (same meaning, its own file in Consul).
const WORKLOAD_IDENTITY_SCHEMA: &str = "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"name\": { \"type\": \"string\", \"$ref\": \"#/definitions/min-length-one\" }\n  },\n  \"required\": [\"name\"],\n  \"definitions\": {\n    \"min-length-one\": {\n      \"type\": \"string\",\n      \"minLength\": 1\n    }\n  }\n}";

/// What a template demands of its `name` variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// The template has no variable.
    Unused,
    /// Any non-empty name.
    NonEmpty,
    /// A valid service identity name (`builtin/service`).
    ServiceIdentityName,
    /// A valid node identity name (`builtin/node`).
    NodeIdentityName,
}

/// One built-in template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Template {
    /// `TemplateName`, e.g. `builtin/service`.
    pub name: &'static str,
    /// Reserved template ID.
    pub id: &'static str,
    /// `Description`.
    pub description: &'static str,
    /// `Schema` (JSON schema of the variables; empty when there are none).
    pub schema: &'static str,
    /// `Template`: the rule text with `{{.Name}}` placeholders.
    pub template: &'static str,
    /// What the `name` variable must be.
    pub name_rule: NameRule,
}

/// Every built-in template, in ID order.
pub const TEMPLATES: [Template; 7] = [
    Template {
        name: "builtin/service",
        id: "00000000-0000-0000-0000-000000000003",
        description: "Gives the token or role permissions to register a service and discover services in the Consul catalog. It also gives the specified service's sidecar proxy the permission to discover and route traffic to other services.",
        schema: NAME_SCHEMA,
        template: "\nservice \"{{.Name}}\" {\n\tpolicy = \"write\"\n}\nservice \"{{.Name}}-sidecar-proxy\" {\n\tpolicy = \"write\"\n}\nservice_prefix \"\" {\n\tpolicy = \"read\"\n}\nnode_prefix \"\" {\n\tpolicy = \"read\"\n}",
        name_rule: NameRule::ServiceIdentityName,
    },
    Template {
        name: "builtin/node",
        id: "00000000-0000-0000-0000-000000000004",
        description: "Gives the token or role permissions for a register an agent/node into the catalog. A node is typically a consul agent but can also be a physical server, cloud instance or a container.",
        schema: NAME_SCHEMA,
        template: "\nnode \"{{.Name}}\" {\n\tpolicy = \"write\"\n}\nservice_prefix \"\" {\n\tpolicy = \"read\"\n}",
        name_rule: NameRule::NodeIdentityName,
    },
    Template {
        name: "builtin/dns",
        id: "00000000-0000-0000-0000-000000000005",
        description: "Gives the token or role permissions for the Consul DNS to query services in the network.",
        schema: "",
        template: "\nnode_prefix \"\" {\n\tpolicy = \"read\"\n}\nservice_prefix \"\" {\n\tpolicy = \"read\"\n}\nquery_prefix \"\" {\n\tpolicy = \"read\"\n}",
        name_rule: NameRule::Unused,
    },
    Template {
        name: "builtin/nomad-server",
        id: "00000000-0000-0000-0000-000000000006",
        description: "Gives the token or role permissions required for integration with a nomad server.",
        schema: "",
        template: "\nacl = \"write\"\nagent_prefix \"\" {\n  policy = \"read\"\n}\nnode_prefix \"\" {\n  policy = \"read\"\n}\nservice_prefix \"\" {\n  policy = \"write\"\n}",
        name_rule: NameRule::Unused,
    },
    Template {
        name: "builtin/workload-identity",
        id: "00000000-0000-0000-0000-000000000007",
        description: "Gives the token or role permissions for a specific workload identity.",
        schema: WORKLOAD_IDENTITY_SCHEMA,
        template: "identity \"{{.Name}}\" {\n\tpolicy = \"write\"\n}",
        name_rule: NameRule::NonEmpty,
    },
    Template {
        name: "builtin/api-gateway",
        id: "00000000-0000-0000-0000-000000000008",
        description: "Gives the token or role permissions for a Consul api gateway",
        schema: NAME_SCHEMA,
        template: "mesh = \"read\"\nnode_prefix \"\" {\n\tpolicy = \"read\"\n}\nservice_prefix \"\" {\n\tpolicy = \"read\"\n}\nservice \"{{.Name}}\" {\n\tpolicy = \"write\"\n}",
        name_rule: NameRule::NonEmpty,
    },
    Template {
        name: "builtin/nomad-client",
        id: "00000000-0000-0000-0000-000000000009",
        description: "Gives the token or role permissions required for integration with a nomad client.",
        // Consul lists no schema for it, yet its rules name the client's node.
        schema: "",
        template: "agent \"{{.Name}}\" {\n  policy = \"read\"\n}\nnode \"{{.Name}}\" {\n  policy = \"write\"\n}\nservice_prefix \"\" {\n  policy = \"write\"\n}\n",
        name_rule: NameRule::NonEmpty,
    },
];

/// The built-in template called `name`, if there is one.
pub fn template(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|template| template.name == name)
}

/// Why a templated policy cannot be rendered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// No built-in template has this name.
    #[error("acl templated policy does not exist: {0}")]
    NoSuchTemplate(String),
    /// The template needs `name` and none was given.
    #[error("name is required")]
    MissingName,
    /// `name` was given empty.
    #[error("name: String length must be greater than or equal to 1")]
    EmptyName,
    /// `builtin/service` with a name that is not a valid service identity name.
    #[error(
        "service identity {} has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed",
        quote(.0)
    )]
    InvalidServiceName(String),
    /// `builtin/node` with a name that is not a valid node identity name (Consul's text
    /// has the two spaces).
    #[error(
        "node identity {}  has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed",
        quote(.0)
    )]
    InvalidNodeName(String),
}

/// A token's or role's `TemplatedPolicies` entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TemplatedPolicy {
    /// `TemplateName`.
    pub template_name: String,
    /// `TemplateVariables.name`.
    pub name: Option<String>,
    /// `Datacenters`; empty means every datacenter.
    pub datacenters: Vec<String>,
}

impl Template {
    /// Checks `name` against the template's rules.
    pub fn validate(&self, name: Option<&str>) -> Result<(), TemplateError> {
        if self.name_rule == NameRule::Unused {
            return Ok(());
        }
        let name = name.ok_or(TemplateError::MissingName)?;
        if name.is_empty() {
            return Err(TemplateError::EmptyName);
        }
        match self.name_rule {
            NameRule::ServiceIdentityName if !is_valid_identity_name(name) => {
                Err(TemplateError::InvalidServiceName(name.to_owned()))
            }
            NameRule::NodeIdentityName if !is_valid_identity_name(name) => {
                Err(TemplateError::InvalidNodeName(name.to_owned()))
            }
            _ => Ok(()),
        }
    }

    /// The rule text for `name`, after validating it.
    pub fn render(&self, name: Option<&str>) -> Result<String, TemplateError> {
        self.validate(name)?;
        Ok(self
            .template
            .replace(NAME_PLACEHOLDER, name.unwrap_or_default()))
    }
}

impl TemplatedPolicy {
    /// The synthetic policy, as the preview endpoint returns it.
    pub fn synthetic_policy(&self) -> Result<SyntheticPolicy, TemplateError> {
        let template = template(&self.template_name)
            .ok_or_else(|| TemplateError::NoSuchTemplate(self.template_name.clone()))?;
        let rules = template.render(self.name.as_deref())?;
        Ok(SyntheticPolicy::new(
            rules,
            format!(
                "synthetic policy generated from templated policy: {}",
                template.name
            ),
            self.datacenters.clone(),
        ))
    }
}
