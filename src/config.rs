//! stack.yaml: the raw serde schema, defaults, and validation into a `Stack`.
//!
//! PUBLIC API (other modules rely on it; keep the names):
//!   Stack::load(path: &Path) -> Result<Stack, ConfigError>
//!   Stack::parse(text: &str, file: &Path) -> Result<Stack, ConfigError>
//!   the `Stack`, `Slack`, `Handler`, `Alarm`, `Architecture`, `Route`, `Comparison` types below.
//!
//! TODO(config helper): raw serde structs with deny_unknown_fields, validation
//! collecting every problem with path + line + hint, webhook-URL refusal.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A validated stack: every default filled in, every value checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    /// `[a-z0-9-]{1,40}`; prefixes every AWS name.
    pub name: String,
    /// Region from the file, if any; else the AWS region chain decides.
    pub region: Option<String>,
    pub slack: Slack,
    pub handler: Handler,
    pub route: Route,
    pub alarms: Vec<Alarm>,
    /// User tags from the file (the ownership tag is added by relayctl, not here).
    pub tags: BTreeMap<String, String>,
    /// The folder holding stack.yaml; relative paths resolve against it.
    pub base_dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Slack {
    /// Name of the environment variable that holds the webhook URL at `up` time.
    pub webhook_url_env: String,
    pub channel: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Handler {
    /// Crate folder, already resolved against `Stack::base_dir`.
    pub path: PathBuf,
    pub memory_mb: i32,
    pub timeout_s: i32,
    pub architecture: Architecture,
    pub log_retention_days: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    X86_64,
    Arm64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Sns,
    Direct,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    /// Short name from the file; the AWS alarm is `{stack}-{name}`.
    pub name: String,
    pub instance_id: String,
    pub metric: String,
    pub namespace: String,
    /// One of Average, Sum, Minimum, Maximum, SampleCount.
    pub statistic: String,
    pub period_s: i32,
    pub evaluation_periods: i32,
    pub threshold: f64,
    pub comparison: Comparison,
    pub notify_ok: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    GreaterThanThreshold,
    GreaterThanOrEqualToThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
}

impl Comparison {
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::GreaterThanThreshold => "GreaterThanThreshold",
            Comparison::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            Comparison::LessThanThreshold => "LessThanThreshold",
            Comparison::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
        }
    }
}

impl Architecture {
    /// The name Lambda uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::X86_64 => "x86_64",
            Architecture::Arm64 => "arm64",
        }
    }
}
