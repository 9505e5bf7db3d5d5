//! Timestamps on the dashboard. The pages format them by hand, and the browser reads them
//! off the wire with a small RFC 3339 parser, instead of chrono's strftime formatter and
//! general parser: those two weigh tens of KB in the WASM for the three formats shown here.
//! The wire format does not change: the server still serialises with chrono.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};

/// `2026-11-22 16:47 UTC`
pub fn minutes(at: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// `2026-11-22 16:47:04 UTC`
pub fn seconds(at: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// `16:47:04 UTC`
pub fn time_of_day(at: DateTime<Utc>) -> String {
    format!("{:02}:{:02}:{:02} UTC", at.hour(), at.minute(), at.second())
}

/// Reads what chrono's `Serialize` writes for a `DateTime`: `YYYY-MM-DDTHH:MM:SS`, an
/// optional fraction of up to 9 digits, then `Z` or `±HH:MM`. `None` for anything else.
pub fn parse_rfc3339(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        digits.iter().try_fold(0_u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let sep = |at: usize, expected: &[u8]| b.get(at).is_some_and(|c| expected.contains(c));
    if b.len() < 20 || !sep(4, b"-") || !sep(7, b"-") || !sep(10, b"Tt ") {
        return None;
    }
    if !sep(13, b":") || !sep(16, b":") {
        return None;
    }
    let year = i32::try_from(num(0..4)?).ok()?;
    let (month, day) = (num(5..7)?, num(8..10)?);
    let (hour, minute, mut second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut at = 19;
    let mut nanos = 0_u32;
    if sep(at, b".") {
        let digits = b[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = num(at + 1..at + 1 + digits)? * 10_u32.pow(9 - digits as u32);
        at += 1 + digits;
    }
    // A leap second is written as :60.
    if second == 60 {
        second = 59;
        nanos += 1_000_000_000;
    }
    let offset_seconds = match b.get(at..)? {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let minutes = i64::from(num(at + 1..at + 3)? * 60 + num(at + 4..at + 6)?);
            if *sign == b'+' {
                minutes * 60
            } else {
                -minutes * 60
            }
        }
        _ => return None,
    };
    let local = NaiveDate::from_ymd_opt(year, month, day)?
        .and_hms_nano_opt(hour, minute, second, nanos)?
        .and_utc();
    local.checked_sub_signed(chrono::TimeDelta::seconds(offset_seconds))
}

/// `#[serde(deserialize_with = …)]` for a `DateTime<Utc>` field (used in the browser).
pub fn deserialize<'de, D>(deserializer: D) -> Result<DateTime<Utc>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
    parse_rfc3339(&text)
        .ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 date and time"))
}

/// `#[serde(deserialize_with = …)]` for an `Option<DateTime<Utc>>` field.
pub fn deserialize_option<'de, D>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text =
        <Option<std::borrow::Cow<'de, str>> as serde::Deserialize>::deserialize(deserializer)?;
    text.map(|text| {
        parse_rfc3339(&text)
            .ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 date and time"))
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn wire(at: DateTime<Utc>) -> String {
        serde_json::to_value(at)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn reads_back_what_chrono_writes() {
        let base = Utc.with_ymd_and_hms(2026, 11, 22, 16, 47, 4).unwrap();
        for nanos in [
            0,
            1_000_000,
            123_000_000,
            123_456_000,
            123_456_789,
            999_999_999,
        ] {
            let at = base + chrono::TimeDelta::nanoseconds(nanos);
            assert_eq!(parse_rfc3339(&wire(at)), Some(at), "{}", wire(at));
        }
        let early = Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(parse_rfc3339(&wire(early)), Some(early));
        let now = Utc::now();
        assert_eq!(parse_rfc3339(&wire(now)), Some(now));
    }

    #[test]
    fn applies_an_offset_and_refuses_what_is_not_a_timestamp() {
        let at = Utc.with_ymd_and_hms(2026, 1, 2, 1, 30, 0).unwrap();
        assert_eq!(parse_rfc3339("2026-01-02T03:00:00+01:30"), Some(at));
        assert_eq!(parse_rfc3339("2026-01-01T23:00:00-02:30"), Some(at));
        for bad in [
            "",
            "2026-01-02",
            "2026-01-02T03:00:00",
            "2026-13-02T03:00:00Z",
            "2026-01-02T03:00:00.Z",
            "2026-01-02T03:00:00Zjunk",
            "2026-01-02T25:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_as_the_pages_did_with_strftime() {
        let at = Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap();
        assert_eq!(minutes(at), at.format("%Y-%m-%d %H:%M UTC").to_string());
        assert_eq!(seconds(at), at.format("%Y-%m-%d %H:%M:%S UTC").to_string());
        assert_eq!(time_of_day(at), at.format("%H:%M:%S UTC").to_string());
    }

    #[test]
    fn the_model_reads_its_own_json() {
        let at = Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap();
        let report = crate::model::CheckReport {
            checked_at: at,
            services_checked: 2,
        };
        let json = serde_json::to_string(&report).unwrap();
        let mut de = serde_json::Deserializer::from_str(&json);
        let value: serde_json::Value = serde::Deserialize::deserialize(&mut de).unwrap();
        let text = value["checked_at"].as_str().unwrap();
        assert_eq!(parse_rfc3339(text), Some(at));
        let none: Option<DateTime<Utc>> = deserialize_option(serde_json::Value::Null).unwrap();
        assert_eq!(none, None);
        let some = deserialize_option(serde_json::Value::String(text.to_owned())).unwrap();
        assert_eq!(some, Some(at));
    }
}
