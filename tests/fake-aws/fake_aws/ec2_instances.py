"""EC2 DescribeInstances by tag and state, the request an instance selector
sends, answered from moto's own instances without moto's slow paths.

moto answers it correctly but slowly: each `tag:` filter is matched by
scanning every tag of the region once per instance, and the answer goes
through moto's generic response serializer, about 4 ms an instance here.
A page of 500 instances took 2 to 2.5 s, a cost AWS does not have; the
fleet benchmarks' selector rows measured it instead of relayctl.

This serves exactly the request relayctl sends: `Filter.N` of `tag:KEY` and
`instance-state-name` with literal values, `MaxResults`, `NextToken`.
Anything else (InstanceId.N, other filters, wildcards, DryRun) returns None
and goes to moto. The instances, their states and their tags are moto's
(RunInstances, CreateTags and TerminateInstances keep working as before);
only the matching and the XML are done here. Paging is moto's: a page holds
at most MaxResults reservations and the token is the last one's id.

The XML carries the members of AWS's Instance shape that moto keeps and an
SDK commonly reads (id, image, state, type, launch time, placement,
addresses, tags), not moto's full rendering.
"""

import uuid
from xml.sax.saxutils import escape

from . import awserrors, request_params

# The members of a selector's request; any other goes to moto.
_OURS = {"Filters", "MaxResults", "NextToken"}


def describe(req, environ, body):
    """(status, headers, body), or None when moto should answer."""
    if req.service != "ec2" or req.operation != "DescribeInstances":
        return None
    params = request_params.parse(req, environ, body)
    if params is None or not set(params) <= _OURS:
        return None
    filters = params.get("Filters") or []
    wanted = _filters(filters)
    if wanted is None:
        return None
    max_results = params.get("MaxResults", 1000)
    # AWS: MaxResults is 5 to 1000
    # (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html).
    if not isinstance(max_results, int) or not 5 <= max_results <= 1000:
        err = awserrors.AwsError(
            400, "InvalidParameterValue",
            f"Value ( {max_results} ) for parameter maxResults is invalid. "
            "Expecting a value greater than 5 and less than 1000.")
        return awserrors.render(req.protocol, req.service, err)

    from moto.ec2.models import ec2_backends

    backend = ec2_backends[req.account][req.region]
    tags, states = wanted
    matched = []
    for reservation in list(backend.reservations.values()):
        instances = [i for i in reservation.instances
                     if _matches(i, backend.tags.get(i.id, {}), tags, states)]
        if instances:
            matched.append((reservation, instances))

    token = params.get("NextToken")
    start = 0
    if token:
        ids = [r.id for r, _ in matched]
        if token not in ids:
            err = awserrors.AwsError(400, "InvalidPaginationToken",
                                     f"Invalid pagination token: {token}")
            return awserrors.render(req.protocol, req.service, err)
        start = ids.index(token) + 1
    page = matched[start:start + max_results]
    next_token = page[-1][0].id if start + max_results < len(matched) else None
    return _render(backend, page, next_token)


def _filters(filters):
    """({tag key: {values}}, {states}) or None if a filter is not ours."""
    tags, states = {}, None
    names = [f.get("Name") for f in filters]
    # A name given twice is left to moto, which keeps the last one.
    if len(set(names)) != len(names):
        return None
    for f in filters:
        name, values = f.get("Name"), f.get("Values") or []
        if not isinstance(name, str) or any(("*" in v or "?" in v) for v in values):
            return None
        if name.startswith("tag:") and len(name) > 4:
            tags[name[4:]] = set(values)
        elif name == "instance-state-name":
            states = set(values)
        else:
            return None
    return tags, states


def _matches(instance, own_tags, tags, states):
    if states is not None and instance.state not in states:
        return False
    return all(own_tags.get(key) in values for key, values in tags.items())


def _render(backend, page, next_token):
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n'
           '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">',
           f"<requestId>{uuid.uuid4()}</requestId><reservationSet>"]
    for reservation, instances in page:
        out.append(f"<item><reservationId>{reservation.id}</reservationId>"
                   f"<ownerId>{backend.account_id}</ownerId><groupSet/><instancesSet>")
        out.extend(_instance(i, backend.tags.get(i.id, {})) for i in instances)
        out.append("</instancesSet></item>")
    out.append("</reservationSet>")
    if next_token:
        out.append(f"<nextToken>{escape(next_token)}</nextToken>")
    out.append("</DescribeInstancesResponse>")
    body = "".join(out).encode()
    return "200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))], body


def _instance(i, tags):
    launch = i.launch_time
    if hasattr(launch, "strftime"):
        launch = launch.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    fields = [
        ("instanceId", i.id),
        ("imageId", i.image_id),
        ("instanceState", [("code", i.state_code), ("name", i.state)]),
        ("privateDnsName", i.private_dns_name),
        ("dnsName", i.public_dns_name),
        ("keyName", i.key_name),
        ("amiLaunchIndex", i.ami_launch_index),
        ("instanceType", i.instance_type),
        ("launchTime", launch),
        ("placement", [("availabilityZone", i.availability_zone),
                       ("tenancy", i.placement.tenancy)]),
        ("platform", i.platform),
        ("monitoring", [("state", i.monitoring_state)]),
        ("subnetId", i.subnet_id),
        ("vpcId", i.vpc_id),
        ("privateIpAddress", i.private_ip),
        ("ipAddress", i.public_ip),
        ("architecture", i.architecture),
        ("rootDeviceType", i.root_device_type),
        ("rootDeviceName", i.root_device_name),
        ("virtualizationType", i.virtualization_type),
        ("hypervisor", i.hypervisor),
    ]
    # A tag's value may be empty, so tags are written whatever they hold.
    tag_set = "".join(f"<item><key>{escape(k)}</key><value>{escape(v)}</value></item>"
                      for k, v in tags.items())
    return "<item>" + _xml(fields) + (f"<tagSet>{tag_set}</tagSet>" if tags else "") + "</item>"


def _xml(fields):
    """Elements for (name, value) pairs; a list value nests, an empty one is left out."""
    out = []
    for name, value in fields:
        if isinstance(value, list):
            out.append(f"<{name}>{_xml(value)}</{name}>")
        elif value not in (None, ""):
            out.append(f"<{name}>{escape(str(value))}</{name}>")
    return "".join(out)
