//! XML Schema 1.1 `dateTimeStamp`, the type of VCDM 2.0's `validFrom` and `validUntil` (§4.9),
//! parsed by hand: RFC 3339 (the `time` crate's parser) is not the same language — it allows
//! offsets past ±14:00 and refuses `24:00:00` and years past 9999 — and the data model's rules
//! must be the specification's.

/// The days of `month` (1–12) in `year` of the proleptic Gregorian calendar; `None` for a
/// month that does not exist.
pub fn days_in_month(year: i64, month: i64) -> Option<i64> {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => Some(31),
        4 | 6 | 9 | 11 => Some(30),
        2 if leap => Some(29),
        2 => Some(28),
        _ => None,
    }
}

/// Parses an XML Schema 1.1 `dateTimeStamp` into Unix seconds and nanoseconds.
///
/// Exactly the lexical space of the VCDM's regular expression (§5.8), plus what the regular
/// expression leaves to the calendar: the day must exist in its month (29 February only in
/// leap years). `24:00:00` is midnight at the end of the day. Years beyond nine digits are
/// refused rather than overflow.
pub(super) fn parse_date_time_stamp(text: &str) -> Option<(i64, u32)> {
    let bytes = text.as_bytes();
    let mut at = 0;
    let negative = bytes.first() == Some(&b'-');
    if negative {
        at = 1;
    }
    let year_digits = bytes[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let year_text = &text[at..at + year_digits];
    // `-?([1-9][0-9]{3,}|0[0-9]{3})`
    if !(4..=9).contains(&year_digits) || (year_digits > 4 && year_text.starts_with('0')) {
        return None;
    }
    let year: i64 = year_text.parse().ok()?;
    let year = if negative { -year } else { year };
    at += year_digits;
    let rest = &text[at..];
    // `-MM-DDThh:mm:ss`
    let fixed = rest.as_bytes();
    if fixed.len() < 15
        || fixed[0] != b'-'
        || fixed[3] != b'-'
        || fixed[6] != b'T'
        || fixed[9] != b':'
        || fixed[12] != b':'
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = rest.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (month, day) = (number(1..3)?, number(4..6)?);
    let (hour, minute, second) = (number(7..9)?, number(10..12)?, number(13..15)?);
    let mut tail = &rest[15..];
    let mut nanos = 0u32;
    let mut fraction_is_zero = true;
    if let Some(fraction) = tail.strip_prefix('.') {
        let digits = fraction.bytes().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        let text = &fraction[..digits];
        fraction_is_zero = text.bytes().all(|b| b == b'0');
        let padded: String = text.chars().chain(std::iter::repeat('0')).take(9).collect();
        nanos = padded.parse().ok()?;
        tail = &fraction[digits..];
    }
    let days = days_in_month(year, month)?;
    let end_of_day = hour == 24 && minute == 0 && second == 0 && fraction_is_zero;
    if !(1..=days).contains(&day) || !(hour <= 23 || end_of_day) || minute > 59 || second > 59 {
        return None;
    }
    // `Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)`
    let offset = match tail.as_bytes() {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digits = [*h1, *h2, *m1, *m2];
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let hours = i64::from((h1 - b'0') * 10 + (h2 - b'0'));
            let minutes = i64::from((m1 - b'0') * 10 + (m2 - b'0'));
            if minutes > 59 || hours > 14 || (hours == 14 && minutes != 0) {
                return None;
            }
            let seconds = hours * 3600 + minutes * 60;
            if *sign == b'-' { -seconds } else { seconds }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some((seconds, nanos))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (year 0 = 1 BCE, as XML Schema 1.1).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_time_stamps() {
        for (text, unix) in [
            ("1970-01-01T00:00:00Z", 0),
            ("2023-02-25T19:10:39-06:00", 1_677_373_839),
            ("2023-02-26T01:10:39Z", 1_677_373_839),
            ("2010-01-01T24:00:00Z", 1_262_390_400),
            ("2010-01-02T00:00:00+14:00", 1_262_340_000),
            ("2024-02-29T00:00:00Z", 1_709_164_800),
            ("4023-02-26T01:02:58.447Z", 64_791_277_378),
            ("-0001-01-01T00:00:00Z", -62_198_755_200),
        ] {
            assert_eq!(
                parse_date_time_stamp(text).map(|(s, _)| s),
                Some(unix),
                "{text}"
            );
        }
        assert_eq!(
            parse_date_time_stamp("2023-02-26T01:20:18.477Z"),
            Some((1_677_374_418, 477_000_000))
        );
        for text in [
            "2023-02-26T01:20:18",
            "2023-02-26 01:20:18Z",
            "2023-02-26t01:20:18z",
            "2023-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-01-01T24:00:01Z",
            "2023-01-01T23:60:00Z",
            "2023-01-01T23:59:60Z",
            "2023-01-01T00:00:00+14:01",
            "2023-01-01T00:00:00+15:00",
            "2023-01-01T00:00:00.Z",
            "02023-01-01T00:00:00Z",
            "223-01-01T00:00:00Z",
            "Sat 25 Feb 2023 07:16:31 PM CST",
            "2023-01-01T00:00:00Zjunk",
            "",
        ] {
            assert_eq!(parse_date_time_stamp(text), None, "{text}");
        }
    }
}
