//! Connecting to S3: credentials (keys, instance profile, assumed role, the SDK's chain),
//! endpoint and path style, retry and timeout settings; and what an SDK error means for a job.

use super::*;

/// Where credentials come from (the repository's `aws.s3.*` properties).
#[derive(Clone, PartialEq, Eq)]
pub enum S3Credentials {
    /// `aws.s3.access_key` + `aws.s3.secret_key`.
    Static {
        access_key: String,
        secret_key: String,
    },
    /// `aws.s3.use_instance_profile`: the EC2 instance profile, optionally assuming a role.
    InstanceProfile {
        role_arn: Option<String>,
        external_id: Option<String>,
    },
    /// `aws.s3.iam_role_arn` without an instance profile: assume the role with the SDK's
    /// default credentials.
    AssumeRole {
        role_arn: String,
        external_id: Option<String>,
    },
    /// `aws.s3.use_aws_sdk_default_behavior` (or nothing said): the SDK's default chain.
    DefaultChain,
}

impl std::fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            S3Credentials::Static { .. } => f.write_str("Static(<hidden>)"),
            S3Credentials::InstanceProfile { role_arn, .. } => {
                write!(f, "InstanceProfile(role: {role_arn:?})")
            }
            S3Credentials::AssumeRole { role_arn, .. } => write!(f, "AssumeRole({role_arn})"),
            S3Credentials::DefaultChain => f.write_str("DefaultChain"),
        }
    }
}

/// Everything needed to reach one S3 location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    /// Key prefix inside the bucket, without leading or trailing `/`.
    pub prefix: String,
    /// A custom endpoint (`http://host:port`); `None` is AWS.
    pub endpoint: Option<String>,
    pub region: String,
    pub path_style: bool,
    pub credentials: S3Credentials,
}

impl S3Store {
    /// Builds the client (credential providers are resolved lazily, at the first request).
    /// A client for the bucket; multipart uploads are noted in `journal` while open.
    pub async fn connect(settings: &S3Settings, context: &StoreContext) -> Self {
        let tuning = context.tuning;
        let region = Region::new(settings.region.clone());
        let credentials = credentials_provider(&settings.credentials, region.clone()).await;
        let mut builder = aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(region)
            .credentials_provider(credentials)
            .force_path_style(settings.path_style)
            .interceptor(RetryCounter(context.retries.clone()))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(5)
                    .with_initial_backoff(Duration::from_millis(100))
                    .with_max_backoff(Duration::from_secs(5)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .read_timeout(Duration::from_secs(60))
                    .operation_attempt_timeout(Duration::from_secs(300))
                    .build(),
            );
        if let Some(endpoint) = &settings.endpoint {
            // Many S3-compatible stores reject the SDK's default CRC trailers.
            builder = builder
                .endpoint_url(endpoint)
                .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
                .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        }
        S3Store {
            client: Client::from_conf(builder.build()),
            settings: settings.clone(),
            bucket: settings.bucket.clone(),
            prefix: settings.prefix.clone(),
            download_slots: std::sync::Arc::new(tokio::sync::Semaphore::new(
                tuning.download_parts_in_flight.max(1),
            )),
            tuning,
            journal: context.journal.clone(),
            retries: context.retries.clone(),
        }
    }
}

/// Counts the SDK's retries for `/metrics`: every attempt of a request after its first.
#[derive(Debug)]
struct RetryCounter(prometheus::IntCounter);

impl Intercept for RetryCounter {
    fn name(&self) -> &'static str {
        "snaprock-retry-counter"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg
            .load::<RequestAttempts>()
            .is_some_and(|a| a.attempts() > 1)
        {
            self.0.inc();
        }
        Ok(())
    }
}

fn assume_role_builder(
    role_arn: &str,
    external_id: &Option<String>,
    region: Region,
) -> aws_config::sts::AssumeRoleProviderBuilder {
    let builder = aws_config::sts::AssumeRoleProvider::builder(role_arn)
        .region(region)
        .session_name("snaprock");
    match external_id {
        Some(id) => builder.external_id(id),
        None => builder,
    }
}

/// Turns an SDK error into a clear, secret-free storage error.
pub(super) fn classify<E>(bucket: &str, what: &str, err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            StoreError::Unreachable(format!("{what}: {}", DisplayErrorContext(&err)))
        }
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().unwrap_or_default().to_string();
            match (code.as_str(), status) {
                ("NoSuchBucket", _) => StoreError::NoBucket(bucket.to_string()),
                ("NoSuchKey" | "NotFound", _) | (_, 404) => StoreError::NotFound(what.to_string()),
                (
                    "AccessDenied"
                    | "InvalidAccessKeyId"
                    | "SignatureDoesNotMatch"
                    | "InvalidToken"
                    | "ExpiredToken"
                    | "InvalidSecurity",
                    _,
                )
                | (_, 401 | 403) => StoreError::Denied(if code.is_empty() {
                    format!("HTTP {status}")
                } else {
                    code
                }),
                _ => StoreError::Other(format!(
                    "{what}: {} (HTTP {status}){}",
                    if code.is_empty() { "error" } else { &code },
                    service
                        .err()
                        .message()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                )),
            }
        }
        _ => StoreError::Other(format!("{what}: {}", DisplayErrorContext(&err))),
    }
}

async fn credentials_provider(
    credentials: &S3Credentials,
    region: Region,
) -> SharedCredentialsProvider {
    use aws_config::default_provider::credentials::DefaultCredentialsChain;
    use aws_config::imds::credentials::ImdsCredentialsProvider;
    match credentials {
        S3Credentials::Static {
            access_key,
            secret_key,
        } => SharedCredentialsProvider::new(Credentials::new(
            access_key,
            secret_key,
            None,
            None,
            "snaprock-repository",
        )),
        S3Credentials::InstanceProfile { role_arn: None, .. } => {
            SharedCredentialsProvider::new(ImdsCredentialsProvider::builder().build())
        }
        S3Credentials::InstanceProfile {
            role_arn: Some(role_arn),
            external_id,
        } => SharedCredentialsProvider::new(
            assume_role_builder(role_arn, external_id, region)
                .build_from_provider(ImdsCredentialsProvider::builder().build())
                .await,
        ),
        S3Credentials::AssumeRole {
            role_arn,
            external_id,
        } => {
            let base = DefaultCredentialsChain::builder()
                .region(region.clone())
                .build()
                .await;
            SharedCredentialsProvider::new(
                assume_role_builder(role_arn, external_id, region)
                    .build_from_provider(base)
                    .await,
            )
        }
        S3Credentials::DefaultChain => SharedCredentialsProvider::new(
            DefaultCredentialsChain::builder()
                .region(region)
                .build()
                .await,
        ),
    }
}
