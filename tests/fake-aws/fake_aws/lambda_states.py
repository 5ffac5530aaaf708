"""Lambda function states: Pending after create, InProgress after each update.

AWS: a new function is `Pending` until Lambda has set it up, and each
configuration or code update leaves LastUpdateStatus `InProgress` for a
while; meanwhile writes to the function are refused with
ResourceConflictException, and a failed set-up or update ends `Failed` with
a reason code (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html,
https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConfiguration.html).
moto makes every function Active and every update Successful at once.

The fake counts reads instead of seconds, so tests stay fast and
deterministic: a function shows Pending (or InProgress) for the account's
`lambda_pending_reads` (`lambda_in_progress_reads`) GetFunction /
GetFunctionConfiguration answers, then Active/Successful, or Failed when
the account's `lambda_failed` switch says so (settings.py).
"""

import threading
from dataclasses import dataclass

from .awserrors import AwsError

# The writes the issue and AWS's docs name as refused while busy.
GUARDED = ("UpdateFunctionConfiguration", "UpdateFunctionCode", "TagResource", "AddPermission")
READS = ("GetFunction", "GetFunctionConfiguration")
UPDATES = ("UpdateFunctionConfiguration", "UpdateFunctionCode")


@dataclass
class _Function:
    pending_reads: int = 0  # reads still showing State Pending
    update_reads: int = 0  # reads still showing LastUpdateStatus InProgress
    failure: object = None  # settings.LambdaFailure to apply when the wait ends
    state_failed: object = None  # LambdaFailure once State is Failed
    update_failed: object = None  # LambdaFailure once LastUpdateStatus is Failed


def function_name(value):
    """The bare name from a name, `name:qualifier` or a function ARN."""
    if not isinstance(value, str):
        return None
    if value.startswith("arn:"):
        parts = value.split(":")
        return parts[6] if len(parts) > 6 else None
    parts = value.split(":")
    # 123456789012:function:name (partial ARN)
    return parts[2] if len(parts) >= 3 and parts[1] == "function" else parts[0]


class LambdaStates:
    def __init__(self):
        self._lock = threading.Lock()
        self._functions = {}  # (account, region, name) -> _Function

    def refusal(self, req, params):
        """ResourceConflictException while the function is Pending or InProgress."""
        if req.operation not in GUARDED or not isinstance(params, dict):
            return None
        name = function_name(params.get("Resource") if req.operation == "TagResource" else params.get("FunctionName"))
        with self._lock:
            fn = self._functions.get((req.account, req.region, name))
            if fn is None:
                return None
            if fn.pending_reads:
                return AwsError(409, "ResourceConflictException",
                                "The operation cannot be performed at this time. "
                                "The function is currently in the following state: Pending")
            if fn.update_reads:
                arn = f"arn:aws:lambda:{req.region}:{req.account}:function:{name}"
                return AwsError(409, "ResourceConflictException",
                                "The operation cannot be performed at this time. "
                                f"An update is in progress for resource: {arn}")
        return None

    def after(self, req, params, settings, doc):
        """Record a create/update/delete and show the state in `doc` (moto's answer)."""
        name = function_name((params or {}).get("FunctionName"))
        if name is None:
            return doc
        key = (req.account, req.region, name)
        with self._lock:
            if req.operation == "DeleteFunction":
                self._functions.pop(key, None)
                return doc
            fn = self._functions.setdefault(key, _Function())
            if req.operation == "CreateFunction":
                failure = settings.lambda_failed
                fn.__init__(pending_reads=settings.lambda_pending_reads,
                            failure=failure if failure and failure.on == "create" else None)
                if not fn.pending_reads:
                    self._settle(fn)
            elif req.operation in UPDATES:
                failure = settings.lambda_failed
                fn.update_reads = settings.lambda_in_progress_reads
                fn.failure = failure if failure and failure.on == "update" else None
                fn.update_failed = None
                if not fn.update_reads:
                    self._settle(fn)
            if doc is None:
                return doc
            config = doc.get("Configuration", doc) if req.operation == "GetFunction" else doc
            self._show(fn, config)
            if req.operation in READS:
                if fn.pending_reads:
                    fn.pending_reads -= 1
                elif fn.update_reads:
                    fn.update_reads -= 1
                if not fn.pending_reads and not fn.update_reads:
                    self._settle(fn)
        return doc

    @staticmethod
    def _settle(fn):
        if fn.failure is not None:
            if fn.failure.on == "create":
                fn.state_failed = fn.failure
            else:
                fn.update_failed = fn.failure
            fn.failure = None

    @staticmethod
    def _show(fn, config):
        for key in ("StateReason", "StateReasonCode", "LastUpdateStatusReason", "LastUpdateStatusReasonCode"):
            config.pop(key, None)
        if fn.pending_reads:
            config.update(State="Pending", StateReason="The function is being created.",
                          StateReasonCode="Creating", LastUpdateStatus="InProgress",
                          LastUpdateStatusReason="The function is being created.")
            return
        if fn.state_failed is not None:
            f = fn.state_failed
            config.update(State="Failed", StateReason=f.reason, StateReasonCode=f.reason_code,
                          LastUpdateStatus="Failed", LastUpdateStatusReason=f.reason,
                          LastUpdateStatusReasonCode=f.reason_code)
            return
        config["State"] = "Active"
        if fn.update_reads:
            config.update(LastUpdateStatus="InProgress", LastUpdateStatusReason="The function is being updated.")
        elif fn.update_failed is not None:
            f = fn.update_failed
            config.update(LastUpdateStatus="Failed", LastUpdateStatusReason=f.reason,
                          LastUpdateStatusReasonCode=f.reason_code)
        else:
            config["LastUpdateStatus"] = "Successful"
