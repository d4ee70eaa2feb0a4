//! Small time and nonce helpers for signers, and the model's [`Timestamp`] (UTC only, no
//! time-zone database: a numeric offset is all a timestamp may carry).

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
#[must_use]
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of a civil date (inverse of `civil_from_days`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` (UTC) of a Unix time, as TC3 credential scopes use.
#[must_use]
pub fn format_date(unix: u64) -> String {
    let (y, m, d) = civil_from_days((unix / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC) of a Unix time, as Alibaba `Timestamp` / `x-acs-date` use.
#[must_use]
pub fn format_iso8601(unix: u64) -> String {
    let secs = unix % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        format_date(unix),
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` (UTC; `+00:00` also accepted, and a fractional second,
/// dropped) into a Unix time.
///
/// Strictly UTC: a timestamp with any other offset is refused, as Alibaba refuses a
/// request `Timestamp` that is not UTC. [`parse_rfc3339`] also takes other offsets.
#[must_use]
pub fn parse_iso8601(s: &str) -> Option<u64> {
    match parse_with_offset(s)? {
        (unix, 0) => Some(unix),
        _ => None,
    }
}

/// Parses an RFC 3339 date-time (`2023-03-13T08:34:30Z`, `2023-03-13T16:34:30+08:00`,
/// `...-05:00`; lowercase `t` / `z` and a fractional second are accepted) into Unix seconds
/// in UTC. The fraction is dropped (second precision); instants before 1970 or after
/// [`MAX_RFC3339_UNIX`] (which an offset can reach from a four-digit year) are `None`.
#[must_use]
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let (local, offset) = parse_with_offset(s)?;
    u64::try_from(i64::try_from(local).ok()? - offset)
        .ok()
        .filter(|&unix| unix <= MAX_RFC3339_UNIX)
}

/// The last instant RFC 3339 can write (four-digit years), 9999-12-31T23:59:59Z.
pub const MAX_RFC3339_UNIX: u64 = 253_402_300_799;

/// The local wall-clock time of an RFC 3339 date-time as Unix seconds (as if it were UTC),
/// and its offset east of UTC in seconds (`Z` is 0).
fn parse_with_offset(s: &str) -> Option<(u64, i64)> {
    let (date, rest) = s.split_once(['T', 't'])?;
    let (clock, offset) = match rest.strip_suffix(['Z', 'z']) {
        Some(clock) => (clock, 0),
        None => {
            let (clock, off) = rest.split_at_checked(rest.len().checked_sub(6)?)?;
            let sign = match off.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = off[1..].split_once(':')?;
            let (oh, om) = (digits(oh, 2)?, digits(om, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            (clock, sign * (oh * 3600 + om * 60) as i64)
        }
    };
    let mut dp = date.split('-');
    let (y, m, d) = (
        digits(dp.next()?, 4)?,
        digits(dp.next()?, 2)?,
        digits(dp.next()?, 2)?,
    );
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, "0"));
    let mut tp = hms.split(':');
    let (hh, mm, ss) = (
        digits(tp.next()?, 2)?,
        digits(tp.next()?, 2)?,
        digits(tp.next()?, 2)?,
    );
    if dp.next().is_some()
        || tp.next().is_some()
        || fraction.is_empty()
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let days = days_from_civil(y as i64, m as u32, d as u32);
    let days = u64::try_from(days).ok()?;
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss, offset))
}

