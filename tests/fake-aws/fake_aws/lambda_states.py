"""Lambda answers moto never gives, switched on per account by fault rules
(issue 10; the fake-rules engineer's fuller versions supersede these):

- `function_failed` on CreateFunction: the call succeeds, then the function
  reports `State: Failed` (StateReasonCode InternalError) until it is deleted
  and created again. On UpdateFunctionConfiguration / UpdateFunctionCode: the
  call succeeds, then `LastUpdateStatus: Failed` until the next update that
  does not fire the rule (AWS accepts a new update after a failed one).
- `tags_error` on GetFunction: the answer carries no `Tags`, only `TagsError`,
  as AWS answers a caller without lambda:ListTags.
- the 20,480-byte resource-policy cap: AddPermission answers
  PolicyLengthExceededException when the policy would grow beyond it.
"""

import json
import re
import threading
import urllib.parse

from .awserrors import AwsError

FUNCTION_PATH = re.compile(r"^/[^/]+/functions/(?P<name>[^/]+)(?:/(?P<rest>.*))?$")
CREATE_REASON = "The function could not be created: injected failure (fake-aws function_failed)"
UPDATE_REASON = "The update could not be applied: injected failure (fake-aws function_failed)"
# AWS: "The final policy size (N) is bigger than the limit (20480)."
POLICY_LIMIT = 20480

_lock = threading.Lock()
# (account, region, function name) -> "create" | "update"
_failed = {}


def function_name(environ, body=b""):
    """The function a Lambda REST call names: its path, or CreateFunction's body."""
    match = FUNCTION_PATH.match(environ.get("PATH_INFO", ""))
    if match:
        name = urllib.parse.unquote(match["name"])
    else:
        try:
            name = json.loads(body or b"{}").get("FunctionName", "")
        except ValueError:
            return None
    # A full or partial ARN names the function after "function:".
    if ":function:" in name:
        name = name.split(":function:", 1)[1].split(":", 1)[0]
    return name or None


def after_write(req, environ, body, fault, status):
    """Remember (or forget) a failed state after a Lambda write moto accepted."""
    if req.service != "lambda" or not status.startswith("2"):
        return
    name = function_name(environ, body)
    if not name:
        return
    key = (req.account, req.region, name)
    with _lock:
        if req.operation == "DeleteFunction":
            _failed.pop(key, None)
        elif req.operation == "CreateFunction":
            if fault == "function_failed":
                _failed[key] = "create"
            else:
                _failed.pop(key, None)
        elif req.operation in ("UpdateFunctionConfiguration", "UpdateFunctionCode"):
            if fault == "function_failed":
                _failed.setdefault(key, "update")
            elif _failed.get(key) == "update":
                del _failed[key]


def rewrite_read(req, environ, fault, out):
    """GetFunction / GetFunctionConfiguration's answer with the injected state."""
    if req.service != "lambda" or req.operation not in ("GetFunction", "GetFunctionConfiguration"):
        return out
    name = function_name(environ)
    with _lock:
        failed = _failed.get((req.account, req.region, name))
    if failed is None and fault != "tags_error":
        return out
    try:
        doc = json.loads(out)
    except ValueError:
        return out
    config = doc.get("Configuration", doc) if req.operation == "GetFunction" else doc
    if failed == "create":
        config["State"] = "Failed"
        config["StateReason"] = CREATE_REASON
        config["StateReasonCode"] = "InternalError"
    elif failed == "update":
        config["LastUpdateStatus"] = "Failed"
        config["LastUpdateStatusReason"] = UPDATE_REASON
        config["LastUpdateStatusReasonCode"] = "InternalError"
    if fault == "tags_error" and req.operation == "GetFunction":
        doc.pop("Tags", None)
        doc["TagsError"] = {
            "ErrorCode": "AccessDeniedException",
            "Message": f"User: arn:aws:iam::{req.account}:user/operator is not authorized to perform: "
            f"lambda:ListTags on resource: {config.get('FunctionArn', name)} "
            "because no identity-based policy allows the lambda:ListTags action",
        }
    return json.dumps(doc).encode()


def check_policy_size(req, environ, body):
    """AddPermission beyond the 20,480-byte policy cap: AWS refuses it."""
    from moto.awslambda.utils import get_backend

    name = function_name(environ)
    try:
        statement = json.loads(body or b"{}")
        policy = get_backend(req.account, req.region).get_function(name, None).policy
    except Exception:  # noqa: BLE001 - moto answers the missing function itself
        return None
    statements = list(policy.statements)
    # The new statement as AWS stores it, approximately: the request's fields.
    statements.append({
        "Sid": statement.get("StatementId"),
        "Effect": "Allow",
        "Principal": {"Service": statement.get("Principal")},
        "Action": statement.get("Action"),
        "Resource": f"arn:aws:lambda:{req.region}:{req.account}:function:{name}",
        "Condition": {
            k: v for k, v in {
                "StringEquals": {"AWS:SourceAccount": statement["SourceAccount"]}
                if statement.get("SourceAccount") else None,
                "ArnLike": {"AWS:SourceArn": statement["SourceArn"]} if statement.get("SourceArn") else None,
            }.items() if v
        },
    })
    size = len(json.dumps({"Version": "2012-10-17", "Id": "default", "Statement": statements},
                          separators=(",", ":")))
    if size > POLICY_LIMIT:
        return AwsError(400, "PolicyLengthExceededException",
                        f"The final policy size ({size}) is bigger than the limit ({POLICY_LIMIT}).")
    return None
