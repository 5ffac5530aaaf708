//! The IAM permissions relayctl itself needs, stated where the calls are:
//! each resource kind declares the actions it calls and on which of the
//! stack's resources (`Single::IAM`, or `Registration::iam`), so a new kind
//! cannot be registered without them; calls outside the kinds (the tagging
//! index, `test`, `secret set`) are listed in [`OTHER`]. [`policy`] collects
//! them all into the document `relayctl policy` prints.
//!
//! AWS: which actions take a resource ARN, and in which form, follows the
//! Service Authorization Reference
//! (<https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html>);
//! an action that accepts only `*` is granted on `*`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::config::Stack;

/// Some actions, on one of the stack's resources.
#[derive(Debug, Clone, Copy)]
pub struct Grant {
    pub actions: &'static [&'static str],
    pub on: Scope,
}

/// Which ARNs a grant names, derived from the stack like every name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Role,
    /// The role, passed to Lambda only (iam:PassedToService).
    RolePassedToLambda,
    LogGroup,
    Topic,
    Function,
    /// Every alarm of the stack: `{name}-*`.
    Alarms,
    /// `slack.webhook_url_ssm`; no grant when the stack has none.
    Parameter,
    /// The stack's lock, `/relayctl/{name}/lock` (src/lock.rs).
    Lock,
    /// Actions that take no resource ARN.
    Any,
    /// `*`, only for a stack with an `instance_selector`.
    AnyForSelectors,
}

const fn grant(actions: &'static [&'static str], on: Scope) -> Grant {
    Grant { actions, on }
}

/// Calls made outside the resource kinds.
pub const OTHER: &[Grant] = &[
    // Ownership in bulk (resources/index.rs); GetResources takes only `*`.
    grant(&["tag:GetResources"], Scope::Any),
    // `relayctl test` (smoke.rs): fires one alarm, reads the function's log.
    grant(&["cloudwatch:SetAlarmState"], Scope::Alarms),
    grant(&["logs:FilterLogEvents"], Scope::LogGroup),
    // `relayctl secret set`. AWS: PutParameter with Tags also needs
    // ssm:AddTagsToResource, authorised inside the call (tag on create).
    grant(
        &["ssm:PutParameter", "ssm:AddTagsToResource"],
        Scope::Parameter,
    ),
    // The stack lock `up` and `down` hold (src/lock.rs); PutParameter with
    // Tags needs ssm:AddTagsToResource, as above.
    grant(
        &[
            "ssm:GetParameter",
            "ssm:PutParameter",
            "ssm:DeleteParameter",
            "ssm:AddTagsToResource",
        ],
        Scope::Lock,
    ),
    // Instance selectors (resources/targets.rs); DescribeInstances takes only `*`.
    grant(&["ec2:DescribeInstances"], Scope::AnyForSelectors),
];

/// Where the ARNs live: the account, region and partition, each either
/// known or a CloudFormation-style placeholder (`${AWS::AccountId}`), which
/// `Fn::Sub` fills in and a person replaces by hand.
#[derive(Debug, Clone)]
pub struct Place {
    pub partition: String,
    pub region: String,
    pub account: String,
}

impl Place {
    /// `region` and `account` when known; the partition follows the region.
    pub fn new(region: Option<&str>, account: Option<&str>) -> Place {
        let partition = match region {
            Some(r) if r.starts_with("cn-") => "aws-cn",
            Some(r) if r.starts_with("us-gov-") => "aws-us-gov",
            Some(_) => "aws",
            None => "${AWS::Partition}",
        };
        Place {
            partition: partition.to_string(),
            region: region.unwrap_or("${AWS::Region}").to_string(),
            account: account.unwrap_or("${AWS::AccountId}").to_string(),
        }
    }

    fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.partition, self.region, self.account
        )
    }

    /// The ARNs a scope names for this stack; None when the stack has no
    /// such resource.
    fn resources(&self, stack: &Stack, on: Scope) -> Option<Vec<String>> {
        let role = || {
            format!(
                "arn:{}:iam::{}:role/{}",
                self.partition,
                self.account,
                stack.role_name()
            )
        };
        let arns = match on {
            Scope::Role | Scope::RolePassedToLambda => vec![role()],
            // AWS: log-group ARNs are named both with and without the `:*`
            // that DescribeLogGroups reports; grant both forms.
            Scope::LogGroup => {
                let group = self.arn("logs", &format!("log-group:{}", stack.log_group_name()));
                vec![group.clone(), format!("{group}:*")]
            }
            Scope::Topic => vec![self.arn("sns", &stack.topic_name())],
            Scope::Function => {
                vec![self.arn("lambda", &format!("function:{}", stack.function_name()))]
            }
            Scope::Alarms => vec![self.arn("cloudwatch", &format!("alarm:{}-*", stack.name))],
            Scope::AnyForSelectors if !stack.has_selectors() => return None,
            Scope::AnyForSelectors => vec!["*".to_string()],
            Scope::Lock => {
                vec![self.arn("ssm", &format!("parameter/relayctl/{}/lock", stack.name))]
            }
            Scope::Parameter => {
                let name = stack.slack.webhook_url_ssm.as_deref()?;
                let name = name.strip_prefix('/').unwrap_or(name);
                vec![self.arn("ssm", &format!("parameter/{name}"))]
            }
            Scope::Any => vec!["*".to_string()],
        };
        Some(arns)
    }
}

