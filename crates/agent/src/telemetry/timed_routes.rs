//! `api.http`: every request an endpoint serves, timed in milliseconds with Consul's
//! labels: `method`, and `path`, the route's pattern as Consul registers it with the
//! leading `/` dropped and `/` as `_` (`/v1/kv/{*key}` is Consul's `/v1/kv/`, so
//! `v1_kv_`), never the request's own path. Unmatched paths (404) are not timed, as in
//! Consul; a known path asked with a method it does not serve (405) is, as in Consul.
//!
//! Routes are written as with axum (`.timed_route("/v1/kv/{*key}", get(kv::get).put(kv::put))`)
//! but with this module's [`get`], [`put`], [`post`], [`delete`] and [`any`]: they
//! collect the handlers, and [`TimedRoutes::timed_route`] wraps each in a
//! [`TimedHandler`] holding the route's timers before axum boxes it. The timing is
//! then part of the handler's own future: no second boxed service per route (as a
//! `tower` layer on the route would add: another `clone_box`, boxed future and
//! allocation per request), no per-request lookup by pattern, no matched-path
//! extension. A route's timer for a method is made on its first request.
//! Without an installed recorder (`-no-metrics`) the handlers are added unwrapped,
//! so requests pay nothing for timing.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, Route};
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
    fn new(pattern: &str) -> RouteTimers {
        RouteTimers {
            path: path_label(pattern),
            by_method: Default::default(),
        }
    }

    /// The timer of the method in `slot` (an index into [`METHODS`]).
    fn timer(&self, slot: usize) -> &Histogram {
        self.by_method[slot].get_or_init(|| {
            histogram!("api.http", "method" => METHODS[slot].as_str(), "path" => self.path.clone())
        })
    }
}

/// Consul's `path` label of an axum route pattern: up to the first parameter, without
/// the leading `/`, `/` as `_`.
pub fn path_label(pattern: &str) -> String {
    let fixed = pattern.split('{').next().unwrap_or(pattern);
    fixed.strip_prefix('/').unwrap_or(fixed).replace('/', "_")
}

/// `Router::route` with the route timed as `api.http`; without a recorder
/// (`-no-metrics`) the handlers are added as they are, so requests pay nothing for
/// timing.
pub trait TimedRoutes<S> {
    /// Adds `methods` (built with this module's [`get`], [`put`] ...) at `path`.
    fn timed_route(self, path: &str, methods: TimedMethods<S>) -> Self;
}

impl<S: Clone + Send + Sync + 'static> TimedRoutes<S> for Router<S> {
    fn timed_route(self, path: &str, methods: TimedMethods<S>) -> Self {
        let timers = Telemetry::is_recording().then(|| Arc::new(RouteTimers::new(path)));
        self.route(path, methods.into_method_router(timers.as_ref()))
    }
}

/// Adds one handler (or layer) to a route's method router, timed with the route's
/// timers when it has them.
type Step<S> = Box<dyn FnOnce(MethodRouter<S>, Option<&Arc<RouteTimers>>) -> MethodRouter<S>>;

/// A route's handlers by method, waiting for [`TimedRoutes::timed_route`] to give them
/// the route's timers: this module's counterpart of axum's `MethodRouter`, built the
/// same way (`get(a).put(b)`, `.layer(..)`).
#[must_use = "a route's methods do nothing until given to `timed_route`"]
pub struct TimedMethods<S> {
    steps: Vec<Step<S>>,
    /// Made with [`any`]: the handler is the method router's fallback, so no 405 to time.
    serves_any_method: bool,
}

