//! Errors as Consul reports them: a status code and a plain-text body, never JSON.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use proconsul_consensus::ConsensusError;

/// A failed request. The text is the whole response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 403: the token may not do this.
    pub fn permission_denied() -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "Permission denied")
    }

    /// 404: the thing named in the path does not exist.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    /// 500: the request was fine but the server could not carry it out.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

impl From<ConsensusError> for ApiError {
    fn from(error: ConsensusError) -> ApiError {
        ApiError::internal(error.to_string())
    }
}

impl From<crate::error::NotAServer> for ApiError {
    fn from(error: crate::error::NotAServer) -> ApiError {
        ApiError::internal(error.to_string())
    }
}

impl From<crate::error::WriteError> for ApiError {
    fn from(error: crate::error::WriteError) -> ApiError {
        ApiError::internal(error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(status = %self.status, message = %self.message, "request failed");
        } else {
            tracing::debug!(status = %self.status, message = %self.message, "request refused");
        }
        let mut response = (self.status, self.message).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    }
}

impl From<crate::acl::AclRefusal> for ApiError {
    fn from(refusal: crate::acl::AclRefusal) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, refusal.0)
    }
}
