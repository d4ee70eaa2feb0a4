//! Retry policy and retry accounting: [`RetryConfig`] (bounded attempts, jittered
//! exponential backoff), [`RetryReason`] (why an attempt failed in a way another may fix),
//! and [`RetryLog`] (every failed attempt of a call tree, per provider and action).

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::error::Error;
use crate::model::Provider;

/// Retry policy: bounded attempts, jittered exponential backoff. Build one with
/// [`RetryConfig::builder`] (the fields are public for reading and for the callers that
/// already set them; the builder is the form that will stay).
///
/// ```
/// use std::time::Duration;
/// use imageshare_core::transport::RetryConfig;
///
/// let retry = RetryConfig::builder()
///     .max_attempts(3)
///     .initial_backoff(Duration::from_millis(100))
///     .max_backoff(Duration::from_secs(2))
///     .max_elapsed(Some(Duration::from_secs(30)))
///     .build();
/// assert_eq!(retry.max_attempts, 3);
/// // The delay after the second failed attempt: half of 200 ms, plus up to the other half.
/// let delay = retry.backoff(2, 0.5);
/// assert_eq!(delay, Duration::from_millis(150));
/// assert_eq!(RetryConfig::none().max_attempts, 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Attempts in all, the first included (1 = no retry).
    pub max_attempts: u32,
    /// Backoff before the second attempt.
    pub initial_backoff: Duration,
    /// Largest backoff.
    pub max_backoff: Duration,
    /// Growth factor between attempts.
    pub multiplier: f64,
    /// Give up once this much time has passed since the first attempt, if set.
    pub max_elapsed: Option<Duration>,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            multiplier: 2.0,
            max_elapsed: Some(Duration::from_secs(120)),
        }
    }
}

impl RetryConfig {
    /// No retries at all.
    #[must_use]
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// A builder starting from the defaults (5 attempts, 200 ms doubling up to 10 s, 120 s
    /// in all).
    pub fn builder() -> RetryConfigBuilder {
        RetryConfigBuilder {
            config: Self::default(),
        }
    }

    /// The delay after failed attempt number `attempt` (1-based), with "equal jitter":
    /// half the exponential step plus a random part of the other half. `unit` is a random
    /// number in `[0, 1)` (injected so tests are deterministic).
    #[must_use]
    pub fn backoff(&self, attempt: u32, unit: f64) -> Duration {
        let exp = self
            .multiplier
            .max(1.0)
            .powi(attempt.saturating_sub(1).min(30) as i32);
        let step = self
            .initial_backoff
            .mul_f64(exp)
            .min(self.max_backoff)
            .as_secs_f64();
        Duration::from_secs_f64(step / 2.0 + step / 2.0 * unit.clamp(0.0, 1.0))
    }
}

/// Builds a [`RetryConfig`]; see [`RetryConfig::builder`]. Each setter replaces one
/// field; [`build`](Self::build) brings values that cannot work into range.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until build() is called"]
pub struct RetryConfigBuilder {
    config: RetryConfig,
}

impl RetryConfigBuilder {
    /// Attempts in all, the first included (1 = no retry; 0 counts as 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.config.max_attempts = attempts;
        self
    }
    /// The backoff before the second attempt.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.config.initial_backoff = backoff;
        self
    }
    /// The largest backoff (at least the initial one).
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.config.max_backoff = backoff;
        self
    }
    /// The growth factor between attempts (at least 1; not a finite number counts as 1).
    pub fn multiplier(mut self, multiplier: f64) -> Self {
        self.config.multiplier = multiplier;
        self
    }
    /// Give up once this much time has passed since the first attempt (`None`: only
    /// the attempt count bounds a call).
    pub fn max_elapsed(mut self, max: Option<Duration>) -> Self {
        self.config.max_elapsed = max;
        self
    }
    /// The policy: at least one attempt, a finite multiplier of at least 1, a largest
    /// backoff no smaller than the first.
    #[must_use]
    pub fn build(self) -> RetryConfig {
        let mut c = self.config;
        c.max_attempts = c.max_attempts.max(1);
        if !c.multiplier.is_finite() || c.multiplier < 1.0 {
            c.multiplier = 1.0;
        }
        c.max_backoff = c.max_backoff.max(c.initial_backoff);
        c
    }
}

/// Why an attempt of an API call failed in a way that trying again may fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RetryReason {
    /// The cloud's throttling answer (HTTP 429, or the code the adapter knows as its
    /// cloud's throttling code).
    Throttled,
    /// HTTP 5xx, or another code the adapter marks retryable (service unavailable, busy).
    ServerError,
    /// The connection could not be opened, or was closed or reset before a whole answer
    /// arrived.
    Connection,
    /// No whole answer within the per-attempt timeout.
    Timeout,
}

impl RetryReason {
    /// Every reason, in display order.
    pub const ALL: [RetryReason; 4] = [
        RetryReason::Throttled,
        RetryReason::ServerError,
        RetryReason::Connection,
        RetryReason::Timeout,
    ];

