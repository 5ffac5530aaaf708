"""Who is calling which operation of which service, read from a WSGI environ.

Everything comes from what a real SDK sends: the SigV4 credential scope
(access key id, region, signing name), then per protocol the operation name:
the CBOR path, `X-Amz-Target`, the Query `Action`, or for REST services
(Lambda) the method and path matched against botocore's model.
"""

import functools
import io
import re
import urllib.parse
from dataclasses import dataclass

from . import DEFAULT_ACCOUNT
from .models import service_model

# SigV4 signing name -> the name the call log uses (also botocore's model name).
SERVICES = {
    "iam": "iam",
    "sns": "sns",
    "lambda": "lambda",
    "logs": "logs",
    "monitoring": "cloudwatch",
    "cloudwatch": "cloudwatch",
    "sts": "sts",
}

CBOR_PATH = re.compile(r"^/service/(?P<target>[^/]+)/operation/(?P<op>[^/]+)/?$")
CREDENTIAL = re.compile(
    r"Credential=(?P<akid>[^/,\s]+)/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request"
)
TWELVE_DIGITS = re.compile(r"^\d{12}$")
# Logs' FilterLogEvents reads too (relayctl test polls it), and S3's
# HeadObject (relayctl export checks for its code object).
READ_PREFIXES = ("Get", "List", "Describe", "Filter", "Head")


@dataclass
class Request:
    account: str
    service: str
    operation: str
    protocol: str  # query | json | rest-json | cbor | unknown
    region: str
    signed: bool

    @property
    def write(self) -> bool:
        # Invoke, Publish, Set*, Tag* ... all change something (or cost money).
        return not self.operation.startswith(READ_PREFIXES)


def read_body(environ) -> bytes:
    """The whole request body; a fresh stream is put back so moto can read it too."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()  # chunked upload, werkzeug has de-chunked it
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def identify(environ, body: bytes) -> Request:
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = CREDENTIAL.search(auth)
    if match:
        akid, region, signing = match["akid"], match["region"], match["service"]
        signed = True
    else:
        akid, region, signing, signed = "", "us-east-1", "", False
    account = akid if TWELVE_DIGITS.match(akid) else DEFAULT_ACCOUNT
    service = SERVICES.get(signing, signing or "unknown")
    path = environ.get("PATH_INFO", "")
    method = environ.get("REQUEST_METHOD", "GET")

    cbor = CBOR_PATH.match(path)
    if cbor:
        return Request(account, service, cbor["op"], "cbor", region, signed)
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return Request(account, service, target.rsplit(".", 1)[-1], "json", region, signed)
    action = _query_action(environ, body)
    if action:
        return Request(account, service, action, "query", region, signed)
    op = _rest_operation(service, method, path)
    if op:
        return Request(account, service, op, "rest-json", region, signed)
    return Request(account, service, f"Unknown({method} {path})", "unknown", region, signed)


def _query_action(environ, body: bytes):
    params = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        params.update(urllib.parse.parse_qs(body.decode("utf-8", "replace")))
    values = params.get("Action")
    return values[0] if values else None


def _rest_operation(service: str, method: str, path: str):
    try:
        routes = _rest_routes(service)
    except Exception:  # not a service botocore knows
        return None
    path = path.rstrip("/") or "/"
    for _, route_method, pattern, name in routes:
        if route_method == method and pattern.match(path):
            return name
    return None


@functools.lru_cache(maxsize=None)
def _rest_routes(service: str):
    """(literal length, method, regex, operation) for every operation, most specific first."""
    model = service_model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http.get("requestUri", "/").split("?")[0].rstrip("/") or "/"
        parts = re.split(r"(\{[^}]+\})", uri)
        regex = "".join(
            (".+" if p.endswith("+}") else "[^/]+") if p.startswith("{") else re.escape(p)
            for p in parts
        )
        literal = sum(len(p) for p in parts if not p.startswith("{"))
        routes.append((literal, http.get("method", "POST"), re.compile(f"^{regex}$"), name))
    routes.sort(key=lambda r: -r[0])
    return routes
