//! Builds the Slack incoming-webhook payload for a notification.
//!
//! The top-level `text` keeps the seed's sentence (`"<name> state is now
//! <state>: <reason>"`) so existing channel searches and mobile previews
//! still match; details go in one legacy attachment coloured by state.

use serde::Serialize;

use crate::event::{Alarm, MetricQuery, Notification, Other};
use crate::regions;

/// Slack shows at most 4,000 characters of a message's text before
/// truncating; stay below that with room for the name and state.
pub const MAX_TEXT_CHARS: usize = 3_000;
/// Attachment body (description, or the raw payload of an unknown event).
pub const MAX_BODY_CHARS: usize = 3_000;
/// One attachment field value.
pub const MAX_FIELD_CHARS: usize = 500;
/// Beyond this many dimensions we stop adding fields.
const MAX_DIMENSION_FIELDS: usize = 10;
/// Attachment title (the alarm name).
pub const MAX_TITLE_CHARS: usize = 300;
/// Field titles (dimension names).
pub const MAX_FIELD_TITLE_CHARS: usize = 100;
/// The console link: a real alarm name (at most 255 characters, each at
/// most 12 once percent-encoded) fits; a longer "name" gets no link.
pub const MAX_TITLE_LINK_CHARS: usize = 3_200;
/// A zero-width space: splits a run of backticks so it cannot close the
/// code block it sits in, and is invisible in Slack.
const ZWSP: char = '\u{200B}';

const RED: &str = "#d50200";
const GREEN: &str = "#2eb67d";
const GREY: &str = "#9e9e9e";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SlackMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub text: String,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Attachment {
    pub fallback: String,
    pub color: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title_link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mrkdwn_in: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Field {
    pub title: String,
    pub value: String,
    pub short: bool,
}

impl Field {
    fn new(title: &str, value: &str, short: bool) -> Self {
        Self {
            title: slack_text(title, MAX_FIELD_TITLE_CHARS),
            value: slack_text(value, MAX_FIELD_CHARS),
            short,
        }
    }
}

pub fn render(notification: &Notification, channel: Option<&str>) -> SlackMessage {
    let (text, attachment) = match notification {
        Notification::Alarm(alarm) => render_alarm(alarm),
        Notification::Other(other) => render_other(other),
    };
    SlackMessage {
        channel: channel.map(str::to_owned),
        text,
        attachments: vec![attachment],
    }
}

fn render_alarm(alarm: &Alarm) -> (String, Attachment) {
    let sentence = format!(
        "{} state is now {}: {}",
        alarm.name, alarm.state, alarm.reason
    );
    let text = slack_text(&sentence, MAX_TEXT_CHARS);
    let mut fields = Vec::new();

    match alarm.metrics.as_slice() {
        [] => {}
        [single] if single.expression.is_none() => {
            fields.push(Field::new("Metric", &describe_metric(single), false));
        }
        all => {
            let lines: Vec<String> = all.iter().map(describe_query).collect();
            fields.push(Field::new("Metrics", &lines.join("\n"), false));
        }
    }
    if let Some(threshold) = describe_threshold(alarm) {
        fields.push(Field::new("Threshold", &threshold, true));
    }
    // Metric math: several queries may share a dimension name, so say which
    // query each value belongs to.
    let several = alarm.metrics.len() > 1;
    let mut seen: Vec<String> = Vec::new();
    for metric in &alarm.metrics {
        for (name, value) in &metric.dimensions {
            let title = match (&metric.id, several) {
                (Some(id), true) => format!("{name} ({id})"),
                _ => name.clone(),
            };
            if seen.len() < MAX_DIMENSION_FIELDS && !seen.contains(&title) {
                fields.push(Field::new(&title, value, true));
                seen.push(title);
            }
        }
    }
    if let Some(rule) = &alarm.rule {
        fields.push(Field::new("Rule", rule, false));
    }
    if let Some(region) = alarm.region.as_ref().or(alarm.region_label.as_ref()) {
        fields.push(Field::new("Region", region, true));
    }
    if let Some(account) = &alarm.account {
        fields.push(Field::new("Account", account, true));
    }
    let states = match &alarm.previous_state {
        Some(old) => format!("{old} → {}", alarm.state),
        None => alarm.state.clone(),
    };
    fields.push(Field::new("State", &states, true));
    if let Some(time) = &alarm.time {
        fields.push(Field::new("Time", time, true));
    }

    let attachment = Attachment {
        fallback: text.clone(),
        color: state_color(&alarm.state),
        title: Some(slack_text(&alarm.name, MAX_TITLE_CHARS)),
        // Issue 11: a 1 MB name made a 4.7 M-character link.
        title_link: alarm
            .region
            .as_deref()
            .and_then(|r| regions::console_alarm_url(r, &alarm.name))
            .filter(|link| link.len() <= MAX_TITLE_LINK_CHARS),
        text: alarm
            .description
            .as_deref()
            .map(|d| slack_text(d, MAX_BODY_CHARS)),
        fields,
        mrkdwn_in: vec![],
    };
    (text, attachment)
}

fn render_other(other: &Other) -> (String, Attachment) {
    let headline = match &other.subject {
        Some(subject) => format!("{}: {subject}", other.origin),
        None => other.origin.clone(),
    };
    let text = slack_text(&headline, MAX_TEXT_CHARS);
    let fields = match &other.region {
        Some(region) => vec![Field::new("Region", region, true)],
        None => vec![],
    };
    let attachment = Attachment {
        fallback: text.clone(),
        color: GREY,
        title: None,
        title_link: None,
        text: code_block(&other.body),
        fields,
        mrkdwn_in: vec!["text"],
    };
    (text, attachment)
}

fn state_color(state: &str) -> &'static str {
    match state {
        "ALARM" => RED,
        "OK" => GREEN,
        _ => GREY,
    }
}

