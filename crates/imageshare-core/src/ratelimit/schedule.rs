//! When each request of one bucket (one `(provider, action)`) may go: the pacing behind
//! [`RateLimiter::acquire`](super::RateLimiter::acquire).
//!
//! Two rules, both checked under one lock:
//!
//! 1. **A grid** (GCRA, the token bucket's "virtual scheduling" form): request `k` of a busy
//!    spell is due at `start + k x interval`, and up to `burst - 1` intervals early after a
//!    quiet spell. A waiter **reserves** its slot when it asks, so waiters queue in order and
//!    each sleeps once, until its own slot. The grid is fixed when the slot is reserved, not
//!    when the waiter wakes: a timer that wakes a waiter 1 ms late (Tokio's timer has 1 ms
//!    resolution) delays that request by 1 ms but not the ones after it. (A bucket that
//!    schedules from the time a permit is *taken* loses that 1 ms on every request: 20 % of
//!    the quota at 200/s, 1-4 % at the clouds' 10-40/s; measured in BENCHMARKS.md §15.)
//! 2. **A sliding window** (burst 1 only): at most `n` requests in any `n` intervals plus a
//!    margin of 5 % ([`margin`]), `n` being the whole requests of one second (at least 1,
//!    at most [`MAX_WINDOW`]): 10/s is at most 10 in any 1.05 s. With a window the grid's
//!    interval is the window's span / `n` (105 ms at 10/s), so requests woken on time never
//!    wait for the window as well.
//!
//!    A request woken late may go less than one interval after the one before it. That is
//!    fine for a quota counted per second, which is how Alibaba Cloud and Tencent Cloud
//!    publish theirs ("N requests per second" per action); the window makes sure such a
//!    request can never be the `n + 1`-th inside one second.
//!
//!    The margin leaves room for requests reaching the server closer together than they
//!    left: the client's and the server's tasks may each be held up by the machine's
//!    scheduler. With 2 % (20 ms a second), a loaded 2-core machine saw 1.3 % of 10,000
//!    requests at 200/s throttled by the emulator's exact sliding window (BENCHMARKS.md §15);
//!    with 5 %, 0.36 % at most.
//!
//! With `burst > 1` the grid alone applies: the caller asked for a token bucket.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::Rate;

/// What a burst-1 window adds to its `n` intervals (`base`): 5 %, at least 5 ms. A
/// request reaching the server up to that much later than the one `n` before it, relative
/// to when each left, is still inside the quota. See the module docs.
pub(super) fn margin(base: Duration) -> Duration {
    (base / 20).max(Duration::from_millis(5))
}

/// The largest window a burst-1 schedule keeps (its last grant times): above 1000/s the
/// window is 1000 requests, less than a second.
pub(super) const MAX_WINDOW: usize = 1000;

/// At most `count` grants in any `span`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    count: usize,
    span: Duration,
}

impl Window {
    fn of(rate: Rate) -> Option<Window> {
        if rate.burst() > 1 {
            return None;
        }
        // Truncation intended: the whole requests of one second (a quota of 15.5/s admits
        // 15 in a second), at least one, at most MAX_WINDOW.
        let count = (rate.requests_per_second() as usize).clamp(1, MAX_WINDOW);
        let base = rate.interval() * count as u32;
        Some(Window {
            count,
            span: base + margin(base),
        })
    }
}

#[derive(Debug, Default)]
struct State {
    /// The grid's next due time (GCRA's "theoretical arrival time"); `None` before the
    /// first request.
    next: Option<Instant>,
    /// The last grants (at most the window's count), oldest first.
    granted: VecDeque<Instant>,
}

/// One bucket's pacing: a grid of reserved slots and, with burst 1, a sliding window.
#[derive(Debug)]
pub(super) struct Schedule {
    interval: Duration,
    /// How far ahead of the grid a request may go: `burst - 1` intervals.
    tolerance: Duration,
    window: Option<Window>,
    state: Mutex<State>,
}

/// A slot on the grid, reserved by one waiter. Handing it back ([`Schedule::release`])
/// frees it for the next waiter if nobody has reserved after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slot {
    /// When the request is due.
    pub(super) at: Instant,
    /// The grid's next due time before this reservation.
    before: Option<Instant>,
    /// The grid's next due time after it.
    after: Instant,
}

