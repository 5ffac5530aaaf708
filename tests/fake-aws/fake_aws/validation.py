"""Every request checked against its operation's model, as AWS's front door does.

botocore's ParamValidator checks required members, types and minimums (it
leaves maximums to the service); the walker here adds what it skips: maximum
lengths and values, list sizes, enums and patterns. Patterns are the models'
Java regexes (`\\p{L}`...), compiled with the `regex` module and matched
whole, as Java's `matches()` does. Members the model does not know are let
through: an SDK newer than this botocore may send them, and AWS ignores them.

AWS: a constraint violation is answered before the operation runs, with
"N validation error(s) detected: Value 'x' at 'member' failed to satisfy
constraint: ..." naming each member in lowerCamelCase; the code is the
service's own (IAM/SNS/STS ValidationError, Lambda ValidationException,
Logs InvalidParameterException, CloudWatch ValidationError). See e.g.
https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html and
https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html#API_CreateFunction_Errors
"""

import functools
import re

import regex
from botocore.validate import ParamValidator

from .awserrors import AwsError

MAX_REPORTED = 10


def check(service, op_model, params):
    """An AwsError naming each violated constraint, or None."""
    problems = []
    errors = ParamValidator().validate(params, op_model.input_shape)
    # botocore keeps what it found in `_errors`: (kind, path, details).
    for kind, path, info in errors._errors:
        if kind == "unknown field":
            continue
        problems.append(_describe_botocore(kind, path, info))
    _walk(op_model.input_shape, params, "", problems)
    if not problems:
        return None
    return error(service, problems)


def error(service, problems):
    shown = problems[:MAX_REPORTED]
    count = len(problems)
    noun = "validation error" if count == 1 else "validation errors"
    message = f"{count} {noun} detected: " + "; ".join(shown)
    code = {"lambda": "ValidationException", "logs": "InvalidParameterException",
            "ec2": "InvalidParameterValue"}.get(service, "ValidationError")
    return AwsError(400, code, message, query_code="ValidationError" if service == "cloudwatch" else None)


def _walk(shape, value, path, problems):
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure" and isinstance(value, dict):
        for name, item in value.items():
            member = shape.members.get(name)
            if member is not None and item is not None:
                _walk(member, item, _join(path, name), problems)
    elif kind == "list" and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            problems.append(_at(path, value, f"Member must have length less than or equal to {meta['max']}"))
        for i, item in enumerate(value, 1):
            if item is not None:
                _walk(shape.member, item, f"{path}.{i}.member", problems)
    elif kind == "map" and isinstance(value, dict):
        if "max" in meta and len(value) > meta["max"]:
            problems.append(_at(path, value, f"Member must have length less than or equal to {meta['max']}"))
        for key, item in value.items():
            _walk(shape.key, key, f"{path}.key", problems)
            if item is not None:
                _walk(shape.value, item, f"{path}.value", problems)
    elif kind == "string" and isinstance(value, str):
        if "max" in meta and len(value) > meta["max"]:
            problems.append(_at(path, value, f"Member must have length less than or equal to {meta['max']}"))
        if shape.enum and value not in shape.enum:
            problems.append(_at(path, value, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"))
        pattern = meta.get("pattern")
        if pattern and not _compiled(pattern).fullmatch(value):
            problems.append(_at(path, value, f"Member must satisfy regular expression pattern: {pattern}"))
    elif kind in ("integer", "long", "float", "double") and isinstance(value, (int, float)) \
            and not isinstance(value, bool):
        if "max" in meta and value > meta["max"]:
            problems.append(_at(path, value, f"Member must have value less than or equal to {meta['max']}"))


@functools.lru_cache(maxsize=None)
def _compiled(pattern):
    return regex.compile(pattern)


def _join(path, member):
    name = member[:1].lower() + member[1:]
    return f"{path}.{name}" if path else name


def _at(path, value, constraint):
    shown = "null" if value is None else f"'{_short(value)}'"
    return f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"


def _short(value):
    text = str(value)
    return text if len(text) <= 100 else text[:100] + "..."


# botocore's path: ".Tags[0].Key" or ".Attributes (key: k)"
_BOTO_PART = re.compile(r"\.(\w+)|\[(\d+)\]|\s\(key: [^)]*\)")


def _aws_path(boto_path):
    out = ""
    for member, index in _BOTO_PART.findall(boto_path or ""):
        if member:
            out = _join(out, member)
        elif index:
            out = f"{out}.{int(index) + 1}.member"
    return out


def _describe_botocore(kind, path, info):
    where = _aws_path(path)
    if kind == "missing required field":
        return _at(_join(where, info["required_name"]), None, "Member must not be null")
    if kind == "invalid length":
        return _at(where, info.get("param"), f"Member must have length greater than or equal to {info['min_allowed']}")
    if kind == "invalid range":
        return _at(where, info.get("param"), f"Member must have value greater than or equal to {info['min_allowed']}")
    if kind == "invalid type":
        return _at(where, info.get("param"), f"Member must be one of the types {', '.join(info['valid_types'])}")
    return f"{kind} at '{where}'"
