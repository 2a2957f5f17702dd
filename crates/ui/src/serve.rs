//! The UI's routes: `GET /` redirects to the content path, assets are served under
//! `<content path>assets/<build>/` with an ETag and, for the current build, a
//! year-long immutable cache, and every other path under the content path answers with
//! `index.html` (revalidated on each load) so that deep links such as
//! `/ui/dc1/services/web/instances` open the app on that page.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::UiSettings;
use crate::bundle::Bundle;

/// Consul's answer at `/` when the UI is off.
const DISABLED: &str = "Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent configuration and restart.";

/// Assets of the current build never change under their URL.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Only this agent's own origin: no CDN, font or script from elsewhere can load.
const POLICY: &str = "default-src 'self'; connect-src 'self'; img-src 'self' data:; \
    style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; \
    base-uri 'none'; frame-ancestors 'none'";

/// The UI's routes for the agent's HTTP router: with the UI off, only `/` (Consul's
/// "UI disabled" text).
pub fn router<S: Clone + Send + Sync + 'static>(settings: &UiSettings) -> Router<S> {
    if !settings.enabled {
        return Router::new().route("/", get(|| async { DISABLED }));
    }
    let content_path = settings.content_path.clone();
    let bundle = Arc::new(Bundle::new(&content_path));
    let to_app = {
        let content_path = content_path.clone();
        move || async move { redirect(&content_path) }
    };
    let index = {
        let bundle = bundle.clone();
        move |headers: HeaderMap| async move { send_index(&bundle, &headers) }
    };
    let page = move |Path(rest): Path<String>, headers: HeaderMap| async move {
        match rest.strip_prefix("assets/") {
            Some(asset) => send_asset(&bundle, asset, &headers),
            None => send_index(&bundle, &headers),
        }
    };
    Router::new()
        .route("/", get(to_app.clone()))
        .route(content_path.trim_end_matches('/'), get(to_app))
        .route(&content_path, get(index))
        .route(&format!("{content_path}{{*rest}}"), get(page))
}

fn redirect(location: &str) -> Response {
    let mut response = StatusCode::MOVED_PERMANENTLY.into_response();
    if let Ok(location) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

fn send_index(bundle: &Bundle, request: &HeaderMap) -> Response {
    let mut response = conditional(
        request,
        &bundle.index_etag,
        "no-cache",
        "text/html; charset=utf-8",
        bundle.index.clone(),
    );
    response
        .headers_mut()
        .insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    response
}

/// `<build>/<path>`: a file of an older build (a tab open across an upgrade) is still
/// served when it exists, but only revalidated, never cached for good.
fn send_asset(bundle: &Bundle, build_and_path: &str, request: &HeaderMap) -> Response {
    let Some((build, path)) = build_and_path.split_once('/') else {
        return (StatusCode::NOT_FOUND, "asset not found").into_response();
    };
    let Some(asset) = bundle.asset(path) else {
        return (StatusCode::NOT_FOUND, "asset not found").into_response();
    };
    let cache = if build == bundle.build {
        IMMUTABLE
    } else {
        "no-cache"
    };
    conditional(
        request,
        &asset.etag,
        cache,
        asset.content_type,
        asset.body.into_owned(),
    )
}

/// 304 when the request's `If-None-Match` names `etag`, else 200 with the body; both
/// carry the ETag and the cache policy.
fn conditional(
    request: &HeaderMap,
    etag: &str,
    cache: &'static str,
    content_type: &'static str,
    body: Vec<u8>,
) -> Response {
    let matches = request
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*");
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = body.into_response();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    };
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(etag) {
        headers.insert(ETAG, etag);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
