//! Credential plumbing shared by the per-cloud credential chains: an injectable
//! environment ([`Env`]), [`SourceTrail`], which records every source tried so that
//! "no credentials" errors list them all, and [`read_credentials_file`], which reads a
//! file holding a secret and warns when its permissions let group or others at it.
//!
//! [`chain`] is the one credential-chain abstraction ([`CredentialChain`] of
//! [`CredentialSource`]s, with [`Explicit`] and [`EnvKeyPair`] written once); each
//! provider crate fills one with its cloud's sources, in its cloud's order, because the
//! names are the cloud's own.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::error::Error;
use crate::model::Provider;

pub mod cache;
pub mod chain;
pub mod jwt;
pub mod provider;

pub use cache::{CredentialsCache, DEFAULT_REFRESH_MARGIN};
pub use chain::{
    CredentialChain, CredentialSource, EnvKeyPair, EnvKeyPairSource, Explicit, Found, HalfSetPair,
    KeyPair,
};
pub use provider::{
    fixed, Expiring, FixedCredentials, ProvideCredentials, ProvideFuture, SharedProvider,
};

/// Where credential chains read from. [`OsEnv`] in production, [`StaticEnv`] in tests.
pub trait Env: Send + Sync + fmt::Debug {
    /// An environment variable; `None` when unset or empty.
    fn var(&self, name: &str) -> Option<String>;
    /// The user's home directory.
    fn home_dir(&self) -> Option<PathBuf>;
    /// Reads a whole file.
    fn read_file(&self, path: &Path) -> std::io::Result<String>;
    /// The permission bits of a file (`mode & 0o777`), when the platform has them and the
    /// file exists. The default knows none (no permission check is then possible).
    fn file_mode(&self, _path: &Path) -> Option<u32> {
        None
    }
    /// Called once for every credentials file found exposed by [`read_credentials_file`],
    /// after the `tracing` warning. The default does nothing; [`StaticEnv`] records them.
    fn exposed_file(&self, _warning: &ExposedFile) {}
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
    /// Regular files only, at most [`MAX_CREDENTIALS_FILE_BYTES`](crate::files::MAX_CREDENTIALS_FILE_BYTES)
    /// ([`read_text_capped`](crate::files::read_text_capped)): a credentials path that
    /// points at `/dev/zero` or a FIFO fails at once.
    fn read_file(&self, path: &Path) -> std::io::Result<String> {
        crate::files::read_text_capped(path, crate::files::MAX_CREDENTIALS_FILE_BYTES)
            .map_err(|e| e.into_io(path))
    }
    #[cfg(unix)]
    fn file_mode(&self, path: &Path) -> Option<u32> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o777)
    }
}

/// A fixed environment for tests: variables, files (with optional permission bits) and a
/// home directory. It records the [`ExposedFile`] warnings the chains raise; clones share
/// that record. `Debug` names the variables and files, never their values (they hold
/// test secrets).
#[derive(Clone, Default)]
pub struct StaticEnv {
    vars: HashMap<String, String>,
    files: HashMap<PathBuf, String>,
    modes: HashMap<PathBuf, u32>,
    home: Option<PathBuf>,
    warnings: Arc<Mutex<Vec<ExposedFile>>>,
}

impl fmt::Debug for StaticEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut vars: Vec<&String> = self.vars.keys().collect();
        vars.sort();
        let mut files: Vec<&PathBuf> = self.files.keys().collect();
        files.sort();
        f.debug_struct("StaticEnv")
            .field("vars", &vars)
            .field("files", &files)
            .field("home", &self.home)
            .finish_non_exhaustive()
    }
}

impl StaticEnv {
    /// An empty environment (no variables, no files, no home).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets a variable.
    #[must_use]
    pub fn with_var(mut self, name: &str, value: &str) -> Self {
        self.vars.insert(name.to_owned(), value.to_owned());
        self
    }
    /// Adds a file.
    #[must_use]
    pub fn with_file(mut self, path: impl Into<PathBuf>, contents: &str) -> Self {
        self.files.insert(path.into(), contents.to_owned());
        self
    }
    /// Adds a file with permission bits (`0o644`, ...), as [`Env::file_mode`] reports them.
    #[must_use]
    pub fn with_file_mode(mut self, path: impl Into<PathBuf>, contents: &str, mode: u32) -> Self {
        let path = path.into();
        self.modes.insert(path.clone(), mode & 0o777);
        self.with_file(path, contents)
    }
    /// Sets the home directory.
    #[must_use]
    pub fn with_home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }
    /// The exposed-file warnings raised so far, in order.
    #[must_use]
    pub fn warnings(&self) -> Vec<ExposedFile> {
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
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
    fn file_mode(&self, path: &Path) -> Option<u32> {
        self.modes.get(path).copied()
    }
    fn exposed_file(&self, warning: &ExposedFile) {
        self.warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(warning.clone());
    }
}

/// Another environment with some variables set on top (for example a profile name chosen
/// on a command line), without touching the process environment.
#[derive(Clone)]
pub struct OverlayEnv<E> {
    base: E,
    vars: HashMap<String, String>,
}

impl<E: fmt::Debug> fmt::Debug for OverlayEnv<E> {
    /// The overriding variables by name only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut vars: Vec<&String> = self.vars.keys().collect();
        vars.sort();
        f.debug_struct("OverlayEnv")
            .field("base", &self.base)
            .field("vars", &vars)
            .finish()
    }
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
    #[must_use]
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
    fn file_mode(&self, path: &Path) -> Option<u32> {
        self.base.file_mode(path)
    }
    fn exposed_file(&self, warning: &ExposedFile) {
        self.base.exposed_file(warning)
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
    #[must_use]
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
    #[must_use]
    pub fn sources(&self) -> &[String] {
        &self.tried
    }
    /// The `CredentialsNotFound` error listing every source tried.
    #[must_use]
    pub fn into_error(self) -> Error {
        Error::CredentialsNotFound {
            provider: self.provider,
            tried: self.tried,
        }
    }
}

