//! IAM role `{stack}-relay`: assumed by Lambda, with one inline policy that
//! lets the function write to its own log group and nothing else.
//! Depends on nothing; the function depends on it. Owned by tag.

use aws_sdk_iam::types::Tag;
use serde_json::{Value, json};

use super::{Ctx, Op as AnyOp, TagDiff, Tags, check_owner, diff_tags, normalize_policy};
use crate::aws::AwsError;
use crate::plan::{Action, Attr, Change, Kind};

const KIND: &str = "iam role";
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
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!("{}:*", ctx.log_group_arn())
        }]
    });
    Desired {
        trust,
        policy,
        tags: ctx.tags(),
    }
}

pub async fn read(ctx: &Ctx) -> Result<Option<Live>, AwsError> {
    let name = ctx.stack.role_name();
    let iam = &ctx.clients.iam;
    let role = match iam.get_role().role_name(&name).send().await {
        Ok(out) => out.role,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            None
        }
        Err(e) => return Err(AwsError::call(KIND, &name, "GetRole", e)),
    };
    let Some(role) = role else { return Ok(None) };
    let tags = find_tags(ctx, &name, &role).await?;
    check_owner(KIND, &name, &ctx.stack, &tags)?;
    let policy = match iam
        .get_role_policy()
        .role_name(&name)
        .policy_name(POLICY_NAME)
        .send()
        .await
    {
        Ok(out) => normalize_policy(&out.policy_document),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            None
        }
        Err(e) => return Err(AwsError::call(KIND, &name, "GetRolePolicy", e)),
    };
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
        .map_err(|e| AwsError::call(KIND, name, "ListRoleTags", e))?;
    Ok(out.tags.into_iter().map(|t| (t.key, t.value)).collect())
}

pub fn diff(ctx: &Ctx, live: Option<&Live>, want: Desired) -> Change {
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
            Attr::new("tags", None, Some(super::render_tags(&want.tags))),
        ];
        return Change::new(
            Kind::Role,
            name,
            Action::Create,
            attrs,
            AnyOp::Role(Op::Create(want)),
        );
    };
    let mut attrs = Vec::new();
    let want_trust = normalize_value_of(&want.trust);
    let want_policy = normalize_value_of(&want.policy);
    let trust = (live.trust.as_ref() != Some(&want_trust)).then(|| {
        attrs.push(Attr::new(
            "trust",
            live.trust.as_ref().map(Value::to_string),
            Some(want_trust.to_string()),
        ));
        want.trust.clone()
    });
    let policy = (live.policy.as_ref() != Some(&want_policy)).then(|| {
        attrs.push(Attr::new(
            "policy",
            live.policy.as_ref().map(Value::to_string),
            Some(want_policy.to_string()),
        ));
        want.policy.clone()
    });
    let tags = diff_tags(&mut attrs, &live.tags, &want.tags);
    if attrs.is_empty() {
        return Change::noop(Kind::Role, name);
    }
    Change::new(
        Kind::Role,
        name,
        Action::Update,
        attrs,
        AnyOp::Role(Op::Update {
            trust,
            policy,
            tags,
        }),
    )
}

fn normalize_value_of(v: &Value) -> Value {
    normalize_policy(&v.to_string()).expect("our own policy is valid JSON")
}

pub async fn apply(ctx: &Ctx, op: &Op) -> Result<(), AwsError> {
    let name = ctx.stack.role_name();
    let iam = &ctx.clients.iam;
    match op {
        Op::Create(want) => {
            let created = iam
                .create_role()
                .role_name(&name)
                .description(format!(
                    "relayctl stack {}: runs the Slack relay function",
                    ctx.stack.name
                ))
                .assume_role_policy_document(want.trust.to_string())
                .set_tags(Some(iam_tags(&want.tags)))
                .send()
                .await;
            match created {
                Ok(_) => {}
                // AWS: a concurrent or half-finished earlier run made it; adopt
                // it only if it proves to be ours, then converge it.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_entity_already_exists_exception()) =>
                {
                    let live = read(ctx).await?;
                    if let Some(change) = diff(ctx, live.as_ref(), want.clone()).op
                        && let AnyOp::Role(op @ Op::Update { .. }) = change
                    {
                        return Box::pin(apply(ctx, &op)).await;
                    }
                }
                Err(e) => return Err(AwsError::call(KIND, &name, "CreateRole", e)),
            }
            put_policy(ctx, &want.policy).await
        }
        Op::Update {
            trust,
            policy,
            tags,
        } => {
            if let Some(trust) = trust {
                iam.update_assume_role_policy()
                    .role_name(&name)
                    .policy_document(trust.to_string())
                    .send()
                    .await
                    .map_err(|e| AwsError::call(KIND, &name, "UpdateAssumeRolePolicy", e))?;
            }
            if let Some(policy) = policy {
                put_policy(ctx, policy).await?;
            }
            if let Some(tags) = tags {
                apply_tags(ctx, &name, tags).await?;
            }
            Ok(())
        }
        Op::Delete => delete(ctx, &name).await,
    }
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
        .map_err(|e| AwsError::call(KIND, &name, "PutRolePolicy", e))?;
    Ok(())
}

async fn apply_tags(ctx: &Ctx, name: &str, tags: &TagDiff) -> Result<(), AwsError> {
    let iam = &ctx.clients.iam;
    if !tags.remove.is_empty() {
        iam.untag_role()
            .role_name(name)
            .set_tag_keys(Some(tags.remove.clone()))
            .send()
            .await
            .map_err(|e| AwsError::call(KIND, name, "UntagRole", e))?;
    }
    if !tags.set.is_empty() {
        iam.tag_role()
            .role_name(name)
            .set_tags(Some(iam_tags(&tags.set)))
            .send()
            .await
            .map_err(|e| AwsError::call(KIND, name, "TagRole", e))?;
    }
    Ok(())
}

/// Inline policies must go before the role can; policies attached by
/// someone else are not ours to detach, so DeleteRole then fails and says so.
async fn delete(ctx: &Ctx, name: &str) -> Result<(), AwsError> {
    let iam = &ctx.clients.iam;
    match iam
        .delete_role_policy()
        .role_name(name)
        .policy_name(POLICY_NAME)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) => {}
        Err(e) => return Err(AwsError::call(KIND, name, "DeleteRolePolicy", e)),
    }
    match iam.delete_role().role_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::call(KIND, name, "DeleteRole", e)),
    }
}
