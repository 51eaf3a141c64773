//! Key ages: the durations of `max_key_age` and `rotate --older-than`, the
//! creation dates keyrings record (RFC 3339 in UTC, to the second), and
//! ages in words.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now, to the second (what a keyring line records).
pub fn now() -> SystemTime {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// `t` as a keyring line writes it: `2026-01-31T09:30:00Z`.
pub fn timestamp(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// The day of `t` (UTC): `2026-01-31`.
pub fn date(t: SystemTime) -> String {
    let mut s = timestamp(t);
    s.truncate(10);
    s
}

/// What `max_key_age` and `--older-than` take, in words (for messages).
pub const AGE_FORMAT: &str = "a duration such as \"90d\" (units: s, m, h, d, w), 1s or more";

/// A duration in humantime's short form (`30s`, `12h`, `90d`, `2w`, or
/// several: `1d 12h`), in whole seconds; `None` when it is not one, or is
/// under a second.
pub fn parse_age(text: &str) -> Option<Duration> {
    let d = humantime::parse_duration(text.trim()).ok()?;
    (d.as_secs() >= 1).then(|| Duration::from_secs(d.as_secs()))
}

/// `d` in its largest whole unit, as `--older-than` takes it: `90d`,
/// `36h`, `90m`, `45s`.
pub fn short(d: Duration) -> String {
    let s = d.as_secs();
    for (unit, n) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if s >= n && s.is_multiple_of(n) {
            return format!("{}{unit}", s / n);
        }
    }
    format!("{s}s")
}

/// How old something created at `created` is `now` (zero when it is
/// dated in the future).
pub fn age(created: SystemTime, now: SystemTime) -> Duration {
    now.duration_since(created).unwrap_or_default()
}

/// An age in words, rounded down: `120 days`, `1 day`, `5 hours`,
/// `3 minutes`, `10 seconds`.
pub fn words(d: Duration) -> String {
    let s = d.as_secs();
    let (n, one, many) = match s {
        86_400.. => (s / 86_400, "day", "days"),
        3_600.. => (s / 3_600, "hour", "hours"),
        60.. => (s / 60, "minute", "minutes"),
        _ => (s, "second", "seconds"),
    };
    crate::words::count(n as usize, one, many)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_parse_and_print_in_their_largest_unit() {
        let cases = [
            ("90d", Some("90d")),
            ("12h", Some("12h")),
            ("30s", Some("30s")),
            ("2w", Some("14d")),
            ("1d 12h", Some("36h")),
            ("90m", Some("90m")),
            ("0s", None),
            ("500ms", None),
            ("90", None),
            ("ninety days", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_age(text).map(short).as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn timestamps_round_trip_to_the_second() {
        let t = now();
        assert_eq!(humantime::parse_rfc3339(&timestamp(t)).unwrap(), t);
        let day = UNIX_EPOCH + Duration::from_secs(20_000 * 86_400 + 5);
        assert_eq!(timestamp(day), "2024-10-04T00:00:05Z");
        assert_eq!(date(day), "2024-10-04");
        assert_eq!(words(age(UNIX_EPOCH, day)), "20000 days");
        assert_eq!(words(Duration::from_secs(7_200)), "2 hours");
        assert_eq!(words(Duration::from_secs(1)), "1 second");
        assert_eq!(age(day, UNIX_EPOCH), Duration::ZERO);
    }
}
