"""AWS error responses in each protocol's own shape.

The SDKs find the error code in different places per protocol, and their
retry classifiers key on that code (aws-runtime's THROTTLING_ERRORS:
Throttling, ThrottlingException, TooManyRequestsException, ...) or on the
HTTP status (500/502/503/504 are transient). A fault the SDK cannot parse
would test nothing, so each shape mirrors the real service.
"""

import json
import re
import uuid
from xml.sax.saxutils import escape

import cbor2


class AwsError:
    """One error: what each protocol needs to render it."""

    def __init__(self, status, code, message, sender=True, query_code=None, reason=None):
        self.status = status
        self.code = code
        self.message = message
        self.sender = sender
        # awsQueryCompatible services (CloudWatch) also send the old Query code.
        self.query_code = query_code
        self.reason = reason  # Lambda's `Reason` member (e.g. CallerRateLimitExceeded)


def throttle(service):
    if service == "lambda":
        return AwsError(429, "TooManyRequestsException", "Rate exceeded", reason="CallerRateLimitExceeded")
    if service == "logs":
        return AwsError(400, "ThrottlingException", "Rate exceeded")
    if service == "cloudwatch":
        return AwsError(400, "ThrottlingException", "Rate exceeded", query_code="Throttling")
    if service == "ec2":
        # AWS: EC2 throttles with RequestLimitExceeded
        # (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html).
        return AwsError(503, "RequestLimitExceeded", "Request limit exceeded.")
    # IAM, SNS, STS (Query): the SDK classifies `Throttling` as throttling.
    return AwsError(400, "Throttling", "Rate exceeded")


def internal(service):
    if service == "lambda":
        return AwsError(500, "ServiceException", "Internal failure (injected)", sender=False)
    if service == "logs":
        return AwsError(500, "ServiceUnavailableException", "Service unavailable (injected)", sender=False)
    if service == "cloudwatch":
        return AwsError(500, "InternalServiceFault", "Internal failure (injected)", sender=False,
                        query_code="InternalServiceError")
    return AwsError(500, "InternalFailure", "Internal failure (injected)", sender=False)


def role_not_assumable():
    # What Lambda answers while a just-created IAM role has not propagated yet.
    return AwsError(400, "InvalidParameterValueException",
                    "The role defined for the function cannot be assumed by Lambda.")


def not_implemented(service, operation, detail=""):
    msg = f"fake-aws: {service}.{operation} is not implemented by moto"
    if detail:
        msg += f" ({detail})"
    return AwsError(501, "NotImplemented", msg, sender=False)


def render(protocol, service, err):
    """(status line, headers, body) for `err` in `protocol`'s shape."""
    status = f"{err.status} {_REASONS.get(err.status, 'Error')}"
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    if protocol == "cbor":
        doc = {"__type": err.code, "message": err.message}
        headers += [("Content-Type", "application/cbor"), ("smithy-protocol", "rpc-v2-cbor")]
        if err.query_code:
            fault = "Sender" if err.sender else "Receiver"
            headers.append(("x-amzn-query-error", f"{err.query_code};{fault}"))
        body = cbor2.dumps(doc)
    elif protocol == "json":
        doc = {"__type": err.code, "message": err.message}
        headers += [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", err.code)]
        body = json.dumps(doc).encode()
    elif protocol in ("rest-json", "unknown") and service == "lambda":
        doc = {"Type": "User" if err.sender else "Service", "message": err.message}
        if err.reason:
            doc["Reason"] = err.reason
        headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", err.code)]
        body = json.dumps(doc).encode()
    elif service == "ec2":
        # AWS: EC2's own error shape, <Response><Errors><Error>
        # (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
        message = _XML_INVALID.sub(lambda m: f"\\u{ord(m.group()):04x}", err.message)
        body = (
            "<Response><Errors><Error>"
            f"<Code>{escape(err.code)}</Code><Message>{escape(message)}</Message>"
            f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        ).encode()
        headers.append(("Content-Type", "text/xml"))
    else:
        # Query (IAM, SNS, STS) and anything unrecognised: the Query XML shape.
        kind = "Sender" if err.sender else "Receiver"
        message = _XML_INVALID.sub(lambda m: f"\\u{ord(m.group()):04x}", err.message)
        body = (
            "<ErrorResponse><Error>"
            f"<Type>{kind}</Type><Code>{escape(err.code)}</Code><Message>{escape(message)}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers.append(("Content-Type", "text/xml"))
    headers.append(("Content-Length", str(len(body))))
    return status, headers, body


# XML 1.0 has no way to carry these, not even as character references; an
# echoed value holding one would make the whole error unparseable.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

_REASONS = {400: "Bad Request", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error", 501: "Not Implemented", 503: "Service Unavailable"}
