//! Client-side rate limits per provider and action: a token bucket without a background
//! task (GCRA) whose waiters reserve their slots, plus a sliding one-second window.
//!
//! - A [`Rate`] is one quota: requests per second on average, and how many may go at once
//!   (`burst`, 1 by default: requests are spread evenly over each second, and never more
//!   than the quota go within one sliding second, which satisfies a server counting per
//!   second, in fixed or sliding windows). How the slots are laid out, and why a late timer
//!   costs nothing: [Pacing](self#pacing) below.
//! - A [`RateLimits`] table gives one provider's quotas per API action (data: each provider
//!   crate publishes its defaults next to its `ShareLimits` table), plus an optional rate
//!   for the actions it does not list.
//! - A [`RateLimiter`] holds the tables and one bucket per `(provider, action)`. It is
//!   cheap to clone and **clones share the buckets**: it lives in
//!   [`ClientOptions`](crate::transport::ClientOptions), so every adapter built from the
//!   same options (or from clones of them) draws from the same buckets and the quota holds
//!   for all of them together (object_store / opendal's "one layer instance shared by many
//!   clients enforces one global limit").
//!
//! The [`Transport`](crate::transport::Transport) waits for a permit of the call's bucket
//! before every attempt, retries included.
//!
//! # Pacing
//!
//! Request `k` of a busy spell is due `k` intervals after the first (a grid), and each
//! waiter reserves its slot when it asks, so waiters queue in order and each sleeps once.
//! A waiter that wakes late (Tokio's timer has 1 ms resolution) delays only its own
//! request, not the ones after it. With burst 1, a sliding window also holds every second
//! (plus a margin of 5 %) to the quota, so a late request followed by an on-time one never
//! puts one request too many into a second.
//!
//! ```
//! use imageshare_core::{Provider, ratelimit::{Rate, RateLimiter, RateLimits}};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let limiter = RateLimiter::new();
//! limiter.set_limits(
//!     Provider::new("tencent-cvm"),
//!     RateLimits::new().with("ModifyImageSharePermission", Rate::per_second(20.0)),
//! ).unwrap();
//! let started = std::time::Instant::now();
//! for _ in 0..3 {
//!     limiter.acquire(Provider::new("tencent-cvm"), "ModifyImageSharePermission").await;
//! }
//! // Three permits at 20/s, burst 1: the third comes 2 x 52.5 ms after the first (5 %
// of each second is kept as margin).
//! assert!(started.elapsed() >= std::time::Duration::from_millis(95));
//! // Actions without a rate (and no default rate) are not limited.
//! assert_eq!(limiter.rate(Provider::new("tencent-cvm"), "DescribeImages"), None);
//! # });
//! ```

mod schedule;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::model::Provider;
use schedule::{Reservation, Schedule};

/// One quota: `requests_per_second` on average, at most `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    per_second: f64,
    burst: u32,
}

impl Rate {
    /// `n` requests per second, burst 1: evenly spaced, never more than `n` in a sliding
    /// second, with 5 % kept as margin (one every `1.05/n` s; see [Pacing](self#pacing)).
    #[must_use]
    pub const fn per_second(n: f64) -> Rate {
        Rate {
            per_second: n,
            burst: 1,
        }
    }
    /// `n` requests per minute, burst 1.
    #[must_use]
    pub const fn per_minute(n: f64) -> Rate {
        Rate {
            per_second: n / 60.0,
            burst: 1,
        }
    }
    /// The same average rate, allowing `burst` requests at once after a quiet spell.
    /// Values below 1 become 1.
    #[must_use]
    pub const fn with_burst(self, burst: u32) -> Rate {
        Rate {
            per_second: self.per_second,
            burst: if burst == 0 { 1 } else { burst },
        }
    }
    /// Average requests per second.
    #[must_use]
    pub fn requests_per_second(self) -> f64 {
        self.per_second
    }
    /// Requests allowed at once.
    #[must_use]
    pub fn burst(self) -> u32 {
        self.burst
    }
    /// Time between two requests at the average rate (the limiter adds 5 % to it at burst
    /// 1; see [Pacing](self#pacing)).
    #[must_use]
    pub fn interval(self) -> Duration {
        Duration::from_secs_f64(1.0 / self.per_second)
    }

