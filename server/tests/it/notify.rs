//! Notifications: each kind reaches each channel in its documented format, once
//! per service and version, across cycles and restarts; failed sends are retried; a dead
//! receiver never holds up the engine.

mod receiver;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth::clock::SystemClock;
use berth::config::Config;
use berth::engine::Action;
use berth::events::{Event, EventBus};
use berth::notify::{self, NotifierHandle};
use berth::store::Store;
use hmac::{Hmac, Mac};
use receiver::{HangingReceiver, HttpReceiver, Received, SmtpReceiver};
use serde_json::Value;
use sha2::Sha256;
use testkit::Registry;
use tokio_util::sync::CancellationToken;

use crate::deploy::harness::{Project, components_present, engine, env_file, push};

const COMPOSE: &str =
    "services:\n  app:\n    image: {registry}/team/app:1.0.0\n    restart: \"no\"\n";

/// One event of every kind people are told about, for service 7 (`shop/web`).
fn one_of_each() -> Vec<Event> {
    let (project, service) = ("shop".to_owned(), "web".to_owned());
    vec![
        Event::UpdateAvailable {
            service_id: 7,
            project: project.clone(),
            service: service.clone(),
            current_tag: "1.0.0".into(),
            candidate_tag: "1.1.0".into(),
            candidate_digest: None,
            mode: "notify".into(),
        },
        Event::DeployStarted {
            service_id: 7,
            revision_id: 1,
            project: project.clone(),
            service: service.clone(),
            from_tag: Some("1.0.0".into()),
            to_tag: "1.1.0".into(),
            kind: "deploy".into(),
            actor: "berth".into(),
        },
        Event::DeployFinished {
            service_id: 7,
            revision_id: 1,
            tag: "1.1.0".into(),
            verdict: "verified".into(),
            reason: None,
            kind: "deploy".into(),
            actor: "berth".into(),
            project: project.clone(),
            service: service.clone(),
            digest: Some("sha256:aa".into()),
        },
        Event::DeployFinished {
            service_id: 7,
            revision_id: 2,
            tag: "1.2.0".into(),
            verdict: "rolled_back".into(),
            reason: Some("verification: the container restarted".into()),
            kind: "deploy".into(),
            actor: "berth".into(),
            project: project.clone(),
            service: service.clone(),
            digest: None,
        },
        Event::DeployFinished {
            service_id: 7,
            revision_id: 3,
            tag: "1.0.0".into(),
            verdict: "verified".into(),
            reason: None,
            kind: "rollback".into(),
            actor: "alice@example.com".into(),
            project: project.clone(),
            service: service.clone(),
            digest: None,
        },
        Event::ScanFindings {
            service_id: 7,
            project,
            service,
            image: "registry.example.com/shop/web:1.1.0".into(),
            critical: 1,
            high: 2,
            medium: 0,
            low: 4,
            unknown: 0,
            new_findings: 2,
        },
        Event::RegistryAuthFailed {
            registry: "registry.example.com".into(),
            error: "credentials were refused (HTTP 401)".into(),
        },
    ]
}

const KINDS: [&str; 7] = [
    "update_available",
    "deploy_started",
    "deploy_verified",
    "deploy_failed",
    "rollback",
    "scan_findings",
    "registry_auth_failed",
];

fn config(pairs: &[(&str, String)]) -> Config {
    let values: BTreeMap<String, String> = pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), value.clone()))
        .collect();
    Config::from_sources(PathBuf::from(".updater.env"), values, Vec::new()).unwrap()
}

async fn open_store(dir: &Path) -> Store {
    Store::open(&format!("sqlite://{}", dir.join("berth.db").display()))
        .await
        .unwrap()
}

