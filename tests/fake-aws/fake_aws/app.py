"""The WSGI middleware around moto's server app.

Order of work for one signed AWS call: identify it (account, service,
operation), decide faults, log it, sleep the injected latency, then answer:
an injected fault, the CBOR bridge (CloudWatch), or moto itself with the
account pinned through `x-moto-account-id`. `/_fake/*` are our control
endpoints; `/moto-api/*` and unsigned requests (moto calling itself) go
straight to moto.
"""

import json
import socket
import sys
import time
import traceback
import urllib.parse

from . import awserrors, cloudformation, ec2_instances, quirks, request_params
from .aws_rules import Rules
from .calllog import CallLog
from .chain import Chain
from .cbor_bridge import CborBridge, call_wsgi
from .faults import Faults, FaultSpecError
from .identify import identify, read_body
from .runtime_api import ROLE_SESSION
from .tagging import TaggingIndex


def configure_moto():
    # Without this, Lambda Invoke tries to start a Docker container. It is the
    # in-process form of `POST /moto-api/config {"lambda": {"use_docker": false}}`
    # and must run before the first Lambda call picks a backend.
    from moto.core.config import default_user_config

    default_user_config["lambda"] = {"use_docker": False}


class FakeAws:
    def __init__(self):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        configure_moto()
        cloudformation.install()
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.calls = CallLog()
        self.faults = Faults()
        self.bridge = CborBridge(self.moto)
        self.rules = Rules()
        self.chain = Chain()
        self.chain.install()
        self.tagging = TaggingIndex()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_fake/"):
            return self._control(environ, start_response, path)
        if path.startswith("/moto-api") or "HTTP_AUTHORIZATION" not in environ:
            return self.moto(environ, start_response)

        body = read_body(environ)
        req = identify(environ, body)
        latency, fault = self.faults.decide(req)
        entry = self.calls.record(req.account, req.service, req.operation, req.write, fault,
                                  names=_alarm_names(req, environ, body), region=req.region,
                                  name=_parameter_name(req, body),
                                  caller=_caller(environ))
        try:
            return self._serve(environ, start_response, body, req, latency, fault)
        finally:
            self.calls.finish(entry)

    def _serve(self, environ, start_response, body, req, latency, fault):
        if latency:
            time.sleep(latency)
        # moto picks the account from this header (it outranks the access key).
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = req.account

        if fault == "drop":
            return self._drop(environ)
        if fault:
            err = {
                "throttle": awserrors.throttle,
                "quota": awserrors.throttle,
                "error500": awserrors.internal,
                "iam_propagation": lambda _service: awserrors.role_not_assumable(),
            }[fault](req.service)
            return _send(start_response, *awserrors.render(req.protocol, req.service, err))

        # AWS's rules (aws_rules.py) wrap the answer: they may refuse the
        # call before moto sees it, or adjust moto's answer.
        settings = self.faults.settings(req.account)
        answer = lambda: self._answer(environ, body, req)  # noqa: E731
        return _send(start_response, *self.rules.handle(req, environ, body, settings, answer))

    def _answer(self, environ, body, req):
        """(status, headers, body) from the CBOR bridge or moto, with quirks fixed."""
        if req.service == "cloudwatch" and req.protocol in ("cbor", "json"):
            bridge = self.bridge.handle if req.protocol == "cbor" else self.bridge.handle_json
            try:
                return bridge(environ, body, req)
            except Exception as exc:  # noqa: BLE001 - answer, don't crash the server
                return self._broken(req, exc)
        if req.service == "tagging" and req.operation == "GetResources":
            return self.tagging.get_resources(req, body)
        refusal = quirks.check(req, environ, body)
        if refusal is not None:
            return awserrors.render(req.protocol, req.service, refusal)
        fast = ec2_instances.describe(req, environ, body)
        if fast is not None:
            return fast
        # After the rules: a Pending function answers ResourceConflict
        # before any code runs.
        if req.service == "lambda" and req.operation == "Invoke":
            ran = self.chain.invoke_api(req, environ, body)
            if ran is not None:
                return ran
        try:
            return call_wsgi(self.moto, environ)
        except Exception as exc:  # noqa: BLE001 - moto raises for unimplemented operations
            return self._broken(req, exc)

    def _broken(self, req, exc):
        if isinstance(exc, NotImplementedError):
            print(f"fake-aws: {req.service}.{req.operation}: {exc}", file=sys.stderr)
        else:
            traceback.print_exc(file=sys.stderr)
        detail = f"{type(exc).__name__}: {exc}"
        err = awserrors.not_implemented(req.service, req.operation, detail)
        return awserrors.render(req.protocol, req.service, err)

    @staticmethod
    def _drop(environ):
        # Close the socket without a response; the SDK must see an IO error
        # (dispatch failure). Raising ConnectionAbortedError makes werkzeug
        # treat it as a dropped connection instead of answering 500.
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise ConnectionAbortedError("fake-aws: injected drop")

    # --- /_fake control endpoints --------------------------------------------

    def _control(self, environ, start_response, path):
        method = environ.get("REQUEST_METHOD", "GET")
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        account = query.get("account", [None])[0]
        if path == "/_fake/health" and method == "GET":
            return _text(start_response, "200 OK", "ok")
        if path == "/_fake/calls" and method == "GET":
            return _json(start_response, "200 OK", self.calls.calls(account))
        if path == "/_fake/calls" and method == "DELETE":
            self.calls.reset(account)
            return _json(start_response, "200 OK", {"reset": account or "all"})
        if path == "/_fake/deliveries" and method == "GET":
            if query.get("wait", ["0"])[0] == "1":
                self.chain.wait_idle()
            return _json(start_response, "200 OK", self.chain.deliveries.entries(account))
        if path == "/_fake/deliveries" and method == "DELETE":
            self.chain.deliveries.reset(account)
            return _json(start_response, "200 OK", {"reset": account or "all"})
        if path == "/_fake/faults" and method == "POST":
            try:
                spec = json.loads(read_body(environ) or b"null")
                self.faults.install(spec)
            except (ValueError, FaultSpecError) as exc:
                return _text(start_response, "400 Bad Request", f"fake-aws: bad fault spec: {exc}")
            return _json(start_response, "200 OK", {"installed": spec["account"]})
        # The `quotas` switch of /_fake/faults by another door (quotas.py).
        if path == "/_fake/quotas" and method == "POST":
            try:
                spec = json.loads(read_body(environ) or b"null")
                if not isinstance(spec, dict) or not isinstance(spec.get("account"), str):
                    raise ValueError('body must be {"account": ID, "quotas": [...]}')
                self.faults.set_quotas(spec["account"], spec.get("quotas", []))
            except ValueError as exc:
                return _text(start_response, "400 Bad Request", f"fake-aws: bad quota spec: {exc}")
            return _json(start_response, "200 OK", {"installed": "ok"})
        if path == "/_fake/quotas" and method == "DELETE":
            self.faults.set_quotas(account, None) if account else self.faults.clear_quotas()
            return _json(start_response, "200 OK", {"cleared": account or "all"})
        if path == "/_fake/tagging" and method == "POST":
            try:
                self.tagging.hide(json.loads(read_body(environ) or b"null"))
            except ValueError as exc:
                return _text(start_response, "400 Bad Request", f"fake-aws: bad tagging spec: {exc}")
            return _json(start_response, "200 OK", {"hidden": "ok"})
        if path == "/_fake/tagging" and method == "DELETE":
            self.tagging.clear(account)
            return _json(start_response, "200 OK", {"cleared": account or "all"})
        if path == "/_fake/faults" and method == "DELETE":
            self.faults.clear(account)
            return _json(start_response, "200 OK", {"cleared": account or "all"})
        return _text(start_response, "404 Not Found",
                     f"fake-aws: no control endpoint {method} {path}; "
                     "try GET /_fake/health, GET|DELETE /_fake/calls, GET|DELETE /_fake/deliveries, "
                     "POST|DELETE /_fake/faults")


