//! Lambda permission statements on `{stack}-relay`'s resource policy that let
//! the alarm path invoke it: `{stack}-sns` (principal sns.amazonaws.com,
//! SourceArn = the topic) on route `sns`, or `{stack}-alarms` on route
//! `direct`: one statement for all the stack's alarms (principal
//! lambda.alarms.cloudwatch.amazonaws.com, SourceAccount = the account,
//! SourceArn ArnLike `arn:…:cloudwatch:REGION:ACCOUNT:alarm:{stack}-*`).
//! Depends on the function (and topic); owned by the function. Statements
//! cannot be updated, only replaced.
//!
//! AWS: a function's resource policy is capped at 20,480 bytes
//! (PolicyLengthExceededException); the per-alarm statements of earlier
//! versions (`{stack}-alarm-{alarm}`, ~350 bytes each) hit it at about 50
//! alarms. They are this stack's by their Sid prefix, so `up` removes them
//! once the stack-wide statement is in place (writes before deletes).
//! (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)

use aws_sdk_lambda::operation::remove_permission::RemovePermissionError;
use futures::future::BoxFuture;
use futures::{FutureExt as _, TryFutureExt as _};
use serde_json::Value;

use super::state::Part;
use super::{Calls, Ctx, LiveState, Operation, Registration, Step, function, topic};
use crate::aws::AwsError;
use crate::change::{Action, Attr, Change, Kind, compare};
use crate::config::Route;

pub const KIND: Kind = Kind::new("permission", "lambda permission");
pub const REGISTRATION: Registration = Registration {
    kind: KIND,
    // A statement lives on the function's policy and names the topic.
    depends_on: &[function::KIND, topic::KIND],
    read: read_part,
    up: plan_up,
    down: plan_down,
    iam: IAM,
};
/// The IAM actions this kind calls (`relayctl policy`).
pub const IAM: &[super::iam::Grant] = &[super::iam::Grant {
    actions: &[
        "lambda:GetPolicy",
        "lambda:AddPermission",
        "lambda:RemovePermission",
    ],
    on: super::iam::Scope::Function,
}];
const ACTION: &str = "lambda:InvokeFunction";
pub const SNS_PRINCIPAL: &str = "sns.amazonaws.com";
pub const ALARM_PRINCIPAL: &str = "lambda.alarms.cloudwatch.amazonaws.com";

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: String,
    pub principal: String,
    /// An ARN, or an ArnLike pattern.
    pub source_arn: String,
    /// The account the source must belong to: needed where `source_arn`
    /// alone does not pin it (an alarm ARN pattern).
    pub source_account: Option<String>,
    pub action: String,
}

#[derive(Debug, Clone)]
pub enum Op {
    Create(Statement),
    Replace(Statement),
    Delete { sid: String },
}

impl Operation for Op {
    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<(), AwsError>> {
        match self {
            Op::Create(s) => add(ctx, s).map_ok(drop).boxed(),
            Op::Replace(s) => async move {
                remove(ctx, &s.sid).await?;
                wait_statement(ctx, &s.sid, false).await?;
                add(ctx, s).await.map(drop)
            }
            .boxed(),
            Op::Delete { sid } => remove(ctx, sid).boxed(),
        }
    }

    // AWS: concurrent AddPermission/RemovePermission on one function can
    // lose statements (terraform serialises them too).
    fn lane(&self) -> Option<&'static str> {
        Some("lambda permission writes")
    }
}

fn read_part(ctx: &Ctx) -> BoxFuture<'_, Result<Part, AwsError>> {
    Box::pin(async move { Ok(Part::new(read(ctx).await?, Vec::new())) })
}

/// This stack's statements; none unless the function is ours: a foreign
/// function's policy is someone else's, however its statements are named.
/// None either when the function is to be replaced: its policy goes with it.
pub fn live(state: &LiveState) -> &[Statement] {
    match function::live(state).map(function::Live::unhealthy) {
        Some(Some(function::Unhealthy::CreateFailed(_))) | None => &[],
        Some(_) => state.get::<Vec<Statement>>(KIND).map_or(&[], Vec::as_slice),
    }
}

