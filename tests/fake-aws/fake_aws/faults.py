"""Per-account fault and latency injection.

`POST /_fake/faults` installs, for one account:

    {"account": "111122223333", "latency_ms": 50,
     "rules": [{"kind": "throttle", "service": "sns", "operation": "CreateTopic", "nth": 2},
               {"kind": "error500", "fraction": 0.3, "seed": 7},
               {"kind": "drop", "nth": 1},
               {"kind": "iam_propagation", "count": 3}]}

Each rule counts the calls it matches (service/operation filters); `nth`
fires on the Nth match only, `count` on the first K, `fraction` with a seeded
RNG; with none of them it fires on every match. Rules are checked in order and
the first that fires wins, but every matching rule advances its own counter so
a rule's behaviour does not depend on the rules before it.

The same body may carry switches for AWS's rules (settings.py); with
`quotas` on, a call over its rate is the fault "quota" (quotas.py). A body
without `quotas` keeps the account's quotas (also those set through
`POST /_fake/quotas`, which sets only that switch).
"""

import dataclasses
import random
import threading

from .quotas import Quotas, parse_quotas
from .settings import DEFAULT, SWITCHES, Settings, SettingsError

KINDS = ("throttle", "error500", "drop", "iam_propagation")
SPEC_KEYS = ("account", "latency_ms", "rules") + SWITCHES
# Lambda only answers "role cannot be assumed" on the calls that pass a role.
IAM_PROPAGATION_OPS = ("CreateFunction", "UpdateFunctionConfiguration")


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
        self._settings = {}  # account -> Settings
        self._quotas = Quotas()

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
        unknown = set(spec) - set(SPEC_KEYS)
        if unknown:
            raise FaultSpecError(f"unknown fields {sorted(unknown)}; known: {list(SPEC_KEYS)}")
        try:
            settings = Settings.parse(spec)
        except SettingsError as exc:
            raise FaultSpecError(str(exc)) from None
        rules = spec.get("rules", [])
        if not isinstance(rules, list):
            raise FaultSpecError("rules must be a list")
        parsed = [Rule(r) for r in rules]
        with self._lock:
            if "quotas" not in spec:
                # Quotas set through /_fake/quotas outlive a new fault spec.
                kept = self._settings.get(account, DEFAULT).quotas
                settings = dataclasses.replace(settings, quotas=kept)
            self._by_account[account] = (latency, parsed)
            self._settings[account] = settings
        self._quotas.clear(account)

    def clear(self, account=None):
        with self._lock:
            if account is None:
                self._by_account.clear()
                self._settings.clear()
            else:
                self._by_account.pop(account, None)
                self._settings.pop(account, None)
        self._quotas.clear(account)

    def set_quotas(self, account, spec):
        """`POST /_fake/quotas`: the account's quotas become exactly the
        listed ones (None: none), its other switches and rules unchanged."""
        rates = None if spec is None else parse_quotas(spec)
        with self._lock:
            current = self._settings.get(account, DEFAULT)
            self._settings[account] = dataclasses.replace(current, quotas=rates)
        self._quotas.clear(account)

    def clear_quotas(self):
        """Every account's quotas off, their other switches unchanged."""
        with self._lock:
            for account, current in self._settings.items():
                self._settings[account] = dataclasses.replace(current, quotas=None)
        self._quotas.clear()

    def settings(self, account):
        """The account's switches for AWS's rules (settings.DEFAULT when none)."""
        with self._lock:
            return self._settings.get(account, DEFAULT)

    def decide(self, req):
        """(latency in seconds, kind of the fault to inject or None) for this call."""
        with self._lock:
            latency, rules = self._by_account.get(req.account, (0, []))
            chosen = None
            for rule in rules:
                if rule.matches(req) and rule.fires() and chosen is None:
                    chosen = rule.kind
            quotas = self._settings.get(req.account, DEFAULT).quotas
        if chosen is None and quotas and not self._quotas.allow(quotas, req):
            chosen = "quota"
        return latency / 1000.0, chosen
