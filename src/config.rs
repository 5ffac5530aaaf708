//! stack.yaml: the raw serde schema, defaults, and validation into a `Stack`.
//!
//! PUBLIC API (other modules rely on it; keep the names):
//!   Stack::load(path: &Path) -> Result<Stack, ConfigError>
//!   Stack::parse(text: &str, file: &Path) -> Result<Stack, ConfigError>
//!   Stack::webhook_url(&self) -> Result<String, ConfigError>
//!   Stack::{function_name, role_name, log_group_name, topic_name, alarm_name,
//!           permission_sid, permission_sid_for, owner_tags}
//!   the `Stack`, `Slack`, `Handler`, `Alarm`, `Architecture`, `Route`, `Comparison` types below,
//!   `ConfigError`, `Problem`, `OWNER_TAG_KEY`.
//!
//! Two stages, as in ripgrep's flags: serde reads the file into `Raw*` structs
//! whose fields are all optional and loosely typed (strings, i64), so that a bad
//! value becomes a collected `Problem` instead of serde's first-and-only error;
//! then `validate` checks every field and builds the typed `Stack`.
//! Before serde, the file is read as a `serde_yaml::Value` and walked against
//! the same schema (`STACK_FIELDS`): every unknown field and wrong type is a
//! problem of its own, the bad fields are dropped, and the rest still goes
//! through `validate`. Only a YAML syntax error stops everything (one problem,
//! with serde_yaml's line and column).

use std::cell::OnceCell;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml::{Mapping, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

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

    fn from_name(s: &str) -> Option<Comparison> {
        Comparison::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

// ---------------------------------------------------------------------------
// Errors

/// Everything that can go wrong between stack.yaml on disk and a usable `Stack`.
///
/// Each Display is complete on its own, hints included: the CLI prints
/// `error: {e}` and nothing else.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ConfigError {
    #[error("cannot read {}: {source}", file.display())]
    #[diagnostic(code(relayctl::config::read))]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },

    /// Every problem found, each with its own path, line and hint.
    #[error("{}", render_invalid(file, problems))]
    #[diagnostic(code(relayctl::config::invalid))]
    Invalid {
        file: PathBuf,
        problems: Vec<Problem>,
    },

    #[error(
        "environment variable {var} is not set (named by slack.webhook_url_env)\n  hint: {}",
        missing_webhook_hint(var)
    )]
    #[diagnostic(code(relayctl::config::missing_webhook))]
    MissingWebhook { var: String },

    /// The value is a secret: the message names the variable, never its value.
    #[error(
        "environment variable {var} does not hold an http(s) URL (value not shown)\n  hint: {}",
        bad_webhook_hint(var)
    )]
    #[diagnostic(code(relayctl::config::bad_webhook))]
    BadWebhook { var: String },
}

fn missing_webhook_hint(var: &str) -> String {
    format!("export {var}=https://hooks.slack.com/services/… before `relayctl up`")
}

fn bad_webhook_hint(var: &str) -> String {
    format!("set {var} to the Slack incoming webhook URL, which starts with https://")
}

impl ConfigError {
    /// The remedy alone, as data (the Display already contains it).
    pub fn hint(&self) -> Option<String> {
        match self {
            ConfigError::MissingWebhook { var } => Some(missing_webhook_hint(var)),
            ConfigError::BadWebhook { var } => Some(bad_webhook_hint(var)),
            ConfigError::Read { .. } | ConfigError::Invalid { .. } => None,
        }
    }
}

/// One thing wrong with stack.yaml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Field path such as `alarms[1].period_s`; empty for a syntax error that
    /// belongs to no field.
    pub path: String,
    /// 1-based line in the file, when known (a defaulted field has none of its
    /// own and borrows its section's line, if the section is in the file).
    pub line: Option<usize>,
    /// 1-based column; only serde's errors know it.
    pub column: Option<usize>,
    /// What was found. Never contains a secret (see `slack.webhook_url_env`).
    pub message: String,
    /// What is allowed instead.
    pub hint: Option<String>,
}