/// The least-privilege policy for running plan, up, status, test, down and
/// secret set on this stack: one statement per scope, actions sorted.
/// `grants` are every kind's and [`OTHER`] (`resources::iam_grants`).
pub fn policy<'a>(
    stack: &Stack,
    place: &Place,
    grants: impl IntoIterator<Item = &'a Grant>,
) -> Value {
    let mut by_scope: BTreeMap<String, (Scope, Vec<&str>)> = BTreeMap::new();
    for g in grants {
        let entry = by_scope
            .entry(sid(g.on).to_string())
            .or_insert((g.on, Vec::new()));
        entry.1.extend(g.actions);
    }
    let statements: Vec<Value> = by_scope
        .into_iter()
        .filter_map(|(sid, (on, mut actions))| {
            let resources = place.resources(stack, on)?;
            actions.sort_unstable();
            actions.dedup();
            let mut statement = json!({
                "Sid": sid,
                "Effect": "Allow",
                "Action": actions,
                "Resource": resources,
            });
            if on == Scope::RolePassedToLambda {
                statement["Condition"] =
                    json!({"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}});
            }
            Some(statement)
        })
        .collect();
    json!({
        "Version": "2012-10-17",
        "Statement": statements,
    })
}

/// A statement id per scope (letters and digits only, as IAM wants).
fn sid(on: Scope) -> &'static str {
    match on {
        Scope::Role => "RelayRole",
        Scope::RolePassedToLambda => "PassRelayRoleToLambda",
        Scope::LogGroup => "RelayLogGroup",
        Scope::Topic => "AlarmTopic",
        Scope::Function => "RelayFunction",
        Scope::Alarms => "StackAlarms",
        Scope::Parameter => "WebhookParameter",
        Scope::Lock => "StackLock",
        Scope::AnyForSelectors => "InstanceSelectors",
        Scope::Any => "NoResourceLevelPermissions",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(extra: &str) -> Stack {
        let yaml = format!(
            "name: demo\nslack:\n  {extra}\nalarms:\n  - name: cpu\n    instance_id: i-0123456789abcdef0\n"
        );
        Stack::parse(&yaml, std::path::Path::new("stack.yaml")).expect("valid stack")
    }

    fn statement<'a>(policy: &'a Value, sid: &str) -> Option<&'a Value> {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["Sid"] == sid)
    }

    #[test]
    fn arns_are_the_stacks_with_placeholders_when_unknown() {
        let p = policy(
            &stack("webhook_url_env: HOOK"),
            &Place::new(None, None),
            crate::resources::iam_grants(),
        );
        assert_eq!(
            statement(&p, "RelayFunction").unwrap()["Resource"],
            json!([
                "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:demo-relay"
            ])
        );
        // No parameter, no grant on one; the lock's ssm grant only.
        assert!(statement(&p, "WebhookParameter").is_none());
        assert_eq!(
            statement(&p, "StackLock").unwrap()["Resource"],
            json!([
                "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/relayctl/demo/lock"
            ])
        );
        let pass = statement(&p, "PassRelayRoleToLambda").unwrap();
        assert_eq!(pass["Action"], json!(["iam:PassRole"]));
        assert_eq!(
            pass["Condition"]["StringEquals"]["iam:PassedToService"],
            "lambda.amazonaws.com"
        );
    }

    #[test]
    fn a_known_place_fills_every_arn_and_the_partition_follows_the_region() {
        let s = stack("webhook_url_ssm: /relay/demo/hook");
        let p = policy(
            &s,
            &Place::new(Some("cn-north-1"), Some("111122223333")),
            crate::resources::iam_grants(),
        );
        assert!(!p.to_string().contains("${"), "{p}");
        assert_eq!(
            statement(&p, "WebhookParameter").unwrap()["Resource"],
            json!(["arn:aws-cn:ssm:cn-north-1:111122223333:parameter/relay/demo/hook"])
        );
        assert_eq!(
            statement(&p, "RelayRole").unwrap()["Resource"],
            json!(["arn:aws-cn:iam::111122223333:role/demo-relay"])
        );
    }

    #[test]
    fn every_registered_kind_declares_what_it_calls() {
        for r in crate::resources::REGISTRY {
            assert!(!r.iam.is_empty(), "{} declares no IAM actions", r.kind.id);
            for g in r.iam {
                for a in g.actions {
                    let (service, action) = a.split_once(':').expect("service:Action");
                    assert!(
                        !service.is_empty() && action.starts_with(char::is_uppercase),
                        "{a}"
                    );
                }
            }
        }
    }
}
