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

/// Statistics PutMetricAlarm accepts in `Statistic`; percentiles and the
/// like go in `ExtendedStatistic` (`extended_statistic:`).
pub const STATISTICS: &[&str] = &["Average", "Sum", "Minimum", "Maximum", "SampleCount"];

/// AWS: PutMetricAlarm `TreatMissingData`
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data>).
/// An alarm that never set it behaves as `missing`.
pub const TREAT_MISSING_DATA: &[&str] = &["breaching", "notBreaching", "ignore", "missing"];

/// AWS: PutMetricAlarm `Unit`, the `StandardUnit` enum
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>).
pub const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// AWS: EC2 instance states, DescribeInstances' `instance-state-name` filter.
pub const INSTANCE_STATES: &[&str] = &[
    "pending",
    "running",
    "shutting-down",
    "terminated",
    "stopping",
    "stopped",
];

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
    /// Short name from the file; the AWS alarm is `{stack}-{name}`, or
    /// `{stack}-{name}-{instance-id}` per instance of a list or selector.
    pub name: String,
    /// Which instances (if any) the alarm watches.
    pub target: Target,
    /// Dimensions besides the instance's `InstanceId`, any namespace's.
    pub dimensions: BTreeMap<String, String>,
    pub metric: String,
    pub namespace: String,
    pub statistic: Statistic,
    pub period_s: i32,
    pub evaluation_periods: i32,
    /// None: CloudWatch's default, every evaluated period (M of N with M = N).
    pub datapoints_to_alarm: Option<i32>,
    pub threshold: f64,
    pub comparison: Comparison,
    /// One of `TREAT_MISSING_DATA`; CloudWatch's default is `missing`.
    pub treat_missing_data: String,
    /// The user's description; None: relayctl writes one naming the stack.
    pub description: Option<String>,
    /// One of `UNITS`; None: any unit the metric is published in.
    pub unit: Option<String>,
    pub notify_ok: bool,
}

impl Alarm {
    /// The one instance of the seed's `instance_id:` form, if that is the form.
    pub fn instance_id(&self) -> Option<&str> {
        match &self.target {
            Target::Instance(id) => Some(id),
            _ => None,
        }
    }

    /// True when the alarm's instances are found in AWS at plan time
    /// (`instance_selector`), not named in the file: a static export
    /// (CloudFormation) cannot represent it.
    pub fn is_selector_resolved(&self) -> bool {
        matches!(self.target, Target::Selector(_))
    }
}

/// What an alarm entry watches.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// `instance_id:`: one alarm, `{stack}-{alarm}` (the seed's form).
    Instance(String),
    /// `instances: [...]`: one alarm per instance, `{stack}-{alarm}-{id}`.
    Instances(Vec<String>),
    /// `instance_selector:`: one alarm per matching instance, found with
    /// EC2 DescribeInstances at plan / up / status time.
    Selector(Selector),
    /// `dimensions:` alone: one alarm on those dimensions, `{stack}-{alarm}`.
    Dimensions,
}

/// Instances with all these tags, in one of these states.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    pub tags: BTreeMap<String, String>,
    /// Default: `running`.
    pub states: Vec<String>,
}

impl Selector {
    /// `Env=prod, Role=web` (and the states when not just running): how
    /// plan explains why an alarm comes or goes.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if self.states != ["running"] {
            parts.push(format!("state {}", self.states.join("|")));
        }
        if parts.is_empty() {
            "any instance".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// `Statistic` (Average, ...) or `ExtendedStatistic` (p99, tm90, ...):
/// PutMetricAlarm takes exactly one of the two.
#[derive(Debug, Clone, PartialEq)]
pub enum Statistic {
    Simple(String),
    Extended(String),
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
