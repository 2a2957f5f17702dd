//! This build as Consul describes its own (`version.GetBuildInfo`, `agent/self`'s
//! `Stats.build`): the Consul release Proconsul answers as
//! ([`crate::CONSUL_COMPAT_VERSION`]), the source revision and the build date. The
//! revision and date come from `PROCONSUL_GIT_SHA` and `PROCONSUL_BUILD_DATE` (RFC 3339)
//! when set at compile time, as Consul's release builds set theirs with `-ldflags`;
//! otherwise they are empty and Consul's own default date.

/// The source revision (a git commit), or empty.
pub const REVISION: &str = match option_env!("PROCONSUL_GIT_SHA") {
    Some(sha) => sha,
    None => "",
};

/// When this was built, RFC 3339; Consul's default when unknown.
pub const BUILD_DATE: &str = match option_env!("PROCONSUL_BUILD_DATE") {
    Some(date) => date,
    None => "1970-01-01T00:00:01Z",
};

/// The pre-release marker (`Stats.build.prerelease`): none.
pub const PRERELEASE: &str = "";

/// Proconsul's own version.
pub const PROCONSUL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Consul's `GetHumanVersion`: the version, `-prerelease` when there is one.
pub fn human_version() -> String {
    if PRERELEASE.is_empty() {
        crate::CONSUL_COMPAT_VERSION.to_string()
    } else {
        format!("{}-{PRERELEASE}", crate::CONSUL_COMPAT_VERSION)
    }
}
