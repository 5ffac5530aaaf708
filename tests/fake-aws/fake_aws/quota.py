"""Per-operation request-rate quotas, as AWS enforces them: a token bucket
per account and (service, operation); a call that finds it empty is
throttled (the service's own ThrottlingException, logged with fault
"throttle").

`POST /_fake/quotas {"account": ID, "quotas": [{"service": "cloudwatch",
"operation": "PutMetricAlarm", "rate": 20, "burst": 20}]}` replaces the
account's quotas (burst defaults to rate: a second's worth, like AWS);
`DELETE /_fake/quotas?account=ID` removes them. Off unless installed.
"""

import threading
import time


class Quotas:
    def __init__(self):
        self._lock = threading.Lock()
        self._buckets = {}  # account -> {(service, operation): [rate, burst, tokens, last]}

    def install(self, spec):
        if not isinstance(spec, dict) or not isinstance(spec.get("account"), str):
            raise ValueError('body must be {"account": ID, "quotas": [...]}')
        buckets = {}
        for q in spec.get("quotas", []):
            rate, burst = q.get("rate"), q.get("burst", q.get("rate"))
            if not all(isinstance(q.get(k), str) for k in ("service", "operation")):
                raise ValueError(f"quota needs service and operation: {q!r}")
            if not isinstance(rate, (int, float)) or rate <= 0 or not isinstance(burst, (int, float)) or burst < 1:
                raise ValueError(f"rate must be > 0 and burst >= 1: {q!r}")
            buckets[(q["service"], q["operation"])] = [float(rate), float(burst), float(burst), time.monotonic()]
        with self._lock:
            self._buckets[spec["account"]] = buckets

    def clear(self, account=None):
        with self._lock:
            if account is None:
                self._buckets.clear()
            else:
                self._buckets.pop(account, None)

    def admit(self, req):
        """False when this call exceeds its operation's quota."""
        with self._lock:
            bucket = self._buckets.get(req.account, {}).get((req.service, req.operation))
            if bucket is None:
                return True
            rate, burst, tokens, last = bucket
            now = time.monotonic()
            tokens = min(burst, tokens + (now - last) * rate)
            admitted = tokens >= 1
            bucket[2] = tokens - 1 if admitted else tokens
            bucket[3] = now
            return admitted
