"""Per-account log of what flowed (or did not flow) through the chain.

Every alarm action, SNS delivery to a function and Invoke ends up here as one
entry: what triggered it, which function, and the outcome (`invoked`,
`refused` with the reason, `failed` with the error). Tests read it over
`GET /_fake/deliveries?account=ID`, because on AWS a refused delivery is
silent (SNS and CloudWatch only count it in metrics).
"""

import threading
import time


class Deliveries:
    def __init__(self):
        self._lock = threading.Lock()
        self._by_account = {}  # account -> [entry]

    def record(self, account, **entry):
        entry = {"account": account, "time": round(time.time(), 3), **entry}
        with self._lock:
            self._by_account.setdefault(account, []).append(entry)
        return entry

    def entries(self, account=None):
        with self._lock:
            if account is not None:
                return list(self._by_account.get(account, []))
            return [e for entries in self._by_account.values() for e in entries]

    def reset(self, account=None):
        with self._lock:
            if account is None:
                self._by_account.clear()
            else:
                self._by_account.pop(account, None)
