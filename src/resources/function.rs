//! Lambda function `{stack}-relay`: the Rust handler on provided.al2023,
//! with the webhook URL (or, with `webhook_url_ssm`, only the name of the
//! SSM parameter holding it) and the channel in its environment.
//! Depends on the role (it runs as it) and the log group (it writes there).
//! Owned by tag. Configuration and code are separate AWS calls, each waited
//! on, so they are separate attributes of one update here.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::create_function::CreateFunctionError;
use aws_sdk_lambda::operation::delete_function::DeleteFunctionError;
use aws_sdk_lambda::operation::get_function::GetFunctionError;
use aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput;
use aws_sdk_lambda::operation::update_function_code::UpdateFunctionCodeError;
use aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationError;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, Environment, FunctionCode, LastUpdateStatus, Runtime, State,
};
use futures::future::BoxFuture;
use futures::{FutureExt as _, TryFutureExt as _};

use super::{
    Calls, Ctx, LiveState, Operation, Registration, Step, TagDiff, Tags, adopt, check_owner,
    diff_tags, log_group, render_tags, role, single_kind, tag_api,
};
use crate::aws::AwsError;
use crate::change::{Action, Attr, Change, Kind, compare};
use crate::secret::Secret;

pub const KIND: Kind = Kind::new("function", "lambda function");
// It runs as the role and writes to the log group.
pub const REGISTRATION: Registration = Registration::single::<Live>(&[role::KIND, log_group::KIND]);
/// The IAM actions this kind calls (`relayctl policy`).
pub const IAM: &[super::iam::Grant] = &[
    // AWS: GetFunction returns the tags only with lambda:ListTags, and
    // CreateFunction / UpdateFunctionConfiguration need iam:PassRole on the role.
    super::iam::Grant {
        actions: &[
            "lambda:GetFunction",
            "lambda:GetFunctionConfiguration",
            "lambda:ListTags",
            "lambda:CreateFunction",
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "lambda:TagResource",
            "lambda:UntagResource",
            "lambda:DeleteFunction",
        ],
        on: super::iam::Scope::Function,
    },
    super::iam::Grant {
        actions: &["iam:PassRole"],
        on: super::iam::Scope::RolePassedToLambda,
    },
];
pub const RUNTIME: &str = "provided.al2023";
pub const HANDLER: &str = "bootstrap";
pub const ENV_WEBHOOK: &str = "SLACK_WEBHOOK_URL";
pub const ENV_CHANNEL: &str = "SLACK_CHANNEL";
/// The SSM parameter the handler reads the webhook from (never with ENV_WEBHOOK:
/// the handler refuses both at init).
pub const ENV_SSM_PARAMETER: &str = "SLACK_WEBHOOK_SSM_PARAMETER";

/// How long to keep retrying while a new role propagates through IAM.
/// Overridable for tests and slow accounts.
fn propagation_budget() -> Duration {
    let secs = std::env::var("RELAYCTL_PROPAGATION_TIMEOUT_S")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    Duration::from_secs(secs)
}

#[derive(Debug, Clone)]
pub struct Live {
    pub runtime: Option<String>,
    pub handler: Option<String>,
    pub role: Option<String>,
    pub memory_mb: Option<i32>,
    pub timeout_s: Option<i32>,
    pub architecture: Option<String>,
    /// The webhook as the function has it; kept out of `env` so that no
    /// Debug of live state can ever print it.
    pub webhook: Option<Secret>,
    /// The other environment variables.
    pub env: HashMap<String, String>,
    pub code_sha256: Option<String>,
    pub state: Option<String>,
    pub state_reason: Option<String>,
    pub last_update_status: Option<String>,
    pub last_update_status_reason: Option<String>,
    pub tags: Tags,
}

/// What Lambda says about a function that exists but cannot run as the
/// stack wants: each is drift that `up` repairs, with AWS's reason quoted.
#[derive(Debug, Clone, PartialEq)]
pub enum Unhealthy {
    /// AWS: "When function creation fails, Lambda sets the function state
    /// to failed, and you must delete and recreate the function."
    /// (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html)
    CreateFailed(String),
    /// AWS: a failed update leaves the previous code and configuration
    /// running, and Lambda accepts a new update: apply it again.
    UpdateFailed(String),
    /// AWS: idle long enough for Lambda to reclaim its resources, or they
    /// could not be recreated; "you may need to ... redeploy your function
    /// to restore it to active".
    Inactive(String),
}

