//! `GET /v1/agent/version`: Consul's `version.GetBuildInfo` (`SHA`, `BuildDate`,
//! `HumanVersion`, `FIPS`), from [`crate::build_info`]. No ACL: Consul resolves no token
//! for it (the request extractor lists it among the token-less paths).

use axum::response::Response;
use serde_json::json;

use crate::build_info;
use crate::http::context::Ctx;
use crate::http::respond::json;

/// `GET /v1/agent/version`.
pub async fn version(ctx: Ctx) -> Response {
    let body = json!({
        "SHA": build_info::REVISION,
        "BuildDate": build_info::BUILD_DATE,
        "HumanVersion": build_info::human_version(),
        "FIPS": "",
    });
    json(&body, ctx.options.pretty)
}
