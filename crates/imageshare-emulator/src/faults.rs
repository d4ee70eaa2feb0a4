//! Seeded, reproducible fault injection: a QPS quota per action answered with the cloud's
//! throttling code, a rate of throttling answers independent of that quota, a rate of 5xx
//! answers, of dropped connections, and added latency.
//!
//! The order of the decisions is that of a cloud's API gateway in front of its service:
//!
//! 1. `throttle_rate`: throttling in front of the quota (a gateway's or a shared backend's
//!    flow control). Such a request is refused before the quota sees it and is **not**
//!    charged to the QPS window.
//! 2. `qps`: the per-action quota, a sliding one-second window. A request over it is
//!    refused with the throttling code and is **not** charged either: the window counts
//!    only the requests it admitted, as a token-bucket server takes no token for a request
//!    it refuses. (Charging refusals would let a client that retries throttled calls keep
//!    the window full with its own refusals, which no cloud's quota does.)
//! 3. `drop_rate`, `error_rate`: the request was admitted and reached the service, which
//!    closed the connection or answered 5xx. These **are** charged to the window.
//!
//! So a client paced at `qps` by its own rate limiter is never refused by the quota, whatever
//! the injected faults.
//!
//! Each (provider, action) pair draws from its own generator seeded from the plan's seed
//! and the pair's name, so the sequence of faults one action sees does not depend on how
//! requests to other actions interleave: the same seed gives the same faults.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use imageshare_core::Provider;
use serde::{Deserialize, Serialize};

/// One fault rule. The most specific matching rule applies (provider and action, then
/// action, then provider, then a rule with neither).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FaultRule {
    /// Provider this rule applies to; every provider when `None`.
    #[serde(default, deserialize_with = "crate::engine::deserialize_served_opt")]
    pub provider: Option<Provider>,
    /// Action this rule applies to; every action when `None`.
    #[serde(default)]
    pub action: Option<String>,
    /// Requests per second before the cloud's throttling answer (sliding one-second window
    /// over the requests it admitted; see the module docs for what is charged).
    #[serde(default)]
    pub qps: Option<u32>,
    /// Share of requests answered with the cloud's throttling code whatever the quota, in
    /// `[0, 1]`; decided first, and not charged to the `qps` window.
    #[serde(default)]
    pub throttle_rate: f64,
    /// Share of requests answered with the cloud's 5xx error, in `[0, 1]`.
    #[serde(default)]
    pub error_rate: f64,
    /// Share of requests whose connection is closed without an answer, in `[0, 1]`.
    #[serde(default)]
    pub drop_rate: f64,
    /// Added latency in milliseconds, uniform in `[min, max]`.
    #[serde(default)]
    pub latency_ms: Option<(u64, u64)>,
}

impl FaultRule {
    /// A rule for every provider and action that injects nothing; the `with_*` setters
    /// narrow it and add faults:
    ///
    /// ```
    /// use imageshare_core::Provider;
    /// use imageshare_emulator::{FaultPlan, FaultRule};
    ///
    /// let plan = FaultPlan::seeded(7).rule(
    ///     FaultRule::for_action(Provider::new("tencent-cvm"), "ModifyImageSharePermission")
    ///         .with_qps(1)
    ///         .with_error_rate(0.1),
    /// );
    /// assert!(plan.validate().is_ok());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
    /// A rule for `action` of `provider` that injects nothing yet.
    #[must_use]
    pub fn for_action(provider: Provider, action: impl Into<String>) -> Self {
        Self::new().with_provider(provider).with_action(action)
    }
    /// The same rule, for `provider` only.
    #[must_use]
    pub fn with_provider(mut self, provider: Provider) -> Self {
        self.provider = Some(provider);
        self
    }
    /// The same rule, for `action` only.
    #[must_use]
    pub fn with_action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }
    /// The same rule with a quota of `qps` requests per second.
    #[must_use]
    pub fn with_qps(mut self, qps: u32) -> Self {
        self.qps = Some(qps);
        self
    }
    /// The same rule answering this share of requests with the throttling code.
    #[must_use]
    pub fn with_throttle_rate(mut self, rate: f64) -> Self {
        self.throttle_rate = rate;
        self
    }
    /// The same rule answering this share of requests with the cloud's 5xx error.
    #[must_use]
    pub fn with_error_rate(mut self, rate: f64) -> Self {
        self.error_rate = rate;
        self
    }
    /// The same rule closing this share of connections without an answer.
    #[must_use]
    pub fn with_drop_rate(mut self, rate: f64) -> Self {
        self.drop_rate = rate;
        self
    }
    /// The same rule adding `min..=max` milliseconds of latency.
    #[must_use]
    pub fn with_latency_ms(mut self, min: u64, max: u64) -> Self {
        self.latency_ms = Some((min, max));
        self
    }

    fn specificity(&self) -> u8 {
        (self.provider.is_some() as u8) + 2 * (self.action.is_some() as u8)
    }
    fn matches(&self, provider: Provider, action: &str) -> bool {
        self.provider.is_none_or(|p| p == provider)
            && self.action.as_deref().is_none_or(|a| a == action)
    }
}

