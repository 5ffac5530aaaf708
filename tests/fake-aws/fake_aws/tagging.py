"""Resource Groups Tagging API GetResources, served from the backends
relayctl tags (CloudWatch alarms, Lambda functions, SNS topics, Logs groups,
SSM parameters: the webhook's and the stack's lock).

moto's own GetResources walks every taggable backend it has: the first call
in a fresh account instantiates them all (~45 s on the test machine), every
later one still takes seconds. Answering from the backends relayctl uses
keeps each call in milliseconds and the semantics the same: tag filters
(every filter's key present, value among its values when given), resources
without tags left out, ResourcesPerPage (1..100, default 50) with an opaque
PaginationToken.

It also models the index's lag. AWS documents GetResources as eventually
consistent: a resource just tagged may be missing for a while. `POST
/_fake/tagging {"account": ID, "hide": ["substring", ...]}` hides every ARN
containing one of the substrings from this account's listings (`DELETE
/_fake/tagging?account=ID` clears), so tests can exercise relayctl's
per-resource fallback.
"""

import json
import threading


class TaggingIndex:
    def __init__(self):
        self._lock = threading.Lock()
        self._hidden = {}  # account -> [substring]

    def hide(self, spec):
        if not isinstance(spec, dict) or not isinstance(spec.get("account"), str):
            raise ValueError("body must be {\"account\": ID, \"hide\": [substring, ...]}")
        hide = spec.get("hide", [])
        if not isinstance(hide, list) or not all(isinstance(h, str) and h for h in hide):
            raise ValueError("hide must be a list of non-empty strings")
        with self._lock:
            self._hidden[spec["account"]] = list(hide)

    def clear(self, account=None):
        with self._lock:
            if account is None:
                self._hidden.clear()
            else:
                self._hidden.pop(account, None)

    def get_resources(self, req, body):
        """(status, headers, body) of a JSON 1.1 GetResources answer."""
        params = json.loads(body or b"{}")
        per_page = params.get("ResourcesPerPage", 50)
        if not isinstance(per_page, int) or not 1 <= per_page <= 100:
            return _error("InvalidParameterException", "ResourcesPerPage must be between 1 and 100")
        token = params.get("PaginationToken") or "0"
        if not token.isdigit():
            return _error("PaginationTokenExpiredException", "Token does not exist")
        start = int(token)
        with self._lock:
            hidden = list(self._hidden.get(req.account, []))
        matcher = _matcher(params.get("TagFilters") or [])
        found = [
            (arn, tags)
            for arn, tags in _tagged(req.account, req.region)
            if tags and matcher(tags) and not any(h in arn for h in hidden)
        ]
        page = found[start:start + per_page]
        out = {
            "ResourceTagMappingList": [
                {"ResourceARN": arn, "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}
                for arn, tags in page
            ],
            "PaginationToken": str(start + per_page) if start + per_page < len(found) else "",
        }
        return _json(200, out)


def _tagged(account, region):
    from moto.awslambda.models import lambda_backends
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.logs.models import logs_backends
    from moto.sns.models import sns_backends

    for backends in (cloudwatch_backends, lambda_backends, sns_backends, logs_backends):
        for resource in backends[account][region].iter_tagged_resources():
            if resource.resource_type == "cloudwatch:insight-rule":
                continue
            yield resource.arn, dict(resource.tags or {})
    yield from _parameters(account, region)


def _parameters(account, region):
    """AWS lists tagged SSM parameters in GetResources
    (https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/supported-services.html).
    A snapshot of the names first: PutParameter may add one meanwhile."""
    from moto.ssm.models import ssm_backends
    from moto.ssm.utils import parameter_arn

    backend = ssm_backends[account][region]
    tags = backend._resource_tags.get("Parameter", {})
    for name, versions in list(backend._parameters.items()):
        # moto's defaultdict leaves an empty entry behind a lookup.
        if versions:
            yield parameter_arn(account, region, name), dict(tags.get(name) or {})


def _matcher(filters):
    def matches(tags):
        for f in filters:
            key, values = f.get("Key"), f.get("Values") or []
            if key not in tags or (values and tags[key] not in values):
                return False
        return True

    return matches


def _json(status, doc):
    body = json.dumps(doc).encode()
    headers = [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))]
    return f"{status} OK", headers, body


def _error(code, message):
    body = json.dumps({"__type": code, "message": message}).encode()
    headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code),
               ("Content-Length", str(len(body)))]
    return "400 Bad Request", headers, body
