//! Reads everything the stack owns from AWS at once. All names and ARNs are
//! deterministic, so every read runs concurrently and none waits on another.
//! No local state file: this is the state.

use crate::aws::AwsError;
use crate::resources::{Ctx, alarm, function, log_group, permission, role, subscription, topic};

#[derive(Debug, Default)]
pub struct LiveState {
    pub role: Option<role::Live>,
    pub log_group: Option<log_group::Live>,
    pub topic: Option<topic::Live>,
    pub function: Option<function::Live>,
    pub permissions: Vec<permission::Statement>,
    pub subscriptions: Vec<subscription::Live>,
    pub alarms: Vec<alarm::Live>,
    /// Same-named resources that are not this stack's: never touched.
    pub foreign: Vec<AwsError>,
}

/// A Foreign error is a finding, not a failure: record it and carry on.
fn owned<T>(
    found: Result<Option<T>, AwsError>,
    foreign: &mut Vec<AwsError>,
) -> Result<Option<T>, AwsError> {
    match found {
        Err(e @ AwsError::Foreign { .. }) => {
            foreign.push(e);
            Ok(None)
        }
        other => other,
    }
}

pub async fn read_all(ctx: &Ctx) -> Result<LiveState, AwsError> {
    let (role, log_group, topic, function, permissions, subscriptions, alarms) = tokio::join!(
        role::read(ctx),
        log_group::read(ctx),
        topic::read(ctx),
        function::read(ctx),
        permission::read(ctx),
        subscription::read(ctx),
        alarm::read(ctx),
    );
    let mut foreign = Vec::new();
    let role = owned(role, &mut foreign)?;
    let log_group = owned(log_group, &mut foreign)?;
    let topic = owned(topic, &mut foreign)?;
    let function = owned(function, &mut foreign)?;
    let (alarms, foreign_alarms) = alarms?;
    foreign.extend(foreign_alarms);
    // A foreign function's policy and a foreign topic's subscribers are
    // someone else's, however their statements happen to be named.
    let permissions = if function.is_some() {
        permissions?
    } else {
        Vec::new()
    };
    let subscriptions = if topic.is_some() {
        subscriptions?
    } else {
        Vec::new()
    };
    Ok(LiveState {
        role,
        log_group,
        topic,
        function,
        permissions,
        subscriptions,
        alarms,
        foreign,
    })
}
