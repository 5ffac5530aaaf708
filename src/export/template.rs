//! The template's resources, one function per kind, each from the same
//! `desired()` that `up` converges to, under the same physical names.
//! Logical ids are fixed (`Role`, `LogGroup`, `Topic`, `Function`,
//! `Permission`, `Subscription`, `Alarm<Name>`), so a new export of a
//! changed stack updates a deployed one in place.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::code::CodeLocation;
use super::intrinsic::{Refs, WEBHOOK_PARAMETER};
use super::yaml::{Node, Ordered};
use crate::config::Route;
use crate::resources::targets::Targets;
use crate::resources::{Ctx, Tags, alarm, function, log_group, permission, role, topic};

/// The whole template.
pub fn build(ctx: &Ctx, code: &CodeLocation) -> Node {
    let sns = ctx.stack.route == Route::Sns;
    let refs = Refs::new(ctx, sns);
    let mut resources = Ordered::default();
    resources.push("Role", role_resource(ctx, &refs));
    resources.push("LogGroup", log_group_resource(ctx));
    if sns {
        resources.push("Topic", topic_resource(ctx));
    }
    resources.push("Function", function_resource(ctx, &refs, code));
    resources.push("Permission", permission_resource(ctx, &refs));
    if sns {
        resources.push("Subscription", subscription_resource(&refs, ctx));
    }
    for (id, alarm) in alarm_resources(ctx, &refs) {
        resources.push(&id, alarm);
    }
    let mut template = Ordered::default();
    template.push("AWSTemplateFormatVersion", Node::json(json!("2010-09-09")));
    template.push(
        "Description",
        Node::json(json!(format!(
            "relayctl stack {}: CloudWatch alarms -> {}Lambda -> Slack (relayctl export cloudformation {})",
            ctx.stack.name,
            if sns { "SNS -> " } else { "" },
            env!("CARGO_PKG_VERSION")
        ))),
    );
    if ctx.webhook.is_some() {
        let mut parameters = Ordered::default();
        parameters.push(WEBHOOK_PARAMETER, webhook_parameter());
        template.push("Parameters", Node::Map(parameters));
    }
    template.push("Resources", Node::Map(resources));
    Node::Map(template)
}

/// The webhook is never in the template: passed at deploy time, not echoed.
fn webhook_parameter() -> Node {
    Node::json(json!({
        "Type": "String",
        "NoEcho": true,
        "AllowedPattern": "^https://\\S+$",
        "Description": "The Slack incoming webhook URL, set as the function's SLACK_WEBHOOK_URL (never shown by CloudFormation)"
    }))
}

/// A resource: Type, then DependsOn, then Properties (keys sorted).
fn resource(kind: &str, depends_on: &[&str], properties: Value) -> Node {
    let mut r = Ordered::default();
    r.push("Type", Node::json(json!(kind)));
    if !depends_on.is_empty() {
        r.push("DependsOn", Node::json(json!(depends_on)));
    }
    r.push("Properties", Node::json(properties));
    Node::Map(r)
}

/// CloudFormation's tag list, in key order.
fn tags(tags: &Tags) -> Value {
    tags.iter()
        .map(|(k, v)| json!({ "Key": k, "Value": v }))
        .collect()
}

fn role_resource(ctx: &Ctx, refs: &Refs) -> Node {
    let want = role::desired(ctx);
    let properties = json!({
        "RoleName": ctx.stack.role_name(),
        "Description": role::description(ctx),
        "AssumeRolePolicyDocument": want.trust,
        "Policies": [{ "PolicyName": role::policy_name(&ctx.clients.region), "PolicyDocument": want.policy }],
        "Tags": tags(&want.tags),
    });
    resource("AWS::IAM::Role", &[], refs.resolve(properties))
}

fn log_group_resource(ctx: &Ctx) -> Node {
    let want = log_group::desired(ctx);
    let properties = json!({
        "LogGroupName": ctx.stack.log_group_name(),
        "RetentionInDays": want.retention_days,
        "Tags": tags(&want.tags),
    });
    resource("AWS::Logs::LogGroup", &[], properties)
}

fn topic_resource(ctx: &Ctx) -> Node {
    let want = topic::desired(ctx);
    let properties = json!({
        "TopicName": ctx.stack.topic_name(),
        "Tags": tags(&want.tags),
    });
    resource("AWS::SNS::Topic", &[], properties)
}

fn function_resource(ctx: &Ctx, refs: &Refs, code: &CodeLocation) -> Node {
    let want = function::desired(ctx);
    let variables: BTreeMap<String, String> =
        function::environment_variables(&want).into_iter().collect();
    let properties = json!({
        "FunctionName": ctx.stack.function_name(),
        "Description": function::description(ctx),
        "Runtime": function::RUNTIME,
        "Handler": function::HANDLER,
        "Role": want.role,
        "MemorySize": want.memory_mb,
        "Timeout": want.timeout_s,
        "Architectures": [want.architecture],
        "Environment": { "Variables": variables },
        "Code": { "S3Bucket": code.bucket_value(), "S3Key": code.key },
        "Tags": tags(&want.tags),
    });
    // As in `up`: the log group exists (tagged, with its retention) before
    // the function can write to it, so Lambda never makes its own.
    resource(
        "AWS::Lambda::Function",
        &["LogGroup"],
        refs.resolve(properties),
    )
}

