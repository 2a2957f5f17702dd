//! `api.http`: every request an endpoint serves, timed in milliseconds with Consul's
//! labels: `method`, and `path`, the route's pattern as Consul registers it with the
//! leading `/` dropped and `/` as `_` (`/v1/kv/{*key}` is Consul's `/v1/kv/`, so
//! `v1_kv_`), never the request's own path. Unmatched paths (404) are not timed, as in
//! Consul. Each route gets its own layer when the router is built ([`TimedRoutes`]), so a
//! request finds its timer by its method alone: no per-request lookup by pattern and no
//! matched-path extension. A timer is made on a route and method's first request.
//! Without an installed recorder (`-no-metrics`) no layer is added at all.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::http::{Method, Request};
use axum::routing::MethodRouter;
use metrics::{Histogram, histogram};
use proconsul_telemetry::Telemetry;
use tower::{Layer, Service};

/// The methods timed (anything else is not, to keep the label set bounded).
const METHODS: [Method; 7] = [
    Method::GET,
    Method::PUT,
    Method::POST,
    Method::DELETE,
    Method::HEAD,
    Method::OPTIONS,
    Method::PATCH,
];

/// One route's timers, by method, made on first use.
#[derive(Debug)]
struct RouteTimers {
    path: String,
    by_method: [OnceLock<Histogram>; METHODS.len()],
}

impl RouteTimers {
    fn timer(&self, method: &Method) -> Option<&Histogram> {
        let slot = METHODS.iter().position(|known| known == method)?;
        Some(self.by_method[slot].get_or_init(|| {
            histogram!("api.http", "method" => METHODS[slot].as_str(), "path" => self.path.clone())
        }))
    }
}

/// Consul's `path` label of an axum route pattern: up to the first parameter, without
/// the leading `/`, `/` as `_`.
pub fn path_label(pattern: &str) -> String {
    let fixed = pattern.split('{').next().unwrap_or(pattern);
    fixed.strip_prefix('/').unwrap_or(fixed).replace('/', "_")
}

/// `Router::route` with the route timed as `api.http`; without a recorder
/// (`-no-metrics`) the route is added as it is, so requests pay nothing for timing.
pub trait TimedRoutes<S> {
    fn timed_route(self, path: &str, method_router: MethodRouter<S>) -> Self;
}

impl<S: Clone + Send + Sync + 'static> TimedRoutes<S> for Router<S> {
    fn timed_route(self, path: &str, method_router: MethodRouter<S>) -> Self {
        if !Telemetry::is_recording() {
            return self.route(path, method_router);
        }
        self.route(path, method_router.layer(HttpMetricsLayer::new(path)))
    }
}

/// Times the route it wraps (one layer per route pattern).
#[derive(Debug, Clone)]
pub struct HttpMetricsLayer {
    timers: Arc<RouteTimers>,
}

impl HttpMetricsLayer {
    /// The layer of the route `pattern`.
    pub fn new(pattern: &str) -> HttpMetricsLayer {
        HttpMetricsLayer {
            timers: Arc::new(RouteTimers {
                path: path_label(pattern),
                by_method: Default::default(),
            }),
        }
    }
}

impl<S> Layer<S> for HttpMetricsLayer {
    type Service = HttpMetrics<S>;

    fn layer(&self, inner: S) -> HttpMetrics<S> {
        HttpMetrics {
            inner,
            timers: self.timers.clone(),
        }
    }
}

/// See [`HttpMetricsLayer`].
#[derive(Debug, Clone)]
pub struct HttpMetrics<S> {
    inner: S,
    timers: Arc<RouteTimers>,
}

impl<S, B> Service<Request<B>> for HttpMetrics<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Timed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let timer = self.timers.timer(request.method()).cloned();
        Timed {
            inner: self.inner.call(request),
            timer: timer.map(|histogram| (histogram, Instant::now())),
        }
    }
}

pin_project_lite::pin_project! {
    /// The handler's future, recording its time when it completes.
    pub struct Timed<F> {
        #[pin]
        inner: F,
        timer: Option<(Histogram, Instant)>,
    }
}

impl<F: Future> Future for Timed<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        if let Some((histogram, start)) = this.timer.take() {
            histogram.record(start.elapsed().as_secs_f64() * 1000.0);
        }
        Poll::Ready(output)
    }
}

#[cfg(test)]
mod tests {
    use super::path_label;

    #[test]
    fn route_patterns_become_consul_s_path_labels() {
        assert_eq!(path_label("/v1/kv/{*key}"), "v1_kv_");
        assert_eq!(path_label("/v1/kv/"), "v1_kv_");
        assert_eq!(path_label("/v1/agent/metrics"), "v1_agent_metrics");
        assert_eq!(
            path_label("/v1/session/destroy/{id}"),
            "v1_session_destroy_"
        );
        assert_eq!(path_label("/v1/query/{id}/execute"), "v1_query_");
        assert_eq!(
            path_label("/v1/catalog/service/{*name}"),
            "v1_catalog_service_"
        );
    }
}
