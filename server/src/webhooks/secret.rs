//! The shared secret a webhook must carry: `Authorization: Bearer <secret>` (the registry's
//! `headers:` setting), the bare secret as the `Authorization` value (Harbor's "Auth
//! Header" field), or `?token=<secret>` (Docker Hub, which cannot set headers).

/// Whether the request carries `expected`; compared in constant time.
pub fn verify(expected: &str, authorization: Option<&str>, token: Option<&str>) -> bool {
    let from_header = authorization.map(|value| {
        let value = value.trim();
        match value.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => value,
        }
    });
    [from_header, token]
        .into_iter()
        .flatten()
        .any(|given| constant_time_eq(given.as_bytes(), expected.as_bytes()))
}

fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    left.iter()
        .zip(right)
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

#[cfg(test)]
mod tests {
    use super::verify;

    #[test]
    fn the_secret_is_accepted_in_each_documented_place_only() {
        assert!(verify("s3cret", Some("Bearer s3cret"), None));
        assert!(verify("s3cret", Some("bearer  s3cret "), None));
        assert!(verify("s3cret", Some("s3cret"), None));
        assert!(verify("s3cret", None, Some("s3cret")));
        assert!(!verify("s3cret", Some("Bearer wrong"), None));
        assert!(!verify("s3cret", Some("Bearer s3cre"), Some("nope")));
        assert!(!verify("s3cret", None, None));
    }
}