impl Schedule {
    /// The pacing of `rate`.
    pub(super) fn new(rate: Rate) -> Schedule {
        let window = Window::of(rate);
        // With a window, the grid spreads its count over its span (margin included), so
        // requests woken on time never have to wait for the window as well.
        let interval = window
            .map_or(rate.interval(), |w| w.span / w.count as u32)
            .max(Duration::from_nanos(1));
        Schedule {
            interval,
            tolerance: interval * rate.burst().saturating_sub(1),
            window,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn slot_in(&self, state: &State, now: Instant) -> Slot {
        let next = state.next.unwrap_or(now);
        Slot {
            at: next.checked_sub(self.tolerance).unwrap_or(next).max(now),
            before: state.next,
            after: next.max(now) + self.interval,
        }
    }

    /// When the window lets the next grant go: `None` for now (or no window).
    fn window_wait(&self, state: &State, now: Instant) -> Option<Instant> {
        let w = self.window?;
        if state.granted.len() < w.count {
            return None;
        }
        let free_at = *state.granted.front()? + w.span;
        (now < free_at).then_some(free_at)
    }

    fn record(&self, state: &mut State, now: Instant) {
        if let Some(w) = self.window {
            state.granted.push_back(now);
            while state.granted.len() > w.count {
                state.granted.pop_front();
            }
        }
    }

    /// Reserves the next slot on the grid for a request asking at `now`.
    pub(super) fn reserve(&self, now: Instant) -> Slot {
        let mut state = self.lock();
        let slot = self.slot_in(&state, now);
        state.next = Some(slot.after);
        slot
    }

    /// Hands back an unused slot: the grid steps back if no later slot was reserved since
    /// (otherwise the slot stays unused: the quota is never exceeded, a little is lost).
    pub(super) fn release(&self, slot: Slot) {
        let mut state = self.lock();
        if state.next == Some(slot.after) {
            state.next = slot.before;
        }
    }

    /// Grants the request of a reserved slot that is due (`now >= slot.at`), or says when
    /// the window lets it go.
    pub(super) fn grant(&self, now: Instant) -> Result<(), Instant> {
        let mut state = self.lock();
        if let Some(at) = self.window_wait(&state, now) {
            return Err(at);
        }
        self.record(&mut state, now);
        Ok(())
    }

    /// Reserves and grants in one step if a request asking at `now` may go at once.
    pub(super) fn try_take(&self, now: Instant) -> bool {
        let mut state = self.lock();
        let slot = self.slot_in(&state, now);
        if slot.at > now || self.window_wait(&state, now).is_some() {
            return false;
        }
        state.next = Some(slot.after);
        self.record(&mut state, now);
        true
    }
}

/// A reserved slot that goes back to the schedule if its waiter is dropped before its
/// permit is granted (what makes [`RateLimiter::acquire`](super::RateLimiter::acquire)
/// cancel-safe).
pub(super) struct Reservation<'a> {
    schedule: &'a Schedule,
    slot: Option<Slot>,
}

impl<'a> Reservation<'a> {
    /// Reserves the next slot of `schedule` for a request asking at `now`.
    pub(super) fn new(schedule: &'a Schedule, now: Instant) -> Self {
        Reservation {
            schedule,
            slot: Some(schedule.reserve(now)),
        }
    }

    /// When the reserved slot is due.
    pub(super) fn due(&self) -> Instant {
        self.slot.map_or_else(Instant::now, |s| s.at)
    }