/// `s` as a number when it is exactly `n` ASCII digits.
fn digits(s: &str, n: usize) -> Option<u64> {
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Days in month `m` (1-12) of year `y` (proleptic Gregorian).
fn days_in_month(y: u64, m: u64) -> u64 {
    match m {
        2 if y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// An instant in UTC, at second precision: a creation or share time a provider reported.
///
/// Written (`Display`, serde) as RFC 3339 UTC, `2023-03-13T08:34:30Z`; read from any
/// RFC 3339 offset ([`Timestamp::parse_rfc3339`]) or from Unix seconds
/// ([`Timestamp::from_unix`]). Ordered by time. Instants before 1970 are not represented;
/// one built with `from_unix` after [`Timestamp::MAX`] prints a year of more than four
/// digits, which is not RFC 3339 (the `from_reported*` constructors never make one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The last instant RFC 3339 can write, 9999-12-31T23:59:59Z.
    pub const MAX: Timestamp = Timestamp(MAX_RFC3339_UNIX);

    /// The instant `secs` seconds after 1970-01-01T00:00:00Z.
    #[must_use]
    pub const fn from_unix(secs: u64) -> Self {
        Timestamp(secs)
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    #[must_use]
    pub const fn unix(self) -> u64 {
        self.0
    }

    /// Parses an RFC 3339 date-time, normalising any offset to UTC (see [`parse_rfc3339`]).
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        parse_rfc3339(s).map(Timestamp)
    }

    /// A timestamp as a provider reported it in `field` (for adapters decoding an answer):
    /// empty text is `None`, and so is text that is not RFC 3339, with a debug line naming
    /// the field, so that one odd timestamp never fails a whole listing.
    pub fn from_reported(field: &str, text: &str) -> Option<Self> {
        if text.is_empty() {
            return None;
        }
        let parsed = Self::parse_rfc3339(text);
        if parsed.is_none() {
            tracing::debug!(field, value = text, "timestamp is not RFC 3339; dropped");
        }
        parsed
    }

    /// A time a provider reported in `field` as Unix seconds: 0 (what an absent number
    /// reads as) is `None`, and so is a time after [`Timestamp::MAX`], with a debug line
    /// naming the field.
    pub fn from_reported_unix(field: &str, secs: u64) -> Option<Self> {
        if secs == 0 {
            return None;
        }
        if secs > Self::MAX.0 {
            tracing::debug!(
                field,
                value = secs,
                "timestamp after the year 9999; dropped"
            );
            return None;
        }
        Some(Timestamp(secs))
    }
}

impl std::fmt::Display for Timestamp {
    /// RFC 3339 UTC, `YYYY-MM-DDTHH:MM:SSZ` ([`format_iso8601`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_iso8601(self.0))
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse_rfc3339(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("{text:?} is not an RFC 3339 timestamp"))
        })
    }
}

