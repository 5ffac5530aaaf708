//! IAM role `{stack}-relay`: assumed by Lambda, with one inline policy that
//! lets the function write to its own log group and nothing else.
//! Depends on nothing; the function depends on it. Owned by tag.

use std::future::Future;

use aws_sdk_iam::types::Tag;
use futures::FutureExt as _;
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::{
    Ctx, Operation, Registration, Single, Step, TagDiff, Tags, adopt, check_owner, converge_tags,
    diff_tags, found, gone, normalize_policy, render_tags, tag_api,
};
use crate::aws::AwsError;
use crate::change::{Action, Attr, Change, Kind};

pub const KIND: Kind = Kind::new("role", "iam role");
pub const REGISTRATION: Registration = Registration::single::<Live>(&[]);
/// The inline policy's name; one per role, so a fixed name is enough.
pub const POLICY_NAME: &str = "relayctl-logs";

#[derive(Debug, Clone)]
pub struct Live {
    pub trust: Option<Value>,
    pub policy: Option<Value>,
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub struct Desired {
    pub trust: Value,
    pub policy: Value,
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub enum Op {
    Create(Desired),
    Update {
        trust: Option<Value>,
        policy: Option<Value>,
        tags: Option<TagDiff>,
    },
    Delete,
}

impl Operation for Op {
    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<(), AwsError>> {
        match self {
            Op::Create(want) => create(ctx, want).boxed(),
            Op::Update {
                trust,
                policy,
                tags,
            } => update(ctx, trust.as_ref(), policy.as_ref(), tags.as_ref()).boxed(),
            Op::Delete => delete(ctx).boxed(),
        }
    }
}

impl Single for Live {
    const KIND: Kind = KIND;

    fn name(ctx: &Ctx) -> String {
        ctx.stack.role_name()
    }

    fn read(ctx: &Ctx) -> impl Future<Output = Result<Option<Live>, AwsError>> + Send {
        read(ctx)
    }

    fn plan(ctx: &Ctx, live: Option<&Live>) -> Vec<Step> {
        vec![diff(ctx, live, desired(ctx))]
    }

    fn delete() -> impl Operation {
        Op::Delete
    }
}

pub fn desired(ctx: &Ctx) -> Desired {
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"
        }]
    });
    // Least privilege: the log group is created by relayctl, so the function
    // needs no logs:CreateLogGroup, only streams and events in its own group.
    let mut statements = vec![json!({
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": format!("{}:*", ctx.log_group_arn())
    })];
    if let Some(name) = &ctx.stack.slack.webhook_url_ssm {
        statements.extend(webhook_parameter_statements(ctx, name));
    }
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": statements
    });
    Desired {
        trust,
        policy,
        tags: ctx.tags(),
    }
}

/// The role's description (also the exported template's).
pub fn description(ctx: &Ctx) -> String {
    format!(
        "relayctl stack {}: runs the Slack relay function",
        ctx.stack.name
    )
}

