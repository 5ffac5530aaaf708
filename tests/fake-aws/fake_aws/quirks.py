"""Checks for moto behaviour that differs from AWS where relayctl relies on AWS.

Each check looks at moto's in-process state before the call reaches moto and
answers with AWS's error when AWS would refuse the call; otherwise None and
moto handles it. (CloudWatch's quirks live in cbor_bridge.py.)
"""

import json
import re
import sys
import urllib.parse

from . import lambda_states
from .awserrors import AwsError

LAMBDA_POLICY_PATH = re.compile(r"^/[^/]+/functions/(?P<name>[^/]+)/policy/?$")


def check(req, environ, body):
    fix = _CHECKS.get((req.service, req.operation))
    if fix is None:
        return None
    try:
        return fix(req, environ, body)
    except Exception as exc:  # noqa: BLE001 - a check must never break the call itself
        print(f"fake-aws: quirk check {req.service}.{req.operation} skipped: {exc!r}", file=sys.stderr)
        return None


def _add_permission(req, environ, body):
    """moto accepts a second AddPermission with the same StatementId; AWS refuses it."""
    from moto.awslambda.utils import get_backend

    match = LAMBDA_POLICY_PATH.match(environ.get("PATH_INFO", ""))
    sid = json.loads(body or b"{}").get("StatementId")
    if not match or not sid:
        return None
    qualifier = urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).get("Qualifier", [None])[0]
    name = urllib.parse.unquote(match["name"])
    statements = get_backend(req.account, req.region).get_function(name, qualifier).policy.statements
    if any(s.get("Sid") == sid for s in statements):
        return AwsError(409, "ResourceConflictException",
                        f"The statement id ({sid}) provided already exists. "
                        "Please provide a new statement id, or remove the existing statement.")
    return lambda_states.check_policy_size(req, environ, body)


def _create_topic(req, environ, body):
    """CreateTopic returns an existing topic, but AWS refuses when the tags differ; moto doesn't."""
    from moto.sns.models import sns_backends

    params = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
    name = params.get("Name")
    keys = {k[: -len(".Key")]: v for k, v in params.items() if k.startswith("Tags.member.") and k.endswith(".Key")}
    if not name or not keys:
        return None
    tags = {key: params.get(f"{prefix}.Value", "") for prefix, key in keys.items()}
    topic = sns_backends[req.account][req.region].topics.get(f"arn:aws:sns:{req.region}:{req.account}:{name}")
    if topic is not None and dict(topic._tags) != tags:
        return AwsError(400, "InvalidParameter",
                        "Invalid parameter: Tags Reason: Topic already exists with different tags")
    return None


_CHECKS = {
    ("lambda", "AddPermission"): _add_permission,
    ("sns", "CreateTopic"): _create_topic,
}
