//! Building responses: JSON bodies (compact or `?pretty`) with the query headers.

use std::any::Any;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use proconsul_api::go_json::{self, Shape};
use serde::Serialize;

use crate::http::error::ApiError;
use crate::http::query::QueryMeta;

/// A JSON response in Consul's server shapes (see [`Shape`]), pretty-printed when the
/// client asked with `?pretty`.
pub fn json<T: Serialize + ?Sized>(value: &T, pretty: bool) -> Response {
    json_shaped(Shape::Catalog, value, pretty)
}

/// A JSON response in `shape`: the agent's own endpoints answer in [`Shape::Agent`].
pub fn json_shaped<T: Serialize + ?Sized>(shape: Shape, value: &T, pretty: bool) -> Response {
    match go_json::to_vec(value, shape, pretty) {
        Ok(bytes) => json_body(Bytes::from(bytes)),
        Err(error) => {
            ApiError::internal(format!("failed to encode response: {error}")).into_response()
        }
    }
}

/// `value` encoded as JSON in Consul's server shapes, to answer with later (or more than
/// once). Our wire types always encode; should one not, the body says so rather than the
/// agent failing.
pub fn encode_json<T: Serialize + ?Sized>(value: &T, pretty: bool) -> Bytes {
    go_json::to_vec(value, Shape::Catalog, pretty)
        .map(Bytes::from)
        .unwrap_or_else(|error| {
            tracing::error!(%error, "failed to encode a response");
            Bytes::from_static(b"null")
        })
}

fn json_body(bytes: Bytes) -> Response {
    let mut response = Response::new(Body::from(bytes));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// An already encoded JSON answer to a read, with the query headers.
pub fn query_encoded(meta: &QueryMeta, encoded: Bytes) -> Response {
    let mut response = json_body(encoded);
    meta.write_headers(response.headers_mut());
    response
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
