//! Progress on stderr, drawn only when stderr is a terminal (indicatif hides itself
//! otherwise), so scripts and `--output json` see nothing of it.

use std::future::Future;
use std::time::Duration;

use imageshare::core::distribute::{Phase, Progress};
use indicatif::{ProgressBar, ProgressStyle};

/// A spinner with a message, for one long call.
pub fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, crate::stderr::progress_target());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"),
    );
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A bar over `len` steps.
pub fn bar(len: u64, prefix: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), crate::stderr::progress_target());
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(prefix.to_owned());
    bar
}

/// Awaits `work` with a [`spinner`] showing `message`.
pub async fn with_spinner<T>(message: &str, work: impl Future<Output = T>) -> T {
    let bar = spinner(message);
    let done = work.await;
    bar.finish_and_clear();
    done
}

/// Whether long work reports its progress on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A live bar when stderr is a terminal; otherwise one line every `every`, from the
    /// first period on (work shorter than that prints nothing).
    Auto {
        /// The period of the line when stderr is not a terminal.
        every: Duration,
    },
    /// Nothing (for `--quiet`).
    Off,
}

impl Default for ProgressMode {
    fn default() -> Self {
        ProgressMode::Auto {
            every: PERIODIC_EVERY,
        }
    }
}

impl ProgressMode {
    /// The environment variable that turns progress off: `IMAGESHARE_PROGRESS=off`.
    pub const ENV: &'static str = "IMAGESHARE_PROGRESS";

    /// The mode [`ENV`](Self::ENV) asks for: `off` (or `0`, `false`, `no`) is
    /// [`ProgressMode::Off`]; a period (`500ms`, `2s`, from 10 ms to 1 hour) is
    /// [`ProgressMode::Auto`] with that period for the line printed when stderr is not a
    /// terminal; anything else, or unset, is the default ([`PERIODIC_EVERY`]).
    pub fn from_env() -> ProgressMode {
        Self::parse(std::env::var(Self::ENV).ok().as_deref())
    }

    /// [`from_env`](Self::from_env) of a value of [`ENV`](Self::ENV).
    pub fn parse(value: Option<&str>) -> ProgressMode {
        let Some(v) = value.map(|v| v.trim().to_ascii_lowercase()) else {
            return ProgressMode::default();
        };
        if matches!(v.as_str(), "off" | "0" | "false" | "no") {
            return ProgressMode::Off;
        }
        let period = if let Some(ms) = v.strip_suffix("ms") {
            ms.parse().ok().map(Duration::from_millis)
        } else if let Some(s) = v.strip_suffix('s') {
            s.parse().ok().map(Duration::from_secs)
        } else {
            None
        };
        match period {
            Some(every) if (MIN_EVERY..=MAX_EVERY).contains(&every) => ProgressMode::Auto { every },
            _ => ProgressMode::default(),
        }
    }
}

/// The shortest period [`ProgressMode::parse`] takes.
const MIN_EVERY: Duration = Duration::from_millis(10);
/// The longest period [`ProgressMode::parse`] takes.
const MAX_EVERY: Duration = Duration::from_secs(3600);

/// How often [`ProgressMode::Auto`] prints its line when stderr is not a terminal.
pub const PERIODIC_EVERY: Duration = Duration::from_secs(5);

/// Progress of a count of items (`done / total`, rate, time left) on stderr, never stdout,
/// as [`ProgressMode`] says. Cheap to tick from many tasks; stops drawing when dropped.
#[derive(Debug)]
pub struct Counter {
    inner: std::sync::Arc<CounterState>,
    ticker: Option<tokio::task::JoinHandle<()>>,
    bar: Option<ProgressBar>,
}

#[derive(Debug)]
struct CounterState {
    what: String,
    total: u64,
    done: std::sync::atomic::AtomicU64,
    started: std::time::Instant,
}

