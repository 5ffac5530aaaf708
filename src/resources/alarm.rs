//! CloudWatch metric alarms: `{stack}-{alarm}` for an `alarms:` entry with
//! one `instance_id` (or `dimensions:` alone), `{stack}-{alarm}-{instance-id}`
//! per instance of an `instances:` list or an `instance_selector` (resolved
//! by `targets.rs` while the alarms are read). They act on the topic (route
//! sns) or the function (route direct) and depend on the whole path they
//! notify: topic, function, permission and subscription. Owned by tag.
//! An owned alarm under the stack's prefix that the file no longer wants
//! (an entry removed, an instance terminated or no longer matching) is
//! deleted; a foreign alarm under the prefix is not ours to see.

use std::any::Any;

use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, MetricAlarm, StandardUnit, Statistic, Tag,
};
use futures::future::BoxFuture;
use futures::{FutureExt as _, StreamExt, TryStreamExt, stream};

use super::state::Part;
use super::{
    Ctx, LiveState, Operation, Registration, Step, TagDiff, Tags, check_owner, converge_tags,
    diff_tags, function, index, is_owned, permission, render_tags, subscription, tag_api, topic,
};
use crate::aws::AwsError;
use crate::change::{Action, Attr, Change, Kind, compare};
use crate::config::{self, Alarm, Route, Target};
use crate::resources::targets::{self, Targets};

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

/// What `missing` data means to an alarm that never said.
const DEFAULT_TREAT_MISSING_DATA: &str = "missing";

/// The alarm as compared: values AWS leaves out when they are the default
/// (DatapointsToAlarm, TreatMissingData) are filled in with that default on
/// both sides, so an alarm made without them reads back unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub metric: String,
    pub namespace: String,
    /// Exactly one of `statistic` and `extended_statistic` is set.
    pub statistic: Option<String>,
    pub extended_statistic: Option<String>,
    pub period_s: i32,
    pub evaluation_periods: i32,
    /// AWS: absent means every evaluated period (= evaluation_periods).
    pub datapoints_to_alarm: i32,
    pub threshold: f64,
    pub comparison: String,
    /// AWS: absent means `missing`.
    pub treat_missing_data: String,
    pub unit: Option<String>,
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

/// What the alarm read stores: the owned alarms and the instances each
/// entry targets now.
#[derive(Debug, Default)]
pub struct Read {
    pub alarms: Vec<Live>,
    pub targets: Targets,
}

#[derive(Debug, Clone)]
pub struct Desired {
    pub name: String,
    /// The dimensions sent, `InstanceId` included for an instance's alarm.
    pub dimensions: Vec<(String, String)>,
    /// Sent only when the file sets it (else AWS's default applies).
    pub datapoints_to_alarm: Option<i32>,
    pub spec: Spec,
    pub tags: Tags,
    /// Why the alarm exists, when an instance selector decided it.
    pub reason: Option<String>,
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
        // The instances are looked up while the alarms are listed: neither
        // waits for the other.
        let (found, resolved) =
            futures::future::join(describe_owned(ctx), targets::resolve(ctx)).await;
        let (targets, warnings) = resolved?;
        let (alarms, foreign) = sort_owned(ctx, found?, &targets);
        Ok(Part::new(Read { alarms, targets }, foreign).with_warnings(warnings))
    })
}

/// Every owned alarm under the stack's prefix.
pub fn live(state: &LiveState) -> &[Live] {
    state.get::<Read>(KIND).map_or(&[], |r| r.alarms.as_slice())
}

/// The instances each alarm entry targets, as read (the file's own ids
/// when nothing was read).
pub fn targets(ctx: &Ctx, state: &LiveState) -> Targets {
    state
        .get::<Read>(KIND)
        .map(|r| r.targets.clone())
        .unwrap_or_else(|| Targets::from_file(&ctx.stack.alarms))
}

fn plan_up(ctx: &Ctx, state: &LiveState) -> Vec<Step> {
    let mut steps = diff(live(state), desired(ctx, &targets(ctx, state)));
    explain_deletes(ctx, &mut steps);
    steps
}

fn plan_down(_: &Ctx, state: &LiveState) -> Vec<Step> {
    diff(live(state), Vec::new())
}

