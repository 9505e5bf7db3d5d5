//! `berth-credential-helper ecr …`, the program itself, against `moto_server` with the real
//! aws-sdk-ecr and an endpoint override: the login (keys, and an assumed role), push times,
//! and the errors a user reads.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use berth_credential_helper::{Login, PushTimes, ecr};
use testkit::moto::{self, Moto};

const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/// Run the helper with `args`, the AWS keys of `moto` plus `extra`, and `input` on stdin.
fn helper(moto: &Moto, args: &[&str], extra: &[(&str, &str)], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth-credential-helper"))
        .args(args)
        .envs(moto.aws_keys())
        .envs(extra.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting berth-credential-helper");
    let written = child.stdin.take().unwrap().write_all(input.as_bytes());
    // A usage error exits before reading stdin; its answer is what the test reads.
    if let Err(error) = written {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    child.wait_with_output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn get_prints_the_decoded_token_with_its_expiry() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let output = helper(
        &moto,
        &["ecr", "get"],
        &[],
        &format!("https://{REGISTRY}\n"),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let login: Login = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(login.server_url, REGISTRY);
    assert_eq!(login.username, "AWS", "the token decodes to AWS:<password>");
    assert!(!login.secret.is_empty());
    assert_eq!(login.expires_at, moto::token_expiry(), "ECR's expiresAt");

    let role = helper(
        &moto,
        &["ecr", "get"],
        &[(
            "AWS_ROLE_ARN",
            "arn:aws:iam::123456789012:role/berth-reader",
        )],
        REGISTRY,
    );
    assert!(
        role.status.success(),
        "STS AssumeRole, then the token: {}",
        stderr(&role)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_times_come_from_describe_images() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    push_to_moto(&moto, "team/app", &["1.0", "1.1"]).await;
    let query = format!(r#"{{"ServerURL":"{REGISTRY}","Repository":"team/app"}}"#);
    let output = helper(&moto, &["ecr", "push-times"], &[], &query);
    assert!(output.status.success(), "{}", stderr(&output));
    let times: PushTimes = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(times.tags.keys().collect::<Vec<_>>(), ["1.0", "1.1"]);
    let now = chrono::Utc::now() + chrono::Duration::seconds(5);
    assert!(
        times
            .tags
            .values()
            .all(|pushed| *pushed >= before && *pushed <= now)
    );

    let query = format!(r#"{{"ServerURL":"{REGISTRY}","Repository":"nothing"}}"#);
    let missing = helper(&moto, &["ecr", "push-times"], &[], &query);
    assert!(!missing.status.success());
    let said = stderr(&missing);
    assert!(
        said.contains("DescribeImages of repository nothing failed")
            && said.contains("RepositoryNotFoundException"),
        "the operation, the repository and AWS's reason: {said}"
    );
}

#[test]
fn bad_input_is_refused_by_name() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let not_json = helper(&moto, &["ecr", "push-times"], &[], "team/app");
    assert!(!not_json.status.success());
    assert!(
        stderr(&not_json).contains(r#"stdin is not {"ServerURL", "Repository"} JSON"#),
        "{}",
        stderr(&not_json)
    );
    let gcp_push_times = helper(&moto, &["gcp", "push-times"], &[], "{}");
    assert!(!gcp_push_times.status.success());
    assert!(
        stderr(&gcp_push_times).contains("only ECR has an API for push times"),
        "{}",
        stderr(&gcp_push_times)
    );
    let unknown = helper(&moto, &["quay", "get"], &[], "quay.io");
    assert_eq!(unknown.status.code(), Some(2), "clap's usage error");
    assert!(stderr(&unknown).contains("invalid value 'quay'"));
}

async fn push_to_moto(moto: &Moto, repository: &str, tags: &[&str]) {
    let settings = ecr::EcrSettings::from_env(REGISTRY, |key| {
        moto.aws_keys()
            .into_iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| value)
    });
    let client = ecr::client(&settings).await;
    client
        .create_repository()
        .repository_name(repository)
        .send()
        .await
        .expect("CreateRepository");
    for (n, tag) in tags.iter().enumerate() {
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2, "digest": format!("sha256:{:064x}", n + 1)},
            "layers": [],
        });
        client
            .put_image()
            .repository_name(repository)
            .image_manifest(manifest.to_string())
            .image_tag(*tag)
            .send()
            .await
            .expect("PutImage");
    }
}