fn plan_up(ctx: &Ctx, state: &LiveState) -> Vec<Step> {
    diff(live(state), desired(ctx))
}

fn plan_down(_: &Ctx, state: &LiveState) -> Vec<Step> {
    live(state)
        .iter()
        .map(|p| Step::delete(KIND, &p.sid, Op::Delete { sid: p.sid.clone() }))
        .collect()
}

/// Every statement id this stack writes starts with this.
fn sid_prefix(ctx: &Ctx) -> String {
    format!("{}-", ctx.stack.name)
}

/// The stack-wide statement of route `direct`.
pub fn alarms_sid(ctx: &Ctx) -> String {
    format!("{}-alarms", ctx.stack.name)
}

/// Every alarm the stack names, as an ArnLike pattern: the alarms are all
/// `{stack}-{alarm}`. (A stack named like this one's prefix, `{stack}-b`,
/// matches too; its alarms target its own function, not this one.)
pub fn alarms_arn_pattern(ctx: &Ctx) -> String {
    ctx.alarm_arn(&format!("{}-*", ctx.stack.name))
}

pub fn desired(ctx: &Ctx) -> Vec<Statement> {
    match ctx.stack.route {
        Route::Sns => vec![Statement {
            sid: ctx.stack.permission_sid(),
            principal: SNS_PRINCIPAL.into(),
            source_arn: ctx.topic_arn(),
            source_account: None,
            action: ACTION.into(),
        }],
        // One statement however many alarms: the policy cap stays far away.
        Route::Direct => vec![Statement {
            sid: alarms_sid(ctx),
            principal: ALARM_PRINCIPAL.into(),
            source_arn: alarms_arn_pattern(ctx),
            source_account: Some(ctx.clients.account.clone()),
            action: ACTION.into(),
        }],
    }
}

/// This stack's statements on the function's policy; none when the function
/// or its policy does not exist.
pub async fn read(ctx: &Ctx) -> Result<Vec<Statement>, AwsError> {
    let name = ctx.stack.function_name();
    let lambda = &ctx.clients.lambda;
    let got = lambda.get_policy().function_name(&name).send().await;
    let got =
        Calls::new(KIND, &name).found("GetPolicy", got, |e| e.is_resource_not_found_exception())?;
    let policy = got.and_then(|out| out.policy).unwrap_or_default();
    let prefix = sid_prefix(ctx);
    let wanted = desired(ctx);
    Ok(parse_policy(&policy, |s| {
        s.sid.starts_with(&prefix) || wanted.iter().any(|w| s.grants_as(w))
    }))
}

impl Statement {
    /// The same grant under any statement id. AWS::Lambda::Permission
    /// (CloudFormation, `relayctl export cloudformation`) cannot choose its
    /// Sid: it names the statement after its own physical id.
    pub fn grants_as(&self, other: &Statement) -> bool {
        Statement {
            sid: other.sid.clone(),
            ..self.clone()
        } == *other
    }
}

/// The policy's statements that `ours` accepts.
fn parse_policy(policy: &str, ours: impl Fn(&Statement) -> bool) -> Vec<Statement> {
    let Ok(doc) = serde_json::from_str::<Value>(policy) else {
        return Vec::new();
    };
    let statements = match &doc["Statement"] {
        Value::Array(items) => items.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => Vec::new(),
    };
    statements
        .iter()
        .filter_map(|s| {
            let sid = s["Sid"].as_str()?;
            Some(Statement {
                sid: sid.to_string(),
                principal: first_str(&s["Principal"]["Service"])
                    .or_else(|| first_str(&s["Principal"]))?,
                source_arn: first_str(&s["Condition"]["ArnLike"]["AWS:SourceArn"])
                    .unwrap_or_default(),
                source_account: first_str(&s["Condition"]["StringEquals"]["AWS:SourceAccount"]),
                action: first_str(&s["Action"]).unwrap_or_default(),
            })
        })
        .filter(ours)
        .collect()
}

