//! AWS ECR: `GetAuthorizationToken` through aws-sdk-ecr (access keys, `AWS_ROLE_ARN` role
//! assumption, or the SDK's default chain: instance role, web identity, SSO, profiles). The
//! token is base64 `AWS:<password>`, valid 12 hours. Push times come from `DescribeImages`
//! (`imagePushedAt`).

use aws_config::BehaviorVersion;
use aws_sdk_ecr::config::Region;
use base64::Engine;
use chrono::{DateTime, Utc};

use crate::{Login, PushTimes};

type SdkFailure = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum EcrError {
    #[error("GetAuthorizationToken failed")]
    GetAuthorizationToken {
        #[source]
        source: SdkFailure,
    },
    #[error("GetAuthorizationToken gave an invalid answer: {reason}")]
    DecodeAuthorizationToken { reason: &'static str },
    #[error("DescribeImages of repository {repository} failed")]
    DescribeImages {
        repository: String,
        #[source]
        source: SdkFailure,
    },
}

/// What the ECR client is built from: the env file's AWS keys.
#[derive(Clone, Default)]
pub struct EcrSettings {
    pub region: Option<String>,
    pub role_arn: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    /// An endpoint override (`AWS_ENDPOINT_URL`), for moto or a VPC endpoint.
    pub endpoint_url: Option<String>,
}

impl EcrSettings {
    /// `AWS_REGION` (else the region in `<account>.dkr.ecr.<region>.amazonaws.com`),
    /// `AWS_ROLE_ARN`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
    /// `AWS_ENDPOINT_URL`, read through `var`.
    pub fn from_env(registry: &str, var: impl Fn(&str) -> Option<String>) -> EcrSettings {
        EcrSettings {
            region: var("AWS_REGION").or_else(|| region_of(registry)),
            role_arn: var("AWS_ROLE_ARN"),
            access_key_id: var("AWS_ACCESS_KEY_ID"),
            secret_access_key: var("AWS_SECRET_ACCESS_KEY"),
            session_token: var("AWS_SESSION_TOKEN"),
            endpoint_url: var("AWS_ENDPOINT_URL"),
        }
    }
}

/// `123456789012.dkr.ecr.eu-west-1.amazonaws.com` (or `.com.cn`) → `eu-west-1`.
pub fn region_of(registry: &str) -> Option<String> {
    let parts: Vec<&str> = registry.split('.').collect();
    match parts.as_slice() {
        [_, "dkr", "ecr", region, "amazonaws", "com"]
        | [_, "dkr", "ecr", region, "amazonaws", "com", "cn"] => Some((*region).to_owned()),
        _ => None,
    }
}

/// The HTTPS client for the AWS SDK: rustls with ring, the crypto every other client here
/// uses (the SDK's own default would bring aws-lc as a second one; see the workspace manifest).
pub fn http_client() -> aws_sdk_ecr::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// An ECR client with the settings' region, endpoint and credentials (assuming the role
/// when one is set).
pub async fn client(settings: &EcrSettings) -> aws_sdk_ecr::Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http_client());
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &settings.endpoint_url {
        loader = loader.endpoint_url(endpoint.clone());
    }
    if let (Some(key), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
        loader = loader.credentials_provider(aws_sdk_ecr::config::Credentials::new(
            key.clone(),
            secret.clone(),
            settings.session_token.clone(),
            None,
            "berth-config",
        ));
    }
    let mut sdk_config = loader.load().await;
    if let Some(role_arn) = &settings.role_arn {
        let role = aws_config::sts::AssumeRoleProvider::builder(role_arn.clone())
            .session_name("berth")
            .configure(&sdk_config)
            .build()
            .await;
        sdk_config = sdk_config
            .into_builder()
            .credentials_provider(aws_sdk_ecr::config::SharedCredentialsProvider::new(role))
            .build();
    }
    aws_sdk_ecr::Client::new(&sdk_config)
}

/// The registry login: `AWS` and the token's password, until the token's `expiresAt`.
pub async fn login(client: &aws_sdk_ecr::Client, registry: &str) -> Result<Login, EcrError> {
    let answer = client
        .get_authorization_token()
        .send()
        .await
        .map_err(|error| EcrError::GetAuthorizationToken {
            source: Box::new(error),
        })?;
    let invalid = |reason| EcrError::DecodeAuthorizationToken { reason };
    let data = answer
        .authorization_data()
        .first()
        .ok_or_else(|| invalid("no authorizationData"))?;
    let token = data
        .authorization_token()
        .ok_or_else(|| invalid("no authorizationToken"))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| invalid("authorizationToken is not base64"))?;
    let decoded =
        String::from_utf8(decoded).map_err(|_| invalid("authorizationToken is not UTF-8"))?;
    let (username, password) = decoded
        .split_once(':')
        .ok_or_else(|| invalid("authorizationToken is not user:password"))?;
    // ECR documents 12 hours; without an expiresAt, assume that.
    let expires_at = data
        .expires_at()
        .and_then(|at| DateTime::from_timestamp(at.secs(), at.subsec_nanos()))
        .unwrap_or_else(|| Utc::now() + chrono::Duration::hours(12));
    Ok(Login {
        server_url: registry.to_owned(),
        username: username.to_owned(),
        secret: password.to_owned(),
        expires_at,
    })
}

/// When each tag of `repository` was pushed, over every page of `DescribeImages`.
pub async fn push_times(
    client: &aws_sdk_ecr::Client,
    repository: &str,
) -> Result<PushTimes, EcrError> {
    let mut times = PushTimes::default();
    let mut next_token: Option<String> = None;
    loop {
        let page = client
            .describe_images()
            .repository_name(repository)
            .set_next_token(next_token.take())
            .send()
            .await
            .map_err(|error| EcrError::DescribeImages {
                repository: repository.to_owned(),
                source: Box::new(error),
            })?;
        for detail in page.image_details() {
            let Some(pushed) = detail
                .image_pushed_at()
                .and_then(|at| DateTime::from_timestamp(at.secs(), at.subsec_nanos()))
            else {
                continue;
            };
            for tag in detail.image_tags() {
                times.tags.insert(tag.clone(), pushed);
            }
        }
        match page.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
            _ => return Ok(times),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_comes_from_the_host_unless_configured() {
        let host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
        assert_eq!(region_of(host).as_deref(), Some("eu-west-1"));
        assert_eq!(
            region_of("123.dkr.ecr.cn-north-1.amazonaws.com.cn").as_deref(),
            Some("cn-north-1")
        );
        assert_eq!(region_of("ghcr.io"), None);
        let from_host = EcrSettings::from_env(host, |_| None);
        assert_eq!(from_host.region.as_deref(), Some("eu-west-1"));
        let configured = EcrSettings::from_env(host, |key| {
            (key == "AWS_REGION").then(|| "us-east-2".to_owned())
        });
        assert_eq!(configured.region.as_deref(), Some("us-east-2"));
    }
}