/// A credentials file that group or others may read or write (`mode & 0o077 != 0`).
/// `Display` names the file, its mode and the fix; never its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExposedFile {
    /// The file.
    pub path: PathBuf,
    /// Its permission bits (`mode & 0o777`).
    pub mode: u32,
}

impl fmt::Display for ExposedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        write!(
            f,
            "credentials file {path} is accessible by other users (mode {:03o}); it holds a \
             secret key: run `chmod 600 {path}`",
            self.mode
        )
    }
}

/// The permission check of a credentials file: `Some` when the file's mode lets group or
/// others read or write it. Files whose mode is unknown (not Unix, not found) pass.
pub fn exposed_file(env: &dyn Env, path: &Path) -> Option<ExposedFile> {
    let mode = env.file_mode(path)?;
    (mode & 0o077 != 0).then(|| ExposedFile {
        path: path.to_owned(),
        mode,
    })
}

/// Reads a file that holds a secret (a cloud CLI's credentials or profile file). When the
/// file is readable or writable by group or others, emits a `tracing` warning naming the
/// file and the fix (`chmod 600 <path>`), once per file and process however often the
/// chains read it, and reports it to [`Env::exposed_file`] on every read. The file is
/// still used, as the clouds' own CLIs do. Every credential chain reads its secret
/// files through this function.
pub fn read_credentials_file(env: &dyn Env, path: &Path) -> std::io::Result<String> {
    static WARNED: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    let text = env.read_file(path)?;
    if let Some(w) = exposed_file(env, path) {
        let first = WARNED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(HashSet::new)
            .insert(w.path.clone());
        if first {
            tracing::warn!(path = %w.path.display(), mode = %format_args!("{:03o}", w.mode), "{w}");
        }
        env.exposed_file(&w);
    }
    Ok(text)
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
    fn debug_of_the_test_environments_names_variables_never_values() {
        let env = StaticEnv::new()
            .with_var("EX_SECRET", "value-never-shown")
            .with_file("/x/creds", "file-secret-never-shown");
        let overlay = OverlayEnv::new(env.clone()).with_var("EX_TOKEN", "token-never-shown");
        for text in [format!("{env:?}"), format!("{overlay:#?}")] {
            assert!(text.contains("EX_SECRET"), "{text}");
            for secret in [
                "value-never-shown",
                "file-secret-never-shown",
                "token-never-shown",
            ] {
                assert!(!text.contains(secret), "{text}");
            }
        }
    }

    #[test]
    fn trail_lists_every_source() {
        let env = StaticEnv::new();
        let mut trail = SourceTrail::new(Provider::new("example-cloud"));
        assert!(trail.first_var(&env, &["EX_SECRET_ID", "EX_ID"]).is_none());
        trail.tried("profile file ~/.example/credentials (not found)");
        let msg = trail.into_error().to_string();
        assert!(msg.contains("EX_SECRET_ID, EX_ID"), "{msg}");
        assert!(msg.contains("~/.example/credentials"), "{msg}");
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
    fn credentials_files_open_to_group_or_others_are_reported() {
        let env = StaticEnv::new()
            .with_file_mode("/h/open", "k = v", 0o644)
            .with_file_mode("/h/group-write", "k = v", 0o620)
            .with_file_mode("/h/private", "k = v", 0o600)
            .with_file_mode("/h/read-only", "k = v", 0o400)
            .with_file("/h/unknown", "k = v");
        for p in ["/h/private", "/h/read-only", "/h/unknown"] {
            assert_eq!(read_credentials_file(&env, Path::new(p)).unwrap(), "k = v");
        }
        assert!(env.warnings().is_empty(), "{:?}", env.warnings());
        read_credentials_file(&env, Path::new("/h/open")).unwrap();
        read_credentials_file(&env, Path::new("/h/group-write")).unwrap();
        let w = env.warnings();
        assert_eq!(
            w,
            vec![
                ExposedFile {
                    path: "/h/open".into(),
                    mode: 0o644
                },
                ExposedFile {
                    path: "/h/group-write".into(),
                    mode: 0o620
                },
            ]
        );
        let msg = w[0].to_string();
        assert!(msg.contains("chmod 600 /h/open"), "{msg}");
        assert!(msg.contains("mode 644"), "{msg}");
        assert!(!msg.contains("k = v"), "{msg}");
        // A missing file is an error and no warning.
        let err = read_credentials_file(&env, Path::new("/h/none")).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        assert_eq!(env.warnings().len(), 2);
        // An overlay passes modes and warnings through to its base.
        let overlay = OverlayEnv::new(env.clone()).with_var("X", "1");
        read_credentials_file(&overlay, Path::new("/h/open")).unwrap();
        assert_eq!(env.warnings().len(), 3);
    }

    #[cfg(unix)]
    #[test]
    fn os_env_reports_real_permission_bits() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("imageshare-mode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("credentials");
        std::fs::write(&file, "x").unwrap();
        for mode in [0o600, 0o640, 0o604, 0o666] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            assert_eq!(OsEnv.file_mode(&file), Some(mode));
            assert_eq!(exposed_file(&OsEnv, &file).is_some(), mode != 0o600);
        }
        assert_eq!(OsEnv.file_mode(&dir.join("missing")), None);
        std::fs::remove_dir_all(&dir).unwrap();
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