fn render_invalid(file: &Path, problems: &[Problem]) -> String {
    use std::fmt::Write as _;
    let file = file.display();
    let n = problems.len();
    let mut out = format!(
        "{file} is invalid ({n} problem{}):",
        if n == 1 { "" } else { "s" }
    );
    for p in problems {
        // file:line:col: is the form editors and terminals turn into links.
        let _ = write!(out, "\n  {file}");
        if let Some(line) = p.line {
            let _ = write!(out, ":{line}");
            if let Some(col) = p.column {
                let _ = write!(out, ":{col}");
            }
        }
        out.push_str(": ");
        if !p.path.is_empty() {
            let _ = write!(out, "{}: ", p.path);
        }
        out.push_str(&p.message);
        if let Some(hint) = &p.hint {
            let _ = write!(out, "\n    hint: {hint}");
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Raw schema: what serde reads. Every field is optional so that a missing
// required field is a collected problem, not serde's first error; enums are
// strings for the same reason (and so the hint can list the allowed values).

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStack {
    name: Option<String>,
    region: Option<String>,
    slack: Option<RawSlack>,
    handler: Option<RawHandler>,
    route: Option<String>,
    alarms: Option<Vec<RawAlarm>>,
    tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlack {
    webhook_url_env: Option<String>,
    channel: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHandler {
    path: Option<String>,
    memory_mb: Option<i64>,
    timeout_s: Option<i64>,
    architecture: Option<String>,
    log_retention_days: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlarm {
    name: Option<String>,
    instance_id: Option<String>,
    metric: Option<String>,
    namespace: Option<String>,
    statistic: Option<String>,
    period_s: Option<i64>,
    evaluation_periods: Option<i64>,
    threshold: Option<f64>,
    comparison: Option<String>,
    notify_ok: Option<bool>,
}

// Defaults: together they reproduce the seed's chain (DESIGN.md, stack.yaml).
const DEFAULT_HANDLER_PATH: &str = "handler";
const DEFAULT_MEMORY_MB: i64 = 128;
const DEFAULT_TIMEOUT_S: i64 = 10;
const DEFAULT_LOG_RETENTION_DAYS: i64 = 14;
const DEFAULT_METRIC: &str = "CPUUtilization";
const DEFAULT_NAMESPACE: &str = "AWS/EC2";
const DEFAULT_STATISTIC: &str = "Average";
const DEFAULT_PERIOD_S: i64 = 60;
const DEFAULT_EVALUATION_PERIODS: i64 = 1;
const DEFAULT_THRESHOLD: f64 = 80.0;

// Limits from the AWS APIs the names and values end up in.
const MAX_STACK_NAME: usize = 40;
const MAX_ALARM_NAME: usize = 255; // PutMetricAlarm AlarmName
const MAX_STATEMENT_ID: usize = 100; // Lambda AddPermission StatementId
const MAX_METRIC_FIELD: usize = 255; // MetricName and Namespace
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;

// ---------------------------------------------------------------------------
// Loading

impl Stack {
    /// Reads and validates a stack file.
    pub fn load(path: &Path) -> Result<Stack, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Stack::parse(&text, path)
    }

    /// Validates `text` as the content of `file`. `file` names the file in
    /// messages, and its folder is `base_dir` (handler.path resolves against
    /// it), so parsing never depends on the current directory.
    pub fn parse(text: &str, file: &Path) -> Result<Stack, ConfigError> {
        let base_dir = match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let invalid = |problems: Vec<Problem>| ConfigError::Invalid {
            file: file.to_path_buf(),
            problems,
        };
        // Built on first use: by a file with problems, or one whose strings
        // need their written form back.
        let index = OnceCell::new();
        let Walked {
            raw,
            mut problems,
            dropped,
        } = match serde_yaml::from_str::<Value>(text) {
            Ok(value) => walk(value, text, &index).map_err(invalid)?,
            // `Value` is stricter than the raw schema in corners (a repeated
            // tag key): what serde accepted from the text still goes through.
            Err(e) => match serde_yaml::from_str::<RawStack>(text) {
                Ok(raw) => Walked {
                    raw,
                    problems: Vec::new(),
                    dropped: Vec::new(),
                },
                // A syntax error leaves nothing to walk: one problem, as serde saw it.
                Err(_) => return Err(invalid(vec![serde_problem(&e)])),
            },
        };
        let mut v = Validator::default();
        let stack = v.stack(raw, base_dir, file);
        // A dropped field reads as missing: "is required" on top of "wrong
        // type" would be noise.
        v.problems
            .retain(|p| !dropped.iter().any(|d| is_within(&p.path, d)));
        if problems.is_empty() && v.problems.is_empty() {
            return Ok(stack);
        }
        // Unless the walk needed it already, only a file with problems pays
        // for the second parse.
        let index = index.get_or_init(|| LineIndex::build(text));
        for p in &mut v.problems {
            p.line = index.line_of(&p.path);
        }
        problems.append(&mut v.problems);
        // File order reads best; problems without a line go last.
        problems.sort_by_key(|p| p.line.unwrap_or(usize::MAX));
        Err(invalid(problems))
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
        let lower = value.to_ascii_lowercase();
        let scheme_ok = lower.starts_with("https://") || lower.starts_with("http://");
        if !scheme_ok || value.contains(char::is_whitespace) || value.len() <= "https://".len() {
            return Err(ConfigError::BadWebhook { var: var.clone() });
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

/// One problem from a serde_yaml error: syntax, unknown field, wrong type.
fn serde_problem(e: &serde_yaml::Error) -> Problem {
    let location = e.location();
    // serde_yaml's Display is "<path>: <message> at line L column C"; the
    // location is data already, and the path is split off below.
    let text = strip_marks(&e.to_string());
    let (mut path, mut message) = match text.split_once(": ") {
        Some((p, m)) if is_serde_path(p) => (p.to_string(), m.to_string()),
        _ => (String::new(), text),
    };
    let mut hint = None;
    // "unknown field `x`, expected one of `a`, `b`": the field belongs in the
    // path (where the line points), the allowed names in the hint.
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((field, tail)) = rest.split_once('`')
    {
        let field = field.to_string();
        hint = tail
            .strip_prefix(", expected ")
            .map(|allowed| format!("expected {allowed}"));
        path = key_path(&path, &field);
        message = "unknown field".to_string();
    } else if let Some(rest) = message.strip_prefix("invalid type: ") {
        // "expected i64" means nothing to someone editing YAML.
        message = format!("wrong type: {}", friendly_types(rest));
    }
    Problem {
        path,
        line: location.as_ref().map(|l| l.line()),
        column: location.as_ref().map(|l| l.column()),
        message,
        hint,
    }
}

/// Drops every " at line L column C" from serde_yaml's text: libyaml's syntax
/// errors carry one mid-sentence ("did not find expected key at line 4 column
/// 2, while parsing …"), and `Problem` holds the location as data already.
fn strip_marks(text: &str) -> String {
    const AT: &str = " at line ";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(AT) {
        out.push_str(&rest[..i]);
        let after = &rest[i + AT.len()..];
        let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let n = digits(after);
        match after[n..].strip_prefix(" column ") {
            Some(col) if n > 0 && digits(col) > 0 => rest = &col[digits(col)..],
            _ => {
                out.push_str(AT);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// serde_yaml paths look like `alarms[0].period_s`; anything with spaces is
/// the message itself.
fn is_serde_path(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']'))
}

fn friendly_types(s: &str) -> String {
    hide_strings(s)
        .replace("expected i64", "expected a whole number")
        .replace("expected f64", "expected a number")
        .replace("expected a boolean", "expected true or false")
}

/// serde's `string "…"` (Rust-escaped) becomes `a string`: the content may be
/// a webhook URL pasted in the wrong place.
fn hide_strings(s: &str) -> String {
    const OPEN: &str = "string \"";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(OPEN) {
        out.push_str(&rest[..i]);
        out.push_str("a string");
        let mut chars = rest[i + OPEN.len()..].char_indices();
        let mut end = None;
        while let Some((j, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    end = Some(i + OPEN.len() + j + 1);
                    break;
                }
                _ => {}
            }
        }
        // An unterminated quote: drop the rest rather than risk showing it.
        rest = end.map_or("", |e| &rest[e..]);
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------------------
// Shape: the file as a `Value`, walked against the schema before serde reads
// it, so that every unknown field and every wrong type is a problem of its
// own instead of serde's first and only error. Bad fields are dropped and the
// rest goes on to `validate`.

/// What a field's value must look like.
#[derive(Clone, Copy)]
enum Kind {
    /// Any scalar: serde_yaml reads `1234` or `true` as text where text belongs.
    Text,
    Whole,
    Number,
    Bool,
    Section(&'static [Field]),
    /// A sequence of sections; the hint is for an item that is not one.
    List(&'static [Field], &'static str),
    /// Tags: text keys to text values.
    TextMap,
}

/// One known field. `hint` shows the right form (used for a wrong type).
struct Field {
    name: &'static str,
    kind: Kind,
    hint: &'static str,
}

/// The raw schema's fields, in `Raw*` order; a unit test holds them to serde's.
const STACK_FIELDS: &[Field] = &[
    Field {
        name: "name",
        kind: Kind::Text,
        hint: "e.g. `name: cpu-relay`",
    },
    Field {
        name: "region",
        kind: Kind::Text,
        hint: "e.g. `region: eu-west-1`",
    },
    Field {
        name: "slack",
        kind: Kind::Section(SLACK_FIELDS),
        hint: "`slack:` with `webhook_url_env: SLACK_WEBHOOK_URL` indented under it",
    },
    Field {
        name: "handler",
        kind: Kind::Section(HANDLER_FIELDS),
        hint: "`handler:` with fields such as `path: handler` indented under it",
    },
    Field {
        name: "route",
        kind: Kind::Text,
        hint: "`route: sns` or `route: direct`",
    },
    Field {
        name: "alarms",
        kind: Kind::List(
            ALARM_FIELDS,
            "each alarm is a mapping such as `- name: high-cpu` with \
             `instance_id: i-0123456789abcdef0` under it",
        ),
        hint: "a list under `alarms:`, one `- name: …` entry per alarm",
    },
    Field {
        name: "tags",
        kind: Kind::TextMap,
        hint: "`tags:` with `key: value` lines indented under it, e.g. `team: platform`",
    },
];

const SLACK_FIELDS: &[Field] = &[
    Field {
        name: "webhook_url_env",
        kind: Kind::Text,
        hint: "the variable's name, e.g. `webhook_url_env: SLACK_WEBHOOK_URL`",
    },
    Field {
        name: "channel",
        kind: Kind::Text,
        hint: "e.g. `channel: \"#alerts\"`",
    },
];

const HANDLER_FIELDS: &[Field] = &[
    Field {
        name: "path",
        kind: Kind::Text,
        hint: "the handler crate's folder, e.g. `path: handler`",
    },
    Field {
        name: "memory_mb",
        kind: Kind::Whole,
        hint: "e.g. `memory_mb: 256`, without quotes (Lambda allows 128 to 10240 MB)",
    },
    Field {
        name: "timeout_s",
        kind: Kind::Whole,
        hint: "e.g. `timeout_s: 10`, without quotes (Lambda allows 1 to 900 seconds)",
    },
    Field {
        name: "architecture",
        kind: Kind::Text,
        hint: "`architecture: x86_64` or `architecture: arm64`",
    },
    Field {
        name: "log_retention_days",
        kind: Kind::Whole,
        hint: "e.g. `log_retention_days: 14`, without quotes",
    },
];

const ALARM_FIELDS: &[Field] = &[
    Field {
        name: "name",
        kind: Kind::Text,
        hint: "e.g. `name: high-cpu`",
    },
    Field {
        name: "instance_id",
        kind: Kind::Text,
        hint: "e.g. `instance_id: i-0123456789abcdef0`",
    },
    Field {
        name: "metric",
        kind: Kind::Text,
        hint: "e.g. `metric: CPUUtilization`",
    },
    Field {
        name: "namespace",
        kind: Kind::Text,
        hint: "e.g. `namespace: AWS/EC2`",
    },
    Field {
        name: "statistic",
        kind: Kind::Text,
        hint: "e.g. `statistic: Average`",
    },
    Field {
        name: "period_s",
        kind: Kind::Whole,
        hint: "e.g. `period_s: 60`, without quotes (10, 30 or a multiple of 60)",
    },
    Field {
        name: "evaluation_periods",
        kind: Kind::Whole,
        hint: "e.g. `evaluation_periods: 3`, without quotes",
    },
    Field {
        name: "threshold",
        kind: Kind::Number,
        hint: "e.g. `threshold: 80` or `threshold: 2.5`, without quotes",
    },
    Field {
        name: "comparison",
        kind: Kind::Text,
        hint: "e.g. `comparison: GreaterThanThreshold`",
    },
    Field {
        name: "notify_ok",
        kind: Kind::Bool,
        hint: "`notify_ok: true` or `notify_ok: false`",
    },
];

/// The walk's result: the raw stack to validate, the problems found on the
/// way, and the paths of the fields it dropped.
struct Walked {
    raw: RawStack,
    problems: Vec<Problem>,
    dropped: Vec<String>,
}

/// Walks `value` against the schema, then reads what is left into `RawStack`.
/// `Err` holds problems that leave nothing to validate.
fn walk(mut value: Value, text: &str, index: &OnceCell<LineIndex>) -> Result<Walked, Vec<Problem>> {
    let mut shape = Shape {
        text,
        index,
        problems: Vec::new(),
        dropped: Vec::new(),
    };
    match &value {
        // An empty file: every field is missing, which `validate` reports.
        Value::Null => {}
        Value::Mapping(_) => shape.fields(&mut value, "", STACK_FIELDS),
        other => {
            shape.wrong_type(
                "",
                other,
                "a mapping of stack fields",
                "stack.yaml is a mapping with `name:`, `slack:`, `alarms:` and so on, \
                 one per line",
            );
            return Err(shape.problems);
        }
    }
    let Shape {
        problems, dropped, ..
    } = shape;
    let raw = if problems.is_empty() {
        // A well-formed file is read from its text exactly as before the walk
        // existed; serde's error, should the walk miss something, is still
        // one problem with its line and column.
        serde_yaml::from_str(text).map_err(|e| vec![serde_problem(&e)])?
    } else {
        // What the walk left fits the raw schema; if it somehow does not, the
        // problems found are still all true.
        match RawStack::deserialize(value) {
            Ok(raw) => raw,
            Err(_) => return Err(problems),
        }
    };
    Ok(Walked {
        raw,
        problems,
        dropped,
    })
}

struct Shape<'a> {
    text: &'a str,
    index: &'a OnceCell<LineIndex>,
    problems: Vec<Problem>,
    /// Paths whose values were dropped (or emptied, for a list item):
    /// `validate` sees them as missing, and says so to no one.
    dropped: Vec<String>,
}

impl Shape<'_> {
    fn index(&self) -> &LineIndex {
        self.index.get_or_init(|| LineIndex::build(self.text))
    }

    fn problem(&mut self, path: String, message: String, hint: String) {
        let mark = self.index().mark_of(&path);
        self.problems.push(Problem {
            path,
            line: mark.map(|(line, _)| line),
            column: mark.map(|(_, col)| col),
            message,
            hint: Some(hint),
        });
    }

    fn wrong_type(&mut self, path: &str, found: &Value, expected: &str, hint: &str) {
        self.problem(
            path.to_string(),
            format!("wrong type: found {}, expected {expected}", describe(found)),
            hint.to_string(),
        );
    }

    /// Keeps the known fields of the mapping in `value` that have the right
    /// shape; every other entry becomes a problem and is removed.
    fn fields(&mut self, value: &mut Value, path: &str, fields: &'static [Field]) {
        let Value::Mapping(map) = value else {
            return;
        };
        for (key, mut v) in std::mem::take(map) {
            let Some(name) = key_text(&key) else {
                self.problem(
                    path.to_string(),
                    "has a key that is not a field name".to_string(),
                    expected_fields(fields),
                );
                continue;
            };
            let child = key_path(path, &name);
            let Some(field) = fields.iter().find(|f| f.name == name) else {
                let hint = match closest(&name, fields) {
                    Some(known) => format!("did you mean `{known}`? {}", expected_fields(fields)),
                    None => expected_fields(fields),
                };
                self.problem(child, "unknown field".to_string(), hint);
                continue;
            };
            if self.value(&mut v, &child, field) {
                map.insert(Value::String(name), v);
            }
        }
    }

    /// Checks one field's value, fixing it up in place; false drops it.
    fn value(&mut self, v: &mut Value, path: &str, field: &Field) -> bool {
        let ok = match (field.kind, &*v) {
            // Absent, as far as the `Option` in `Raw*` is concerned.
            (_, Value::Null) => true,
            (Kind::Text, _) => self.text(v, path),
            (Kind::Whole, Value::Number(n)) => n.as_i64().is_some(),
            (Kind::Number, Value::Number(_)) | (Kind::Bool, Value::Bool(_)) => true,
            (Kind::Section(fields), Value::Mapping(_)) => {
                self.fields(v, path, fields);
                true
            }
            (Kind::List(fields, item_hint), Value::Sequence(_)) => {
                self.list(v, path, fields, item_hint);
                true
            }
            (Kind::TextMap, Value::Mapping(_)) => {
                self.text_map(v, path);
                true
            }
            _ => false,
        };
        if !ok {
            let expected = match field.kind {
                Kind::Text => "a single value",
                Kind::Whole => "a whole number",
                Kind::Number => "a number",
                Kind::Bool => "true or false",
                Kind::Section(_) => "a mapping of fields",
                Kind::List(..) => "a list",
                Kind::TextMap => "a mapping of keys to values",
            };
            self.wrong_type(path, v, expected, field.hint);
            self.dropped.push(path.to_string());
        }
        ok
    }

    /// A scalar where text belongs becomes the text as written, which is
    /// what serde_yaml gives a `String` field (`Value` has resolved `0x10`
    /// to 16 and `~` to null already). False for a list or a mapping.
    fn text(&mut self, v: &mut Value, path: &str) -> bool {
        let scalar = match &*v {
            Value::String(_) => return true,
            Value::Tagged(t) => &t.value,
            other => other,
        };
        let shown = match scalar {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => String::new(),
            Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_) => return false,
        };
        let written = self.index().scalars.get(path).cloned();
        *v = Value::String(written.unwrap_or(shown));
        true
    }

    fn list(&mut self, v: &mut Value, path: &str, fields: &'static [Field], item_hint: &str) {
        let Value::Sequence(items) = v else {
            return;
        };
        for (i, item) in items.iter_mut().enumerate() {
            let item_path = format!("{path}[{i}]");
            // `-` alone is an item with every field missing to serde_yaml;
            // `- ~` or `- null` is not.
            let bare = item.is_null()
                && self
                    .index()
                    .scalars
                    .get(&item_path)
                    .is_none_or(|t| t.is_empty());
            match item {
                Value::Mapping(_) => self.fields(item, &item_path, fields),
                _ if bare => *item = Value::Mapping(Mapping::new()),
                _ => {
                    self.wrong_type(&item_path, item, "a mapping of fields", item_hint);
                    self.dropped.push(item_path);
                    // Emptied, not removed: later items keep their index.
                    *item = Value::Mapping(Mapping::new());
                }
            }
        }
    }

    fn text_map(&mut self, v: &mut Value, path: &str) {
        let Value::Mapping(map) = v else {
            return;
        };
        let value_field = Field {
            name: "",
            kind: Kind::Text,
            hint: "a tag value is a single value, e.g. `team: platform`",
        };
        for (key, mut value) in std::mem::take(map) {
            let Some(key) = key_text(&key) else {
                self.problem(
                    path.to_string(),
                    "has a key that is not a single value".to_string(),
                    "tag keys are plain text, e.g. `team: platform`".to_string(),
                );
                continue;
            };
            let child = key_path(path, &key);
            // A tag with no value is an empty (or `~`) string to serde_yaml.
            let ok = if value.is_null() {
                self.text(&mut value, &child)
            } else {
                self.value(&mut value, &child, &value_field)
            };
            if ok {
                map.insert(Value::String(key), value);
            }
        }
    }
}

/// A scalar key as text; `None` for a list or mapping used as a key.
fn key_text(key: &Value) -> Option<String> {
    match key {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some("~".to_string()),
        Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_) => None,
    }
}

/// What was found, for "wrong type: found …". Never a string's content: it
/// may be a webhook URL pasted in the wrong place.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => "a string".to_string(),
        Value::Sequence(_) => "a list".to_string(),
        Value::Mapping(_) => "a mapping".to_string(),
        Value::Tagged(_) => "a tagged value".to_string(),
    }
}

/// serde's wording, which the unknown-field hint always had.
fn expected_fields(fields: &[Field]) -> String {
    let names: Vec<String> = fields.iter().map(|f| format!("`{}`", f.name)).collect();
    format!("expected one of {}", names.join(", "))
}

/// The known field within edit distance 2 of `name`, nearest first.
fn closest(name: &str, fields: &[Field]) -> Option<&'static str> {
    fields
        .iter()
        .map(|f| (edit_distance(name, f.name), f.name))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, known)| known)
}

/// Levenshtein distance over chars, one row at a time.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

/// `path` is `outer` or a field or item inside it.
fn is_within(path: &str, outer: &str) -> bool {
    path.strip_prefix(outer)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

// ---------------------------------------------------------------------------
// Validation

#[derive(Default)]
struct Validator {
    problems: Vec<Problem>,
}

impl Validator {
    fn problem(&mut self, path: &str, message: impl Into<String>, hint: impl Into<Option<String>>) {
        self.problems.push(Problem {
            path: path.to_string(),
            line: None,
            column: None,
            message: message.into(),
            hint: hint.into(),
        });
    }

    fn required(&mut self, path: &str, hint: &str) {
        self.problem(path, "is required", Some(hint.to_string()));
    }

    /// Checks every field and returns the stack with defaults filled in. The
    /// returned value is meaningful only when no problem was recorded.
    fn stack(&mut self, raw: RawStack, base_dir: PathBuf, file: &Path) -> Stack {
        let name_hint = "lowercase letters, digits and '-' (not first or last), at most 40 \
                         characters, e.g. cpu-relay; it prefixes every AWS name";
        let name = raw.name.unwrap_or_default();
        if name.is_empty() {
            self.required("name", name_hint);
        } else if !is_stack_name(&name) {
            self.problem(
                "name",
                format!("{name:?} is not a valid stack name"),
                Some(name_hint.to_string()),
            );
        }

        if let Some(region) = &raw.region
            && !is_region(region)
        {
            self.problem(
                "region",
                format!("{region:?} is not an AWS region code"),
                Some(
                    "use a region code such as eu-west-1, or leave region out to use the \
                     AWS region chain (AWS_REGION, --region, profile)"
                        .to_string(),
                ),
            );
        }

        let slack = self.slack(raw.slack);
        let handler = self.handler(raw.handler.unwrap_or_default(), &base_dir, file);

        let route = match raw.route.as_deref() {
            None | Some("sns") => Route::Sns,
            Some("direct") => Route::Direct,
            Some(other) => {
                self.problem(
                    "route",
                    format!("{other:?} is not a route"),
                    Some(
                        "use sns (alarm -> SNS topic -> Lambda, the seed's chain) or direct \
                         (the alarm invokes Lambda itself)"
                            .to_string(),
                    ),
                );
                Route::Sns
            }
        };

        let alarms = self.alarms(raw.alarms.unwrap_or_default(), &name, route);
        let tags = self.tags(raw.tags.unwrap_or_default());

        Stack {
            name,
            region: raw.region,
            slack,
            handler,
            route,
            alarms,
            tags,
            base_dir,
        }
    }

    fn slack(&mut self, raw: Option<RawSlack>) -> Slack {
        let env_hint = "the name of the environment variable holding the webhook URL at `up` \
                        time, e.g. SLACK_WEBHOOK_URL";
        let Some(raw) = raw else {
            self.required(
                "slack",
                "add `slack:` with `webhook_url_env: SLACK_WEBHOOK_URL`",
            );
            return Slack {
                webhook_url_env: String::new(),
                channel: None,
            };
        };
        let var = raw.webhook_url_env.unwrap_or_default();
        let path = "slack.webhook_url_env";
        // The value is never echoed: whatever was pasted here may be a secret.
        if var.is_empty() {
            self.required(path, env_hint);
        } else if looks_like_url(&var) {
            self.problem(
                path,
                "looks like a URL",
                Some(
                    "put the name of an environment variable here (e.g. SLACK_WEBHOOK_URL), \
                     not the URL: secrets stay out of files"
                        .to_string(),
                ),
            );
        } else if !is_env_var_name(&var) {
            self.problem(
                path,
                "is not an environment variable name (value not shown)",
                Some(format!(
                    "use letters, digits and '_', not starting with a digit: {env_hint}"
                )),
            );
        }
        if let Some(channel) = &raw.channel
            && channel.trim().is_empty()
        {
            self.problem(
                "slack.channel",
                "is empty",
                Some("name a channel such as \"#alerts\", or leave channel out".to_string()),
            );
        }
        Slack {
            webhook_url_env: var,
            channel: raw.channel,
        }
    }

    fn handler(&mut self, raw: RawHandler, base_dir: &Path, file: &Path) -> Handler {
        let rel = raw.path.unwrap_or_else(|| DEFAULT_HANDLER_PATH.to_string());
        let path = base_dir.join(&rel);
        let folder_hint = format!(
            "handler.path is the handler crate's folder (the one with its Cargo.toml), \
             relative to the folder of {}",
            file.display()
        );
        if rel.trim().is_empty() {
            self.problem("handler.path", "is empty", Some(folder_hint));
        } else if !path.exists() {
            self.problem(
                "handler.path",
                format!("{} does not exist", path.display()),
                Some(folder_hint),
            );
        } else if !path.is_dir() {
            self.problem(
                "handler.path",
                format!("{} is not a folder", path.display()),
                Some(folder_hint),
            );
        } else if !path.join("Cargo.toml").is_file() {
            self.problem(
                "handler.path",
                format!("{} has no Cargo.toml", path.display()),
                Some(folder_hint),
            );
        }

        let memory_mb = self.int_in(
            "handler.memory_mb",
            raw.memory_mb.unwrap_or(DEFAULT_MEMORY_MB),
            128..=10240,
            "MB",
            "Lambda allows 128 to 10240 MB",
        );
        let timeout_s = self.int_in(
            "handler.timeout_s",
            raw.timeout_s.unwrap_or(DEFAULT_TIMEOUT_S),
            1..=900,
            "seconds",
            "Lambda allows 1 to 900 seconds",
        );

        let architecture = match raw.architecture.as_deref() {
            None | Some("x86_64") => Architecture::X86_64,
            Some("arm64") => Architecture::Arm64,
            Some(other) => {
                let alias = matches!(other, "aarch64" | "arm" | "amd64" | "x86-64" | "x64");
                self.problem(
                    "handler.architecture",
                    format!("{other:?} is not a Lambda architecture"),
                    Some(if alias {
                        "Lambda spells them x86_64 and arm64".to_string()
                    } else {
                        "use x86_64 or arm64".to_string()
                    }),
                );
                Architecture::X86_64
            }
        };

        let days = raw.log_retention_days.unwrap_or(DEFAULT_LOG_RETENTION_DAYS);
        let log_retention_days = match i32::try_from(days) {
            Ok(d) if LOG_RETENTION_DAYS.contains(&d) => d,
            _ => {
                let allowed: Vec<String> =
                    LOG_RETENTION_DAYS.iter().map(|d| d.to_string()).collect();
                self.problem(
                    "handler.log_retention_days",
                    format!("{days} is not a retention CloudWatch Logs accepts"),
                    Some(format!("use one of {}", allowed.join(", "))),
                );
                DEFAULT_LOG_RETENTION_DAYS as i32
            }
        };

        Handler {
            path,
            memory_mb,
            timeout_s,
            architecture,
            log_retention_days,
        }
    }

    fn int_in(
        &mut self,
        path: &str,
        value: i64,
        range: std::ops::RangeInclusive<i64>,
        unit: &str,
        hint: &str,
    ) -> i32 {
        if range.contains(&value) {
            // The ranges used here all fit in i32.
            value as i32
        } else {
            self.problem(
                path,
                format!("{value} {unit} is out of range"),
                Some(hint.to_string()),
            );
            *range.start() as i32
        }
    }

    fn alarms(&mut self, raw: Vec<RawAlarm>, stack_name: &str, route: Route) -> Vec<Alarm> {
        if raw.is_empty() {
            self.problem(
                "alarms",
                "at least one alarm is required",
                Some(
                    "add an entry such as `- name: high-cpu` with \
                     `instance_id: i-0123456789abcdef0`"
                        .to_string(),
                ),
            );
        }
        let mut seen: HashMap<String, usize> = HashMap::new();
        raw.into_iter()
            .enumerate()
            .map(|(i, a)| self.alarm(i, a, stack_name, route, &mut seen))
            .collect()
    }

    fn alarm(
        &mut self,
        i: usize,
        raw: RawAlarm,
        stack_name: &str,
        route: Route,
        seen: &mut HashMap<String, usize>,
    ) -> Alarm {
        let at = |field: &str| format!("alarms[{i}].{field}");

        let name = raw.name.unwrap_or_default();
        let name_hint = "lowercase letters, digits and '-', e.g. high-cpu";
        if name.is_empty() {
            self.required(&at("name"), name_hint);
        } else if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            self.problem(
                &at("name"),
                format!("{name:?} is not a valid alarm name"),
                Some(name_hint.to_string()),
            );
        } else if let Some(first) = seen.get(&name) {
            self.problem(
                &at("name"),
                format!("{name:?} is already used by alarms[{first}]"),
                Some("alarm names must be unique within a stack".to_string()),
            );
        } else {
            seen.insert(name.clone(), i);
            let full = format!("{stack_name}-{name}");
            if full.len() > MAX_ALARM_NAME {
                self.problem(
                    &at("name"),
                    format!(
                        "the CloudWatch alarm name would be {} characters",
                        full.len()
                    ),
                    Some(format!(
                        "CloudWatch allows {MAX_ALARM_NAME}: shorten name or this alarm's name"
                    )),
                );
            } else if route == Route::Direct && full.len() + "-alarm".len() > MAX_STATEMENT_ID {
                // `{stack}-alarm-{alarm}` is the Lambda permission's statement id.
                self.problem(
                    &at("name"),
                    format!(
                        "the Lambda permission id would be {} characters",
                        full.len() + "-alarm".len()
                    ),
                    Some(format!(
                        "route direct needs `{{name}}-alarm-{{alarm}}` within \
                         {MAX_STATEMENT_ID} characters: shorten the alarm's name"
                    )),
                );
            }
        }

        let instance_id = raw.instance_id.unwrap_or_default();
        let id_hint = "i- followed by 8 or 17 lowercase hex digits, e.g. i-0123456789abcdef0";
        if instance_id.is_empty() {
            self.required(&at("instance_id"), id_hint);
        } else if !is_instance_id(&instance_id) {
            self.problem(
                &at("instance_id"),
                format!("{instance_id:?} is not an EC2 instance id"),
                Some(id_hint.to_string()),
            );
        }

        let metric = raw.metric.unwrap_or_else(|| DEFAULT_METRIC.to_string());
        let namespace = raw
            .namespace
            .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
        for (field, value) in [("metric", &metric), ("namespace", &namespace)] {
            if value.is_empty() || value.chars().count() > MAX_METRIC_FIELD {
                self.problem(
                    &at(field),
                    format!("must be 1 to {MAX_METRIC_FIELD} characters"),
                    Some(format!(
                        "the default is {}",
                        if field == "metric" {
                            DEFAULT_METRIC
                        } else {
                            DEFAULT_NAMESPACE
                        }
                    )),
                );
            }
        }

        let statistic = raw
            .statistic
            .unwrap_or_else(|| DEFAULT_STATISTIC.to_string());
        if !STATISTICS.contains(&statistic.as_str()) {
            self.problem(
                &at("statistic"),
                format!("{statistic:?} is not a statistic"),
                Some(format!("use one of {}", STATISTICS.join(", "))),
            );
        }

        let period = raw.period_s.unwrap_or(DEFAULT_PERIOD_S);
        let period_ok = period == 10 || period == 30 || (period > 0 && period % 60 == 0);
        if !period_ok || period > i64::from(i32::MAX) {
            self.problem(
                &at("period_s"),
                format!("{period} is not a valid period"),
                Some("use 10, 30 or a multiple of 60 seconds".to_string()),
            );
        }

        let evaluation_periods = raw.evaluation_periods.unwrap_or(DEFAULT_EVALUATION_PERIODS);
        if evaluation_periods < 1 || evaluation_periods > i64::from(i32::MAX) {
            self.problem(
                &at("evaluation_periods"),
                format!("{evaluation_periods} is out of range"),
                Some(
                    "the number of periods in a row that must breach the threshold: 1 or more"
                        .to_string(),
                ),
            );
        }

        let threshold = raw.threshold.unwrap_or(DEFAULT_THRESHOLD);
        if !threshold.is_finite() {
            self.problem(
                &at("threshold"),
                format!("{threshold} is not a finite number"),
                Some("use a number such as 80".to_string()),
            );
        }

        let comparison = match raw.comparison.as_deref() {
            None => Comparison::GreaterThanThreshold,
            Some(s) => Comparison::from_name(s).unwrap_or_else(|| {
                let allowed: Vec<&str> = Comparison::ALL.iter().map(|c| c.as_str()).collect();
                self.problem(
                    &at("comparison"),
                    format!("{s:?} is not a comparison"),
                    Some(format!("use one of {}", allowed.join(", "))),
                );
                Comparison::GreaterThanThreshold
            }),
        };

        Alarm {
            name,
            instance_id,
            metric,
            namespace,
            statistic,
            period_s: i32::try_from(period).unwrap_or(0),
            evaluation_periods: i32::try_from(evaluation_periods).unwrap_or(0),
            threshold,
            comparison,
            notify_ok: raw.notify_ok.unwrap_or(true),
        }
    }

    fn tags(&mut self, tags: BTreeMap<String, String>) -> BTreeMap<String, String> {
        if tags.len() > MAX_USER_TAGS {
            self.problem(
                "tags",
                format!("{} tags; at most {MAX_USER_TAGS} are allowed", tags.len()),
                Some(format!(
                    "AWS allows 50 tags per resource and relayctl adds its own {OWNER_TAG_KEY} tag"
                )),
            );
        }
        for (key, value) in &tags {
            let path = key_path("tags", key);
            let key_len = key.chars().count();
            if key_len == 0 || key_len > MAX_TAG_KEY {
                self.problem(
                    &path,
                    format!("the key is {key_len} characters"),
                    Some(format!("tag keys are 1 to {MAX_TAG_KEY} characters")),
                );
            } else if key.to_ascii_lowercase().starts_with("aws:") {
                self.problem(
                    &path,
                    "keys starting with aws: are reserved by AWS",
                    Some("choose a key without the aws: prefix".to_string()),
                );
            } else if key.eq_ignore_ascii_case(OWNER_TAG_KEY) {
                // IAM compares tag keys case-insensitively, so any casing collides.
                self.problem(
                    &path,
                    format!("{OWNER_TAG_KEY} is reserved for relayctl's ownership tag"),
                    Some(format!(
                        "relayctl sets {OWNER_TAG_KEY}=<name> on every resource itself; \
                         choose another key"
                    )),
                );
            }
            let value_len = value.chars().count();
            if value_len > MAX_TAG_VALUE {
                self.problem(
                    &path,
                    format!("the value is {value_len} characters"),
                    Some(format!("tag values are at most {MAX_TAG_VALUE} characters")),
                );
            }
        }
        tags
    }
}

/// `[a-z0-9-]{1,40}`, no '-' at either end (AWS names are built as `{name}-…`,
/// and a leading or doubled dash reads as a mistake in the console).
fn is_stack_name(s: &str) -> bool {
    (1..=MAX_STACK_NAME).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Region codes such as eu-west-1, us-gov-west-1, ap-southeast-4.
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let Some((last, rest)) = parts.split_last() else {
        return false;
    };
    rest.len() >= 2
        && (2..=4).contains(&rest[0].len())
        && rest
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && (1..=2).contains(&last.len())
        && last.bytes().all(|b| b.is_ascii_digit())
}

/// `[A-Za-z_][A-Za-z0-9_]*`: what a POSIX shell can export.
fn is_env_var_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A webhook pasted where its variable's name belongs.
fn looks_like_url(s: &str) -> bool {
    let lower = s.trim().to_ascii_lowercase();
    lower.contains("://") || lower.starts_with("hooks.slack")
}

/// `i-` and 8 (older) or 17 (current) lowercase hex digits.
fn is_instance_id(s: &str) -> bool {
    s.strip_prefix("i-").is_some_and(|hex| {
        matches!(hex.len(), 8 | 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

// ---------------------------------------------------------------------------
// Field paths and their lines

/// `parent.key`, or `parent["key"]` when the key is not a plain word (tag keys
/// such as `cost:center`), so a path always names exactly one field (a key
/// that looks like a URL is not shown).
fn key_path(parent: &str, key: &str) -> String {
    // A webhook URL used as a key must not reach a message through its path.
    let key = if looks_like_url(key) {
        "<URL, not shown>"
    } else {
        key
    };
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    match (parent.is_empty(), plain) {
        (true, true) => key.to_string(),
        (false, true) => format!("{parent}.{key}"),
        (_, false) => format!("{parent}[{key:?}]"),
    }
}

/// The path one level up: `alarms[0].name` -> `alarms[0]` -> `alarms` -> none.
fn parent_path(path: &str) -> Option<&str> {
    if path.ends_with("\"]") {
        // Quoted key: the opening `["` is the last one not inside the quotes;
        // keys holding `["` are not worth more care.
        return path.rfind("[\"").map(|i| &path[..i]);
    }
    if path.ends_with(']') {
        return path.rfind('[').map(|i| &path[..i]);
    }
    path.rfind('.').map(|i| &path[..i])
}

/// Field path -> line of its key (or of the item, in a sequence), built from
/// yaml-rust2's marked events: serde_yaml keeps its marks private. A real YAML
/// parser, not a line scan, so flow style (`tags: { team: platform }`),
/// quoting and comments cannot shift a line.
#[derive(Debug, Default)]
struct LineIndex {
    /// Path -> (line, 1-based column) of its key, or of the item in a sequence.
    marks: HashMap<String, (usize, usize)>,
    /// Path -> the text of a scalar value as written (`0x10`, `~`, ``): what
    /// serde_yaml hands a string field, which `Value` has already resolved.
    scalars: HashMap<String, String>,
}

impl LineIndex {
    fn build(text: &str) -> LineIndex {
        let mut builder = IndexBuilder::default();
        // Only called for text serde_yaml accepted; if yaml-rust2 disagrees,
        // whatever it indexed before failing is still right.
        let _ = Parser::new_from_str(text).load(&mut builder, false);
        builder.index
    }

    /// The line of `path`, or of its nearest ancestor present in the file (a
    /// defaulted field borrows its section's line).
    fn line_of(&self, path: &str) -> Option<usize> {
        self.mark_of(path).map(|(line, _)| line)
    }

    /// `line_of` with the column of the same key or item.
    fn mark_of(&self, path: &str) -> Option<(usize, usize)> {
        let mut path = Some(path);
        while let Some(p) = path {
            if let Some(mark) = self.marks.get(p) {
                return Some(*mark);
            }
            path = parent_path(p);
        }
        None
    }
}

enum Frame {
    /// `key`: the child path once its key has been read, until its value ends.
    Map {
        path: String,
        key: Option<String>,
    },
    Seq {
        path: String,
        next: usize,
    },
}

#[derive(Default)]
struct IndexBuilder {
    stack: Vec<Frame>,
    index: LineIndex,
}

/// Marks a complex (non-scalar) key; no validation path ever starts with it.
const COMPLEX_KEY: &str = "\u{0}?";

impl MarkedEventReceiver for IndexBuilder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let opens = matches!(ev, Event::MappingStart(..) | Event::SequenceStart(..));
        let is_node = opens || matches!(ev, Event::Scalar(..) | Event::Alias(..));
        if !is_node {
            if matches!(ev, Event::MappingEnd | Event::SequenceEnd) {
                self.stack.pop();
            }
            return;
        }
        let child = match self.stack.last_mut() {
            None => String::new(),
            Some(Frame::Seq { path, next }) => {
                *next += 1;
                format!("{path}[{}]", *next - 1)
            }
            Some(Frame::Map {
                key: key @ Some(_), ..
            }) => key.take().unwrap_or_default(),
            Some(Frame::Map { path, key }) => {
                // This node is a key.
                let child = match &ev {
                    Event::Scalar(k, ..) => key_path(path, k),
                    _ => COMPLEX_KEY.to_string(),
                };
                self.index
                    .marks
                    .entry(child.clone())
                    .or_insert(line_col(&mark));
                *key = Some(child.clone());
                if opens {
                    self.stack.push(open_frame(&ev, COMPLEX_KEY.to_string()));
                }
                return;
            }
        };
        // A mapping value keeps its key's line (recorded above): for a block
        // value the key is where the reader looks.
        self.index
            .marks
            .entry(child.clone())
            .or_insert(line_col(&mark));
        if let Event::Scalar(text, ..) = &ev {
            self.index.scalars.insert(child.clone(), text.clone());
        }
        if opens {
            self.stack.push(open_frame(&ev, child));
        }
    }
}

/// yaml-rust2's line is 1-based already, its column 0-based.
fn line_col(mark: &Marker) -> (usize, usize) {
    (mark.line(), mark.col() + 1)
}

fn open_frame(ev: &Event, path: String) -> Frame {
    if matches!(ev, Event::SequenceStart(..)) {
        Frame::Seq { path, next: 0 }
    } else {
        Frame::Map { path, key: None }
    }
}

impl fmt::Display for Problem {
    /// `line: path: message` without the file; `ConfigError` adds the file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "{line}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> HashMap<String, usize> {
        let marks = LineIndex::build(text).marks;
        marks.into_iter().map(|(p, (line, _))| (p, line)).collect()
    }

    #[test]
    fn index_block_flow_and_sequences() {
        let text = "\
# comment
name: x
slack:
  webhook_url_env: A
alarms:
  - name: a
    period_s: 45
  -
    name: b
tags: { team: platform, \"cost:center\": x }
";
        let l = lines(text);
        assert_eq!(l["name"], 2);
        assert_eq!(l["slack"], 3);
        assert_eq!(l["slack.webhook_url_env"], 4);
        assert_eq!(l["alarms"], 5);
        assert_eq!(l["alarms[0]"], 6);
        assert_eq!(l["alarms[0].period_s"], 7);
        assert_eq!(l["alarms[1].name"], 9);
        assert_eq!(l["tags.team"], 10);
        assert_eq!(l["tags[\"cost:center\"]"], 10);
    }

    #[test]
    fn line_of_falls_back_to_the_section() {
        let index = LineIndex::build("name: x\nhandler:\n  memory_mb: 1\n");
        assert_eq!(index.line_of("handler.path"), Some(2));
        assert_eq!(index.line_of("alarms[0].name"), None);
    }

    #[test]
    fn strip_marks_mid_sentence_and_trailing() {
        assert_eq!(
            strip_marks(
                "did not find expected key at line 4 column 2, while parsing a block mapping at line 1 column 1"
            ),
            "did not find expected key, while parsing a block mapping"
        );
        assert_eq!(
            strip_marks("x: unknown field at line 9 column 5"),
            "x: unknown field"
        );
        assert_eq!(strip_marks("look at line breaks"), "look at line breaks");
    }

    #[test]
    fn parent_paths() {
        assert_eq!(parent_path("alarms[0].name"), Some("alarms[0]"));
        assert_eq!(parent_path("alarms[0]"), Some("alarms"));
        assert_eq!(parent_path("tags[\"a.b\"]"), Some("tags"));
        assert_eq!(parent_path("name"), None);
    }

    /// The names serde's unknown-field error lists for a `Raw*` struct.
    fn serde_fields<T: serde::de::DeserializeOwned + fmt::Debug>() -> Vec<String> {
        let err = serde_yaml::from_str::<T>("zzz: 1").unwrap_err().to_string();
        let (_, allowed) = err.split_once("expected").unwrap();
        allowed
            .split('`')
            .skip(1)
            .step_by(2)
            .map(String::from)
            .collect()
    }

    #[test]
    fn shape_schema_matches_the_raw_structs() {
        let names = |fields: &[Field]| -> Vec<String> {
            fields.iter().map(|f| f.name.to_string()).collect()
        };
        assert_eq!(names(STACK_FIELDS), serde_fields::<RawStack>());
        assert_eq!(names(SLACK_FIELDS), serde_fields::<RawSlack>());
        assert_eq!(names(HANDLER_FIELDS), serde_fields::<RawHandler>());
        assert_eq!(names(ALARM_FIELDS), serde_fields::<RawAlarm>());
    }

    #[test]
    fn edit_distance_and_suggestions() {
        assert_eq!(edit_distance("treshold", "threshold"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("memroy_mb", "memory_mb"), 2);
        assert_eq!(closest("treshold", ALARM_FIELDS), Some("threshold"));
        assert_eq!(closest("tag", STACK_FIELDS), Some("tags"));
        assert_eq!(closest("webhook", SLACK_FIELDS), None);
    }

    #[test]
    fn serde_strings_are_not_shown() {
        assert_eq!(
            hide_strings(r#"invalid type: string "https://x/\"y", expected i64"#),
            "invalid type: a string, expected i64"
        );
        assert_eq!(hide_strings(r#"string "unterminated"#), "a string");
        assert_eq!(
            key_path("slack", "https://hooks.slack.com/services/T/B/X"),
            "slack[\"<URL, not shown>\"]"
        );
    }

    #[test]
    fn within_a_dropped_path() {
        assert!(is_within("alarms[1]", "alarms[1]"));
        assert!(is_within("alarms[1].name", "alarms[1]"));
        assert!(!is_within("alarms[10].name", "alarms[1]"));
        assert!(is_within("handler.path", "handler"));
        assert!(!is_within("handlers", "handler"));
    }

    #[test]
    fn small_predicates() {
        assert!(is_region("eu-west-1") && is_region("us-gov-west-1"));
        assert!(!is_region("eu-west") && !is_region("EU-WEST-1") && !is_region("west-1"));
        assert!(is_env_var_name("SLACK_WEBHOOK_URL") && is_env_var_name("_x1"));
        assert!(!is_env_var_name("1X") && !is_env_var_name("A-B") && !is_env_var_name(""));
        assert!(is_instance_id("i-0123456789abcdef0") && is_instance_id("i-0123abcd"));
        assert!(!is_instance_id("i-0123456789ABCDEF0") && !is_instance_id("i-012345678"));
        assert!(is_stack_name("cpu-relay") && !is_stack_name("-x") && !is_stack_name("x-"));
        assert!(looks_like_url("https://hooks.slack.com/x") && looks_like_url("hooks.slack.com/x"));
    }
}