fn first_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => items.first().and_then(|i| i.as_str()).map(str::to_string),
        _ => None,
    }
}

pub fn diff(live: &[Statement], want: Vec<Statement>) -> Vec<Step> {
    let mut steps = Vec::new();
    // Statements that stand for a wanted one: kept, not deleted below.
    let mut kept: Vec<&str> = Vec::new();
    for w in &want {
        let same_sid = live.iter().find(|l| l.sid == w.sid);
        let same_grant = live.iter().find(|l| l.grants_as(w));
        kept.extend(same_sid.or(same_grant).map(|l| l.sid.as_str()));
        let step = match same_sid {
            None if same_grant.is_some() => Step::noop(KIND, &w.sid),
            None => Step::new(
                Change::new(KIND, &w.sid, Action::Create, attrs(None, w)),
                Op::Create(w.clone()),
            ),
            Some(l) if l == w => Step::noop(KIND, &w.sid),
            Some(l) => Step::new(
                Change::new(KIND, &w.sid, Action::Replace, attrs(Some(l), w))
                    .with_note("a permission statement cannot be changed in place"),
                Op::Replace(w.clone()),
            ),
        };
        steps.push(step);
    }
    for l in live.iter().filter(|l| !kept.contains(&l.sid.as_str())) {
        steps.push(Step::delete(
            KIND,
            &l.sid,
            Op::Delete { sid: l.sid.clone() },
        ));
    }
    steps
}

/// One attribute of a statement, as shown.
type Field = fn(&Statement) -> Option<String>;

/// Every attribute for a new statement, the differing ones for a replaced one.
fn attrs(old: Option<&Statement>, new: &Statement) -> Vec<Attr> {
    let mut attrs = Vec::new();
    let fields: [(&str, Field); 4] = [
        ("principal", |s| Some(s.principal.clone())),
        ("source_arn", |s| Some(s.source_arn.clone())),
        ("source_account", |s| s.source_account.clone()),
        ("action", |s| Some(s.action.clone())),
    ];
    for (name, field) in fields {
        if old.is_none() && field(new).is_none() {
            continue;
        }
        compare(&mut attrs, name, old.and_then(field), field(new));
    }
    attrs
}

/// AddPermission attempts before giving up on ResourceConflictException.
const ADD_ATTEMPTS: u32 = 6;

/// The statement as the function's policy now shows it: AddPermission
/// answers only the statement it sent, so the policy is read back anyway
/// (AWS lags; see `wait_statement`), and that read is the answer.
async fn add(ctx: &Ctx, s: &Statement) -> Result<Statement, AwsError> {
    let name = ctx.stack.function_name();
    let mut attempt = 1;
    loop {
        let lambda = &ctx.clients.lambda;
        let added = lambda
            .add_permission()
            .function_name(&name)
            .statement_id(&s.sid)
            .action(&s.action)
            .principal(&s.principal)
            .source_arn(&s.source_arn)
            .set_source_account(s.source_account.clone())
            .send()
            .await;
        let err = match added {
            Ok(_) => {
                let live = wait_statement(ctx, &s.sid, true).await?;
                return Ok(live.expect("waited until the policy shows it"));
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|x| x.is_resource_conflict_exception()) =>
            {
                e
            }
            Err(e) => return Err(AwsError::call(KIND.label, &s.sid, "AddPermission", e)),
        };
        if attempt >= ADD_ATTEMPTS {
            return Err(AwsError::call(KIND.label, &s.sid, "AddPermission", err));
        }
        attempt += 1;
        // AWS: ResourceConflictException means either "the statement id
        // already exists" (a concurrent or earlier run) or "an update is in
        // progress" on the function (State Pending, LastUpdateStatus
        // InProgress):
        // https://docs.aws.amazon.com/lambda/latest/api/API_AddPermission.html
        // The policy tells them apart.
        match read(ctx).await?.into_iter().find(|live| live.sid == s.sid) {
            Some(live) if live == *s => return Ok(live),
            Some(_) => {
                tracing::info!("{}: statement differs; replacing it", s.sid);
                remove(ctx, &s.sid).await?;
                wait_statement(ctx, &s.sid, false).await?;
            }
            None => {
                tracing::info!(
                    "AddPermission {}: the function is busy (ResourceConflictException); waiting for it (attempt {attempt} of {ADD_ATTEMPTS})",
                    s.sid
                );
                function::wait_function_ready(ctx).await?;
            }
        }
    }
}

