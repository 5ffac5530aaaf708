//! CloudWatch Logs group `/aws/lambda/{stack}-relay` with a retention period.
//! Created before the function so Lambda never makes an untagged, never-
//! expiring one itself. Depends on nothing. Owned by tag.

use super::{Ctx, Op as AnyOp, TagDiff, Tags, check_owner, diff_tags, render_tags};
use crate::aws::AwsError;
use crate::plan::{Action, Attr, Change, Kind, compare};

const KIND: &str = "log group";

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

pub fn desired(ctx: &Ctx) -> Desired {
    Desired {
        retention_days: ctx.stack.handler.log_retention_days,
        tags: ctx.tags(),
    }
}

pub async fn read(ctx: &Ctx) -> Result<Option<Live>, AwsError> {
    let name = ctx.stack.log_group_name();
    let logs = &ctx.clients.logs;
    // DescribeLogGroups matches by prefix: `/aws/lambda/x-relay` is also a
    // prefix of `/aws/lambda/x-relay2`, so keep only the exact name.
    let out = logs
        .describe_log_groups()
        .log_group_name_prefix(&name)
        .send()
        .await
        .map_err(|e| AwsError::call(KIND, &name, "DescribeLogGroups", e))?;
    let Some(group) = out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name.as_str()))
    else {
        return Ok(None);
    };
    let tags_out = logs
        .list_tags_for_resource()
        .resource_arn(ctx.log_group_arn())
        .send()
        .await
        .map_err(|e| AwsError::call(KIND, &name, "ListTagsForResource", e))?;
    let tags: Tags = tags_out.tags.unwrap_or_default().into_iter().collect();
    check_owner(KIND, &name, &ctx.stack, &tags)?;
    Ok(Some(Live {
        retention_days: group.retention_in_days(),
        tags,
    }))
}

pub fn diff(ctx: &Ctx, live: Option<&Live>, want: Desired) -> Change {
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
        return Change::new(
            Kind::LogGroup,
            name,
            Action::Create,
            attrs,
            AnyOp::LogGroup(Op::Create(want)),
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
        return Change::noop(Kind::LogGroup, name);
    }
    Change::new(
        Kind::LogGroup,
        name,
        Action::Update,
        attrs,
        AnyOp::LogGroup(Op::Update {
            retention_days,
            tags,
        }),
    )
}

pub async fn apply(ctx: &Ctx, op: &Op) -> Result<(), AwsError> {
    let name = ctx.stack.log_group_name();
    let logs = &ctx.clients.logs;
    match op {
        Op::Create(want) => {
            match logs
                .create_log_group()
                .log_group_name(&name)
                .set_tags(Some(want.tags.clone().into_iter().collect()))
                .send()
                .await
            {
                Ok(_) => {}
                // AWS: made meanwhile (by us, earlier, or by Lambda logging
                // before we got here); converge it only if it is ours.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_already_exists_exception()) =>
                {
                    let live = read(ctx).await?;
                    if let Some(AnyOp::LogGroup(op @ Op::Update { .. })) =
                        diff(ctx, live.as_ref(), want.clone()).op
                    {
                        return Box::pin(apply(ctx, &op)).await;
                    }
                    return Ok(());
                }
                Err(e) => return Err(AwsError::call(KIND, &name, "CreateLogGroup", e)),
            }
            put_retention(ctx, &name, want.retention_days).await
        }
        Op::Update {
            retention_days,
            tags,
        } => {
            if let Some(days) = retention_days {
                put_retention(ctx, &name, *days).await?;
            }
            if let Some(tags) = tags {
                let arn = ctx.log_group_arn();
                if !tags.remove.is_empty() {
                    logs.untag_resource()
                        .resource_arn(&arn)
                        .set_tag_keys(Some(tags.remove.clone()))
                        .send()
                        .await
                        .map_err(|e| AwsError::call(KIND, &name, "UntagResource", e))?;
                }
                if !tags.set.is_empty() {
                    logs.tag_resource()
                        .resource_arn(&arn)
                        .set_tags(Some(tags.set.clone().into_iter().collect()))
                        .send()
                        .await
                        .map_err(|e| AwsError::call(KIND, &name, "TagResource", e))?;
                }
            }
            Ok(())
        }
        Op::Delete => match logs.delete_log_group().log_group_name(&name).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(AwsError::call(KIND, &name, "DeleteLogGroup", e)),
        },
    }
}

async fn put_retention(ctx: &Ctx, name: &str, days: i32) -> Result<(), AwsError> {
    ctx.clients
        .logs
        .put_retention_policy()
        .log_group_name(name)
        .retention_in_days(days)
        .send()
        .await
        .map_err(|e| AwsError::call(KIND, name, "PutRetentionPolicy", e))?;
    Ok(())
}
