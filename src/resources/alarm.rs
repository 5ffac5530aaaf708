//! CloudWatch metric alarms `{stack}-{alarm}`: one per `alarms:` entry, on
//! the instance's metric, acting on the topic (route sns) or the function
//! (route direct). Depend on the whole path they notify: topic, function,
//! permission and subscription. Owned by tag.
//! An owned alarm under the stack's prefix that the file no longer lists is
//! deleted; a foreign alarm under the prefix is not ours to see.

use std::any::Any;

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricAlarm, Statistic, Tag};
use futures::future::BoxFuture;
use futures::{FutureExt as _, StreamExt, TryStreamExt, stream};

use super::state::Part;
use super::{
    Ctx, LiveState, Operation, Registration, Step, TagDiff, Tags, check_owner, converge_tags,
    diff_tags, function, index, is_owned, permission, render_tags, subscription, tag_api, topic,
};
use crate::aws::AwsError;
use crate::change::{Action, Attr, Change, Kind, compare};
use crate::config::{Alarm, Route};

pub const KIND: Kind = Kind::new("alarm", "cloudwatch alarm");
pub const REGISTRATION: Registration = Registration {
    kind: KIND,
    // Its action targets the topic (route sns) or the function (direct),
    // and a state change in its first seconds must reach Slack: it is made
    // only after the whole path it notifies (the function's permission and
    // the topic's subscription) is in place, and deleted before any of it.
    depends_on: &[
        topic::KIND,
        function::KIND,
        permission::KIND,
        subscription::KIND,
    ],
    read: read_part,
    up: plan_up,
    down: plan_down,
    iam: IAM,
};
/// The IAM actions this kind calls (`relayctl policy`).
pub const IAM: &[super::iam::Grant] = &[super::iam::Grant {
    actions: &[
        "cloudwatch:DescribeAlarms",
        "cloudwatch:ListTagsForResource",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:TagResource",
        "cloudwatch:UntagResource",
        "cloudwatch:DeleteAlarms",
    ],
    on: super::iam::Scope::Alarms,
}];
/// Per-alarm tag reads in flight at once; only alarms the tagging index
/// does not list need one.
const TAG_READS_AT_ONCE: usize = 8;
/// DeleteAlarms takes at most 100 names a call.
const DELETE_BATCH: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub metric: String,
    pub namespace: String,
    pub statistic: String,
    pub period_s: i32,
    pub evaluation_periods: i32,
    pub threshold: f64,
    pub comparison: String,
    /// Sorted `Name=Value` pairs.
    pub dimensions: Vec<String>,
    /// Sorted, as AWS treats them as sets.
    pub alarm_actions: Vec<String>,
    pub ok_actions: Vec<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Live {
    pub name: String,
    pub spec: Spec,
    pub tags: Tags,
    pub state: Option<String>,
    pub state_reason: Option<String>,
    pub state_updated: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Desired {
    pub name: String,
    pub instance_id: String,
    pub spec: Spec,
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub enum Op {
    /// `spec`: the alarm itself changes (PutMetricAlarm); false for a
    /// tags-only update, which must not rewrite the alarm.
    Put {
        want: Box<Desired>,
        create: bool,
        spec: bool,
        tags: Option<TagDiff>,
    },
    Delete {
        name: String,
    },
}

impl Operation for Op {
    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<(), AwsError>> {
        match self {
            Op::Put {
                want,
                create,
                spec,
                tags,
            } => put_and_tag(ctx, want, *create, *spec, tags.as_ref()).boxed(),
            Op::Delete { name } => delete_many(ctx, std::slice::from_ref(name)).boxed(),
        }
    }

    fn lane(&self) -> Option<&'static str> {
        matches!(self, Op::Delete { .. }).then_some("cloudwatch alarm deletes")
    }

    /// DeleteAlarms takes up to 100 names: one call for many deletions.
    fn run_batch<'a>(
        &'a self,
        ctx: &'a Ctx,
        lane: &'a [&'a dyn Operation],
    ) -> Option<BoxFuture<'a, Result<(), AwsError>>> {
        let names: Vec<String> = lane
            .iter()
            .filter_map(|op| match (*op as &dyn Any).downcast_ref::<Op>() {
                Some(Op::Delete { name }) => Some(name.clone()),
                _ => None,
            })
            .collect();
        Some(async move { delete_many(ctx, &names).await }.boxed())
    }
}

