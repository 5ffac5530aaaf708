"""CloudWatch over Smithy RPC v2 CBOR, bridged to moto's JSON 1.0 protocol.

aws-sdk-cloudwatch 1.x sends `POST /service/GraniteServiceVersion20100801/
operation/<Op>` with a CBOR body; moto 5 speaks only Query and JSON 1.0 for
CloudWatch. We decode the CBOR, call moto with `X-Amz-Target`, and encode the
answer back as CBOR. The Rust SDK's CBOR decoder is strict (a double must be
a CBOR float, a timestamp tag 1), so the answer is shaped by botocore's
CloudWatch output model rather than by guessing from JSON types.

It also papers over moto quirks that would make relayctl's tests lie; each
hook below says which one.
"""

import base64
import datetime
import io
import json
import math
import threading

import cbor2

from . import awserrors
from .models import service_model

CBOR_HEADERS = [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
JSON_HEADERS = [("Content-Type", "application/x-amz-json-1.0")]
# DescribeAlarms' filters: moto honours only one of them at a time and
# ignores paging, so we ask moto for everything and filter here.
DESCRIBE_FILTERS = ("AlarmNames", "AlarmNamePrefix", "StateValue", "ActionPrefix", "AlarmTypes",
                    "MaxRecords", "NextToken", "ChildrenOfAlarmName", "ParentsOfAlarmName")
DESCRIBE_DEFAULT_PAGE = 50


class CborBridge:
    def __init__(self, moto_app):
        self.moto_app = moto_app
        # The quirk fixes read-modify-write moto's alarm objects.
        self._lock = threading.Lock()

    def handle(self, environ, body, req):
        """(status, headers, body) answering one CBOR request `req`."""
        try:
            params = _from_cbor(cbor2.loads(body)) if body else {}
        except Exception as exc:  # noqa: BLE001 - any decode error is the client's
            err = awserrors.AwsError(400, "SerializationException", f"fake-aws: bad CBOR body: {exc}")
            return awserrors.render("cbor", "cloudwatch", err)
        op = req.operation
        try:
            op_model = service_model("cloudwatch").operation_model(op)
        except Exception:  # noqa: BLE001 - botocore raises OperationNotFoundError
            return awserrors.render("cbor", "cloudwatch", awserrors.not_implemented("cloudwatch", op, "unknown operation"))

        result = self._run(environ, req, params if isinstance(params, dict) else {})
        if isinstance(result, awserrors.AwsError):
            return awserrors.render("cbor", "cloudwatch", result)
        status, headers, out, doc = result
        if doc is None:
            return self._error(status, headers, out)
        shaped = _to_cbor(doc, op_model.output_shape) if op_model.output_shape else {}
        payload = cbor2.dumps(shaped)
        return "200 OK", _with_request_id(CBOR_HEADERS, payload, headers), payload

    def handle_json(self, environ, body, req):
        """The same fixes for CloudWatch's JSON 1.0 protocol (boto3, the aws CLI)."""
        try:
            params = json.loads(body or b"{}")
        except ValueError as exc:
            return awserrors.render("json", "cloudwatch", awserrors.AwsError(
                400, "SerializationException", f"fake-aws: bad JSON body: {exc}"))
        result = self._run(environ, req, params if isinstance(params, dict) else {})
        if isinstance(result, awserrors.AwsError):
            return awserrors.render("json", "cloudwatch", result)
        status, headers, out, doc = result
        if doc is None:
            return status, headers, out
        payload = json.dumps(doc).encode()
        return "200 OK", _with_request_id(JSON_HEADERS, payload, headers), payload

    def _run(self, environ, req, params):
        """moto's answer with the quirk fixes applied: (status, headers, body,
        doc) with doc None when moto answered an error, or an AwsError."""
        op = req.operation
        with self._lock:
            hook = _HOOKS.get(op)
            backend = _backend(req)
            ctx = hook.before(backend, params) if hook else None
            status, headers, out = self._call_moto(environ, op, params)
            if int(status.split()[0]) >= 300:
                return status, headers, out, None
            try:
                doc = json.loads(out or b"{}")
            except ValueError:
                return awserrors.not_implemented("cloudwatch", op, f"moto answered non-JSON: {out[:200]!r}")
            if hook:
                doc = hook.after(backend, params, doc, ctx)
            if isinstance(doc, awserrors.AwsError):
                return doc
            return status, headers, out, doc

    def _call_moto(self, environ, op, params):
        data = json.dumps(params).encode()
        inner = dict(environ)
        inner.update({
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/",
            "QUERY_STRING": "",
            "CONTENT_TYPE": "application/x-amz-json-1.0",
            "CONTENT_LENGTH": str(len(data)),
            "HTTP_X_AMZ_TARGET": f"GraniteServiceVersion20100801.{op}",
            "wsgi.input": io.BytesIO(data),
        })
        inner.pop("HTTP_SMITHY_PROTOCOL", None)
        return call_wsgi(self.moto_app, inner)

    def _error(self, status, headers, out):
        try:
            doc = json.loads(out)
            err = {"__type": doc.get("__type", "InternalFailure"),
                   "message": doc.get("message") or doc.get("Message") or ""}
        except (ValueError, AttributeError):
            err = {"__type": "InternalFailure", "message": out[:500].decode("utf-8", "replace")}
        payload = cbor2.dumps(err)
        out_headers = list(CBOR_HEADERS) + [("Content-Length", str(len(payload)))]
        query_error = _header(headers, "x-amzn-query-error")
        if query_error:
            out_headers.append(("x-amzn-query-error", query_error))
        return status, out_headers, payload


def call_wsgi(app, environ):
    """Run a WSGI app to completion: (status, headers, body bytes)."""
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, headers

    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return captured["status"], captured["headers"], body


def _with_request_id(base, payload, moto_headers):
    headers = list(base) + [("Content-Length", str(len(payload)))]
    request_id = _header(moto_headers, "x-amzn-requestid")
    if request_id:
        headers.append(("x-amzn-RequestId", request_id))
    return headers


def _header(headers, name):
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _backend(req):
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[req.account][req.region]


# --- CBOR <-> JSON values -------------------------------------------------

def _from_cbor(value):
    """CBOR request values -> what moto's JSON parser expects."""
    if isinstance(value, dict):
        return {k: _from_cbor(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_cbor(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime.datetime):
        return _epoch(value)
    if isinstance(value, cbor2.CBORTag):
        return _from_cbor(value.value)
    if value is cbor2.undefined:
        return None
    return value


def _to_cbor(value, shape):
    """moto's JSON answer -> CBOR values of exactly the model's types."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for key, item in value.items():
            member = shape.members.get(key)
            if member is not None and item is not None:
                out[key] = _to_cbor(item, member)
        return out
    if kind == "list":
        return [_to_cbor(v, shape.member) for v in value]
    if kind == "map":
        return {str(k): _to_cbor(v, shape.value) for k, v in value.items()}
    if kind == "timestamp":
        return cbor2.CBORTag(1, _epoch(value))
    if kind == "blob":
        return base64.b64decode(value) if isinstance(value, str) else bytes(value)
    if kind in ("integer", "long", "short", "byte"):
        return int(value)
    if kind in ("float", "double"):
        return float(value)
    if kind == "boolean":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    return str(value)


def _epoch(value):
    """Seconds since the epoch (float) from moto's epoch numbers, ISO strings or datetimes."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:  # moto keeps naive UTC datetimes
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.timestamp()
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    try:
        return float(text)
    except ValueError:
        return _epoch(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")))


# --- moto quirks ----------------------------------------------------------

class PutMetricAlarm:
    """AWS keeps an alarm's state and tags when PutMetricAlarm updates it, and
    starts a new alarm in INSUFFICIENT_DATA; moto replaces the alarm object
    (state reset to OK) and applies the tags again."""

    @staticmethod
    def before(backend, params):
        old = backend.alarms.get(params.get("AlarmName"))
        if old is not None:
            params.pop("Tags", None)
        return old

    @staticmethod
    def after(backend, params, doc, old):
        new = backend.alarms.get(params.get("AlarmName"))
        if new is None:
            return doc
        if old is not None:
            for attr in ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp", "history"):
                setattr(new, attr, getattr(old, attr))
            new.fake_transitioned = getattr(old, "fake_transitioned", old.state_updated_timestamp)
        else:
            new.state_value = "INSUFFICIENT_DATA"
            new.fake_transitioned = new.state_updated_timestamp
        return doc


class SetAlarmState:
    """moto has no StateTransitionedTimestamp; we track when the value changed."""

    @staticmethod
    def before(backend, params):
        alarm = backend.alarms.get(params.get("AlarmName"))
        return alarm.state_value if alarm is not None else None

    @staticmethod
    def after(backend, params, doc, old_state):
        alarm = backend.alarms.get(params.get("AlarmName"))
        if alarm is not None and alarm.state_value != old_state:
            alarm.fake_transitioned = alarm.state_updated_timestamp
        return doc


class DeleteAlarms:
    """moto leaves a deleted alarm's tags behind, so a re-created alarm of the
    same name would come back with them."""

    @staticmethod
    def before(backend, params):
        names = params.get("AlarmNames") or []
        return [backend.alarms[n].alarm_arn for n in names if n in backend.alarms]

    @staticmethod
    def after(backend, params, doc, arns):
        for arn in arns:
            backend.tagger.delete_all_tags_for_resource(arn)
        return doc


class UntagResource:
    """moto answers ResourceNotFound when an existing alarm has no tags yet."""

    @staticmethod
    def before(backend, params):
        arn = params.get("ResourceARN")
        if any(a.alarm_arn == arn for a in backend.alarms.values()):
            backend.tagger.tags.setdefault(arn, {})

    @staticmethod
    def after(backend, params, doc, ctx):
        return doc


class DescribeAlarms:
    """moto applies only the first of AlarmNames/AlarmNamePrefix/StateValue/
    ActionPrefix, ignores MaxRecords/NextToken and AlarmTypes (AWS returns only
    metric alarms when AlarmTypes is absent), keeps insertion order (AWS sorts
    by name) and never reports StateTransitionedTimestamp.

    The filters and the page are worked out here from moto's alarm objects,
    and moto is asked to render only the page's alarms (by AlarmNames, the
    one filter it then sees): rendering every alarm for every page of 100
    made a 500-alarm listing spend seconds in the fake, time AWS does not
    take."""

    # An alarm name AWS cannot hold (names are printable): an empty page
    # must not leave moto with no filter, which would render every alarm.
    _NO_ALARM = "\x00fake-aws: empty page"

    @staticmethod
    def before(backend, params):
        wanted = {k: params.pop(k) for k in DESCRIBE_FILTERS if k in params}
        types = wanted.get("AlarmTypes") or ["MetricAlarm"]
        names = wanted.get("AlarmNames")
        prefix = wanted.get("AlarmNamePrefix")
        state = wanted.get("StateValue")
        action = wanted.get("ActionPrefix")

        def keep(alarm):
            kind = "MetricAlarm" if alarm.rule is None else "CompositeAlarm"
            return (kind in types
                    and (not names or alarm.name in names)
                    and (not prefix or alarm.name.startswith(prefix))
                    and (not state or alarm.state_value == state)
                    and (not action or any(a.startswith(action) for a in alarm.alarm_actions or [])))

        matching = sorted(a.name for a in backend.alarms.values() if keep(a))
        start = 0
        token = wanted.get("NextToken")
        if token:
            try:
                start = int(base64.b64decode(token).decode().removeprefix("fake-aws:"))
            except ValueError:
                params["AlarmNames"] = [DescribeAlarms._NO_ALARM]
                return {"error": awserrors.AwsError(
                    400, "InvalidNextToken",
                    "The service couldn't process your request because the NextToken was invalid.")}
        size = int(wanted.get("MaxRecords") or DESCRIBE_DEFAULT_PAGE)
        page = matching[start:start + size]
        params["AlarmNames"] = page or [DescribeAlarms._NO_ALARM]
        more = start + size < len(matching)
        return {"page": page, "next": start + size if more else None}

    @staticmethod
    def after(backend, params, doc, ctx):
        if "error" in ctx:
            return ctx["error"]
        order = {name: i for i, name in enumerate(ctx["page"])}
        result = {"MetricAlarms": [], "CompositeAlarms": []}
        for kind, key in (("MetricAlarm", "MetricAlarms"), ("CompositeAlarm", "CompositeAlarms")):
            for alarm in sorted((a for a in doc.get(key) or [] if a.get("AlarmName") in order),
                                key=lambda a: order[a["AlarmName"]]):
                if kind == "MetricAlarm":
                    live = backend.alarms.get(alarm.get("AlarmName"))
                    when = getattr(live, "fake_transitioned", None) if live is not None else None
                    if when is None or when is live.state_updated_timestamp:
                        # Same instant: reuse moto's rendering so the two compare equal.
                        transitioned = alarm.get("StateUpdatedTimestamp")
                    else:
                        transitioned = math.floor(_epoch(when) * 1000) / 1000  # AWS keeps milliseconds
                    alarm.setdefault("StateTransitionedTimestamp", transitioned)
                result[key].append(alarm)
        if ctx["next"] is not None:
            result["NextToken"] = base64.b64encode(f"fake-aws:{ctx['next']}".encode()).decode()
        return result


_HOOKS = {
    "PutMetricAlarm": PutMetricAlarm,
    "SetAlarmState": SetAlarmState,
    "DeleteAlarms": DeleteAlarms,
    "UntagResource": UntagResource,
    "DescribeAlarms": DescribeAlarms,
}
