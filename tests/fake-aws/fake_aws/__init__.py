"""Local fake AWS for relayctl's tests: moto plus a small WSGI middleware.

The middleware (app.py) adds what moto lacks: CloudWatch over Smithy RPC v2
CBOR (cbor_bridge.py), a per-account call log (calllog.py), fault and latency
injection (faults.py) and per-account isolation keyed on the access key id
(identify.py).
"""

DEFAULT_ACCOUNT = "123456789012"