fn read_part(ctx: &Ctx) -> BoxFuture<'_, Result<Part, AwsError>> {
    Box::pin(async move {
        let (live, foreign) = read(ctx).await?;
        Ok(Part::new(live, foreign))
    })
}

/// Every owned alarm under the stack's prefix.
pub fn live(state: &LiveState) -> &[Live] {
    state.get::<Vec<Live>>(KIND).map_or(&[], Vec::as_slice)
}

fn plan_up(ctx: &Ctx, state: &LiveState) -> Vec<Step> {
    diff(live(state), desired(ctx))
}

fn plan_down(_: &Ctx, state: &LiveState) -> Vec<Step> {
    diff(live(state), Vec::new())
}

pub fn desired(ctx: &Ctx) -> Vec<Desired> {
    ctx.stack
        .alarms
        .iter()
        .map(|a| desired_one(ctx, a))
        .collect()
}

fn desired_one(ctx: &Ctx, a: &Alarm) -> Desired {
    let target = match ctx.stack.route {
        Route::Sns => ctx.topic_arn(),
        Route::Direct => ctx.function_arn(),
    };
    let ok_actions = if a.notify_ok {
        vec![target.clone()]
    } else {
        Vec::new()
    };
    Desired {
        name: ctx.stack.alarm_name(a),
        instance_id: a.instance_id.clone(),
        spec: Spec {
            metric: a.metric.clone(),
            namespace: a.namespace.clone(),
            statistic: a.statistic.clone(),
            period_s: a.period_s,
            evaluation_periods: a.evaluation_periods,
            threshold: a.threshold,
            comparison: a.comparison.as_str().to_string(),
            dimensions: vec![format!("InstanceId={}", a.instance_id)],
            alarm_actions: vec![target],
            ok_actions,
            // Only names here: a description that repeats the threshold
            // would turn one edit into two changed attributes.
            description: Some(format!(
                "relayctl stack {}: alarm {} on {}; managed by relayctl, edit stack.yaml instead",
                ctx.stack.name, a.name, a.instance_id
            )),
        },
        tags: ctx.tags(),
    }
}

/// Every owned alarm under the stack's prefix. A wanted name that exists
/// without our tag comes back in the second list, as a Foreign error.
pub async fn read(ctx: &Ctx) -> Result<(Vec<Live>, Vec<AwsError>), AwsError> {
    let prefix = format!("{}-", ctx.stack.name);
    let wanted: Vec<String> = ctx
        .stack
        .alarms
        .iter()
        .map(|a| ctx.stack.alarm_name(a))
        .collect();
    let found = describe_by_prefix(ctx, &prefix).await?;
    let tagged: Vec<(MetricAlarm, Tags)> = stream::iter(found)
        .map(|alarm| async move {
            let tags = find_tags(ctx, &alarm).await?;
            Ok::<_, AwsError>((alarm, tags))
        })
        .buffered(TAG_READS_AT_ONCE)
        .try_collect()
        .await?;
    let mut live = Vec::new();
    let mut foreign = Vec::new();
    for (alarm, tags) in tagged {
        let name = alarm.alarm_name().unwrap_or_default().to_string();
        if is_owned(&ctx.stack, &tags) {
            live.push(flatten(alarm, tags));
        } else if wanted.contains(&name) {
            foreign.extend(check_owner(KIND, &name, &ctx.stack, &tags).err());
        }
    }
    Ok((live, foreign))
}

async fn describe_by_prefix(ctx: &Ctx, prefix: &str) -> Result<Vec<MetricAlarm>, AwsError> {
    let pages = ctx
        .clients
        .cloudwatch
        .describe_alarms()
        .alarm_name_prefix(prefix)
        .max_records(100)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::call(KIND.label, format!("{prefix}*"), "DescribeAlarms", e))?;
    // DescribeAlarms answers a missing alarm with an empty list, not an error.
    Ok(pages
        .into_iter()
        .flat_map(|page| page.metric_alarms.unwrap_or_default())
        .collect())
}

