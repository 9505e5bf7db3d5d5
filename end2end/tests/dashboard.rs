//! The dashboard against a real registry and a real compose project: a new tag and "Check
//! now" turn the badge Deploying… then Synced without a reload, and Rollback on the service
//! page brings the older version back with the newer tag ignored, even when the browser
//! leaves the page while the rollback runs.

use std::time::{Duration, Instant};

use end2end::{ADMIN_EMAIL, BerthServer, Chromedriver, ComposeProject, screenshot_dir};
use fantoccini::{Client, Locator};
use testkit::{Component, ImageSpec, Registry, require};

const BADGE: &str = r#"[data-service="app"] [data-testid="state-badge"]"#;

#[tokio::test(flavor = "multi_thread")]
async fn check_now_deploys_live_and_rollback_restores_the_older_tag() -> anyhow::Result<()> {
    if !require(&[
        Component::Chromium,
        Component::Chromedriver,
        Component::Docker,
        Component::Compose,
        Component::DockerRegistry,
        Component::Skopeo,
        Component::BusyboxStatic,
    ]) {
        return Ok(());
    }
    let registry = Registry::start();
    let push = |tag: &str| {
        registry.push_image("team/app", tag, &ImageSpec::new(format!("app {tag}")));
    };
    push("1.0.0");
    let compose = format!(
        "services:\n  app:\n    image: {}/team/app:1.0.0\n    restart: \"no\"\n",
        registry.host()
    );
    let project = ComposeProject::up(&format!("berthe2e{}", std::process::id()), &compose);
    let server = BerthServer::start_with_env_file_lines(
        &[],
        &format!(
            "COMPOSE_FILE_PATH_DASH={}\nDOCKERHUB_REPOSITORY_MAP_DASH=app=team/app\n\
             HEALTH_STABLE=2\nHEALTH_TIMEOUT=30\n",
            project.compose_file.display()
        ),
    );
    // A first check records the service as it runs (1.0.0, nothing newer yet).
    let http = server.logged_in_client().await;
    let first = http.post(server.url("/rpc/checks/run")).send().await?;
    anyhow::ensure!(
        first.status().is_success(),
        "first check: {}",
        first.text().await?
    );

    let driver = Chromedriver::start();
    let client = driver.session().await?;
    // Close the WebDriver session whatever happens, or Chromium outlives the test.
    let outcome = drive(&client, &server, &http, &push).await;
    client.close().await?;
    outcome
}