/// The fault plan of a world.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FaultPlan {
    /// Seed of every generator.
    #[serde(default)]
    pub seed: u64,
    /// Rules (`rule` in a world file; `rules` is accepted too).
    #[serde(default, rename = "rule", alias = "rules")]
    pub rules: Vec<FaultRule>,
}

impl FaultPlan {
    /// A plan with this seed and no rules.
    #[must_use]
    pub fn seeded(seed: u64) -> Self {
        Self {
            seed,
            rules: Vec::new(),
        }
    }
    /// Adds a rule.
    #[must_use]
    pub fn rule(mut self, rule: FaultRule) -> Self {
        self.rules.push(rule);
        self
    }
    /// Checks rates are in `[0, 1]` and sum to at most 1, and latency ranges are ordered.
    pub fn validate(&self) -> Result<(), String> {
        for r in &self.rules {
            let rates = [
                ("throttle_rate", r.throttle_rate),
                ("error_rate", r.error_rate),
                ("drop_rate", r.drop_rate),
            ];
            for (name, v) in rates {
                if !(0.0..=1.0).contains(&v) {
                    return Err(format!("fault rule {name} = {v} is outside [0, 1]"));
                }
            }
            let sum: f64 = rates.iter().map(|(_, v)| v).sum();
            if sum > 1.0 {
                return Err(format!(
                    "fault rule throttle_rate + error_rate + drop_rate = {sum} exceeds 1"
                ));
            }
            if let Some((lo, hi)) = r.latency_ms {
                if lo > hi {
                    return Err(format!("fault rule latency_ms [{lo}, {hi}] is reversed"));
                }
            }
            if r.qps == Some(0) {
                return Err("fault rule qps = 0 would refuse everything".to_owned());
            }
        }
        Ok(())
    }
}

/// What the emulator does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer with the cloud's throttling code.
    Throttle,
    /// Answer with the cloud's 5xx error.
    ServerError,
    /// Close the connection without answering.
    Drop,
}

/// The decision for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decision {
    /// Latency to add before answering.
    pub delay: Duration,
    /// The fault, if any.
    pub fault: Option<FaultKind>,
}

/// A fault the emulator served, for inspection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FaultEvent {
    /// Provider.
    pub provider: Provider,
    /// Action.
    pub action: String,
    /// What was done.
    pub kind: FaultKind,
    /// True for a throttling answer because the `qps` quota was full; false for every
    /// injected fault (`throttle_rate`, `error_rate`, `drop_rate`).
    pub quota: bool,
}

#[derive(Debug)]
struct Lane {
    rng: fastrand::Rng,
    /// Arrival times of the requests the quota admitted in the last second.
    window: VecDeque<Instant>,
}

impl Lane {
    /// Admits a request arriving `now` under a quota of `qps` per sliding second, charging
    /// it to the window; false (nothing charged) when the window is full.
    fn admit(&mut self, qps: u32, now: Instant) -> bool {
        while self
            .window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.window.pop_front();
        }
        if self.window.len() >= qps as usize {
            return false;
        }
        self.window.push_back(now);
        true
    }
}

