//! Turns live state into a plan: what `up` must do to reach the stack, or
//! what `down` must do to leave nothing of it. Ordering here is only for
//! display; `apply` orders by dependency.

use crate::config::Route;
use crate::live::LiveState;
use crate::plan::{Action, Change, Kind, Plan};
use crate::resources::{
    Ctx, Op, alarm, function, log_group, permission, role, subscription, topic,
};

fn plan_of(ctx: &Ctx, mut changes: Vec<Change>) -> Plan {
    changes.sort_by_key(|c| c.kind.level());
    Plan {
        stack: ctx.stack.name.clone(),
        account: ctx.clients.account.clone(),
        region: ctx.clients.region.clone(),
        changes,
    }
}

/// The plan `up` applies and `plan` prints.
pub fn up(ctx: &Ctx, live: &LiveState) -> Plan {
    let mut changes = vec![
        role::diff(ctx, live.role.as_ref(), role::desired(ctx)),
        log_group::diff(ctx, live.log_group.as_ref(), log_group::desired(ctx)),
    ];
    match (ctx.stack.route, &live.topic) {
        (Route::Sns, current) => {
            changes.push(topic::diff(ctx, current.as_ref(), topic::desired(ctx)))
        }
        // Route direct needs no topic; one we made earlier goes.
        (Route::Direct, Some(_)) => changes.push(delete(
            Kind::Topic,
            ctx.stack.topic_name(),
            Op::Topic(topic::Op::Delete),
        )),
        (Route::Direct, None) => {}
    }
    changes.push(function::diff(
        ctx,
        live.function.as_ref(),
        function::desired(ctx),
    ));
    changes.extend(permission::diff(
        &live.permissions,
        permission::desired(ctx),
    ));
    changes.extend(alarm::diff(&live.alarms, alarm::desired(ctx)));
    changes.extend(subscription::diff(
        ctx,
        &live.subscriptions,
        subscription::desired(ctx),
    ));
    plan_of(ctx, changes)
}

fn delete(kind: Kind, name: String, op: Op) -> Change {
    Change::new(kind, name, Action::Delete, Vec::new(), op)
}

/// The plan `down` applies: every owned resource, deleted.
pub fn down(ctx: &Ctx, live: &LiveState) -> Plan {
    let mut changes = Vec::new();
    for s in &live.subscriptions {
        changes.push(delete(
            Kind::Subscription,
            subscription::display_name(ctx),
            Op::Subscription(subscription::Op::Delete { arn: s.arn.clone() }),
        ));
    }
    for a in &live.alarms {
        changes.push(delete(
            Kind::Alarm,
            a.name.clone(),
            Op::Alarm(alarm::Op::Delete {
                name: a.name.clone(),
            }),
        ));
    }
    for p in &live.permissions {
        changes.push(delete(
            Kind::Permission,
            p.sid.clone(),
            Op::Permission(permission::Op::Delete { sid: p.sid.clone() }),
        ));
    }
    if live.function.is_some() {
        changes.push(delete(
            Kind::Function,
            ctx.stack.function_name(),
            Op::Function(Box::new(function::Op::Delete)),
        ));
    }
    if live.topic.is_some() {
        changes.push(delete(
            Kind::Topic,
            ctx.stack.topic_name(),
            Op::Topic(topic::Op::Delete),
        ));
    }
    if live.log_group.is_some() {
        changes.push(delete(
            Kind::LogGroup,
            ctx.stack.log_group_name(),
            Op::LogGroup(log_group::Op::Delete),
        ));
    }
    if live.role.is_some() {
        changes.push(delete(
            Kind::Role,
            ctx.stack.role_name(),
            Op::Role(role::Op::Delete),
        ));
    }
    let mut plan = plan_of(ctx, changes);
    plan.changes.reverse();
    plan
}