impl Unhealthy {
    /// The unhealthy state as the plan shows it: attribute, live value, note.
    fn describe(&self) -> (&'static str, &'static str, String) {
        match self {
            Unhealthy::CreateFailed(reason) => (
                "state",
                "Failed",
                format!(
                    "Lambda reports state Failed: {reason}; a function whose creation failed is deleted and created again"
                ),
            ),
            Unhealthy::UpdateFailed(reason) => (
                "last_update_status",
                "Failed",
                format!(
                    "Lambda reports the last update Failed: {reason}; configuration and code are applied again"
                ),
            ),
            Unhealthy::Inactive(reason) => (
                "state",
                "Inactive",
                format!(
                    "Lambda reports state Inactive: {reason}; configuration and code are applied again to reactivate it"
                ),
            ),
        }
    }
}

impl Live {
    /// Whether Lambda reports the function failed or inactive; None when it
    /// is (or is becoming) usable.
    pub fn unhealthy(&self) -> Option<Unhealthy> {
        let reason = |r: &Option<String>| r.clone().unwrap_or_else(|| "no reason given".into());
        match self.state.as_deref() {
            Some("Failed") => return Some(Unhealthy::CreateFailed(reason(&self.state_reason))),
            Some("Inactive") => return Some(Unhealthy::Inactive(reason(&self.state_reason))),
            _ => {}
        }
        (self.last_update_status.as_deref() == Some("Failed"))
            .then(|| Unhealthy::UpdateFailed(reason(&self.last_update_status_reason)))
    }
}

