//! SNS topic `{stack}-alarms`: the alarm's action target on route `sns`.
//! Depends on nothing; the subscription and alarms depend on it. Owned by tag.

use aws_sdk_sns::types::Tag;

use super::{Ctx, Op as AnyOp, TagDiff, Tags, check_owner, diff_tags, render_tags};
use crate::aws::AwsError;
use crate::plan::{Action, Attr, Change, Kind};

const KIND: &str = "sns topic";

#[derive(Debug, Clone)]
pub struct Live {
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub struct Desired {
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub enum Op {
    Create(Desired),
    Update { tags: TagDiff },
    Delete,
}

pub fn desired(ctx: &Ctx) -> Desired {
    Desired { tags: ctx.tags() }
}

pub async fn read(ctx: &Ctx) -> Result<Option<Live>, AwsError> {
    let name = ctx.stack.topic_name();
    let arn = ctx.topic_arn();
    let sns = &ctx.clients.sns;
    match sns.get_topic_attributes().topic_arn(&arn).send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_not_found_exception()) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(AwsError::call(KIND, &name, "GetTopicAttributes", e)),
    }
    let out = sns
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .map_err(|e| AwsError::call(KIND, &name, "ListTagsForResource", e))?;
    let tags: Tags = out
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect();
    check_owner(KIND, &name, &ctx.stack, &tags)?;
    Ok(Some(Live { tags }))
}

pub fn diff(ctx: &Ctx, live: Option<&Live>, want: Desired) -> Change {
    let name = ctx.stack.topic_name();
    let Some(live) = live else {
        let attrs = vec![Attr::new("tags", None, Some(render_tags(&want.tags)))];
        return Change::new(
            Kind::Topic,
            name,
            Action::Create,
            attrs,
            AnyOp::Topic(Op::Create(want)),
        );
    };
    let mut attrs = Vec::new();
    match diff_tags(&mut attrs, &live.tags, &want.tags) {
        None => Change::noop(Kind::Topic, name),
        Some(tags) => Change::new(
            Kind::Topic,
            name,
            Action::Update,
            attrs,
            AnyOp::Topic(Op::Update { tags }),
        ),
    }
}

fn sns_tags(tags: &Tags) -> Vec<Tag> {
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

pub async fn apply(ctx: &Ctx, op: &Op) -> Result<(), AwsError> {
    let name = ctx.stack.topic_name();
    let arn = ctx.topic_arn();
    let sns = &ctx.clients.sns;
    match op {
        // AWS: CreateTopic returns a same-named topic instead of failing, so
        // read() has already proven there is none, or that it is ours.
        Op::Create(want) => {
            sns.create_topic()
                .name(&name)
                .set_tags(Some(sns_tags(&want.tags)))
                .send()
                .await
                .map_err(|e| AwsError::call(KIND, &name, "CreateTopic", e))?;
            Ok(())
        }
        Op::Update { tags } => {
            if !tags.remove.is_empty() {
                sns.untag_resource()
                    .resource_arn(&arn)
                    .set_tag_keys(Some(tags.remove.clone()))
                    .send()
                    .await
                    .map_err(|e| AwsError::call(KIND, &name, "UntagResource", e))?;
            }
            if !tags.set.is_empty() {
                sns.tag_resource()
                    .resource_arn(&arn)
                    .set_tags(Some(sns_tags(&tags.set)))
                    .send()
                    .await
                    .map_err(|e| AwsError::call(KIND, &name, "TagResource", e))?;
            }
            Ok(())
        }
        Op::Delete => match sns.delete_topic().topic_arn(&arn).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(AwsError::call(KIND, &name, "DeleteTopic", e)),
        },
    }
}