    /// Refuses rates that are not positive and finite, or faster than one per microsecond.
    pub fn validate(self) -> Result<()> {
        if !(self.per_second.is_finite() && self.per_second > 0.0 && self.per_second <= 1e6) {
            return Err(Error::invalid_input(
                "rate limit",
                format!(
                    "{} requests/s is not a rate; give a positive number of at most 1000000",
                    self.per_second
                ),
            ));
        }
        Ok(())
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.per_second >= 1.0 || self.per_second <= 0.0 {
            write!(f, "{}/s", self.per_second)?;
        } else {
            write!(
                f,
                "{}/min",
                (self.per_second * 60.0 * 1000.0).round() / 1000.0
            )?;
        }
        if self.burst > 1 {
            write!(f, " (burst {})", self.burst)?;
        }
        Ok(())
    }
}

/// One provider's quotas: a rate per API action, and optionally a rate for every action not
/// listed. An empty table limits nothing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RateLimits {
    actions: BTreeMap<String, Rate>,
    default: Option<Rate>,
}

impl RateLimits {
    /// An empty table: nothing is limited.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// Same as [`new`](Self::new): no client-side limit at all.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }
    /// A table from `(action, rate)` pairs and the rate of unlisted actions.
    #[must_use]
    pub fn from_table(table: &[(&str, Rate)], default: Option<Rate>) -> Self {
        Self {
            actions: table.iter().map(|(a, r)| ((*a).to_owned(), *r)).collect(),
            default,
        }
    }
    /// Sets the rate of `action` (replacing any previous one).
    #[must_use]
    pub fn with(mut self, action: impl Into<String>, rate: Rate) -> Self {
        self.set(action, rate);
        self
    }
    /// Sets the rate of `action` (replacing any previous one).
    pub fn set(&mut self, action: impl Into<String>, rate: Rate) {
        self.actions.insert(action.into(), rate);
    }
    /// Removes `action` from the table (it then falls under the default rate, if any).
    #[must_use]
    pub fn without(mut self, action: &str) -> Self {
        self.actions.remove(action);
        self
    }
    /// Sets the rate of actions the table does not list (`None`: not limited).
    #[must_use]
    pub fn with_default(mut self, rate: Option<Rate>) -> Self {
        self.default = rate;
        self
    }
    /// The rate `action` is held to, if any.
    #[must_use]
    pub fn rate(&self, action: &str) -> Option<Rate> {
        self.actions.get(action).copied().or(self.default)
    }
    /// The rate of unlisted actions.
    #[must_use]
    pub fn default_rate(&self) -> Option<Rate> {
        self.default
    }
    /// The listed actions and their rates, by action name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Rate)> {
        self.actions.iter().map(|(a, r)| (a.as_str(), *r))
    }
    /// True when nothing is limited.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty() && self.default.is_none()
    }
    /// Every rate multiplied by `factor` (e.g. 0.9 for 10 % headroom under a quota).
    #[must_use]
    pub fn scaled(&self, factor: f64) -> Self {
        let scale = |r: Rate| Rate {
            per_second: r.per_second * factor,
            burst: r.burst,
        };
        Self {
            actions: self
                .actions
                .iter()
                .map(|(a, r)| (a.clone(), scale(*r)))
                .collect(),
            default: self.default.map(scale),
        }
    }
    /// Checks every rate ([`Rate::validate`]).
    pub fn validate(&self) -> Result<()> {
        for (action, r) in &self.actions {
            r.validate().map_err(|e| match e {
                Error::InvalidInput { message, .. } => {
                    Error::invalid_input(format!("rate limit of {action}"), message)
                }
                other => other,
            })?;
        }
        if let Some(r) = self.default {
            r.validate()?;
        }
        Ok(())
    }
}

struct Bucket {
    rate: Rate,
    schedule: Arc<Schedule>,
}

#[derive(Default)]
struct Inner {
    tables: HashMap<Provider, RateLimits>,
    buckets: HashMap<(Provider, String), Bucket>,
}

/// The shared set of buckets, one per `(provider, action)`, with each provider's table.
/// Clones share everything; see the module docs.
#[derive(Clone, Default)]
pub struct RateLimiter {
    inner: Arc<Mutex<Inner>>,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        let mut providers: Vec<_> = inner.tables.keys().map(|p| p.name()).collect();
        providers.sort_unstable();
        f.debug_struct("RateLimiter")
            .field("providers", &providers)
            .field("buckets", &inner.buckets.len())
            .finish()
    }
}

