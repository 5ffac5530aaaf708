//! One module per AWS resource kind. Each knows four things: how to read
//! itself (`read`), what the stack wants (`desired`), how the two differ
//! (`diff`, which yields a `Change` carrying an `Op`), and how to run that
//! op (`apply`). This file holds what they share: the context, tag and
//! ownership rules, and policy comparison.

pub mod alarm;
pub mod function;
pub mod log_group;
pub mod permission;
pub mod role;
pub mod subscription;
pub mod topic;

use std::collections::BTreeMap;

use crate::aws::{AwsError, Clients, ForeignOwner};
use crate::config::Stack;
use crate::package::Package;
use crate::secret::Secret;

/// Everything a resource needs to read, diff and apply.
pub struct Ctx {
    pub clients: Clients,
    pub stack: Stack,
    /// The webhook URL for the function's environment. None when it is not
    /// needed (status, down) or not set: the env value is then not compared.
    pub webhook: Option<Secret>,
    /// The handler package. None when the code is not compared (status, down).
    pub package: Option<Package>,
}

impl Ctx {
    pub fn topic_arn(&self) -> String {
        self.clients.arn("sns", &self.stack.topic_name())
    }

    pub fn function_arn(&self) -> String {
        self.clients.arn(
            "lambda",
            &format!("function:{}", self.stack.function_name()),
        )
    }

    pub fn role_arn(&self) -> String {
        self.clients
            .global_arn("iam", &format!("role/{}", self.stack.role_name()))
    }

    pub fn log_group_arn(&self) -> String {
        self.clients.arn(
            "logs",
            &format!("log-group:{}", self.stack.log_group_name()),
        )
    }

    pub fn alarm_arn(&self, alarm_name: &str) -> String {
        self.clients
            .arn("cloudwatch", &format!("alarm:{alarm_name}"))
    }

    /// The tags every owned resource carries: the user's plus ownership.
    pub fn tags(&self) -> Tags {
        self.stack.owner_tags()
    }
}

/// What `apply` runs for one change. Each kind owns its own op type.
#[derive(Debug, Clone)]
pub enum Op {
    Role(role::Op),
    LogGroup(log_group::Op),
    Topic(topic::Op),
    Function(Box<function::Op>),
    Permission(permission::Op),
    Alarm(alarm::Op),
    Subscription(subscription::Op),
}

pub type Tags = BTreeMap<String, String>;

/// Tag keys AWS sets itself; they are neither ours to add nor to remove.
fn is_system_tag(key: &str) -> bool {
    key.starts_with("aws:")
}

/// What to set and what to remove so that `live` tags equal `desired`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TagDiff {
    pub set: Tags,
    pub remove: Vec<String>,
}

