//! [`CredentialChain`]: the one credential-chain abstraction every cloud fills with its
//! own sources, in its own order, with its own variable and file names.
//!
//! A chain is a list of [`CredentialSource`]s tried in order over an [`Env`]. A source
//! either finds credentials ([`Found`]: the credentials, where they came from, and the
//! region the same source names), finds nothing (and notes why in the [`SourceTrail`], so
//! that "nothing found" lists every source tried), or finds something unusable (a half-set
//! key pair where the cloud's own SDK refuses one, a malformed file) and stops the chain
//! with that error. Sources written once here serve every cloud: [`Explicit`] (builder
//! values) and [`EnvKeyPair`] (a key pair and optional token in environment variables);
//! the profile-file readers are each cloud's own.

use std::fmt;
use std::sync::Arc;

use super::{Env, SourceTrail};
use crate::error::{Error, Result};
use crate::model::{Provider, Region};
use crate::secret::Secret;

/// What a source found: the credentials, a description of where (for logs; never a
/// secret), and the region that source names, if any.
#[derive(Debug, Clone)]
pub struct Found<C> {
    /// The credentials.
    pub credentials: C,
    /// Where they came from (`explicit credentials`, `environment variable
    /// TENCENTCLOUD_SECRET_ID`, `profile "prod" of ~/.aliyun/config.json`).
    pub source: String,
    /// The region the same source names (a profile's region), if any.
    pub region: Option<Region>,
}

impl<C> Found<C> {
    /// Credentials found in `source`, with no region.
    pub fn new(credentials: C, source: impl Into<String>) -> Self {
        Self {
            credentials,
            source: source.into(),
            region: None,
        }
    }
    /// The same, naming `region` too.
    #[must_use]
    pub fn with_region(mut self, region: Option<Region>) -> Self {
        self.region = region;
        self
    }
    /// The same find with the credentials turned into another type.
    pub fn map<D>(self, f: impl FnOnce(C) -> D) -> Found<D> {
        Found {
            credentials: f(self.credentials),
            source: self.source,
            region: self.region,
        }
    }
}

/// One place a credential chain looks.
pub trait CredentialSource<C>: Send + Sync + fmt::Debug {
    /// Looks for credentials in `env`. `Ok(None)`: nothing here, with the reason noted in
    /// `trail`; `Err`: something is here but unusable, which ends the chain.
    fn load(&self, env: &dyn Env, trail: &mut SourceTrail) -> Result<Option<Found<C>>>;
}

/// Sources tried in order; the first that finds credentials wins. Cheap to clone.
pub struct CredentialChain<C> {
    provider: Provider,
    sources: Vec<Arc<dyn CredentialSource<C>>>,
}

impl<C> Clone for CredentialChain<C> {
    fn clone(&self) -> Self {
        Self {
            provider: self.provider,
            sources: self.sources.clone(),
        }
    }
}

impl<C> fmt::Debug for CredentialChain<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialChain")
            .field("provider", &self.provider)
            .field("sources", &self.sources)
            .finish()
    }
}

impl<C: 'static> CredentialChain<C> {
    /// An empty chain for `provider` (named in the "nothing found" error).
    #[must_use]
    pub fn new(provider: Provider) -> Self {
        Self {
            provider,
            sources: Vec::new(),
        }
    }

    /// The same chain with `source` tried after the others.
    #[must_use]
    pub fn then(mut self, source: impl CredentialSource<C> + 'static) -> Self {
        self.sources.push(Arc::new(source));
        self
    }

    /// The same chain with `source` tried before the others (explicit values).
    #[must_use]
    pub fn first(mut self, source: impl CredentialSource<C> + 'static) -> Self {
        self.sources.insert(0, Arc::new(source));
        self
    }

    /// The provider the chain finds credentials for.
    #[must_use]
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Tries every source in order over `env`: the first find, the first error, or
    /// [`Error::CredentialsNotFound`] listing every source tried and why it gave nothing.
    pub fn resolve(&self, env: &dyn Env) -> Result<Found<C>> {
        let mut trail = SourceTrail::new(self.provider);
        for source in &self.sources {
            if let Some(found) = source.load(env, &mut trail)? {
                tracing::debug!(provider = %self.provider, source = %found.source, "credentials resolved");
                return Ok(found);
            }
        }
        Err(trail.into_error())
    }
}

