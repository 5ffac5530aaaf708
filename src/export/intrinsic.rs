//! Values CloudFormation fills in at deploy time. The resources' own
//! `desired()` builds every ARN and condition from the context's account,
//! region and partition; here those are placeholders, so the same code that
//! drives `up` yields the template's values, and `resolve` turns each
//! placeholder into `Ref` / `Fn::Sub` (and each ARN of a resource in the
//! template into a `Ref` / `Fn::GetAtt`, which also orders creation).

use serde_json::{Map, Value, json};

use crate::aws::Clients;
use crate::config::Stack;
use crate::resources::Ctx;
use crate::secret::Secret;

/// Placeholders: `\u{1}NAME\u{1}` cannot occur in a validated stack, which
/// refuses control characters.
const MARK: char = '\u{1}';

/// The placeholder for CloudFormation's `NAME` (a pseudo parameter or a
/// template parameter).
pub fn placeholder(name: &str) -> String {
    format!("{MARK}{name}{MARK}")
}

/// The template parameter the webhook URL is passed in (NoEcho).
pub const WEBHOOK_PARAMETER: &str = "SlackWebhookUrl";

/// A context for `desired()` only: its clients are never sent a request.
pub fn ctx(stack: Stack) -> Ctx {
    let webhook = stack
        .slack
        .webhook_url_ssm
        .is_none()
        .then(|| Secret::new(placeholder(WEBHOOK_PARAMETER)));
    Ctx {
        clients: Clients::unsent(
            &placeholder("AWS::AccountId"),
            &placeholder("AWS::Region"),
            &placeholder("AWS::Partition"),
        ),
        stack,
        webhook,
        package: None,
        index: Default::default(),
        deferred: Default::default(),
        last_level: Default::default(),
        instances: Default::default(),
    }
}

/// Whole strings that stand for a resource of the template.
pub struct Refs(Vec<(String, Value)>);

impl Refs {
    pub fn new(ctx: &Ctx, topic: bool) -> Refs {
        let mut refs = vec![
            (ctx.role_arn(), get_att("Role", "Arn")),
            (ctx.function_arn(), get_att("Function", "Arn")),
        ];
        if topic {
            refs.push((ctx.topic_arn(), json!({ "Ref": "Topic" })));
        }
        Refs(refs)
    }

    /// `value` with every placeholder and known ARN made an intrinsic.
    pub fn resolve(&self, value: Value) -> Value {
        match value {
            Value::String(s) => self.string(s),
            Value::Array(items) => {
                Value::Array(items.into_iter().map(|v| self.resolve(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .map(|(k, v)| (k, self.resolve(v)))
                    .collect::<Map<_, _>>(),
            ),
            other => other,
        }
    }

    fn string(&self, s: String) -> Value {
        if let Some((_, r)) = self.0.iter().find(|(arn, _)| *arn == s) {
            return r.clone();
        }
        if !s.contains(MARK) {
            return Value::String(s);
        }
        let parts: Vec<&str> = s.split(MARK).collect();
        if let ["", name, ""] = parts.as_slice() {
            return json!({ "Ref": name });
        }
        // Odd parts are names; a literal `${` elsewhere is written `${!`.
        let sub: String = parts
            .iter()
            .enumerate()
            .map(|(i, part)| match i % 2 {
                0 => part.replace("${", "${!"),
                _ => format!("${{{part}}}"),
            })
            .collect();
        json!({ "Fn::Sub": sub })
    }
}

pub fn get_att(logical_id: &str, attribute: &str) -> Value {
    json!({ "Fn::GetAtt": [logical_id, attribute] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_sub_ref_or_getatt() {
        let stack = Stack::parse(
            "name: r\nslack:\n  webhook_url_env: X\nalarms:\n  - name: a\n    instance_id: i-0123456789abcdef0\n",
            std::path::Path::new("s.yaml"),
        )
        .unwrap();
        let ctx = ctx(stack);
        let refs = Refs::new(&ctx, true);
        assert_eq!(
            refs.resolve(json!(ctx.log_group_arn())),
            json!({"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/r-relay"})
        );
        assert_eq!(
            refs.resolve(json!(ctx.topic_arn())),
            json!({"Ref": "Topic"})
        );
        assert_eq!(
            refs.resolve(json!([ctx.function_arn()])),
            json!([{"Fn::GetAtt": ["Function", "Arn"]}])
        );
        assert_eq!(
            refs.resolve(json!(placeholder(WEBHOOK_PARAMETER))),
            json!({"Ref": "SlackWebhookUrl"})
        );
        let literal = format!("${{x}} in {}", placeholder("AWS::Region"));
        assert_eq!(
            refs.resolve(json!(literal)),
            json!({"Fn::Sub": "${!x} in ${AWS::Region}"})
        );
        assert_eq!(refs.resolve(json!("plain ${x}")), json!("plain ${x}"));
    }
}