fn start(config: &Config, events: &EventBus, store: &Store) -> (NotifierHandle, CancellationToken) {
    let shutdown = CancellationToken::new();
    let handle = notify::start(
        config,
        events,
        store.clone(),
        Arc::new(SystemClock),
        shutdown.clone(),
    )
    .unwrap()
    .expect("channels are configured");
    (handle, shutdown)
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[tokio::test(flavor = "multi_thread")]
async fn each_kind_reaches_each_channel_in_its_documented_format_once() {
    let hook = HttpReceiver::start(0).await;
    let slack = HttpReceiver::start(0).await;
    let discord = HttpReceiver::start(0).await;
    let teams = HttpReceiver::start(0).await;
    let ntfy = HttpReceiver::start(0).await;
    let gotify = HttpReceiver::start(0).await;
    let telegram = HttpReceiver::start(0).await;
    let smtp = SmtpReceiver::start().await;
    let config = config(&[
        (
            "NOTIFY_HOOK_URL",
            format!("generic+{}/hook?team=ops", hook.base()),
        ),
        ("NOTIFY_HOOK_SECRET", "s3cret".into()),
        (
            "NOTIFY_SLACK_URL",
            format!("slack://T0/B1/X2?api_base={}", slack.base()),
        ),
        (
            "NOTIFY_DISCORD_URL",
            format!("discord://tok@42?api_base={}", discord.base()),
        ),
        (
            "NOTIFY_TEAMS_URL",
            format!("teams+{}/workflows/run", teams.base()),
        ),
        (
            "NOTIFY_NTFY_URL",
            format!("ntfy://{}/berth?scheme=http", ntfy.addr),
        ),
        (
            "NOTIFY_GOTIFY_URL",
            format!("gotify://{}/Atoken?disabletls=yes", gotify.addr),
        ),
        (
            "NOTIFY_TG_URL",
            format!(
                "telegram://123:ABC@telegram?chats=@ops,42&api_base={}",
                telegram.base()
            ),
        ),
        (
            "NOTIFY_MAIL_URL",
            format!(
                "smtp://{}/?from=berth@example.com&to=ops@example.com&tls=none",
                smtp.addr
            ),
        ),
    ]);
    let state = tempfile::tempdir().unwrap();
    let store = open_store(state.path()).await;
    let events = EventBus::default();
    let (handle, _shutdown) = start(&config, &events, &store);
    for event in one_of_each() {
        events.publish(event);
    }
    events.publish(Event::CheckFinished {
        at: chrono::Utc::now(),
        services_checked: 1,
        duration_ms: 5,
    });
    handle.flush().await;

    // Generic webhook: JSON with the event's kind, signed over the exact body.
    let received = hook.requests();
    let kinds: Vec<String> = received
        .iter()
        .map(|r| r.json()["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds, KINDS,
        "one of each, in order, and nothing for check_finished"
    );
    for request in &received {
        assert_eq!(
            request.uri, "/hook?team=ops",
            "the webhook's own query is kept, the secret is not"
        );
        let expected = format!("sha256={}", hmac_hex("s3cret", &request.body));
        assert_eq!(
            request.header("x-berth-signature-256"),
            Some(expected.as_str())
        );
        assert_eq!(
            request.json()["details"]["service_id"].as_i64().is_some(),
            request.json()["event"] != "registry_auth_failed"
        );
    }
    let update = received[0].json();
    assert_eq!(update["subject"], "shop/web");
    assert_eq!(update["version"], "1.1.0");
    assert!(update["text"].as_str().unwrap().contains("1.1.0"));

    // Slack: an incoming-webhook body with `text` and Block Kit blocks.
    let requests = slack.requests();
    assert_eq!(requests.len(), 7);
    for request in &requests {
        assert_eq!(request.uri, "/services/T0/B1/X2");
        let body = request.json();
        assert!(body["text"].as_str().is_some_and(|t| !t.is_empty()));
        assert_eq!(body["blocks"][0]["type"], "header");
        assert_eq!(body["blocks"][1]["text"]["type"], "mrkdwn");
    }
    assert!(
        requests[3].json()["text"]
            .as_str()
            .unwrap()
            .contains("rolled back")
    );

    // Discord: an embed per message, red for problems.
    let requests = discord.requests();
    assert_eq!(requests.len(), 7);
    for request in &requests {
        assert_eq!(request.uri, "/api/webhooks/42/tok");
        let embed = &request.json()["embeds"][0];
        assert!(embed["title"].as_str().is_some() && embed["description"].as_str().is_some());
        assert!(embed["color"].as_u64().is_some());
    }

    // Teams: an Adaptive Card inside a `message` attachment.
    let requests = teams.requests();
    assert_eq!(requests.len(), 7);
    for request in &requests {
        assert_eq!(request.uri, "/workflows/run");
        let body = request.json();
        assert_eq!(body["type"], "message");
        let attachment = &body["attachments"][0];
        assert_eq!(
            attachment["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(attachment["content"]["type"], "AdaptiveCard");
        assert_eq!(attachment["content"]["body"][0]["type"], "TextBlock");
    }

    // ntfy: plain-text body, Title/Priority/Tags headers.
    let requests = ntfy.requests();
    assert_eq!(requests.len(), 7);
    for (request, kind) in requests.iter().zip(KINDS) {
        assert_eq!(request.uri, "/berth");
        assert!(request.header("title").is_some_and(|t| !t.is_empty()));
        assert!(
            request.header("tags").is_some_and(|t| t.contains(kind)),
            "{request:?}"
        );
        assert!(!request.text().is_empty());
    }
    assert_eq!(requests[0].header("priority"), Some("default"));
    assert_eq!(
        requests[3].header("priority"),
        Some("high"),
        "a failed deploy is louder"
    );

    // Gotify: POST /message?token= with {title, message, priority}.
    let requests = gotify.requests();
    assert_eq!(requests.len(), 7);
    for request in &requests {
        assert_eq!(request.uri, "/message?token=Atoken");
        let body = request.json();
        assert!(body["title"].is_string() && body["message"].is_string());
        assert!(body["priority"].is_i64());
    }

    // Telegram: sendMessage per chat, HTML parse mode.
    let requests = telegram.requests();
    assert_eq!(requests.len(), 14, "7 messages to each of 2 chats");
    for request in &requests {
        assert_eq!(request.uri, "/bot123:ABC/sendMessage");
        let body = request.json();
        assert_eq!(body["parse_mode"], "HTML");
        assert!(body["text"].as_str().unwrap().starts_with("<b>"));
    }
    let chats: Vec<Value> = requests
        .iter()
        .map(|r| r.json()["chat_id"].clone())
        .collect();
    assert!(chats.contains(&Value::from("@ops")) && chats.contains(&Value::from(42)));

    // Email: RFC 5322 messages with the title as subject.
    let messages = smtp.messages();
    assert_eq!(messages.len(), 7);
    for message in &messages {
        assert!(message.contains("From: berth@example.com"), "{message}");
        assert!(message.contains("To: ops@example.com"), "{message}");
        assert!(message.contains("Subject: [Berth] "), "{message}");
    }
    assert!(
        messages[1].contains("Deploying shop/web"),
        "{}",
        messages[1]
    );

    // The same events again: nothing new is sent anywhere.
    for event in one_of_each() {
        events.publish(event);
    }
    handle.flush().await;
    assert_eq!(hook.requests().len(), 7);
    assert_eq!(telegram.requests().len(), 14);
    assert_eq!(smtp.messages().len(), 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_that_fails_twice_gets_it_on_the_third_attempt() {
    let flaky = HttpReceiver::start(2).await;
    let config = config(&[
        ("NOTIFY_FLAKY_URL", format!("generic+{}/hook", flaky.base())),
        ("NOTIFY_BACKOFF", "50ms".into()),
    ]);
    let state = tempfile::tempdir().unwrap();
    let store = open_store(state.path()).await;
    let events = EventBus::default();
    let (handle, _shutdown) = start(&config, &events, &store);
    let started = Instant::now();
    events.publish(one_of_each().remove(0));
    handle.flush().await;
    let requests = flaky.requests();
    println!(
        "delivered on attempt {} after {:?} (backoff 50ms, doubling)",
        requests.len(),
        started.elapsed()
    );
    assert_eq!(requests.len(), 3, "two 500s, then the delivery");
    assert!(requests.windows(2).all(|pair| pair[0].body == pair[1].body));
    // Delivered, so it is remembered: the same event is not sent again.
    events.publish(one_of_each().remove(0));
    handle.flush().await;
    assert_eq!(flaky.requests().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_send_that_never_succeeds_is_given_up_and_may_go_out_later() {
    let down = HttpReceiver::start(usize::MAX).await;
    let config = config(&[
        ("NOTIFY_DOWN_URL", format!("generic+{}/hook", down.base())),
        ("NOTIFY_BACKOFF", "20ms".into()),
        ("NOTIFY_RETRIES", "3".into()),
    ]);
    let state = tempfile::tempdir().unwrap();
    let store = open_store(state.path()).await;
    let events = EventBus::default();
    let (handle, _shutdown) = start(&config, &events, &store);
    events.publish(one_of_each().remove(0));
    handle.flush().await;
    assert_eq!(
        down.requests().len(),
        3,
        "NOTIFY_RETRIES bounds the attempts"
    );
    // Not delivered, so not remembered: the next cycle's event tries again.
    events.publish(one_of_each().remove(0));
    handle.flush().await;
    assert_eq!(down.requests().len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn update_available_is_sent_once_across_cycles_and_a_restart() {
    if !components_present() {
        return;
    }
    let hook = HttpReceiver::start(0).await;
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let project = Project::new("notifyonce", COMPOSE, &registry.host());
    project.up();
    push(&registry, "1.1.0");
    let state = tempfile::tempdir().unwrap();
    let extra = format!(
        "UPDATE_MODE=notify\nNOTIFY_HOOK_URL=generic+{}/hook\n",
        hook.base()
    );
    let env = env_file(state.path(), "NOTIFYONCE", &project.compose_file, &extra);
    let updates = |hook: &HttpReceiver| -> Vec<String> {
        hook.requests()
            .iter()
            .map(Received::json)
            .filter(|body| body["event"] == "update_available")
            .map(|body| body["version"].as_str().unwrap().to_owned())
            .collect()
    };

    {
        let (engine, store) = engine(&env, state.path()).await;
        let config = Config::load(Some(&env)).unwrap();
        let (handle, shutdown) = start(&config, engine.events(), &store);
        for _ in 0..3 {
            let report = engine.check_all(false).await.unwrap();
            assert_eq!(
                report.services[0].action,
                Action::Notify {
                    tag: "1.1.0".into()
                }
            );
        }
        handle.flush().await;
        assert_eq!(updates(&hook), ["1.1.0"], "three cycles, one notification");
        shutdown.cancel();
        store.close().await;
    }

    // A new process: a new engine, store pool and notifier on the same database file.
    let (engine, store) = engine(&env, state.path()).await;
    let config = Config::load(Some(&env)).unwrap();
    let (handle, _shutdown) = start(&config, engine.events(), &store);
    engine.check_all(false).await.unwrap();
    handle.flush().await;
    assert_eq!(updates(&hook), ["1.1.0"], "a restart does not resend");

    // A newer version is news again.
    push(&registry, "1.2.0");
    engine.check_all(false).await.unwrap();
    handle.flush().await;
    assert_eq!(updates(&hook), ["1.1.0", "1.2.0"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deploy_is_told_and_a_dead_receiver_does_not_delay_the_cycle() {
    if !components_present() {
        return;
    }
    let hook = HttpReceiver::start(0).await;
    let dead = HangingReceiver::start().await;
    let registry = Registry::start();
    push(&registry, "1.0.0");
    let project = Project::new("notifydeploy", COMPOSE, &registry.host());
    project.up();
    push(&registry, "1.1.0");
    let state = tempfile::tempdir().unwrap();
    let extra = format!(
        "NOTIFY_HOOK_URL=generic+{}/hook\nNOTIFY_DEAD_URL=generic+http://{}/hook\n",
        hook.base(),
        dead.addr
    );
    let env = env_file(state.path(), "NOTIFYDEPLOY", &project.compose_file, &extra);
    let (engine, store) = engine(&env, state.path()).await;
    let config = Config::load(Some(&env)).unwrap();
    let (handle, _shutdown) = start(&config, engine.events(), &store);

    let started = Instant::now();
    let report = engine.check_all(false).await.unwrap();
    let cycle = started.elapsed();
    assert_eq!(
        report.services[0].action,
        Action::Deployed {
            tag: "1.1.0".into()
        }
    );
    // The dead channel is still stuck on its first send (10 s timeout, then retries), yet
    // the cycle, deploy included, has finished.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), handle.flush())
            .await
            .is_err(),
        "the dead receiver should still hold its notification"
    );
    println!(
        "check cycle with a deploy took {cycle:?} with a hanging receiver ({} connection(s) held open)",
        dead.connections()
    );
    // The live channel was told in order, without waiting for the dead one.
    let deadline = Instant::now() + Duration::from_secs(30);
    let kinds = loop {
        let kinds: Vec<String> = hook
            .requests()
            .iter()
            .map(|r| r.json()["event"].as_str().unwrap().to_owned())
            .collect();
        if kinds.len() >= 3 || Instant::now() > deadline {
            break kinds;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        kinds,
        ["update_available", "deploy_started", "deploy_verified"]
    );
}
