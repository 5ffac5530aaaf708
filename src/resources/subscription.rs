//! SNS subscription of `{stack}-relay` (protocol lambda) to `{stack}-alarms`.
//! Depends on the topic and the function; it is made alongside the
//! permission that lets SNS invoke the function. Owned by its topic: only
//! the subscription whose endpoint is this stack's function is ours; other
//! subscribers are left alone.

use aws_sdk_sns::operation::list_subscriptions_by_topic::ListSubscriptionsByTopicError;
use aws_sdk_sns::operation::unsubscribe::UnsubscribeError;
use futures::future::BoxFuture;
use futures::{FutureExt as _, TryFutureExt as _};

use super::state::Part;
use super::{Calls, Ctx, LiveState, Operation, Registration, Step, function, topic};
use crate::aws::AwsError;
use crate::change::{Action, Attr, Change, Kind};
use crate::config::Route;

pub const KIND: Kind = Kind::new("subscription", "sns subscription");
pub const REGISTRATION: Registration = Registration {
    kind: KIND,
    // SNS delivers to the function only once the permission lets it, but
    // the topic's one publisher is the alarm, made after both (alarm.rs):
    // nothing is delivered before, so the two are written at once.
    depends_on: &[topic::KIND, function::KIND],
    read: read_part,
    up: plan_up,
    down: plan_down,
    iam: IAM,
};
/// The IAM actions this kind calls (`relayctl policy`).
pub const IAM: &[super::iam::Grant] = &[
    // AWS: Unsubscribe takes no resource ARN.
    super::iam::Grant {
        actions: &["sns:ListSubscriptionsByTopic", "sns:Subscribe"],
        on: super::iam::Scope::Topic,
    },
    super::iam::Grant {
        actions: &["sns:Unsubscribe"],
        on: super::iam::Scope::Any,
    },
];
const PROTOCOL: &str = "lambda";

#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub arn: String,
}

#[derive(Debug, Clone)]
pub enum Op {
    Create,
    Delete { arn: String },
}

impl Operation for Op {
    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<(), AwsError>> {
        match self {
            Op::Create => subscribe(ctx).map_ok(drop).boxed(),
            Op::Delete { arn } => unsubscribe(ctx, arn).boxed(),
        }
    }
}

fn read_part(ctx: &Ctx) -> BoxFuture<'_, Result<Part, AwsError>> {
    Box::pin(async move { Ok(Part::new(read(ctx).await?, Vec::new())) })
}

/// Ours only on our own topic: a foreign topic's subscribers are someone
/// else's, whatever their endpoint.
pub fn live(state: &LiveState) -> &[Live] {
    match topic::live(state) {
        Some(_) => state.get::<Vec<Live>>(KIND).map_or(&[], Vec::as_slice),
        None => &[],
    }
}

fn plan_up(ctx: &Ctx, state: &LiveState) -> Vec<Step> {
    diff(ctx, live(state), desired(ctx))
}

fn plan_down(ctx: &Ctx, state: &LiveState) -> Vec<Step> {
    diff(ctx, live(state), false)
}

pub fn display_name(ctx: &Ctx) -> String {
    format!(
        "{} -> {}",
        ctx.stack.topic_name(),
        ctx.stack.function_name()
    )
}

/// Whether the stack wants a subscription at all.
pub fn desired(ctx: &Ctx) -> bool {
    ctx.stack.route == Route::Sns
}

pub async fn read(ctx: &Ctx) -> Result<Vec<Live>, AwsError> {
    let function_arn = ctx.function_arn();
    let sns = &ctx.clients.sns;
    let pages = sns
        .list_subscriptions_by_topic()
        .topic_arn(ctx.topic_arn())
        .into_paginator()
        .send()
        .try_collect()
        .await;
    let name = display_name(ctx);
    let not_found = |e: &ListSubscriptionsByTopicError| e.is_not_found_exception();
    let Some(pages) =
        Calls::new(KIND, &name).found("ListSubscriptionsByTopic", pages, not_found)?
    else {
        return Ok(Vec::new());
    };
    let ours = |s: &&aws_sdk_sns::types::Subscription| {
        s.protocol() == Some(PROTOCOL)
            && s.endpoint()
                .is_some_and(|e| e == function_arn || e.starts_with(&format!("{function_arn}:")))
    };
    Ok(pages
        .iter()
        .flat_map(|page| page.subscriptions())
        .filter(ours)
        .filter_map(|s| s.subscription_arn())
        .map(|arn| Live {
            arn: arn.to_string(),
        })
        .collect())
}

pub fn diff(ctx: &Ctx, live: &[Live], want: bool) -> Vec<Step> {
    let name = display_name(ctx);
    let mut steps = Vec::new();
    let mut existing = live.iter();
    if want {
        if existing.next().is_some() {
            steps.push(Step::noop(KIND, &name));
        } else {
            let attrs = vec![
                Attr::new("protocol", None, Some(PROTOCOL.into())),
                Attr::new("endpoint", None, Some(ctx.function_arn())),
            ];
            steps.push(Step::new(
                Change::new(KIND, &name, Action::Create, attrs),
                Op::Create,
            ));
        }
    }
    // Duplicates (or any, when not wanted) are removed: one message, one post.
    for extra in existing {
        steps.push(Step::delete(
            KIND,
            &name,
            Op::Delete {
                arn: extra.arn.clone(),
            },
        ));
    }
    steps
}

/// The subscription as it now is: with ReturnSubscriptionArn, Subscribe
/// answers the ARN even before confirmation (a lambda endpoint needs none),
/// which is all `Live` holds, so no read follows.
async fn subscribe(ctx: &Ctx) -> Result<Live, AwsError> {
    let name = display_name(ctx);
    let sns = &ctx.clients.sns;
    let sent = sns
        .subscribe()
        .topic_arn(ctx.topic_arn())
        .protocol(PROTOCOL)
        .endpoint(ctx.function_arn())
        .return_subscription_arn(true)
        .send()
        .await;
    let out = Calls::new(KIND, &name).ok("Subscribe", sent)?;
    Ok(Live {
        arn: out.subscription_arn.unwrap_or_default(),
    })
}

async fn unsubscribe(ctx: &Ctx, arn: &str) -> Result<(), AwsError> {
    let sns = &ctx.clients.sns;
    let done = sns.unsubscribe().subscription_arn(arn).send().await;
    let not_found = |e: &UnsubscribeError| e.is_not_found_exception();
    Calls::new(KIND, &display_name(ctx)).gone("Unsubscribe", done, not_found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::test_ctx;

    const STACK: &str = "name: sub\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nalarms:\n  - name: cpu\n    instance_id: i-0123456789abcdef0";

    #[test]
    fn one_subscription_is_kept_duplicates_go() {
        let ctx = test_ctx(STACK, None);
        let live = vec![
            Live {
                arn: "arn:1".into(),
            },
            Live {
                arn: "arn:2".into(),
            },
        ];
        let changes = diff(&ctx, &live, true);
        let actions: Vec<Action> = changes.iter().map(|c| c.change.action).collect();
        assert_eq!(actions, vec![Action::NoOp, Action::Delete]);
        assert!(matches!(changes[1].op_as::<Op>(), Some(Op::Delete { arn }) if arn == "arn:2"));
        assert_eq!(diff(&ctx, &[], true)[0].change.action, Action::Create);
        assert!(diff(&ctx, &[], false).is_empty());
    }
}
