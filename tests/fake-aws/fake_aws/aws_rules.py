"""AWS's rules that moto does not enforce, around each call to moto.

One entry point, `Rules.handle`, wraps the call: the request is parsed once
(request_params.py), checked against its model (validation.py) and the tag
rules (tag_rules.py), then the stateful rules run under a per-account lock
so check-then-act is atomic (two concurrent AddPermission with one Sid, two
CreateRole of one name... never both succeed), moto answers, and its answer
is adjusted (Lambda states, GetFunction's TagsError, FilterLogEvents' delay).
Every rule's switch is per account (settings.py).
"""

import json
import threading
import time
import urllib.parse
from contextlib import nullcontext

from . import lambda_states, request_params, tag_rules, validation
from .awserrors import AwsError, render

# AWS: "The maximum size of a function's resource-based policy is 20 KB"
# (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html);
# AddPermission then answers PolicyLengthExceededException.
LAMBDA_POLICY_MAX_BYTES = 20480

# Operations whose outcome depends on what exists: run one at a time per
# account. Long-running calls (Invoke, Publish, alarm state changes that
# fire actions) stay out so they never hold the lock.
ATOMIC = {
    "iam": {"CreateRole", "DeleteRole", "DeleteRolePolicy", "PutRolePolicy", "TagRole"},
    "lambda": {"CreateFunction", "DeleteFunction", "AddPermission", "RemovePermission",
               "UpdateFunctionConfiguration", "UpdateFunctionCode", "TagResource", "UntagResource"},
    "logs": {"CreateLogGroup", "DeleteLogGroup", "TagResource", "TagLogGroup"},
    "sns": {"CreateTopic", "DeleteTopic", "TagResource", "Subscribe"},
    "cloudwatch": {"PutMetricAlarm", "DeleteAlarms", "TagResource"},
    # relayctl's stack lock is PutParameter Overwrite=false: AWS creates the
    # parameter or answers ParameterAlreadyExists, never both for two callers
    # (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html).
    # moto checks for an existing version, then appends one: not atomic alone.
    "ssm": {"PutParameter", "DeleteParameter", "DeleteParameters", "AddTagsToResource",
            "RemoveTagsFromResource"},
}


class Rules:
    def __init__(self):
        self.lambda_states = lambda_states.LambdaStates()
        self._guard = threading.Lock()
        self._account_locks = {}  # account -> Lock
        self._role_conflicts = {}  # (account, role) -> DeleteRole refusals left

    def handle(self, req, environ, body, settings, answer):
        """(status, headers, body): `answer()` (moto) unless a rule refuses the call."""
        params = request_params.parse(req, environ, body)
        if settings.validation and params is not None:
            op_model = request_params.operation_model(req)
            refusal = validation.check(req.service, op_model, params)
            if refusal is not None:
                return render(req.protocol, req.service, refusal)
        atomic = req.operation in ATOMIC.get(req.service, ())
        with self._lock_for(req.account) if atomic else nullcontext():
            refusal = self._before(req, params, settings)
            if refusal is not None:
                return render(req.protocol, req.service, refusal)
            status, headers, out = answer()
            if not status.startswith("2"):
                return status, headers, out
            refusal = self._after_write(req, params, settings)
            if refusal is not None:
                return render(req.protocol, req.service, refusal)
            return self._adjust(req, params, settings, status, headers, out)

    def _lock_for(self, account):
        with self._guard:
            return self._account_locks.setdefault(account, threading.Lock())

    # --- refusals before moto runs ------------------------------------------

    def _before(self, req, params, settings):
        params = params if isinstance(params, dict) else {}
        if settings.validation:
            refusal = tag_rules.check(req, params)
            if refusal is not None:
                return refusal
        if req.service == "lambda":
            if req.operation == "ListTags" and settings.lambda_list_tags_denied:
                return _list_tags_denied(req, params.get("Resource", ""))
            return self.lambda_states.refusal(req, params)
        if req.service == "iam" and req.operation == "DeleteRole":
            return self._delete_role_conflict(req, params.get("RoleName"))
        if req.service == "iam" and req.operation == "PutRolePolicy":
            return _role_policy_quota(req, params)
        if req.service == "cloudwatch" and req.operation == "DeleteAlarms":
            return _missing_alarms(req, params.get("AlarmNames") or [])
        return None

    def _delete_role_conflict(self, req, role):
        key = (req.account, role)
        with self._guard:
            left = self._role_conflicts.get(key, 0)
            if not left:
                return None
            self._role_conflicts[key] = left - 1
        # AWS: IAM is eventually consistent; right after DeleteRolePolicy,
        # DeleteRole may still see the policy
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
        return AwsError(409, "DeleteConflict", "Cannot delete entity, must delete policies first.")

    # --- after moto succeeded -------------------------------------------------

    def _after_write(self, req, params, settings):
        """Rules that need moto's new state; may undo the call and refuse it."""
        params = params if isinstance(params, dict) else {}
        if req.service == "iam" and req.operation == "DeleteRolePolicy" and settings.iam_delete_conflicts:
            with self._guard:
                self._role_conflicts[(req.account, params.get("RoleName"))] = settings.iam_delete_conflicts
        if req.service == "lambda" and req.operation == "AddPermission":
            return _cap_policy(req, params)
        return None

    def _adjust(self, req, params, settings, status, headers, out):
        if req.service == "lambda" and req.operation in (
                "CreateFunction", "DeleteFunction", *lambda_states.READS, *lambda_states.UPDATES):
            def show(doc):
                doc = self.lambda_states.after(req, params, settings, doc)
                if req.operation == "GetFunction" and settings.lambda_list_tags_denied:
                    _without_tags(req, doc)
                return doc
            return _rewrite_json(status, headers, out, show)
        if req.service == "logs" and req.operation == "FilterLogEvents" and settings.log_delay_ms:
            return _rewrite_json(status, headers, out, lambda doc: _hide_recent(doc, settings.log_delay_ms))
        return status, headers, out


