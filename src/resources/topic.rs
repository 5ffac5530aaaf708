//! SNS topic `{stack}-alarms`: the alarm's action target on route `sns`.
//! Depends on nothing; the subscription and alarms depend on it. Owned by tag.

use std::future::Future;

use aws_sdk_sns::types::Tag;
use futures::FutureExt as _;
use futures::future::BoxFuture;

use super::{
    Ctx, LiveState, Operation, Registration, Single, Step, TagDiff, Tags, check_owner,
    converge_tags, diff_tags, found, gone, index, render_tags, tag_api,
};
use crate::aws::AwsError;
use crate::change::{Action, Attr, Change, Kind};
use crate::config::Route;

pub const KIND: Kind = Kind::new("topic", "sns topic");
pub const REGISTRATION: Registration = Registration::single::<Live>(&[]);
/// The IAM actions this kind calls (`relayctl policy`).
pub const IAM: &[super::iam::Grant] = &[super::iam::Grant {
    actions: &[
        "sns:GetTopicAttributes",
        "sns:ListTagsForResource",
        "sns:CreateTopic",
        "sns:TagResource",
        "sns:UntagResource",
        "sns:DeleteTopic",
    ],
    on: super::iam::Scope::Topic,
}];

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

impl Operation for Op {
    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<(), AwsError>> {
        match self {
            Op::Create(want) => create(ctx, want).boxed(),
            Op::Update { tags } => {
                let (name, arn) = (ctx.stack.topic_name(), ctx.topic_arn());
                async move {
                    let tagging = Tagging {
                        ctx,
                        name: &name,
                        id: &arn,
                    };
                    converge_tags(&tagging, tags).await
                }
                .boxed()
            }
            Op::Delete => delete(ctx).boxed(),
        }
    }
}

impl Single for Live {
    const KIND: Kind = KIND;
    const IAM: &[super::iam::Grant] = IAM;

    fn name(ctx: &Ctx) -> String {
        ctx.stack.topic_name()
    }

    fn read(ctx: &Ctx) -> impl Future<Output = Result<Option<Live>, AwsError>> + Send {
        read(ctx)
    }

    fn plan(ctx: &Ctx, live: Option<&Live>) -> Vec<Step> {
        match (ctx.stack.route, live) {
            (Route::Sns, current) => vec![diff(ctx, current, desired(ctx))],
            // Route direct needs no topic; one we made earlier goes.
            (Route::Direct, Some(_)) => vec![Step::delete(KIND, Self::name(ctx), Op::Delete)],
            (Route::Direct, None) => Vec::new(),
        }
    }

    fn delete() -> impl Operation {
        Op::Delete
    }
}

/// The stack's topic, when it exists and is ours.
pub fn live(state: &LiveState) -> Option<&Live> {
    state.get::<Option<Live>>(KIND)?.as_ref()
}

pub fn desired(ctx: &Ctx) -> Desired {
    Desired { tags: ctx.tags() }
}

pub async fn read(ctx: &Ctx) -> Result<Option<Live>, AwsError> {
    let name = ctx.stack.topic_name();
    let arn = ctx.topic_arn();
    let sns = &ctx.clients.sns;
    let got = sns.get_topic_attributes().topic_arn(&arn).send().await;
    if found(
        got,
        |e| e.is_not_found_exception(),
        KIND.label,
        &name,
        "GetTopicAttributes",
    )?
    .is_none()
    {
        return Ok(None);
    }
    let tags = index::owner_tags(ctx, &arn, async {
        let out = sns
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(|e| AwsError::call(KIND.label, &name, "ListTagsForResource", e))?;
        Ok(out
            .tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect())
    })
    .await?;
    check_owner(KIND, &name, &ctx.stack, &tags)?;
    Ok(Some(Live { tags }))
}

pub fn diff(ctx: &Ctx, live: Option<&Live>, want: Desired) -> Step {
    let name = ctx.stack.topic_name();
    let Some(live) = live else {
        let attrs = vec![Attr::new("tags", None, Some(render_tags(&want.tags)))];
        return Step::new(
            Change::new(KIND, name, Action::Create, attrs),
            Op::Create(want),
        );
    };
    let mut attrs = Vec::new();
    match diff_tags(&mut attrs, &live.tags, &want.tags) {
        None => Step::noop(KIND, name),
        Some(tags) => Step::new(
            Change::new(KIND, name, Action::Update, attrs),
            Op::Update { tags },
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

// AWS: CreateTopic returns a same-named topic instead of failing, so read()
// has already proven there is none, or that it is ours: no race to adopt.
async fn create(ctx: &Ctx, want: &Desired) -> Result<(), AwsError> {
    let name = ctx.stack.topic_name();
    ctx.clients
        .sns
        .create_topic()
        .name(&name)
        .set_tags(Some(sns_tags(&want.tags)))
        .send()
        .await
        .map_err(|e| AwsError::call(KIND.label, &name, "CreateTopic", e))?;
    Ok(())
}

async fn delete(ctx: &Ctx) -> Result<(), AwsError> {
    let deleted = ctx
        .clients
        .sns
        .delete_topic()
        .topic_arn(ctx.topic_arn())
        .send()
        .await;
    gone(
        deleted,
        |e| e.is_not_found_exception(),
        KIND.label,
        &ctx.stack.topic_name(),
        "DeleteTopic",
    )
}

tag_api!(
    sns,
    resource_arn,
    sns_tags,
    tag_resource / "TagResource",
    untag_resource / "UntagResource"
);
