//! `GET /v1/agent/metrics`: the agent's metrics as Consul answers them (agent:read on
//! this agent's node). By default go-metrics' in-memory summary of the latest finished
//! 10-second interval (JSON); with `?format=prometheus`, or an `Accept` header naming
//! `application/openmetrics-text` (or `text/plain` with a first parameter of
//! `version=0.4.0`, sic), the Prometheus text format. With Prometheus output off
//! (`telemetry.prometheus_retention_time` not positive) Consul answers 200 with an
//! empty body and says why in `X-Consul-Reason`; so does this.

use std::time::SystemTime;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use proconsul_acl::{Access, Permission};

use crate::http::context::Ctx;
use crate::http::error::ApiError;

/// Consul's reason when Prometheus output is off.
const PROMETHEUS_OFF: &str = "Prometheus is not enabled since its retention time is not positive";
/// client_golang's text format.
const PROMETHEUS_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /v1/agent/metrics`.
pub async fn metrics(ctx: Ctx, headers: HeaderMap) -> Result<Response, ApiError> {
    ctx.authz
        .require(Permission::agent(Access::Read, &ctx.agent.node.name))?;
    let telemetry = &ctx.agent.telemetry;
    let now = SystemTime::now();
    if wants_prometheus(ctx.params.get("format"), &headers) {
        let mut response = Response::new(Body::empty());
        match telemetry.prometheus_text(now) {
            Some(text) => {
                *response.body_mut() = Body::from(text);
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(PROMETHEUS_TYPE),
                );
            }
            None => {
                response
                    .headers_mut()
                    .insert("X-Consul-Reason", HeaderValue::from_static(PROMETHEUS_OFF));
            }
        }
        return Ok(response);
    }
    let text = telemetry
        .summary_json(now, ctx.options.pretty)
        .map_err(|error| ApiError::internal(error.to_string()))?;
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// Consul's `enablePrometheusOutput`: `?format=prometheus`, or an `Accept` header
/// listing `application/openmetrics-text`, or `text/plain` whose first parameter is
/// `version=0.4.0`.
fn wants_prometheus(format: Option<&str>, headers: &HeaderMap) -> bool {
    if format == Some("prometheus") {
        return true;
    }
    let Some(accept) = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    accept.split(',').any(|mime| {
        let mut parts = mime.split(';');
        let kind = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        kind == "application/openmetrics-text"
            || (kind == "text/plain" && parts.next().map(str::trim) == Some("version=0.4.0"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn prometheus_is_chosen_as_consul_chooses_it() {
        assert!(wants_prometheus(Some("prometheus"), &HeaderMap::new()));
        assert!(!wants_prometheus(Some("Prometheus"), &HeaderMap::new()));
        assert!(!wants_prometheus(None, &HeaderMap::new()));
        // What Prometheus 2.x sends when it scrapes.
        let scraper = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert!(wants_prometheus(None, &accept(scraper)));
        assert!(wants_prometheus(None, &accept("text/plain; version=0.4.0")));
        assert!(!wants_prometheus(None, &accept("text/plain;version=0.0.4")));
        assert!(!wants_prometheus(None, &accept("application/json")));
    }
}