/// With `webhook_url_ssm`: read that one parameter, and decrypt it only
/// through SSM and only for it.
// AWS: SSM encrypts a SecureString under the encryption context
// {"PARAMETER_ARN": <its ARN>} and calls KMS on the caller's behalf
// (https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html),
// so kms:ViaService plus that context pins Decrypt to this parameter via SSM
// whatever key `secret set --key-id` chose (the AWS-managed alias/aws/ssm's
// key id is not known without a KMS call).
fn webhook_parameter_statements(ctx: &Ctx, name: &str) -> [Value; 2] {
    let arn = ctx.parameter_arn(name);
    let c = &ctx.clients;
    [
        json!({
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": arn
        }),
        json!({
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": format!("arn:{}:kms:{}:{}:key/*", c.partition, c.region, c.account),
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": format!("ssm.{}.amazonaws.com", c.region),
                    "kms:EncryptionContext:PARAMETER_ARN": arn
                }
            }
        }),
    ]
}

pub async fn read(ctx: &Ctx) -> Result<Option<Live>, AwsError> {
    let name = ctx.stack.role_name();
    let iam = &ctx.clients.iam;
    let got = iam.get_role().role_name(&name).send().await;
    let Some(role) = found(
        got,
        |e| e.is_no_such_entity_exception(),
        KIND.label,
        &name,
        "GetRole",
    )?
    .and_then(|out| out.role) else {
        return Ok(None);
    };
    let tags = find_tags(ctx, &name, &role).await?;
    check_owner(KIND, &name, &ctx.stack, &tags)?;
    let got = iam
        .get_role_policy()
        .role_name(&name)
        .policy_name(POLICY_NAME)
        .send()
        .await;
    let policy = found(
        got,
        |e| e.is_no_such_entity_exception(),
        KIND.label,
        &name,
        "GetRolePolicy",
    )?
    .and_then(|out| normalize_policy(&out.policy_document));
    Ok(Some(Live {
        trust: role
            .assume_role_policy_document()
            .and_then(normalize_policy),
        policy,
        tags,
    }))
}

/// GetRole carries the tags in AWS; ListRoleTags is the fallback when an
/// endpoint leaves them out.
async fn find_tags(
    ctx: &Ctx,
    name: &str,
    role: &aws_sdk_iam::types::Role,
) -> Result<Tags, AwsError> {
    if let Some(tags) = role.tags.as_ref().filter(|t| !t.is_empty()) {
        return Ok(tags
            .iter()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect());
    }
    let out = ctx
        .clients
        .iam
        .list_role_tags()
        .role_name(name)
        .send()
        .await
        .map_err(|e| AwsError::call(KIND.label, name, "ListRoleTags", e))?;
    Ok(out.tags.into_iter().map(|t| (t.key, t.value)).collect())
}

pub fn diff(ctx: &Ctx, live: Option<&Live>, want: Desired) -> Step {
    let name = ctx.stack.role_name();
    let Some(live) = live else {
        let attrs = vec![
            Attr::new(
                "trust",
                None,
                Some("lambda.amazonaws.com may sts:AssumeRole".into()),
            ),
            Attr::new(
                "policy",
                None,
                Some(format!(
                    "{POLICY_NAME}: logs:CreateLogStream, logs:PutLogEvents on its own log group"
                )),
            ),
            Attr::new("tags", None, Some(render_tags(&want.tags))),
        ];
        return Step::new(
            Change::new(KIND, name, Action::Create, attrs),
            Op::Create(want),
        );
    };
    let mut attrs = Vec::new();
    let trust = changed_policy(&mut attrs, "trust", live.trust.as_ref(), &want.trust);
    let policy = changed_policy(&mut attrs, "policy", live.policy.as_ref(), &want.policy);
    let tags = diff_tags(&mut attrs, &live.tags, &want.tags);
    if attrs.is_empty() {
        return Step::noop(KIND, name);
    }
    let op = Op::Update {
        trust,
        policy,
        tags,
    };
    Step::new(Change::new(KIND, name, Action::Update, attrs), op)
}

/// The wanted document when it means something else than the live one.
fn changed_policy(
    attrs: &mut Vec<Attr>,
    name: &str,
    live: Option<&Value>,
    want: &Value,
) -> Option<Value> {
    let normal = normalize_policy(&want.to_string()).expect("our own policy is valid JSON");
    (live != Some(&normal)).then(|| {
        attrs.push(Attr::new(
            name,
            live.map(Value::to_string),
            Some(normal.to_string()),
        ));
        want.clone()
    })
}

async fn create(ctx: &Ctx, want: &Desired) -> Result<(), AwsError> {
    let name = ctx.stack.role_name();
    let created = ctx
        .clients
        .iam
        .create_role()
        .role_name(&name)
        .description(description(ctx))
        .assume_role_policy_document(want.trust.to_string())
        .set_tags(Some(iam_tags(&want.tags)))
        .send()
        .await;
    match created {
        Ok(_) => put_policy(ctx, &want.policy).await,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_entity_already_exists_exception()) =>
        {
            adopt(ctx, diff(ctx, read(ctx).await?.as_ref(), want.clone())).await
        }
        Err(e) => Err(AwsError::call(KIND.label, &name, "CreateRole", e)),
    }
}

async fn update(
    ctx: &Ctx,
    trust: Option<&Value>,
    policy: Option<&Value>,
    tags: Option<&TagDiff>,
) -> Result<(), AwsError> {
    let name = ctx.stack.role_name();
    if let Some(trust) = trust {
        ctx.clients
            .iam
            .update_assume_role_policy()
            .role_name(&name)
            .policy_document(trust.to_string())
            .send()
            .await
            .map_err(|e| AwsError::call(KIND.label, &name, "UpdateAssumeRolePolicy", e))?;
    }
    if let Some(policy) = policy {
        put_policy(ctx, policy).await?;
    }
    if let Some(tags) = tags {
        converge_tags(
            &Tagging {
                ctx,
                name: &name,
                id: &name,
            },
            tags,
        )
        .await?;
    }
    Ok(())
}

fn iam_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .expect("key and value set")
        })
        .collect()
}

async fn put_policy(ctx: &Ctx, policy: &Value) -> Result<(), AwsError> {
    let name = ctx.stack.role_name();
    ctx.clients
        .iam
        .put_role_policy()
        .role_name(&name)
        .policy_name(POLICY_NAME)
        .policy_document(policy.to_string())
        .send()
        .await
        .map_err(|e| AwsError::call(KIND.label, &name, "PutRolePolicy", e))?;
    Ok(())
}

tag_api!(
    iam,
    role_name,
    iam_tags,
    tag_role / "TagRole",
    untag_role / "UntagRole"
);

/// Inline policies must go before the role can; policies attached by
/// someone else are not ours to detach, so DeleteRole then fails and says so.
async fn delete(ctx: &Ctx) -> Result<(), AwsError> {
    let name = ctx.stack.role_name();
    let iam = &ctx.clients.iam;
    let deleted = iam
        .delete_role_policy()
        .role_name(&name)
        .policy_name(POLICY_NAME)
        .send()
        .await;
    gone(
        deleted,
        |e| e.is_no_such_entity_exception(),
        KIND.label,
        &name,
        "DeleteRolePolicy",
    )?;
    // AWS: right after DeleteRolePolicy, DeleteRole can still answer
    // DeleteConflict ("must delete policies first") until IAM's change has
    // propagated (issue 10.8): retry that, bounded.
    let mut delay = std::time::Duration::from_millis(250);
    let mut attempt = 1;
    loop {
        let deleted = iam.delete_role().role_name(&name).send().await;
        match deleted {
            Err(e)
                if attempt < DELETE_ROLE_ATTEMPTS
                    && e.as_service_error()
                        .is_some_and(|x| x.is_delete_conflict_exception()) =>
            {
                tracing::info!(
                    "DeleteRole {name}: DeleteConflict while IAM propagates the policy removal; retrying in {} ms (attempt {} of {DELETE_ROLE_ATTEMPTS})",
                    delay.as_millis(),
                    attempt + 1
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(4));
                attempt += 1;
            }
            other => {
                return gone(
                    other,
                    |e| e.is_no_such_entity_exception(),
                    KIND.label,
                    &name,
                    "DeleteRole",
                );
            }
        }
    }
}

/// DeleteRole attempts while it answers DeleteConflict: ~15 s of backoff.
const DELETE_ROLE_ATTEMPTS: u32 = 6;
