"""Just enough IAM policy evaluation for the chain to obey permissions.

Two questions, answered the way AWS answers them for the statements relayctl
(and the AWS console) write:

- may a service principal (sns.amazonaws.com, lambda.alarms.cloudwatch...)
  invoke a function, given the function's resource policy and the request
  context (aws:SourceArn, aws:SourceAccount)?
- may a function's execution role do a logs action on a resource, given the
  role's inline and attached policies?

Supported: Effect Allow/Deny (an explicit Deny wins), Action/Resource with
`*` and `?` wildcards, Principal `*` / {"Service": ...} / {"AWS": "*"},
and the String*/Arn* condition operators (with IfExists). Statements using
anything else (NotAction, NotResource, NotPrincipal, other operators) never
allow, so the fake errs on the side of refusing.
"""

import json
import re
import urllib.parse

# AWS: condition operators on strings and ARNs,
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
_POSITIVE = {"StringEquals", "StringLike", "StringEqualsIgnoreCase", "ArnEquals", "ArnLike"}
_NEGATIVE = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike",
             "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
             "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike"}


def wildcard(pattern, value, ignore_case=False):
    """IAM's `*` (any run) and `?` (one character) over the whole value."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def arn_like(pattern, value):
    # AWS: ArnLike compares the six colon-separated parts separately, so a `*`
    # in the region part cannot swallow the account.
    p, v = pattern.split(":", 5), value.split(":", 5)
    return len(p) == len(v) and all(wildcard(a, b) for a, b in zip(p, v))


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _compare(op, pattern, value):
    if op == "StringEquals" or op == "ArnEquals":
        return pattern == value
    if op == "StringEqualsIgnoreCase":
        return pattern.lower() == value.lower()
    if op == "StringLike":
        return wildcard(pattern, value)
    if op == "ArnLike":
        return arn_like(pattern, value)
    return False


def conditions_hold(conditions, context):
    """True when every condition of a statement holds for `context` (keys are
    matched case-insensitively, as IAM does)."""
    if not conditions:
        return True
    if not isinstance(conditions, dict):
        return False
    ctx = {k.lower(): v for k, v in context.items() if v is not None}
    for op, tests in conditions.items():
        if_exists = op.endswith("IfExists")
        base = op[: -len("IfExists")] if if_exists else op
        if not isinstance(tests, dict):
            return False
        for key, patterns in tests.items():
            value = ctx.get(key.lower())
            if value is None:
                # AWS: a missing key fails a positive test, passes a negated
                # one, and passes anything with ...IfExists.
                if if_exists or base in _NEGATIVE:
                    continue
                return False
            patterns = [str(p) for p in _as_list(patterns)]
            if base in _POSITIVE:
                if not any(_compare(base, p, value) for p in patterns):
                    return False
            elif base in _NEGATIVE:
                if any(_compare(_NEGATIVE[base], p, value) for p in patterns):
                    return False
            else:
                return False
    return True


def _principal_matches(principal, service):
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if "*" in _as_list(principal.get("AWS")):
        return True
    return service in _as_list(principal.get("Service"))


def _action_matches(actions, action):
    return any(wildcard(a, action, ignore_case=True) for a in _as_list(actions))


def _resource_matches(resources, resource):
    return any(wildcard(r, resource) for r in _as_list(resources))


def _plain(statement):
    """Statements using elements this evaluator does not model never allow."""
    return not any(k in statement for k in ("NotAction", "NotResource", "NotPrincipal"))


def resource_policy_allows(statements, service, action, resource, context):
    """(allowed, reason) for `service` calling `action` on `resource`."""
    allowed_by = None
    for st in statements or []:
        if not isinstance(st, dict) or not _plain(st):
            continue
        if not (_principal_matches(st.get("Principal"), service)
                and _action_matches(st.get("Action"), action)
                and _resource_matches(st.get("Resource"), resource)
                and conditions_hold(st.get("Condition"), context)):
            continue
        if st.get("Effect") == "Deny":
            return False, f"statement {st.get('Sid', '?')!r} denies {service} {action}"
        if st.get("Effect") == "Allow" and allowed_by is None:
            allowed_by = st.get("Sid", "?")
    if allowed_by is not None:
        return True, f"allowed by statement {allowed_by!r}"
    shown = ", ".join(f"{k}={v}" for k, v in context.items() if v)
    return False, (f"no statement in the function's resource policy allows {service} to call {action} "
                   f"on {resource} ({shown})")


def identity_allows(documents, action, resource):
    """Whether identity policies `documents` (parsed JSON) allow `action` on `resource`."""
    allowed = False
    for doc in documents:
        for st in _as_list((doc or {}).get("Statement")):
            if not isinstance(st, dict) or not _plain(st) or st.get("Condition"):
                continue
            if _action_matches(st.get("Action"), action) and _resource_matches(st.get("Resource"), resource):
                if st.get("Effect") == "Deny":
                    return False
                if st.get("Effect") == "Allow":
                    allowed = True
    return allowed


def parse_document(text):
    """A policy document as IAM stores it (JSON, sometimes URL-encoded)."""
    if isinstance(text, dict):
        return text
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        try:
            return json.loads(urllib.parse.unquote(text))
        except (TypeError, ValueError):
            return None


def role_documents(account, role_arn):
    """The inline and attached policy documents of the role `role_arn`, or None
    when the role does not exist."""
    from moto.iam.models import iam_backends

    partition = role_arn.split(":")[1] if role_arn.count(":") >= 5 else "aws"
    try:
        role = iam_backends[account][partition].get_role_by_arn(role_arn)
    except Exception:  # noqa: BLE001 - moto raises IAMNotFoundException
        return None
    docs = [parse_document(d) for d in role.policies.values()]
    for policy in role.managed_policies.values():
        for version in getattr(policy, "versions", []):
            if getattr(version, "is_default", False):
                docs.append(parse_document(version.document))
    return [d for d in docs if d]
