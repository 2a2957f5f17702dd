//! The embedded assets (`assets/`, compiled into the binary by rust-embed, in debug
//! builds too) and what is derived from them once at start-up: a build id that names
//! this set of files in asset URLs, and `index.html` with its placeholders filled in.

use rust_embed::Embed;
use sha2::{Digest, Sha256};

/// Every file under `assets/`.
#[derive(Embed)]
#[folder = "assets/"]
struct Assets;

/// One asset ready to send.
pub struct Asset {
    pub body: std::borrow::Cow<'static, [u8]>,
    pub content_type: &'static str,
    /// A strong ETag (quoted) from the file's SHA-256.
    pub etag: String,
}

/// The app as served under one content path.
pub struct Bundle {
    /// Names this exact set of files: asset URLs carry it, so they can be cached for
    /// good, and a new binary's files get new URLs.
    pub build: String,
    /// `index.html` with the content path and asset prefix filled in.
    pub index: Vec<u8>,
    pub index_etag: String,
}

impl Bundle {
    /// Renders `index.html` for the app mounted at `content_path` (`/ui/`).
    pub fn new(content_path: &str) -> Bundle {
        let mut names: Vec<_> = Assets::iter().collect();
        names.sort();
        let mut build = Sha256::new();
        for name in &names {
            if let Some(file) = Assets::get(name) {
                build.update(name.as_bytes());
                build.update(file.metadata.sha256_hash());
            }
        }
        let build = hex(&build.finalize()[..8]);
        let template = Assets::get("index.html")
            .map(|file| String::from_utf8_lossy(&file.data).into_owned())
            .unwrap_or_default();
        let index = template
            .replace("{{ASSETS}}", &format!("{content_path}assets/{build}/"))
            .replace("{{CONTENT_PATH}}", content_path)
            .into_bytes();
        let index_etag = format!("\"{}\"", hex(&Sha256::digest(&index)[..16]));
        Bundle {
            build,
            index,
            index_etag,
        }
    }

    /// The asset at `path` (relative to `assets/`), if there is one.
    pub fn asset(&self, path: &str) -> Option<Asset> {
        let file = Assets::get(path)?;
        Some(Asset {
            etag: format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16])),
            content_type: content_type(path),
            body: file.data,
        })
    }
}

/// The Content-Type for an asset, by extension (the app has only these kinds).
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::Bundle;

    #[test]
    fn index_points_at_the_build_and_content_path() {
        let bundle = Bundle::new("/consul/ui/");
        let index = String::from_utf8(bundle.index.clone()).unwrap();
        assert!(index.contains(&format!("/consul/ui/assets/{}/js/main.js", bundle.build)));
        assert!(!index.contains("{{"), "{index}");
        let module = bundle.asset("js/main.js").unwrap();
        assert_eq!(module.content_type, "text/javascript; charset=utf-8");
        assert!(bundle.asset("nope.js").is_none());
    }
}
