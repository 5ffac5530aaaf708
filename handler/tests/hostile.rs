//! Issue 11: hostile events. Every file in `fixtures/hostile/` (and a few
//! too big to keep as files) is parsed and rendered; each message must stay
//! within Slack's limits, carry no raw control characters, and keep its
//! code block closed.

use std::path::PathBuf;

use relay_handler::render::{
    self, MAX_BODY_CHARS, MAX_FIELD_CHARS, MAX_FIELD_TITLE_CHARS, MAX_TEXT_CHARS, MAX_TITLE_CHARS,
    MAX_TITLE_LINK_CHARS, SlackMessage,
};
use relay_handler::{event, render::is_unsafe_char};
use serde_json::{Value, json};

/// Slack truncates a message beyond 40,000 characters.
const SLACK_MESSAGE_CHARS: usize = 40_000;
/// Our own cap on attachment fields (10 dimensions plus the fixed ones).
const MAX_FIELDS: usize = 20;

fn hostile_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile")
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Every string in the payload, with where it sits.
fn strings<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::String(s) => out.push((at, s)),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                strings(v, format!("{at}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                strings(v, format!("{at}.{k}"), out);
            }
        }
        _ => {}
    }
}

/// The checks every rendered message must pass; `what` names the case.
fn check(what: &str, message: &SlackMessage) {
    assert!(chars(&message.text) <= MAX_TEXT_CHARS, "{what}: text");
    for a in &message.attachments {
        assert!(chars(&a.fallback) <= MAX_TEXT_CHARS, "{what}: fallback");
        assert!(
            a.title.as_deref().map_or(0, chars) <= MAX_TITLE_CHARS,
            "{what}: title"
        );
        assert!(
            a.title_link.as_deref().map_or(0, chars) <= MAX_TITLE_LINK_CHARS,
            "{what}: title_link is {} chars",
            a.title_link.as_deref().map_or(0, chars)
        );
        assert!(
            a.text.as_deref().map_or(0, chars) <= MAX_BODY_CHARS,
            "{what}: body"
        );
        assert!(
            a.fields.len() <= MAX_FIELDS,
            "{what}: {} fields",
            a.fields.len()
        );
        for f in &a.fields {
            assert!(
                chars(&f.title) <= MAX_FIELD_TITLE_CHARS,
                "{what}: field title"
            );
            assert!(chars(&f.value) <= MAX_FIELD_CHARS, "{what}: field value");
        }
        if a.mrkdwn_in.contains(&"text")
            && let Some(text) = &a.text
        {
            let inner = text
                .strip_prefix("```")
                .and_then(|t| t.strip_suffix("```"))
                .unwrap_or_else(|| panic!("{what}: markdown body is not one code block"));
            assert!(
                !inner.contains("``"),
                "{what}: backticks can close the block"
            );
            assert!(
                !inner.starts_with('`') && !inner.ends_with('`'),
                "{what}: a backtick touches a fence"
            );
        }
    }
    let payload = serde_json::to_value(message).unwrap();
    let mut all = Vec::new();
    strings(&payload, String::new(), &mut all);
    let total: usize = all.iter().map(|(_, s)| chars(s)).sum();
    assert!(total <= SLACK_MESSAGE_CHARS, "{what}: {total} chars in all");
    for (at, s) in all {
        if let Some(c) = s
            .chars()
            .find(|&c| is_unsafe_char(c) && c != '\n' && c != '\t')
        {
            panic!("{what}: raw {c:?} in {at}");
        }
    }
}

fn render_all(what: &str, raw: &str) -> usize {
    let notifications = event::parse_str(raw);
    assert!(!notifications.is_empty(), "{what}: nothing to post");
    for n in &notifications {
        check(what, &render::render(n, Some("#alerts")));
    }
    notifications.len()
}

#[test]
fn every_hostile_fixture_renders_within_limits() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(hostile_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "only {} hostile events", files.len());
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        render_all(&name, &String::from_utf8_lossy(&bytes));
    }
}

fn sns_alarm(name: &str) -> String {
    let alarm = json!({
        "AlarmName": name, "NewStateValue": "ALARM", "NewStateReason": "r",
        "AlarmArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:x",
    });
    json!({"Records": [{"Sns": {"Message": alarm.to_string()}}]}).to_string()
}

/// Issue 11 item 8: a 1 MB name made a 4.7 M-character link.
#[test]
fn issue_11_one_megabyte_alarm_name() {
    let raw = sns_alarm(&"é<名".repeat(256 * 1024 / 4 * 4));
    assert!(raw.len() > 1_000_000);
    render_all("1 MB name", &raw);
    let n = &event::parse_str(&raw)[0];
    assert_eq!(render::render(n, None).attachments[0].title_link, None);
}

#[test]
fn a_real_alarm_name_keeps_its_link() {
    let raw = sns_alarm(&"😀".repeat(255));
    let n = &event::parse_str(&raw)[0];
    let link = render::render(n, None).attachments[0]
        .title_link
        .clone()
        .unwrap();
    assert!(
        link.starts_with("https://eu-west-1.console.aws.amazon.com/"),
        "{link}"
    );
}

#[test]
fn a_thousand_records() {
    let record = |i: usize| json!({"Sns": {"Message": json!({"AlarmName": format!("a{i}\u{1b}"), "NewStateValue": "ALARM"}).to_string()}});
    let raw = json!({"Records": (0..1000).map(record).collect::<Vec<_>>()}).to_string();
    assert_eq!(render_all("1000 records", &raw), 1000);
}

#[test]
fn very_deep_nesting_is_a_fallback_not_a_crash() {
    let deep = format!("{}{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
    render_all("deep objects", &deep);
    let message = json!({"Records": [{"Sns": {"Message": deep}}]}).to_string();
    render_all("deep objects in a message", &message);
}

/// The fixtures mean what their names say: spot checks that the escaping
/// happened where it matters, not just that nothing crashed.
#[test]
fn hostile_text_is_shown_escaped() {
    let raw = std::fs::read_to_string(hostile_dir().join("sns-reason-osc-sequences.json")).unwrap();
    let message = render::render(&event::parse_str(&raw)[0], None);
    assert!(
        message.text.contains("\\u{1b}]0;pwned\\u{7}"),
        "{}",
        message.text
    );

    let raw = std::fs::read_to_string(hostile_dir().join("slack-markup-injection.json")).unwrap();
    let message = render::render(&event::parse_str(&raw)[0], None);
    assert!(
        message.text.starts_with("&lt;!channel&gt; &lt;@U123&gt;"),
        "{}",
        message.text
    );

    let raw = std::fs::read_to_string(hostile_dir().join("sns-plain-text-backticks.json")).unwrap();
    let message = render::render(&event::parse_str(&raw)[0], None);
    let body = message.attachments[0].text.as_deref().unwrap();
    assert!(body.contains("now outside the block"), "{body}");
    assert_eq!(body.matches("```").count(), 2, "{body}");
}
