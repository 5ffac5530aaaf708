//! AWS clients for one stack, built once from the standard aws-config chain,
//! plus the error type every resource module maps SDK errors into.

use std::error::Error as StdError;
use std::fmt;

use aws_credential_types::provider::error::CredentialsError;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};

/// Where to talk to AWS; all optional, the standard chain fills the rest.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// One client per service, plus the account and region every ARN is made of.
#[derive(Clone)]
pub struct Clients {
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub sns: aws_sdk_sns::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub ssm: aws_sdk_ssm::Client,
    /// Resource Groups Tagging API: ownership of many resources in one listing.
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    /// EC2: DescribeInstances for alarms' instance selectors.
    pub ec2: aws_sdk_ec2::Client,
    pub account: String,
    pub region: String,
    /// `aws`, `aws-cn`, `aws-us-gov`: part of every ARN relayctl derives.
    pub partition: String,
}

impl Clients {
    /// Loads credentials and region (flag, then stack.yaml, then the chain)
    /// and asks STS who we are: every ARN relayctl compares is built from it.
    pub async fn connect(
        conn: &Connection,
        stack_region: Option<&str>,
    ) -> Result<Clients, AwsError> {
        let ours = !crate::retry::user_configured();
        let config = load_config(conn, stack_region).await;
        let region = config
            .region()
            .map(|r| r.to_string())
            .ok_or(AwsError::NoRegion)?;
        // Every client logs its retries at -v (src/retry.rs).
        macro_rules! client {
            ($sdk:ident) => {
                $sdk::Client::from_conf(
                    $sdk::config::Builder::from(&config)
                        .interceptor(crate::retry::RetryLog { cap: ours })
                        .build(),
                )
            };
        }
        let sts = client!(aws_sdk_sts);
        let identity = sts.get_caller_identity().send().await.map_err(|e| {
            match has_cause::<CredentialsError>(&e) {
                true => AwsError::NoCredentials {
                    detail: source_chain(&e),
                },
                false => AwsError::call("sts", "caller identity", "GetCallerIdentity", e),
            }
        })?;
        let account = identity.account().unwrap_or_default().to_string();
        // arn:PARTITION:sts::ACCOUNT:...; China and GovCloud are not `aws`.
        let partition = identity
            .arn()
            .and_then(|arn| arn.split(':').nth(1))
            .filter(|p| !p.is_empty())
            .unwrap_or("aws")
            .to_string();
        Ok(Clients {
            iam: client!(aws_sdk_iam),
            logs: client!(aws_sdk_cloudwatchlogs),
            sns: client!(aws_sdk_sns),
            lambda: client!(aws_sdk_lambda),
            cloudwatch: client!(aws_sdk_cloudwatch),
            ssm: client!(aws_sdk_ssm),
            tagging: client!(aws_sdk_resourcegroupstagging),
            ec2: client!(aws_sdk_ec2),
            account,
            region,
            partition,
        })
    }

    /// Clients that are never sent a request (the export's names, unit
    /// tests of `diff`): only what they are built from matters.
    pub fn unsent(account: &str, region: &str, partition: &str) -> Clients {
        let config = aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        Clients {
            iam: aws_sdk_iam::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            sns: aws_sdk_sns::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
            ssm: aws_sdk_ssm::Client::new(&config),
            tagging: aws_sdk_resourcegroupstagging::Client::new(&config),
            ec2: aws_sdk_ec2::Client::new(&config),
            account: account.to_string(),
            region: region.to_string(),
            partition: partition.to_string(),
        }
    }
}

/// The SDK configuration from the standard chain: the profile, the region
/// (flag, then stack.yaml, then the chain) and the endpoint given, with
/// relayctl's retry budgets (src/retry.rs) unless AWS_MAX_ATTEMPTS /
/// AWS_RETRY_MODE chose others: a throttle costs one short backoff, not a
/// client-wide slowdown.
pub async fn load_config(conn: &Connection, stack_region: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &conn.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = conn.region.as_deref().or(stack_region) {
        loader = loader.region(Region::new(region.to_string()));
    }
    if let Some(url) = &conn.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if !crate::retry::user_configured() {
        loader = loader.retry_config(crate::retry::config());
    }
    loader.load().await
}