/// One alarm per entry, or per instance of a list or selector.
pub fn desired(ctx: &Ctx, targets: &Targets) -> Vec<Desired> {
    ctx.stack
        .alarms
        .iter()
        .zip(&targets.per_alarm)
        .flat_map(|(a, ids)| match &a.target {
            Target::Instance(id) => {
                vec![desired_one(
                    ctx,
                    a,
                    ctx.stack.alarm_name(a),
                    Some(id.as_str()),
                )]
            }
            Target::Dimensions => vec![desired_one(ctx, a, ctx.stack.alarm_name(a), None)],
            Target::Instances(_) | Target::Selector(_) => ids
                .iter()
                .map(|id| {
                    let name = ctx.stack.instance_alarm_name(a, id);
                    let mut d = desired_one(ctx, a, name, Some(id.as_str()));
                    if let Target::Selector(sel) = &a.target {
                        d.reason = Some(format!("instance {id} now matches {}", sel.describe()));
                    }
                    d
                })
                .collect(),
        })
        .collect()
}

fn desired_one(ctx: &Ctx, a: &Alarm, name: String, instance: Option<&str>) -> Desired {
    let target = match ctx.stack.route {
        Route::Sns => ctx.topic_arn(),
        Route::Direct => ctx.function_arn(),
    };
    let ok_actions = if a.notify_ok {
        vec![target.clone()]
    } else {
        Vec::new()
    };
    let mut dimensions: Vec<(String, String)> = a
        .dimensions
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(id) = instance {
        dimensions.push(("InstanceId".to_string(), id.to_string()));
    }
    dimensions.sort();
    let on = match instance {
        Some(id) => id.to_string(),
        None => render_dimensions(&dimensions).join(", "),
    };
    let (statistic, extended_statistic) = match &a.statistic {
        config::Statistic::Simple(s) => (Some(s.clone()), None),
        config::Statistic::Extended(e) => (None, Some(e.clone())),
    };
    Desired {
        name,
        spec: Spec {
            metric: a.metric.clone(),
            namespace: a.namespace.clone(),
            statistic,
            extended_statistic,
            period_s: a.period_s,
            evaluation_periods: a.evaluation_periods,
            datapoints_to_alarm: a.datapoints_to_alarm.unwrap_or(a.evaluation_periods),
            threshold: a.threshold,
            comparison: a.comparison.as_str().to_string(),
            treat_missing_data: a.treat_missing_data.clone(),
            unit: a.unit.clone(),
            dimensions: render_dimensions(&dimensions),
            alarm_actions: vec![target],
            ok_actions,
            // Only names here: a description that repeats the threshold
            // would turn one edit into two changed attributes.
            description: Some(a.description.clone().unwrap_or_else(|| {
                format!(
                    "relayctl stack {}: alarm {} on {on}; managed by relayctl, edit stack.yaml instead",
                    ctx.stack.name, a.name
                )
            })),
        },
        dimensions,
        datapoints_to_alarm: a.datapoints_to_alarm,
        tags: ctx.tags(),
        reason: None,
    }
}

fn render_dimensions(dims: &[(String, String)]) -> Vec<String> {
    sorted(dims.iter().map(|(k, v)| format!("{k}={v}")).collect())
}

/// Why each alarm of an instance list or selector goes: its instance no
/// longer matches (terminated, stopped, re-tagged) or is no longer listed.
fn explain_deletes(ctx: &Ctx, steps: &mut [Step]) {
    for step in steps.iter_mut() {
        let c = &mut step.change;
        if c.action != Action::Delete {
            continue;
        }
        let why = ctx.stack.alarms.iter().find_map(|a| {
            let prefix = format!("{}-", ctx.stack.alarm_name(a));
            let id = c
                .name
                .strip_prefix(&prefix)
                .filter(|id| id.starts_with("i-"))?;
            match &a.target {
                Target::Selector(sel) => Some(format!(
                    "instance {id} no longer matches {}",
                    sel.describe()
                )),
                Target::Instances(_) => Some(format!("instance {id} is no longer in instances")),
                _ => None,
            }
        });
        if let Some(why) = why {
            c.note = Some(why);
        }
    }
}

/// The alarm names the stack wants, given the instances found.
fn wanted_names(ctx: &Ctx, targets: &Targets) -> Vec<String> {
    desired(ctx, targets).into_iter().map(|d| d.name).collect()
}

/// Every alarm under the stack's prefix, with its tags.
async fn describe_owned(ctx: &Ctx) -> Result<Vec<(MetricAlarm, Tags)>, AwsError> {
    let prefix = format!("{}-", ctx.stack.name);
    let found = describe_by_prefix(ctx, &prefix).await?;
    stream::iter(found)
        .map(|alarm| async move {
            let tags = find_tags(ctx, &alarm).await?;
            Ok::<_, AwsError>((alarm, tags))
        })
        .buffered(TAG_READS_AT_ONCE)
        .try_collect()
        .await
}