impl RateLimiter {
    /// A limiter with no tables (nothing limited until a table is set or an adapter
    /// registers its provider's defaults).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Builder form of [`set_limits`](Self::set_limits). Panics on an invalid rate (a
    /// programming error in a literal table); use `set_limits` for values read at run time.
    #[must_use]
    pub fn with_limits(self, provider: Provider, limits: RateLimits) -> Self {
        if let Err(e) = self.set_limits(provider, limits) {
            panic!("{e}");
        }
        self
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets `provider`'s table, replacing any (adapters already built and sharing this
    /// limiter follow it from their next call). Buckets whose rate changed start afresh.
    pub fn set_limits(&self, provider: Provider, limits: RateLimits) -> Result<()> {
        limits.validate()?;
        let mut inner = self.lock();
        inner
            .buckets
            .retain(|(p, action), b| *p != provider || limits.rate(action) == Some(b.rate));
        inner.tables.insert(provider, limits);
        Ok(())
    }

    /// Sets `provider`'s table only if it has none yet; returns whether it was set. Adapters
    /// register their cloud's published defaults this way, so a table set by the caller (or
    /// by another adapter sharing the limiter) is kept.
    pub fn set_default_limits(&self, provider: Provider, limits: RateLimits) -> Result<bool> {
        limits.validate()?;
        let mut inner = self.lock();
        if inner.tables.contains_key(&provider) {
            return Ok(false);
        }
        inner.tables.insert(provider, limits);
        Ok(true)
    }

    /// `provider`'s table, if one is set.
    #[must_use]
    pub fn limits(&self, provider: Provider) -> Option<RateLimits> {
        self.lock().tables.get(&provider).cloned()
    }

    /// The rate `action` of `provider` is held to, if any.
    #[must_use]
    pub fn rate(&self, provider: Provider, action: &str) -> Option<Rate> {
        self.lock()
            .tables
            .get(&provider)
            .and_then(|t| t.rate(action))
    }

    fn bucket(&self, provider: Provider, action: &str) -> Option<Arc<Schedule>> {
        let mut inner = self.lock();
        let rate = inner.tables.get(&provider)?.rate(action)?;
        let key = (provider, action.to_owned());
        match inner.buckets.get(&key) {
            Some(b) if b.rate == rate => Some(b.schedule.clone()),
            _ => {
                let schedule = Arc::new(Schedule::new(rate));
                inner.buckets.insert(
                    key,
                    Bucket {
                        rate,
                        schedule: schedule.clone(),
                    },
                );
                Some(schedule)
            }
        }
    }

    /// Takes a permit for one request to `action` of `provider` if one is available now.
    /// Always true for an action without a rate.
    #[must_use]
    pub fn try_acquire(&self, provider: Provider, action: &str) -> bool {
        self.bucket(provider, action)
            .is_none_or(|b| b.try_take(tokio::time::Instant::now()))
    }

    /// Waits for a permit for one request to `action` of `provider`; returns how long it
    /// waited. Returns at once for an action without a rate. Waiters are served in the
    /// order they asked (see [Pacing](self#pacing)). Cancel-safe: dropping the future
    /// before it completes takes no permit, and hands its reserved slot back to the next
    /// waiter when no later one has been reserved yet.
    pub async fn acquire(&self, provider: Provider, action: &str) -> Duration {
        let Some(schedule) = self.bucket(provider, action) else {
            return Duration::ZERO;
        };
        let started = tokio::time::Instant::now();
        let reservation = Reservation::new(&schedule, started);
        let mut due = reservation.due();
        loop {
            if due > tokio::time::Instant::now() {
                tokio::time::sleep_until(due).await;
            }
            match schedule.grant(tokio::time::Instant::now()) {
                Ok(()) => {
                    reservation.keep();
                    return started.elapsed();
                }
                Err(free_at) => due = free_at,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn rates_and_tables() {
        let r = Rate::per_minute(10.0);
        assert!((r.requests_per_second() - 10.0 / 60.0).abs() < 1e-9);
        assert_eq!(r.to_string(), "10/min");
        assert_eq!(Rate::per_second(10.0).to_string(), "10/s");
        assert_eq!(
            Rate::per_second(20.0).with_burst(5).to_string(),
            "20/s (burst 5)"
        );
        assert_eq!(Rate::per_second(4.0).interval(), Duration::from_millis(250));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Rate::per_second(bad).validate().is_err(), "{bad}");
        }
        let t = RateLimits::from_table(
            &[("A", Rate::per_second(10.0))],
            Some(Rate::per_second(1.0)),
        );
        assert_eq!(t.rate("A"), Some(Rate::per_second(10.0)));
        assert_eq!(t.rate("B"), Some(Rate::per_second(1.0)));
        assert_eq!(t.clone().with_default(None).rate("B"), None);
        assert_eq!(t.scaled(0.5).rate("A"), Some(Rate::per_second(5.0)));
        assert!(RateLimits::none().is_empty());
        assert!(t.with("C", Rate::per_second(0.0)).validate().is_err());
    }

    #[tokio::test]
    async fn clones_share_buckets_and_defaults_do_not_override() {
        let a = RateLimiter::new();
        let b = a.clone();
        assert!(a
            .set_default_limits(
                Provider::new("tencent-cvm"),
                RateLimits::new().with("X", Rate::per_second(5.0))
            )
            .unwrap());
        // A second registration of defaults keeps the first table.
        assert!(!b
            .set_default_limits(Provider::new("tencent-cvm"), RateLimits::none())
            .unwrap());
        assert!(a.try_acquire(Provider::new("tencent-cvm"), "X"));
        // The clone sees the permit the original took: the bucket is shared.
        assert!(!b.try_acquire(Provider::new("tencent-cvm"), "X"));
        // Other providers and unlisted actions are not limited.
        assert!(b.try_acquire(Provider::new("alibaba-ecs"), "X"));
        assert!(b.try_acquire(Provider::new("tencent-cvm"), "Y"));
        // An explicit table replaces the defaults and starts a changed bucket afresh.
        b.set_limits(
            Provider::new("tencent-cvm"),
            RateLimits::new().with("X", Rate::per_second(1000.0)),
        )
        .unwrap();
        assert!(a.try_acquire(Provider::new("tencent-cvm"), "X"));
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_are_served_in_order_and_a_dropped_one_frees_its_slot() {
        let p = Provider::new("tencent-cvm");
        let l = RateLimiter::new().with_limits(
            p,
            RateLimits::new().with("A", Rate::per_second(10.0).with_burst(2)),
        );
        let t0 = tokio::time::Instant::now();
        l.acquire(p, "A").await;
        l.acquire(p, "A").await;
        // A waiter that gives up before its slot (100 ms) takes no permit ...
        let gave_up = tokio::time::timeout(Duration::from_millis(50), l.acquire(p, "A")).await;
        assert!(gave_up.is_err());
        // ... and the next one gets that slot.
        l.acquire(p, "A").await;
        assert_eq!(t0.elapsed(), Duration::from_millis(100));
        // Ten waiters at once: one per 100 ms, in the order they asked.
        let order = Arc::new(Mutex::new(Vec::new()));
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let (l, order) = (l.clone(), order.clone());
                tokio::spawn(async move {
                    l.acquire(p, "A").await;
                    order.lock().unwrap().push((i, t0.elapsed()));
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let order = order.lock().unwrap().clone();
        let expected: Vec<_> = (0..10u64)
            .map(|i| (i as usize, Duration::from_millis(200 + 100 * i)))
            .collect();
        assert_eq!(order, expected);
    }

    #[tokio::test]
    async fn acquire_spaces_requests_at_the_rate() {
        let l = RateLimiter::new().with_limits(
            Provider::new("alibaba-ecs"),
            RateLimits::new().with("A", Rate::per_second(50.0)),
        );
        let started = Instant::now();
        let mut waited = Duration::ZERO;
        for _ in 0..11 {
            waited += l.acquire(Provider::new("alibaba-ecs"), "A").await;
        }
        let elapsed = started.elapsed();
        // 11 permits at 50/s, burst 1: 10 intervals of 20 ms.
        assert!(elapsed >= Duration::from_millis(195), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(600), "{elapsed:?}");
        assert!(waited >= Duration::from_millis(150), "{waited:?}");
    }
}
