//! stack.yaml: read, parse once into a positioned tree, check against the
//! schema, validate into a `Stack`.
//!
//! PUBLIC API (other modules rely on it; keep the names):
//!   Stack::load(path: &Path) -> Result<Stack, ConfigError>
//!   Stack::parse(text: &str, file: &Path) -> Result<Stack, ConfigError>
//!   Stack::handler_source(&self) -> Result<&Path, ConfigError>  (call before a build)
//!   Stack::webhook_url(&self) -> Result<String, ConfigError>
//!   Stack::{function_name, role_name, log_group_name, topic_name, alarm_name,
//!           instance_alarm_name, has_selectors, permission_sid, permission_sid_for, owner_tags},
//!   lock_parameter_name, is_lock_parameter
//!   the `Stack`, `Slack`, `Handler`, `Alarm`, `Target`, `Selector`, `Statistic`,
//!   `Architecture`, `Route`, `Comparison` types,
//!   `ConfigError` (with `code()`, `hint()`, `location()`, `problems()`), `Problem`,
//!   `OWNER_TAG_KEY`, `MAX_USER_TAGS`.
//!
//! One job per module, in the order the text goes through them:
//! `read` (bounded, regular files only) -> `tree` (yaml-rust2's marked events
//! into `Node`s with line and column; aliases within a budget) -> `schema`
//! (the fields, stated once, and the walk that checks shapes, control
//! characters and pasted webhooks) -> `validate` and `tags` (meaning and
//! AWS's limits) -> `model` (the `Stack`). `error` holds the error types with
//! their codes; `syntax` explains a file that does not parse; `safe` decides
//! how a value from the file may be shown.

mod alarm;
mod error;
mod metric;
mod model;
mod read;
mod safe;
mod scalar;
mod schema;
mod suggest;
mod syntax;
mod tags;
mod tree;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use error::codes;
pub use error::{ConfigError, Problem};
pub use model::{
    Alarm, Architecture, Comparison, Handler, INSTANCE_STATES, LOG_RETENTION_DAYS, MAX_USER_TAGS,
    OWNER_TAG_KEY, Route, STATISTICS, Selector, Slack, Stack, Statistic, TREAT_MISSING_DATA,
    Target, UNITS,
};
pub use read::MAX_FILE_BYTES;
pub use schema::field_paths;
pub use validate::is_region;

impl Stack {
    /// Reads and validates a stack file: a regular file of at most
    /// `MAX_FILE_BYTES`.
    pub fn load(path: &Path) -> Result<Stack, ConfigError> {
        let text = read::read_stack_file(path)?;
        Stack::parse(&text, path)
    }

