"""Tag keys and values checked per service as AWS checks them; moto takes any.

AWS: the common tagging rules (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html,
"Tag naming limits and requirements"): at most 50 user tags per resource; a
key is 1-128 and a value 0-256 Unicode characters of letters, digits,
spaces and `_ . : / = + - @`; the `aws:` prefix is reserved. Each service
answers with its own error code (IAM TagRole, Lambda TagResource, Logs
TagResource, SNS TagResource, CloudWatch TagResource API references).
The 50 counts the tags the resource already has plus the new keys.
"""

import regex

from .awserrors import AwsError

MAX_TAGS = 50
MAX_KEY = 128
MAX_VALUE = 256
ALLOWED = regex.compile(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*")


def check(req, params):
    """An AwsError when the call's tags break AWS's rules, else None."""
    found = _TAGGED.get((req.service, req.operation))
    if found is None or not isinstance(params, dict):
        return None
    tags_of, existing_of = found
    tags = tags_of(params)
    if not tags:
        return None
    for key, value in tags.items():
        problem = _problem(key, value)
        if problem:
            return _invalid(req.service, problem)
    try:
        existing = existing_of(req, params) if existing_of else {}
    except Exception:  # noqa: BLE001 - resource missing: the operation itself says so
        existing = {}
    total = len(set(existing) | set(tags))
    if total > MAX_TAGS:
        return _too_many(req.service, total)
    return None


def _problem(key, value):
    if not isinstance(key, str) or not (1 <= len(key) <= MAX_KEY):
        return f"Tag key '{key}' must be 1 to {MAX_KEY} characters long"
    if value is None:
        value = ""
    if len(value) > MAX_VALUE:
        return f"Tag value for key '{key}' must be at most {MAX_VALUE} characters long"
    if key.lower().startswith("aws:"):
        return f"Tag key '{key}' uses the prefix 'aws:', which is reserved for AWS use"
    for what, text in (("key", key), ("value", value)):
        if not ALLOWED.fullmatch(text):
            return (f"Tag {what} '{text}' may contain only Unicode letters, digits, "
                    "white space and _ . : / = + - @")
    return None


def _invalid(service, message):
    code, query = {
        "iam": ("InvalidInput", None),
        "lambda": ("InvalidParameterValueException", None),
        "logs": ("InvalidParameterException", None),
        "sns": ("InvalidParameter", None),
        "cloudwatch": ("InvalidParameterValueException", "InvalidParameterValue"),
    }[service]
    return AwsError(400, code, message, query_code=query)


def _too_many(service, total):
    message = f"The number of tags ({total}) exceeds the limit of {MAX_TAGS} tags per resource"
    status, code, query = {
        "iam": (409, "LimitExceeded", None),
        "lambda": (400, "InvalidParameterValueException", None),
        "logs": (400, "TooManyTagsException", None),
        "sns": (400, "TagLimitExceeded", None),
        # CloudWatch's TagResource models no limit error; it answers this.
        "cloudwatch": (400, "InvalidParameterValueException", "InvalidParameterValue"),
    }[service]
    return AwsError(status, code, message, query_code=query)


# --- where each operation carries tags, and where the resource's live tags are

def _key_value_list(member):
    def get(params):
        items = params.get(member) or []
        return {t.get("Key"): t.get("Value") for t in items if isinstance(t, dict)}
    return get


def _map(member):
    def get(params):
        value = params.get(member) or {}
        return value if isinstance(value, dict) else {}
    return get


def _iam_role_tags(req, params):
    from moto.iam.models import iam_backends

    role = iam_backends[req.account]["aws"].get_role(params["RoleName"])
    return {t["Key"]: t.get("Value") for t in role.tags}


def _lambda_tags(req, params):
    from moto.awslambda.utils import get_backend

    return dict(get_backend(req.account, req.region).list_tags(params["Resource"]))


def _logs_tags(req, params):
    from moto.logs.models import logs_backends

    backend = logs_backends[req.account][req.region]
    if "logGroupName" in params:
        return dict(backend.groups[params["logGroupName"]].tags or {})
    return dict(backend.list_tags_for_resource(params["resourceArn"]))


def _sns_tags(req, params):
    from moto.sns.models import sns_backends

    return dict(sns_backends[req.account][req.region].topics[params["ResourceArn"]]._tags)


def _cloudwatch_tags(req, params):
    from moto.cloudwatch.models import cloudwatch_backends

    return dict(cloudwatch_backends[req.account][req.region].tagger.get_tag_dict_for_resource(params["ResourceARN"]))


_TAGGED = {
    ("iam", "CreateRole"): (_key_value_list("Tags"), None),
    ("iam", "TagRole"): (_key_value_list("Tags"), _iam_role_tags),
    ("lambda", "CreateFunction"): (_map("Tags"), None),
    ("lambda", "TagResource"): (_map("Tags"), _lambda_tags),
    ("logs", "CreateLogGroup"): (_map("tags"), None),
    ("logs", "TagLogGroup"): (_map("tags"), _logs_tags),
    ("logs", "TagResource"): (_map("tags"), _logs_tags),
    ("sns", "CreateTopic"): (_key_value_list("Tags"), None),
    ("sns", "TagResource"): (_key_value_list("Tags"), _sns_tags),
    ("cloudwatch", "PutMetricAlarm"): (_key_value_list("Tags"), None),
    ("cloudwatch", "TagResource"): (_key_value_list("Tags"), _cloudwatch_tags),
}