/// Explicit credentials given to a builder: the first source of every chain. `check`
/// refuses unusable values (an empty key) with [`Error::InvalidInput`].
pub struct Explicit<C> {
    credentials: Option<C>,
    check: fn(&C) -> Result<()>,
    name: fn(&C) -> String,
}

impl<C> Explicit<C> {
    /// `credentials` when given (`None`: the source notes "none given" and the chain goes
    /// on), checked with `check`; their source is `explicit credentials`.
    pub fn new(credentials: Option<C>, check: fn(&C) -> Result<()>) -> Self {
        Self {
            credentials,
            check,
            name: |_| "explicit credentials".to_owned(),
        }
    }
    /// The same, with the source named by `name` (for a provider: its own
    /// [`source`](super::ProvideCredentials::source), so `whoami` and the audit trail
    /// name the user's vault rather than "explicit credentials").
    #[must_use]
    pub fn named(mut self, name: fn(&C) -> String) -> Self {
        self.name = name;
        self
    }
}

impl<C> fmt::Debug for Explicit<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Explicit")
            .field("given", &self.credentials.is_some())
            .finish()
    }
}

impl<C: Clone + Send + Sync> CredentialSource<C> for Explicit<C> {
    fn load(&self, _env: &dyn Env, trail: &mut SourceTrail) -> Result<Option<Found<C>>> {
        match &self.credentials {
            Some(c) => {
                (self.check)(c)?;
                Ok(Some(Found::new(c.clone(), (self.name)(c))))
            }
            None => {
                trail.tried("explicit credentials (none given)");
                Ok(None)
            }
        }
    }
}

/// A key pair (and optional session token) read from environment variables.
#[derive(Debug, Clone)]
pub struct KeyPair {
    /// The key id (AccessKey id, SecretId, public key).
    pub id: String,
    /// The secret.
    pub secret: Secret,
    /// The STS / session token, if one is set.
    pub token: Option<Secret>,
}

/// What a chain does when only half of a key pair is set in the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HalfSetPair {
    /// Notes it in the trail and goes on to the next source (the Aliyun CLI).
    Skip,
    /// Fails with [`Error::InvalidInput`] naming both variables (the Tencent and UCloud
    /// SDKs): a half-set pair is a mistake, not a reason to use another identity.
    Refuse,
}

/// The one rule for a credential value read from the environment or a profile file,
/// for every cloud: a key id, secret or token that starts or ends with white space, or
/// holds a control character anywhere, is refused with [`Error::InvalidInput`] whose
/// field is `place` (the variable, or the profile and file) and whose message names
/// `what` (`access key secret`) and the character (`a trailing newline`), never the
/// value.
///
/// Refusing is the safe choice, and the same on every cloud: trimming would sign with a
/// key other than the one written (a value with a stray space may be a paste of the wrong
/// thing), and sending it would only fail later as a signature mismatch that blames the
/// keys. Tencent's SDKs trim, Alibaba's and UCloud's sign the value as it is; imageshare
/// does neither.
pub fn check_credential_value(place: &str, what: &str, value: &str) -> Result<()> {
    let refuse = |which: String| {
        Err(Error::invalid_input(
            place,
            format!(
                "the {what} has {which}; remove it (credentials are used as written, \
                 never trimmed)"
            ),
        ))
    };
    if let Some(c) = value.chars().next().filter(|c| c.is_whitespace()) {
        return refuse(format!("a leading {}", char_name(c)));
    }
    if let Some(c) = value.chars().next_back().filter(|c| c.is_whitespace()) {
        return refuse(format!("a trailing {}", char_name(c)));
    }
    if let Some((at, c)) = value.chars().enumerate().find(|(_, c)| c.is_control()) {
        return refuse(format!("{} at character {}", article(c), at + 1));
    }
    Ok(())
}

/// What a white-space or control character is called in messages.
fn char_name(c: char) -> String {
    match c {
        '\n' => "newline".to_owned(),
        '\r' => "carriage return".to_owned(),
        '\t' => "tab".to_owned(),
        ' ' => "space".to_owned(),
        c if c.is_control() => format!("control character (U+{:04X})", c as u32),
        c => format!("white-space character (U+{:04X})", c as u32),
    }
}

/// `char_name` with its article (`a newline`, `a control character (U+0007)`).
fn article(c: char) -> String {
    format!("a {}", char_name(c))
}

