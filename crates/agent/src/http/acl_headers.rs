//! The response headers that report a request's ACL outcome, for every endpoint at
//! once: `X-Consul-Default-ACL-Policy`, and `X-Consul-Results-Filtered-By-ACLs: true`
//! when the answer left out something the token may not see. The router has this
//! layer only when ACLs are enabled.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::http::AppState;

const X_CONSUL_RESULTS_FILTERED_BY_ACLS: HeaderName =
    HeaderName::from_static("x-consul-results-filtered-by-acls");
const X_CONSUL_DEFAULT_ACL_POLICY: HeaderName =
    HeaderName::from_static("x-consul-default-acl-policy");

/// Set by the request's authorizer when it leaves something out of the answer; the
/// request extension through which this layer learns it.
#[derive(Clone, Default)]
pub struct FilteredByAcls(pub Arc<AtomicBool>);

impl FilteredByAcls {
    /// Records that the answer left something out.
    pub fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the answer left something out.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The layer: hands the request a [`FilteredByAcls`] and writes the headers after.
pub async fn acl_headers(
    State(agent): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(resolver) = &agent.acl_resolver else {
        return next.run(request).await;
    };
    let filtered = FilteredByAcls::default();
    request.extensions_mut().insert(filtered.clone());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        X_CONSUL_DEFAULT_ACL_POLICY,
        HeaderValue::from_static(resolver.default_policy_name()),
    );
    if filtered.get() {
        headers.insert(
            X_CONSUL_RESULTS_FILTERED_BY_ACLS,
            HeaderValue::from_static("true"),
        );
    }
    response
}
