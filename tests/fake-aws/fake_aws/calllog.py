"""Per-account log of every AWS call, in arrival order.

Tests read it over `GET /_fake/calls?account=ID` to assert, for example, that
a no-op `relayctl up` made zero write calls. Each entry also carries `t` and
`end` (seconds on the server's monotonic clock, when the call arrived and
when its answer was ready: benchmarks count round trips from them) and, for
CloudWatch alarm writes, `names`: the alarms it names.
"""

import threading
import time


class CallLog:
    def __init__(self):
        self._lock = threading.Lock()
        self._calls = {}  # account -> [entry]

    def record(self, account, service, operation, write, fault=None, **extra):
        """Logs the call and returns its entry (`finish` marks its end).

        `extra` adds what tests select calls by, when known: `names` (the
        alarms a CloudWatch call names), `region` (the signing region: IAM
        is global, so its calls carry the caller's region), `name` (an SSM
        call's parameter: the stack lock or the webhook's), `caller`
        ("function" for a call made by a function the fake runs, with its
        role's session, not by the client under test)."""
        entry = {"account": account, "service": service, "operation": operation, "write": write,
                 "t": time.monotonic()}
        entry.update({k: v for k, v in extra.items() if v})
        if fault:
            entry["fault"] = fault
        with self._lock:
            self._calls.setdefault(account, []).append(entry)
        return entry

    def finish(self, entry):
        with self._lock:
            entry["end"] = time.monotonic()

    def calls(self, account=None):
        with self._lock:
            if account is not None:
                return list(self._calls.get(account, []))
            return [c for calls in self._calls.values() for c in calls]

    def reset(self, account=None):
        with self._lock:
            if account is None:
                self._calls.clear()
            else:
                self._calls.pop(account, None)