    /// The permit was granted: the slot is used.
    pub(super) fn keep(mut self) {
        self.slot = None;
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.schedule.release(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Takes `k` permits for waiters that all asked at `t0` and each wake up `late(i)`
    /// after the time they sleep until (their slot, then any window wait), in time order
    /// as a runtime would; returns the grant times in order.
    fn run(
        schedule: &Schedule,
        t0: Instant,
        k: usize,
        late: impl Fn(usize) -> Duration,
    ) -> Vec<Instant> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let mut wake_ups: BinaryHeap<_> = (0..k)
            .map(|i| Reverse((schedule.reserve(t0).at + late(i), i)))
            .collect();
        let mut grants = Vec::with_capacity(k);
        while let Some(Reverse((now, i))) = wake_ups.pop() {
            match schedule.grant(now) {
                Ok(()) => grants.push(now),
                Err(at) => wake_ups.push(Reverse((at + late(i), i))),
            }
        }
        grants
    }

    #[test]
    fn late_wake_ups_do_not_add_up() {
        // 1,000 requests at 200/s, every waiter woken up to 1 ms late (as Tokio's timer
        // does): the last goes about 5 s after the first, not 6 s (1 ms lost per request).
        let s = Schedule::new(Rate::per_second(200.0));
        let t0 = Instant::now();
        let late = |i: usize| Duration::from_micros(((i * 7919) % 1000) as u64 + 1);
        let grants = run(&s, t0, 1000, late);
        let total = *grants.last().unwrap() - grants[0];
        // The grid: 200 requests per 1.05 s.
        let ideal = Duration::from_millis(1050) / 200 * 999;
        assert!(total >= ideal - ms(1), "{total:?}");
        // A request held by the window (one before it in the window woke later than it)
        // wakes late once more: at most one wake-up per window (5 of 200) is lost.
        assert!(total <= ideal + ms(1) * 6, "{total:?}");
    }

    #[test]
    fn no_second_ever_holds_more_than_the_quota() {
        // A quota of 10/s: whatever the wake-ups, no 11 grants fall within 1 s.
        for pattern in 0..4u64 {
            let s = Schedule::new(Rate::per_second(10.0));
            let t0 = Instant::now();
            let late = |i: usize| match pattern {
                0 => Duration::ZERO,
                1 => ms(if i.is_multiple_of(10) { 40 } else { 0 }),
                2 => ms(((i as u64 * 37) % 90) + 1),
                _ => ms(if i < 5 { 95 } else { 0 }),
            };
            let grants = run(&s, t0, 60, late);
            for pair in grants.windows(11) {
                let span = pair[10] - pair[0];
                assert!(
                    span >= Duration::from_millis(1050),
                    "pattern {pattern}: {span:?}"
                );
            }
            assert!(grants.windows(2).all(|p| p[1] >= p[0]));
        }
    }

    #[test]
    fn slots_follow_the_grid_and_burst() {
        let t0 = Instant::now();
        let s = Schedule::new(Rate::per_second(10.0));
        let at: Vec<_> = (0..3).map(|_| s.reserve(t0).at - t0).collect();
        // 10 per 1.05 s (the window's margin spread over the second).
        assert_eq!(at, [ms(0), ms(105), ms(210)]);
        // After a quiet spell the grid starts again from the time of asking.
        let later = t0 + Duration::from_secs(5);
        assert_eq!(s.reserve(later).at, later);

        // Burst 3: three at once after a quiet spell, then one per interval; no window.
        let b = Schedule::new(Rate::per_second(10.0).with_burst(3));
        let at: Vec<_> = (0..5).map(|_| b.reserve(t0).at - t0).collect();
        assert_eq!(at, [ms(0), ms(0), ms(0), ms(100), ms(200)]);
        assert!(b.window.is_none());
    }

    #[test]
    fn windows_by_rate() {
        let w = |r: Rate| Window::of(r).map(|w| (w.count, w.span));
        assert_eq!(
            w(Rate::per_second(10.0)),
            Some((10, Duration::from_millis(1050)))
        );
        // 15.5/s: 15 in 15 intervals (0.968 s) plus 5 %.
        let (count, span) = w(Rate::per_second(15.5)).unwrap();
        assert_eq!(count, 15);
        assert!(
            (span.as_secs_f64() - 15.0 / 15.5 * 1.05).abs() < 1e-6,
            "{span:?}"
        );
        assert_eq!(
            w(Rate::per_minute(6.0)),
            Some((1, Duration::from_millis(10_500)))
        );
        assert_eq!(w(Rate::per_second(2000.0)).map(|w| w.0), Some(MAX_WINDOW));
        assert_eq!(w(Rate::per_second(10.0).with_burst(2)), None);
    }

    #[test]
    fn a_handed_back_slot_goes_to_the_next_waiter() {
        let t0 = Instant::now();
        let s = Schedule::new(Rate::per_second(10.0));
        let step = s.interval;
        assert_eq!(s.reserve(t0).at, t0);
        let dropped = s.reserve(t0);
        assert_eq!(dropped.at, t0 + step);
        s.release(dropped);
        assert_eq!(s.reserve(t0).at, t0 + step);
        // Not once a later slot is reserved: the freed slot just stays unused.
        let unused = s.reserve(t0);
        let after = s.reserve(t0);
        s.release(unused);
        assert_eq!(after.at, t0 + step * 3);
        assert_eq!(s.reserve(t0).at, t0 + step * 4);
    }

    #[test]
    fn try_take_obeys_grid_and_window() {
        let t0 = Instant::now();
        let s = Schedule::new(Rate::per_second(2.0));
        // The grid: 2 per 1.05 s.
        assert!(s.try_take(t0));
        assert!(!s.try_take(t0 + ms(524)));
        assert!(s.try_take(t0 + ms(525)));
        assert!(!s.try_take(t0 + ms(1049)));
        assert!(s.try_take(t0 + ms(1050)));
        // Taken late (the grid is idle): the grid starts again from then.
        assert!(s.try_take(t0 + ms(1600)));
        assert!(!s.try_take(t0 + ms(2124)));
        assert!(s.try_take(t0 + ms(2125)));
    }
}