/// A key pair in environment variables: the id from the first set variable of `id_vars`,
/// the secret from the first of `secret_vars` (each list in the cloud's own lookup
/// order), the token from the first of `token_vars`. Empty values count as unset; a
/// value with surrounding white space or a control character is refused
/// ([`check_credential_value`]), on every cloud.
#[derive(Debug, Clone, Copy)]
pub struct EnvKeyPair {
    /// What the cloud calls the key id, for messages (`access key id`, `SecretId`).
    pub id_name: &'static str,
    /// What the cloud calls the secret, for messages (`access key secret`, `SecretKey`).
    pub secret_name: &'static str,
    /// Variables of the key id, in lookup order.
    pub id_vars: &'static [&'static str],
    /// Variables of the secret, in lookup order.
    pub secret_vars: &'static [&'static str],
    /// Variables of the session token, in lookup order.
    pub token_vars: &'static [&'static str],
    /// What a half-set pair means.
    pub half_set: HalfSetPair,
}

impl EnvKeyPair {
    /// The first set, non-empty variable of `names`, checked with
    /// [`check_credential_value`] (`what` names the value in the refusal).
    fn first(
        &self,
        env: &dyn Env,
        names: &[&'static str],
        what: &str,
    ) -> Result<Option<(&'static str, String)>> {
        for n in names {
            if let Some(v) = env.var(n).filter(|v| !v.is_empty()) {
                check_credential_value(&format!("environment variable {n}"), what, &v)?;
                return Ok(Some((*n, v)));
            }
        }
        Ok(None)
    }

    /// The pair in `env` as a source of [`KeyPair`]s; see [`CredentialSource::load`].
    pub fn load_pair(
        &self,
        env: &dyn Env,
        trail: &mut SourceTrail,
    ) -> Result<Option<Found<KeyPair>>> {
        let id = self.first(env, self.id_vars, self.id_name)?;
        let secret = self.first(env, self.secret_vars, self.secret_name)?;
        let (set, unset_family, unset_name) = match (id, secret) {
            (Some((id_var, id)), Some((_, secret))) => {
                let token = self
                    .first(env, self.token_vars, "session token")?
                    .map(|(_, t)| Secret::new(t));
                let pair = KeyPair {
                    id,
                    secret: Secret::new(secret),
                    token,
                };
                return Ok(Some(Found::new(
                    pair,
                    format!("environment variable {id_var}"),
                )));
            }
            (None, None) => {
                trail.tried(format!(
                    "environment variables {} and {} (unset)",
                    self.id_vars.join(", "),
                    self.secret_vars.join(", ")
                ));
                return Ok(None);
            }
            (Some((set, _)), None) => (set, self.secret_vars, self.secret_name),
            (None, Some((set, _))) => (set, self.id_vars, self.id_name),
        };
        match self.half_set {
            HalfSetPair::Skip => {
                trail.tried(format!(
                    "environment variable {set} is set but no {unset_name} variable is \
                     (ignored; any of {})",
                    unset_family.join(", ")
                ));
                Ok(None)
            }
            HalfSetPair::Refuse => Err(Error::invalid_input(
                unset_family[0],
                format!(
                    "{set} is set but {} is not; set both or neither",
                    unset_family.join(" / ")
                ),
            )),
        }
    }

    /// This pair as a source of `C`, made from the [`KeyPair`] by `make`.
    pub fn source<C>(self, make: fn(KeyPair) -> C) -> EnvKeyPairSource<C> {
        EnvKeyPairSource { vars: self, make }
    }
}

/// An [`EnvKeyPair`] as a [`CredentialSource`] of a cloud's credentials type.
pub struct EnvKeyPairSource<C> {
    vars: EnvKeyPair,
    make: fn(KeyPair) -> C,
}

impl<C> fmt::Debug for EnvKeyPairSource<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EnvKeyPairSource").field(&self.vars).finish()
    }
}

