//! The `.updater.env` format: `KEY=VALUE` lines, as written by `generate_env.sh` and read by
//! the original tool. Blank lines and `#` comments are skipped, an `export ` prefix is
//! allowed, and values may be single-quoted (taken literally) or double-quoted (with `\"`,
//! `\\`, `\$` and `\n` escapes). Unquoted values end at ` #`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    #[error("cannot read env file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    Parse {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// Read and parse an env file. A missing file is `Ok(None)`: running on defaults is normal.
pub fn read(path: &Path) -> Result<Option<BTreeMap<String, String>>, EnvFileError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text)
            .map(Some)
            .map_err(|(line, reason)| EnvFileError::Parse {
                path: path.to_owned(),
                line,
                reason,
            }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(EnvFileError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Parse env-file text; on failure, the 1-based line number and why.
pub fn parse(text: &str) -> Result<BTreeMap<String, String>, (usize, String)> {
    let mut values = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((key, value)) = line.split_once('=') else {
            return Err((line_number, format!("expected KEY=VALUE, found {line:?}")));
        };
        let key = key.trim();
        if !is_valid_key(key) {
            return Err((
                line_number,
                format!(
                    "{key:?} is not a valid key (letters, digits and _, not starting with a digit)"
                ),
            ));
        }
        let value = parse_value(value.trim_start())
            .map_err(|reason| (line_number, format!("value of {key}: {reason}")))?;
        values.insert(key.to_owned(), value);
    }
    Ok(values)
}

fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_value(value: &str) -> Result<String, String> {
    if let Some(rest) = value.strip_prefix('\'') {
        let end = rest.find('\'').ok_or("unterminated single quote")?;
        return trailing_is_comment(&rest[end + 1..]).map(|()| rest[..end].to_owned());
    }
    if let Some(rest) = value.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.char_indices();
        while let Some((position, c)) = chars.next() {
            match c {
                '"' => {
                    return trailing_is_comment(&rest[position + 1..]).map(|()| out);
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, escaped @ ('"' | '\\' | '$' | '`'))) => out.push(escaped),
                    Some((_, other)) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => return Err("unterminated double quote".to_owned()),
                },
                other => out.push(other),
            }
        }
        return Err("unterminated double quote".to_owned());
    }
    let unquoted = match value.find(" #") {
        Some(comment) => &value[..comment],
        None => value,
    };
    Ok(unquoted.trim_end().to_owned())
}

fn trailing_is_comment(rest: &str) -> Result<(), String> {
    let rest = rest.trim_start();
    if rest.is_empty() || rest.starts_with('#') {
        Ok(())
    } else {
        Err(format!("unexpected text after the closing quote: {rest:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forms_generate_env_writes() {
        let text = r#"
# Berth configuration
CHECK_INTERVAL=300
export AWS_REGION=us-east-2
ALLOW_TAGS='regexp:^(?=.{1,25}$)v?\d+\.\d+\.\d+$'
HARBOR_USERNAME="robot\$berth"
EMPTY=
COMMENTED=value # trailing comment
"#;
        let values = parse(text).unwrap();
        assert_eq!(values["CHECK_INTERVAL"], "300");
        assert_eq!(values["AWS_REGION"], "us-east-2");
        assert_eq!(
            values["ALLOW_TAGS"],
            r"regexp:^(?=.{1,25}$)v?\d+\.\d+\.\d+$"
        );
        assert_eq!(values["HARBOR_USERNAME"], "robot$berth");
        assert_eq!(values["EMPTY"], "");
        assert_eq!(values["COMMENTED"], "value");
    }

    #[test]
    fn names_the_line_and_the_problem() {
        assert_eq!(
            parse("A=1\nnot a pair\n").unwrap_err(),
            (2, "expected KEY=VALUE, found \"not a pair\"".to_owned())
        );
        let (line, reason) = parse("1BAD=x").unwrap_err();
        assert_eq!(line, 1);
        assert!(reason.contains("\"1BAD\" is not a valid key"), "{reason}");
        let (_, reason) = parse("A=\"open").unwrap_err();
        assert!(
            reason.contains("value of A: unterminated double quote"),
            "{reason}"
        );
    }
}
