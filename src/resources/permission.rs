//! Lambda permission statements on `{stack}-relay`'s resource policy that let
//! the alarm path invoke it: `{stack}-sns` (principal sns.amazonaws.com,
//! SourceArn = the topic) on route `sns`, or one `{stack}-alarm-{alarm}` per
//! alarm (principal lambda.alarms.cloudwatch.amazonaws.com, SourceArn = the
//! alarm) on route `direct`. Depends on the function (and topic or alarm);
//! owned by the function. Statements cannot be updated, only replaced.

use serde_json::Value;

use super::{Ctx, Op as AnyOp};
use crate::aws::AwsError;
use crate::config::Route;
use crate::plan::{Action, Attr, Change, Kind, compare};

const KIND: &str = "lambda permission";
const ACTION: &str = "lambda:InvokeFunction";
pub const SNS_PRINCIPAL: &str = "sns.amazonaws.com";
pub const ALARM_PRINCIPAL: &str = "lambda.alarms.cloudwatch.amazonaws.com";

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: String,
    pub principal: String,
    pub source_arn: String,
    pub action: String,
}

#[derive(Debug, Clone)]
pub enum Op {
    Create(Statement),
    Replace(Statement),
    Delete { sid: String },
}

/// Every statement id this stack writes starts with this.
fn sid_prefix(ctx: &Ctx) -> String {
    format!("{}-", ctx.stack.name)
}

pub fn desired(ctx: &Ctx) -> Vec<Statement> {
    match ctx.stack.route {
        Route::Sns => vec![Statement {
            sid: ctx.stack.permission_sid(),
            principal: SNS_PRINCIPAL.into(),
            source_arn: ctx.topic_arn(),
            action: ACTION.into(),
        }],
        Route::Direct => ctx
            .stack
            .alarms
            .iter()
            .map(|a| Statement {
                sid: ctx.stack.permission_sid_for(a),
                principal: ALARM_PRINCIPAL.into(),
                source_arn: ctx.alarm_arn(&ctx.stack.alarm_name(a)),
                action: ACTION.into(),
            })
            .collect(),
    }
}

/// This stack's statements on the function's policy; none when the function
/// or its policy does not exist.
pub async fn read(ctx: &Ctx) -> Result<Vec<Statement>, AwsError> {
    let name = ctx.stack.function_name();
    let policy = match ctx
        .clients
        .lambda
        .get_policy()
        .function_name(&name)
        .send()
        .await
    {
        Ok(out) => out.policy.unwrap_or_default(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            return Ok(Vec::new());
        }
        Err(e) => return Err(AwsError::call(KIND, &name, "GetPolicy", e)),
    };
    Ok(parse_policy(&policy, &sid_prefix(ctx)))
}

fn parse_policy(policy: &str, prefix: &str) -> Vec<Statement> {
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
            if !sid.starts_with(prefix) {
                return None;
            }
            Some(Statement {
                sid: sid.to_string(),
                principal: first_str(&s["Principal"]["Service"])
                    .or_else(|| first_str(&s["Principal"]))?,
                source_arn: first_str(&s["Condition"]["ArnLike"]["AWS:SourceArn"])
                    .unwrap_or_default(),
                action: first_str(&s["Action"]).unwrap_or_default(),
            })
        })
        .collect()
}

fn first_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => items.first().and_then(|i| i.as_str()).map(str::to_string),
        _ => None,
    }
}