/// AWS::Lambda::Permission picks its own statement id; relayctl recognises
/// the statement by what it grants (src/resources/permission.rs).
fn permission_resource(ctx: &Ctx, refs: &Refs) -> Node {
    let [want] = <[permission::Statement; 1]>::try_from(permission::desired(ctx))
        .expect("one permission statement per stack");
    let mut properties = json!({
        "FunctionName": { "Ref": "Function" },
        "Action": want.action,
        "Principal": want.principal,
        "SourceArn": want.source_arn,
    });
    if let Some(account) = want.source_account {
        properties["SourceAccount"] = json!(account);
    }
    resource("AWS::Lambda::Permission", &[], refs.resolve(properties))
}

fn subscription_resource(refs: &Refs, ctx: &Ctx) -> Node {
    let properties = json!({
        "TopicArn": ctx.topic_arn(),
        "Protocol": "lambda",
        "Endpoint": ctx.function_arn(),
    });
    // SNS delivers only once the permission lets it (as in `up`).
    resource(
        "AWS::SNS::Subscription",
        &["Permission"],
        refs.resolve(properties),
    )
}

/// One `Alarm<Name>` per alarm; created after the whole path it notifies.
fn alarm_resources(ctx: &Ctx, refs: &Refs) -> Vec<(String, Node)> {
    let after: &[&str] = match ctx.stack.route {
        Route::Sns => &["Permission", "Subscription"],
        Route::Direct => &["Permission"],
    };
    let mut ids: Vec<String> = Vec::new();
    // Selectors were refused (refuse.rs): the file names every instance.
    let targets = Targets::from_file(&ctx.stack.alarms);
    let prefix = format!("{}-", ctx.stack.name);
    alarm::desired(ctx, &targets)
        .into_iter()
        .map(|want| {
            let short = want.name.strip_prefix(&prefix).unwrap_or(&want.name);
            let id = unique_id(&mut ids, short);
            let s = &want.spec;
            let dimensions: Vec<Value> = s
                .dimensions
                .iter()
                .filter_map(|d| d.split_once('='))
                .map(|(name, value)| json!({ "Name": name, "Value": value }))
                .collect();
            let mut properties = json!({
                "AlarmName": want.name,
                "Namespace": s.namespace,
                "MetricName": s.metric,
                "Period": s.period_s,
                "EvaluationPeriods": s.evaluation_periods,
                "Threshold": s.threshold,
                "ComparisonOperator": s.comparison,
                "TreatMissingData": s.treat_missing_data,
                "Dimensions": dimensions,
                "AlarmActions": s.alarm_actions,
                "Tags": tags(&want.tags),
            });
            let optional = [
                ("Statistic", &s.statistic),
                ("ExtendedStatistic", &s.extended_statistic),
                ("Unit", &s.unit),
                ("AlarmDescription", &s.description),
            ];
            for (key, value) in optional {
                if let Some(v) = value {
                    properties[key] = json!(v);
                }
            }
            // Only when the file sets it, as `up` sends it: AWS stores an
            // unset value as absent, and status compares the two stacks.
            if let Some(n) = want.datapoints_to_alarm {
                properties["DatapointsToAlarm"] = json!(n);
            }
            if !s.ok_actions.is_empty() {
                properties["OKActions"] = json!(s.ok_actions);
            }
            let node = resource("AWS::CloudWatch::Alarm", after, refs.resolve(properties));
            (id, node)
        })
        .collect()
}

/// `Alarm` + the name in CamelCase (`high-cpu` -> `AlarmHighCpu`); a
/// collision (`a-b`, `a--b`) takes the alarm's position as a suffix.
fn unique_id(taken: &mut Vec<String>, name: &str) -> String {
    let camel: String = name
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    let mut id = format!("Alarm{camel}");
    if taken.contains(&id) {
        id = format!("{id}{}", taken.len() + 1);
    }
    taken.push(id.clone());
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarm_ids_are_camel_case_and_unique() {
        let mut taken = Vec::new();
        let ids: Vec<String> = ["high-cpu", "a-b", "a--b", "x1"]
            .iter()
            .map(|n| unique_id(&mut taken, n))
            .collect();
        assert_eq!(ids, ["AlarmHighCpu", "AlarmAB", "AlarmAB3", "AlarmX1"]);
    }

    #[test]
    fn function_role_and_tags_come_from_up_desired() {
        let stack = crate::config::Stack::parse(
            "name: r\nslack:\n  webhook_url_env: X\nalarms:\n  - name: a\n    instance_id: i-0123456789abcdef0\ntags: { team: ops }\n",
            std::path::Path::new("s.yaml"),
        )
        .unwrap();
        let ctx = super::super::intrinsic::ctx(stack);
        let refs = Refs::new(&ctx, true);
        let code = CodeLocation::new("relay-code", "", "abc").unwrap();
        let Node::Map(f) = function_resource(&ctx, &refs, &code) else {
            panic!()
        };
        let Some(Node::Json(p)) = f.get("Properties") else {
            panic!()
        };
        assert_eq!(p["Role"], json!({"Fn::GetAtt": ["Role", "Arn"]}));
        assert_eq!(
            p["Environment"]["Variables"]["SLACK_WEBHOOK_URL"],
            json!({"Ref": "SlackWebhookUrl"})
        );
        assert_eq!(
            p["Tags"],
            json!([{"Key": "relayctl:stack", "Value": "r"}, {"Key": "team", "Value": "ops"}])
        );
    }
}
