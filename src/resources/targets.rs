//! The instances each alarm entry watches, found at plan / up / status
//! time: `instance_id` and `instances` as the file names them, an
//! `instance_selector` with EC2 DescribeInstances (filters server-side, one
//! call per selector, paginated). Not a resource: nothing here is written.
//!
//! AWS: DescribeInstances with `tag:KEY` and `instance-state-name` filters
//! (<https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html>);
//! MaxResults 5 to 1000 a page.

use aws_sdk_ec2::types::Filter;
use futures::future::try_join_all;

use super::Ctx;
use crate::aws::AwsError;
use crate::config::{Alarm, Selector, Target};

/// DescribeInstances' largest page.
const PAGE: i32 = 1000;

/// One alarm entry's instances, in the order of `stack.alarms`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Targets {
    /// Sorted instance ids per alarm entry; empty for a `dimensions:` alarm.
    pub per_alarm: Vec<Vec<String>>,
}

impl Targets {
    /// The instances named in the file, without asking AWS (selectors
    /// match nothing): what `desired` uses before anything was read.
    pub fn from_file(alarms: &[Alarm]) -> Targets {
        Targets {
            per_alarm: alarms.iter().map(static_ids).collect(),
        }
    }
}

fn static_ids(a: &Alarm) -> Vec<String> {
    match &a.target {
        Target::Instance(id) => vec![id.clone()],
        Target::Instances(ids) => ids.clone(),
        Target::Selector(_) | Target::Dimensions => Vec::new(),
    }
}

/// The instances found once per run and kept: the read `up` and `down`
/// repeat under the stack's lock (commands/lock.rs) guards against another
/// relayctl run, and no relayctl run changes instances, so looking them up
/// again would only cost a second DescribeInstances listing.
#[derive(Debug, Default)]
pub struct Found {
    resolved: tokio::sync::OnceCell<(Targets, Vec<String>)>,
}

/// Every entry's instances, selectors resolved concurrently, plus a warning
/// for each selector that matched nothing (not an error: a fleet scaled to
/// zero is a fleet). Looked up on the run's first read only, and the
/// warnings said then only: a later read finds the same.
pub async fn resolve(ctx: &Ctx) -> Result<(Targets, Vec<String>), AwsError> {
    let first = !ctx.instances.resolved.initialized();
    let (targets, warnings) = ctx
        .instances
        .resolved
        .get_or_try_init(|| look_up(ctx))
        .await?;
    let warnings = match first {
        true => warnings.clone(),
        false => Vec::new(),
    };
    Ok((targets.clone(), warnings))
}

async fn look_up(ctx: &Ctx) -> Result<(Targets, Vec<String>), AwsError> {
    let alarms = &ctx.stack.alarms;
    let per_alarm = try_join_all(alarms.iter().map(|a| async move {
        match &a.target {
            Target::Selector(sel) => find_instances(ctx, sel).await,
            _ => Ok(static_ids(a)),
        }
    }))
    .await?;
    let warnings = alarms
        .iter()
        .zip(&per_alarm)
        .filter_map(|(a, ids)| match &a.target {
            Target::Selector(sel) if ids.is_empty() => Some(format!(
                "alarm {}: instance_selector ({}) matches no instance; it has no CloudWatch alarm until one matches",
                a.name,
                sel.describe()
            )),
            _ => None,
        })
        .collect();
    Ok((Targets { per_alarm }, warnings))
}

/// The ids of the instances `sel` matches, sorted.
async fn find_instances(ctx: &Ctx, sel: &Selector) -> Result<Vec<String>, AwsError> {
    let pages: Vec<_> = ctx
        .clients
        .ec2
        .describe_instances()
        .set_filters(Some(filters(sel)))
        .max_results(PAGE)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::call("instance selector", sel.describe(), "DescribeInstances", e))?;
    let mut ids: Vec<String> = pages
        .into_iter()
        .flat_map(|p| p.reservations.unwrap_or_default())
        .flat_map(|r| r.instances.unwrap_or_default())
        .filter_map(|i| i.instance_id)
        .collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Server-side filters: every tag must match (filters are ANDed), and the
/// state must be one of those listed (values within a filter are ORed).
fn filters(sel: &Selector) -> Vec<Filter> {
    let tags = sel
        .tags
        .iter()
        .map(|(k, v)| Filter::builder().name(format!("tag:{k}")).values(v).build());
    let states = Filter::builder()
        .name("instance-state-name")
        .set_values(Some(sel.states.clone()))
        .build();
    tags.chain(std::iter::once(states)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_filters_are_server_side_and_anded() {
        let sel = Selector {
            tags: [
                ("Env".to_string(), "prod".to_string()),
                ("Role".into(), "web".into()),
            ]
            .into_iter()
            .collect(),
            states: vec!["running".into(), "stopped".into()],
        };
        let shown: Vec<(String, Vec<String>)> = filters(&sel)
            .iter()
            .map(|f| (f.name().unwrap().to_string(), f.values().to_vec()))
            .collect();
        assert_eq!(
            shown,
            vec![
                ("tag:Env".to_string(), vec!["prod".to_string()]),
                ("tag:Role".to_string(), vec!["web".to_string()]),
                (
                    "instance-state-name".to_string(),
                    vec!["running".to_string(), "stopped".to_string()]
                ),
            ]
        );
    }
}
