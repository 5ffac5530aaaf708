"""boto3 side of tests/export.rs, run with the fake's venv python (moto
brings boto3): what an operator does with the AWS CLI, and a table of the
live attributes of one relayctl stack's resources.

    cfn.py URL ACCOUNT bucket NAME
    cfn.py URL ACCOUNT deploy CFN_STACK TEMPLATE_FILE [Key=Value ...]
    cfn.py URL ACCOUNT attributes RELAY_STACK

`attributes` prints {"kind.name.attribute": value} as JSON, the account id
written ACCOUNT and the tags AWS sets itself (aws:*) left out, so two
deployments of the same stack in two accounts compare row by row.
"""

import json
import sys

import boto3
from botocore.config import Config


def client(url, account, service):
    return boto3.client(
        service, endpoint_url=url, region_name="us-east-1",
        aws_access_key_id=account, aws_secret_access_key="test",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def norm(doc):
    """A policy by meaning (a JSON text or parsed): a one-element list is its
    element, lists sorted."""
    return _norm(json.loads(doc) if isinstance(doc, str) else doc)


def _norm(doc):
    if isinstance(doc, list):
        items = [_norm(i) for i in doc]
        return items[0] if len(items) == 1 else sorted(items, key=json.dumps)
    if isinstance(doc, dict):
        return {k: _norm(v) for k, v in sorted(doc.items())}
    return doc


def tags(pairs):
    if isinstance(pairs, dict):
        pairs = [{"Key": k, "Value": v} for k, v in pairs.items()]
    return {t["Key"]: t["Value"] for t in pairs if not t["Key"].startswith("aws:")}


def attributes(c, stack):
    fn, topic = f"{stack}-relay", f"{stack}-alarms"
    rows = {}
    iam = c("iam")
    role = iam.get_role(RoleName=fn)["Role"]
    rows["role.trust"] = norm(role["AssumeRolePolicyDocument"])
    rows["role.description"] = role.get("Description")
    rows["role.tags"] = tags(iam.list_role_tags(RoleName=fn)["Tags"])
    names = iam.list_role_policies(RoleName=fn)["PolicyNames"]
    rows["role.policy_names"] = sorted(names)
    for name in names:
        doc = iam.get_role_policy(RoleName=fn, PolicyName=name)["PolicyDocument"]
        rows[f"role.policy.{name}"] = norm(doc)

    logs = c("logs")
    group = [g for g in logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{fn}")["logGroups"]
             if g["logGroupName"] == f"/aws/lambda/{fn}"][0]
    rows["log_group.retention_days"] = group.get("retentionInDays")
    arn = group["arn"].removesuffix(":*")
    rows["log_group.tags"] = tags(logs.list_tags_for_resource(resourceArn=arn)["tags"])

    lam = c("lambda")
    got = lam.get_function(FunctionName=fn)
    conf = got["Configuration"]
    for key in ("Runtime", "Handler", "Role", "MemorySize", "Timeout", "Architectures",
                "CodeSha256", "Description", "PackageType"):
        rows[f"function.{key}"] = conf.get(key)
    rows["function.environment"] = conf.get("Environment", {}).get("Variables", {})
    rows["function.tags"] = tags(got.get("Tags", {}))
    try:
        policy = json.loads(lam.get_policy(FunctionName=fn)["Policy"])
        statements = [{k: v for k, v in s.items() if k != "Sid"} for s in policy["Statement"]]
    except lam.exceptions.ResourceNotFoundException:
        statements = []
    rows["permission.statements"] = norm(statements)

    sns = c("sns")
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(f":{topic}")]
    for arn in topics:
        rows["topic.tags"] = tags(sns.list_tags_for_resource(ResourceArn=arn)["Tags"])
        subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        rows["subscription.protocol_endpoint"] = sorted([s["Protocol"], s["Endpoint"]] for s in subs)

    cw = c("cloudwatch")
    for a in cw.describe_alarms(AlarmNamePrefix=f"{stack}-")["MetricAlarms"]:
        name = a["AlarmName"]
        for key in ("Namespace", "MetricName", "Statistic", "Period", "EvaluationPeriods",
                    "Threshold", "ComparisonOperator", "AlarmDescription", "ActionsEnabled",
                    "TreatMissingData", "DatapointsToAlarm"):
            rows[f"alarm.{name}.{key}"] = a.get(key)
        for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            rows[f"alarm.{name}.{key}"] = sorted(a.get(key, []))
        rows[f"alarm.{name}.Dimensions"] = sorted(f"{d['Name']}={d['Value']}" for d in a["Dimensions"])
        rows[f"alarm.{name}.tags"] = tags(cw.list_tags_for_resource(ResourceARN=a["AlarmArn"])["Tags"])
    return rows


def deploy(c, name, template_file, params):
    cfn = c("cloudformation")
    cfn.create_stack(
        StackName=name, TemplateBody=open(template_file).read(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (p.split("=", 1) for p in params)],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
        print(json.dumps(events, default=str), file=sys.stderr)
        sys.exit(f"stack {name}: {stack['StackStatus']}")
    print(stack["StackStatus"])


def main():
    url, account, command, *args = sys.argv[1:]
    c = lambda service: client(url, account, service)  # noqa: E731
    if command == "bucket":
        c("s3").create_bucket(Bucket=args[0])
    elif command == "deploy":
        deploy(c, args[0], args[1], args[2:])
    elif command == "attributes":
        text = json.dumps(attributes(c, args[0]), sort_keys=True, indent=1, default=str)
        print(text.replace(account, "ACCOUNT"))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