/// A failed AWS call, or a resource relayctl refuses to touch.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("no AWS region")]
    NoRegion,
    #[error("no AWS credentials: {detail}")]
    NoCredentials { detail: String },
    #[error("{kind} {name}: {operation} failed: {detail}")]
    Call {
        kind: &'static str,
        name: String,
        operation: &'static str,
        /// The service's error code (`ResourceConflictException`), when AWS answered.
        code: Option<String>,
        detail: String,
    },
    #[error(
        "{kind} {name} exists but is not owned by this stack (tag relayctl:stack={expected} missing{found}); relayctl leaves it untouched"
    )]
    Foreign {
        kind: &'static str,
        name: String,
        expected: String,
        found: ForeignOwner,
    },
    /// Ownership could not be read, so neither "ours" nor "foreign" can be
    /// decided: nothing of the stack may be touched.
    #[error(
        "{kind} {name}: cannot tell whether it belongs to this stack: AWS did not return its tags ({reason}); nothing was changed"
    )]
    OwnershipUnknown {
        kind: &'static str,
        name: String,
        /// The IAM action the caller lacks, e.g. `lambda:ListTags`.
        permission: &'static str,
        resource_arn: String,
        reason: String,
    },
    #[error("{kind} {name}: {message}")]
    Wait {
        kind: &'static str,
        name: String,
        message: String,
    },
}

/// Who owns a foreign resource, for the error message.
#[derive(Debug, Clone)]
pub struct ForeignOwner(pub Option<String>);

impl fmt::Display for ForeignOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(other) => write!(f, "; it belongs to stack {other}"),
            None => Ok(()),
        }
    }
}

/// Whether any error in `err`'s source chain is a `T`: the SDK wraps the
/// credentials provider's error in a dispatch or construction failure.
fn has_cause<T: StdError + 'static>(err: &(dyn StdError + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        if e.is::<T>() {
            return true;
        }
        next = e.source();
    }
    false
}

/// "dispatch failure: io error: connection refused": each cause's message
/// once, without the Debug dump the SDK's DisplayErrorContext appends.
fn source_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        let message = cause.to_string();
        if !out.contains(&message) {
            out.push_str(": ");
            out.push_str(&message);
        }
        next = cause.source();
    }
    out
}

impl AwsError {
    /// Maps an SDK error, keeping the service's code and message: the 1.x
    /// SDK's own Display is just "service error".
    pub fn call<E, R>(
        kind: &'static str,
        name: impl Into<String>,
        operation: &'static str,
        err: SdkError<E, R>,
    ) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug,
    {
        let (code, detail) = match err.as_service_error() {
            Some(service) => {
                let code = service.code().map(str::to_string);
                let detail = match (service.code(), service.message()) {
                    (Some(c), Some(m)) => format!("{c}: {m}"),
                    (Some(c), None) => c.to_string(),
                    (None, Some(m)) => m.to_string(),
                    (None, None) => source_chain(&err),
                };
                (code, detail)
            }
            None => (None, source_chain(&err)),
        };
        AwsError::Call {
            kind,
            name: name.into(),
            operation,
            code,
            detail,
        }
    }

    /// The remedy, as data; rendered once, by `report`.
    pub fn hint(&self) -> Option<String> {
        match self {
            AwsError::NoRegion => Some(
                "set `region:` in stack.yaml, pass --region, or export AWS_REGION".into(),
            ),
            AwsError::NoCredentials { .. } => Some(
                "set AWS_PROFILE (see `aws configure`), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
            ),
            AwsError::Foreign { kind, .. } => Some(format!(
                "rename the stack, or delete or tag that {kind} yourself"
            )),
            AwsError::OwnershipUnknown {
                permission,
                resource_arn,
                ..
            } => Some(format!(
                "allow {permission} on {resource_arn} for the caller (`relayctl policy` prints every permission relayctl needs)"
            )),
            AwsError::Call { .. } | AwsError::Wait { .. } => None,
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            AwsError::Call { detail, .. } => detail,
            _ => "",
        }
    }
}

/// ARNs are all derived, never looked up: names are deterministic.
impl Clients {
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.partition, self.region, self.account
        )
    }

    pub fn global_arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}::{}:{resource}",
            self.partition, self.account
        )
    }
}
