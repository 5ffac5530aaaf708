//! Our fixtures must have the shape AWS sends: each one also parses with the
//! aws_lambda_events types (the community crate that tracks AWS's payloads).

use aws_lambda_events::cloudwatch_alarms::{CloudWatchCompositeAlarm, CloudWatchMetricAlarm};
use aws_lambda_events::sns::SnsEvent;

fn read(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn sns_fixtures_are_real_sns_events() {
    for name in [
        "sns-alarm-seed-sample.json",
        "sns-alarm-alarm.json",
        "sns-alarm-ok.json",
        "sns-alarm-null-description.json",
        "sns-alarm-multiple-records.json",
        "sns-alarm-metric-math.json",
        "sns-alarm-composite.json",
        "sns-plain-text.json",
    ] {
        let event: SnsEvent =
            serde_json::from_str(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!event.records.is_empty(), "{name}");
    }
}

#[test]
fn direct_invoke_fixtures_match_upstream_types() {
    serde_json::from_str::<CloudWatchMetricAlarm>(&read("direct-metric.json")).unwrap();
    serde_json::from_str::<CloudWatchCompositeAlarm>(&read("direct-composite.json")).unwrap();
}
