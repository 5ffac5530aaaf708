//! Turns an invocation payload into the notifications to post.
//!
//! Shapes understood (see `tests/fixtures/`):
//! - SNS events, one message per Record, whose Message is a CloudWatch alarm
//!   (PascalCase; metric, metric-math and composite alarms);
//! - the payload CloudWatch sends when an alarm invokes Lambda directly
//!   (`source: aws.cloudwatch`, camelCase `alarmData`), and the EventBridge
//!   "CloudWatch Alarm State Change" event, which carries the same data in
//!   `detail`;
//! - a bare alarm message (what people paste when testing).
//!
//! Anything else becomes [`Notification::Other`] so it is still posted. The
//! serde structs are our own and lenient (every field optional, scalars of
//! the wrong type ignored): aws_lambda_events' `CloudWatchAlarmPayload`
//! requires `AlarmDescription` to be a string, but CloudWatch sends `null`
//! for alarms without one, and its SNS envelope rejects records missing
//! fields we never use.

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};
use serde_json::Value;

use crate::regions;

/// One Slack post worth of content.
#[derive(Debug, Clone, PartialEq)]
pub enum Notification {
    Alarm(Box<Alarm>),
    Other(Other),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Alarm {
    pub name: String,
    pub description: Option<String>,
    pub state: String,
    pub previous_state: Option<String>,
    pub reason: String,
    pub time: Option<String>,
    pub account: Option<String>,
    /// Region code (`eu-west-1`) when known.
    pub region: Option<String>,
    /// The region as given when it could not be mapped to a code.
    pub region_label: Option<String>,
    /// Single metric, or every query of a metric-math alarm.
    pub metrics: Vec<MetricQuery>,
    pub threshold: Option<f64>,
    pub comparison: Option<String>,
    /// Anomaly-detection alarms compare against a band, not a number.
    pub threshold_metric_id: Option<String>,
    /// Composite alarms: the rule over other alarms.
    pub rule: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricQuery {
    pub id: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub stat: Option<String>,
    pub period: Option<f64>,
    pub dimensions: Vec<(String, String)>,
    pub expression: Option<String>,
    pub label: Option<String>,
    pub return_data: bool,
}

/// A payload that is not an alarm, shown as-is.
#[derive(Debug, Clone, PartialEq)]
pub struct Other {
    /// Where it came from, as a headline ("Message on SNS topic alarms").
    pub origin: String,
    pub subject: Option<String>,
    pub body: String,
    /// Region code taken from an ARN when there is one.
    pub region: Option<String>,
}

/// Parses raw invocation bytes; text that is not JSON is a plain message.
pub fn parse_str(raw: &str) -> Vec<Notification> {
    match serde_json::from_str::<Value>(raw) {
        Ok(value) => parse_value(&value),
        Err(_) => vec![other("Non-JSON payload", None, raw.to_owned(), None)],
    }
}

/// Every notification in one invocation payload, in order. Never empty.
pub fn parse_value(event: &Value) -> Vec<Notification> {
    if let Some(records) = event.get("Records").and_then(Value::as_array)
        && !records.is_empty()
        && records
            .iter()
            .any(|r| r.get("Sns").is_some_and(Value::is_object))
    {
        return records
            .iter()
            .map(|r| match r.get("Sns") {
                Some(sns) if sns.is_object() => parse_sns_record(sns),
                _ => other("Unrecognised record (not SNS)", None, pretty(r), None),
            })
            .collect();
    }
    if let Some(alarm) = direct_alarm(event).or_else(|| sns_alarm(event)) {
        return vec![Notification::Alarm(Box::new(alarm))];
    }
    vec![other(
        "Unrecognised event (not a CloudWatch alarm)",
        None,
        pretty(event),
        None,
    )]
}

fn parse_sns_record(sns: &Value) -> Notification {
    let sns: SnsMessage = lenient(sns).unwrap_or_default();
    let message = sns.message.unwrap_or_default();
    if let Ok(inner) = serde_json::from_str::<Value>(&message) {
        if let Some(alarm) = sns_alarm(&inner).or_else(|| direct_alarm(&inner)) {
            return Notification::Alarm(Box::new(alarm));
        }
        if inner.is_object() || inner.is_array() {
            return sns_other(sns.topic_arn, sns.subject, pretty(&inner));
        }
    }
    sns_other(sns.topic_arn, sns.subject, message)
}

fn sns_other(topic_arn: Option<String>, subject: Option<String>, body: String) -> Notification {
    let topic = topic_arn.as_deref().and_then(|a| a.rsplit(':').next());
    let origin = match topic {
        Some(t) if !t.is_empty() => format!("Message on SNS topic {t}"),
        _ => "Message on SNS".to_owned(),
    };
    let region = topic_arn
        .as_deref()
        .and_then(regions::region_from_arn)
        .map(str::to_owned);
    other(&origin, subject, body, region)
}

fn other(
    origin: &str,
    subject: Option<String>,
    body: String,
    region: Option<String>,
) -> Notification {
    Notification::Other(Other {
        origin: origin.to_owned(),
        subject: subject.filter(|s| !s.is_empty()),
        body,
        region,
    })
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// `T` from a JSON value, or `None` when it does not fit.
fn lenient<T: DeserializeOwned>(value: &Value) -> Option<T> {
    T::deserialize(value).ok()
}

// ---- serde helpers: a wrong type in one field must not lose the alarm ----

fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok().filter(|f: &f64| f.is_finite()),
        _ => None,
    })
}

