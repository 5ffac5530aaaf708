//! The schema, stated once: every field of stack.yaml with the shape of its
//! value and a hint showing the right form. `Walk` checks the positioned tree
//! against it and hands `validate` typed values that keep their lines; every
//! unknown field, wrong type, control character and pasted webhook is a
//! problem of its own, and the bad value is dropped.

use std::collections::HashMap;

use super::error::{Problem, codes};
use super::safe;
use super::scalar::{Resolved, resolve};
use super::suggest::{closest, expected_fields};
use super::tree::{Mark, Node, Value};

/// What a field's value must look like.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// Any scalar, as written (`1234` or `true` are text where text belongs).
    Text,
    Whole,
    Number,
    Bool,
    Section(&'static [Field]),
    /// A sequence of sections; the hint is for an item that is not one.
    List(&'static [Field], &'static str),
    /// Tags: text keys to text values.
    TextMap,
    /// A sequence of single values (`regions: [eu-west-1, us-east-1]`).
    TextList,
}

/// One known field. `hint` shows the right form (used for a wrong type).
pub(crate) struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub hint: &'static str,
}

const fn field(name: &'static str, kind: Kind, hint: &'static str) -> Field {
    Field { name, kind, hint }
}

pub(crate) const STACK_FIELDS: &[Field] = &[
    field("name", Kind::Text, "e.g. `name: cpu-relay`"),
    field("region", Kind::Text, "e.g. `region: eu-west-1`"),
    field(
        "regions",
        Kind::TextList,
        "a list of region codes, e.g. `regions: [eu-west-1, us-east-1]`",
    ),
    field(
        "slack",
        Kind::Section(SLACK_FIELDS),
        "`slack:` with `webhook_url_env: SLACK_WEBHOOK_URL` indented under it",
    ),
    field(
        "handler",
        Kind::Section(HANDLER_FIELDS),
        "`handler:` with fields such as `path: handler` indented under it",
    ),
    field("route", Kind::Text, "`route: sns` or `route: direct`"),
    field(
        "alarms",
        Kind::List(
            ALARM_FIELDS,
            "each alarm is a mapping such as `- name: high-cpu` with \
             `instance_id: i-0123456789abcdef0` under it",
        ),
        "a list under `alarms:`, one `- name: …` entry per alarm",
    ),
    field(
        "tags",
        Kind::TextMap,
        "`tags:` with `key: value` lines indented under it, e.g. `team: platform`",
    ),
];

pub(crate) const SLACK_FIELDS: &[Field] = &[
    field(
        "webhook_url_env",
        Kind::Text,
        "the variable's name, e.g. `webhook_url_env: SLACK_WEBHOOK_URL`",
    ),
    field(
        "webhook_url_ssm",
        Kind::Text,
        "a SecureString parameter's name, e.g. `webhook_url_ssm: /relay/cpu-relay/slack-webhook`",
    ),
    field("channel", Kind::Text, "e.g. `channel: \"#alerts\"`"),
];

pub(crate) const HANDLER_FIELDS: &[Field] = &[
    field(
        "path",
        Kind::Text,
        "the handler crate's folder, e.g. `path: handler`",
    ),
    field(
        "memory_mb",
        Kind::Whole,
        "e.g. `memory_mb: 256`, without quotes (Lambda allows 128 to 10240 MB)",
    ),
    field(
        "timeout_s",
        Kind::Whole,
        "e.g. `timeout_s: 10`, without quotes (Lambda allows 1 to 900 seconds)",
    ),
    field(
        "architecture",
        Kind::Text,
        "`architecture: x86_64` or `architecture: arm64`",
    ),
    field(
        "log_retention_days",
        Kind::Whole,
        "e.g. `log_retention_days: 14`, without quotes",
    ),
];

