//! SNS subscription of `{stack}-relay` (protocol lambda) to `{stack}-alarms`.
//! Depends on the topic, the function and the permission that lets SNS
//! invoke it. Owned by its topic: only the subscription whose endpoint is
//! this stack's function is ours; other subscribers are left alone.

use super::{Ctx, Op as AnyOp};
use crate::aws::AwsError;
use crate::config::Route;
use crate::plan::{Action, Attr, Change, Kind};

const KIND: &str = "sns subscription";
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
    let sns = &ctx.clients.sns;
    let function_arn = ctx.function_arn();
    let mut found = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let out = match sns
            .list_subscriptions_by_topic()
            .topic_arn(ctx.topic_arn())
            .set_next_token(next.take())
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_not_found_exception()) =>
            {
                return Ok(Vec::new());
            }
            Err(e) => {
                return Err(AwsError::call(
                    KIND,
                    display_name(ctx),
                    "ListSubscriptionsByTopic",
                    e,
                ));
            }
        };
        for s in out.subscriptions() {
            let ours = s.protocol() == Some(PROTOCOL)
                && s.endpoint().is_some_and(|e| {
                    e == function_arn || e.starts_with(&format!("{function_arn}:"))
                });
            if let (true, Some(arn)) = (ours, s.subscription_arn()) {
                found.push(Live {
                    arn: arn.to_string(),
                });
            }
        }
        match out.next_token {
            Some(t) if !t.is_empty() => next = Some(t),
            _ => return Ok(found),
        }
    }
}

pub fn diff(ctx: &Ctx, live: &[Live], want: bool) -> Vec<Change> {
    let name = display_name(ctx);
    let mut changes = Vec::new();
    let mut existing = live.iter();
    if want {
        if existing.next().is_some() {
            changes.push(Change::noop(Kind::Subscription, &name));
        } else {
            changes.push(Change::new(
                Kind::Subscription,
                &name,
                Action::Create,
                vec![
                    Attr::new("protocol", None, Some(PROTOCOL.into())),
                    Attr::new("endpoint", None, Some(ctx.function_arn())),
                ],
                AnyOp::Subscription(Op::Create),
            ));
        }
    }
    // Duplicates (or any, when not wanted) are removed: one message, one post.
    for extra in existing {
        changes.push(Change::new(
            Kind::Subscription,
            &name,
            Action::Delete,
            Vec::new(),
            AnyOp::Subscription(Op::Delete {
                arn: extra.arn.clone(),
            }),
        ));
    }
    changes
}

pub async fn apply(ctx: &Ctx, op: &Op) -> Result<(), AwsError> {
    let sns = &ctx.clients.sns;
    match op {
        Op::Create => {
            sns.subscribe()
                .topic_arn(ctx.topic_arn())
                .protocol(PROTOCOL)
                .endpoint(ctx.function_arn())
                .return_subscription_arn(true)
                .send()
                .await
                .map_err(|e| AwsError::call(KIND, display_name(ctx), "Subscribe", e))?;
            Ok(())
        }
        Op::Delete { arn } => match sns.unsubscribe().subscription_arn(arn).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(AwsError::call(KIND, display_name(ctx), "Unsubscribe", e)),
        },
    }
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
        let actions: Vec<Action> = changes.iter().map(|c| c.action).collect();
        assert_eq!(actions, vec![Action::NoOp, Action::Delete]);
        assert!(
            matches!(&changes[1].op, Some(AnyOp::Subscription(Op::Delete { arn })) if arn == "arn:2")
        );
        assert_eq!(diff(&ctx, &[], true)[0].action, Action::Create);
        assert!(diff(&ctx, &[], false).is_empty());
    }
}
