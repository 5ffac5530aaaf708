"""Per-account log of every AWS call, in arrival order.

Tests read it over `GET /_fake/calls?account=ID` to assert, for example, that
a no-op `relayctl up` made zero write calls.
"""

import threading


class CallLog:
    def __init__(self):
        self._lock = threading.Lock()
        self._calls = {}  # account -> [entry]

    def record(self, account, service, operation, write, fault=None, caller=None):
        entry = {"account": account, "service": service, "operation": operation, "write": write}
        if fault:
            entry["fault"] = fault
        # "function": made by a function the fake runs (its role's session),
        # not by the client under test.
        if caller:
            entry["caller"] = caller
        with self._lock:
            self._calls.setdefault(account, []).append(entry)

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
