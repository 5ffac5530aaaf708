"""A request's parameters as botocore's input shape names them, per protocol.

The rules (validation.py, tag_rules.py, lambda_states.py) look at what the
caller asked for, not at wire details: CBOR and JSON bodies are decoded;
Lambda's REST members are gathered from the path, query string, headers and
JSON body by the model's `location`; Query (IAM, SNS, STS) parameters are
un-flattened by the model (`Tags.member.1.Key`, `Attributes.entry.1.key`)
with their scalar types restored. EC2's own protocol is Query with its
lists always flattened (`Filter.1.Value.1`) and members named by their
`queryName`, else their capitalised `locationName`. Returns None when the request cannot be
mapped (an operation botocore does not know, an undecodable body).
"""

import json
import re
import urllib.parse

import cbor2

from .models import service_model


def operation_model(req):
    try:
        return service_model(req.service).operation_model(req.operation)
    except Exception:  # noqa: BLE001 - unknown service or operation
        return None


def parse(req, environ, body):
    op = operation_model(req)
    if op is None or op.input_shape is None:
        return None
    try:
        if req.protocol == "cbor":
            return _plain(cbor2.loads(body)) if body else {}
        if req.protocol == "json":
            return json.loads(body or b"{}")
        if req.protocol == "rest-json":
            return _rest_json(op, environ, body)
        if req.protocol == "query":
            pairs = urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
                pairs += urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            flat = {k: v for k, v in pairs if k not in ("Action", "Version")}
            ec2 = op.metadata.get("protocol") == "ec2"
            return _query_struct(op.input_shape, flat, "", ec2)
    except (ValueError, UnicodeDecodeError, cbor2.CBORDecodeError):
        return None
    return None


def _plain(value):
    """CBOR values as botocore's validator expects them (tags unwrapped)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, cbor2.CBORTag):
        return _plain(value.value)
    return value


def _rest_json(op, environ, body):
    shape = op.input_shape
    params = json.loads(body) if body and shape.serialization.get("payload") is None else {}
    if not isinstance(params, dict):
        raise ValueError("JSON body is not an object")
    uri = op.http.get("requestUri", "/").split("?")[0]
    names = re.findall(r"\{([^}+]+)\+?\}", uri)
    # A greedy label (`{Key+}`, S3's object key) spans slashes; AWS:
    # https://smithy.io/2.0/spec/http-bindings.html#greedy-labels
    parts = re.split(r"(\{[^}]+\})", uri)
    regex = "".join(
        ("(.+)" if p.endswith("+}") else "([^/]+)") if p.startswith("{") else re.escape(p)
        for p in parts
    )
    match = re.match(f"^{regex}/?$", environ.get("PATH_INFO", ""))
    uri_values = dict(zip(names, match.groups())) if match else {}
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    for member, mshape in shape.members.items():
        where = mshape.serialization.get("location")
        wire = mshape.serialization.get("name", member)
        if where == "uri" and wire in uri_values:
            params[member] = urllib.parse.unquote(uri_values[wire])
        elif where == "querystring" and wire in query:
            values = query[wire]
            params[member] = values if mshape.type_name == "list" else _scalar(mshape, values[0])
        elif where == "header":
            value = environ.get("HTTP_" + wire.upper().replace("-", "_"))
            if value is not None:
                params[member] = _scalar(mshape, value)
    return params


def _query_struct(shape, flat, prefix, ec2=False):
    out = {}
    for member, mshape in shape.members.items():
        key = prefix + _wire_name(member, mshape, ec2)
        value = _query_value(mshape, flat, key, ec2)
        if value is not None:
            out[member] = value
    return out


def _wire_name(member, mshape, ec2):
    """The member's name on the wire (botocore's serializers)."""
    ser = mshape.serialization
    if ec2:
        if "queryName" in ser:
            return ser["queryName"]
        name = ser.get("name", member)
        return name[0].upper() + name[1:]
    return ser.get("name", member)


def _query_value(shape, flat, key, ec2=False):
    kind = shape.type_name
    if kind == "structure":
        if not any(k.startswith(key + ".") for k in flat):
            return None
        return _query_struct(shape, flat, key + ".", ec2)
    if kind == "list":
        # awsQuery lists: Key.member.N (flattened lists and EC2's: Key.N)
        base = key if ec2 or shape.serialization.get("flattened") else key + ".member"
        if key in flat and flat[key] == "":
            return []  # an explicitly empty list
        items, i = [], 1
        while any(k == f"{base}.{i}" or k.startswith(f"{base}.{i}.") for k in flat):
            items.append(_query_value(shape.member, flat, f"{base}.{i}", ec2))
            i += 1
        return items if items else None
    if kind == "map":
        base = key if shape.serialization.get("flattened") else key + ".entry"
        kname = shape.key.serialization.get("name", "key")
        vname = shape.value.serialization.get("name", "value")
        out, i = {}, 1
        while f"{base}.{i}.{kname}" in flat:
            out[flat[f"{base}.{i}.{kname}"]] = _query_value(shape.value, flat, f"{base}.{i}.{vname}")
            i += 1
        return out if out else None
    if key not in flat:
        return None
    return _scalar(shape, flat[key])


def _scalar(shape, text):
    """A wire string as the member's type; left a string when it does not parse
    (the validator then reports the wrong type, naming the member)."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long", "short", "byte"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
    except ValueError:
        return text
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower(), text)
    return text
