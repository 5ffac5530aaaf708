"""Per-account switches for the AWS rules the fake enforces (aws_rules.py).

They arrive with the account's faults in `POST /_fake/faults` (faults.py
parses the `rules`; everything else in the body is a switch read here) and
fall back to the defaults below when an account installed none:

    {"account": "111122223333",
     "lambda_pending_reads": 2,        # reads showing State Pending after CreateFunction
     "lambda_in_progress_reads": 2,    # reads showing LastUpdateStatus InProgress after an update
     "lambda_failed": {"on": "create", "reason_code": "InvalidZipFileException",
                       "reason": "..."},  # or "on": "update": the next one ends Failed
     "lambda_list_tags_denied": true,  # the caller may not call lambda:ListTags
     "iam_delete_conflicts": 2,        # DeleteRole answers DeleteConflict this many times after DeleteRolePolicy
     "log_delay_ms": 1500,             # FilterLogEvents sees an event only this long after it was put
     "validation": false,              # turn off model validation and tag rules (tests that send bad requests)
     "quotas": true}                   # request-rate quotas at the defaults in quotas.py, or
                                       # {"lambda:GetFunction": 5, "cloudwatch:*": 20} requests/second
"""

from dataclasses import dataclass, field

SWITCHES = ("lambda_pending_reads", "lambda_in_progress_reads", "lambda_failed", "lambda_list_tags_denied",
            "iam_delete_conflicts", "log_delay_ms", "validation", "quotas")
FAILED_ON = ("create", "update")


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class LambdaFailure:
    on: str
    reason_code: str
    reason: str


@dataclass(frozen=True)
class Settings:
    # Small so relayctl's waits (250 ms, doubling) stay quick; AWS takes seconds.
    lambda_pending_reads: int = 2
    lambda_in_progress_reads: int = 2
    lambda_failed: LambdaFailure | None = None
    lambda_list_tags_denied: bool = False
    iam_delete_conflicts: int = 0
    log_delay_ms: int = 0
    validation: bool = True
    # None: no quotas; else {"service:Operation" or "service:*": requests per
    # second, or (rate, burst) from POST /_fake/quotas}.
    quotas: dict | None = field(default=None)

    @staticmethod
    def parse(spec):
        """Settings from a fault spec (a dict); raises SettingsError on a bad switch."""
        from .quotas import parse_quotas

        kw = {}
        for key in ("lambda_pending_reads", "lambda_in_progress_reads", "iam_delete_conflicts", "log_delay_ms"):
            if key in spec:
                kw[key] = _count(spec, key)
        for key in ("lambda_list_tags_denied", "validation"):
            if key in spec:
                if not isinstance(spec[key], bool):
                    raise SettingsError(f"{key} must be true or false, got {spec[key]!r}")
                kw[key] = spec[key]
        if spec.get("lambda_failed") is not None:
            kw["lambda_failed"] = _failure(spec["lambda_failed"])
        if spec.get("quotas") not in (None, False):
            try:
                kw["quotas"] = parse_quotas(spec["quotas"])
            except ValueError as exc:
                raise SettingsError(str(exc)) from None
        return Settings(**kw)


DEFAULT = Settings()


def _count(spec, key):
    value = spec[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SettingsError(f"{key} must be an integer >= 0, got {value!r}")
    return value


def _failure(value):
    if not isinstance(value, dict) or set(value) - {"on", "reason_code", "reason"}:
        raise SettingsError(f"lambda_failed must be {{on, reason_code, reason}}, got {value!r}")
    on = value.get("on", "create")
    if on not in FAILED_ON:
        raise SettingsError(f"lambda_failed.on must be one of {FAILED_ON}, got {on!r}")
    code = value.get("reason_code", "InvalidZipFileException" if on == "create" else "InvalidRuntime")
    reason = value.get("reason", f"fake-aws: injected failure ({code})")
    if not isinstance(code, str) or not isinstance(reason, str):
        raise SettingsError("lambda_failed.reason_code and .reason must be strings")
    return LambdaFailure(on, code, reason)
