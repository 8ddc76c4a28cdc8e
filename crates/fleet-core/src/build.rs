//! What was built: the version, the git commit and the build time, so "what is deployed?" is
//! answered by `fleet version`, every `/health/*` answer and the `fleet_build_info` metric.
//!
//! The binary sets it once at start from what its build script recorded ([`set`]); libraries
//! read it with [`get`] (tests that never set it read the crate version and "unknown").

use std::sync::OnceLock;

use serde::Serialize;

/// The build of the running binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildInfo {
    pub version: &'static str,
    /// The full commit id, or `unknown` when built outside a git checkout without `FLEET_GIT_SHA`.
    pub git_sha: &'static str,
    /// When it was built, RFC 3339 UTC (`SOURCE_DATE_EPOCH` when set, for reproducible builds).
    pub built: &'static str,
}

impl BuildInfo {
    /// The commit id shortened to 12 characters, as `fleet version` shows it.
    pub fn short_sha(&self) -> &'static str {
        &self.git_sha[..self.git_sha.len().min(12)]
    }
}

impl std::fmt::Display for BuildInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (git {}, built {})",
            self.version,
            self.short_sha(),
            self.built
        )
    }
}

static BUILD: OnceLock<BuildInfo> = OnceLock::new();

/// Records the running binary's build; the first call wins.
pub fn set(info: BuildInfo) {
    let _ = BUILD.set(info);
}

/// The running binary's build.
pub fn get() -> &'static BuildInfo {
    BUILD.get_or_init(|| BuildInfo {
        version: env!("CARGO_PKG_VERSION"),
        git_sha: "unknown",
        built: "unknown",
    })
}