/// The body in a code block, which keeps JSON and stack traces readable;
/// `None` for an empty body, which would render as stray backticks.
/// Backtick runs in the body are split (issue 11: a body containing ```
/// closed the block and let the rest render as markup).
fn code_block(body: &str) -> Option<String> {
    if body.trim().is_empty() {
        return None;
    }
    const FENCES: usize = 6;
    let inner = slack_text(&split_backtick_runs(body), MAX_BODY_CHARS - FENCES);
    Some(format!("```{inner}```"))
}

/// No two backticks stay adjacent, and none touches the fences.
fn split_backtick_runs(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut previous = '`'; // the opening fence
    for c in body.chars() {
        if c == '`' && previous == '`' {
            out.push(ZWSP);
        }
        out.push(c);
        previous = c;
    }
    if previous == '`' {
        out.push(ZWSP);
    }
    out
}

/// "CPUUtilization in AWS/EC2, Average over 300 s"
fn describe_metric(m: &MetricQuery) -> String {
    let mut out = match (&m.name, &m.namespace) {
        (Some(name), Some(ns)) => format!("{name} in {ns}"),
        (Some(name), None) => name.clone(),
        (None, Some(ns)) => ns.clone(),
        (None, None) => "(unnamed metric)".to_owned(),
    };
    match (&m.stat, m.period) {
        (Some(stat), Some(period)) => out.push_str(&format!(", {stat} over {} s", number(period))),
        (Some(stat), None) => out.push_str(&format!(", {stat}")),
        (None, Some(period)) => out.push_str(&format!(", over {} s", number(period))),
        (None, None) => {}
    }
    out
}

/// One line per metric-math query; the one the alarm watches is marked.
fn describe_query(q: &MetricQuery) -> String {
    let id = q.id.as_deref().unwrap_or("?");
    let what = match &q.expression {
        Some(expr) => expr.clone(),
        None => describe_metric(q),
    };
    let label = q
        .label
        .as_deref()
        .map(|l| format!(" ({l})"))
        .unwrap_or_default();
    let marker = if q.return_data { " ← alarm" } else { "" };
    format!("{id} = {what}{label}{marker}")
}

/// "> 80", "<= 0.5", or the anomaly band the alarm compares against.
fn describe_threshold(alarm: &Alarm) -> Option<String> {
    let op = alarm.comparison.as_deref().map(|op| match op {
        "GreaterThanThreshold" => ">",
        "GreaterThanOrEqualToThreshold" => ">=",
        "LessThanThreshold" => "<",
        "LessThanOrEqualToThreshold" => "<=",
        "LessThanLowerOrGreaterThanUpperThreshold" => "outside band",
        "LessThanLowerThreshold" => "below band",
        "GreaterThanUpperThreshold" => "above band",
        other => other,
    });
    match (op, alarm.threshold, &alarm.threshold_metric_id) {
        (Some(op), _, Some(band)) => Some(format!("{op} {band}")),
        (Some(op), Some(t), None) => Some(format!("{op} {}", number(t))),
        (None, Some(t), _) => Some(number(t)),
        (Some(op), None, None) => Some(op.to_owned()),
        (None, None, _) => None,
    }
}