#[derive(Debug, Clone)]
pub struct Desired {
    pub role: String,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub architecture: &'static str,
    /// None: not known here (status, down), so not compared.
    pub webhook: Option<Secret>,
    /// The webhook's SSM parameter name (stack `webhook_url_ssm`); then the
    /// function has no ENV_WEBHOOK at all.
    pub ssm_parameter: Option<String>,
    pub channel: Option<String>,
    /// None: no package built (status), so code is not compared.
    pub code_sha256: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub enum Op {
    Create(Desired),
    /// Delete, then create: the only way out of a failed create.
    Replace(Desired),
    Update {
        want: Desired,
        config: bool,
        code: bool,
        tags: Option<TagDiff>,
    },
    Delete,
}

impl Operation for Op {
    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<(), AwsError>> {
        match self {
            Op::Create(want) => create(ctx, want).map_ok(drop).boxed(),
            Op::Replace(want) => async move {
                delete(ctx).await?;
                create(ctx, want).await.map(drop)
            }
            .boxed(),
            Op::Update {
                want,
                config,
                code,
                tags,
            } => update(ctx, want, *config, *code, tags.as_ref()).boxed(),
            Op::Delete => delete(ctx).boxed(),
        }
    }
}

single_kind!(name: |ctx: &Ctx| ctx.stack.function_name());

/// The stack's function, when it exists and is ours.
pub fn live(state: &LiveState) -> Option<&Live> {
    state.get::<Option<Live>>(KIND)?.as_ref()
}

pub fn desired(ctx: &Ctx) -> Desired {
    let h = &ctx.stack.handler;
    Desired {
        role: ctx.role_arn(),
        memory_mb: h.memory_mb,
        timeout_s: h.timeout_s,
        architecture: h.architecture.as_str(),
        webhook: ctx.webhook.clone(),
        ssm_parameter: ctx.stack.slack.webhook_url_ssm.clone(),
        channel: ctx.stack.slack.channel.clone(),
        code_sha256: ctx.package.as_ref().map(|p| p.sha256.clone()),
        tags: ctx.tags(),
    }
}

pub async fn read(ctx: &Ctx) -> Result<Option<Live>, AwsError> {
    let name = ctx.stack.function_name();
    let lambda = &ctx.clients.lambda;
    let got = lambda.get_function().function_name(&name).send().await;
    let not_found = |e: &GetFunctionError| e.is_resource_not_found_exception();
    let Some(out) = Calls::new(KIND, &name).found("GetFunction", got, not_found)? else {
        return Ok(None);
    };
    // AWS: GetFunction carries the tags only when the caller may also
    // lambda:ListTags; otherwise it answers TagsError instead, and the
    // function would look untagged, i.e. foreign. Ownership is then unknown,
    // an error for every command: `down` must not delete the rest of the
    // stack around a function it cannot prove ours.
    if let (None, Some(e)) = (&out.tags, out.tags_error()) {
        return Err(AwsError::OwnershipUnknown {
            kind: KIND.label,
            name,
            permission: "lambda:ListTags",
            resource_arn: ctx.function_arn(),
            reason: format!("TagsError {}: {}", e.error_code(), e.message()),
        });
    }
    let tags: Tags = out.tags.clone().unwrap_or_default().into_iter().collect();
    check_owner(KIND, &name, &ctx.stack, &tags)?;
    Ok(out.configuration.map(|c| flatten(c, tags)))
}

/// `Live` from a function's configuration: GetFunction's `configuration`
/// and GetFunctionConfiguration's output are two types with the same fields.
macro_rules! live_from {
    ($c:expr, $tags:expr) => {{
        let c = $c;
        let mut env = c
            .environment()
            .and_then(|e| e.variables())
            .cloned()
            .unwrap_or_default();
        Live {
            runtime: c.runtime().map(|r| r.as_str().to_string()),
            handler: c.handler().map(str::to_string),
            role: c.role().map(str::to_string),
            memory_mb: c.memory_size(),
            timeout_s: c.timeout(),
            // AWS: an absent list means the default, x86_64.
            architecture: Some(
                c.architectures()
                    .first()
                    .map_or("x86_64", |a| a.as_str())
                    .to_string(),
            ),
            webhook: env.remove(ENV_WEBHOOK).map(Secret::new),
            env,
            code_sha256: c.code_sha256().map(str::to_string),
            state: c.state().map(|s| s.as_str().to_string()),
            state_reason: c.state_reason().map(str::to_string),
            last_update_status: c.last_update_status().map(|s| s.as_str().to_string()),
            last_update_status_reason: c.last_update_status_reason().map(str::to_string),
            tags: $tags,
        }
    }};
}

fn flatten(c: aws_sdk_lambda::types::FunctionConfiguration, tags: Tags) -> Live {
    live_from!(c, tags)
}

pub fn diff(ctx: &Ctx, live: Option<&Live>, want: Desired) -> Step {
    let name = ctx.stack.function_name();
    let Some(live) = live else {
        let attrs = create_attrs(&want);
        return Step::new(
            Change::new(KIND, name, Action::Create, attrs),
            Op::Create(want),
        );
    };
    let unhealthy = live.unhealthy();
    if let Some(Unhealthy::CreateFailed(_)) = &unhealthy {
        let (attr, old, note) = unhealthy.as_ref().expect("matched").describe();
        let mut attrs = vec![Attr::new(attr, Some(old.into()), Some("Active".into()))];
        attrs.extend(create_attrs(&want).into_iter().filter(|a| a.name != "tags"));
        return Step::new(
            Change::new(KIND, name, Action::Replace, attrs).with_note(note),
            Op::Replace(want),
        );
    }
    let mut attrs = config_attrs(live, &want);
    let mut config = !attrs.is_empty();
    let before_code = attrs.len();
    compare(
        &mut attrs,
        "architecture",
        live.architecture.clone(),
        Some(want.architecture.into()),
    );
    if want.code_sha256.is_some() {
        compare(
            &mut attrs,
            "code_sha256",
            live.code_sha256.clone(),
            want.code_sha256.clone(),
        );
    }
    let mut code = attrs.len() > before_code;
    let tags = diff_tags(&mut attrs, &live.tags, &want.tags);
    let mut note = None;
    if let Some(unhealthy) = &unhealthy {
        // Which half failed is not said: both are applied again (the code
        // only when there is a package to upload).
        let (attr, old, text) = unhealthy.describe();
        let healthy = if attr == "state" {
            "Active"
        } else {
            "Successful"
        };
        attrs.insert(0, Attr::new(attr, Some(old.into()), Some(healthy.into())));
        config = true;
        code = want.code_sha256.is_some();
        note = Some(text);
    }
    if attrs.is_empty() {
        return Step::noop(KIND, name);
    }
    let op = Op::Update {
        want,
        config,
        code,
        tags,
    };
    let change = Change::new(KIND, name, Action::Update, attrs);
    Step::new(
        match note {
            Some(note) => change.with_note(note),
            None => change,
        },
        op,
    )
}

fn create_attrs(want: &Desired) -> Vec<Attr> {
    let mut attrs = vec![
        Attr::new("runtime", None, Some(RUNTIME.into())),
        Attr::new("handler", None, Some(HANDLER.into())),
        Attr::new("role", None, Some(want.role.clone())),
        Attr::new("memory_mb", None, Some(want.memory_mb.to_string())),
        Attr::new("timeout_s", None, Some(want.timeout_s.to_string())),
        Attr::new("architecture", None, Some(want.architecture.into())),
    ];
    match &want.ssm_parameter {
        Some(name) => attrs.push(Attr::new(
            format!("env.{ENV_SSM_PARAMETER}"),
            None,
            Some(name.clone()),
        )),
        None => attrs.push(
            Attr::new(
                format!("env.{ENV_WEBHOOK}"),
                None,
                want.webhook.as_ref().map(|s| s.expose().to_string()),
            )
            .sensitive(),
        ),
    }
    if let Some(channel) = &want.channel {
        attrs.push(Attr::new(
            format!("env.{ENV_CHANNEL}"),
            None,
            Some(channel.clone()),
        ));
    }
    attrs.push(Attr::new("code_sha256", None, want.code_sha256.clone()));
    attrs.push(Attr::new("tags", None, Some(render_tags(&want.tags))));
    attrs
}

/// What UpdateFunctionConfiguration changes.
fn config_attrs(live: &Live, want: &Desired) -> Vec<Attr> {
    let mut attrs = Vec::new();
    let wanted = [
        ("runtime", live.runtime.clone(), RUNTIME.to_string()),
        ("handler", live.handler.clone(), HANDLER.to_string()),
        ("role", live.role.clone(), want.role.clone()),
        (
            "memory_mb",
            live.memory_mb.map(|m| m.to_string()),
            want.memory_mb.to_string(),
        ),
        (
            "timeout_s",
            live.timeout_s.map(|t| t.to_string()),
            want.timeout_s.to_string(),
        ),
    ];
    for (name, old, new) in wanted {
        compare(&mut attrs, name, old, Some(new));
    }
    if want.ssm_parameter.is_some() {
        // Switching to SSM: the URL leaves the function's configuration.
        if live.webhook.is_some() {
            attrs.push(
                Attr::new(
                    format!("env.{ENV_WEBHOOK}"),
                    live.webhook.as_ref().map(|s| s.expose().to_string()),
                    None,
                )
                .sensitive(),
            );
        }
    } else if let Some(url) = &want.webhook {
        let old = live.webhook.as_ref().map(|s| s.expose().to_string());
        if old.as_deref() != Some(url.expose()) {
            attrs.push(
                Attr::new(
                    format!("env.{ENV_WEBHOOK}"),
                    old,
                    Some(url.expose().to_string()),
                )
                .sensitive(),
            );
        }
    }
    // Compared even when not wanted: back on webhook_url_env, a leftover
    // parameter name would make the handler refuse to start.
    compare(
        &mut attrs,
        &format!("env.{ENV_SSM_PARAMETER}"),
        live.env.get(ENV_SSM_PARAMETER).cloned(),
        want.ssm_parameter.clone(),
    );
    compare(
        &mut attrs,
        &format!("env.{ENV_CHANNEL}"),
        live.env.get(ENV_CHANNEL).cloned(),
        want.channel.clone(),
    );
    attrs
}

fn environment(want: &Desired) -> Environment {
    Environment::builder()
        .set_variables(Some(environment_variables(want)))
        .build()
}

/// The function's environment (also the exported template's).
pub fn environment_variables(want: &Desired) -> HashMap<String, String> {
    let mut vars = HashMap::new();
    if let Some(name) = &want.ssm_parameter {
        vars.insert(ENV_SSM_PARAMETER.to_string(), name.clone());
    } else if let Some(url) = &want.webhook {
        vars.insert(ENV_WEBHOOK.to_string(), url.expose().to_string());
    }
    if let Some(channel) = &want.channel {
        vars.insert(ENV_CHANNEL.to_string(), channel.clone());
    }
    vars
}

/// The function's description (also the exported template's).
pub fn description(ctx: &Ctx) -> String {
    format!(
        "relayctl stack {}: CloudWatch alarms to Slack",
        ctx.stack.name
    )
}

/// The configuration that CreateFunction and UpdateFunctionConfiguration
/// both send, set on either's builder (two types, the same setters).
macro_rules! with_config {
    ($call:expr, $want:expr) => {
        $call
            .runtime(Runtime::from(RUNTIME))
            .handler(HANDLER)
            .role(&$want.role)
            .memory_size($want.memory_mb)
            .timeout($want.timeout_s)
            .environment(environment($want))
    };
}

fn architecture(want: &Desired) -> Architecture {
    Architecture::from(want.architecture)
}

fn zip(ctx: &Ctx) -> Result<Blob, AwsError> {
    let package = ctx.package.as_ref().ok_or_else(|| AwsError::Wait {
        kind: KIND.label,
        name: ctx.stack.function_name(),
        message: "no handler package to upload (internal: up must build or load one)".into(),
    })?;
    Ok(Blob::new(package.zip.clone()))
}

/// The function as it now is, read back by the wait that follows every
/// Lambda write (GetFunctionConfiguration, until Active): no read is added.
/// Its tags are those CreateFunction set, as that read does not carry them.
/// After a lost race (rare) the function is read again once adopted.
async fn create(ctx: &Ctx, want: &Desired) -> Result<Option<Live>, AwsError> {
    let name = ctx.stack.function_name();
    let lambda = &ctx.clients.lambda;
    let code = FunctionCode::builder().zip_file(zip(ctx)?).build();
    let created = retry_while_propagating(ctx, "CreateFunction", || {
        let call = lambda.create_function().function_name(&name);
        with_config!(call.description(description(ctx)), want)
            .architectures(architecture(want))
            .code(code.clone())
            .set_tags(Some(want.tags.clone().into_iter().collect()))
            .send()
    })
    .await;
    match created {
        Ok(_) => {
            let config = wait_function_ready(ctx).await?;
            Ok(Some(live_from!(config, want.tags.clone())))
        }
        Err(Failed {
            fault: Fault::AlreadyExists,
            ..
        }) => {
            adopt(ctx, diff(ctx, read(ctx).await?.as_ref(), want.clone())).await?;
            read(ctx).await
        }
        Err(failed) => Err(failed.error),
    }
}

async fn update(
    ctx: &Ctx,
    want: &Desired,
    config: bool,
    code: bool,
    tags: Option<&TagDiff>,
) -> Result<(), AwsError> {
    let name = ctx.stack.function_name();
    let lambda = &ctx.clients.lambda;
    if config {
        // AWS accepts a new update after a Failed one: only wait for quiet.
        wait_function(ctx, Settled::Quiet).await?;
        retry_while_propagating(ctx, "UpdateFunctionConfiguration", || {
            let call = lambda.update_function_configuration().function_name(&name);
            with_config!(call, want).send()
        })
        .await
        .map_err(|f| f.error)?;
        wait_function_ready(ctx).await?;
    }
    if code {
        wait_function(ctx, Settled::Quiet).await?;
        let blob = zip(ctx)?;
        retry_while_propagating(ctx, "UpdateFunctionCode", || {
            lambda
                .update_function_code()
                .function_name(&name)
                .zip_file(blob.clone())
                .architectures(architecture(want))
                .send()
        })
        .await
        .map_err(|f| f.error)?;
        wait_function_ready(ctx).await?;
    }
    Tagging::new(ctx, &name, &ctx.function_arn())
        .converge(tags)
        .await
}

async fn delete(ctx: &Ctx) -> Result<(), AwsError> {
    let name = ctx.stack.function_name();
    let lambda = &ctx.clients.lambda;
    let deleted = lambda.delete_function().function_name(&name).send().await;
    let not_found = |e: &DeleteFunctionError| e.is_resource_not_found_exception();
    Calls::new(KIND, &name).gone("DeleteFunction", deleted, not_found)
}

tag_api!(
    lambda,
    resource,
    |t: &Tags| t.clone().into_iter().collect(),
    tag_resource / "TagResource",
    untag_resource / "UntagResource"
);

/// What a failed Lambda write means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// The new role is not visible to Lambda yet: waiting fixes it.
    RoleNotAssumable,
    /// The function is mid-update: waiting fixes it.
    Busy,
    /// CreateFunction on a name that exists: a lost race, not a wait.
    AlreadyExists,
    Other,
}