pub(crate) const ALARM_FIELDS: &[Field] = &[
    field("name", Kind::Text, "e.g. `name: high-cpu`"),
    field(
        "instance_id",
        Kind::Text,
        "e.g. `instance_id: i-0123456789abcdef0`",
    ),
    field(
        "instances",
        Kind::TextList,
        "a list of instance ids, e.g. `instances: [i-0123456789abcdef0, i-0fedcba9876543210]`",
    ),
    field(
        "instance_selector",
        Kind::Section(SELECTOR_FIELDS),
        "e.g. `instance_selector: { tags: { Env: prod }, states: [running] }`",
    ),
    field(
        "dimensions",
        Kind::TextMap,
        "a mapping of dimension names to values, e.g. `dimensions: { AutoScalingGroupName: web }`",
    ),
    field("metric", Kind::Text, "e.g. `metric: CPUUtilization`"),
    field("namespace", Kind::Text, "e.g. `namespace: AWS/EC2`"),
    field("statistic", Kind::Text, "e.g. `statistic: Average`"),
    field(
        "extended_statistic",
        Kind::Text,
        "a percentile such as `extended_statistic: p99`",
    ),
    field("period_s", Kind::Whole, PERIOD_HINT),
    field(
        "evaluation_periods",
        Kind::Whole,
        "e.g. `evaluation_periods: 3`, without quotes",
    ),
    field(
        "datapoints_to_alarm",
        Kind::Whole,
        "e.g. `datapoints_to_alarm: 2`, without quotes (at most evaluation_periods)",
    ),
    field(
        "treat_missing_data",
        Kind::Text,
        "`treat_missing_data: missing` (or breaching, notBreaching, ignore)",
    ),
    field(
        "description",
        Kind::Text,
        "e.g. `description: \"CPU above 80 % for a minute\"`",
    ),
    field("unit", Kind::Text, "e.g. `unit: Percent`"),
    field(
        "threshold",
        Kind::Number,
        "threshold must be a finite number, e.g. `threshold: 80` or `threshold: 2.5`, \
         without quotes",
    ),
    field(
        "comparison",
        Kind::Text,
        "e.g. `comparison: GreaterThanThreshold`",
    ),
    field(
        "notify_ok",
        Kind::Bool,
        "`notify_ok: true` or `notify_ok: false`",
    ),
];

pub(crate) const SELECTOR_FIELDS: &[Field] = &[
    field(
        "tags",
        Kind::TextMap,
        "`tags:` with `key: value` pairs the instances must all carry, e.g. `tags: { Env: prod }`",
    ),
    field(
        "states",
        Kind::TextList,
        "a list of instance states, e.g. `states: [running]`",
    ),
];

