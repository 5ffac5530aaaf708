"""A function's output into CloudWatch Logs, as Lambda delivers it.

AWS: Lambda writes to `/aws/lambda/{function}`, one stream per execution
environment named `YYYY/MM/DD/[$LATEST]<32 hex>`, using the function's
execution role: without logs:CreateLogStream and logs:PutLogEvents on the
group the output is dropped, and a missing group is created only when the
role also allows logs:CreateLogGroup; otherwise the logs are lost, silently.
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html
"""

import datetime
import threading
import time
import uuid

from .policy_eval import identity_allows, role_documents

TAIL_BYTES = 4096  # AWS: Invoke's LogType=Tail returns the last 4 KB


def stream_name(version="$LATEST"):
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y/%m/%d")
    return f"{day}/[{version}]{uuid.uuid4().hex}"


class InvocationLog:
    """Where one invocation's lines go: CloudWatch Logs when the role allows
    it (else nowhere), plus a tail kept for Invoke's LogType=Tail."""

    def __init__(self, spec, stream, lost_reason, on_lost):
        self.spec = spec
        self.stream = stream
        self.lost_reason = lost_reason
        self._on_lost = on_lost
        self._tail = []
        self._lock = threading.Lock()

    def line(self, text):
        text = text.rstrip("\n")
        with self._lock:
            self._tail.append(text)
            if self.lost_reason is None:
                self._put(text)

    def tail(self):
        with self._lock:
            data = ("\n".join(self._tail) + "\n").encode("utf-8", "replace")
        return data[-TAIL_BYTES:]

    def _put(self, text):
        from moto.logs.models import logs_backends

        backend = logs_backends[self.spec.account][self.spec.region]
        event = {"timestamp": int(time.time() * 1000), "message": text}
        try:
            backend.ensure_log_stream(self.spec.log_group, self.stream)
            backend.put_log_events(self.spec.log_group, self.stream, [event])
        except Exception as exc:  # noqa: BLE001 - the group was deleted meanwhile
            self.lost_reason = f"log group {self.spec.log_group} is gone ({type(exc).__name__})"
            self._on_lost(self.lost_reason)


def open_log(spec, stream, on_lost):
    """An InvocationLog for `spec`'s next invocation, deciding once whether
    its lines reach CloudWatch Logs (and creating the group if Lambda would)."""
    from moto.logs.models import logs_backends

    backend = logs_backends[spec.account][spec.region]
    arn = f"arn:{spec.partition}:logs:{spec.region}:{spec.account}:log-group:{spec.log_group}"
    stream_arn = f"{arn}:log-stream:{stream}"
    docs = role_documents(spec.account, spec.role)
    reason = None
    if docs is None:
        reason = f"the execution role {spec.role} does not exist"
    elif spec.log_group not in backend.groups:
        if identity_allows(docs, "logs:CreateLogGroup", arn):
            backend.create_log_group(spec.log_group, {})
        else:
            reason = (f"log group {spec.log_group} does not exist and the role may not "
                      "logs:CreateLogGroup it")
    if reason is None:
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            # AWS: both are authorised against the stream's ARN
            # (arn:...:log-group:NAME:log-stream:STREAM), so `NAME:*` covers them.
            if not identity_allows(docs, action, stream_arn):
                reason = f"the role {spec.role} does not allow {action} on {stream_arn}"
                break
    log = InvocationLog(spec, stream, reason, on_lost)
    if reason is not None:
        on_lost(reason)
    return log
