//! `/v1/acl/*` and `/v1/agent/token/*` while ACLs are disabled, which is always until the
//! ACL system lands: Consul answers 401 "ACL support disabled", and clients (py-consul's
//! `ACLDisabled`) rely on that answer.

use axum::http::StatusCode;

use crate::http::error::ApiError;

/// Every ACL endpoint, with ACLs disabled.
pub async fn disabled() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "ACL support disabled")
}