async fn drive(
    client: &Client,
    server: &BerthServer,
    http: &reqwest::Client,
    push: &dyn Fn(&str),
) -> anyhow::Result<()> {
    server.log_in(client).await?;
    let badge = client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(BADGE))
        .await?;
    assert_eq!(badge.text().await?, "Synced");

    // Record every text the badge shows, and mark the window: a reload would lose both.
    client
        .execute(
            r#"window.__berthNoReload = true;
               window.__badgeTexts = [];
               const seen = () => {
                 const badge = document.querySelector(arguments[0]);
                 const text = badge ? badge.textContent : "";
                 if (window.__badgeTexts[window.__badgeTexts.length - 1] !== text) window.__badgeTexts.push(text);
               };
               new MutationObserver(seen).observe(document.body, {subtree: true, childList: true, characterData: true});"#,
            vec![BADGE.into()],
        )
        .await?;
    push("1.1.0");
    click_when_hydrated(
        client,
        r#"[data-testid="check-now"]"#,
        r#"[data-testid="check-result"]"#,
    )
    .await?;

    wait_for_synced_card(client, "1.1.0").await?;
    let texts = client
        .execute("return window.__badgeTexts;", vec![])
        .await?;
    let no_reload = client
        .execute("return window.__berthNoReload === true;", vec![])
        .await?;
    assert_eq!(no_reload, serde_json::json!(true), "the page was reloaded");
    let texts: Vec<String> = serde_json::from_value(texts)?;
    let deploying = texts.iter().position(|t| t == "Deploying…");
    assert!(
        deploying.is_some_and(|at| texts[at..].iter().any(|t| t == "Synced")),
        "the badge must go Deploying… then Synced; it showed {texts:?}"
    );
    std::fs::write(
        screenshot_dir().join("dashboard-overview.png"),
        client.screenshot().await?,
    )?;

    // The service page, reached by the card's link.
    client
        .find(Locator::Css(r#"[data-service="app"] h2 a"#))
        .await?
        .click()
        .await?;
    let rollback = client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(r#"[data-testid="rollback"][data-to="1.0.0"]"#))
        .await?;
    let running = client
        .find(Locator::Css(r#"tbody.running[data-tag="1.1.0"]"#))
        .await?;
    assert!(running.text().await?.contains("Running"));
    rollback.click().await?;

    // Navigate away at once: the browser drops the rollback's request while compose is still
    // stopping the old container. The rollout is the server's own task, so it goes on.
    let service_path = client.current_url().await?.path().to_owned();
    client.goto(&server.url("/")).await?;
    wait_for_synced_card(client, "1.0.0").await?;
    client.goto(&server.url(&service_path)).await?;
    let restored = client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(
            r#"tbody.running[data-tag="1.0.0"][data-verdict="verified"]"#,
        ))
        .await?;
    let row = restored.text().await?;
    assert!(
        row.contains("Running") && row.contains("(rollback)") && row.contains(ADMIN_EMAIL),
        "the rollback row: {row:?}"
    );
    let ignored = client
        .find(Locator::Css(
            r#"[data-testid="ignored-tags"] li[data-tag="1.1.0"]"#,
        ))
        .await?;
    assert!(ignored.text().await?.contains("Un-ignore 1.1.0"));
    // Reading needs no WASM: the server renders the same page in its first response.
    let path = client.current_url().await?.path().to_owned();
    let html = http.get(server.url(&path)).send().await?.text().await?;
    for expected in [
        r#"data-testid="revisions""#,
        r#"data-testid="ignored-tags""#,
        r#"data-tag="1.1.0""#,
        "Running",
    ] {
        assert!(
            html.contains(expected),
            "{path} without JavaScript lacks {expected}"
        );
    }
    std::fs::write(
        screenshot_dir().join("dashboard-service.png"),
        client.screenshot().await?,
    )?;

    // Logout ends the session: the browser's cookie no longer opens anything.
    let cookie = client.get_named_cookie("berth_session").await?;
    let session = format!("berth_session={}", cookie.value());
    client
        .find(Locator::Css(r#"[data-testid="logout"]"#))
        .await?
        .click()
        .await?;
    let message = client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(r#"[data-testid="login-message"]"#))
        .await?;
    assert_eq!(message.text().await?, "You have logged out.");
    let replayed = reqwest::Client::new()
        .post(server.url("/rpc/services/list"))
        .header("cookie", session)
        .send()
        .await?;
    assert_eq!(replayed.status(), 401, "a logged-out session still worked");
    Ok(())
}

/// Wait until the overview's card shows the service Synced at `tag`, live (no reload); a
/// card that shows "Out of sync" fails at once.
async fn wait_for_synced_card(client: &Client, tag: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let badge = client.find(Locator::Css(BADGE)).await?.text().await?;
        let image = client
            .find(Locator::Css(r#"[data-service="app"] .image"#))
            .await?
            .text()
            .await?;
        if badge == "Synced" && image.ends_with(&format!(":{tag}")) {
            return Ok(());
        }
        anyhow::ensure!(
            badge != "Out of sync" && Instant::now() < deadline,
            "the card never showed Synced at {tag} (badge {badge:?}, image {image:?})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Before hydration a button does nothing; click until `output` says something.
async fn click_when_hydrated(client: &Client, button: &str, output: &str) -> anyhow::Result<()> {
    let button = client.find(Locator::Css(button)).await?;
    let output = client.find(Locator::Css(output)).await?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if button.is_enabled().await? && output.text().await?.is_empty() {
            button.click().await?;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let text = output.text().await?;
        if !text.is_empty() {
            anyhow::ensure!(text.starts_with("Checked "), "Check now answered {text:?}");
            return Ok(());
        }
        anyhow::ensure!(Instant::now() < deadline, "Check now never answered");
    }
}