/// A fresh 128-bit random nonce as 32 lowercase hex digits.
#[must_use]
pub fn nonce() -> String {
    let mut buf = [0u8; 16];
    if getrandom::fill(&mut buf).is_err() {
        // No OS randomness: fall back to a process-seeded generator (still unique enough
        // for a request nonce).
        for b in &mut buf {
            *b = fastrand::u8(..);
        }
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where request timestamps come from: the system clock, or a fixed function in tests
/// (signers are pure functions of the time they are given; the clock chooses it).
#[derive(Clone)]
pub struct Clock(std::sync::Arc<dyn Fn() -> u64 + Send + Sync>);

impl Clock {
    /// The system clock (Unix seconds).
    pub fn system() -> Self {
        Clock(std::sync::Arc::new(now_unix))
    }
    /// A clock that calls `f` for every reading.
    pub fn from_fn(f: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        Clock(std::sync::Arc::new(f))
    }
    /// A clock stopped at `unix` seconds.
    #[must_use]
    pub fn fixed(unix: u64) -> Self {
        Clock(std::sync::Arc::new(move || unix))
    }
    /// The current time, Unix seconds.
    #[must_use]
    pub fn now(&self) -> u64 {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        // TC3 worked example timestamp.
        assert_eq!(format_date(1_551_113_065), "2019-02-25");
        assert_eq!(format_iso8601(1_551_113_065), "2019-02-25T16:44:25Z");
        assert_eq!(format_iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_iso8601(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn parse_round_trips() {
        for t in [0, 951_782_400, 1_551_113_065, 1_698_315_752, 4_102_444_799] {
            assert_eq!(parse_iso8601(&format_iso8601(t)), Some(t));
        }
        assert_eq!(parse_iso8601("2023-10-26T10:22:32Z"), Some(1_698_315_752));
        assert_eq!(
            parse_iso8601("2020-09-22T00:00:00+00:00"),
            Some(1_600_732_800)
        );
        assert_eq!(parse_iso8601("2023-13-01T00:00:00Z"), None);
        assert_eq!(parse_iso8601("garbage"), None);
    }

    #[test]
    fn parse_iso8601_is_utc_only_and_strict() {
        assert_eq!(parse_iso8601("2023-03-13T16:34:30+08:00"), None);
        assert_eq!(parse_iso8601("2023-03-13t08:34:30z"), Some(1_678_696_470));
        for bad in [
            "2023-02-29T00:00:00Z",
            "2023-04-31T00:00:00Z",
            "2023-1-01T00:00:00Z",
            "2023-01-01T24:00:00Z",
            "2023-01-01T00:00:00",
            "2023-01-01T00:00:00.Z",
            "2023-01-01T00:00:00junkZ",
            "2023-01-01 00:00:00Z",
            "+023-01-01T00:00:00Z",
            "2023-01-01T00:00Z",
            "1969-12-31T23:59:59Z",
            "",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
        assert_eq!(parse_iso8601("2024-02-29T00:00:00Z"), Some(1_709_164_800));
    }

    #[test]
    fn rfc3339_offsets_normalise_to_utc() {
        let utc = Some(1_678_696_470); // 2023-03-13T08:34:30Z
        for s in [
            "2023-03-13T08:34:30Z",
            "2023-03-13T08:34:30+00:00",
            "2023-03-13T08:34:30-00:00",
            "2023-03-13T16:34:30+08:00",
            "2023-03-13T03:04:30-05:30",
            "2023-03-14T07:34:30+23:00",
            "2023-03-13T08:34:30.999Z",
            "2023-03-13T16:34:30.5+08:00",
        ] {
            assert_eq!(parse_rfc3339(s), utc, "{s}");
        }
        // Crossing midnight and a year end through the offset.
        assert_eq!(
            parse_rfc3339("2024-01-01T07:00:00+08:00"),
            parse_rfc3339("2023-12-31T23:00:00Z")
        );
        assert_eq!(parse_rfc3339("1970-01-01T07:59:59+08:00"), None);
        assert_eq!(parse_rfc3339("1970-01-01T08:00:00+08:00"), Some(0));
        assert_eq!(parse_rfc3339("9999-12-31T23:59:59-01:00"), None);
        assert_eq!(
            parse_rfc3339("10000-01-01T00:00:00+01:00"),
            None,
            "five-digit years are not RFC 3339"
        );
        for bad in [
            "2023-03-13T08:34:30+8:00",
            "2023-03-13T08:34:30+0800",
            "2023-03-13T08:34:30+24:00",
            "2023-03-13T08:34:30+08:60",
            "2023-03-13T08:34:30 +08:00",
            "2023-03-13T08:34:30é:00",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn timestamp_displays_and_serialises_as_rfc3339_utc() {
        let t = Timestamp::parse_rfc3339("2023-03-13T16:34:30+08:00").unwrap();
        assert_eq!(t, Timestamp::from_unix(1_678_696_470));
        assert_eq!(t.unix(), 1_678_696_470);
        assert_eq!(t.to_string(), "2023-03-13T08:34:30Z");
        // A `...Z` text prints back byte for byte.
        for s in [
            "2023-03-13T08:34:30Z",
            "1970-01-01T00:00:00Z",
            "2000-02-29T23:59:59Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(s).unwrap().to_string(), s);
        }
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2023-03-13T08:34:30Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
        assert_eq!(
            serde_json::from_str::<Timestamp>("\"2023-03-13T16:34:30+08:00\"").unwrap(),
            t
        );
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
        assert!(serde_json::from_str::<Timestamp>("1678696470").is_err());
        assert!(Timestamp::from_unix(1) < t);
    }

    #[test]
    fn reported_timestamps_never_fail() {
        assert_eq!(Timestamp::from_reported("CreatedTime", ""), None);
        assert_eq!(Timestamp::from_reported("CreatedTime", "yesterday"), None);
        assert_eq!(
            Timestamp::from_reported("CreatedTime", "2020-09-22T00:00:00+00:00"),
            Some(Timestamp::from_unix(1_600_732_800))
        );
        assert_eq!(Timestamp::from_reported_unix("CreateTime", 0), None);
        assert_eq!(
            Timestamp::from_reported_unix("CreateTime", 1_700_000_000),
            Some(Timestamp::from_unix(1_700_000_000))
        );
        assert_eq!(
            Timestamp::from_reported_unix("CreateTime", Timestamp::MAX.unix()),
            Some(Timestamp::MAX)
        );
        assert_eq!(Timestamp::MAX.to_string(), "9999-12-31T23:59:59Z");
        assert_eq!(
            Timestamp::parse_rfc3339("9999-12-31T23:59:59Z"),
            Some(Timestamp::MAX)
        );
        assert_eq!(
            Timestamp::from_reported_unix("CreateTime", Timestamp::MAX.unix() + 1),
            None
        );
    }

    #[test]
    fn nonces_differ() {
        let a = nonce();
        assert_eq!(a.len(), 32);
        assert_ne!(a, nonce());
    }
}
