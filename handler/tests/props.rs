//! Whatever arrives, parsing and rendering neither panic nor drop it.

use proptest::prelude::*;
use relay_handler::{event, render};
use serde_json::Value;

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        // Keys and values from the alarm vocabulary, so the parsers' inner
        // paths get exercised, not just the "unrecognised" branch.
        prop_oneof![
            "[a-zA-Z0-9 _:<>&é-]{0,12}",
            Just("ALARM".to_owned()),
            Just("arn:aws:cloudwatch:eu-west-1:1:alarm:x".to_owned()),
            Just(
                "{\"AlarmName\":\"a\",\"NewStateValue\":\"OK\",\"Trigger\":{\"Metrics\":[{}]}}"
                    .to_owned()
            ),
        ]
        .prop_map(Value::String),
    ];
    let keys = prop_oneof![
        Just("Records"),
        Just("Sns"),
        Just("Message"),
        Just("AlarmName"),
        Just("NewStateValue"),
        Just("Trigger"),
        Just("Metrics"),
        Just("MetricStat"),
        Just("Dimensions"),
        Just("alarmData"),
        Just("alarmName"),
        Just("state"),
        Just("value"),
        Just("configuration"),
        Just("metrics"),
        Just("detail"),
        Just("reasonData"),
        Just("Threshold"),
        Just("Region"),
        Just("AlarmArn"),
    ];
    leaf.prop_recursive(5, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone().prop_map(str::to_owned), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn check(notifications: &[event::Notification]) {
    assert!(!notifications.is_empty(), "nothing to post");
    for n in notifications {
        let message = render::render(n, Some("#x"));
        assert!(message.text.chars().count() <= render::MAX_TEXT_CHARS);
        serde_json::to_string(&message).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_json_value(value in arb_json()) {
        check(&event::parse_value(&value));
    }

    #[test]
    fn any_json_inside_an_sns_message(inner in arb_json(), subject in proptest::option::of(".{0,20}")) {
        let event = serde_json::json!({"Records": [{"Sns": {"Message": inner.to_string(), "Subject": subject}}]});
        check(&event::parse_value(&event));
    }

    #[test]
    fn any_string(raw in ".{0,400}") {
        check(&event::parse_str(&raw));
    }
}