/// The owned alarms; a wanted name that exists without our tag comes back
/// in the second list, as a Foreign error.
fn sort_owned(
    ctx: &Ctx,
    tagged: Vec<(MetricAlarm, Tags)>,
    targets: &Targets,
) -> (Vec<Live>, Vec<AwsError>) {
    let wanted = wanted_names(ctx, targets);
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
    (live, foreign)
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
            statistic: a.statistic().map(|s| s.as_str().to_string()),
            extended_statistic: a.extended_statistic().map(str::to_string),
            period_s: a.period().unwrap_or_default(),
            evaluation_periods: a.evaluation_periods().unwrap_or_default(),
            datapoints_to_alarm: a
                .datapoints_to_alarm()
                .unwrap_or(a.evaluation_periods().unwrap_or_default()),
            threshold: a.threshold().unwrap_or_default(),
            comparison: a
                .comparison_operator()
                .map_or(String::new(), |c| c.as_str().to_string()),
            treat_missing_data: a
                .treat_missing_data()
                .unwrap_or(DEFAULT_TREAT_MISSING_DATA)
                .to_string(),
            unit: a.unit().map(|u| u.as_str().to_string()),
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

/// One attribute of a spec, as shown in a plan.
type Getter = fn(&Spec) -> Option<String>;

fn spec_attrs(attrs: &mut Vec<Attr>, old: Option<&Spec>, new: &Spec) {
    // Each attribute by the name it has in stack.yaml, so one edited field
    // shows as exactly one changed attribute.
    let pairs: [(&str, Getter); 15] = [
        ("metric", |s| Some(s.metric.clone())),
        ("namespace", |s| Some(s.namespace.clone())),
        ("statistic", |s| s.statistic.clone()),
        ("extended_statistic", |s| s.extended_statistic.clone()),
        ("period_s", |s| Some(s.period_s.to_string())),
        ("evaluation_periods", |s| {
            Some(s.evaluation_periods.to_string())
        }),
        ("datapoints_to_alarm", |s| {
            Some(s.datapoints_to_alarm.to_string())
        }),
        ("threshold", |s| Some(s.threshold.to_string())),
        ("comparison", |s| Some(s.comparison.clone())),
        ("treat_missing_data", |s| Some(s.treat_missing_data.clone())),
        ("unit", |s| s.unit.clone()),
        ("dimensions", |s| {
            Some(format!("[{}]", s.dimensions.join(", ")))
        }),
        ("alarm_actions", |s| {
            Some(format!("[{}]", s.alarm_actions.join(", ")))
        }),
        ("ok_actions", |s| {
            Some(format!("[{}]", s.ok_actions.join(", ")))
        }),
        ("description", |s| s.description.clone()),
    ];
    for (name, get) in pairs {
        compare(attrs, name, old.and_then(get), get(new));
    }
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
        let mut change = Change::new(KIND, &w.name, Action::Create, attrs);
        if let Some(why) = &w.reason {
            change = change.with_note(why);
        }
        return Step::new(change, op);
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
    let dimensions = want
        .dimensions
        .iter()
        .map(|(k, v)| Dimension::builder().name(k).value(v).build())
        .collect();
    let mut req = ctx
        .clients
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(&want.name)
        .set_alarm_description(s.description.clone())
        .metric_name(&s.metric)
        .namespace(&s.namespace)
        .set_statistic(s.statistic.as_deref().map(Statistic::from))
        .set_extended_statistic(s.extended_statistic.clone())
        .period(s.period_s)
        .evaluation_periods(s.evaluation_periods)
        .set_datapoints_to_alarm(want.datapoints_to_alarm)
        .threshold(s.threshold)
        .comparison_operator(ComparisonOperator::from(s.comparison.as_str()))
        .treat_missing_data(&s.treat_missing_data)
        .set_unit(s.unit.as_deref().map(StandardUnit::from))
        .set_dimensions(Some(dimensions))
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

    fn want(ctx: &Ctx) -> Vec<Desired> {
        desired(ctx, &Targets::from_file(&ctx.stack.alarms))
    }

    fn live_as_desired(ctx: &Ctx) -> Vec<Live> {
        desired(ctx, &Targets::from_file(&ctx.stack.alarms))
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
        let d = &want(&ctx)[0];
        assert_eq!(d.name, "al-cpu");
        let topic = "arn:aws:sns:eu-west-1:111122223333:al-alarms".to_string();
        assert_eq!(
            d.spec,
            Spec {
                metric: "CPUUtilization".into(),
                namespace: "AWS/EC2".into(),
                statistic: Some("Average".into()),
                extended_statistic: None,
                period_s: 60,
                evaluation_periods: 1,
                datapoints_to_alarm: 1,
                threshold: 80.0,
                comparison: "GreaterThanThreshold".into(),
                treat_missing_data: "missing".into(),
                unit: None,
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
        let changes = diff(&live, want(&ctx));
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
        let changes = diff(&live, want(&ctx));
        let actions: Vec<(&str, Action)> = changes
            .iter()
            .map(|c| (c.change.name.as_str(), c.change.action))
            .collect();
        assert_eq!(
            actions,
            vec![("al-cpu", Action::NoOp), ("al-memory", Action::Delete)]
        );
    }

    #[test]
    fn each_new_field_diffs_as_exactly_one_attribute() {
        let base = format!("{STACK}\n    evaluation_periods: 3");
        let ctx = test_ctx(&base, None);
        let live = live_as_desired(&ctx);
        for (line, attr) in [
            ("datapoints_to_alarm: 2", "datapoints_to_alarm"),
            ("treat_missing_data: breaching", "treat_missing_data"),
            ("unit: Percent", "unit"),
            ("description: CPU is high", "description"),
            ("dimensions: { AutoScalingGroupName: web }", "dimensions"),
            ("statistic: Maximum", "statistic"),
        ] {
            let edited = test_ctx(&format!("{base}\n    {line}"), None);
            let steps = diff(&live, want(&edited));
            let names: Vec<&str> = steps[0]
                .change
                .attrs
                .iter()
                .map(|a| a.name.as_str())
                .collect();
            assert_eq!(names, vec![attr], "{line}");
        }
    }

    #[test]
    fn defaults_aws_leaves_out_compare_equal() {
        // AWS omits DatapointsToAlarm and TreatMissingData when never set.
        let ctx = test_ctx(&format!("{STACK}\n    evaluation_periods: 2"), None);
        let mut live = live_as_desired(&ctx);
        assert_eq!(live[0].spec.datapoints_to_alarm, 2);
        assert_eq!(live[0].spec.treat_missing_data, "missing");
        live[0].spec.datapoints_to_alarm = 2;
        assert_eq!(diff(&live, want(&ctx))[0].change.action, Action::NoOp);
    }

    #[test]
    fn instance_lists_get_one_alarm_per_instance_with_its_dimension() {
        let yaml = "name: al\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nalarms:\n  - name: cpu\n    instances: [i-0123456789abcdef0, i-0fedcba9876543210]\n    dimensions: { Path: / }";
        let ctx = test_ctx(yaml, None);
        let d = want(&ctx);
        let names: Vec<&str> = d.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            ["al-cpu-i-0123456789abcdef0", "al-cpu-i-0fedcba9876543210"]
        );
        assert_eq!(
            d[1].spec.dimensions,
            ["InstanceId=i-0fedcba9876543210", "Path=/"]
        );
    }

    #[test]
    fn selector_alarms_say_why_they_come_and_go() {
        let yaml = "name: al\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nalarms:\n  - name: web\n    instance_selector: { tags: { Env: prod } }";
        let ctx = test_ctx(yaml, None);
        let now = Targets {
            per_alarm: vec![vec!["i-0000000000000000a".into()]],
        };
        let before = Targets {
            per_alarm: vec![vec!["i-0000000000000000b".into()]],
        };
        let live: Vec<Live> = desired(&ctx, &before)
            .into_iter()
            .map(|d| Live {
                name: d.name,
                spec: d.spec,
                tags: d.tags,
                state: None,
                state_reason: None,
                state_updated: None,
            })
            .collect();
        let mut steps = diff(&live, desired(&ctx, &now));
        explain_deletes(&ctx, &mut steps);
        let shown: Vec<(Action, &str, Option<&str>)> = steps
            .iter()
            .map(|s| {
                (
                    s.change.action,
                    s.change.name.as_str(),
                    s.change.note.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    Action::Create,
                    "al-web-i-0000000000000000a",
                    Some("instance i-0000000000000000a now matches Env=prod")
                ),
                (
                    Action::Delete,
                    "al-web-i-0000000000000000b",
                    Some("instance i-0000000000000000b no longer matches Env=prod")
                ),
            ]
        );
    }
}
