//! Proconsul's web UI: a small single-page app (plain ES modules on a vendored Preact +
//! htm file, no build step) that talks only to the public HTTP API and
//! `/v1/internal/ui/*`, as Consul's UI does, so it works against Consul too.
//!
//! The assets under `assets/` are embedded in the binary ([`bundle`]); [`router`] serves
//! them at the configured content path (Consul's `ui_config.content_path`, `/ui/` by
//! default), answers every other path below it with the app's `index.html` so deep links
//! work, and redirects `GET /` there. The agent merges this router into its HTTP API.

mod bundle;
mod serve;

pub use serve::router;

/// Where and whether the UI is served (`-ui`, `ui_config { enabled, content_path }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiSettings {
    /// `ui_config.enabled` / `-ui` (on by default in `-dev`).
    pub enabled: bool,
    /// `ui_config.content_path`: the URL path the app lives under, starting and ending
    /// with `/` (see [`normalize_content_path`]).
    pub content_path: String,
}

impl Default for UiSettings {
    fn default() -> Self {
        UiSettings {
            enabled: false,
            content_path: DEFAULT_CONTENT_PATH.to_string(),
        }
    }
}

/// Consul's default `ui_config.content_path`.
pub const DEFAULT_CONTENT_PATH: &str = "/ui/";

/// A content path as Consul accepts it: leading and trailing `/` added when missing
/// (`ui` → `/ui/`). `None` for a path the router cannot mount the app under: the root
/// (which the HTTP API shares), one below `/v1/`, or one with characters a route cannot
/// hold.
pub fn normalize_content_path(path: &str) -> Option<String> {
    let trimmed = path.trim().trim_matches('/');
    if trimmed.is_empty()
        || trimmed == "v1"
        || trimmed.starts_with("v1/")
        || trimmed.split('/').any(str::is_empty)
        || !trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.' | '~'))
    {
        return None;
    }
    Some(format!("/{trimmed}/"))
}

#[cfg(test)]
mod tests {
    use super::normalize_content_path;

    #[test]
    fn content_paths_gain_their_slashes_and_bad_ones_are_refused() {
        assert_eq!(normalize_content_path("ui").as_deref(), Some("/ui/"));
        assert_eq!(normalize_content_path("/ui/").as_deref(), Some("/ui/"));
        assert_eq!(
            normalize_content_path("/consul/ui").as_deref(),
            Some("/consul/ui/")
        );
        for bad in ["/", "", "/v1/ui/", "/a//b/", "/{x}/", "/a b/"] {
            assert_eq!(normalize_content_path(bad), None, "{bad:?}");
        }
    }
}
