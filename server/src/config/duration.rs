//! Durations as the env file writes them: plain seconds (`300`) or units (`45s`, `30m`,
//! `6h`, `1d`, and combinations such as `1h30m`).

use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DurationError {
    #[error("empty duration")]
    Empty,
    #[error("{0:?} is not a duration: use seconds (300) or units such as 45s, 30m, 6h, 1d")]
    Malformed(String),
    #[error("a duration of zero is not allowed")]
    Zero,
}

pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let malformed = || DurationError::Malformed(text.to_owned());
    let seconds = if text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<u64>().map_err(|_| malformed())?
    } else {
        let mut total: u64 = 0;
        let mut number = String::new();
        for c in text.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => return Err(malformed()),
            };
            let value: u64 = number.parse().map_err(|_| malformed())?;
            number.clear();
            total = value
                .checked_mul(unit)
                .and_then(|part| total.checked_add(part))
                .ok_or_else(malformed)?;
        }
        if !number.is_empty() {
            return Err(malformed());
        }
        total
    };
    if seconds == 0 {
        return Err(DurationError::Zero);
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_seconds_and_units() {
        assert_eq!(parse("300"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse("6h"), Ok(Duration::from_secs(21_600)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("1d"), Ok(Duration::from_secs(86_400)));
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert_eq!(parse(""), Err(DurationError::Empty));
        assert_eq!(parse("0"), Err(DurationError::Zero));
        assert_eq!(
            parse("5 minutes"),
            Err(DurationError::Malformed("5 minutes".into()))
        );
        assert_eq!(parse("10x"), Err(DurationError::Malformed("10x".into())));
        assert_eq!(parse("m"), Err(DurationError::Malformed("m".into())));
        assert_eq!(parse("30m5"), Err(DurationError::Malformed("30m5".into())));
    }
}