impl<C> CredentialSource<C> for EnvKeyPairSource<C> {
    fn load(&self, env: &dyn Env, trail: &mut SourceTrail) -> Result<Option<Found<C>>> {
        Ok(self
            .vars
            .load_pair(env, trail)?
            .map(|found| found.map(self.make)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::StaticEnv;

    const CLOUD: Provider = Provider::new("example-cloud");

    const PAIR: EnvKeyPair = EnvKeyPair {
        id_name: "key id",
        secret_name: "secret",
        id_vars: &["EX_KEY_ID", "EX_KEY_ID_OLD"],
        secret_vars: &["EX_SECRET"],
        token_vars: &["EX_TOKEN"],
        half_set: HalfSetPair::Skip,
    };

    fn chain(half_set: HalfSetPair, explicit: Option<KeyPair>) -> CredentialChain<KeyPair> {
        fn non_empty(k: &KeyPair) -> Result<()> {
            if k.id.is_empty() {
                return Err(Error::invalid_input("credentials", "empty id"));
            }
            Ok(())
        }
        CredentialChain::new(CLOUD)
            .then(EnvKeyPair { half_set, ..PAIR }.source(|k| k))
            .first(Explicit::new(explicit, non_empty))
    }

    #[test]
    fn first_source_that_finds_wins_in_order() {
        let env = StaticEnv::new()
            .with_var("EX_KEY_ID", "")
            .with_var("EX_KEY_ID_OLD", "old")
            .with_var("EX_SECRET", "s")
            .with_var("EX_TOKEN", "t");
        let found = chain(HalfSetPair::Skip, None).resolve(&env).unwrap();
        assert_eq!(found.credentials.id, "old", "from the second name");
        assert!(found.credentials.token.is_some());
        assert_eq!(found.source, "environment variable EX_KEY_ID_OLD");
        let given = KeyPair {
            id: "given".into(),
            secret: Secret::new("x"),
            token: None,
        };
        let found = chain(HalfSetPair::Skip, Some(given.clone()))
            .resolve(&env)
            .unwrap();
        assert_eq!(
            (found.credentials.id.as_str(), found.source.as_str()),
            ("given", "explicit credentials")
        );
        let empty = KeyPair {
            id: String::new(),
            ..given
        };
        assert!(matches!(
            chain(HalfSetPair::Skip, Some(empty)).resolve(&env),
            Err(Error::InvalidInput { .. })
        ));
    }

    #[test]
    fn nothing_found_lists_every_source_and_half_pairs_follow_the_policy() {
        let err = chain(HalfSetPair::Skip, None)
            .resolve(&StaticEnv::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no example-cloud credentials found"), "{err}");
        assert!(err.contains("explicit credentials (none given)"), "{err}");
        assert!(
            err.contains("EX_KEY_ID, EX_KEY_ID_OLD and EX_SECRET (unset)"),
            "{err}"
        );
        let half = StaticEnv::new().with_var("EX_SECRET", "s");
        let err = chain(HalfSetPair::Skip, None)
            .resolve(&half)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "EX_SECRET is set but no key id variable is (ignored; any of EX_KEY_ID, \
                 EX_KEY_ID_OLD)"
            ),
            "{err}"
        );
        let err = chain(HalfSetPair::Refuse, None).resolve(&half).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { field, .. } if field == "EX_KEY_ID"),
            "{err}"
        );
        assert!(err.to_string().contains("set both or neither"), "{err}");
    }

    #[test]
    fn stray_white_space_and_control_characters_are_refused_naming_the_place() {
        for (var, value, says) in [
            ("EX_KEY_ID", " old", "the key id has a leading space"),
            ("EX_SECRET", "s3cr3t\n", "the secret has a trailing newline"),
            (
                "EX_SECRET",
                "s3cr3t\r\n",
                "the secret has a trailing newline",
            ),
            ("EX_SECRET", "\ts3cr3t", "the secret has a leading tab"),
            (
                "EX_TOKEN",
                "tok\u{7}en",
                "the session token has a control character (U+0007) at character 4",
            ),
            (
                "EX_SECRET",
                "s3cr3t\u{a0}",
                "the secret has a trailing white-space character (U+00A0)",
            ),
            ("EX_SECRET", "   ", "the secret has a leading space"),
        ] {
            let mut env = StaticEnv::new()
                .with_var("EX_KEY_ID", "id")
                .with_var("EX_SECRET", "s")
                .with_var("EX_TOKEN", "t");
            env = env.with_var(var, value);
            let err = chain(HalfSetPair::Skip, None).resolve(&env).unwrap_err();
            match &err {
                Error::InvalidInput { field, message } => {
                    assert_eq!(field, &format!("environment variable {var}"));
                    assert!(message.contains(says), "{var}={value:?}: {message}");
                    assert!(message.contains("never trimmed"), "{message}");
                    assert!(!message.contains("s3cr3t"), "the value leaked: {message}");
                }
                other => panic!("{var}={value:?}: {other:?}"),
            }
        }
        assert!(
            check_credential_value("x", "key", "a b").is_ok(),
            "inner spaces are the cloud's to judge"
        );
    }
}