impl<S: Clone + Send + Sync + 'static> TimedMethods<S> {
    fn empty() -> TimedMethods<S> {
        TimedMethods {
            steps: Vec::new(),
            serves_any_method: false,
        }
    }

    fn on<H, T>(mut self, filter: MethodFilter, handler: H) -> TimedMethods<S>
    where
        H: Handler<T, S>,
        T: 'static,
    {
        self.steps
            .push(Box::new(move |router, timers| match timers {
                Some(timers) => router.on(filter, TimedHandler::new(handler, timers)),
                None => router.on(filter, handler),
            }));
        self
    }

    /// `MethodRouter::layer` around the route's handlers (and outside their timing):
    /// for what only some routes need, such as a larger body limit.
    pub fn layer<L>(mut self, layer: L) -> TimedMethods<S>
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.steps
            .push(Box::new(move |router, _| router.layer(layer)));
        self
    }

    /// The method router, its handlers timed with `timers` when given.
    fn into_method_router(self, timers: Option<&Arc<RouteTimers>>) -> MethodRouter<S> {
        let mut router = MethodRouter::new();
        // A method the route does not serve is answered 405 by axum's fallback, and
        // timed as Consul times it (its handlers answer 405 themselves).
        if let (Some(timers), false) = (timers, self.serves_any_method) {
            router = router.fallback(TimedHandler::new(method_not_allowed, timers));
        }
        self.steps
            .into_iter()
            .fold(router, |router, step| step(router, timers))
    }
}

/// axum's own answer to a method a route does not serve (its `Allow` header is added
/// by the router around any fallback).
async fn method_not_allowed() -> StatusCode {
    StatusCode::METHOD_NOT_ALLOWED
}

/// axum's method functions and methods, timed by [`TimedRoutes::timed_route`]:
/// `get(handler)` starts a route's methods, `.put(handler)` adds to them (`get` serves
/// HEAD too, as axum's does).
macro_rules! timed_methods {
    ($($method:ident => $filter:ident),*) => {
        impl<S: Clone + Send + Sync + 'static> TimedMethods<S> {
            $(
                #[doc = concat!("Also serves ", stringify!($filter), " with `handler`.")]
                pub fn $method<H: Handler<T, S>, T: 'static>(self, handler: H) -> TimedMethods<S> {
                    self.on(MethodFilter::$filter, handler)
                }
            )*
        }
        $(
            #[doc = concat!("`axum::routing::", stringify!($method), "`, timed by [`TimedRoutes::timed_route`].")]
            pub fn $method<H, T, S>(handler: H) -> TimedMethods<S>
            where
                H: Handler<T, S>,
                T: 'static,
                S: Clone + Send + Sync + 'static,
            {
                TimedMethods::empty().$method(handler)
            }
        )*
    };
}

timed_methods!(get => GET, put => PUT, post => POST, delete => DELETE);

/// `axum::routing::any`, timed by [`TimedRoutes::timed_route`].
pub fn any<H, T, S>(handler: H) -> TimedMethods<S>
where
    H: Handler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    let mut methods = TimedMethods::empty();
    methods.serves_any_method = true;
    methods.steps.push(Box::new(move |_, timers| match timers {
        Some(timers) => axum::routing::any(TimedHandler::new(handler, timers)),
        None => axum::routing::any(handler),
    }));
    methods
}

/// A handler that times its own future as its route's `api.http`.
#[derive(Debug, Clone)]
struct TimedHandler<H> {
    handler: H,
    timers: Arc<RouteTimers>,
}

impl<H> TimedHandler<H> {
    fn new(handler: H, timers: &Arc<RouteTimers>) -> TimedHandler<H> {
        TimedHandler {
            handler,
            timers: timers.clone(),
        }
    }
}

impl<H, T, S> Handler<T, S> for TimedHandler<H>
where
    H: Handler<T, S>,
{
    type Future = Timed<H::Future>;

    fn call(self, request: Request, state: S) -> Self::Future {
        let slot = METHODS.iter().position(|known| known == request.method());
        let timers = self.timers;
        Timed {
            inner: self.handler.call(request, state),
            timer: slot.map(|slot| (timers, slot, Instant::now())),
        }
    }
}

pin_project_lite::pin_project! {
    /// A handler's future, recording its time when it completes.
    struct Timed<F> {
        #[pin]
        inner: F,
        timer: Option<(Arc<RouteTimers>, usize, Instant)>,
    }
}

impl<F: Future<Output = Response>> Future for Timed<F> {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        if let Some((timers, slot, start)) = this.timer.take() {
            timers
                .timer(slot)
                .record(start.elapsed().as_secs_f64() * 1000.0);
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
