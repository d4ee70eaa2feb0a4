//! Credential plumbing shared by the per-cloud credential chains: an injectable
//! environment ([`Env`]), and [`SourceTrail`], which records every source tried so that
//! "no credentials" errors list them all.
//!
//! The chains themselves (which variables, which profile file) live in each provider
//! crate, because the names are the cloud's own.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::model::Provider;

/// Where credential chains read from. [`OsEnv`] in production, [`StaticEnv`] in tests.
pub trait Env: Send + Sync + fmt::Debug {
    /// An environment variable; `None` when unset or empty.
    fn var(&self, name: &str) -> Option<String>;
    /// The user's home directory.
    fn home_dir(&self) -> Option<PathBuf>;
    /// Reads a whole file.
    fn read_file(&self, path: &Path) -> std::io::Result<String>;
}

/// The process environment and file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsEnv;

impl Env for OsEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
    fn home_dir(&self) -> Option<PathBuf> {
        std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .map(PathBuf::from)
    }
    fn read_file(&self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }
}

/// A fixed environment for tests: variables, files and a home directory.
#[derive(Debug, Clone, Default)]
pub struct StaticEnv {
    vars: HashMap<String, String>,
    files: HashMap<PathBuf, String>,
    home: Option<PathBuf>,
}

impl StaticEnv {
    /// An empty environment (no variables, no files, no home).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets a variable.
    pub fn with_var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }
    /// Adds a file.
    pub fn with_file(mut self, path: impl Into<PathBuf>, contents: &str) -> Self {
        self.files.insert(path.into(), contents.to_owned());
        self
    }
    /// Sets the home directory.
    pub fn with_home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }
}

impl Env for StaticEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.vars.get(name).filter(|v| !v.is_empty()).cloned()
    }
    fn home_dir(&self) -> Option<PathBuf> {
        self.home.clone()
    }
    fn read_file(&self, path: &Path) -> std::io::Result<String> {
        self.files.get(path).cloned().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file (StaticEnv)")
        })
    }
}

/// Another environment with some variables set on top (for example a profile name chosen
/// on a command line), without touching the process environment.
#[derive(Debug, Clone)]
pub struct OverlayEnv<E> {
    base: E,
    vars: HashMap<String, String>,
}

impl<E: Env> OverlayEnv<E> {
    /// `base` with no overrides yet.
    pub fn new(base: E) -> Self {
        Self {
            base,
            vars: HashMap::new(),
        }
    }
    /// Sets a variable over the base.
    pub fn with_var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }
}

impl<E: Env> Env for OverlayEnv<E> {
    fn var(&self, name: &str) -> Option<String> {
        match self.vars.get(name) {
            Some(v) if !v.is_empty() => Some(v.clone()),
            Some(_) => None,
            None => self.base.var(name),
        }
    }
    fn home_dir(&self) -> Option<PathBuf> {
        self.base.home_dir()
    }
    fn read_file(&self, path: &Path) -> std::io::Result<String> {
        self.base.read_file(path)
    }
}

/// Records the sources a credential chain tried, for the "nothing found" error.
#[derive(Debug, Clone)]
pub struct SourceTrail {
    provider: Provider,
    tried: Vec<String>,
}

impl SourceTrail {
    /// A new, empty trail.
    pub fn new(provider: Provider) -> Self {
        Self {
            provider,
            tried: Vec::new(),
        }
    }
    /// Notes a source that gave nothing, and why.
    pub fn tried(&mut self, source: impl Into<String>) {
        self.tried.push(source.into());
    }
    /// The first set variable of `names`, noting the miss otherwise.
    pub fn first_var(&mut self, env: &dyn Env, names: &[&str]) -> Option<(String, String)> {
        for n in names {
            if let Some(v) = env.var(n) {
                return Some(((*n).to_owned(), v));
            }
        }
        self.tried(format!(
            "environment variables {} (unset)",
            names.join(", ")
        ));
        None
    }
    /// The sources tried so far.
    pub fn sources(&self) -> &[String] {
        &self.tried
    }
    /// The `CredentialsNotFound` error listing every source tried.
    pub fn into_error(self) -> Error {
        Error::CredentialsNotFound {
            provider: self.provider,
            tried: self.tried,
        }
    }
}

/// Resolves a profile-file path: an explicit override variable, else `~/<default>`.
pub fn profile_path(
    env: &dyn Env,
    override_var: Option<&str>,
    default_under_home: &str,
) -> Option<PathBuf> {
    if let Some(v) = override_var.and_then(|n| env.var(n)) {
        return Some(PathBuf::from(v));
    }
    env.home_dir().map(|h| h.join(default_under_home))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_lists_every_source() {
        let env = StaticEnv::new();
        let mut trail = SourceTrail::new(Provider::TencentCvm);
        assert!(trail
            .first_var(&env, &["TENCENTCLOUD_SECRET_ID", "TENCENT_SECRET_ID"])
            .is_none());
        trail.tried("profile file ~/.tencentcloud/credentials (not found)");
        let msg = trail.into_error().to_string();
        assert!(msg.contains("TENCENTCLOUD_SECRET_ID"), "{msg}");
        assert!(msg.contains("~/.tencentcloud/credentials"), "{msg}");
    }

    #[test]
    fn overlay_env_overrides_and_falls_back() {
        let base = StaticEnv::new().with_var("A", "1").with_var("B", "2");
        let env = OverlayEnv::new(base).with_var("A", "9").with_var("B", "");
        assert_eq!(env.var("A").as_deref(), Some("9"));
        assert_eq!(env.var("B"), None, "an empty override unsets");
        assert_eq!(env.var("C"), None);
    }

    #[test]
    fn static_env_reads_vars_and_files() {
        let env = StaticEnv::new()
            .with_var("A", "1")
            .with_var("EMPTY", "")
            .with_home("/home/u")
            .with_file("/home/u/.x", "hello");
        assert_eq!(env.var("A").as_deref(), Some("1"));
        assert_eq!(env.var("EMPTY"), None);
        let p = profile_path(&env, Some("NOPE"), ".x").unwrap();
        assert_eq!(env.read_file(&p).unwrap(), "hello");
    }
}