pub fn diff(live: &[Statement], want: Vec<Statement>) -> Vec<Change> {
    let mut changes = Vec::new();
    for w in &want {
        let change = match live.iter().find(|l| l.sid == w.sid) {
            None => Change::new(
                Kind::Permission,
                &w.sid,
                Action::Create,
                vec![
                    Attr::new("principal", None, Some(w.principal.clone())),
                    Attr::new("source_arn", None, Some(w.source_arn.clone())),
                    Attr::new("action", None, Some(w.action.clone())),
                ],
                AnyOp::Permission(Op::Create(w.clone())),
            ),
            Some(l) if l == w => Change::noop(Kind::Permission, &w.sid),
            Some(l) => {
                let mut attrs = Vec::new();
                compare(
                    &mut attrs,
                    "principal",
                    Some(l.principal.clone()),
                    Some(w.principal.clone()),
                );
                compare(
                    &mut attrs,
                    "source_arn",
                    Some(l.source_arn.clone()),
                    Some(w.source_arn.clone()),
                );
                compare(
                    &mut attrs,
                    "action",
                    Some(l.action.clone()),
                    Some(w.action.clone()),
                );
                Change::new(
                    Kind::Permission,
                    &w.sid,
                    Action::Replace,
                    attrs,
                    AnyOp::Permission(Op::Replace(w.clone())),
                )
                .with_note("a permission statement cannot be changed in place")
            }
        };
        changes.push(change);
    }
    for l in live.iter().filter(|l| !want.iter().any(|w| w.sid == l.sid)) {
        changes.push(Change::new(
            Kind::Permission,
            &l.sid,
            Action::Delete,
            Vec::new(),
            AnyOp::Permission(Op::Delete { sid: l.sid.clone() }),
        ));
    }
    changes
}

pub async fn apply(ctx: &Ctx, op: &Op) -> Result<(), AwsError> {
    match op {
        Op::Create(s) => add(ctx, s).await,
        Op::Replace(s) => {
            remove(ctx, &s.sid).await?;
            add(ctx, s).await
        }
        Op::Delete { sid } => remove(ctx, sid).await,
    }
}

async fn add(ctx: &Ctx, s: &Statement) -> Result<(), AwsError> {
    let name = ctx.stack.function_name();
    let added = ctx
        .clients
        .lambda
        .add_permission()
        .function_name(&name)
        .statement_id(&s.sid)
        .action(&s.action)
        .principal(&s.principal)
        .source_arn(&s.source_arn)
        .send()
        .await;
    match added {
        Ok(_) => wait_statement(ctx, &s.sid).await,
        // AWS: the Sid exists already (a concurrent or earlier run). Done if
        // it says what we want; otherwise replace it.
        Err(e)
            if e.as_service_error()
                .is_some_and(|x| x.is_resource_conflict_exception()) =>
        {
            if read(ctx).await?.iter().any(|live| live == s) {
                return Ok(());
            }
            remove(ctx, &s.sid).await?;
            Box::pin(add(ctx, s)).await
        }
        Err(e) => Err(AwsError::call(KIND, &s.sid, "AddPermission", e)),
    }
}

/// AWS: the policy read lags AddPermission; read the statement back by Sid
/// (as terraform does) so the subscription that follows can rely on it.
async fn wait_statement(ctx: &Ctx, sid: &str) -> Result<(), AwsError> {
    let mut delay = std::time::Duration::from_millis(200);
    for _ in 0..8 {
        if read(ctx).await?.iter().any(|s| s.sid == sid) {
            return Ok(());
        }
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
    Err(AwsError::Wait {
        kind: KIND,
        name: sid.to_string(),
        message: "added, but the function's policy still does not show it".into(),
    })
}

async fn remove(ctx: &Ctx, sid: &str) -> Result<(), AwsError> {
    let name = ctx.stack.function_name();
    match ctx
        .clients
        .lambda
        .remove_permission()
        .function_name(&name)
        .statement_id(sid)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::call(KIND, sid, "RemovePermission", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_this_stacks_statements() {
        let policy = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"s-sns","Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"lambda:InvokeFunction",
             "Resource":"arn:aws:lambda:us-east-1:1:function:s-relay","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:sns:us-east-1:1:s-alarms"}}},
            {"Sid":"someone-else","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"lambda:InvokeFunction"}]}"#;
        let got = parse_policy(policy, "s-");
        assert_eq!(
            got,
            vec![Statement {
                sid: "s-sns".into(),
                principal: SNS_PRINCIPAL.into(),
                source_arn: "arn:aws:sns:us-east-1:1:s-alarms".into(),
                action: ACTION.into(),
            }]
        );
    }
}