impl CounterState {
    fn done(&self) -> u64 {
        self.done.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `plan: 1200/10000 images (12%), 95.3/s, about 1m32s left`.
    fn line(&self) -> String {
        let done = self.done();
        let secs = self.started.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
        let pct = (done * 100).checked_div(self.total).unwrap_or(100);
        let left = if rate > 0.0 && done < self.total {
            let s = ((self.total - done) as f64 / rate).round() as u64;
            format!(", about {}m{:02}s left", s / 60, s % 60)
        } else {
            String::new()
        };
        format!(
            "{}/{} {} ({pct}%), {rate:.1}/s{left}",
            done, self.total, self.what
        )
    }
}

impl Counter {
    /// Starts counting `total` items called `what` (`images`), labelled `label`.
    pub fn start(mode: ProgressMode, label: &str, what: &str, total: u64) -> Counter {
        let inner = std::sync::Arc::new(CounterState {
            what: what.to_owned(),
            total,
            done: std::sync::atomic::AtomicU64::new(0),
            started: std::time::Instant::now(),
        });
        let (mut ticker, mut live) = (None, None);
        if let ProgressMode::Auto { every } = mode {
            if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                let b =
                    ProgressBar::with_draw_target(Some(total), crate::stderr::progress_target());
                b.set_style(
                    ProgressStyle::with_template(
                        "{prefix} [{bar:30}] {pos}/{len} {msg} {per_sec} eta {eta}",
                    )
                    .expect("valid template")
                    .progress_chars("=> "),
                );
                b.set_prefix(label.to_owned());
                b.set_message(what.to_owned());
                b.enable_steady_tick(Duration::from_millis(200));
                live = Some(b);
            } else {
                let state = inner.clone();
                let label = label.to_owned();
                ticker = Some(tokio::spawn(async move {
                    let mut period = tokio::time::interval(every);
                    period.tick().await; // the first tick is immediate
                    loop {
                        period.tick().await;
                        eprintln!("{label}: {}", state.line());
                    }
                }));
            }
        }
        Counter {
            inner,
            ticker,
            bar: live,
        }
    }