/// AWS: the policy read lags AddPermission and RemovePermission. Read the
/// statement back by Sid (as terraform does) until it shows (`present`), so
/// the alarm that follows (the topic's only publisher) can rely on it, or
/// until it is gone, since re-adding the Sid before the removal shows would
/// conflict with the old statement. Returns the statement as read (None once gone).
async fn wait_statement(
    ctx: &Ctx,
    sid: &str,
    present: bool,
) -> Result<Option<Statement>, AwsError> {
    let mut delay = std::time::Duration::from_millis(200);
    for _ in 0..8 {
        let live = read(ctx).await?.into_iter().find(|s| s.sid == sid);
        if live.is_some() == present {
            return Ok(live);
        }
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
    let message = match present {
        true => "added, but the function's policy still does not show it",
        false => "removed, but the function's policy still shows it",
    };
    Err(AwsError::Wait {
        kind: KIND.label,
        name: sid.to_string(),
        message: message.into(),
    })
}

async fn remove(ctx: &Ctx, sid: &str) -> Result<(), AwsError> {
    let lambda = &ctx.clients.lambda;
    let removed = lambda
        .remove_permission()
        .function_name(ctx.stack.function_name());
    let removed = removed.statement_id(sid).send().await;
    let not_found = |e: &RemovePermissionError| e.is_resource_not_found_exception();
    Calls::new(KIND, sid).gone("RemovePermission", removed, not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_grant_under_cloudformations_sid_is_in_sync() {
        let want = Statement {
            sid: "s-sns".into(),
            principal: SNS_PRINCIPAL.into(),
            source_arn: "arn:aws:sns:us-east-1:1:s-alarms".into(),
            source_account: None,
            action: ACTION.into(),
        };
        let cfn = Statement {
            sid: "cfn-stack-Permission-1A2B3C".into(),
            ..want.clone()
        };
        let steps = diff(std::slice::from_ref(&cfn), vec![want.clone()]);
        let actions: Vec<Action> = steps.iter().map(|s| s.change.action).collect();
        assert_eq!(actions, vec![Action::NoOp]);
        // Only the same grant stands for the wanted one.
        let other = Statement {
            sid: "s-old".into(),
            source_arn: "arn:aws:sns:us-east-1:1:other".into(),
            ..want.clone()
        };
        let steps = diff(&[other], vec![want]);
        let actions: Vec<Action> = steps.iter().map(|s| s.change.action).collect();
        assert_eq!(actions, vec![Action::Create, Action::Delete]);
    }

    #[test]
    fn parses_only_this_stacks_statements() {
        let policy = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"s-sns","Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"lambda:InvokeFunction",
             "Resource":"arn:aws:lambda:us-east-1:1:function:s-relay","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:sns:us-east-1:1:s-alarms"}}},
            {"Sid":"someone-else","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction"}]}"#;
        let got = parse_policy(policy, |s| s.sid.starts_with("s-"));
        assert_eq!(
            got,
            vec![Statement {
                sid: "s-sns".into(),
                principal: SNS_PRINCIPAL.into(),
                source_arn: "arn:aws:sns:us-east-1:1:s-alarms".into(),
                source_account: None,
                action: ACTION.into(),
            }]
        );
    }
}