    /// Validates `text` as the content of `file`. `file` names the file in
    /// messages, and its folder is `base_dir` (handler.path resolves against
    /// it), so parsing never depends on the current directory or the disk.
    pub fn parse(text: &str, file: &Path) -> Result<Stack, ConfigError> {
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(ConfigError::TooLarge {
                file: file.to_path_buf(),
                limit: MAX_FILE_BYTES,
            });
        }
        let invalid = |problems: Vec<Problem>| ConfigError::Invalid {
            file: file.to_path_buf(),
            problems,
        };
        // Editors on Windows may start the file with a byte-order mark.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let root = tree::parse(text).map_err(|e| invalid(vec![syntax::problem(&e, text)]))?;
        let Some(root) = root else {
            return Err(invalid(vec![
                Problem::new(codes::EMPTY, "", "the file is empty").hint(
                    "a stack needs at least `name:`, `slack:` and `alarms:`; see the example \
                     in README.md",
                ),
            ]));
        };
        let mut walk = schema::Walk::default();
        let Some(section) = walk.root(&root) else {
            return Err(invalid(walk.problems));
        };
        let mut validator = validate::Validator::default();
        let stack = validator.stack(&section, base_dir_of(file));
        let mut problems = walk.problems;
        problems.append(&mut validator.problems);
        if problems.is_empty() {
            return Ok(stack);
        }
        // File order reads best; problems without a line go last.
        problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
        Err(invalid(problems))
    }

    /// The handler crate's folder, checked: only a build needs it, so
    /// `down`, `status` and `up --zip` work without the source tree.
    pub fn handler_source(&self) -> Result<&Path, ConfigError> {
        let path = self.handler.path.as_path();
        let problem = if !path.exists() {
            "does not exist"
        } else if !path.is_dir() {
            "is not a folder"
        } else if !path.join("Cargo.toml").is_file() {
            "has no Cargo.toml"
        } else {
            return Ok(path);
        };
        Err(ConfigError::HandlerSource {
            path: path.to_path_buf(),
            problem,
        })
    }

    /// The Slack webhook URL from the environment variable the stack names.
    /// Called at `up`/`test` time only: `plan` and `status` never need it.
    pub fn webhook_url(&self) -> Result<String, ConfigError> {
        self.webhook_url_from(|var| std::env::var(var).ok())
    }

    /// `webhook_url` with the environment lookup injected, so tests need not
    /// mutate the process environment (unsafe in edition 2024).
    pub fn webhook_url_from(
        &self,
        lookup: impl FnOnce(&str) -> Option<String>,
    ) -> Result<String, ConfigError> {
        let var = &self.slack.webhook_url_env;
        let value = lookup(var).unwrap_or_default();
        // A trailing newline from `$(cat file)` or a secrets file is harmless.
        let value = value.trim();
        if value.is_empty() {
            return Err(ConfigError::MissingWebhook { var: var.clone() });
        }
        // The handler's own rule (shared code): a URL it would refuse at
        // init would lose every alarm, so `up` refuses it first. The error
        // never contains any part of the URL.
        if let Err(e) = relay_handler::webhook::validate(value) {
            return Err(ConfigError::BadWebhook {
                var: var.clone(),
                reason: e.to_string(),
            });
        }
        Ok(value.to_string())
    }

    /// The Lambda function: `{name}-relay`.
    pub fn function_name(&self) -> String {
        format!("{}-relay", self.name)
    }

    /// The function's execution role: `{name}-relay` (IAM and Lambda names
    /// live in different namespaces, so they can share it).
    pub fn role_name(&self) -> String {
        format!("{}-relay", self.name)
    }

    /// The log group Lambda writes to by default for the function.
    pub fn log_group_name(&self) -> String {
        format!("/aws/lambda/{}", self.function_name())
    }

    /// The SNS topic: `{name}-alarms`.
    pub fn topic_name(&self) -> String {
        format!("{}-alarms", self.name)
    }

    /// The CloudWatch alarm: `{name}-{alarm.name}`.
    pub fn alarm_name(&self, alarm: &Alarm) -> String {
        format!("{}-{}", self.name, alarm.name)
    }

    /// The CloudWatch alarm of one instance of a list or selector:
    /// `{name}-{alarm.name}-{instance-id}`.
    pub fn instance_alarm_name(&self, alarm: &Alarm, instance_id: &str) -> String {
        format!("{}-{}-{instance_id}", self.name, alarm.name)
    }

    /// True when some alarm's instances are found in AWS at plan time
    /// (`instance_selector`): a static export cannot represent the stack.
    pub fn has_selectors(&self) -> bool {
        self.alarms.iter().any(Alarm::is_selector_resolved)
    }

    /// Statement id of the Lambda permission that lets the SNS topic invoke
    /// the function (route sns).
    pub fn permission_sid(&self) -> String {
        format!("{}-sns", self.name)
    }

    /// Statement id of the Lambda permission that lets one alarm invoke the
    /// function itself (route direct): one statement per alarm, since each
    /// has its own SourceArn.
    pub fn permission_sid_for(&self, alarm: &Alarm) -> String {
        format!("{}-alarm-{}", self.name, alarm.name)
    }

    /// Tags for every resource: the user's tags plus the ownership tag.
    pub fn owner_tags(&self) -> BTreeMap<String, String> {
        let mut tags = self.tags.clone();
        // Validation refuses a user tag with this key, so nothing is overwritten.
        tags.insert(OWNER_TAG_KEY.to_string(), self.name.clone());
        tags
    }
}

/// The SSM parameter holding a stack's lock (src/lock.rs):
/// `/relayctl/{stack}/lock`. Names live here, with the resources' names.
pub fn lock_parameter_name(stack: &str) -> String {
    format!("/relayctl/{stack}/lock")
}

/// Whether `name` is any stack's lock parameter: validation refuses it as
/// `slack.webhook_url_ssm`.
pub fn is_lock_parameter(name: &str) -> bool {
    name.strip_prefix("/relayctl/")
        .and_then(|rest| rest.strip_suffix("/lock"))
        .is_some_and(|stack| !stack.is_empty() && !stack.contains('/'))
}

fn base_dir_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(String, Option<usize>, Option<usize>)> {
        let err = Stack::parse(text, Path::new("s.yaml")).unwrap_err();
        err.problems()
            .iter()
            .map(|p| (p.path.clone(), p.line, p.column))
            .collect()
    }

    #[test]
    fn positions_in_block_flow_and_sequences() {
        let text = "\
# comment
name: x
slack:
  webhook_url_env: A
  chanel: b
alarms:
  - name: a
    period_s: 45
    instance_id: i-0123abcd
  -
    nmae: b
tags: { team: platform, \"cost:center\": [x] }
";
        assert_eq!(
            lines(text),
            [
                ("slack.chanel".to_string(), Some(5), Some(3)),
                ("alarms[0].period_s".to_string(), Some(8), None),
                // A missing field borrows the line where its item's mapping starts.
                ("alarms[1].nmae".to_string(), Some(11), Some(5)),
                ("alarms[1].name".to_string(), Some(11), None),
                ("alarms[1].instance_id".to_string(), Some(11), None),
                ("tags[\"cost:center\"]".to_string(), Some(12), Some(25)),
            ]
        );
    }
}