def _alarm_names(req, environ, body):
    """The alarms a CloudWatch alarm write names, for the call log."""
    if req.service != "cloudwatch" or req.operation not in ("PutMetricAlarm", "DeleteAlarms"):
        return None
    params = request_params.parse(req, environ, body) or {}
    if req.operation == "PutMetricAlarm":
        return [params["AlarmName"]] if isinstance(params.get("AlarmName"), str) else None
    names = params.get("AlarmNames")
    return list(names) if isinstance(names, list) else None


def _send(start_response, status, headers, body):
    start_response(status, headers)
    return [body]


def _text(start_response, status, text):
    body = (text + "\n").encode()
    return _send(start_response, status,
                 [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))], body)


def _json(start_response, status, doc):
    body = json.dumps(doc).encode()
    return _send(start_response, status,
                 [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body)


def _caller(environ):
    """"function" for a call a function the fake runs makes with its role's
    session: tests tell them from the client's own calls."""
    return "function" if environ.get("HTTP_X_AMZ_SECURITY_TOKEN") == ROLE_SESSION else None


def _parameter_name(req, body):
    """An SSM call's parameter, for the call log: tests tell relayctl's stack
    lock (/relayctl/{stack}/lock) from the webhook's parameter by it."""
    if req.service != "ssm":
        return None
    try:
        name = json.loads(body or b"{}").get("Name")
    except (ValueError, AttributeError):
        return None
    return name if isinstance(name, str) else None
