"""Per-account fault and latency injection.

`POST /_fake/faults` installs, for one account:

    {"account": "111122223333", "latency_ms": 50,
     "rules": [{"kind": "throttle", "service": "sns", "operation": "CreateTopic", "nth": 2},
               {"kind": "error500", "fraction": 0.3, "seed": 7},
               {"kind": "drop", "nth": 1},
               {"kind": "iam_propagation", "count": 3},
               {"kind": "function_failed", "operation": "CreateFunction", "nth": 1},
               {"kind": "tags_error"}]}

Each rule counts the calls it matches (service/operation filters); `nth`
fires on the Nth match only, `count` on the first K, `fraction` with a seeded
RNG; with none of them it fires on every match. Rules are checked in order and
the first that fires wins, but every matching rule advances its own counter so
a rule's behaviour does not depend on the rules before it.

`function_failed` (Lambda CreateFunction / Update*: the write succeeds, the
function then reports State or LastUpdateStatus Failed) and `tags_error`
(GetFunction answers TagsError instead of Tags) are in lambda_states.py.
"""

import random
import threading

KINDS = ("throttle", "error500", "drop", "iam_propagation", "function_failed", "tags_error")
# Kinds that let the call through and change what it leaves behind or answers
# (lambda_states.py) instead of failing it.
STATE_KINDS = ("function_failed", "tags_error")
# Lambda only answers "role cannot be assumed" on the calls that pass a role.
IAM_PROPAGATION_OPS = ("CreateFunction", "UpdateFunctionConfiguration")
FAILABLE_OPS = ("CreateFunction", "UpdateFunctionConfiguration", "UpdateFunctionCode")


class FaultSpecError(ValueError):
    pass


class Rule:
    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise FaultSpecError(f"a rule must be an object, got {spec!r}")
        unknown = set(spec) - {"kind", "service", "operation", "nth", "count", "fraction", "seed"}
        if unknown:
            raise FaultSpecError(f"unknown rule fields {sorted(unknown)}")
        self.kind = spec.get("kind")
        if self.kind not in KINDS:
            raise FaultSpecError(f"rule kind must be one of {KINDS}, got {self.kind!r}")
        self.service = spec.get("service")
        self.operation = spec.get("operation")
        self.nth = _positive_int(spec, "nth")
        self.count = _positive_int(spec, "count")
        self.fraction = spec.get("fraction")
        if self.fraction is not None and not (isinstance(self.fraction, (int, float)) and 0 <= self.fraction <= 1):
            raise FaultSpecError(f"fraction must be a number in [0, 1], got {self.fraction!r}")
        self.rng = random.Random(spec.get("seed", 0))
        self.seen = 0

    def matches(self, req):
        if self.kind == "iam_propagation" and (req.service != "lambda" or req.operation not in IAM_PROPAGATION_OPS):
            return False
        if self.kind == "function_failed" and (req.service != "lambda" or req.operation not in FAILABLE_OPS):
            return False
        if self.kind == "tags_error" and (req.service != "lambda" or req.operation != "GetFunction"):
            return False
        if self.service and self.service != req.service:
            return False
        if self.operation and self.operation != req.operation:
            return False
        return True

    def fires(self):
        """Called once per matching call: advances the counter (and the RNG)."""
        self.seen += 1
        fire = True
        if self.nth is not None:
            fire = fire and self.seen == self.nth
        if self.count is not None:
            fire = fire and self.seen <= self.count
        if self.fraction is not None:
            fire = self.rng.random() < self.fraction and fire
        return fire


def _positive_int(spec, key):
    value = spec.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise FaultSpecError(f"{key} must be an integer >= 1, got {value!r}")
    return value


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self._by_account = {}  # account -> (latency_ms, [Rule])

    def install(self, spec):
        """Replace the account's faults with `spec` (raises FaultSpecError)."""
        if not isinstance(spec, dict):
            raise FaultSpecError("body must be a JSON object")
        account = spec.get("account")
        if not isinstance(account, str) or not account:
            raise FaultSpecError("`account` (string) is required")
        latency = spec.get("latency_ms", 0)
        if not isinstance(latency, (int, float)) or latency < 0:
            raise FaultSpecError(f"latency_ms must be a number >= 0, got {latency!r}")
        rules = spec.get("rules", [])
        if not isinstance(rules, list):
            raise FaultSpecError("rules must be a list")
        parsed = [Rule(r) for r in rules]
        with self._lock:
            self._by_account[account] = (latency, parsed)

    def clear(self, account=None):
        with self._lock:
            if account is None:
                self._by_account.clear()
            else:
                self._by_account.pop(account, None)

    def decide(self, req):
        """(latency in seconds, kind of the fault to inject or None) for this call."""
        with self._lock:
            latency, rules = self._by_account.get(req.account, (0, []))
            chosen = None
            for rule in rules:
                if rule.matches(req) and rule.fires() and chosen is None:
                    chosen = rule.kind
        return latency / 1000.0, chosen
