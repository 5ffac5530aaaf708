"""The chain runs: alarm state change -> actions -> SNS -> Lambda -> bootstrap.

`Chain.install()` hooks two places in moto:

- `Alarm.update_state`: when the state really changes (AWS: SetAlarmState
  to the current state fires nothing) and actions are enabled, the actions of
  the new state run on a background thread, as CloudWatch runs them
  asynchronously: a topic gets CloudWatch's alarm message, a function the
  direct alarm payload.
- `Subscription.publish` for protocol `lambda`: SNS hands the function its
  event envelope, again asynchronously.
- `LambdaBackend.delete_function`: the function's execution environment
  stops with it.

A function is invoked only when its resource policy allows the calling
service (sns.amazonaws.com / lambda.alarms.cloudwatch.amazonaws.com) with the
source ARN and account of the call, as AWS evaluates it. The Invoke API runs
the same code synchronously (`invoke_api`). Everything that flows, or is
refused, is recorded in `Deliveries` for `GET /_fake/deliveries`.
"""

import atexit
import base64
import dataclasses
import datetime
import json
import os
import threading
import urllib.parse
import uuid

from . import alarm_events
from .deliveries import Deliveries
from .policy_eval import resource_policy_allows
from .runtime_api import FunctionSpec, Runner

SNS_PRINCIPAL = "sns.amazonaws.com"
ALARM_PRINCIPAL = "lambda.alarms.cloudwatch.amazonaws.com"
INVOKE_ACTION = "lambda:InvokeFunction"


@dataclasses.dataclass
class StateChange:
    old_state: str
    old_reason: str
    old_reason_data: str
    old_when: datetime.datetime
    new_state: str
    new_reason: str
    new_reason_data: str
    when: datetime.datetime


