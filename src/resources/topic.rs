//! SNS topic `{stack}-alarms`: the alarm's action target on route `sns`.
//! Depends on nothing; the subscription and alarms depend on it. Owned by tag.

use aws_sdk_sns::operation::get_topic_attributes::GetTopicAttributesError;
use aws_sdk_sns::types::Tag;
use futures::future::BoxFuture;
use futures::{FutureExt as _, TryFutureExt as _};

use super::{
    Calls, Ctx, LiveState, Operation, Registration, Step, TagDiff, Tags, check_owner,
    converge_tags, diff_tags, index, render_tags, single_kind, tag_api, tag_list,
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
            Op::Create(want) => create(ctx, want).map_ok(drop).boxed(),
            Op::Update { tags } => update(ctx, tags).boxed(),
            Op::Delete => delete(ctx).boxed(),
        }
    }
}

single_kind!(
    name: |ctx: &Ctx| ctx.stack.topic_name(),
    plan: |ctx, live| match (ctx.stack.route, live) {
        (Route::Sns, current) => vec![diff(ctx, current, desired(ctx))],
        // Route direct needs no topic; one we made earlier goes.
        (Route::Direct, Some(_)) => vec![Step::delete(KIND, ctx.stack.topic_name(), Op::Delete)],
        (Route::Direct, None) => Vec::new(),
    }
);

/// The stack's topic, when it exists and is ours.
pub fn live(state: &LiveState) -> Option<&Live> {
    state.get::<Option<Live>>(KIND)?.as_ref()
}

pub fn desired(ctx: &Ctx) -> Desired {
    Desired { tags: ctx.tags() }
}

pub async fn read(ctx: &Ctx) -> Result<Option<Live>, AwsError> {
    let (name, arn) = (ctx.stack.topic_name(), ctx.topic_arn());
    let calls = Calls::new(KIND, &name);
    let sns = &ctx.clients.sns;
    let got = sns.get_topic_attributes().topic_arn(&arn).send().await;
    let not_found = |e: &GetTopicAttributesError| e.is_not_found_exception();
    if calls.found("GetTopicAttributes", got, not_found)?.is_none() {
        return Ok(None);
    }
    let tags = index::owner_tags(ctx, &arn, async {
        let listed = sns.list_tags_for_resource().resource_arn(&arn).send().await;
        let tags = calls.ok("ListTagsForResource", listed)?.tags;
        Ok(tags
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

tag_list!(sns_tags, Tag);

// AWS: CreateTopic returns a same-named topic instead of failing, so read()
// has already proven there is none, or that it is ours: no race to adopt.
// The topic is created with its tags in one call and the response carries
// only the ARN: the live value is what was sent, so no read follows.
async fn create(ctx: &Ctx, want: &Desired) -> Result<Live, AwsError> {
    let name = ctx.stack.topic_name();
    let sns = &ctx.clients.sns;
    let tags = Some(sns_tags(&want.tags));
    let sent = sns.create_topic().name(&name).set_tags(tags).send().await;
    Calls::new(KIND, &name).ok("CreateTopic", sent)?;
    Ok(Live {
        tags: want.tags.clone(),
    })
}

async fn update(ctx: &Ctx, tags: &TagDiff) -> Result<(), AwsError> {
    let (name, arn) = (ctx.stack.topic_name(), ctx.topic_arn());
    converge_tags(&Tagging::new(ctx, &name, &arn), tags).await
}

async fn delete(ctx: &Ctx) -> Result<(), AwsError> {
    let name = ctx.stack.topic_name();
    let sns = &ctx.clients.sns;
    let deleted = sns.delete_topic().topic_arn(ctx.topic_arn()).send().await;
    Calls::new(KIND, &name).gone("DeleteTopic", deleted, |e| e.is_not_found_exception())
}

tag_api!(
    sns,
    resource_arn,
    sns_tags,
    tag_resource / "TagResource",
    untag_resource / "UntagResource"
);
