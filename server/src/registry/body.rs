//! Reading answer bodies with a size cap, and checking them against their digest, so a
//! hostile registry can neither exhaust memory nor swap content.

use sha2::{Digest, Sha256};

/// The most any one answer may hold: far above a real manifest or tag-list page.
pub const DEFAULT_BODY_LIMIT: u64 = 8 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("answer body larger than the {limit}-byte cap")]
    ReadTooLarge { limit: u64 },
    #[error("reading the answer body: {0}")]
    Read(#[source] reqwest::Error),
}

/// The whole body, or an error as soon as it passes `limit` bytes (checked on the declared
/// length first, then while streaming, since the length may be absent or a lie).
pub async fn read_capped(
    mut response: reqwest::Response,
    limit: u64,
) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit)
    {
        return Err(BodyError::ReadTooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(BodyError::ReadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Whether `bytes` hash to `digest`. Only sha256 is computed; another algorithm is accepted
/// unchecked rather than refused, as the spec lets registries use others.
pub fn matches_digest(bytes: &[u8], digest: &str) -> Result<(), String> {
    if !digest.starts_with("sha256:") {
        return Ok(());
    }
    let actual = sha256_digest(bytes);
    if actual == digest {
        Ok(())
    } else {
        Err(actual)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_checked() {
        let digest = sha256_digest(b"{}");
        assert_eq!(
            digest,
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert!(matches_digest(b"{}", &digest).is_ok());
        assert_eq!(matches_digest(b"{ }", &digest), Err(sha256_digest(b"{ }")));
        assert!(matches_digest(b"x", "sha512:abc").is_ok());
    }
}
