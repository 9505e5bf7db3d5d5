//! AWS ECR: `GetAuthorizationToken` through aws-sdk-ecr (access keys, `AWS_ROLE_ARN` role
//! assumption, or the default chain). The token is base64 `AWS:<password>`, valid 12 hours;
//! it is renewed [`RENEW_BEFORE`] ahead of `expiresAt`. Push times come from
//! `DescribeImages` (`imagePushedAt`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_config::BehaviorVersion;
use aws_sdk_ecr::config::Region;
use base64::Engine;
use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;

use super::{AuthError, AuthProvider, PushTimes, VendorHttp};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::registry::reference::ImageRef;
use crate::registry::secret::{Credentials, Secret};

const SERVICE: &str = "AWS ECR";
/// Renew this long before the token expires, so a check never runs on a lapsing token.
pub const RENEW_BEFORE: chrono::Duration = chrono::Duration::hours(1);

/// The HTTPS client for the AWS SDK: rustls with ring, the crypto the rest of Berth uses
/// (the SDK's own default would bring aws-lc as a second one; see the workspace manifest).
pub fn http_client() -> aws_sdk_ecr::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// What the ECR client is built from.
#[derive(Debug, Clone, Default)]
pub struct EcrSettings {
    pub region: Option<String>,
    pub role_arn: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    pub session_token: Option<Secret>,
    /// An endpoint override (`AWS_ENDPOINT_URL`), for moto or a VPC endpoint.
    pub endpoint_url: Option<String>,
}

impl EcrSettings {
    /// `AWS_REGION` (else the region in `<account>.dkr.ecr.<region>.amazonaws.com`),
    /// `AWS_ROLE_ARN`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
    /// `AWS_ENDPOINT_URL`.
    pub fn from_config(registry: &str, config: &Config) -> EcrSettings {
        EcrSettings {
            region: config
                .get("AWS_REGION")
                .map(str::to_owned)
                .or_else(|| region_of(registry)),
            role_arn: config.get("AWS_ROLE_ARN").map(str::to_owned),
            access_key_id: config.get("AWS_ACCESS_KEY_ID").map(str::to_owned),
            secret_access_key: config.get("AWS_SECRET_ACCESS_KEY").map(Secret::new),
            session_token: config.get("AWS_SESSION_TOKEN").map(Secret::new),
            endpoint_url: config.get("AWS_ENDPOINT_URL").map(str::to_owned),
        }
    }
}

/// Whether `registry` is a private ECR registry host.
pub fn is_ecr_host(registry: &str) -> bool {
    region_of(registry).is_some()
}

/// `123456789012.dkr.ecr.eu-west-1.amazonaws.com` → `eu-west-1`.
fn region_of(registry: &str) -> Option<String> {
    let parts: Vec<&str> = registry.split('.').collect();
    match parts.as_slice() {
        [_, "dkr", "ecr", region, "amazonaws", "com" | "com.cn"] => Some((*region).to_owned()),
        [_, "dkr", "ecr", region, "amazonaws", "com", "cn"] => Some((*region).to_owned()),
        _ => None,
    }
}

pub struct EcrCredentials {
    settings: EcrSettings,
    clock: Arc<dyn Clock>,
    client: OnceCell<aws_sdk_ecr::Client>,
    cached: Mutex<Option<(Credentials, DateTime<Utc>)>>,
    token_requests: AtomicUsize,
}

impl EcrCredentials {
    pub fn new(settings: EcrSettings) -> EcrCredentials {
        EcrCredentials::with_clock(settings, Arc::new(SystemClock))
    }

    /// With the clock that decides when the token needs renewing.
    pub fn with_clock(settings: EcrSettings, clock: Arc<dyn Clock>) -> EcrCredentials {
        EcrCredentials {
            settings,
            clock,
            client: OnceCell::new(),
            cached: Mutex::new(None),
            token_requests: AtomicUsize::new(0),
        }
    }

    /// How many `GetAuthorizationToken` calls were made (the cache's effect, for the API).
    pub fn token_requests(&self) -> usize {
        self.token_requests.load(Ordering::SeqCst)
    }