/// The service errors of the Lambda writes that pass a role or touch a
/// function that may be busy.
trait LambdaWriteError: ProvideErrorMetadata {
    fn is_conflict(&self) -> bool;
    fn is_invalid_parameter(&self) -> bool;
}

macro_rules! lambda_write_error {
    ($($t:ty),*) => {$(
        impl LambdaWriteError for $t {
            fn is_conflict(&self) -> bool {
                self.is_resource_conflict_exception()
            }
            fn is_invalid_parameter(&self) -> bool {
                self.is_invalid_parameter_value_exception()
            }
        }
    )*};
}
lambda_write_error!(
    CreateFunctionError,
    UpdateFunctionConfigurationError,
    UpdateFunctionCodeError
);

/// Classified on the typed error. AWS gives both "already exists" and
/// "update in progress" the one code ResourceConflictException, and "role
/// cannot be assumed" is an InvalidParameterValueException like any bad
/// value, so the message tells them apart (terraform's `retryFunctionOp`
/// matches the same messages).
fn classify(err: &impl LambdaWriteError) -> Fault {
    let message = err.message().unwrap_or_default();
    if err.is_conflict() {
        // "Function already exist: NAME"
        if message.contains("already exist") {
            Fault::AlreadyExists
        } else {
            Fault::Busy
        }
    } else if err.is_invalid_parameter()
        && (message.contains("cannot be assumed by Lambda")
            || message.contains("role defined for the function"))
    {
        Fault::RoleNotAssumable
    } else {
        Fault::Other
    }
}

