#!/usr/bin/env bash
# The chain as people script it by hand: one `aws` call after another, no
# reads, no idempotency. The baseline relayctl's `up` is measured against.
#   benches/aws-cli-chain.sh NAME ZIP   (AWS_* env selects account and endpoint)
set -euo pipefail
name="$1" zip="$2"
region="${AWS_REGION:-us-east-1}"
account="$(aws sts get-caller-identity --query Account --output text)"
trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
logs="arn:aws:logs:$region:$account:log-group:/aws/lambda/$name-relay:*"
policy="{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"logs:CreateLogStream\",\"logs:PutLogEvents\"],\"Resource\":\"$logs\"}]}"

aws iam create-role --role-name "$name-relay" --assume-role-policy-document "$trust" >/dev/null
aws iam put-role-policy --role-name "$name-relay" --policy-name "relayctl-logs-$region" --policy-document "$policy"
aws logs create-log-group --log-group-name "/aws/lambda/$name-relay"
aws logs put-retention-policy --log-group-name "/aws/lambda/$name-relay" --retention-in-days 14
topic="$(aws sns create-topic --name "$name-alarms" --query TopicArn --output text)"
fn="$(aws lambda create-function --function-name "$name-relay" --runtime provided.al2023 --handler bootstrap \
  --role "arn:aws:iam::$account:role/$name-relay" --zip-file "fileb://$zip" \
  --environment "Variables={SLACK_WEBHOOK_URL=https://hooks.slack.invalid/x}" --query FunctionArn --output text)"
# Lambda refuses AddPermission while the new function is Pending, as AWS's
# guide says: wait for Active first.
aws lambda wait function-active-v2 --function-name "$name-relay"
aws lambda add-permission --function-name "$name-relay" --statement-id "$name-sns" --action lambda:InvokeFunction \
  --principal sns.amazonaws.com --source-arn "$topic" >/dev/null
aws sns subscribe --topic-arn "$topic" --protocol lambda --notification-endpoint "$fn" >/dev/null
aws cloudwatch put-metric-alarm --alarm-name "$name-high-cpu" --metric-name CPUUtilization --namespace AWS/EC2 \
  --statistic Average --period 60 --evaluation-periods 1 --threshold 80 --comparison-operator GreaterThanThreshold \
  --dimensions Name=InstanceId,Value=i-0123456789abcdef0 --alarm-actions "$topic" --ok-actions "$topic"
