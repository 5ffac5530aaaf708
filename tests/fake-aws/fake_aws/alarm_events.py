"""What CloudWatch and SNS send to a function, byte for byte in shape.

- `sns_alarm_message`: the JSON CloudWatch publishes to a topic action.
- `sns_subject`: `ALARM: "name" in US East (N. Virginia)`.
- `sns_lambda_event`: the envelope SNS hands a `lambda` subscription.
- `direct_alarm_event`: what CloudWatch sends a Lambda alarm action.

Shapes from AWS's documentation and the samples in
handler/tests/fixtures/ (sns-alarm-seed-sample.json, direct-metric.json).
"""

import datetime
import functools
import json
import uuid

import botocore


def cw_time(when):
    """CloudWatch's alarm timestamps: 2017-01-12T16:30:42.236+0000."""
    when = _utc(when)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def sns_time(when):
    """SNS's timestamps: 2017-01-12T16:30:42.318Z."""
    when = _utc(when)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _utc(when):
    if when.tzinfo is None:  # moto keeps naive UTC datetimes
        return when.replace(tzinfo=datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc)


@functools.lru_cache(maxsize=None)
def _region_names():
    import os

    path = os.path.join(os.path.dirname(botocore.__file__), "data", "endpoints.json")
    with open(path) as f:
        data = json.load(f)
    return {code: r.get("description", code)
            for p in data["partitions"] for code, r in p.get("regions", {}).items()}


def region_long_name(region):
    """CloudWatch names the region by its display name ("US East (N. Virginia)")."""
    return _region_names().get(region, region)


def _trigger(alarm):
    dims = [{"value": d.value, "name": d.name} for d in alarm.dimensions]
    if alarm.metric_data_queries:
        metrics = []
        for q in alarm.metric_data_queries:
            entry = {"Id": q.id, "ReturnData": bool(q.return_data)}
            if q.expression:
                entry["Expression"] = q.expression
            if q.label:
                entry["Label"] = q.label
            if q.metric_stat:
                entry["MetricStat"] = q.metric_stat
            metrics.append(entry)
        trigger = {"Period": alarm.period, "EvaluationPeriods": alarm.evaluation_periods,
                   "Metrics": metrics}
    else:
        stat_type = "ExtendedStatistic" if alarm.extended_statistic else "Statistic"
        stat = alarm.extended_statistic or (alarm.statistic or "").upper()
        trigger = {"MetricName": alarm.metric_name, "Namespace": alarm.namespace,
                   "StatisticType": stat_type, "Statistic": stat, "Unit": alarm.unit,
                   "Dimensions": dims, "Period": alarm.period,
                   "EvaluationPeriods": alarm.evaluation_periods}
    if alarm.datapoints_to_alarm is not None:
        trigger["DatapointsToAlarm"] = alarm.datapoints_to_alarm
    trigger.update({
        "ComparisonOperator": alarm.comparison_operator,
        "Threshold": float(alarm.threshold) if alarm.threshold is not None else None,
        "TreatMissingData": alarm.treat_missing_data or "missing",
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or "",
    })
    return trigger


def sns_alarm_message(alarm, account, region, change):
    """The Message body of a topic action, as a JSON string."""
    body = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description or None,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": cw_time(alarm.configuration_updated_timestamp),
        "NewStateValue": change.new_state,
        "NewStateReason": change.new_reason,
        "StateChangeTime": cw_time(change.when),
        "Region": region_long_name(region),
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": change.old_state,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions or []),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": _trigger(alarm),
    }
    return json.dumps(body, separators=(",", ":"))


def sns_subject(alarm_name, new_state, region):
    # AWS: SNS subjects are at most 100 characters; CloudWatch cuts longer ones.
    return f'{new_state}: "{alarm_name}" in {region_long_name(region)}'[:100]


def sns_lambda_event(subscription_arn, topic_arn, message_id, message, subject, when):
    region = topic_arn.split(":")[3]
    return {"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic_arn,
            "Subject": subject,
            "Message": message,
            "Timestamp": sns_time(when),
            "SignatureVersion": "1",
            # Not a real signature: nothing in the chain verifies it.
            "Signature": "RkFLRQ==",
            "SigningCertUrl": f"https://sns.{region}.amazonaws.com/SimpleNotificationService-fake.pem",
            "UnsubscribeUrl": (f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe"
                               f"&SubscriptionArn={subscription_arn}"),
            "MessageAttributes": {},
        },
    }]}


def _state(value, reason, reason_data, when):
    state = {"value": value, "reason": reason}
    if reason_data and reason_data != "{}":
        state["reasonData"] = reason_data
    state["timestamp"] = cw_time(when)
    return state


def direct_alarm_event(alarm, account, region, change):
    config = {"description": alarm.description or ""}
    if alarm.metric_data_queries:
        config["metrics"] = [
            {k: v for k, v in {"id": q.id, "expression": q.expression, "label": q.label,
                               "metricStat": q.metric_stat, "returnData": bool(q.return_data)}.items()
             if v is not None}
            for q in alarm.metric_data_queries]
    else:
        stat = {"metric": {"namespace": alarm.namespace, "name": alarm.metric_name,
                           "dimensions": {d.name: d.value for d in alarm.dimensions}},
                "period": alarm.period, "stat": alarm.extended_statistic or alarm.statistic}
        if alarm.unit:
            stat["unit"] = alarm.unit
        config["metrics"] = [{"id": str(uuid.uuid4()), "metricStat": stat, "returnData": True}]
    return {
        "source": "aws.cloudwatch",
        "alarmArn": alarm.alarm_arn,
        "accountId": account,
        "time": cw_time(change.when),
        "region": region,
        "alarmData": {
            "alarmName": alarm.name,
            "state": _state(change.new_state, change.new_reason, change.new_reason_data, change.when),
            "previousState": _state(change.old_state, change.old_reason, change.old_reason_data,
                                    change.old_when),
            "configuration": config,
        },
    }
