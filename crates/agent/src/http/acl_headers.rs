//! The response headers that report a request's ACL outcome, for every endpoint at
//! once: `X-Consul-Default-ACL-Policy`, and `X-Consul-Results-Filtered-By-ACLs: true`
//! when the answer left out something the token may not see. The router has this
//! layer only when ACLs are enabled.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::http::{HeaderName, HeaderValue, Request};
use axum::response::Response;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::acl::FilteredByAcls;

const X_CONSUL_RESULTS_FILTERED_BY_ACLS: HeaderName =
    HeaderName::from_static("x-consul-results-filtered-by-acls");
const X_CONSUL_DEFAULT_ACL_POLICY: HeaderName =
    HeaderName::from_static("x-consul-default-acl-policy");

/// The layer: hands each request a [`FilteredByAcls`] and writes the headers after.
/// A plain tower layer (no boxed service or future per request).
#[derive(Clone, Copy)]
pub struct AclHeadersLayer {
    /// `acl.default_policy` as the header says it.
    pub default_policy: &'static str,
}

impl<S> Layer<S> for AclHeadersLayer {
    type Service = AclHeaders<S>;

    fn layer(&self, inner: S) -> AclHeaders<S> {
        AclHeaders {
            inner,
            default_policy: self.default_policy,
        }
    }
}

/// The service [`AclHeadersLayer`] wraps around the router.
#[derive(Clone)]
pub struct AclHeaders<S> {
    inner: S,
    default_policy: &'static str,
}

impl<S, B> Service<Request<B>> for AclHeaders<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = WithAclHeaders<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let filtered = FilteredByAcls::default();
        request.extensions_mut().insert(filtered.clone());
        WithAclHeaders {
            inner: self.inner.call(request),
            filtered,
            default_policy: self.default_policy,
        }
    }
}

pin_project! {
    /// The wrapped service's answer, with the ACL headers added.
    pub struct WithAclHeaders<F> {
        #[pin]
        inner: F,
        filtered: FilteredByAcls,
        default_policy: &'static str,
    }
}

impl<F, E> Future for WithAclHeaders<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        let headers = response.headers_mut();
        headers.insert(
            X_CONSUL_DEFAULT_ACL_POLICY,
            HeaderValue::from_static(this.default_policy),
        );
        if this.filtered.get() {
            headers.insert(
                X_CONSUL_RESULTS_FILTERED_BY_ACLS,
                HeaderValue::from_static("true"),
            );
        }
        Poll::Ready(Ok(response))
    }
}
