//! The Slack payload for every fixture, snapshotted. Review changes with
//! `cargo insta review` (or read the `.snap.new` files) before accepting.

use relay_handler::{event, render};
use serde_json::Value;

fn rendered(fixture: &str, channel: Option<&str>) -> Vec<render::SlackMessage> {
    let path = format!("{}/tests/fixtures/{fixture}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    event::parse_str(&raw)
        .iter()
        .map(|n| render::render(n, channel))
        .collect()
}

macro_rules! snapshot {
    ($test:ident, $fixture:literal) => {
        #[test]
        fn $test() {
            insta::assert_json_snapshot!(stringify!($test), rendered($fixture, None));
        }
    };
}

snapshot!(seed_sample, "sns-alarm-seed-sample.json");
snapshot!(sns_alarm, "sns-alarm-alarm.json");
snapshot!(sns_ok, "sns-alarm-ok.json");
snapshot!(sns_null_description, "sns-alarm-null-description.json");
snapshot!(sns_multiple_records, "sns-alarm-multiple-records.json");
snapshot!(sns_metric_math, "sns-alarm-metric-math.json");
snapshot!(sns_composite, "sns-alarm-composite.json");
snapshot!(direct_metric, "direct-metric.json");
snapshot!(direct_composite, "direct-composite.json");
snapshot!(
    eventbridge_state_change,
    "eventbridge-alarm-state-change.json"
);
snapshot!(sns_plain_text, "sns-plain-text.json");
snapshot!(unknown_json, "unknown-json.json");

#[test]
fn seed_sentence_and_channel() {
    let [message] = &rendered("sns-alarm-seed-sample.json", Some("#ops"))[..] else {
        panic!()
    };
    assert_eq!(
        message.text,
        "Example alarm name state is now ALARM: Threshold Crossed: 1 datapoint (10.0) was greater than or equal to the threshold (1.0)."
    );
    let json = serde_json::to_value(message).unwrap();
    assert_eq!(json["channel"], "#ops");
    assert_eq!(json["attachments"][0]["color"], "#d50200");
    assert_eq!(
        json["attachments"][0]["title_link"],
        "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/Example%20alarm%20name"
    );
    // No channel configured: the key is absent, so the webhook's default applies.
    let plain = serde_json::to_value(&rendered("sns-alarm-seed-sample.json", None)[0]).unwrap();
    assert_eq!(plain.get("channel"), None::<&Value>);
}

#[test]
fn long_reasons_are_cut_within_slack_limits() {
    let reason = "ü".repeat(10_000);
    let event =
        serde_json::json!({"AlarmName": "a", "NewStateValue": "ALARM", "NewStateReason": reason});
    let message = render::render(&event::parse_value(&event)[0], None);
    assert!(message.text.chars().count() <= render::MAX_TEXT_CHARS);
    assert!(message.text.ends_with('…'));
    assert!(message.text.starts_with("a state is now ALARM: üü"));
}
