"""Request-rate quotas: a token bucket per account and operation, the
fake's one quota mechanism.

Off unless an account switches them on, in either of two forms:

- the `quotas` switch of `POST /_fake/faults` (settings.py): `true` for the
  defaults below, or a map of overrides on top of them
  (`{"sns:ListTopics": 2, "lambda:*": 5}`);
- `POST /_fake/quotas {"account": ID, "quotas": [{"service": "cloudwatch",
  "operation": "PutMetricAlarm", "rate": 20, "burst": 20}]}`: exactly the
  listed quotas, no defaults (`burst` defaults to `rate`);
  `DELETE /_fake/quotas?account=ID` switches them off again.

A call over its rate is answered with the service's own throttling error
(awserrors.throttle) and logged with fault "quota". Each bucket holds
`burst` requests (one second's worth unless told), so a burst passes and
the rest wait for refill, as AWS's token buckets behave.
"""

import threading
import time

# Requests per second. "service:*" covers the rest of that service.
DEFAULTS = {
    # AWS: CloudWatch service quotas, "API requests" table
    # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html):
    # DescribeAlarms 9 TPS; PutMetricAlarm, DeleteAlarms, SetAlarmState 3 TPS.
    "cloudwatch:DescribeAlarms": 9,
    "cloudwatch:PutMetricAlarm": 3,
    "cloudwatch:DeleteAlarms": 3,
    "cloudwatch:SetAlarmState": 3,
    "cloudwatch:*": 10,  # not published per API for the tag calls; a guess
    # AWS: Lambda quotas, "API requests"
    # (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html):
    # GetFunction 100/s, GetPolicy 15/s, every other control-plane API 15/s
    # (invocations are limited by concurrency instead).
    "lambda:GetFunction": 100,
    "lambda:GetPolicy": 15,
    "lambda:Invoke": 1000,
    "lambda:*": 15,
    # AWS: CloudWatch Logs quotas
    # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html):
    # CreateLogGroup 5, DeleteLogGroup 10, DescribeLogGroups 10, FilterLogEvents 5,
    # PutRetentionPolicy 5, CreateLogStream 50, PutLogEvents 5000 TPS.
    "logs:CreateLogGroup": 5,
    "logs:DeleteLogGroup": 10,
    "logs:DescribeLogGroups": 10,
    "logs:FilterLogEvents": 5,
    "logs:PutRetentionPolicy": 5,
    "logs:CreateLogStream": 50,
    "logs:PutLogEvents": 5000,
    "logs:*": 5,
    # IAM and SNS publish no per-API control-plane rates (only "throttled
    # when too high"); these guesses are generous and overridable.
    "iam:*": 20,
    "sns:Publish": 30000,  # AWS: SNS quotas, Publish in us-east-1
    "sns:*": 30,
    "sts:*": 100,
}


def parse_quotas(value):
    """`true` -> the defaults; a map -> the defaults overridden by it;
    a list of {service, operation, rate, burst?} -> exactly those."""
    if value is True:
        return dict(DEFAULTS)
    if isinstance(value, list):
        return _from_list(value)
    if not isinstance(value, dict):
        raise ValueError(f"quotas must be true or a map of 'service:Operation' to requests/second, got {value!r}")
    rates = dict(DEFAULTS)
    for key, rate in value.items():
        if not isinstance(key, str) or ":" not in key:
            raise ValueError(f"quota key must look like 'lambda:GetFunction' or 'lambda:*', got {key!r}")
        if not _positive(rate):
            raise ValueError(f"quota for {key} must be a number > 0 (requests/second), got {rate!r}")
        rates[key] = rate
    return rates


def _from_list(quotas):
    rates = {}
    for q in quotas:
        if not isinstance(q, dict) or not all(isinstance(q.get(k), str) for k in ("service", "operation")):
            raise ValueError(f"quota needs service and operation: {q!r}")
        rate, burst = q.get("rate"), q.get("burst", q.get("rate"))
        if not _positive(rate) or not _positive(burst) or burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1: {q!r}")
        rates[f"{q['service']}:{q['operation']}"] = (rate, burst)
    return rates


def _positive(n):
    return isinstance(n, (int, float)) and not isinstance(n, bool) and n > 0


def rate_for(rates, service, operation):
    """(rate, burst) for the call, or None when no quota covers it."""
    found = rates.get(f"{service}:{operation}") or rates.get(f"{service}:*")
    if found is None or isinstance(found, tuple):
        return found
    return (found, found)  # one second's worth


class Quotas:
    def __init__(self, clock=time.monotonic):
        self._lock = threading.Lock()
        self._clock = clock
        self._buckets = {}  # (account, service, operation) -> [tokens, last refill]

    def allow(self, rates, req):
        """True when `req` fits its operation's rate (and takes a token)."""
        found = rate_for(rates, req.service, req.operation)
        if found is None:
            return True
        rate, burst = found
        key = (req.account, req.service, req.operation)
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + (now - last) * rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1, now)
            return True

    def clear(self, account=None):
        with self._lock:
            if account is None:
                self._buckets.clear()
            else:
                self._buckets = {k: v for k, v in self._buckets.items() if k[0] != account}