impl TagDiff {
    pub fn between(live: &Tags, desired: &Tags) -> Option<TagDiff> {
        let set: Tags = desired
            .iter()
            .filter(|(k, v)| live.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let remove: Vec<String> = live
            .keys()
            .filter(|k| !desired.contains_key(*k) && !is_system_tag(k))
            .cloned()
            .collect();
        (!set.is_empty() || !remove.is_empty()).then_some(TagDiff { set, remove })
    }
}

pub fn render_tags(tags: &Tags) -> String {
    let inner: Vec<String> = tags
        .iter()
        .filter(|(k, _)| !is_system_tag(k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// Adds a `tags` attribute to `attrs` and returns the op when tags differ.
pub fn diff_tags(
    attrs: &mut Vec<crate::plan::Attr>,
    live: &Tags,
    desired: &Tags,
) -> Option<TagDiff> {
    let diff = TagDiff::between(live, desired)?;
    attrs.push(crate::plan::Attr::new(
        "tags",
        Some(render_tags(live)),
        Some(render_tags(desired)),
    ));
    Some(diff)
}

/// A same-named resource is ours only when it carries our ownership tag.
pub fn check_owner(
    kind: &'static str,
    name: &str,
    stack: &Stack,
    tags: &Tags,
) -> Result<(), AwsError> {
    match tags.get(crate::config::OWNER_TAG_KEY) {
        Some(owner) if *owner == stack.name => Ok(()),
        other => Err(AwsError::Foreign {
            kind,
            name: name.to_string(),
            expected: stack.name.clone(),
            found: ForeignOwner(other.cloned()),
        }),
    }
}

/// Is this resource (found under a prefix) owned by this stack? Used where a
/// foreign same-prefix resource is simply not ours to see, not an error.
pub fn is_owned(stack: &Stack, tags: &Tags) -> bool {
    tags.get(crate::config::OWNER_TAG_KEY) == Some(&stack.name)
}

/// Policy documents compared by meaning, not by text: AWS re-serialises
/// them (and IAM URL-encodes them), and a one-element list means the same as
/// its element.
pub fn normalize_policy(doc: &str) -> Option<serde_json::Value> {
    let decoded = if doc.trim_start().starts_with('{') {
        doc.to_string()
    } else {
        urlencoding::decode(doc).ok()?.into_owned()
    };
    let value: serde_json::Value = serde_json::from_str(&decoded).ok()?;
    Some(normalize_value(value))
}

fn normalize_value(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Array(items) => {
            let mut items: Vec<Value> = items.into_iter().map(normalize_value).collect();
            if items.len() == 1 {
                return items.pop().expect("one item");
            }
            items.sort_by_key(|i| i.to_string());
            Value::Array(items)
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, normalize_value(v)))
                .collect(),
        ),
        other => other,
    }
}

/// A context for unit tests of `diff`: real clients that are never sent,
/// the stack parsed from YAML (handler path: this repository's handler/).
#[cfg(test)]
pub fn test_ctx(yaml: &str, package_sha: Option<&str>) -> Ctx {
    use aws_config::{BehaviorVersion, Region};
    let handler = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("handler");
    let yaml = format!("{yaml}\nhandler:\n  path: {}\n", handler.display());
    let stack =
        Stack::parse(&yaml, std::path::Path::new("stack.yaml")).expect("test stack is valid");
    let config = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .build();
    Ctx {
        clients: Clients {
            iam: aws_sdk_iam::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            sns: aws_sdk_sns::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
            account: "111122223333".into(),
            region: "eu-west-1".into(),
            partition: "aws".into(),
        },
        stack,
        webhook: Some(Secret::new("https://hooks.slack.invalid/services/T/B/x")),
        package: package_sha.map(|sha| Package {
            zip: Vec::new(),
            sha256: sha.to_string(),
            source: std::path::PathBuf::new(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn tag_diff_sets_changed_and_removes_extra_but_keeps_system_tags() {
        let live = tags(&[
            ("a", "1"),
            ("b", "old"),
            ("stray", "x"),
            ("aws:cloudformation:stack", "y"),
        ]);
        let want = tags(&[("a", "1"), ("b", "new"), ("c", "3")]);
        let d = TagDiff::between(&live, &want).unwrap();
        assert_eq!(d.set, tags(&[("b", "new"), ("c", "3")]));
        assert_eq!(d.remove, vec!["stray".to_string()]);
        assert!(TagDiff::between(&want, &want).is_none());
    }

    #[test]
    fn policies_compare_by_meaning() {
        let a = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let b = "%7B%22Statement%22%3A%7B%22Action%22%3A%5B%22sts%3AAssumeRole%22%5D%2C%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%5B%22lambda.amazonaws.com%22%5D%7D%7D%2C%22Version%22%3A%222012-10-17%22%7D";
        assert_eq!(normalize_policy(a), normalize_policy(b));
        let c = a.replace("lambda.amazonaws.com", "ec2.amazonaws.com");
        assert_ne!(normalize_policy(a), normalize_policy(&c));
    }
}
