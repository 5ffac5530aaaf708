"""botocore's service models, loaded once.

They tell us what the SDKs really send and expect: which REST path is which
Lambda operation, and which CloudWatch members are timestamps, doubles or
integers (the Rust SDK's CBOR decoder refuses a wrong CBOR type).
"""

import functools
import threading

import botocore.session

_lock = threading.Lock()
_session = None


@functools.lru_cache(maxsize=None)
def service_model(name: str):
    """The botocore ServiceModel for `name` (botocore's name: 'cloudwatch', 'lambda'...)."""
    global _session
    with _lock:
        if _session is None:
            _session = botocore.session.get_session()
        return _session.get_service_model(name)
