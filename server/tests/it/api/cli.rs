//! `berth token create|list|revoke` as a person runs them: the real binary on a real store.

use std::path::Path;
use std::process::{Command, Output};

use berth::store::Store;

fn berth(env_file: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .arg("--env-file")
        .arg(env_file)
        .args(args)
        .output()
        .expect("running berth")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_is_printed_once_stored_hashed_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("berth.db").display());
    let env = dir.path().join(".updater.env");
    std::fs::write(&env, format!("DATABASE_URL={url}\n")).unwrap();

    let created = berth(&env, &["token", "create", "ci", "--scope", "write"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let secret = text(&created.stdout).trim().to_owned();
    assert!(
        secret.starts_with("berth_") && secret.len() > 40,
        "{secret}"
    );
    assert!(
        text(&created.stderr).contains("shown once"),
        "{}",
        text(&created.stderr)
    );

    let again = berth(&env, &["token", "create", "ci", "--scope", "read"]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("\"ci\" exists already"),
        "{}",
        text(&again.stderr)
    );
    let bad_name = berth(&env, &["token", "create", "my token", "--scope", "read"]);
    assert!(!bad_name.status.success());
    assert!(
        text(&bad_name.stderr).contains("NAME: \"my token\""),
        "{}",
        text(&bad_name.stderr)
    );
    let bad_scope = berth(&env, &["token", "create", "x", "--scope", "admin"]);
    assert!(!bad_scope.status.success());
    assert!(
        text(&bad_scope.stderr).contains("read, write"),
        "{}",
        text(&bad_scope.stderr)
    );

    let listed = text(&berth(&env, &["token", "list"]).stdout);
    assert!(
        listed.contains("ci") && listed.contains("write"),
        "{listed}"
    );
    assert!(
        !listed.contains(&secret),
        "the list never shows a secret: {listed}"
    );
    // The database and its write-ahead log hold only the token's hash.
    for file in std::fs::read_dir(dir.path()).unwrap() {
        let file = file.unwrap().path();
        if file.to_string_lossy().contains("berth.db") {
            let raw = std::fs::read(&file).unwrap();
            assert!(
                !raw.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds the secret",
                file.display()
            );
        }
    }

    let store = Store::open(&url).await.unwrap();
    let now = chrono::Utc::now();
    let token = store.authenticate_api_token(&secret, now).await.unwrap();
    assert_eq!(token.map(|t| t.name).as_deref(), Some("ci"));

    let revoked = berth(&env, &["token", "revoke", "ci"]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    assert!(
        store
            .authenticate_api_token(&secret, now)
            .await
            .unwrap()
            .is_none()
    );
    let listed = text(&berth(&env, &["token", "list"]).stdout);
    let row = listed.lines().find(|l| l.contains(" ci ")).unwrap();
    assert!(
        !row.trim_end().ends_with('-'),
        "the revoke time is listed: {listed}"
    );
    let unknown = berth(&env, &["token", "revoke", "nope"]);
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("\"nope\""),
        "{}",
        text(&unknown.stderr)
    );
    store.close().await;
}