    /// A stable kebab-case name (`throttled`, `server-error`, `connection`, `timeout`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            RetryReason::Throttled => "throttled",
            RetryReason::ServerError => "server-error",
            RetryReason::Connection => "connection",
            RetryReason::Timeout => "timeout",
        }
    }

    /// The reason of a provider's error answer, as the adapter classified it when it
    /// decoded the answer ([`ApiError::retry`](crate::ApiError::retry)), or `None` when the answer is not retry
    /// material (the caller's mistake, credentials, not found, a decode failure).
    /// Transport errors are classified where they happen (see [`Transport::call`]).
    ///
    /// [`Transport::call`]: crate::transport::Transport::call
    #[must_use]
    pub fn of_answer(error: &Error) -> Option<RetryReason> {
        match error {
            Error::Api(e) => e.retry,
            _ => None,
        }
    }

    /// The reason an HTTP status alone gives, whatever the body: 429 is throttling, 500,
    /// 502, 503 and 504 a server error. Adapters start from it and add their cloud's codes.
    #[must_use]
    pub fn of_status(status: u16) -> Option<RetryReason> {
        match status {
            429 => Some(RetryReason::Throttled),
            500 | 502 | 503 | 504 => Some(RetryReason::ServerError),
            _ => None,
        }
    }
}

impl fmt::Display for RetryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Failed attempts, by [`RetryReason`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub struct RetryCounts {
    /// Throttling answers.
    pub throttled: u64,
    /// 5xx and busy answers.
    pub server_error: u64,
    /// Connection errors and dropped connections.
    pub connection: u64,
    /// Attempts that timed out.
    pub timeout: u64,
}

impl RetryCounts {
    /// The count of one reason.
    #[must_use]
    pub fn get(&self, reason: RetryReason) -> u64 {
        match reason {
            RetryReason::Throttled => self.throttled,
            RetryReason::ServerError => self.server_error,
            RetryReason::Connection => self.connection,
            RetryReason::Timeout => self.timeout,
        }
    }
    /// Adds one attempt failed for `reason`.
    pub fn add(&mut self, reason: RetryReason) {
        let n = match reason {
            RetryReason::Throttled => &mut self.throttled,
            RetryReason::ServerError => &mut self.server_error,
            RetryReason::Connection => &mut self.connection,
            RetryReason::Timeout => &mut self.timeout,
        };
        *n += 1;
    }
    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &RetryCounts) {
        self.throttled += other.throttled;
        self.server_error += other.server_error;
        self.connection += other.connection;
        self.timeout += other.timeout;
    }
    /// All reasons together.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.throttled + self.server_error + self.connection + self.timeout
    }
    /// True when nothing was counted.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.total() == 0
    }
}

impl RetryCounts {
    /// `3 <label> (2 throttled, 1 server-error)`, or `0 <label>`.
    fn labelled(&self, f: &mut fmt::Formatter<'_>, label: &str) -> fmt::Result {
        write!(f, "{} {label}", self.total())?;
        let parts: Vec<String> = RetryReason::ALL
            .iter()
            .filter(|r| self.get(**r) > 0)
            .map(|r| format!("{} {r}", self.get(*r)))
            .collect();
        if !parts.is_empty() {
            write!(f, " ({})", parts.join(", "))?;
        }
        Ok(())
    }
}

impl fmt::Display for RetryCounts {
    /// `3 failed attempts (2 throttled, 1 server-error)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let label = if self.total() == 1 {
            "failed attempt"
        } else {
            "failed attempts"
        };
        self.labelled(f, label)
    }
}

/// The failed attempts of one `(provider, action)` within a [`RetryLog`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionRetries {
    /// The provider.
    pub provider: Provider,
    /// The API action.
    pub action: String,
    /// Failed attempts the transport retried (another attempt of the same call followed).
    pub retried: RetryCounts,
    /// Failed attempts that ended their call: no attempt or time left, or not safe to
    /// repeat. Their error went up to the caller (the bulk engine may retry the principals
    /// in a further pass, through a new call).
    pub gave_up: RetryCounts,
}

impl ActionRetries {
    /// Every failed attempt: retried and given up.
    #[must_use]
    pub fn failed_attempts(&self) -> RetryCounts {
        let mut c = self.retried;
        c.merge(&self.gave_up);
        c
    }
}

/// Every failed attempt of a call tree, per `(provider, action)` (sorted). See the module
/// docs; collect one with
/// [`CallContext::collecting_retries`](crate::CallContext::collecting_retries).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RetryLog {
    actions: Vec<ActionRetries>,
}

