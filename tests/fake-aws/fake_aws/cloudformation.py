"""CloudFormation resource types moto's CloudFormation lacks or half-does.

relayctl's `export cloudformation` template uses AWS::IAM::Role,
AWS::Logs::LogGroup, AWS::SNS::Topic, AWS::Lambda::Function,
AWS::Lambda::Permission, AWS::SNS::Subscription and AWS::CloudWatch::Alarm.
moto 5.2 has no AWS::SNS::Subscription nor AWS::CloudWatch::Alarm, and of
the rest drops properties AWS applies:

- AWS::Lambda::Function: `Tags` and `Architectures` are ignored (AWS:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-function.html).
- AWS::SNS::Topic: `Tags` are set as a Python attribute, not as tags.
- AWS::Lambda::Permission: the template's properties are copied into the
  policy statement as they are, `FunctionName` included; AWS's statement
  holds only Sid, Effect, Principal, Action, Resource and Condition
  (https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html).
- AWS::IAM::Role: an inline policy's `PolicyDocument` (a JSON object in the
  template) is stored as a Python dict, so GetRolePolicy answers its repr,
  not the JSON document AWS returns.

And AWS adds stack-level tags to what it creates: "CloudFormation
automatically creates the following stack-level tags with the prefix aws::
aws:cloudformation:logical-id, aws:cloudformation:stack-id,
aws:cloudformation:stack-name"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html);
done here for the function and the topic, so tests see relayctl ignore them.

`install()` must run before moto's CloudFormation first lists its models
(it caches CloudFormationModel.__subclasses__()).
"""

import json


def _tag_dict(tags):
    return {t["Key"]: t["Value"] for t in tags or []}


def _stack_tags(kwargs):
    """AWS's aws:cloudformation:* tags for one resource of a stack."""
    stack_id = kwargs.get("StackId") or ""
    # arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/UUID
    name = stack_id.split(":stack/", 1)[-1].split("/", 1)[0]
    return {
        "aws:cloudformation:logical-id": kwargs.get("LogicalId", ""),
        "aws:cloudformation:stack-id": stack_id,
        "aws:cloudformation:stack-name": name,
    }


def install():
    from moto.awslambda.models import LambdaFunction, Permission
    from moto.awslambda.utils import get_backend
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.common_models import CloudFormationModel
    from moto.iam.models import Role
    from moto.sns.models import Topic, sns_backends

    function_create = LambdaFunction.create_from_cloudformation_json.__func__

    def function_from_cfn(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        fn = function_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        fn.architectures = properties.get("Architectures", ["x86_64"])
        tags = {**_tag_dict(properties.get("Tags")), **_stack_tags(kwargs)}
        fn.tags.update(tags)
        return fn

    LambdaFunction.create_from_cloudformation_json = classmethod(function_from_cfn)

    def permission_from_cfn(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        # What AddPermission takes; FunctionName says where, not what.
        statement = {k: p[k] for k in ("Action", "Principal", "SourceArn", "SourceAccount",
                                       "PrincipalOrgID", "EventSourceToken") if k in p}
        fn = get_backend(account_id, region_name).get_function(p["FunctionName"])
        fn.policy.add_statement(raw=json.dumps(statement))
        return cls(region=region_name)

    Permission.create_from_cloudformation_json = classmethod(permission_from_cfn)

    topic_create = Topic.create_from_cloudformation_json.__func__

    def topic_from_cfn(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = dict(cloudformation_json["Properties"])
        tags = {**_tag_dict(properties.pop("Tags", None)), **_stack_tags(kwargs)}
        properties.pop("TopicName", None)
        topic = topic_create(cls, resource_name, {**cloudformation_json, "Properties": properties},
                             account_id, region_name, **kwargs)
        sns_backends[account_id][region_name].tag_resource(topic.arn, tags)
        return topic

    Topic.create_from_cloudformation_json = classmethod(topic_from_cfn)

    role_create = Role.create_from_cloudformation_json.__func__

    def role_from_cfn(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = dict(cloudformation_json["Properties"])
        properties["Policies"] = [
            {**p, "PolicyDocument": p["PolicyDocument"] if isinstance(p["PolicyDocument"], str)
             else json.dumps(p["PolicyDocument"])}
            for p in properties.get("Policies", [])
        ]
        return role_create(cls, resource_name, {**cloudformation_json, "Properties": properties},
                           account_id, region_name, **kwargs)

    Role.create_from_cloudformation_json = classmethod(role_from_cfn)

    class CfnSubscription(CloudFormationModel):
        """AWS::SNS::Subscription: its physical id is the subscription ARN."""

        def __init__(self, arn, account_id, region_name):
            self.arn = arn
            self.account_id = account_id
            self.region_name = region_name

        @staticmethod
        def cloudformation_name_type():
            return ""

        @staticmethod
        def cloudformation_type():
            return "AWS::SNS::Subscription"

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                            region_name, **kwargs):
            p = cloudformation_json["Properties"]
            sub = sns_backends[account_id][region_name].subscribe(p["TopicArn"], p["Endpoint"], p["Protocol"])
            return cls(sub.arn, account_id, region_name)

        @property
        def physical_resource_id(self):
            return self.arn

        def delete(self, account_id, region_name):
            sns_backends[account_id][region_name].unsubscribe(self.arn)

    class CfnAlarm(CloudFormationModel):
        """AWS::CloudWatch::Alarm (metric alarms): its physical id is its name."""

        def __init__(self, name, arn):
            self.name = name
            self.arn = arn

        @staticmethod
        def cloudformation_name_type():
            return "AlarmName"

        @staticmethod
        def cloudformation_type():
            return "AWS::CloudWatch::Alarm"

        @classmethod
        def has_cfn_attr(cls, attr):
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name):
            return self.arn

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                            region_name, **kwargs):
            p = cloudformation_json["Properties"]
            backend = cloudwatch_backends[account_id][region_name]
            alarm = backend.put_metric_alarm(
                name=resource_name,
                namespace=p.get("Namespace"),
                metric_name=p.get("MetricName"),
                comparison_operator=p["ComparisonOperator"],
                evaluation_periods=int(p["EvaluationPeriods"]),
                period=int(p["Period"]) if "Period" in p else None,
                threshold=float(p["Threshold"]) if "Threshold" in p else None,
                statistic=p.get("Statistic"),
                extended_statistic=p.get("ExtendedStatistic"),
                unit=p.get("Unit"),
                description=p.get("AlarmDescription"),
                dimensions=p.get("Dimensions", []),
                alarm_actions=p.get("AlarmActions", []),
                ok_actions=p.get("OKActions", []),
                insufficient_data_actions=p.get("InsufficientDataActions", []),
                datapoints_to_alarm=(int(p["DatapointsToAlarm"])
                                     if "DatapointsToAlarm" in p else None),
                treat_missing_data=p.get("TreatMissingData"),
                actions_enabled=p.get("ActionsEnabled", True),
                tags=p.get("Tags", []),
            )
            return cls(alarm.name, alarm.alarm_arn)

        @property
        def physical_resource_id(self):
            return self.name

        def delete(self, account_id, region_name):
            cloudwatch_backends[account_id][region_name].delete_alarms([self.name])

    return CfnSubscription, CfnAlarm
