//! The web UI as the agent serves it: `/ui/` with its ETag and cache headers, deep links
//! answered with the app, `GET /` redirected there, assets cached for good under their
//! build's path, `ui_config.content_path`, and the UI off outside `-dev` without `-ui`.
//! (The pages themselves are tested in a real browser by `tests/ui/run.sh`.)

use proconsul_tests::{TempDir, TestAgent, write_file};

/// A client that does not follow redirects, so the 301 itself can be checked.
fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn fetch(url: &str, if_none_match: Option<&str>) -> reqwest::Response {
    let mut request = client().get(url);
    if let Some(etag) = if_none_match {
        request = request.header("If-None-Match", etag);
    }
    request.send().await.expect("request failed")
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", response.headers()))
        .to_str()
        .unwrap()
        .to_string()
}

/// The asset URLs `index.html` points at (`/ui/assets/<build>/...`).
fn asset_urls(index: &str) -> Vec<String> {
    index
        .split('"')
        .filter(|part| part.contains("/assets/"))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn dev_agent_serves_the_app_with_etags_cache_headers_and_deep_links() {
    let agent = TestAgent::start();

    let root = fetch(&agent.url("/"), None).await;
    assert_eq!(root.status(), 301);
    assert_eq!(header(&root, "location"), "/ui/");
    let bare = fetch(&agent.url("/ui"), None).await;
    assert_eq!(bare.status(), 301);
    assert_eq!(header(&bare, "location"), "/ui/");

    let index = fetch(&agent.url("/ui/"), None).await;
    assert_eq!(index.status(), 200);
    assert_eq!(header(&index, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&index, "cache-control"), "no-cache");
    assert!(header(&index, "content-security-policy").contains("default-src 'self'"));
    let etag = header(&index, "etag");
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let body = index.text().await.unwrap();
    assert!(body.contains("data-content-path=\"/ui/\""), "{body}");

    // Revalidation: the same ETag is a 304 without a body.
    let again = fetch(&agent.url("/ui/"), Some(&etag)).await;
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, "etag"), etag);
    assert!(again.text().await.unwrap().is_empty());

    // Deep links answer with the app itself.
    for deep in [
        "/ui/dc1/services",
        "/ui/dc1/services/web/instances",
        "/ui/dc1/kv/foo/bar/",
        "/ui/dc1/acls/tokens",
    ] {
        let page = fetch(&agent.url(deep), None).await;
        assert_eq!(page.status(), 200, "{deep}");
        assert_eq!(header(&page, "etag"), etag, "{deep}");
        assert_eq!(page.text().await.unwrap(), body, "{deep}");
    }

    // Assets of this build are cached for good, typed, and revalidate too.
    let assets = asset_urls(&body);
    let module = assets
        .iter()
        .find(|url| url.ends_with("/js/main.js"))
        .unwrap_or_else(|| panic!("no main.js in {body}"));
    let script = fetch(&agent.url(module), None).await;
    assert_eq!(script.status(), 200);
    assert_eq!(
        header(&script, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        header(&script, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    let script_etag = header(&script, "etag");
    assert_eq!(
        fetch(&agent.url(module), Some(&script_etag)).await.status(),
        304
    );
    for asset in &assets {
        assert_eq!(
            fetch(&agent.url(asset), None).await.status(),
            200,
            "{asset}"
        );
    }
    // The vendored Preact + htm module is served as JavaScript.
    let vendor = module.replace("js/main.js", "vendor/preact-htm.js");
    let vendored = fetch(&agent.url(&vendor), None).await;
    assert_eq!(vendored.status(), 200);
    assert!(vendored.text().await.unwrap().contains("useState"));
    // Another build's path is still served (an open tab across an upgrade), uncached.
    let stale = fetch(&agent.url("/ui/assets/0000/js/main.js"), None).await;
    assert_eq!(stale.status(), 200);
    assert_eq!(header(&stale, "cache-control"), "no-cache");
    assert_eq!(
        fetch(&agent.url("/ui/assets/0000/nope.js"), None)
            .await
            .status(),
        404
    );

    // The API beside it is untouched.
    let leader = fetch(&agent.url("/v1/status/leader"), None).await;
    assert_eq!(leader.status(), 200);
}

#[tokio::test]
async fn content_path_from_the_config_file_moves_the_app() {
    let dir = TempDir::new("ui-config");
    let config = write_file(
        dir.path(),
        "ui.hcl",
        "ui_config {\n  enabled = true\n  content_path = \"/consul/ui\"\n  metrics_provider = \"prometheus\"\n}\n",
    );
    let agent = TestAgent::start_with(&[&format!("-config-file={config}")]);
    let root = fetch(&agent.url("/"), None).await;
    assert_eq!(root.status(), 301);
    assert_eq!(header(&root, "location"), "/consul/ui/");
    let page = fetch(&agent.url("/consul/ui/dc1/nodes"), None).await;
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(body.contains("data-content-path=\"/consul/ui/\""), "{body}");
    assert!(
        asset_urls(&body)
            .iter()
            .all(|url| url.starts_with("/consul/ui/assets/"))
    );
    assert_eq!(fetch(&agent.url("/ui/"), None).await.status(), 404);
}

#[tokio::test]
async fn ui_is_off_outside_dev_unless_asked_for() {
    let data = TempDir::new("ui-off");
    let agent = TestAgent::start_server(data.path(), "ui-off", &[]);
    let root = fetch(&agent.url("/"), None).await;
    assert_eq!(root.status(), 200);
    assert_eq!(
        root.text().await.unwrap(),
        "Consul Agent: UI disabled. To enable, set ui_config.enabled=true in the agent configuration and restart."
    );
    assert_eq!(fetch(&agent.url("/ui/"), None).await.status(), 404);
    assert_eq!(
        fetch(&agent.url("/ui/dc1/services"), None).await.status(),
        404
    );
    drop(agent);

    let data = TempDir::new("ui-on");
    let agent = TestAgent::start_server(data.path(), "ui-on", &["-ui"]);
    assert_eq!(fetch(&agent.url("/"), None).await.status(), 301);
    assert_eq!(fetch(&agent.url("/ui/dc1/nodes"), None).await.status(), 200);

    // -dev with ui_config.enabled = false turns it off.
    let dir = TempDir::new("ui-dev-off");
    let config = write_file(
        dir.path(),
        "ui.json",
        r#"{"ui_config": {"enabled": false}}"#,
    );
    let dev = TestAgent::start_with(&[&format!("-config-file={config}")]);
    assert_eq!(fetch(&dev.url("/ui/"), None).await.status(), 404);
}