class Chain:
    def __init__(self):
        self.deliveries = Deliveries()
        self._runner = None
        self._runner_lock = threading.Lock()
        # Every delivery thread, so tests and shutdown can wait for them.
        self._pending = set()
        self._pending_lock = threading.Lock()
        # Deliveries a publish starts, held back until the publish is recorded,
        # so the log reads in causal order.
        self._held = threading.local()

    @property
    def runner(self):
        with self._runner_lock:
            if self._runner is None:
                # MOTO_PORT is set by __main__ once the server listens.
                self._runner = Runner(f"http://127.0.0.1:{os.environ.get('MOTO_PORT', '5000')}")
                atexit.register(self._runner.close)
            return self._runner

    # --- moto hooks -------------------------------------------------------

    def install(self):
        from moto.awslambda.models import LambdaBackend
        from moto.cloudwatch.models import Alarm
        from moto.sns.models import Subscription

        chain = self
        update_state = Alarm.update_state
        publish = Subscription.publish
        delete_function = LambdaBackend.delete_function

        def update_state_and_fire(alarm, reason, reason_data, state_value):
            before = (alarm.state_value, alarm.state_reason, alarm.state_reason_data,
                      alarm.state_updated_timestamp)
            update_state(alarm, reason, reason_data, state_value)
            if before[0] != alarm.state_value:
                change = StateChange(*before, alarm.state_value, alarm.state_reason,
                                     alarm.state_reason_data, alarm.state_updated_timestamp)
                chain._background(chain._fire_actions, alarm, change)

        def publish_or_invoke(sub, message, message_id, subject=None, message_attributes=None,
                              group_id=None, deduplication_id=None, message_structure=None):
            if sub.protocol != "lambda":
                return publish(sub, message, message_id, subject, message_attributes, group_id,
                               deduplication_id, message_structure)
            if sub._filter_policy_matcher is not None and \
                    not sub._filter_policy_matcher.matches(message_attributes, message):
                return None
            if message_structure == "json":
                message = sub._parse_message_structure(message, sub.protocol)
            held = getattr(chain._held, "deliveries", None)
            if held is not None:
                held.append((sub, message, message_id, subject))
            else:
                chain._background(chain._deliver_sns, sub, message, message_id, subject)
            return None

        def delete_function_and_its_environment(backend, function_name, qualifier=None):
            delete_function(backend, function_name, qualifier)
            # AWS: a deleted function's execution environments go with it; a
            # function re-created under the same name starts cold.
            name = function_name.split(":")[6] if function_name.startswith("arn:") else function_name
            with chain._runner_lock:
                runner = chain._runner
            if runner is not None:
                runner.forget(backend.account_id, backend.region_name, name)

        Alarm.update_state = update_state_and_fire
        Subscription.publish = publish_or_invoke
        LambdaBackend.delete_function = delete_function_and_its_environment

    def _background(self, fn, *args):
        def run():
            try:
                fn(*args)
            finally:
                with self._pending_lock:
                    self._pending.discard(thread)

        thread = threading.Thread(target=run, name=f"chain {fn.__name__}", daemon=True)
        with self._pending_lock:
            self._pending.add(thread)
        thread.start()

    # --- alarm actions ----------------------------------------------------

    def _fire_actions(self, alarm, change):
        account, region = alarm.alarm_arn.split(":")[4], alarm.alarm_arn.split(":")[3]
        if not alarm.actions_enabled:
            self.deliveries.record(account, source="alarm", alarm=alarm.name, state=change.new_state,
                                   outcome="skipped", reason="the alarm's actions are disabled")
            return
        actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions,
                   "INSUFFICIENT_DATA": alarm.insufficient_data_actions}.get(change.new_state) or []
        for action in actions:
            service = action.split(":")[2] if action.count(":") >= 5 else ""
            if service == "sns":
                self._alarm_to_topic(alarm, change, action, account, region)
            elif service == "lambda":
                self._alarm_to_function(alarm, change, action, account, region)
            else:
                self.deliveries.record(account, source="alarm", alarm=alarm.name, state=change.new_state,
                                       target=action, outcome="skipped",
                                       reason="fake-aws runs only SNS and Lambda alarm actions")

    def _alarm_to_topic(self, alarm, change, topic_arn, account, region):
        from moto.sns.models import sns_backends

        topic_region = topic_arn.split(":")[3]
        topic = sns_backends[topic_arn.split(":")[4]][topic_region].topics.get(topic_arn)
        if topic is None:
            self.deliveries.record(account, source="alarm", alarm=alarm.name, state=change.new_state,
                                   target=topic_arn, outcome="refused", reason="the topic does not exist")
            return
        message = alarm_events.sns_alarm_message(alarm, account, region, change)
        subject = alarm_events.sns_subject(alarm.name, change.new_state, region)
        self._held.deliveries = []
        try:
            message_id = topic.publish(message, subject=subject)
        finally:
            held, self._held.deliveries = self._held.deliveries, None
        self.deliveries.record(account, source="alarm", alarm=alarm.name, state=change.new_state,
                               target=topic_arn, outcome="published", message_id=message_id)
        for args in held:
            self._background(self._deliver_sns, *args)

    def _alarm_to_function(self, alarm, change, function_arn, account, region):
        event = alarm_events.direct_alarm_event(alarm, account, region, change)
        self._invoke_as_service(
            ALARM_PRINCIPAL, function_arn, event,
            {"aws:SourceArn": alarm.alarm_arn, "aws:SourceAccount": account},
            source="alarm", alarm=alarm.name, state=change.new_state)

    # --- SNS -> Lambda ----------------------------------------------------

    def _deliver_sns(self, sub, message, message_id, subject):
        topic_arn = sub.topic.arn
        event = alarm_events.sns_lambda_event(sub.arn, topic_arn, message_id, message, subject,
                                              datetime.datetime.now(datetime.timezone.utc))
        self._invoke_as_service(
            SNS_PRINCIPAL, sub.endpoint, event,
            {"aws:SourceArn": topic_arn, "aws:SourceAccount": topic_arn.split(":")[4]},
            source="sns", topic=topic_arn, message_id=message_id)

    # --- invoking ---------------------------------------------------------

    def _invoke_as_service(self, principal, function_arn, event, context, **what):
        account_of_call = context["aws:SourceAccount"]
        fn = _find_function(function_arn)
        if fn is None:
            self.deliveries.record(account_of_call, **what, function=function_arn, principal=principal,
                                   outcome="refused", reason="the function does not exist")
            return
        allowed, why = resource_policy_allows(fn.policy.statements, principal, INVOKE_ACTION,
                                              fn.function_arn, context)
        if not allowed:
            self.deliveries.record(account_of_call, **what, function=fn.function_name, principal=principal,
                                   outcome="refused", reason=why)
            return
        # AWS: both services invoke asynchronously (InvocationType Event).
        self._run(fn, json.dumps(event).encode(), account_of_call, principal=principal, **what)

    def _run(self, fn, payload, account, **what):
        spec = FunctionSpec.of(fn)
        lost = []
        result = self.runner.invoke(spec, payload, lost.append)
        entry = {**what, "function": spec.name, "request_id": result.request_id,
                 "outcome": "failed" if result.function_error else "invoked"}
        if result.error_type:
            entry["error_type"] = result.error_type
            entry["error"] = result.payload.decode("utf-8", "replace")[:1000]
        if lost:
            entry["logs_lost"] = lost[0]
        self.deliveries.record(account, **entry)
        return result

    def invoke_api(self, req, environ, body):
        """Lambda's Invoke, running the function's code: (status, headers, body),
        or None to let moto answer (unknown function, bad request)."""
        path = environ.get("PATH_INFO", "")
        parts = path.strip("/").split("/")
        if len(parts) != 4 or parts[1] != "functions" or parts[3] != "invocations":
            return None
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        qualifier = query.get("Qualifier", [None])[0]
        fn = _find_function(urllib.parse.unquote(parts[2]), req.account, req.region, qualifier)
        if fn is None:
            return None
        kind = environ.get("HTTP_X_AMZ_INVOCATION_TYPE", "RequestResponse")
        request_headers = [("x-amzn-RequestId", str(uuid.uuid4())), ("X-Amz-Executed-Version", "$LATEST")]
        if kind == "DryRun":
            return "204 No Content", request_headers + [("Content-Length", "0")], b""
        if kind == "Event":
            self._background(self._run, fn, body or b"{}", req.account, source="invoke",
                             invocation_type="Event")
            return "202 Accepted", request_headers + [("Content-Length", "0")], b""
        result = self._run(fn, body or b"{}", req.account, source="invoke", invocation_type=kind)
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(result.payload)))]
        headers += request_headers
        if result.function_error:
            headers.append(("X-Amz-Function-Error", result.function_error))
        if environ.get("HTTP_X_AMZ_LOG_TYPE") == "Tail":
            headers.append(("X-Amz-Log-Result", base64.b64encode(result.log_tail).decode()))
        return "200 OK", headers, result.payload

    def wait_idle(self, timeout=30.0):
        """Waits for the deliveries in flight (for tests that want them done)."""
        import time

        end = time.time() + timeout
        while time.time() < end:
            with self._pending_lock:
                threads = list(self._pending)
            if not threads:
                return True
            threads[0].join(max(0.0, end - time.time()))
        return False


def _find_function(name_or_arn, account=None, region=None, qualifier=None):
    from moto.awslambda.utils import get_backend

    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        if len(parts) < 7:
            return None
        region, account = parts[3], parts[4]
        if len(parts) == 8:
            qualifier = parts[7]
        name_or_arn = parts[6]
    try:
        return get_backend(account, region).get_function(name_or_arn, qualifier)
    except Exception:  # noqa: BLE001 - moto raises UnknownFunctionException
        return None
