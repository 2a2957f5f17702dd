//! Building responses: JSON bodies (compact or `?pretty`) with the query headers.

use std::any::Any;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::http::error::ApiError;
use crate::http::query::QueryMeta;

/// A JSON response, pretty-printed when the client asked with `?pretty`.
pub fn json<T: Serialize + ?Sized>(value: &T, pretty: bool) -> Response {
    let encoded = if pretty {
        serde_json::to_vec_pretty(value)
    } else {
        serde_json::to_vec(value)
    };
    match encoded {
        Ok(bytes) => {
            let mut response = Response::new(Body::from(bytes));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(error) => {
            ApiError::internal(format!("failed to encode response: {error}")).into_response()
        }
    }
}

/// A JSON response to a read, with `X-Consul-Index` and friends.
pub fn query_json<T: Serialize + ?Sized>(meta: &QueryMeta, value: &T, pretty: bool) -> Response {
    let mut response = json(value, pretty);
    meta.write_headers(response.headers_mut());
    response
}

/// A 404 with an empty body but the query headers, as Consul answers a KV miss.
pub fn query_not_found(meta: &QueryMeta) -> Response {
    let mut response = StatusCode::NOT_FOUND.into_response();
    meta.write_headers(response.headers_mut());
    response
}

/// A handler that panicked answers 500 instead of dropping the connection; the agent
/// keeps serving.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(detail, "request handler panicked");
    ApiError::internal("internal error").into_response()
}
