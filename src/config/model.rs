//! The validated stack: what the rest of relayctl reads, with every default
//! filled in and every value checked.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Tag key relayctl puts on every resource it creates; its value is the stack
/// name. `down` only deletes resources carrying it, so users may not set it.
pub const OWNER_TAG_KEY: &str = "relayctl:stack";

/// AWS allows 50 tags per resource; relayctl adds its ownership tag and keeps
/// one spare, so a user tag set that validates fits on every resource kind.
pub const MAX_USER_TAGS: usize = 48;

/// The only values CloudWatch Logs' PutRetentionPolicy accepts.
pub const LOG_RETENTION_DAYS: &[i32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Statistics PutMetricAlarm accepts in `Statistic` (percentiles would need
/// `ExtendedStatistic`, which relayctl does not model).
pub const STATISTICS: &[&str] = &["Average", "Sum", "Minimum", "Maximum", "SampleCount"];

/// A validated stack: every default filled in, every value checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    /// `[a-z0-9-]{1,40}`; prefixes every AWS name.
    pub name: String,
    /// Region from the file, if any; else the AWS region chain decides.
    pub region: Option<String>,
    /// `regions:` from the file: several regions converged at once (never
    /// together with `region`); empty when the file has none.
    pub regions: Vec<String>,
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
    /// Name of the environment variable that holds the webhook URL at `up`
    /// time. Empty when `webhook_url_ssm` is set (exactly one of the two).
    pub webhook_url_env: String,
    /// Name of the SSM SecureString parameter holding the webhook URL, read
    /// by the handler itself; the function's environment holds only this name.
    pub webhook_url_ssm: Option<String>,
    pub channel: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Handler {
    /// Crate folder, already resolved against `Stack::base_dir`. Not checked
    /// on load (`down`, `status` and `up --zip` need no source tree): a build
    /// asks `Stack::handler_source`, which checks it.
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

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Sns => "sns",
            Route::Direct => "direct",
        }
    }
}

impl Comparison {
    pub const ALL: [Comparison; 4] = [
        Comparison::GreaterThanThreshold,
        Comparison::GreaterThanOrEqualToThreshold,
        Comparison::LessThanThreshold,
        Comparison::LessThanOrEqualToThreshold,
    ];

    pub(crate) fn from_name(s: &str) -> Option<Comparison> {
        Comparison::ALL.into_iter().find(|c| c.as_str() == s)
    }
}