/// Every field of stack.yaml by path (`slack.webhook_url_env`,
/// `alarms[].period_s`), sections included, in schema order: what the
/// README's field reference must list (tests/readme.rs).
pub fn field_paths() -> Vec<String> {
    fn walk(fields: &[Field], parent: &str, out: &mut Vec<String>) {
        for f in fields {
            let path = match parent {
                "" => f.name.to_string(),
                _ => format!("{parent}.{}", f.name),
            };
            out.push(path.clone());
            match f.kind {
                Kind::Section(children) => walk(children, &path, out),
                Kind::List(children, _) => walk(children, &format!("{path}[]"), out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(STACK_FIELDS, "", &mut out);
    out
}

/// AWS: PutMetricAlarm's Period is 10, 20, 30 or a multiple of 60, and
/// Period × EvaluationPeriods is at most 604,800 s (7 days).
pub(crate) const PERIOD_HINT: &str =
    "period_s must be 10, 20, 30 or a multiple of 60 up to 604800 (7 days), without quotes";

/// A checked value and the line of its key (or of the item, in a list).
#[derive(Debug, Clone)]
pub(crate) struct Spanned<T> {
    pub value: T,
    pub line: usize,
}

#[derive(Debug)]
pub(crate) enum Entry {
    Text(Spanned<String>),
    Whole(Spanned<i64>),
    /// The number and its text as written (`1e309` reads better than `inf`).
    Number(Spanned<f64>, String),
    Bool(Spanned<bool>),
    Section(Section),
    List(Spanned<Vec<Section>>),
    Map(Spanned<Tags>),
    TextList(Spanned<Vec<String>>),
}

/// Text keys to text values, in file order, each with the line of its key.
pub(crate) type Tags = Vec<(String, Spanned<String>)>;

/// The checked fields of one mapping.
#[derive(Debug, Default)]
pub(crate) struct Section {
    pub path: String,
    /// The line of the section's key (or list item); none for the root.
    pub line: Option<usize>,
    entries: HashMap<&'static str, Entry>,
    /// Fields present with a bad value: already reported, not "missing".
    dropped: Vec<&'static str>,
    /// The whole section was the wrong shape: nothing in it is "missing".
    dropped_whole: bool,
}

impl Section {
    fn new(path: &str, line: Option<usize>) -> Section {
        Section {
            path: path.to_string(),
            line,
            ..Section::default()
        }
    }

    pub fn text(&self, name: &str) -> Option<&Spanned<String>> {
        match self.entries.get(name)? {
            Entry::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn whole(&self, name: &str) -> Option<&Spanned<i64>> {
        match self.entries.get(name)? {
            Entry::Whole(s) => Some(s),
            _ => None,
        }
    }

    pub fn number(&self, name: &str) -> Option<(&Spanned<f64>, &str)> {
        match self.entries.get(name)? {
            Entry::Number(s, written) => Some((s, written)),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.entries.get(name)? {
            Entry::Bool(s) => Some(s.value),
            _ => None,
        }
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        match self.entries.get(name)? {
            Entry::Section(s) => Some(s),
            _ => None,
        }
    }

    pub fn list(&self, name: &str) -> Option<&Spanned<Vec<Section>>> {
        match self.entries.get(name)? {
            Entry::List(s) => Some(s),
            _ => None,
        }
    }

    pub fn text_list(&self, name: &str) -> Option<&Spanned<Vec<String>>> {
        match self.entries.get(name)? {
            Entry::TextList(s) => Some(s),
            _ => None,
        }
    }

    pub fn map(&self, name: &str) -> Option<&Spanned<Tags>> {
        match self.entries.get(name)? {
            Entry::Map(s) => Some(s),
            _ => None,
        }
    }

    /// Present in the file (with a value, or dropped for a problem already
    /// reported).
    pub fn is_present(&self, name: &str) -> bool {
        self.entries.contains_key(name) || self.dropped.contains(&name)
    }

    /// Absent from the file, not dropped for a problem already reported.
    pub fn is_missing(&self, name: &str) -> bool {
        !self.entries.contains_key(name) && !self.dropped_whole && !self.dropped.contains(&name)
    }

    /// The field's line, or the section's for a field the file leaves out.
    pub fn line_of(&self, name: &str) -> Option<usize> {
        match self.entries.get(name) {
            Some(
                Entry::Text(Spanned { line, .. })
                | Entry::Whole(Spanned { line, .. })
                | Entry::Number(Spanned { line, .. }, _)
                | Entry::Bool(Spanned { line, .. })
                | Entry::List(Spanned { line, .. })
                | Entry::Map(Spanned { line, .. })
                | Entry::TextList(Spanned { line, .. }),
            ) => Some(*line),
            Some(Entry::Section(s)) => s.line,
            None => self.line,
        }
    }

    /// Path of a field of this section.
    pub fn at(&self, name: &str) -> String {
        key_path(&self.path, name)
    }
}

/// Walks the tree against the schema, collecting problems on the way.
#[derive(Default)]
pub(crate) struct Walk {
    pub problems: Vec<Problem>,
}

impl Walk {
    /// The root section, or `None` when the file is not a mapping at all.
    pub fn root(&mut self, root: &Node) -> Option<Section> {
        if matches!(root.value, Value::Map(_)) {
            return Some(self.section(root, "", None, STACK_FIELDS));
        }
        self.wrong_type(
            "",
            root.mark,
            root,
            "a mapping of stack fields",
            "stack.yaml is a mapping with `name:`, `slack:`, `alarms:` and so on, one per line",
        );
        None
    }

    fn shape_problem(
        &mut self,
        code: &'static str,
        path: &str,
        mark: Mark,
        message: String,
    ) -> &mut Problem {
        self.problems
            .push(Problem::new(code, path, message).at(mark.line, mark.col));
        self.problems.last_mut().expect("just pushed")
    }

    fn wrong_type(&mut self, path: &str, mark: Mark, found: &Node, expected: &str, hint: &str) {
        let message = format!("wrong type: found {}, expected {expected}", describe(found));
        let hint = hint_with_colon_space(found, hint);
        self.shape_problem(codes::WRONG_TYPE, path, mark, message)
            .hint = Some(hint);
    }

    fn section(
        &mut self,
        node: &Node,
        path: &str,
        line: Option<usize>,
        fields: &'static [Field],
    ) -> Section {
        let mut section = Section::new(path, line);
        let Value::Map(entries) = &node.value else {
            return section;
        };
        let mut seen: HashMap<&'static str, usize> = HashMap::new();
        for (key, value) in entries {
            let Value::Scalar { text: name, .. } = &key.value else {
                self.shape_problem(
                    codes::UNKNOWN_FIELD,
                    path,
                    key.mark,
                    "has a key that is not a field name".to_string(),
                )
                .hint = Some(expected_fields(fields.iter().map(|f| f.name)));
                continue;
            };
            let child = key_path(path, name);
            let Some(field) = fields.iter().find(|f| f.name == name) else {
                let names = || fields.iter().map(|f| f.name);
                let hint = match closest(name, names()) {
                    Some(known) => format!("did you mean `{known}`? {}", expected_fields(names())),
                    None => expected_fields(names()),
                };
                self.shape_problem(
                    codes::UNKNOWN_FIELD,
                    &child,
                    key.mark,
                    "unknown field".into(),
                )
                .hint = Some(hint);
                continue;
            };
            if let Some(first) = seen.insert(field.name, key.mark.line) {
                let message = format!("appears a second time (first on line {first})");
                self.shape_problem(codes::DUPLICATE_FIELD, &child, key.mark, message)
                    .hint = Some("keep one of the two".to_string());
                continue;
            }
            match self.value(value, &child, key.mark, field) {
                Ok(Some(entry)) => {
                    section.entries.insert(field.name, entry);
                }
                Ok(None) => {}
                Err(()) => section.dropped.push(field.name),
            }
        }
        section
    }

    /// One field's value: `Ok(None)` when null (absent), `Err` when dropped
    /// for a problem just recorded.
    fn value(
        &mut self,
        node: &Node,
        path: &str,
        key: Mark,
        field: &Field,
    ) -> Result<Option<Entry>, ()> {
        let line = key.line;
        let resolved = match &node.value {
            Value::Scalar { text, plain } => Some((text.as_str(), resolve(text, *plain))),
            _ => None,
        };
        if let Some((_, Resolved::Null)) = resolved {
            return Ok(None);
        }
        let entry = match (field.kind, resolved, &node.value) {
            (Kind::Text, Some((text, _)), _) => {
                self.check_text(path, key, text)?;
                Entry::Text(Spanned {
                    value: text.to_string(),
                    line,
                })
            }
            (Kind::Whole, Some((_, Resolved::Int(n))), _) => {
                Entry::Whole(Spanned { value: n, line })
            }
            (Kind::Whole, Some((text, Resolved::BigInt)), _) => {
                let message = format!("{} is too large", number_text(text));
                self.shape_problem(codes::INVALID_VALUE, path, key, message)
                    .hint = Some(field.hint.to_string());
                return Err(());
            }
            (Kind::Number, Some((_, Resolved::Int(n))), _) => Entry::Number(
                Spanned {
                    value: n as f64,
                    line,
                },
                n.to_string(),
            ),
            (Kind::Number, Some((text, Resolved::BigInt | Resolved::Float(_))), _) => {
                let value = text.parse().unwrap_or(f64::INFINITY);
                Entry::Number(Spanned { value, line }, number_text(text))
            }
            (Kind::Bool, Some((_, Resolved::Bool(b))), _) => {
                Entry::Bool(Spanned { value: b, line })
            }
            (Kind::Section(fields), _, Value::Map(_)) => {
                Entry::Section(self.section(node, path, Some(line), fields))
            }
            (Kind::List(fields, item_hint), _, Value::Seq(items)) => Entry::List(Spanned {
                value: self.list(items, path, fields, item_hint),
                line,
            }),
            (Kind::TextMap, _, Value::Map(entries)) => Entry::Map(Spanned {
                value: self.text_map(entries, path),
                line,
            }),
            (Kind::TextList, _, Value::Seq(items)) => Entry::TextList(Spanned {
                value: self.text_list(items, path, field.hint)?,
                line,
            }),
            _ => {
                self.wrong_type(path, key, node, expected(field.kind), field.hint);
                return Err(());
            }
        };
        Ok(Some(entry))
    }

    /// Control characters and pasted webhooks, in any string: refused before
    /// any AWS call, and the message never shows the value.
    fn check_text(&mut self, path: &str, mark: Mark, text: &str) -> Result<(), ()> {
        if safe::looks_like_webhook(text) {
            let (message, hint) = secret_problem(path);
            self.shape_problem(codes::SECRET_IN_FILE, path, mark, message.to_string())
                .hint = Some(hint.to_string());
            return Err(());
        }
        if let Some(c) = safe::control_character(text) {
            let message = format!(
                "contains a control character (U+{:04X}): {}",
                u32::from(c),
                safe::shown(text)
            );
            self.shape_problem(codes::CONTROL_CHARACTER, path, mark, message)
                .hint = Some(
                "remove it: AWS refuses control characters (escape sequences, tabs, line breaks) \
                 in names, tags and alarm fields"
                    .to_string(),
            );
            return Err(());
        }
        Ok(())
    }

    fn list(
        &mut self,
        items: &[Node],
        path: &str,
        fields: &'static [Field],
        item_hint: &str,
    ) -> Vec<Section> {
        let mut sections = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            let line = Some(item.mark.line);
            // `-` alone is an item with every field missing; `- ~` is not.
            let bare =
                matches!(&item.value, Value::Scalar { text, plain: true } if text.is_empty());
            let section = match &item.value {
                Value::Map(_) => self.section(item, &item_path, line, fields),
                _ if bare => Section::new(&item_path, line),
                _ => {
                    self.wrong_type(
                        &item_path,
                        item.mark,
                        item,
                        "a mapping of fields",
                        item_hint,
                    );
                    // Emptied, not removed: later items keep their index.
                    Section {
                        dropped_whole: true,
                        ..Section::new(&item_path, line)
                    }
                }
            };
            sections.push(section);
        }
        sections
    }

    /// Single values, each checked like any text; a list with a bad item is
    /// dropped whole (its problems reported).
    fn text_list(&mut self, items: &[Node], path: &str, hint: &str) -> Result<Vec<String>, ()> {
        let mut out = Vec::with_capacity(items.len());
        let mut bad = false;
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            match &item.value {
                Value::Scalar { text, .. } => match self.check_text(&item_path, item.mark, text) {
                    Ok(()) => out.push(text.clone()),
                    Err(()) => bad = true,
                },
                _ => {
                    self.wrong_type(&item_path, item.mark, item, "a single value", hint);
                    bad = true;
                }
            }
        }
        if bad { Err(()) } else { Ok(out) }
    }

    /// Tag keys to text values; a repeated key keeps its last value.
    fn text_map(&mut self, entries: &[(Node, Node)], path: &str) -> Tags {
        let mut out: Tags = Vec::new();
        for (key, value) in entries {
            let Value::Scalar { text: key_text, .. } = &key.value else {
                self.shape_problem(
                    codes::WRONG_TYPE,
                    path,
                    key.mark,
                    "has a key that is not a single value".to_string(),
                )
                .hint = Some("tag keys are plain text, e.g. `team: platform`".to_string());
                continue;
            };
            let child = key_path(path, key_text);
            if self.check_text(&child, key.mark, key_text).is_err() {
                continue;
            }
            let Value::Scalar { text, plain } = &value.value else {
                self.wrong_type(
                    &child,
                    key.mark,
                    value,
                    "a single value",
                    "a tag value is a single value, e.g. `team: platform`",
                );
                continue;
            };
            if self.check_text(&child, key.mark, text).is_err() {
                continue;
            }
            // A tag with no value (`k:`, `k: ~`) is an empty value, which AWS
            // allows; `~` itself is not a character AWS allows in tags.
            let text = match resolve(text, *plain) {
                Resolved::Null => "",
                _ => text.as_str(),
            };
            out.retain(|(k, _)| k != key_text);
            out.push((
                key_text.clone(),
                Spanned {
                    value: text.to_string(),
                    line: key.mark.line,
                },
            ));
        }
        out
    }
}

fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Text => "a single value",
        Kind::Whole => "a whole number",
        Kind::Number => "a number",
        Kind::Bool => "true or false",
        Kind::Section(_) => "a mapping of fields",
        Kind::List(..) => "a list",
        Kind::TextMap => "a mapping of keys to values",
        Kind::TextList => "a list of single values",
    }
}

/// The message and hint for a webhook found in the file.
fn secret_problem(path: &str) -> (&'static str, &'static str) {
    if path == "slack.webhook_url_ssm" {
        (
            "looks like a URL",
            "put the name of an SSM SecureString parameter here (e.g. \
             /relay/cpu-relay/slack-webhook), not the URL: store the URL with \
             `relayctl secret set`",
        )
    } else if path == "slack.webhook_url_env" {
        (
            "looks like a URL",
            "put the name of an environment variable here (e.g. SLACK_WEBHOOK_URL), \
             not the URL: secrets stay out of files",
        )
    } else {
        (
            "looks like a Slack webhook URL (value not shown)",
            "the webhook URL is a secret and never belongs in stack.yaml: export it in the \
             variable named by slack.webhook_url_env",
        )
    }
}

/// A number as written, cut short: it may be a megabyte of digits.
fn number_text(text: &str) -> String {
    if text.len() <= 30 {
        text.to_string()
    } else {
        format!("a {}-digit number", text.len())
    }
}

/// What was found, for "wrong type: found …". Never a string's content: it
/// may be a webhook URL pasted in the wrong place.
fn describe(node: &Node) -> String {
    match &node.value {
        Value::Scalar { text, plain } => match resolve(text, *plain) {
            Resolved::Null => "null".to_string(),
            Resolved::Bool(b) => b.to_string(),
            Resolved::Int(_) | Resolved::BigInt | Resolved::Float(_) => {
                format!("the number {}", number_text(text))
            }
            Resolved::Str => "a string".to_string(),
        },
        Value::Seq(_) => "a list".to_string(),
        Value::Map(_) => "a mapping".to_string(),
    }
}

/// `key:value` without a space is one string to YAML; say so where a mapping
/// was expected.
fn hint_with_colon_space(found: &Node, hint: &str) -> String {
    let missing_space = matches!(&found.value, Value::Scalar { text, plain: true }
    if text.split_once(':').is_some_and(|(k, v)| {
        !k.is_empty() && !k.contains(' ') && !v.is_empty() && !v.starts_with(' ') && !v.starts_with('/')
    }));
    if missing_space {
        format!("{hint}; YAML needs a space after the colon: `key: value`")
    } else {
        hint.to_string()
    }
}

/// `parent.key`, or `parent["key"]` when the key is not a plain word (tag keys
/// such as `cost:center`), so a path always names exactly one field. A key
/// that looks like a URL is not shown, and a very long one is cut short.
pub(crate) fn key_path(parent: &str, key: &str) -> String {
    const LONGEST: usize = 200;
    let shown;
    let key = if safe::looks_like_url(key) {
        "<URL, not shown>"
    } else if key.chars().count() > LONGEST {
        shown = format!("{}…", key.chars().take(LONGEST).collect::<String>());
        &shown
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_quote_odd_keys_and_hide_urls() {
        assert_eq!(key_path("", "name"), "name");
        assert_eq!(key_path("tags", "cost:center"), "tags[\"cost:center\"]");
        assert_eq!(key_path("tags", "a\u{1b}b"), "tags[\"a\\u{1b}b\"]");
        assert_eq!(
            key_path("slack", "https://hooks.slack.com/services/T/B/X"),
            "slack[\"<URL, not shown>\"]"
        );
        assert!(key_path("tags", &"k".repeat(500)).len() < 220);
    }
}
