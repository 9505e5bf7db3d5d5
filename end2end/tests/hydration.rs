//! The first page in real Chromium: the server renders the service list, the WASM hydrates,
//! and a control that only works after hydration answers.

use std::time::{Duration, Instant};

use end2end::{BerthServer, Chromedriver, screenshot_dir};
use fantoccini::{Client, Locator};
use testkit::{Component, require};

#[tokio::test(flavor = "multi_thread")]
async fn first_page_is_server_rendered_then_hydrated() -> anyhow::Result<()> {
    if !require(&[Component::Chromium, Component::Chromedriver]) {
        return Ok(());
    }
    let server = BerthServer::start(&[]);

    // Without JavaScript: the HTML already holds the (empty) service list and its advice.
    let http = server.logged_in_client().await;
    let html = http.get(server.url("/")).send().await?.text().await?;
    assert!(
        html.contains(r#"data-testid="empty-state""#),
        "not server-rendered:\n{html}"
    );
    assert!(
        html.contains("COMPOSE_FILE_PATH_"),
        "the empty state must say what to configure"
    );
    assert!(
        html.contains("/pkg/berth.js"),
        "no hydration script in:\n{html}"
    );
    for (path, content_type) in [
        ("/pkg/berth.wasm", "application/wasm"),
        ("/pkg/berth.js", "javascript"),
        ("/pkg/berth.css", "text/css"),
    ] {
        let response = reqwest::get(server.url(path)).await?;
        assert_eq!(response.status(), 200, "{path}");
        let served = response.headers()["content-type"].to_str()?.to_owned();
        assert!(served.contains(content_type), "{path} served as {served}");
    }

    let driver = Chromedriver::start();
    let client = driver.session().await?;
    // Close the WebDriver session whatever happens, or Chromium outlives the test.
    let outcome = drive(&client, &server).await;
    client.close().await?;
    outcome
}

async fn drive(client: &Client, server: &BerthServer) -> anyhow::Result<()> {
    server.log_in(client).await?;
    let empty = client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(r#"[data-testid="empty-state"]"#))
        .await?;
    assert!(empty.text().await?.contains("not managing any services"));

    // Before hydration the button does nothing; keep clicking until the WASM answers.
    let button = client
        .find(Locator::Css(r#"[data-testid="check-now"]"#))
        .await?;
    let output = client
        .find(Locator::Css(r#"[data-testid="check-result"]"#))
        .await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let answer = loop {
        if button.is_enabled().await? {
            button.click().await?;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let text = output.text().await?;
        if !text.is_empty() {
            break text;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the page never hydrated: Check now did not answer"
        );
    };
    assert!(
        answer.starts_with("Checked 0 service(s) at ") && answer.ends_with(" UTC"),
        "unexpected answer: {answer:?}"
    );
    let png = client.screenshot().await?;
    std::fs::write(screenshot_dir().join("overview-hydrated.png"), png)?;
    Ok(())
}