    async fn client(&self) -> &aws_sdk_ecr::Client {
        self.client
            .get_or_init(|| async {
                let settings = &self.settings;
                let mut loader =
                    aws_config::defaults(BehaviorVersion::latest()).http_client(http_client());
                if let Some(region) = &settings.region {
                    loader = loader.region(Region::new(region.clone()));
                }
                if let Some(endpoint) = &settings.endpoint_url {
                    loader = loader.endpoint_url(endpoint.clone());
                }
                if let (Some(key), Some(secret)) =
                    (&settings.access_key_id, &settings.secret_access_key)
                {
                    loader = loader.credentials_provider(aws_sdk_ecr::config::Credentials::new(
                        key.clone(),
                        secret.expose().to_owned(),
                        settings
                            .session_token
                            .as_ref()
                            .map(|token| token.expose().to_owned()),
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
                        .credentials_provider(aws_sdk_ecr::config::SharedCredentialsProvider::new(
                            role,
                        ))
                        .build();
                }
                aws_sdk_ecr::Client::new(&sdk_config)
            })
            .await
    }

    async fn fetch_token(
        &self,
        http: &VendorHttp,
    ) -> Result<(Credentials, DateTime<Utc>), AuthError> {
        self.token_requests.fetch_add(1, Ordering::SeqCst);
        let answer = self.client().await.get_authorization_token().send().await;
        http.count_sdk_call(sdk_status(&answer));
        let answer = answer.map_err(|error| sdk_error(&error))?;
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
        let expires = data
            .expires_at()
            .and_then(|at| DateTime::from_timestamp(at.secs(), at.subsec_nanos()))
            .unwrap_or_else(|| self.clock.now() + chrono::Duration::hours(12));
        let credentials = Credentials::Basic {
            username: username.to_owned(),
            password: Secret::new(password),
        };
        Ok((credentials, expires))
    }
}

fn invalid(reason: &str) -> AuthError {
    AuthError::VendorAnswer {
        service: SERVICE,
        reason: reason.to_owned(),
    }
}

/// The HTTP status of an SDK call: 200 for a success, the answer's status for a service
/// error, none when no answer came.
fn sdk_status<T, E>(
    result: &Result<T, aws_sdk_ecr::error::SdkError<E, aws_sdk_ecr::config::http::HttpResponse>>,
) -> Option<u16> {
    match result {
        Ok(_) => Some(200),
        Err(error) => error
            .raw_response()
            .map(|response| response.status().as_u16()),
    }
}

fn sdk_error(error: &dyn std::error::Error) -> AuthError {
    AuthError::CloudSdk {
        service: SERVICE,
        reason: aws_sdk_ecr::error::DisplayErrorContext(error).to_string(),
    }
}

#[async_trait::async_trait]
impl AuthProvider for EcrCredentials {
    fn name(&self) -> &'static str {
        SERVICE
    }

    async fn credentials(&self, http: &VendorHttp) -> Result<Credentials, AuthError> {
        let fresh = |expires: &DateTime<Utc>| *expires - RENEW_BEFORE > self.clock.now();
        if let Some((credentials, expires)) = self
            .cached
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            && fresh(expires)
        {
            return Ok(credentials.clone());
        }
        let (credentials, expires) = self.fetch_token(http).await?;
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((credentials.clone(), expires));
        Ok(credentials)
    }

    async fn push_times(
        &self,
        http: &VendorHttp,
        image: &ImageRef,
    ) -> Result<Option<PushTimes>, AuthError> {
        let client = self.client().await;
        let mut times = PushTimes::new();
        let mut next_token: Option<String> = None;
        loop {
            let page = client
                .describe_images()
                .repository_name(&image.repository)
                .set_next_token(next_token.take())
                .send()
                .await;
            http.count_sdk_call(sdk_status(&page));
            let page = page.map_err(|error| sdk_error(&error))?;
            for detail in page.image_details() {
                let Some(pushed) = detail
                    .image_pushed_at()
                    .and_then(|at| DateTime::from_timestamp(at.secs(), at.subsec_nanos()))
                else {
                    continue;
                };
                for tag in detail.image_tags() {
                    times.insert(tag.clone(), pushed);
                }
            }
            match page.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => return Ok(Some(times)),
            }
        }
    }
}
