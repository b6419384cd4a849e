//! RFC 3339 date-times as comparable instants, without a date-time dependency.

/// An instant: whole seconds since 1970-01-01T00:00:00Z, then nanoseconds. The derived
/// order is chronological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Instant {
    seconds: i64,
    nanos: u32,
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]` (RFC 3339 §5.6; `t`, `z` and a
/// space separator accepted, a missing offset read as UTC as `xsd:dateTime` allows).
/// Fractions beyond nanoseconds are truncated; a leap second `:60` counts as the next
/// second.
pub(crate) fn parse(text: &str) -> Option<Instant> {
    let b = text.as_bytes();
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    let separators_ok = b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && matches!(b.get(10), Some(b'T' | b't' | b' '))
        && b.get(13) == Some(&b':')
        && b.get(16) == Some(&b':');
    if !separators_ok
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = b.get(19..)?;
    let mut nanos = 0;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let len = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        let (fraction, after) = fraction.split_at(len);
        nanos = fraction
            .iter()
            .chain(std::iter::repeat(&b'0'))
            .take(9)
            .fold(0, |acc, &d| acc * 10 + u32::from(d - b'0'));
        rest = after;
    }
    let offset_seconds = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), ..] if rest.len() == 6 && rest.get(3) == Some(&b':') => {
            let (hours, minutes) = (digits(rest, 1, 2)?, digits(rest, 4, 2)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let offset = i64::from(hours * 3600 + minutes * 60);
            if *sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        _ => return None,
    };
    let days = days_from_civil(i64::from(year), month, day);
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_seconds;
    Some(Instant { seconds, nanos })
}

/// The number written with `len` ASCII digits at `start`.
fn digits(bytes: &[u8], start: usize, len: usize) -> Option<u32> {
    let field = bytes.get(start..start + len)?;
    field.iter().try_fold(0, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
    })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seconds(text: &str) -> i64 {
        parse(text).unwrap_or_else(|| panic!("{text}")).seconds
    }

    #[test]
    fn epoch_and_known_instants() {
        assert_eq!(seconds("1970-01-01T00:00:00Z"), 0);
        assert_eq!(seconds("2011-05-13T04:42:34Z"), 1_305_261_754);
        assert_eq!(seconds("2000-02-29T00:00:00Z"), 951_782_400);
        assert_eq!(seconds("1969-12-31T23:59:59Z"), -1);
        assert_eq!(seconds("0001-01-01T00:00:00Z"), -62_135_596_800);
        assert_eq!(seconds("9999-12-31T23:59:59Z"), 253_402_300_799);
    }

    #[test]
    fn offsets_normalise_to_utc() {
        assert_eq!(
            parse("2011-05-13T06:42:34+02:00"),
            parse("2011-05-13T04:42:34Z")
        );
        assert_eq!(
            parse("2011-05-12T23:12:34-05:30"),
            parse("2011-05-13T04:42:34Z")
        );
        assert_eq!(parse("2011-05-13t04:42:34z"), parse("2011-05-13 04:42:34"));
    }

    #[test]
    fn fractions_compare_exactly() {
        assert_eq!(
            parse("2011-05-13T04:42:34.000Z"),
            parse("2011-05-13T04:42:34Z")
        );
        assert_eq!(
            parse("2011-05-13T04:42:34.5Z"),
            parse("2011-05-13T04:42:34.500000000Z")
        );
        assert_eq!(
            parse("2011-05-13T04:42:34.1234567891Z"),
            parse("2011-05-13T04:42:34.123456789Z")
        );
        assert!(parse("2011-05-13T04:42:34.1Z") < parse("2011-05-13T04:42:34.10001Z"));
        assert!(parse("2011-05-13T04:42:34.999Z") < parse("2011-05-13T04:42:35Z"));
    }

    #[test]
    fn leap_second_is_the_next_second() {
        assert_eq!(parse("2016-12-31T23:59:60Z"), parse("2017-01-01T00:00:00Z"));
    }

    #[test]
    fn rejects_what_is_not_a_date_time() {
        for text in [
            "",
            "2011-05-13",
            "2011-05-13T04:42Z",
            "2011-13-01T00:00:00Z",
            "2011-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2011-04-31T00:00:00Z",
            "2011-05-00T00:00:00Z",
            "2011-05-13T24:00:00Z",
            "2011-05-13T04:60:00Z",
            "2011-05-13T04:42:61Z",
            "2011-05-13T04:42:34.Z",
            "2011-05-13T04:42:34+0200",
            "2011-05-13T04:42:34+24:00",
            "2011-05-13T04:42:34ZZ",
            "2011-05-13X04:42:34Z",
            "+011-05-13T04:42:34Z",
            "２０１１-05-13T04:42:34Z",
            "bjensen",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