fn opt<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    Ok(lenient(&Value::deserialize(d)?))
}

fn vec_or_empty<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items.iter().filter_map(lenient).collect(),
        _ => Vec::new(),
    })
}

/// SNS dimensions are `[{"name": .., "value": ..}]` (lower case in alarm
/// messages, PascalCase elsewhere); direct invoke uses a `{name: value}` map.
fn dimensions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| {
                let name = i.get("name").or_else(|| i.get("Name")).and_then(text)?;
                let value = i.get("value").or_else(|| i.get("Value")).and_then(text)?;
                Some((name, value))
            })
            .collect(),
        Value::Object(map) => map
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), text(v)?)))
            .collect(),
        _ => Vec::new(),
    })
}

// ---- SNS envelope ----

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct SnsMessage {
    #[serde(default, deserialize_with = "opt_string")]
    message: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    subject: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    topic_arn: Option<String>,
}

// ---- CloudWatch alarm as published to SNS (PascalCase) ----

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnsAlarm {
    alarm_name: String,
    new_state_value: String,
    #[serde(default, deserialize_with = "opt_string")]
    alarm_description: Option<String>,
    #[serde(default, rename = "AWSAccountId", deserialize_with = "opt_string")]
    aws_account_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    new_state_reason: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    state_change_time: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    region: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    alarm_arn: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    old_state_value: Option<String>,
    #[serde(default, deserialize_with = "opt")]
    trigger: Option<SnsTrigger>,
    /// Present on composite alarms only.
    #[serde(default, deserialize_with = "opt_string")]
    alarm_rule: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct SnsTrigger {
    #[serde(default, deserialize_with = "opt_string")]
    metric_name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    namespace: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    statistic: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    extended_statistic: Option<String>,
    #[serde(default, deserialize_with = "dimensions")]
    dimensions: Vec<(String, String)>,
    #[serde(default, deserialize_with = "opt_f64")]
    period: Option<f64>,
    #[serde(default, deserialize_with = "opt_f64")]
    threshold: Option<f64>,
    #[serde(default, deserialize_with = "opt_string")]
    threshold_metric_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    comparison_operator: Option<String>,
    /// Metric-math alarms list their queries here instead.
    #[serde(default, deserialize_with = "vec_or_empty")]
    metrics: Vec<SnsMetricQuery>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnsMetricQuery {
    #[serde(default, deserialize_with = "opt_string")]
    id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    expression: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    label: Option<String>,
    #[serde(default)]
    return_data: Option<bool>,
    #[serde(default, deserialize_with = "opt")]
    metric_stat: Option<SnsMetricStat>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnsMetricStat {
    #[serde(default, deserialize_with = "opt")]
    metric: Option<SnsMetric>,
    #[serde(default, deserialize_with = "opt_f64")]
    period: Option<f64>,
    #[serde(default, deserialize_with = "opt_string")]
    stat: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SnsMetric {
    #[serde(default, deserialize_with = "opt_string")]
    metric_name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    namespace: Option<String>,
    #[serde(default, deserialize_with = "dimensions")]
    dimensions: Vec<(String, String)>,
}

fn sns_alarm(value: &Value) -> Option<Alarm> {
    let raw: SnsAlarm = lenient(value)?;
    let trigger = raw.trigger.unwrap_or_default();
    let mut metrics: Vec<MetricQuery> = trigger
        .metrics
        .into_iter()
        .map(|q| {
            let stat = q.metric_stat;
            let (period, stat_name, metric) = match stat {
                Some(s) => (s.period, s.stat, s.metric),
                None => (None, None, None),
            };
            let (name, namespace, dimensions) = match metric {
                Some(m) => (m.metric_name, m.namespace, m.dimensions),
                None => (None, None, Vec::new()),
            };
            MetricQuery {
                id: q.id,
                namespace,
                name,
                stat: stat_name,
                period,
                dimensions,
                expression: q.expression,
                label: q.label,
                return_data: q.return_data.unwrap_or(false),
            }
        })
        .collect();
    if metrics.is_empty() && (trigger.metric_name.is_some() || trigger.namespace.is_some()) {
        metrics.push(MetricQuery {
            namespace: trigger.namespace,
            name: trigger.metric_name,
            stat: trigger.statistic.or(trigger.extended_statistic),
            period: trigger.period,
            dimensions: trigger.dimensions,
            return_data: true,
            ..MetricQuery::default()
        });
    }
    let (region, region_label) = resolve_region(raw.alarm_arn.as_deref(), raw.region.as_deref());
    Some(Alarm {
        name: raw.alarm_name,
        description: raw.alarm_description.filter(|d| !d.is_empty()),
        state: raw.new_state_value,
        previous_state: raw.old_state_value,
        reason: raw.new_state_reason.unwrap_or_default(),
        time: raw.state_change_time,
        account: raw.aws_account_id,
        region,
        region_label,
        metrics,
        threshold: trigger.threshold,
        comparison: trigger.comparison_operator,
        threshold_metric_id: trigger.threshold_metric_id,
        rule: raw.alarm_rule,
    })
}

/// The ARN is authoritative (and has the code); the display name is the fallback.
fn resolve_region(arn: Option<&str>, name: Option<&str>) -> (Option<String>, Option<String>) {
    if let Some(code) = arn.and_then(regions::region_from_arn) {
        return (Some(code.to_owned()), None);
    }
    match name {
        Some(name) => match regions::region_code(name) {
            Some(code) => (Some(code.to_owned()), None),
            None => (None, Some(name.to_owned()).filter(|n| !n.is_empty())),
        },
        None => (None, None),
    }
}

// ---- CloudWatch alarm invoking Lambda directly (camelCase) ----

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DirectEvent {
    #[serde(default, deserialize_with = "opt_string")]
    alarm_arn: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    account_id: Option<String>,
    /// EventBridge spelling of the account.
    #[serde(default, deserialize_with = "opt_string")]
    account: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    region: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    time: Option<String>,
    /// EventBridge puts the alarm ARN here.
    #[serde(default, deserialize_with = "vec_or_empty")]
    resources: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DirectAlarmData {
    alarm_name: String,
    state: DirectState,
    #[serde(default, deserialize_with = "opt")]
    previous_state: Option<DirectState>,
    #[serde(default, deserialize_with = "opt")]
    configuration: Option<DirectConfiguration>,
}

#[derive(Deserialize)]
struct DirectState {
    value: String,
    #[serde(default, deserialize_with = "opt_string")]
    reason: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    timestamp: Option<String>,
    /// A JSON document in a string; metric alarms put the threshold in it.
    #[serde(default, rename = "reasonData", deserialize_with = "opt_string")]
    reason_data: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DirectConfiguration {
    #[serde(default, deserialize_with = "opt_string")]
    description: Option<String>,
    #[serde(default, deserialize_with = "vec_or_empty")]
    metrics: Vec<DirectMetricQuery>,
    #[serde(default, deserialize_with = "opt_string")]
    alarm_rule: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DirectMetricQuery {
    #[serde(default, deserialize_with = "opt_string")]
    id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    expression: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    label: Option<String>,
    #[serde(default)]
    return_data: Option<bool>,
    #[serde(default, deserialize_with = "opt")]
    metric_stat: Option<DirectMetricStat>,
}

#[derive(Deserialize)]
struct DirectMetricStat {
    #[serde(default, deserialize_with = "opt")]
    metric: Option<DirectMetric>,
    #[serde(default, deserialize_with = "opt_f64")]
    period: Option<f64>,
    #[serde(default, deserialize_with = "opt_string")]
    stat: Option<String>,
}

#[derive(Deserialize)]
struct DirectMetric {
    #[serde(default, deserialize_with = "opt_string")]
    namespace: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    name: Option<String>,
    #[serde(default, deserialize_with = "dimensions")]
    dimensions: Vec<(String, String)>,
}

fn direct_alarm(value: &Value) -> Option<Alarm> {
    let data = value.get("alarmData").or_else(|| value.get("detail"))?;
    let data: DirectAlarmData = lenient(data)?;
    let envelope: DirectEvent = lenient(value)?;
    let arn = envelope
        .alarm_arn
        .or_else(|| envelope.resources.into_iter().next());
    let (region, region_label) = match arn.as_deref().and_then(regions::region_from_arn) {
        Some(code) => (Some(code.to_owned()), None),
        None => resolve_region(None, envelope.region.as_deref()),
    };
    let config = data.configuration.unwrap_or_default();
    let metrics = config
        .metrics
        .into_iter()
        .map(|q| {
            let (period, stat, metric) = match q.metric_stat {
                Some(s) => (s.period, s.stat, s.metric),
                None => (None, None, None),
            };
            let (namespace, name, dimensions) = match metric {
                Some(m) => (m.namespace, m.name, m.dimensions),
                None => (None, None, Vec::new()),
            };
            MetricQuery {
                id: q.id,
                namespace,
                name,
                stat,
                period,
                dimensions,
                expression: q.expression,
                label: q.label,
                return_data: q.return_data.unwrap_or(false),
            }
        })
        .collect();
    // The direct payload has no threshold field; metric alarms report it in
    // the new state's reasonData. It never has the comparison operator.
    let threshold = data
        .state
        .reason_data
        .as_deref()
        .and_then(|r| serde_json::from_str::<Value>(r).ok())
        .and_then(|r| r.get("threshold").and_then(Value::as_f64));
    Some(Alarm {
        name: data.alarm_name,
        description: config.description.filter(|d| !d.is_empty()),
        state: data.state.value,
        previous_state: data.previous_state.map(|s| s.value),
        reason: data.state.reason.unwrap_or_default(),
        time: data.state.timestamp.or(envelope.time),
        account: envelope.account_id.or(envelope.account),
        region,
        region_label,
        metrics,
        threshold,
        comparison: None,
        threshold_metric_id: None,
        rule: config.alarm_rule,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<Notification> {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        parse_str(&raw)
    }

    fn alarm(n: &Notification) -> &Alarm {
        match n {
            Notification::Alarm(a) => a,
            Notification::Other(o) => panic!("expected an alarm, got {o:?}"),
        }
    }

    fn only_alarm(name: &str) -> Alarm {
        let all = fixture(name);
        assert_eq!(all.len(), 1, "{name}");
        alarm(&all[0]).clone()
    }

    #[test]
    fn seed_sample() {
        let a = only_alarm("sns-alarm-seed-sample.json");
        assert_eq!(a.name, "Example alarm name");
        assert_eq!(a.description.as_deref(), Some("Example alarm description."));
        assert_eq!(
            (a.state.as_str(), a.previous_state.as_deref()),
            ("ALARM", Some("OK"))
        );
        assert_eq!(
            a.region.as_deref(),
            Some("eu-west-1"),
            "from the long name 'EU - Ireland'"
        );
        assert_eq!(a.account.as_deref(), Some("000000000000"));
        assert_eq!(a.metrics.len(), 1);
        assert_eq!(a.metrics[0].name.as_deref(), Some("DeliveryErrors"));
        assert_eq!(a.metrics[0].namespace.as_deref(), Some("ExampleNamespace"));
        assert_eq!(a.threshold, Some(1.0));
        assert_eq!(
            a.comparison.as_deref(),
            Some("GreaterThanOrEqualToThreshold")
        );
        assert!(a.reason.starts_with("Threshold Crossed"));
    }

    #[test]
    fn sns_alarm_and_ok() {
        let firing = only_alarm("sns-alarm-alarm.json");
        let ok = only_alarm("sns-alarm-ok.json");
        assert_eq!((firing.state.as_str(), ok.state.as_str()), ("ALARM", "OK"));
        assert_eq!(ok.previous_state.as_deref(), Some("ALARM"));
        assert_eq!(ok.region.as_deref(), Some("us-east-1"));
        assert_eq!(
            ok.metrics[0].dimensions,
            vec![("InstanceId".to_owned(), "i-0abc123def4567890".to_owned())]
        );
        assert_eq!(ok.metrics[0].period, Some(300.0));
        assert_eq!(ok.threshold, Some(80.0));
    }

    #[test]
    fn null_alarm_description_is_not_an_error() {
        let a = only_alarm("sns-alarm-null-description.json");
        assert_eq!(a.description, None);
        assert_eq!(a.name, "orders-db FreeStorageSpace low");
        assert_eq!(a.region.as_deref(), Some("eu-central-1"));
    }

    #[test]
    fn every_record_becomes_a_notification() {
        let all = fixture("sns-alarm-multiple-records.json");
        assert_eq!(all.len(), 2);
        assert_eq!(alarm(&all[0]).name, "web-1 high CPU");
        let second = alarm(&all[1]);
        assert_eq!(second.state, "INSUFFICIENT_DATA");
        assert_eq!(
            second.region.as_deref(),
            Some("eu-west-1"),
            "no AlarmArn: long name used"
        );
    }

    #[test]
    fn metric_math_keeps_every_query() {
        let a = only_alarm("sns-alarm-metric-math.json");
        assert_eq!(a.metrics.len(), 3);
        let e1 = &a.metrics[0];
        assert_eq!(
            (e1.id.as_deref(), e1.expression.as_deref(), e1.return_data),
            (Some("e1"), Some("m1+m2"), true)
        );
        assert_eq!(a.metrics[1].name.as_deref(), Some("NetworkOut"));
        assert_eq!(a.metrics[2].dimensions[0].1, "i-0ccc3333dddd44445");
        assert_eq!(a.threshold, Some(5.0e9));
    }

    #[test]
    fn sns_composite_has_rule_and_no_metrics() {
        let a = only_alarm("sns-alarm-composite.json");
        assert_eq!(
            a.rule.as_deref(),
            Some("ALARM(CompositeDemo.FirstChild) OR ALARM(CompositeDemo.SecondChild)")
        );
        assert!(a.metrics.is_empty());
        assert_eq!(a.threshold, None);
    }

    #[test]
    fn direct_invoke_metric() {
        let a = only_alarm("direct-metric.json");
        assert_eq!(a.name, "lambda-demo-metric-alarm");
        assert_eq!(
            (a.state.as_str(), a.previous_state.as_deref()),
            ("ALARM", Some("INSUFFICIENT_DATA"))
        );
        assert_eq!(a.region.as_deref(), Some("us-east-1"));
        assert_eq!(a.account.as_deref(), Some("444455556666"));
        assert_eq!(
            a.description.as_deref(),
            Some("Metric Alarm to test Lambda actions")
        );
        assert_eq!(
            a.metrics[0].dimensions,
            vec![("InstanceId".to_owned(), "i-12345678".to_owned())]
        );
        assert_eq!(a.threshold, Some(10.0), "from reasonData");
    }

    #[test]
    fn direct_invoke_composite() {
        let a = only_alarm("direct-composite.json");
        assert_eq!(a.name, "CompositeDemo.Main");
        assert!(a.rule.is_some());
        assert_eq!(a.previous_state.as_deref(), Some("OK"));
    }

    #[test]
    fn eventbridge_state_change() {
        let a = only_alarm("eventbridge-alarm-state-change.json");
        assert_eq!(a.region.as_deref(), Some("eu-west-2"));
        assert_eq!(a.account.as_deref(), Some("123456789012"));
        assert_eq!(
            a.metrics[0].name.as_deref(),
            Some("ApproximateNumberOfMessagesVisible")
        );
    }

    #[test]
    fn plain_text_and_unknown_json_fall_back() {
        let text = fixture("sns-plain-text.json");
        let Notification::Other(o) = &text[0] else {
            panic!("{text:?}")
        };
        assert_eq!(o.subject.as_deref(), Some("Greetings"));
        assert_eq!(o.origin, "Message on SNS topic snsNetTest");
        assert!(o.body.contains("Hello"));

        let unknown = fixture("unknown-json.json");
        let Notification::Other(o) = &unknown[0] else {
            panic!("{unknown:?}")
        };
        assert_eq!(o.origin, "Unrecognised event (not a CloudWatch alarm)");
        assert!(o.body.contains("example-bucket"));

        assert!(matches!(
            &parse_str("not json")[..],
            [Notification::Other(_)]
        ));
        assert!(matches!(
            &parse_str("{\"Records\":[]}")[..],
            [Notification::Other(_)]
        ));
    }

    #[test]
    fn wrong_types_in_minor_fields_keep_the_alarm() {
        let event = serde_json::json!({
            "AlarmName": "x", "NewStateValue": "ALARM", "AWSAccountId": 123,
            "AlarmDescription": {"weird": true}, "Trigger": {"Threshold": "80", "Dimensions": "nope", "Period": null}
        });
        let [Notification::Alarm(a)] = &parse_value(&event)[..] else {
            panic!()
        };
        assert_eq!(a.account.as_deref(), Some("123"));
        assert_eq!(a.description, None);
        assert_eq!(a.threshold, Some(80.0));
    }
}
