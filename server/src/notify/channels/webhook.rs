//! The generic webhook: the notification as JSON, optionally signed with HMAC-SHA256 over
//! the exact body (`X-Berth-Signature-256: sha256=<hex>`, as GitHub signs its webhooks), so
//! the receiver can check it came from Berth and was not altered.

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::Outgoing;
use crate::notify::message::Notification;

pub const SIGNATURE_HEADER: &str = "x-berth-signature-256";
const EVENT_HEADER: &str = "x-berth-event";

pub fn request(url: &url::Url, secret: Option<&str>, notification: &Notification) -> Outgoing {
    let body = json!({
        "event": notification.kind.as_str(),
        "title": notification.title,
        "text": notification.text,
        "subject": notification.subject,
        "version": notification.version,
        "details": notification.event,
    });
    let mut outgoing = Outgoing::json(url.clone(), &body);
    outgoing
        .headers
        .push((EVENT_HEADER, notification.kind.as_str().to_owned()));
    if let Some(secret) = secret {
        outgoing
            .headers
            .push((SIGNATURE_HEADER, sign(secret, &outgoing.body)));
    }
    outgoing
}

/// `sha256=<hex of HMAC-SHA256(secret, body)>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_matches_rfc_4231_test_case_2() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
