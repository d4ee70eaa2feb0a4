//! Connecting a command to a cloud: the retry policy (whose bounds the `--timeout` help
//! quotes), and the connection options built from the global flags.

use imageshare::ClientBuilder;
use std::time::Duration;

use imageshare::core::transport::{ClientOptions, RetryConfig};
use imageshare::core::{AuditLog, CheckOptions, Principal, Provider};
use imageshare::{Connect, DynSharing};

use crate::cli::Global;
use crate::dryrun::DryRun;
use crate::exit::Failure;

/// Attempts per API call (the transport's retry policy; the `--timeout` help quotes it).
const RETRY_ATTEMPTS: u32 = 5;
/// The most time spent waiting between the attempts of one call, in seconds.
const RETRY_BACKOFF_SECS: u64 = 3;
/// No retry once this many seconds have passed since the first attempt.
const RETRY_WINDOW_SECS: u64 = 120;

/// The longest one API call can take with `--timeout timeout_secs`, in seconds: see the
/// `--timeout` help.
pub fn call_bound_secs(timeout_secs: u64) -> u64 {
    (u64::from(RETRY_ATTEMPTS) * timeout_secs).min(RETRY_WINDOW_SECS + timeout_secs)
        + RETRY_BACKOFF_SECS
}

/// The retry policy of every call the CLI makes: the transport's default, whose bounds the
/// `--timeout` help states (a unit test holds them together).
fn retry_policy() -> RetryConfig {
    RetryConfig::default()
}

/// The HTTP options of one command: the timeout, and a fresh rate limiter that every
/// adapter built from clones of these options shares.
pub fn client_options(g: &Global) -> ClientOptions {
    ClientOptions::default().with_timeout(Duration::from_secs(g.timeout))
}

/// The connection options of one command on `provider` (in `region`, else --region):
/// fresh HTTP options, the trust policy, and `audit` when the command records its grants.
pub fn options(
    g: &Global,
    provider: Provider,
    region: Option<&str>,
    audit: Option<&AuditLog>,
) -> Connect {
    options_with(g, provider, region, client_options(g), audit)
}

/// [`options`] with the HTTP options (and so the rate limiter) given.
pub fn options_with(
    g: &Global,
    provider: Provider,
    region: Option<&str>,
    client: ClientOptions,
    audit: Option<&AuditLog>,
) -> Connect {
    let mut c = Connect::new(provider)
        .client_options(client)
        .retry(retry_policy())
        .check_options(check_options(g))
        .trust(g.trust_policy());
    if let Some(log) = audit {
        c = c.audit(log.clone());
    }
    if g.resource_sharing || g.allow_external_targets {
        c = c
            .organisation_sharing(true)
            .external_targets(g.allow_external_targets);
    }
    if let Some(r) = region.or(g.region.as_deref()) {
        c = c.region(r);
    }
    if let Some(e) = &g.endpoint {
        c = c.endpoint(e.as_str());
    }
    if let Some(p) = &g.project {
        c = c.project(p.as_str());
    }
    if let Some(p) = &g.profile {
        c = c.profile(p.as_str());
    }
    if let Some(role) = g.assume_role() {
        c = c.assume_role(role);
    }
    if let Some(e) = &g.sts_endpoint {
        c = c.sts_endpoint(e.as_str());
    }
    if let Some(e) = &g.metadata_endpoint {
        c = c.metadata_endpoint(e.as_str());
    }
    c
}

/// The limit checker's options of the global flags.
fn check_options(g: &Global) -> CheckOptions {
    CheckOptions::new().with_allow_encrypted(g.allow_encrypted)
}

/// [`connect`] for a command given `principals`: organisation sharing is on when any of
/// them is a `directory:`, `folder:` or `member:` principal (as if --resource-sharing
/// were given), so `share --to folder:fd-...` needs no flag.
pub fn connect_for(
    g: &Global,
    provider: Provider,
    audit: Option<&AuditLog>,
    principals: &[Principal],
) -> Result<DynSharing, Failure> {
    let mut c = options(g, provider, None, audit);
    if principals.iter().any(|p| p.kind().is_org()) {
        c = c.organisation_sharing(true);
    }
    Ok(build(g, c)?)
}

/// The adapter of [`options`], behind the limit checker.
pub fn connect(
    g: &Global,
    provider: Provider,
    region: Option<&str>,
    audit: Option<&AuditLog>,
) -> Result<DynSharing, Failure> {
    Ok(build(g, options(g, provider, region, audit))?)
}

/// Builds the adapter of `c` behind the limit checker; with `--dry-run`, the checker sits
/// over the [`DryRun`] layer, which sends no write and records it in the command's list.
pub fn build(g: &Global, c: Connect) -> imageshare::core::Result<DynSharing> {
    if !g.dry_run {
        return c.build();
    }
    let trust = c.trust_policy().clone();
    let dry = DryRun::new(c.build_unchecked()?, g.dry_run_calls.clone(), trust);
    Ok(imageshare::core::Checked::with_options(
        std::sync::Arc::new(dry),
        check_options(g),
    ))
}

#[cfg(test)]
mod tests {
    use imageshare::core::bulk::BulkOptions;

    use super::*;

    #[test]
    fn the_timeout_explanation_matches_the_retry_policy() {
        let r = retry_policy();
        assert_eq!(r.max_attempts, RETRY_ATTEMPTS);
        assert_eq!(r.max_elapsed, Some(Duration::from_secs(RETRY_WINDOW_SECS)));
        // The longest waits (jitter at its top) between the attempts of one call.
        let backoff: Duration = (1..RETRY_ATTEMPTS).map(|a| r.backoff(a, 1.0)).sum();
        assert!(
            backoff <= Duration::from_secs(RETRY_BACKOFF_SECS),
            "{backoff:?}"
        );
        assert_eq!(call_bound_secs(1), 8);
        assert_eq!(call_bound_secs(30), 153);
        assert_eq!(call_bound_secs(60), 183);
        // The README's Timeouts paragraph (where `--timeout`'s help points) quotes the
        // same numbers.
        let readme = include_str!("../../../README.md");
        let at = readme.find("**Timeouts.**").expect("README: Timeouts");
        let end = readme[at..].find("\n\n").unwrap_or(readme.len() - at);
        let help = readme[at..at + end].replace('\n', " ");
        for quoted in [
            format!("at most {RETRY_ATTEMPTS}"),
            format!("at most {RETRY_BACKOFF_SECS} s"),
            format!("once {RETRY_WINDOW_SECS} s have passed"),
            format!("{RETRY_WINDOW_SECS} + TIMEOUT) + {RETRY_BACKOFF_SECS}"),
        ] {
            assert!(help.contains(&quoted), "{quoted:?} not in {help:?}");
        }
        // ... and the bulk engine's defaults, which apply and several-image share use.
        let bulk = BulkOptions::default();
        for quoted in [
            format!("up to {} more passes", bulk.retry_passes),
            format!("at most {} such calls", bulk.retry_passes + 1),
        ] {
            assert!(help.contains(&quoted), "{quoted:?} not in {help:?}");
        }
    }
}