impl RetryLog {
    /// An empty log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn entry(&mut self, provider: Provider, action: &str) -> &mut ActionRetries {
        let i = match self
            .actions
            .binary_search_by(|a| (a.provider, a.action.as_str()).cmp(&(provider, action)))
        {
            Ok(i) => i,
            Err(i) => {
                self.actions.insert(
                    i,
                    ActionRetries {
                        provider,
                        action: action.to_owned(),
                        retried: RetryCounts::default(),
                        gave_up: RetryCounts::default(),
                    },
                );
                i
            }
        };
        &mut self.actions[i]
    }

    /// Records one failed attempt of `action`: `retried` when another attempt followed.
    pub fn record(&mut self, provider: Provider, action: &str, reason: RetryReason, retried: bool) {
        let e = self.entry(provider, action);
        if retried {
            e.retried.add(reason);
        } else {
            e.gave_up.add(reason);
        }
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &RetryLog) {
        for a in &other.actions {
            let e = self.entry(a.provider, &a.action);
            e.retried.merge(&a.retried);
            e.gave_up.merge(&a.gave_up);
        }
    }

    /// Per `(provider, action)`, sorted.
    #[must_use]
    pub fn actions(&self) -> &[ActionRetries] {
        &self.actions
    }
    /// Failed attempts the transport retried, all actions together.
    #[must_use]
    pub fn retried(&self) -> RetryCounts {
        self.sum(|a| a.retried)
    }
    /// Failed attempts that ended their call, all actions together.
    #[must_use]
    pub fn gave_up(&self) -> RetryCounts {
        self.sum(|a| a.gave_up)
    }
    /// Every failed attempt (retried and given up), all actions together.
    pub fn failed_attempts(&self) -> RetryCounts {
        self.sum(ActionRetries::failed_attempts)
    }
    /// True when no failed attempt was recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
    fn sum(&self, f: impl Fn(&ActionRetries) -> RetryCounts) -> RetryCounts {
        let mut c = RetryCounts::default();
        for a in &self.actions {
            c.merge(&f(a));
        }
        c
    }
}

impl fmt::Display for RetryLog {
    /// `5 retried (4 throttled, 1 connection), 1 given up (1 throttled)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.retried().labelled(f, "retried")?;
        let gave_up = self.gave_up();
        if !gave_up.is_empty() {
            f.write_str(", ")?;
            gave_up.labelled(f, "given up")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builder_sets_each_field_and_brings_impossible_values_into_range() {
        let c = RetryConfig::builder()
            .max_attempts(0)
            .initial_backoff(Duration::from_secs(2))
            .max_backoff(Duration::from_secs(1))
            .multiplier(f64::NAN)
            .max_elapsed(None)
            .build();
        assert_eq!(
            c,
            RetryConfig {
                max_attempts: 1,
                initial_backoff: Duration::from_secs(2),
                max_backoff: Duration::from_secs(2),
                multiplier: 1.0,
                max_elapsed: None,
            }
        );
        assert_eq!(RetryConfig::builder().build(), RetryConfig::default());
        assert_eq!(
            RetryConfig::builder().multiplier(0.5).build().multiplier,
            1.0
        );
        assert_eq!(
            RetryConfig::builder().multiplier(3.0).build().multiplier,
            3.0
        );
    }
    use crate::error::ApiError;

    const CLOUD: Provider = Provider::new("example-cloud");

    fn api(status: u16, retry: Option<RetryReason>) -> Error {
        Error::from(ApiError {
            provider: CLOUD,
            action: "Act".into(),
            status,
            code: "Code".into(),
            message: "m".into(),
            request_id: None,
            retry,
            retry_after: None,
        })
    }

    #[test]
    fn answers_carry_the_adapters_verdict() {
        for want in [
            None,
            Some(RetryReason::Throttled),
            Some(RetryReason::ServerError),
        ] {
            let e = api(400, want);
            assert_eq!(RetryReason::of_answer(&e), want);
            assert_eq!(e.is_retryable(), want.is_some());
        }
        // Core reads the verdict: a 503 the adapter called final stays final.
        assert_eq!(RetryReason::of_answer(&api(503, None)), None);
        assert_eq!(
            RetryReason::of_answer(&Error::invalid_input("x", "y")),
            None
        );
        assert_eq!(RetryReason::of_status(429), Some(RetryReason::Throttled));
        assert_eq!(RetryReason::of_status(502), Some(RetryReason::ServerError));
        assert_eq!(RetryReason::of_status(400), None);
        assert_eq!(RetryReason::of_status(501), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let r = RetryConfig {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            multiplier: 2.0,
            ..RetryConfig::default()
        };
        assert_eq!(r.backoff(1, 0.0), Duration::from_millis(50));
        assert_eq!(r.backoff(1, 1.0), Duration::from_millis(100));
        assert_eq!(r.backoff(3, 1.0), Duration::from_millis(400));
        assert_eq!(r.backoff(10, 1.0), Duration::from_millis(1000));
        assert_eq!(r.backoff(10, 0.5), Duration::from_millis(750));
        assert_eq!(r.backoff(u32::MAX, 1.0), Duration::from_millis(1000));
    }
}