struct Failed {
    fault: Fault,
    error: AwsError,
}

/// AWS: a role made seconds ago is not yet assumable by Lambda, and a
/// function mid-update answers ResourceConflictException. Both pass; retry
/// them (and only them) with backoff, within a time bound.
async fn retry_while_propagating<T, E, R, F, Fut>(
    ctx: &Ctx,
    operation: &'static str,
    mut call: F,
) -> Result<T, Failed>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SdkError<E, R>>>,
    E: LambdaWriteError + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let name = ctx.stack.function_name();
    let deadline = Instant::now() + propagation_budget();
    let mut delay = Duration::from_millis(500);
    loop {
        let err = match call().await {
            Ok(out) => return Ok(out),
            Err(err) => err,
        };
        let fault = err.as_service_error().map_or(Fault::Other, classify);
        let error = AwsError::call(KIND.label, &name, operation, err);
        let transient = matches!(fault, Fault::RoleNotAssumable | Fault::Busy);
        if !transient || Instant::now() + delay > deadline {
            return Err(Failed { fault, error });
        }
        // Shown by default: this wait can last up to the budget.
        tracing::warn!(
            "{operation} on {name}: AWS is not ready yet ({}); retrying in {:.1}s",
            error.detail(),
            delay.as_secs_f64()
        );
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(8));
    }
}

