//! Push services: ntfy (plain-text body with `Title`/`Priority`/`Tags` headers, or its JSON
//! publish when the title is not plain ASCII), Gotify (`POST /message?token=` with
//! `{title, message, priority}`), Telegram (`sendMessage` with `{chat_id, text, parse_mode}`).

use serde_json::json;

use super::Outgoing;
use crate::notify::message::Notification;

pub fn ntfy(
    url: &url::Url,
    credentials: Option<(String, String)>,
    priority: Option<&str>,
    tags: &[String],
    notification: &Notification,
) -> Outgoing {
    let priority = priority.map(str::to_owned).unwrap_or_else(|| {
        if notification.kind.is_problem() {
            "high"
        } else {
            "default"
        }
        .to_owned()
    });
    let mut tags: Vec<String> = tags.to_vec();
    tags.push(
        if notification.kind.is_problem() {
            "warning"
        } else {
            "package"
        }
        .to_owned(),
    );
    tags.push(notification.kind.as_str().to_owned());
    let mut outgoing = if notification.title.is_ascii() {
        Outgoing {
            url: url.clone(),
            headers: vec![
                ("title", notification.title.clone()),
                ("priority", priority),
                ("tags", tags.join(",")),
            ],
            content_type: "text/plain; charset=utf-8",
            body: notification.text.clone().into_bytes(),
            basic_auth: None,
        }
    } else {
        // Headers carry ASCII only; the JSON publish goes to the server's root.
        let (root, topic) = split_topic(url);
        let priority_number = match priority.as_str() {
            "min" | "1" => 1,
            "low" | "2" => 2,
            "high" | "4" => 4,
            "max" | "urgent" | "5" => 5,
            _ => 3,
        };
        Outgoing::json(
            root,
            &json!({
                "topic": topic,
                "title": notification.title,
                "message": notification.text,
                "priority": priority_number,
                "tags": tags,
            }),
        )
    };
    outgoing.basic_auth = credentials;
    outgoing
}

fn split_topic(url: &url::Url) -> (url::Url, String) {
    let topic = url.path().trim_start_matches('/').to_owned();
    let mut root = url.clone();
    root.set_path("/");
    (root, topic)
}

pub fn gotify(
    url: &url::Url,
    token: &str,
    priority: Option<i64>,
    notification: &Notification,
) -> Outgoing {
    let mut url = url.clone();
    url.query_pairs_mut().append_pair("token", token);
    let priority = priority.unwrap_or(if notification.kind.is_problem() { 8 } else { 5 });
    Outgoing::json(
        url,
        &json!({
            "title": notification.title,
            "message": notification.text,
            "priority": priority,
        }),
    )
}

pub fn telegram(url: &url::Url, chat: &str, notification: &Notification) -> Outgoing {
    let text = format!(
        "<b>{}</b>\n{}",
        escape_html(&notification.title),
        escape_html(&notification.text)
    );
    // A numeric chat id goes as a number, a @channel name as a string.
    let chat_id = chat
        .parse::<i64>()
        .map_or_else(|_| json!(chat), |id| json!(id));
    Outgoing::json(
        url.clone(),
        &json!({"chat_id": chat_id, "text": text, "parse_mode": "HTML"}),
    )
}

/// Telegram's HTML mode wants `<`, `>` and `&` escaped.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