/// Runtime state of a fault plan.
#[derive(Debug)]
pub struct FaultInjector {
    plan: FaultPlan,
    lanes: BTreeMap<(Provider, String), Lane>,
    events: Vec<FaultEvent>,
}

fn lane_seed(seed: u64, provider: Provider, action: &str) -> u64 {
    // FNV-1a over "provider/action", mixed with the seed.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in provider.name().bytes().chain([b'/']).chain(action.bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl FaultInjector {
    /// Runtime state for `plan`.
    #[must_use]
    pub fn new(plan: FaultPlan) -> Self {
        Self {
            plan,
            lanes: BTreeMap::new(),
            events: Vec::new(),
        }
    }

    /// Decides what happens to a request to `action` of `provider` arriving `now`.
    pub fn decide(&mut self, provider: Provider, action: &str, now: Instant) -> Decision {
        let Some(rule) = self
            .plan
            .rules
            .iter()
            .filter(|r| r.matches(provider, action))
            .max_by_key(|r| r.specificity())
            .cloned()
        else {
            return Decision {
                delay: Duration::ZERO,
                fault: None,
            };
        };
        let seed = self.plan.seed;
        let lane = self
            .lanes
            .entry((provider, action.to_owned()))
            .or_insert_with(|| Lane {
                rng: fastrand::Rng::with_seed(lane_seed(seed, provider, action)),
                window: VecDeque::new(),
            });
        // Draw the same number of values for every request so the sequence is stable. One
        // roll decides the injected fault: [0, throttle) throttles, then [.., + drop) drops,
        // then [.., + error) answers 5xx.
        let roll = lane.rng.f64();
        let latency_roll = lane.rng.f64();
        let delay = match rule.latency_ms {
            Some((lo, hi)) => {
                Duration::from_millis(lo + ((hi - lo) as f64 * latency_roll).round() as u64)
            }
            None => Duration::ZERO,
        };
        let mut quota = false;
        let fault = if roll < rule.throttle_rate {
            // Refused in front of the quota: not charged to its window.
            Some(FaultKind::Throttle)
        } else if rule.qps.is_some_and(|qps| !lane.admit(qps, now)) {
            quota = true;
            Some(FaultKind::Throttle)
        } else {
            let roll = roll - rule.throttle_rate;
            if roll < rule.drop_rate {
                Some(FaultKind::Drop)
            } else if roll < rule.drop_rate + rule.error_rate {
                Some(FaultKind::ServerError)
            } else {
                None
            }
        };
        if let Some(kind) = fault {
            self.events.push(FaultEvent {
                provider,
                action: action.to_owned(),
                kind,
                quota,
            });
        }
        Decision { delay, fault }
    }

    /// Re-installs a log of served faults (used when the plan is replaced).
    pub fn restore_events(&mut self, events: Vec<FaultEvent>) {
        self.events = events;
    }

    /// The plan in force.
    #[must_use]
    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// Every fault served so far, in order.
    #[must_use]
    pub fn events(&self) -> &[FaultEvent] {
        &self.events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(seed: u64) -> FaultPlan {
        FaultPlan::seeded(seed).rule(FaultRule {
            error_rate: 0.2,
            drop_rate: 0.1,
            latency_ms: Some((1, 9)),
            ..Default::default()
        })
    }

    fn sequence(seed: u64, interleave: bool) -> Vec<(Option<FaultKind>, Duration)> {
        let mut inj = FaultInjector::new(plan(seed));
        let now = Instant::now();
        let mut out = Vec::new();
        for _ in 0..200 {
            if interleave {
                inj.decide(imageshare_alibaba::ECS, "DescribeImages", now);
            }
            let d = inj.decide(imageshare_tencent::CVM, "ModifyImageSharePermission", now);
            out.push((d.fault, d.delay));
        }
        out
    }

    #[test]
    fn same_seed_same_faults_whatever_the_interleaving() {
        let a = sequence(7, false);
        assert_eq!(a, sequence(7, false));
        assert_eq!(
            a,
            sequence(7, true),
            "other actions must not shift the sequence"
        );
        assert_ne!(a, sequence(8, false));
        let errors = a
            .iter()
            .filter(|(f, _)| *f == Some(FaultKind::ServerError))
            .count();
        let drops = a
            .iter()
            .filter(|(f, _)| *f == Some(FaultKind::Drop))
            .count();
        // 200 draws at 20% / 10%: far from 0 and from 200.
        assert!((15..=65).contains(&errors), "{errors}");
        assert!((5..=40).contains(&drops), "{drops}");
        assert!(a
            .iter()
            .all(|(_, d)| (1..=9).contains(&(d.as_millis() as u64))));
    }

    #[test]
    fn qps_quota_throttles_within_a_second_and_recovers() {
        let mut inj = FaultInjector::new(FaultPlan::seeded(1).rule(FaultRule {
            provider: Some(imageshare_tencent::CVM),
            action: Some("ModifyImageSharePermission".into()),
            qps: Some(3),
            ..Default::default()
        }));
        let t0 = Instant::now();
        let kinds: Vec<_> = (0..5)
            .map(|_| {
                inj.decide(imageshare_tencent::CVM, "ModifyImageSharePermission", t0)
                    .fault
            })
            .collect();
        assert_eq!(
            kinds,
            [
                None,
                None,
                None,
                Some(FaultKind::Throttle),
                Some(FaultKind::Throttle)
            ]
        );
        // Another action is not limited by this rule.
        assert_eq!(
            inj.decide(imageshare_tencent::CVM, "DescribeImages", t0)
                .fault,
            None
        );
        let later = t0 + Duration::from_millis(1001);
        assert_eq!(
            inj.decide(imageshare_tencent::CVM, "ModifyImageSharePermission", later)
                .fault,
            None
        );
        assert_eq!(inj.events().len(), 2);
    }

    fn share_rule(qps: Option<u32>) -> FaultRule {
        FaultRule {
            provider: Some(imageshare_alibaba::ECS),
            action: Some("ModifyImageSharePermission".into()),
            qps,
            ..Default::default()
        }
    }

    fn kinds(inj: &mut FaultInjector, n: usize, now: Instant) -> Vec<Option<FaultKind>> {
        (0..n)
            .map(|_| {
                inj.decide(imageshare_alibaba::ECS, "ModifyImageSharePermission", now)
                    .fault
            })
            .collect()
    }

    #[test]
    fn throttle_rate_is_seeded_and_in_proportion() {
        let plan = |seed| {
            FaultPlan::seeded(seed).rule(FaultRule {
                throttle_rate: 0.2,
                error_rate: 0.05,
                ..share_rule(None)
            })
        };
        let now = Instant::now();
        let a = kinds(&mut FaultInjector::new(plan(9)), 2000, now);
        assert_eq!(a, kinds(&mut FaultInjector::new(plan(9)), 2000, now));
        assert_ne!(a, kinds(&mut FaultInjector::new(plan(10)), 2000, now));
        let n = |k| a.iter().filter(|f| **f == Some(k)).count();
        // 2,000 draws at 20 % / 5 %: within about 4 standard deviations.
        assert!((330..=470).contains(&n(FaultKind::Throttle)), "{a:?}");
        assert!((55..=145).contains(&n(FaultKind::ServerError)), "{a:?}");
        assert_eq!(n(FaultKind::Drop), 0);
        // With throttle_rate 0 the rest of the rule draws as before: the same 5xx answers.
        let without = FaultPlan::seeded(9).rule(FaultRule {
            error_rate: 0.05,
            ..share_rule(None)
        });
        let b = kinds(&mut FaultInjector::new(without), 2000, now);
        assert_eq!(
            b.iter().filter(|f| f.is_some()).count(),
            b.iter()
                .filter(|f| **f == Some(FaultKind::ServerError))
                .count()
        );
    }

    #[test]
    fn injected_throttles_are_not_charged_to_the_quota_but_5xx_are() {
        let now = Instant::now();
        // Half the requests throttled in front of a quota of 3: whatever their number,
        // exactly 3 are admitted within the second, and every other refusal is the quota's.
        let mut inj = FaultInjector::new(FaultPlan::seeded(4).rule(FaultRule {
            throttle_rate: 0.5,
            ..share_rule(Some(3))
        }));
        let got = kinds(&mut inj, 40, now);
        assert_eq!(got.iter().filter(|f| f.is_none()).count(), 3, "{got:?}");
        let injected = inj.events().iter().filter(|e| !e.quota).count();
        let quota = inj.events().iter().filter(|e| e.quota).count();
        assert!((8..=32).contains(&injected), "{injected} injected of 40");
        assert_eq!(injected + quota, 37);
        assert!(inj.events().iter().all(|e| e.kind == FaultKind::Throttle));
        // The admitted requests leave the window after a second, the refused ones never
        // entered it.
        let later = now + Duration::from_secs(1);
        let after = kinds(&mut inj, 40, later);
        assert_eq!(after.iter().filter(|f| f.is_none()).count(), 3);

        // A 5xx answer (or a drop) was admitted: it uses the quota.
        let mut inj = FaultInjector::new(FaultPlan::seeded(4).rule(FaultRule {
            error_rate: 1.0,
            ..share_rule(Some(2))
        }));
        assert_eq!(
            kinds(&mut inj, 3, now),
            [
                Some(FaultKind::ServerError),
                Some(FaultKind::ServerError),
                Some(FaultKind::Throttle)
            ]
        );
        assert_eq!(
            inj.events().iter().map(|e| e.quota).collect::<Vec<_>>(),
            [false, false, true]
        );
    }

    #[test]
    fn throttle_rate_is_validated_and_read_from_toml() {
        let rule = |throttle_rate, error_rate| {
            FaultPlan::seeded(0).rule(FaultRule {
                throttle_rate,
                error_rate,
                ..Default::default()
            })
        };
        assert!(rule(0.2, 0.05).validate().is_ok());
        assert!(rule(1.0, 0.0).validate().is_ok());
        for bad in [-0.1, 1.5, f64::NAN] {
            let e = rule(bad, 0.0).validate().unwrap_err();
            assert!(e.contains("throttle_rate"), "{e}");
        }
        let e = rule(0.7, 0.4).validate().unwrap_err();
        assert!(e.contains("exceeds 1"), "{e}");

        let plan: FaultPlan = toml::from_str(
            "seed = 5\n\
             [[rule]]\n\
             provider = \"tencent-cvm\"\n\
             action = \"ModifyImageSharePermission\"\n\
             qps = 50\n\
             throttle_rate = 0.2\n\
             error_rate = 0.05\n\
             [[rule]]\n\
             drop_rate = 0.01\n",
        )
        .unwrap();
        assert_eq!(plan.rules[0].throttle_rate, 0.2);
        assert_eq!(plan.rules[0].qps, Some(50));
        assert_eq!(plan.rules[1].throttle_rate, 0.0, "absent means 0");
        assert!(plan.validate().is_ok());
    }

    #[test]
    fn most_specific_rule_wins_and_bad_plans_are_refused() {
        let p = FaultPlan::seeded(1)
            .rule(FaultRule {
                error_rate: 1.0,
                ..Default::default()
            })
            .rule(FaultRule {
                provider: Some(imageshare_ucloud::UHOST),
                action: Some("DescribeImage".into()),
                ..Default::default()
            });
        let mut inj = FaultInjector::new(p);
        let now = Instant::now();
        assert_eq!(
            inj.decide(imageshare_ucloud::UHOST, "DescribeImage", now)
                .fault,
            None
        );
        assert_eq!(
            inj.decide(imageshare_ucloud::UHOST, "TerminateCustomImage", now)
                .fault,
            Some(FaultKind::ServerError)
        );
        let bad = FaultPlan::seeded(0).rule(FaultRule {
            error_rate: 1.5,
            ..Default::default()
        });
        assert!(bad.validate().is_err());
    }
}
