//! `/v1/acl/templated-polic{ies,y}`: the built-in policy templates (list, read by name)
//! and the preview of the synthetic policy one renders for given variables.
//!
//! The templates listed are those tokens and roles may use; an unknown name is a 400
//! `Invalid templated policy Name: X`, as in Consul.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::Path;
use axum::response::Response;
use proconsul_acl::{TEMPLATES, Template, TemplatedPolicy};
use proconsul_api::acl::{AclTemplatedPolicyVariables, builtin_templated_policy};
use serde::Serialize;

use crate::http::acl::require_read;
use crate::http::acl_decode::decode_strict;
use crate::http::acl_token::synthetic_as_policy;
use crate::http::context::Ctx;
use crate::http::error::ApiError;
use crate::http::respond::json;

/// `api.ACLTemplatedPolicyResponse`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TemplateAnswer {
    template_name: &'static str,
    schema: &'static str,
    template: &'static str,
    description: &'static str,
}

impl From<&'static Template> for TemplateAnswer {
    fn from(template: &'static Template) -> TemplateAnswer {
        TemplateAnswer {
            template_name: template.name,
            schema: template.schema,
            template: template.template,
            description: template.description,
        }
    }
}

/// The templates a token or role may name.
fn offered() -> impl Iterator<Item = &'static Template> {
    TEMPLATES
        .iter()
        .filter(|template| builtin_templated_policy(template.name).is_some())
}

/// The offered template called `name`, else Consul's 400.
fn find(name: &str) -> Result<&'static Template, ApiError> {
    offered()
        .find(|template| template.name == name)
        .ok_or_else(|| ApiError::bad_request(format!("Invalid templated policy Name: {name}")))
}

/// `GET /v1/acl/templated-policies`: a map from name to template.
pub async fn list(ctx: Ctx) -> Result<Response, ApiError> {
    require_read(&ctx)?;
    let templates: BTreeMap<&str, TemplateAnswer> = offered()
        .map(|template| (template.name, TemplateAnswer::from(template)))
        .collect();
    Ok(json(&templates, ctx.options.pretty))
}

/// `GET /v1/acl/templated-policy/name/:name`.
pub async fn read(ctx: Ctx, Path(name): Path<String>) -> Result<Response, ApiError> {
    require_read(&ctx)?;
    Ok(json(
        &TemplateAnswer::from(find(&name)?),
        ctx.options.pretty,
    ))
}

/// `POST /v1/acl/templated-policy/preview/:name`: the body is the variables
/// (`{"Name": "api"}`); the answer is the synthetic policy.
pub async fn preview(
    ctx: Ctx,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_read(&ctx)?;
    let template = find(&name)?;
    let variables: AclTemplatedPolicyVariables =
        decode_strict(&body, "Failed to decode request body")?;
    let templated = TemplatedPolicy {
        template_name: template.name.to_string(),
        // The variables are written with `omitempty` before the schema sees them.
        name: Some(variables.name).filter(|name| !name.is_empty()),
        datacenters: Vec::new(),
    };
    let policy = templated.synthetic_policy().map_err(|error| {
        ApiError::bad_request(format!(
            "validation error for templated policy: {}: {error}",
            template.name
        ))
    })?;
    Ok(json(&synthetic_as_policy(&policy), ctx.options.pretty))
}
