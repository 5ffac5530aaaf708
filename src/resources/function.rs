//! Lambda function `{stack}-relay`: the Rust handler on provided.al2023,
//! with the webhook URL and channel in its environment.
//! Depends on the role (it runs as it) and the log group (it writes there).
//! Owned by tag. Configuration and code are separate AWS calls, each waited
//! on, so they are separate attributes of one update here.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, Environment, FunctionCode, LastUpdateStatus, Runtime, State,
};

use super::{Ctx, Op as AnyOp, TagDiff, Tags, check_owner, diff_tags, render_tags};
use crate::aws::AwsError;
use crate::plan::{Action, Attr, Change, Kind, compare};
use crate::secret::Secret;

const KIND: &str = "lambda function";
pub const RUNTIME: &str = "provided.al2023";
pub const HANDLER: &str = "bootstrap";
pub const ENV_WEBHOOK: &str = "SLACK_WEBHOOK_URL";
pub const ENV_CHANNEL: &str = "SLACK_CHANNEL";

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
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub struct Desired {
    pub role: String,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub architecture: &'static str,
    /// None: not known here (status, down), so not compared.
    pub webhook: Option<Secret>,
    pub channel: Option<String>,
    /// None: no package built (status), so code is not compared.
    pub code_sha256: Option<String>,
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub enum Op {
    Create(Desired),
    Update {
        want: Desired,
        config: bool,
        code: bool,
        tags: Option<TagDiff>,
    },
    Delete,
}

pub fn desired(ctx: &Ctx) -> Desired {
    let h = &ctx.stack.handler;
    Desired {
        role: ctx.role_arn(),
        memory_mb: h.memory_mb,
        timeout_s: h.timeout_s,
        architecture: h.architecture.as_str(),
        webhook: ctx.webhook.clone(),
        channel: ctx.stack.slack.channel.clone(),
        code_sha256: ctx.package.as_ref().map(|p| p.sha256.clone()),
        tags: ctx.tags(),
    }
}

pub async fn read(ctx: &Ctx) -> Result<Option<Live>, AwsError> {
    let name = ctx.stack.function_name();
    let out = match ctx
        .clients
        .lambda
        .get_function()
        .function_name(&name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(AwsError::call(KIND, &name, "GetFunction", e)),
    };
    let tags: Tags = out.tags.clone().unwrap_or_default().into_iter().collect();
    check_owner(KIND, &name, &ctx.stack, &tags)?;
    let Some(c) = out.configuration else {
        return Ok(None);
    };
    let mut env = c
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    Ok(Some(Live {
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
        tags,
    }))
}

pub fn diff(ctx: &Ctx, live: Option<&Live>, want: Desired) -> Change {
    let name = ctx.stack.function_name();
    let Some(live) = live else {
        let mut attrs = vec![
            Attr::new("runtime", None, Some(RUNTIME.into())),
            Attr::new("handler", None, Some(HANDLER.into())),
            Attr::new("role", None, Some(want.role.clone())),
            Attr::new("memory_mb", None, Some(want.memory_mb.to_string())),
            Attr::new("timeout_s", None, Some(want.timeout_s.to_string())),
            Attr::new("architecture", None, Some(want.architecture.into())),
            Attr::new(
                format!("env.{ENV_WEBHOOK}"),
                None,
                want.webhook.as_ref().map(|s| s.expose().to_string()),
            )
            .sensitive(),
        ];
        if let Some(channel) = &want.channel {
            attrs.push(Attr::new(
                format!("env.{ENV_CHANNEL}"),
                None,
                Some(channel.clone()),
            ));
        }
        attrs.push(Attr::new("code_sha256", None, want.code_sha256.clone()));
        attrs.push(Attr::new("tags", None, Some(render_tags(&want.tags))));
        return Change::new(
            Kind::Function,
            name,
            Action::Create,
            attrs,
            AnyOp::Function(Box::new(Op::Create(want))),
        );
    };

    let mut attrs = Vec::new();
    compare(
        &mut attrs,
        "runtime",
        live.runtime.clone(),
        Some(RUNTIME.into()),
    );
    compare(
        &mut attrs,
        "handler",
        live.handler.clone(),
        Some(HANDLER.into()),
    );
    compare(
        &mut attrs,
        "role",
        live.role.clone(),
        Some(want.role.clone()),
    );
    compare(
        &mut attrs,
        "memory_mb",
        live.memory_mb.map(|m| m.to_string()),
        Some(want.memory_mb.to_string()),
    );
    compare(
        &mut attrs,
        "timeout_s",
        live.timeout_s.map(|t| t.to_string()),
        Some(want.timeout_s.to_string()),
    );
    if let Some(url) = &want.webhook {
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
    compare(
        &mut attrs,
        &format!("env.{ENV_CHANNEL}"),
        live.env.get(ENV_CHANNEL).cloned(),
        want.channel.clone(),
    );
    let config = !attrs.is_empty();

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
    let code = attrs.len() > before_code;

    let tags = diff_tags(&mut attrs, &live.tags, &want.tags);
    if attrs.is_empty() {
        return Change::noop(Kind::Function, name);
    }
    Change::new(
        Kind::Function,
        name,
        Action::Update,
        attrs,
        AnyOp::Function(Box::new(Op::Update {
            want,
            config,
            code,
            tags,
        })),
    )
}

fn environment(want: &Desired) -> Environment {
    let mut vars = HashMap::new();
    if let Some(url) = &want.webhook {
        vars.insert(ENV_WEBHOOK.to_string(), url.expose().to_string());
    }
    if let Some(channel) = &want.channel {
        vars.insert(ENV_CHANNEL.to_string(), channel.clone());
    }
    Environment::builder().set_variables(Some(vars)).build()
}

fn architecture(want: &Desired) -> Architecture {
    Architecture::from(want.architecture)
}

fn zip(ctx: &Ctx) -> Result<Blob, AwsError> {
    let package = ctx.package.as_ref().ok_or_else(|| AwsError::Wait {
        kind: KIND,
        name: ctx.stack.function_name(),
        message: "no handler package to upload (internal: up must build or load one)".into(),
    })?;
    Ok(Blob::new(package.zip.clone()))
}

pub async fn apply(ctx: &Ctx, op: &Op) -> Result<(), AwsError> {
    let name = ctx.stack.function_name();
    let lambda = &ctx.clients.lambda;
    match op {
        Op::Create(want) => {
            let code = FunctionCode::builder().zip_file(zip(ctx)?).build();
            let created = retry_while_propagating(ctx, "CreateFunction", || {
                lambda
                    .create_function()
                    .function_name(&name)
                    .description(format!(
                        "relayctl stack {}: CloudWatch alarms to Slack",
                        ctx.stack.name
                    ))
                    .runtime(Runtime::from(RUNTIME))
                    .handler(HANDLER)
                    .role(&want.role)
                    .memory_size(want.memory_mb)
                    .timeout(want.timeout_s)
                    .architectures(architecture(want))
                    .environment(environment(want))
                    .code(code.clone())
                    .set_tags(Some(want.tags.clone().into_iter().collect()))
                    .send()
            })
            .await;
            match created {
                Ok(_) => wait_function_ready(ctx).await,
                // AWS: made meanwhile (a concurrent or earlier run): read it,
                // which proves it ours or fails as foreign, then converge it.
                Err(e) if is_already_exists(&e) => {
                    let live = read(ctx).await?;
                    match diff(ctx, live.as_ref(), want.clone()).op {
                        Some(AnyOp::Function(op)) if matches!(*op, Op::Update { .. }) => {
                            Box::pin(apply(ctx, &op)).await
                        }
                        _ => Ok(()),
                    }
                }
                Err(e) => Err(e),
            }
        }
        Op::Update {
            want,
            config,
            code,
            tags,
        } => {
            if *config {
                wait_function_ready(ctx).await?;
                retry_while_propagating(ctx, "UpdateFunctionConfiguration", || {
                    lambda
                        .update_function_configuration()
                        .function_name(&name)
                        .runtime(Runtime::from(RUNTIME))
                        .handler(HANDLER)
                        .role(&want.role)
                        .memory_size(want.memory_mb)
                        .timeout(want.timeout_s)
                        .environment(environment(want))
                        .send()
                })
                .await?;
                wait_function_ready(ctx).await?;
            }
            if *code {
                wait_function_ready(ctx).await?;
                let blob = zip(ctx)?;
                retry_while_propagating(ctx, "UpdateFunctionCode", || {
                    lambda
                        .update_function_code()
                        .function_name(&name)
                        .zip_file(blob.clone())
                        .architectures(architecture(want))
                        .send()
                })
                .await?;
                wait_function_ready(ctx).await?;
            }
            if let Some(tags) = tags {
                let arn = ctx.function_arn();
                if !tags.remove.is_empty() {
                    lambda
                        .untag_resource()
                        .resource(&arn)
                        .set_tag_keys(Some(tags.remove.clone()))
                        .send()
                        .await
                        .map_err(|e| AwsError::call(KIND, &name, "UntagResource", e))?;
                }
                if !tags.set.is_empty() {
                    lambda
                        .tag_resource()
                        .resource(&arn)
                        .set_tags(Some(tags.set.clone().into_iter().collect()))
                        .send()
                        .await
                        .map_err(|e| AwsError::call(KIND, &name, "TagResource", e))?;
                }
            }
            Ok(())
        }
        Op::Delete => match lambda.delete_function().function_name(&name).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(AwsError::call(KIND, &name, "DeleteFunction", e)),
        },
    }
}

/// AWS: a role made seconds ago is not yet assumable by Lambda, and a
/// function mid-update answers ResourceConflictException. Both pass; retry
/// them (and only them) with backoff, within a time bound. Terraform's
/// `retryFunctionOp` retries the same two.
async fn retry_while_propagating<T, E, R, F, Fut>(
    ctx: &Ctx,
    operation: &'static str,
    mut call: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, aws_sdk_lambda::error::SdkError<E, R>>>,
    E: aws_sdk_lambda::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let name = ctx.stack.function_name();
    let deadline = Instant::now() + propagation_budget();
    let mut delay = Duration::from_millis(500);
    loop {
        match call().await {
            Ok(out) => return Ok(out),
            Err(e) => {
                let err = AwsError::call(KIND, &name, operation, e);
                if !is_transient(&err) || Instant::now() + delay > deadline {
                    return Err(err);
                }
                // Shown by default: this wait can last up to the budget.
                tracing::warn!(
                    "{operation} on {name}: AWS is not ready yet ({}); retrying in {:.1}s",
                    err.detail(),
                    delay.as_secs_f64()
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(8));
            }
        }
    }
}

/// The new role is not visible to Lambda yet, or the function is busy.
pub fn is_transient(err: &AwsError) -> bool {
    match err.code() {
        // On CreateFunction the same code means "already exists": not
        // something waiting will fix.
        Some("ResourceConflictException") => !is_already_exists(err),
        Some("InvalidParameterValueException") => is_role_not_assumable(err.detail()),
        _ => false,
    }
}

fn is_already_exists(err: &AwsError) -> bool {
    err.code() == Some("ResourceConflictException") && err.detail().contains("already exist")
}

fn is_role_not_assumable(message: &str) -> bool {
    message.contains("cannot be assumed by Lambda")
        || message.contains("role defined for the function")
}

/// Waits until the function is Active and its last update finished, and
/// quotes AWS's reason when it failed instead.
async fn wait_function_ready(ctx: &Ctx) -> Result<(), AwsError> {
    let name = ctx.stack.function_name();
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut delay = Duration::from_millis(250);
    loop {
        let c = ctx
            .clients
            .lambda
            .get_function_configuration()
            .function_name(&name)
            .send()
            .await
            .map_err(|e| AwsError::call(KIND, &name, "GetFunctionConfiguration", e))?;
        let pending = matches!(c.state(), Some(State::Pending));
        let updating = matches!(c.last_update_status(), Some(LastUpdateStatus::InProgress));
        if matches!(c.state(), Some(State::Failed)) {
            return Err(AwsError::Wait {
                kind: KIND,
                name,
                message: format!(
                    "Lambda reports state Failed: {} ({})",
                    c.state_reason().unwrap_or("no reason given"),
                    c.state_reason_code().map_or("", |r| r.as_str())
                ),
            });
        }
        if matches!(c.last_update_status(), Some(LastUpdateStatus::Failed)) {
            return Err(AwsError::Wait {
                kind: KIND,
                name,
                message: format!(
                    "Lambda reports the last update Failed: {}",
                    c.last_update_status_reason().unwrap_or("no reason given")
                ),
            });
        }
        if !pending && !updating {
            return Ok(());
        }
        if Instant::now() + delay > deadline {
            return Err(AwsError::Wait {
                kind: KIND,
                name,
                message: "still Pending or InProgress after 5 minutes".into(),
            });
        }
        tokio::time::sleep(delay).await;
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
            tags: d.tags,
        }
    }

    fn update_op(change: &Change) -> (bool, bool, bool) {
        match change.op.as_ref() {
            Some(AnyOp::Function(op)) => match op.as_ref() {
                Op::Update {
                    config, code, tags, ..
                } => (*config, *code, tags.is_some()),
                other => panic!("expected an update, got {other:?}"),
            },
            other => panic!("expected a function op, got {other:?}"),
        }
    }

    #[test]
    fn nothing_differs_nothing_to_do() {
        let ctx = test_ctx(STACK, Some("sha-a"));
        let change = diff(&ctx, Some(&live_as_desired(&ctx)), desired(&ctx));
        assert_eq!(change.action, Action::NoOp);
    }

    #[test]
    fn memory_is_a_configuration_update_only() {
        let ctx = test_ctx(STACK, Some("sha-a"));
        let mut live = live_as_desired(&ctx);
        live.memory_mb = Some(256);
        let change = diff(&ctx, Some(&live), desired(&ctx));
        assert_eq!(
            change.attrs,
            vec![Attr::new(
                "memory_mb",
                Some("256".into()),
                Some("128".into())
            )]
        );
        assert_eq!(update_op(&change), (true, false, false));
    }

    #[test]
    fn new_code_is_a_code_update_only() {
        let ctx = test_ctx(STACK, Some("sha-b"));
        let mut live = live_as_desired(&ctx);
        live.code_sha256 = Some("sha-a".into());
        let change = diff(&ctx, Some(&live), desired(&ctx));
        assert_eq!(
            change.attrs,
            vec![Attr::new(
                "code_sha256",
                Some("sha-a".into()),
                Some("sha-b".into())
            )]
        );
        assert_eq!(update_op(&change), (false, true, false));
    }

    #[test]
    fn a_new_webhook_is_a_sensitive_configuration_update() {
        let ctx = test_ctx(STACK, Some("sha-a"));
        let mut live = live_as_desired(&ctx);
        live.webhook = Some(Secret::new("https://hooks.slack.invalid/old"));
        let change = diff(&ctx, Some(&live), desired(&ctx));
        assert_eq!(change.attrs.len(), 1);
        assert!(change.attrs[0].sensitive, "{:?}", change.attrs);
        assert_eq!(update_op(&change), (true, false, false));
    }

    #[test]
    fn without_a_package_or_webhook_neither_is_compared() {
        let mut ctx = test_ctx(STACK, None);
        ctx.webhook = None;
        let mut live = live_as_desired(&test_ctx(STACK, Some("sha-a")));
        live.webhook = Some(Secret::new("https://hooks.slack.invalid/other"));
        let change = diff(&ctx, Some(&live), desired(&ctx));
        assert_eq!(change.action, Action::NoOp, "{:?}", change.attrs);
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
        let Some(AnyOp::Function(op)) = &change.op else {
            unreachable!()
        };
        let Op::Update {
            tags: Some(tags), ..
        } = op.as_ref()
        else {
            unreachable!()
        };
        assert_eq!(tags.remove, vec!["added-in-console".to_string()]);
    }

    fn call_err(code: &str, detail: &str) -> AwsError {
        AwsError::Call {
            kind: KIND,
            name: "s-relay".into(),
            operation: "CreateFunction",
            code: Some(code.into()),
            detail: detail.into(),
        }
    }

    #[test]
    fn retries_only_propagation_and_conflict() {
        assert!(is_transient(&call_err(
            "InvalidParameterValueException",
            "InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda."
        )));
        assert!(is_transient(&call_err("ResourceConflictException", "busy")));
        assert!(!is_transient(&call_err(
            "ResourceConflictException",
            "ResourceConflictException: Function already exist: s-relay"
        )));
        assert!(!is_transient(&call_err(
            "InvalidParameterValueException",
            "MemorySize must be >= 128"
        )));
        assert!(!is_transient(&call_err("AccessDeniedException", "no")));
    }
}
