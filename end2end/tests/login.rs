//! Login in real Chromium: pages send a visitor without a session to the login page, a
//! wrong password is refused (and repeated failures slowed down), server functions and the
//! event stream answer 401 without a session, and logging in lands where the visitor
//! was going.

use std::time::Duration;

use end2end::{ADMIN_EMAIL, ADMIN_PASSWORD, BerthServer, Chromedriver, screenshot_dir};
use fantoccini::{Client, Locator};
use testkit::{Component, require};

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_but_the_login_page_opens_without_a_session() -> anyhow::Result<()> {
    let server = BerthServer::start(&[]);
    let http = no_redirects();

    let page = http.get(server.url("/services/1")).send().await?;
    assert_eq!(page.status(), 303);
    assert_eq!(page.headers()["location"], "/login?next=%2Fservices%2F1");

    for function in [
        "/rpc/checks/run",
        "/rpc/services/list",
        "/rpc/rollbacks/run",
    ] {
        let refused = http.post(server.url(function)).send().await?;
        assert_eq!(refused.status(), 401, "{function}");
        let body = refused.text().await?;
        assert!(body.contains("Unauthorized"), "{function} answered {body}");
    }
    let stream = http.get(server.url("/events")).send().await?;
    assert_eq!(stream.status(), 401);

    // What the login page needs is served without a session.
    for open in ["/login", "/pkg/berth.css", "/healthz"] {
        let response = http.get(server.url(open)).send().await?;
        assert_eq!(response.status(), 200, "{open}");
    }

    // A forged cookie opens nothing.
    let forged = http
        .post(server.url("/rpc/services/list"))
        .header("cookie", "berth_session=forged")
        .send()
        .await?;
    assert_eq!(forged.status(), 401);

    // The session cookie is HttpOnly and SameSite=Strict, and never the password.
    let login = http
        .post(server.url("/login"))
        .form(&[
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
            ("next", "/services/1"),
        ])
        .send()
        .await?;
    assert_eq!(login.status(), 303);
    assert_eq!(login.headers()["location"], "/services/1");
    let cookie = login.headers()["set-cookie"].to_str()?.to_owned();
    assert!(cookie.starts_with("berth_session="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP on localhost: {cookie}"
    );
    let behind_tls = http
        .post(server.url("/login"))
        .header("x-forwarded-proto", "https")
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await?;
    assert!(
        behind_tls.headers()["set-cookie"]
            .to_str()?
            .contains("; Secure")
    );

    // The database holds neither the password nor the session token.
    let session = cookie
        .split(';')
        .next()
        .unwrap_or_default()
        .trim_start_matches("berth_session=");
    let dump = std::fs::read(server.database())?;
    let dump = String::from_utf8_lossy(&dump);
    assert!(!dump.contains(ADMIN_PASSWORD) && !dump.contains(session));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn repeated_wrong_passwords_from_one_address_are_slowed_down() -> anyhow::Result<()> {
    let server = BerthServer::start(&[]);
    let http = no_redirects();
    let mut answers = Vec::new();
    for _ in 0..5 {
        let response = http
            .post(server.url("/login"))
            .form(&[("email", ADMIN_EMAIL), ("password", "guess")])
            .send()
            .await?;
        assert_eq!(response.status(), 303);
        answers.push(response.headers()["location"].to_str()?.to_owned());
    }
    assert!(answers[0].starts_with("/login?error=wrong"), "{answers:?}");
    assert!(
        answers
            .last()
            .is_some_and(|last| last.starts_with("/login?error=throttled")),
        "five quick failures must be slowed down: {answers:?}"
    );
    // While throttled even the right password waits: guessing cannot race the limit.
    let right = http
        .post(server.url("/login"))
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await?;
    assert!(
        right.headers()["location"]
            .to_str()?
            .contains("error=throttled")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_browser_logs_in_is_refused_a_wrong_password_and_logs_out() -> anyhow::Result<()> {
    if !require(&[Component::Chromium, Component::Chromedriver]) {
        return Ok(());
    }
    let server = BerthServer::start(&[]);
    let driver = Chromedriver::start();
    let client = driver.session().await?;
    let outcome = drive(&client, &server).await;
    client.close().await?;
    outcome
}

async fn drive(client: &Client, server: &BerthServer) -> anyhow::Result<()> {
    client.goto(&server.url("/registries")).await?;
    let form = client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(r#"[data-testid="login-form"]"#))
        .await?;
    std::fs::write(
        screenshot_dir().join("login.png"),
        client.screenshot().await?,
    )?;

    let submit = |password: &'static str| async move {
        let form = client
            .find(Locator::Css(r#"[data-testid="login-form"]"#))
            .await?;
        form.find(Locator::Css(r#"input[name="email"]"#))
            .await?
            .send_keys(ADMIN_EMAIL)
            .await?;
        form.find(Locator::Css(r#"input[name="password"]"#))
            .await?
            .send_keys(password)
            .await?;
        form.find(Locator::Css(r#"button[type="submit"]"#))
            .await?
            .click()
            .await?;
        anyhow::Ok(())
    };
    drop(form);
    submit("not the password").await?;
    let message = client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(r#"[data-testid="login-message"]"#))
        .await?;
    assert_eq!(message.text().await?, "Wrong email or password.");
    std::fs::write(
        screenshot_dir().join("login-refused.png"),
        client.screenshot().await?,
    )?;

    // The right password lands on the page the visitor asked for.
    submit(ADMIN_PASSWORD).await?;
    let user = client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(r#"[data-testid="current-user"]"#))
        .await?;
    assert_eq!(user.text().await?, ADMIN_EMAIL);
    assert_eq!(client.current_url().await?.path(), "/registries");
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(r#"[data-testid="no-registries"]"#))
        .await?;

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
    client.goto(&server.url("/")).await?;
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(r#"[data-testid="login-form"]"#))
        .await?;
    Ok(())
}