/// The alarm's tags from the tagging index; its own ListTagsForResource only
/// when the index does not list it (just made, or not ours).
async fn find_tags(ctx: &Ctx, alarm: &MetricAlarm) -> Result<Tags, AwsError> {
    let name = alarm.alarm_name().unwrap_or_default();
    let arn = alarm
        .alarm_arn()
        .map(str::to_string)
        .unwrap_or_else(|| ctx.alarm_arn(name));
    index::owner_tags(ctx, &arn, async {
        let out = ctx
            .clients
            .cloudwatch
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(|e| AwsError::call(KIND.label, name, "ListTagsForResource", e))?;
        Ok(out
            .tags
            .unwrap_or_default()
            .into_iter()
            .filter_map(|t| Some((t.key?, t.value?)))
            .collect())
    })
    .await
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn flatten(a: MetricAlarm, tags: Tags) -> Live {
    Live {
        name: a.alarm_name().unwrap_or_default().to_string(),
        spec: Spec {
            metric: a.metric_name().unwrap_or_default().to_string(),
            namespace: a.namespace().unwrap_or_default().to_string(),
            statistic: a
                .statistic()
                .map_or(String::new(), |s| s.as_str().to_string()),
            period_s: a.period().unwrap_or_default(),
            evaluation_periods: a.evaluation_periods().unwrap_or_default(),
            threshold: a.threshold().unwrap_or_default(),
            comparison: a
                .comparison_operator()
                .map_or(String::new(), |c| c.as_str().to_string()),
            dimensions: sorted(
                a.dimensions()
                    .iter()
                    .map(|d| {
                        format!(
                            "{}={}",
                            d.name().unwrap_or_default(),
                            d.value().unwrap_or_default()
                        )
                    })
                    .collect(),
            ),
            alarm_actions: sorted(a.alarm_actions().to_vec()),
            ok_actions: sorted(a.ok_actions().to_vec()),
            description: a.alarm_description().map(str::to_string),
        },
        tags,
        state: a.state_value().map(|s| s.as_str().to_string()),
        state_reason: a.state_reason().map(str::to_string),
        state_updated: a.state_updated_timestamp().map(|t| t.to_string()),
    }
}

fn spec_attrs(attrs: &mut Vec<Attr>, old: Option<&Spec>, new: &Spec) {
    let list = |v: &Vec<String>| format!("[{}]", v.join(", "));
    let pairs: [(&str, Option<String>, String); 10] = [
        ("metric", old.map(|o| o.metric.clone()), new.metric.clone()),
        (
            "namespace",
            old.map(|o| o.namespace.clone()),
            new.namespace.clone(),
        ),
        (
            "statistic",
            old.map(|o| o.statistic.clone()),
            new.statistic.clone(),
        ),
        (
            "period_s",
            old.map(|o| o.period_s.to_string()),
            new.period_s.to_string(),
        ),
        (
            "evaluation_periods",
            old.map(|o| o.evaluation_periods.to_string()),
            new.evaluation_periods.to_string(),
        ),
        (
            "threshold",
            old.map(|o| o.threshold.to_string()),
            new.threshold.to_string(),
        ),
        (
            "comparison",
            old.map(|o| o.comparison.clone()),
            new.comparison.clone(),
        ),
        (
            "dimensions",
            old.map(|o| list(&o.dimensions)),
            list(&new.dimensions),
        ),
        (
            "alarm_actions",
            old.map(|o| list(&o.alarm_actions)),
            list(&new.alarm_actions),
        ),
        (
            "ok_actions",
            old.map(|o| list(&o.ok_actions)),
            list(&new.ok_actions),
        ),
    ];
    for (name, old, new) in pairs {
        compare(attrs, name, old, Some(new));
    }
    compare(
        attrs,
        "description",
        old.and_then(|o| o.description.clone()),
        new.description.clone(),
    );
}

pub fn diff(live: &[Live], want: Vec<Desired>) -> Vec<Step> {
    let mut steps: Vec<Step> = want
        .iter()
        .map(|w| diff_one(live.iter().find(|l| l.name == w.name), w))
        .collect();
    for l in live
        .iter()
        .filter(|l| !want.iter().any(|w| w.name == l.name))
    {
        steps.push(Step::delete(
            KIND,
            &l.name,
            Op::Delete {
                name: l.name.clone(),
            },
        ));
    }
    steps
}

fn diff_one(current: Option<&Live>, w: &Desired) -> Step {
    let mut attrs = Vec::new();
    spec_attrs(&mut attrs, current.map(|l| &l.spec), &w.spec);
    let Some(l) = current else {
        attrs.push(Attr::new("tags", None, Some(render_tags(&w.tags))));
        let op = Op::Put {
            want: Box::new(w.clone()),
            create: true,
            spec: true,
            tags: None,
        };
        return Step::new(Change::new(KIND, &w.name, Action::Create, attrs), op);
    };
    let spec_changed = !attrs.is_empty();
    let tags = diff_tags(&mut attrs, &l.tags, &w.tags);
    if attrs.is_empty() {
        return Step::noop(KIND, &w.name);
    }
    let mut change = Change::new(KIND, &w.name, Action::Update, attrs);
    if !spec_changed {
        change = change.with_note("tags only");
    }
    let op = Op::Put {
        want: Box::new(w.clone()),
        create: false,
        spec: spec_changed,
        tags,
    };
    Step::new(change, op)
}

async fn put_and_tag(
    ctx: &Ctx,
    want: &Desired,
    create: bool,
    spec: bool,
    tags: Option<&TagDiff>,
) -> Result<(), AwsError> {
    if spec {
        put(ctx, want, create).await?;
    }
    if let Some(tags) = tags {
        let arn = ctx.alarm_arn(&want.name);
        converge_tags(
            &Tagging {
                ctx,
                name: &want.name,
                id: &arn,
            },
            tags,
        )
        .await?;
    }
    Ok(())
}

async fn put(ctx: &Ctx, want: &Desired, create: bool) -> Result<(), AwsError> {
    let s = &want.spec;
    let dimension = Dimension::builder()
        .name("InstanceId")
        .value(&want.instance_id)
        .build();
    let mut req = ctx
        .clients
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(&want.name)
        .set_alarm_description(s.description.clone())
        .metric_name(&s.metric)
        .namespace(&s.namespace)
        .statistic(Statistic::from(s.statistic.as_str()))
        .period(s.period_s)
        .evaluation_periods(s.evaluation_periods)
        .threshold(s.threshold)
        .comparison_operator(ComparisonOperator::from(s.comparison.as_str()))
        .dimensions(dimension)
        .actions_enabled(true)
        .set_alarm_actions(Some(s.alarm_actions.clone()))
        .set_ok_actions(Some(s.ok_actions.clone()));
    // AWS: PutMetricAlarm ignores Tags when the alarm exists; they are only
    // sent on create, and changed with TagResource otherwise.
    if create {
        req = req.set_tags(Some(cw_tags(&want.tags)));
    }
    crate::pacing::wait("cloudwatch", "PutMetricAlarm").await;
    req.send()
        .await
        .map_err(|e| AwsError::call(KIND.label, &want.name, "PutMetricAlarm", e))?;
    Ok(())
}

fn cw_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

tag_api!(
    cloudwatch,
    resource_arn,
    cw_tags,
    tag_resource / "TagResource",
    untag_resource / "UntagResource"
);

/// Deletes alarms in batches of 100; a missing name is not an error.
async fn delete_many(ctx: &Ctx, names: &[String]) -> Result<(), AwsError> {
    for chunk in names.chunks(DELETE_BATCH) {
        let mut left = chunk.to_vec();
        // Bounded: each round either deletes the batch or shrinks it to the
        // alarms that still exist.
        for _ in 0..3 {
            crate::pacing::wait("cloudwatch", "DeleteAlarms").await;
            let deleted = ctx
                .clients
                .cloudwatch
                .delete_alarms()
                .set_alarm_names(Some(left.clone()))
                .send()
                .await;
            match deleted {
                Ok(_) => break,
                // AWS: DeleteAlarms naming an alarm that does not exist
                // answers ResourceNotFound and deletes none of the batch
                // (issue 10.8). A missing alarm is done; delete the rest.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|x| x.is_resource_not_found()) =>
                {
                    left = still_there(ctx, &left).await?;
                    if left.is_empty() {
                        break;
                    }
                }
                Err(e) => {
                    return Err(AwsError::call(
                        KIND.label,
                        left.join(", "),
                        "DeleteAlarms",
                        e,
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Which of `names` (at most 100, DescribeAlarms' page) exist now.
async fn still_there(ctx: &Ctx, names: &[String]) -> Result<Vec<String>, AwsError> {
    let out = ctx
        .clients
        .cloudwatch
        .describe_alarms()
        .set_alarm_names(Some(names.to_vec()))
        .max_records(100)
        .send()
        .await
        .map_err(|e| AwsError::call(KIND.label, names.join(", "), "DescribeAlarms", e))?;
    Ok(out
        .metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_name().map(str::to_string))
        .filter(|n| names.contains(n))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::test_ctx;

    const STACK: &str = "name: al\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nalarms:\n  - name: cpu\n    instance_id: i-0123456789abcdef0";

    fn live_as_desired(ctx: &Ctx) -> Vec<Live> {
        desired(ctx)
            .into_iter()
            .map(|d| Live {
                name: d.name,
                spec: d.spec,
                tags: d.tags,
                state: Some("OK".into()),
                state_reason: None,
                state_updated: None,
            })
            .collect()
    }

    #[test]
    fn the_seed_alarm_is_wanted_exactly() {
        let ctx = test_ctx(STACK, None);
        let d = &desired(&ctx)[0];
        assert_eq!(d.name, "al-cpu");
        let topic = "arn:aws:sns:eu-west-1:111122223333:al-alarms".to_string();
        assert_eq!(
            d.spec,
            Spec {
                metric: "CPUUtilization".into(),
                namespace: "AWS/EC2".into(),
                statistic: "Average".into(),
                period_s: 60,
                evaluation_periods: 1,
                threshold: 80.0,
                comparison: "GreaterThanThreshold".into(),
                dimensions: vec!["InstanceId=i-0123456789abcdef0".into()],
                alarm_actions: vec![topic.clone()],
                ok_actions: vec![topic],
                description: Some(
                    "relayctl stack al: alarm cpu on i-0123456789abcdef0; managed by relayctl, edit stack.yaml instead"
                        .into()
                ),
            }
        );
    }

    #[test]
    fn tags_only_drift_does_not_rewrite_the_alarm() {
        // PutMetricAlarm would reset the alarm's state: only TagResource may run.
        let ctx = test_ctx(STACK, None);
        let mut live = live_as_desired(&ctx);
        live[0].tags.insert("stray".into(), "x".into());
        let changes = diff(&live, desired(&ctx));
        assert_eq!(changes.len(), 1);
        match changes[0].op_as::<Op>() {
            Some(Op::Put {
                spec, create, tags, ..
            }) => {
                assert!(!spec && !create);
                assert_eq!(tags.as_ref().unwrap().remove, vec!["stray".to_string()]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_owned_alarm_gone_from_the_file_is_deleted() {
        let ctx = test_ctx(STACK, None);
        let mut live = live_as_desired(&ctx);
        let mut old = live[0].clone();
        old.name = "al-memory".into();
        live.push(old);
        let changes = diff(&live, desired(&ctx));
        let actions: Vec<(&str, Action)> = changes
            .iter()
            .map(|c| (c.change.name.as_str(), c.change.action))
            .collect();
        assert_eq!(
            actions,
            vec![("al-cpu", Action::NoOp), ("al-memory", Action::Delete)]
        );
    }
}