/// `80.0` prints as `80`, `0.5` as `0.5`.
fn number(n: f64) -> String {
    format!("{n}")
}

/// Characters that must not reach a terminal or a chat line raw: C0 and
/// C1 controls (ESC starts terminal sequences, BEL ends OSC ones), DEL, and
/// the bidirectional overrides that make text read differently than it is.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Escapes Slack's three control characters and shows unsafe characters
/// (other than newline and tab; CR becomes a newline) as `\u{1b}`, then cuts to `max` chars on a
/// char boundary without splitting an escape, marking the cut with "…".
pub fn slack_text(raw: &str, max: usize) -> String {
    let mut escaped = String::with_capacity(raw.len().min(max * 4));
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        // Enough for the cut below; the rest of a 1 MB name is never copied.
        if escaped.len() > max * 12 {
            break;
        }
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '\n' | '\t' => escaped.push(c),
            // CRLF (Windows text, SMTP-ish bodies) is a line break, not a control.
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => escaped.push('\n'),
            c if is_unsafe_char(c) => escaped.extend(c.escape_unicode()),
            c => escaped.push(c),
        }
    }
    if escaped.chars().count() <= max {
        return escaped;
    }
    let keep = max.saturating_sub(1);
    let end = escaped
        .char_indices()
        .nth(keep)
        .map_or(escaped.len(), |(i, _)| i);
    escaped.truncate(end);
    if let Some(amp) = escaped.rfind('&')
        && !escaped[amp..].contains(';')
    {
        escaped.truncate(amp);
    }
    escaped.push('…');
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_on_char_boundaries_and_never_inside_an_escape() {
        let s = "é".repeat(10);
        assert_eq!(slack_text(&s, 4), "ééé…");
        assert_eq!(slack_text("a<b", 10), "a&lt;b");
        // "ab&lt;" is 6 chars; a cut at 4 would leave "ab&l".
        assert_eq!(slack_text("ab<cd", 5), "ab…");
        assert_eq!(slack_text("short", 5), "short");
        assert!(
            slack_text(&"x".repeat(10_000), MAX_TEXT_CHARS)
                .chars()
                .count()
                <= MAX_TEXT_CHARS
        );
    }

    #[test]
    fn unsafe_characters_are_shown_escaped() {
        assert_eq!(
            slack_text("a\u{1b}]0;x\u{7}b\nc\td\u{202E}", 100),
            "a\\u{1b}]0;x\\u{7}b\nc\td\\u{202e}"
        );
        assert_eq!(slack_text("a\r\nb\rc", 10), "a\nb\nc");
        let long = "\u{1b}".repeat(10_000);
        assert_eq!(slack_text(&long, 20).chars().count(), 20);
    }

    #[test]
    fn backticks_cannot_close_the_code_block() {
        let block = code_block("before ``` after ````").unwrap();
        let inner = &block[3..block.len() - 3];
        assert!(!inner.contains("``"), "{block:?}");
        assert!(!block[1..block.len() - 1].contains("```"), "{block:?}");
        // Touching the fences: the opening fence plus a leading backtick.
        let edge = code_block("`x`").unwrap();
        assert_eq!(edge, "```\u{200B}`x`\u{200B}```");
        assert_eq!(code_block("  \n"), None);
        assert!(code_block(&"`".repeat(10_000)).unwrap().chars().count() <= MAX_BODY_CHARS);
    }

    #[test]
    fn thresholds_read_as_comparisons() {
        let mut alarm = Alarm {
            comparison: Some("GreaterThanThreshold".into()),
            threshold: Some(80.0),
            ..Alarm::default()
        };
        assert_eq!(describe_threshold(&alarm).as_deref(), Some("> 80"));
        alarm.comparison = Some("LessThanOrEqualToThreshold".into());
        alarm.threshold = Some(0.5);
        assert_eq!(describe_threshold(&alarm).as_deref(), Some("<= 0.5"));
        alarm.comparison = Some("LessThanLowerOrGreaterThanUpperThreshold".into());
        alarm.threshold_metric_id = Some("ad1".into());
        assert_eq!(
            describe_threshold(&alarm).as_deref(),
            Some("outside band ad1")
        );
    }

    #[test]
    fn colours_follow_state() {
        assert_eq!(state_color("ALARM"), RED);
        assert_eq!(state_color("OK"), GREEN);
        assert_eq!(state_color("INSUFFICIENT_DATA"), GREY);
    }
}
