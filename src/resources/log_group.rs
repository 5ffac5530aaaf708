//! CloudWatch Logs group `/aws/lambda/{stack}-relay` with a retention period.
//! Created before the function so Lambda never makes an untagged, never-
//! expiring one itself. Depends on nothing. Owned by tag.

use aws_sdk_cloudwatchlogs::operation::delete_log_group::DeleteLogGroupError;
use futures::future::BoxFuture;
use futures::{FutureExt as _, TryFutureExt as _};

use super::{
    Calls, Ctx, Operation, Registration, Step, TagDiff, Tags, adopt, check_owner, deferred,
    diff_tags, index, render_tags, single_kind, tag_api,
};
use crate::aws::AwsError;
use crate::change::{Action, Attr, Change, Kind, compare};

pub const KIND: Kind = Kind::new("log_group", "log group");
pub const REGISTRATION: Registration = Registration::single::<Live>(&[]);
/// The IAM actions this kind calls (`relayctl policy`).
pub const IAM: &[super::iam::Grant] = &[
    // AWS: DescribeLogGroups takes no resource ARN.
    super::iam::Grant {
        actions: &["logs:DescribeLogGroups"],
        on: super::iam::Scope::Any,
    },
    super::iam::Grant {
        actions: &[
            "logs:ListTagsForResource",
            "logs:CreateLogGroup",
            "logs:PutRetentionPolicy",
            "logs:TagResource",
            "logs:UntagResource",
            "logs:DeleteLogGroup",
        ],
        on: super::iam::Scope::LogGroup,
    },
];

#[derive(Debug, Clone)]
pub struct Live {
    pub retention_days: Option<i32>,
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub struct Desired {
    pub retention_days: i32,
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub enum Op {
    Create(Desired),
    Update {
        retention_days: Option<i32>,
        tags: Option<TagDiff>,
    },
    Delete,
}

impl Operation for Op {
    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<(), AwsError>> {
        match self {
            Op::Create(want) => create(ctx, want).map_ok(drop).boxed(),
            Op::Update {
                retention_days,
                tags,
            } => update(ctx, *retention_days, tags.as_ref()).boxed(),
            Op::Delete => delete(ctx).boxed(),
        }
    }
}

single_kind!(name: |ctx: &Ctx| ctx.stack.log_group_name());

pub fn desired(ctx: &Ctx) -> Desired {
    Desired {
        retention_days: ctx.stack.handler.log_retention_days,
        tags: ctx.tags(),
    }
}

pub async fn read(ctx: &Ctx) -> Result<Option<Live>, AwsError> {
    let name = ctx.stack.log_group_name();
    let calls = Calls::new(KIND, &name);
    let logs = &ctx.clients.logs;
    // DescribeLogGroups matches by prefix: `/aws/lambda/x-relay` is also a
    // prefix of `/aws/lambda/x-relay2`, so keep only the exact name.
    let listed = logs
        .describe_log_groups()
        .log_group_name_prefix(&name)
        .send()
        .await;
    let out = calls.ok("DescribeLogGroups", listed)?;
    let Some(group) = out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name.as_str()))
    else {
        return Ok(None);
    };
    let arn = ctx.log_group_arn();
    let tags = index::owner_tags(ctx, &arn, async {
        let listed = logs
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await;
        let tags = calls.ok("ListTagsForResource", listed)?.tags;
        Ok(tags.unwrap_or_default().into_iter().collect())
    })
    .await?;
    check_owner(KIND, &name, &ctx.stack, &tags)?;
    Ok(Some(Live {
        retention_days: group.retention_in_days(),
        tags,
    }))
}

pub fn diff(ctx: &Ctx, live: Option<&Live>, want: Desired) -> Step {
    let name = ctx.stack.log_group_name();
    let Some(live) = live else {
        let attrs = vec![
            Attr::new(
                "retention_days",
                None,
                Some(want.retention_days.to_string()),
            ),
            Attr::new("tags", None, Some(render_tags(&want.tags))),
        ];
        return Step::new(
            Change::new(KIND, name, Action::Create, attrs),
            Op::Create(want),
        );
    };
    let mut attrs = Vec::new();
    compare(
        &mut attrs,
        "retention_days",
        Some(
            live.retention_days
                .map_or("never expire".into(), |d| d.to_string()),
        ),
        Some(want.retention_days.to_string()),
    );
    let retention_days = (!attrs.is_empty()).then_some(want.retention_days);
    let tags = diff_tags(&mut attrs, &live.tags, &want.tags);
    if attrs.is_empty() {
        return Step::noop(KIND, name);
    }
    let op = Op::Update {
        retention_days,
        tags,
    };
    Step::new(Change::new(KIND, name, Action::Update, attrs), op)
}

/// The group as it now is. CreateLogGroup (with the tags) and
/// PutRetentionPolicy answer nothing but success, and set exactly what was
/// sent: the live value is that, so no read follows. After a lost race the
/// group is read anyway (to prove it ours), and that read is the answer.
async fn create(ctx: &Ctx, want: &Desired) -> Result<Live, AwsError> {
    let name = ctx.stack.log_group_name();
    let logs = &ctx.clients.logs;
    let tags = Some(want.tags.clone().into_iter().collect());
    let created = logs
        .create_log_group()
        .log_group_name(&name)
        .set_tags(tags)
        .send()
        .await;
    match created {
        // Retention matters once the function logs, not for its create
        // (deferred.rs).
        Ok(_) => ctx
            .deferred
            .push(put_retention(ctx, &name, want.retention_days)),
        // AWS: made meanwhile (by us, earlier, or by Lambda logging before
        // we got here); converge it only if it is ours.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_already_exists_exception()) =>
        {
            let live = read(ctx).await?;
            adopt(ctx, diff(ctx, live.as_ref(), want.clone())).await?;
        }
        Err(e) => return Err(AwsError::call(KIND.label, &name, "CreateLogGroup", e)),
    }
    Ok(Live {
        retention_days: Some(want.retention_days),
        tags: want.tags.clone(),
    })
}

async fn update(
    ctx: &Ctx,
    retention_days: Option<i32>,
    tags: Option<&TagDiff>,
) -> Result<(), AwsError> {
    let name = ctx.stack.log_group_name();
    if let Some(days) = retention_days {
        put_retention(ctx, &name, days).await?;
    }
    Tagging::new(ctx, &name, &ctx.log_group_arn())
        .converge(tags)
        .await
}

async fn delete(ctx: &Ctx) -> Result<(), AwsError> {
    let name = ctx.stack.log_group_name();
    let logs = &ctx.clients.logs;
    let deleted = logs.delete_log_group().log_group_name(&name).send().await;
    let not_found = |e: &DeleteLogGroupError| e.is_resource_not_found_exception();
    Calls::new(KIND, &name).gone("DeleteLogGroup", deleted, not_found)
}

/// A future that borrows nothing, so `ctx.deferred` can hold it too.
fn put_retention(ctx: &Ctx, name: &str, days: i32) -> deferred::Write {
    let send = ctx
        .clients
        .logs
        .put_retention_policy()
        .log_group_name(name)
        .retention_in_days(days)
        .send();
    let name = name.to_string();
    async move {
        Calls::new(KIND, &name).ok("PutRetentionPolicy", send.await)?;
        Ok(())
    }
    .boxed()
}

tag_api!(
    logs,
    resource_arn,
    |t: &Tags| t.clone().into_iter().collect(),
    tag_resource / "TagResource",
    untag_resource / "UntagResource"
);
