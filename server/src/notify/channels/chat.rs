//! Chat webhooks: Slack (`text` plus Block Kit `blocks`), Discord (`embeds`), Microsoft
//! Teams (an Adaptive Card in a `message` attachment, the format Workflows webhooks take).

use serde_json::json;

use super::Outgoing;
use crate::notify::message::Notification;

/// Discord embed colours: red for problems, green otherwise.
const PROBLEM_COLOUR: u32 = 0x00d2_3f31;
const GOOD_COLOUR: u32 = 0x002e_a44f;

pub fn slack(url: &url::Url, notification: &Notification) -> Outgoing {
    let body = json!({
        // The fallback shown in notifications and by clients without blocks.
        "text": format!("{}: {}", notification.title, notification.text),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": notification.title}},
            {"type": "section", "text": {"type": "mrkdwn", "text": notification.text}},
            {"type": "context", "elements": [
                {"type": "mrkdwn", "text": format!("Berth · {}", notification.kind.as_str())}
            ]}
        ]
    });
    Outgoing::json(url.clone(), &body)
}

pub fn discord(url: &url::Url, notification: &Notification) -> Outgoing {
    let body = json!({
        "username": "Berth",
        "embeds": [{
            "title": notification.title,
            "description": notification.text,
            "color": if notification.kind.is_problem() { PROBLEM_COLOUR } else { GOOD_COLOUR },
            "footer": {"text": notification.kind.as_str()}
        }]
    });
    Outgoing::json(url.clone(), &body)
}

pub fn teams(url: &url::Url, notification: &Notification) -> Outgoing {
    let body = json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": [
                    {
                        "type": "TextBlock",
                        "size": "Medium",
                        "weight": "Bolder",
                        "text": notification.title,
                        "wrap": true,
                        "color": if notification.kind.is_problem() { "Attention" } else { "Default" }
                    },
                    {"type": "TextBlock", "text": notification.text, "wrap": true},
                    {"type": "FactSet", "facts": [
                        {"title": "Event", "value": notification.kind.as_str()},
                        {"title": "Subject", "value": notification.subject},
                        {"title": "Version", "value": notification.version}
                    ]}
                ]
            }
        }]
    });
    Outgoing::json(url.clone(), &body)
}
