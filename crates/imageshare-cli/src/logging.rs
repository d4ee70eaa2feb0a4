//! The log on stderr: the parser of `--log-level` / `IMAGESHARE_LOG`, and the subscriber
//! that writes it.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// Parses `--log-level`: a level, or `target=level` directives and at most one bare level
/// (the default for other targets). Unknown levels are refused rather than read as target
/// names.
pub fn parse_log_filter(spec: &str) -> Result<Targets, String> {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let level_ok = |l: &str| LEVELS.contains(&l.trim().to_ascii_lowercase().as_str());
    for d in spec.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let level = match d.split_once('=') {
            Some((target, level)) if !target.trim().is_empty() => level,
            Some(_) => return Err(format!("{d:?} has no target before `=`")),
            None => d,
        };
        if !level_ok(level) {
            return Err(format!(
                "{level:?} is not a log level (expected one of {})",
                LEVELS.join(", ")
            ));
        }
    }
    let targets: Targets = spec.parse().map_err(|e| format!("not a log filter: {e}"))?;
    Ok(match targets.default_level() {
        Some(_) => targets,
        None => targets.with_default(LevelFilter::WARN),
    })
}

/// Installs the stderr log: warnings always, more with `--log-level` / `IMAGESHARE_LOG`.
pub fn init(filter: Option<Targets>) {
    let filter = filter.unwrap_or_else(|| Targets::new().with_default(LevelFilter::WARN));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(true);
    // Fails only when a subscriber is already set, which this binary never does.
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_filters_accept_levels_and_directives_only() {
        for ok in [
            "trace",
            "WARN",
            "off",
            "imageshare_core=trace",
            "imageshare=debug,info",
        ] {
            assert!(parse_log_filter(ok).is_ok(), "{ok}");
        }
        // Warnings stay on by default when only targets are named.
        let t = parse_log_filter("imageshare_core=trace").unwrap();
        assert_eq!(t.default_level(), Some(LevelFilter::WARN));
        assert_eq!(
            parse_log_filter("debug").unwrap().default_level(),
            Some(LevelFilter::DEBUG)
        );
        for bad in ["verbose", "imageshare=loud", "=debug"] {
            assert!(parse_log_filter(bad).is_err(), "{bad}");
        }
    }
}