def _rewrite_json(status, headers, out, change):
    if not out:
        change(None)
        return status, headers, out
    try:
        doc = json.loads(out)
    except ValueError:
        return status, headers, out
    body = json.dumps(change(doc)).encode()
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    return status, headers, body


def _list_tags_denied(req, resource):
    return AwsError(403, "AccessDeniedException",
                    f"User: arn:aws:iam::{req.account}:user/fake-aws is not authorized to perform: "
                    f"lambda:ListTags on resource: {resource} because no identity-based policy allows "
                    "the lambda:ListTags action")


def _without_tags(req, doc):
    """AWS: GetFunction leaves out Tags and says why in TagsError when the
    caller may not call lambda:ListTags
    (https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html#API_GetFunction_ResponseSyntax)."""
    doc.pop("Tags", None)
    arn = (doc.get("Configuration") or {}).get("FunctionArn", "")
    err = _list_tags_denied(req, arn)
    doc["TagsError"] = {"ErrorCode": err.code, "Message": err.message}


def _hide_recent(doc, delay_ms):
    """AWS: a log event is searchable by FilterLogEvents only some seconds
    after PutLogEvents accepted it (ingestion is asynchronous;
    https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html)."""
    cutoff = time.time() * 1000 - delay_ms
    doc["events"] = [e for e in doc.get("events") or [] if e.get("ingestionTime", 0) <= cutoff]
    return doc


def _missing_alarms(req, names):
    from moto.cloudwatch.models import cloudwatch_backends

    alarms = cloudwatch_backends[req.account][req.region].alarms
    missing = [n for n in names if n not in alarms]
    if not missing:
        return None
    # AWS: DeleteAlarms answers ResourceNotFound when a named alarm does not
    # exist (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteAlarms.html).
    return AwsError(404, "ResourceNotFound", f"{len(missing)} of the alarms in the request were not found: "
                    + ", ".join(missing), query_code="ResourceNotFound")


# AWS: "the total aggregate policy size (the sum size of all inline
# policies) per entity cannot exceed ... Role policy size cannot exceed
# 10,240 characters", white space not counted
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
# moto reports the quota (GetAccountSummary) but never enforces it; with one
# inline policy per region on a shared role, relayctl can reach it.
ROLE_INLINE_POLICY_MAX_CHARS = 10240


def _role_policy_quota(req, params):
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    role_name, name = params.get("RoleName"), params.get("PolicyName")
    try:
        role = iam_backends[req.account][get_partition(req.region)].get_role(role_name)
    except Exception:  # noqa: BLE001 - no such role: moto answers NoSuchEntity
        return None
    docs = [doc for policy, doc in role.policies.items() if policy != name]
    docs.append(params.get("PolicyDocument") or "")
    size = sum(len("".join(urllib.parse.unquote(d).split())) for d in docs)
    if size <= ROLE_INLINE_POLICY_MAX_CHARS:
        return None
    return AwsError(409, "LimitExceeded",
                    f"Maximum policy size of {ROLE_INLINE_POLICY_MAX_CHARS} bytes exceeded for role {role_name}")


def _cap_policy(req, params):
    from moto.awslambda.utils import get_backend

    name = lambda_states.function_name(params.get("FunctionName"))
    fn = get_backend(req.account, req.region).get_function(name, params.get("Qualifier"))
    size = len(fn.policy.wire_format().encode())
    if size <= LAMBDA_POLICY_MAX_BYTES:
        return None
    fn.policy.del_statement(params.get("StatementId"))
    return AwsError(400, "PolicyLengthExceededException",
                    f"The final policy size ({size}) is bigger than the limit ({LAMBDA_POLICY_MAX_BYTES}).")