/// What a wait on the function waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settled {
    /// Nothing in progress, whatever the outcome: before a new update.
    Quiet,
    /// Active and the last update successful; Failed is an error.
    Ready,
}

/// Waits until the function is Active and its last update finished, and
/// quotes AWS's reason when it failed instead.
pub(super) async fn wait_function_ready(
    ctx: &Ctx,
) -> Result<GetFunctionConfigurationOutput, AwsError> {
    wait_function(ctx, Settled::Ready).await
}

/// Returns the configuration as last read.
async fn wait_function(
    ctx: &Ctx,
    until: Settled,
) -> Result<GetFunctionConfigurationOutput, AwsError> {
    let name = ctx.stack.function_name();
    let deadline = Instant::now() + Duration::from_secs(300);
    // Look again 100 ms after the last look was sent, then twice as long
    // each time (at most 5 s): the backoff of Terraform's StateChangeConf (plugin SDK,
    // helper/retry/state.go), which its Lambda waiters use. A zip function
    // is usually Active within a second, so a short first wait saves most
    // of a second per `up` for a few extra reads, far inside Lambda's
    // control-plane read quota.
    let mut delay = Duration::from_millis(100);
    let failed = |message: String| AwsError::Wait {
        kind: KIND.label,
        name: name.clone(),
        message,
    };
    let calls = Calls::new(KIND, &name);
    loop {
        let sent = Instant::now();
        let lambda = &ctx.clients.lambda;
        let got = lambda.get_function_configuration().function_name(&name);
        let c = calls.ok("GetFunctionConfiguration", got.send().await)?;
        let pending = matches!(c.state(), Some(State::Pending));
        let updating = matches!(c.last_update_status(), Some(LastUpdateStatus::InProgress));
        if matches!(c.state(), Some(State::Failed)) {
            return Err(failed(format!(
                "Lambda reports state Failed: {} ({}); the next `relayctl up` deletes and creates it again",
                c.state_reason().unwrap_or("no reason given"),
                c.state_reason_code().map_or("", |r| r.as_str())
            )));
        }
        if until == Settled::Ready
            && matches!(c.last_update_status(), Some(LastUpdateStatus::Failed))
        {
            return Err(failed(format!(
                "Lambda reports the last update Failed: {}; the next `relayctl up` applies it again",
                c.last_update_status_reason().unwrap_or("no reason given")
            )));
        }
        if !pending && !updating {
            return Ok(c);
        }
        if Instant::now() + delay > deadline {
            return Err(failed("still Pending or InProgress after 5 minutes".into()));
        }
        // The wait counts from when this read was sent, so a slow answer
        // does not stretch the interval between looks.
        tokio::time::sleep_until((sent + delay).into()).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::test_ctx;

    const STACK: &str = "name: fn\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nalarms:\n  - name: cpu\n    instance_id: i-0123456789abcdef0";

    /// What AWS would report for a function made exactly as desired.
    fn live_as_desired(ctx: &Ctx) -> Live {
        let d = desired(ctx);
        Live {
            runtime: Some(RUNTIME.into()),
            handler: Some(HANDLER.into()),
            role: Some(d.role),
            memory_mb: Some(d.memory_mb),
            timeout_s: Some(d.timeout_s),
            architecture: Some(d.architecture.into()),
            webhook: d.webhook,
            env: HashMap::new(),
            code_sha256: d.code_sha256,
            state: Some("Active".into()),
            state_reason: None,
            last_update_status: Some("Successful".into()),
            last_update_status_reason: None,
            tags: d.tags,
        }
    }

    fn update_op(step: &Step) -> (bool, bool, bool) {
        match step.op_as::<Op>() {
            Some(Op::Update {
                config, code, tags, ..
            }) => (*config, *code, tags.is_some()),
            other => panic!("expected a function update, got {other:?}"),
        }
    }

    #[test]
    fn nothing_differs_nothing_to_do() {
        let ctx = test_ctx(STACK, Some("sha-a"));
        let change = diff(&ctx, Some(&live_as_desired(&ctx)), desired(&ctx));
        assert_eq!(change.change.action, Action::NoOp);
    }

    /// With the package `sha` and one live attribute changed by `drift`,
    /// the diff shows exactly `attr` (live, wanted) and the update does
    /// `(config, code, tags)`.
    #[track_caller]
    fn assert_one_change(
        sha: &str,
        drift: impl FnOnce(&mut Live),
        attr: (&str, &str, &str),
        op: (bool, bool, bool),
    ) {
        let ctx = test_ctx(STACK, Some(sha));
        let mut live = live_as_desired(&ctx);
        drift(&mut live);
        let change = diff(&ctx, Some(&live), desired(&ctx));
        let (name, old, new) = attr;
        let want = Attr::new(name, Some(old.into()), Some(new.into()));
        assert_eq!(change.change.attrs, vec![want]);
        assert_eq!(update_op(&change), op);
    }

    #[test]
    fn memory_is_a_configuration_update_only() {
        let drift = |live: &mut Live| live.memory_mb = Some(256);
        assert_one_change(
            "sha-a",
            drift,
            ("memory_mb", "256", "128"),
            (true, false, false),
        );
    }

    #[test]
    fn new_code_is_a_code_update_only() {
        let drift = |live: &mut Live| live.code_sha256 = Some("sha-a".into());
        let attr = ("code_sha256", "sha-a", "sha-b");
        assert_one_change("sha-b", drift, attr, (false, true, false));
    }

    #[test]
    fn a_new_webhook_is_a_sensitive_configuration_update() {
        let ctx = test_ctx(STACK, Some("sha-a"));
        let mut live = live_as_desired(&ctx);
        live.webhook = Some(Secret::new("https://hooks.slack.invalid/old"));
        let change = diff(&ctx, Some(&live), desired(&ctx));
        assert_eq!(change.change.attrs.len(), 1);
        assert!(
            change.change.attrs[0].sensitive,
            "{:?}",
            change.change.attrs
        );
        assert_eq!(update_op(&change), (true, false, false));
    }

    #[test]
    fn without_a_package_or_webhook_neither_is_compared() {
        let mut ctx = test_ctx(STACK, None);
        ctx.webhook = None;
        let mut live = live_as_desired(&test_ctx(STACK, Some("sha-a")));
        live.webhook = Some(Secret::new("https://hooks.slack.invalid/other"));
        let change = diff(&ctx, Some(&live), desired(&ctx));
        assert_eq!(
            change.change.action,
            Action::NoOp,
            "{:?}",
            change.change.attrs
        );
    }

    const SSM_STACK: &str = "name: fn\nslack:\n  webhook_url_ssm: /relay/fn/hook\nalarms:\n  - name: cpu\n    instance_id: i-0123456789abcdef0";

    #[test]
    fn issue_13_switching_to_ssm_removes_the_url_and_names_the_parameter() {
        let env_ctx = test_ctx(STACK, Some("sha-a"));
        let live = live_as_desired(&env_ctx);
        let mut ctx = test_ctx(SSM_STACK, Some("sha-a"));
        ctx.webhook = None;
        let want = desired(&ctx);
        let vars = environment(&want).variables().cloned().unwrap_or_default();
        assert_eq!(
            vars.into_iter().collect::<Vec<_>>(),
            vec![(ENV_SSM_PARAMETER.to_string(), "/relay/fn/hook".to_string())]
        );
        let change = diff(&ctx, Some(&live), want);
        let attrs: Vec<(&str, bool, Option<&str>)> = change
            .change
            .attrs
            .iter()
            .map(|a| (a.name.as_str(), a.sensitive, a.new.as_deref()))
            .collect();
        assert_eq!(
            attrs,
            vec![
                ("env.SLACK_WEBHOOK_URL", true, None),
                (
                    "env.SLACK_WEBHOOK_SSM_PARAMETER",
                    false,
                    Some("/relay/fn/hook")
                ),
            ]
        );
        assert_eq!(update_op(&change), (true, false, false));
    }

    #[test]
    fn issue_13_back_to_the_env_var_drops_the_parameter_name() {
        let ctx = test_ctx(STACK, Some("sha-a"));
        let mut live = live_as_desired(&ctx);
        live.webhook = None;
        live.env
            .insert(ENV_SSM_PARAMETER.into(), "/relay/fn/hook".into());
        let change = diff(&ctx, Some(&live), desired(&ctx));
        let names: Vec<&str> = change
            .change
            .attrs
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(
            names,
            ["env.SLACK_WEBHOOK_URL", "env.SLACK_WEBHOOK_SSM_PARAMETER"]
        );
        let vars = environment(&desired(&ctx))
            .variables()
            .cloned()
            .unwrap_or_default();
        assert!(!vars.contains_key(ENV_SSM_PARAMETER));
    }

    #[test]
    fn a_stray_tag_is_removed_but_aws_tags_stay() {
        let ctx = test_ctx(STACK, Some("sha-a"));
        let mut live = live_as_desired(&ctx);
        live.tags.insert("added-in-console".into(), "x".into());
        live.tags
            .insert("aws:cloudformation:stack-name".into(), "y".into());
        let change = diff(&ctx, Some(&live), desired(&ctx));
        assert_eq!(update_op(&change), (false, false, true));
        let Some(Op::Update {
            tags: Some(tags), ..
        }) = change.op_as::<Op>()
        else {
            unreachable!()
        };
        assert_eq!(tags.remove, vec!["added-in-console".to_string()]);
    }

    #[test]
    fn failed_or_inactive_is_drift_with_awss_reason() {
        let ctx = test_ctx(STACK, Some("sha-a"));
        let mut live = live_as_desired(&ctx);
        live.state = Some("Inactive".into());
        live.state_reason = Some("The function is idle".into());
        let step = diff(&ctx, Some(&live), desired(&ctx));
        assert_eq!(step.change.action, Action::Update);
        assert!(
            step.change
                .note
                .as_deref()
                .unwrap()
                .contains("The function is idle")
        );
        assert_eq!(update_op(&step), (true, true, false));

        let mut live = live_as_desired(&ctx);
        live.last_update_status = Some("Failed".into());
        live.last_update_status_reason = Some("KMS key disabled".into());
        let step = diff(&ctx, Some(&live), desired(&ctx));
        assert_eq!(update_op(&step), (true, true, false));
        assert!(
            step.change
                .note
                .as_deref()
                .unwrap()
                .contains("KMS key disabled")
        );

        let mut live = live_as_desired(&ctx);
        live.state = Some("Failed".into());
        let step = diff(&ctx, Some(&live), desired(&ctx));
        assert_eq!(step.change.action, Action::Replace);
        assert!(matches!(step.op_as::<Op>(), Some(Op::Replace(_))));
    }

    fn service_error(code: &str, message: &str) -> CreateFunctionError {
        use aws_sdk_lambda::error::ErrorMetadata;
        use aws_sdk_lambda::types::error::{
            InvalidParameterValueException, ResourceConflictException,
        };
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        match code {
            "ResourceConflictException" => CreateFunctionError::ResourceConflictException(
                ResourceConflictException::builder()
                    .message(message)
                    .meta(meta)
                    .build(),
            ),
            "InvalidParameterValueException" => {
                CreateFunctionError::InvalidParameterValueException(
                    InvalidParameterValueException::builder()
                        .message(message)
                        .meta(meta)
                        .build(),
                )
            }
            _ => CreateFunctionError::generic(meta),
        }
    }

    #[test]
    fn retries_only_propagation_and_conflict() {
        let cases = [
            (
                "InvalidParameterValueException",
                "The role defined for the function cannot be assumed by Lambda.",
                Fault::RoleNotAssumable,
            ),
            (
                "ResourceConflictException",
                "The operation cannot be performed at this time. An update is in progress for resource: s-relay",
                Fault::Busy,
            ),
            (
                "ResourceConflictException",
                "Function already exist: s-relay",
                Fault::AlreadyExists,
            ),
            (
                "InvalidParameterValueException",
                "MemorySize must be >= 128",
                Fault::Other,
            ),
            // The right words under another code are not a propagation delay.
            (
                "AccessDeniedException",
                "cannot be assumed by Lambda",
                Fault::Other,
            ),
        ];
        for (code, message, fault) in cases {
            assert_eq!(
                classify(&service_error(code, message)),
                fault,
                "{code}: {message}"
            );
        }
    }
}
