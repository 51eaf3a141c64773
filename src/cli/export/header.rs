//! `export --header`: comment lines that say which profile, when and how
//! many (jdx/fnox's lines, so that files written by either read alike).

use std::time::{SystemTime, UNIX_EPOCH};

/// The header for `count` secrets of `profile` exported at `now`, then an
/// empty line.
pub fn header(profile: &str, count: usize, now: SystemTime) -> String {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!(
        "# Exported from profile: {profile}\n# Exported at: {}\n# Total secrets: {count}\n\n",
        rfc3339(secs)
    )
}

/// `secs` since the epoch as an RFC 3339 UTC time (`2024-02-29T12:00:00Z`).
fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rest = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest % 3600 / 60, rest % 60)
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, u32::try_from(m).unwrap_or(1), u32::try_from(d).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_709_208_000), "2024-02-29T12:00:00Z");
        assert_eq!(rfc3339(1_735_689_599), "2024-12-31T23:59:59Z");
        assert_eq!(rfc3339(4_107_542_400), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn the_header_names_profile_time_and_count() {
        let at = UNIX_EPOCH + std::time::Duration::from_secs(1_709_208_000);
        assert_eq!(
            header("ci", 3, at),
            "# Exported from profile: ci\n# Exported at: 2024-02-29T12:00:00Z\n# Total secrets: 3\n\n"
        );
    }
}