    /// One more item done.
    pub fn tick(&self) {
        self.inner
            .done
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

/// Progress of a distribution (an entry with `regions`) on stderr, never stdout. When
/// stderr is a terminal: a bar per region (the copy's percent, and its phase). Otherwise:
/// a line per region per phase change (`distribute m-1: cn-shanghai: copying m-2 (40%)`),
/// and one line every period while regions are at work (`distribute m-1: 1/3 regions
/// ended; cn-beijing copying m-3 (40%), cn-shanghai sharing m-2`). Nothing under
/// `--quiet` or `IMAGESHARE_PROGRESS=off`; the period is the one [`ProgressMode`] says.
#[derive(Debug)]
pub struct RegionProgress {
    on: bool,
    state: std::sync::Arc<RegionState>,
    ticker: Option<tokio::task::JoinHandle<()>>,
    /// On a terminal: the bars, one per region.
    bars: Option<(
        indicatif::MultiProgress,
        std::sync::Mutex<std::collections::BTreeMap<String, ProgressBar>>,
    )>,
}

#[derive(Debug)]
struct RegionState {
    label: String,
    /// Per region: its last phase and what the line said.
    regions: std::sync::Mutex<std::collections::BTreeMap<String, (Phase, String)>>,
}

impl RegionState {
    /// `1/3 regions done; cn-beijing copying (40%), cn-shanghai sharing`.
    fn line(&self) -> String {
        let regions = self.regions.lock().unwrap_or_else(|e| e.into_inner());
        let ended = |p: &Phase| matches!(p, Phase::Done | Phase::Failed);
        let done = regions.values().filter(|(p, _)| ended(p)).count();
        let busy: Vec<String> = regions
            .iter()
            .filter(|(_, (p, _))| !ended(p))
            .map(|(r, (_, text))| format!("{r} {text}"))
            .collect();
        format!(
            "{}: {done}/{} regions ended; {}",
            self.label,
            regions.len(),
            busy.join(", ")
        )
    }
}

impl RegionProgress {
    /// Starts reporting, labelled `label` (`distribute m-1`), in the mode of the
    /// environment ([`ProgressMode::from_env`]; off under `--quiet`).
    pub fn start(label: &str) -> RegionProgress {
        let mode = if crate::stderr::quiet() {
            ProgressMode::Off
        } else {
            ProgressMode::from_env()
        };
        let state = std::sync::Arc::new(RegionState {
            label: label.to_owned(),
            regions: std::sync::Mutex::default(),
        });
        let (mut ticker, mut bars) = (None, None);
        if let ProgressMode::Auto { every } = mode {
            if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                let multi =
                    indicatif::MultiProgress::with_draw_target(crate::stderr::progress_target());
                bars = Some((multi, std::sync::Mutex::default()));
            } else {
                let state = state.clone();
                ticker = Some(tokio::spawn(async move {
                    let mut period = tokio::time::interval(every);
                    period.tick().await; // the first tick is immediate
                    loop {
                        period.tick().await;
                        eprintln!("{}", state.line());
                    }
                }));
            }
        }
        RegionProgress {
            on: mode != ProgressMode::Off,
            state,
            ticker,
            bars,
        }
    }

    /// Takes one event: prints a line when the region's phase changed.
    pub fn on(&self, p: &Progress) {
        let text = phase_text(p);
        let changed = {
            let mut regions = self.state.regions.lock().unwrap_or_else(|e| e.into_inner());
            let slot = regions.entry(p.region.to_string());
            let changed = match &slot {
                std::collections::btree_map::Entry::Occupied(o) => o.get().0 != p.phase,
                std::collections::btree_map::Entry::Vacant(_) => true,
            };
            *slot.or_insert((p.phase, String::new())) = (p.phase, text.clone());
            changed
        };
        if let Some((multi, bars)) = &self.bars {
            let mut bars = bars.lock().unwrap_or_else(|e| e.into_inner());
            let bar = bars.entry(p.region.to_string()).or_insert_with(|| {
                let b = multi.add(ProgressBar::new(100));
                b.set_style(
                    ProgressStyle::with_template("{prefix} [{bar:30}] {pos:>3}% {msg}")
                        .expect("valid template")
                        .progress_chars("=> "),
                );
                b.set_prefix(format!("{} {}", self.state.label, p.region));
                b
            });
            if let Some(n) = p.percent {
                bar.set_position(u64::from(n));
            }
            if matches!(p.phase, Phase::Sharing | Phase::Done) {
                bar.set_position(100);
            }
            bar.set_message(text);
            return;
        }
        if self.on && changed {
            eprintln!("{}: {}: {text}", self.state.label, p.region);
        }
    }
}

impl Drop for RegionProgress {
    fn drop(&mut self) {
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
        if let Some((multi, _)) = self.bars.take() {
            let _ = multi.clear();
        }
    }
}

/// A progress event's phase as a word of the progress line.
pub fn phase_text(p: &Progress) -> String {
    let image = p
        .image
        .as_ref()
        .map(|i| format!(" {i}"))
        .unwrap_or_default();
    match p.phase {
        Phase::Looking => "looking for an earlier copy".to_owned(),
        Phase::Copying => match p.percent {
            Some(n) => format!("copying{image} ({n}%)"),
            None => format!("copying{image}"),
        },
        Phase::Sharing => format!("sharing{image}"),
        Phase::Done => "done".to_owned(),
        Phase::Failed => "failed (the report says why)".to_owned(),
        _ => format!("{:?}", p.phase).to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_counter_counts_and_says_how_far() {
        let c = Counter::start(ProgressMode::Off, "plan", "images", 200);
        for _ in 0..50 {
            c.tick();
        }
        assert_eq!(c.inner.done(), 50);
        let line = c.inner.line();
        assert!(line.starts_with("50/200 images (25%), "), "{line}");
        assert!(line.contains("/s"), "{line}");
    }

    #[test]
    fn the_environment_turns_progress_off_or_sets_its_period() {
        let auto = |ms| ProgressMode::Auto {
            every: Duration::from_millis(ms),
        };
        assert_eq!(ProgressMode::parse(None), ProgressMode::default());
        assert_eq!(ProgressMode::default(), auto(5_000));
        for off in ["off", "OFF", "0", "false", "no", " off "] {
            assert_eq!(ProgressMode::parse(Some(off)), ProgressMode::Off, "{off}");
        }
        assert_eq!(ProgressMode::parse(Some("200ms")), auto(200));
        assert_eq!(ProgressMode::parse(Some("2s")), auto(2_000));
        // Out of range or unreadable: the default, never a busy loop.
        for other in ["0ms", "5ms", "7200s", "auto", "", "on", "-1s", "1.5s"] {
            assert_eq!(
                ProgressMode::parse(Some(other)),
                ProgressMode::default(),
                "{other}"
            );
        }
    }
}
