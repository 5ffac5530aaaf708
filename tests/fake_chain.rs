//! The fake AWS runs the chain, as AWS does: an alarm's state change fires
//! its actions (only when the state really changes), SNS hands a `lambda`
//! subscriber its event envelope, the function's resource policy decides
//! who may invoke it, the uploaded `bootstrap` runs under a Runtime API with
//! the function's environment and timeout, and its output reaches
//! CloudWatch Logs only when the group exists and the role allows it.
//! Everything is driven through the Rust SDK, without relayctl.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatch::types::{Dimension, StateValue};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, Environment, FunctionCode, LogType, Runtime};
use serde_json::{Value, json};
use support::chain::{SlackSink, echo_zip, handler_zip};
use support::{Account, cpu_alarm};

const REGION_LONG_NAME: &str = "US East (N. Virginia)";

/// One account's clients and the steps of building a chain by hand.
struct Aws {
    acct: Account,
    iam: aws_sdk_iam::Client,
    lambda: aws_sdk_lambda::Client,
    sns: aws_sdk_sns::Client,
    cw: aws_sdk_cloudwatch::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
}

impl Aws {
    fn new() -> Aws {
        let acct = Account::new();
        let config = acct.sdk_config();
        Aws {
            iam: aws_sdk_iam::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            sns: aws_sdk_sns::Client::new(&config),
            cw: aws_sdk_cloudwatch::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            acct,
        }
    }

    fn arn(&self, service: &str, rest: &str) -> String {
        format!("arn:aws:{service}:us-east-1:{}:{rest}", self.acct.id)
    }

    /// A Lambda execution role allowed `actions` on `resource`.
    async fn role(&self, name: &str, actions: &[&str], resource: &str) -> String {
        let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
        let arn = self
            .iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .unwrap()
            .role
            .unwrap()
            .arn;
        let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": actions, "Resource": resource}]});
        self.iam
            .put_role_policy()
            .role_name(name)
            .policy_name("logs")
            .policy_document(policy.to_string())
            .send()
            .await
            .unwrap();
        arn
    }

    /// The role relayctl writes: streams and events in the function's own group.
    async fn logging_role(&self, function: &str) -> String {
        let group = self.arn("logs", &format!("log-group:/aws/lambda/{function}:*"));
        self.role(
            &format!("{function}-role"),
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            &group,
        )
        .await
    }

    async fn log_group(&self, function: &str) {
        self.logs
            .create_log_group()
            .log_group_name(format!("/aws/lambda/{function}"))
            .send()
            .await
            .unwrap();
    }

    async fn function(&self, name: &str, role: &str, zip: Vec<u8>, env: &[(&str, &str)]) -> String {
        let mut vars = Environment::builder();
        for (k, v) in env {
            vars = vars.variables(*k, *v);
        }
        let arn = self
            .lambda
            .create_function()
            .function_name(name)
            .runtime(Runtime::Providedal2023)
            .handler("bootstrap")
            .role(role)
            .timeout(5)
            .environment(vars.build())
            .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
            .send()
            .await
            .unwrap()
            .function_arn
            .unwrap();
        support::wait_function_ready(&self.lambda, name).await;
        arn
    }

    /// A function with relayctl's role and log group around `zip`.
    async fn logged_function(&self, name: &str, zip: Vec<u8>, env: &[(&str, &str)]) -> String {
        let role = self.logging_role(name).await;
        self.log_group(name).await;
        self.function(name, &role, zip, env).await
    }

    async fn allow(&self, function: &str, sid: &str, principal: &str, source_arn: &str) {
        self.lambda
            .add_permission()
            .function_name(function)
            .statement_id(sid)
            .action("lambda:InvokeFunction")
            .principal(principal)
            .source_arn(source_arn)
            .send()
            .await
            .unwrap();
    }

    async fn topic_to(&self, name: &str, function_arn: &str) -> String {
        let topic = self
            .sns
            .create_topic()
            .name(name)
            .send()
            .await
            .unwrap()
            .topic_arn
            .unwrap();
        self.sns
            .subscribe()
            .topic_arn(&topic)
            .protocol("lambda")
            .endpoint(function_arn)
            .send()
            .await
            .unwrap();
        topic
    }

    async fn alarm(&self, name: &str, alarm_actions: &[&str], ok_actions: &[&str]) {
        cpu_alarm(&self.cw, name)
            .alarm_description("CPU above 80 %")
            .dimensions(
                Dimension::builder()
                    .name("InstanceId")
                    .value("i-0123456789abcdef0")
                    .build(),
            )
            .set_alarm_actions(Some(alarm_actions.iter().map(|s| s.to_string()).collect()))
            .set_ok_actions(Some(ok_actions.iter().map(|s| s.to_string()).collect()))
            .send()
            .await
            .unwrap();
    }

    async fn set_state(&self, alarm: &str, state: StateValue, reason: &str) {
        self.cw
            .set_alarm_state()
            .alarm_name(alarm)
            .state_value(state)
            .state_reason(reason)
            .send()
            .await
            .unwrap();
    }

    /// Every message in the function's log group (an error if the group is missing).
    async fn log_lines(&self, function: &str) -> Result<Vec<String>, String> {
        let out = self
            .logs
            .filter_log_events()
            .log_group_name(format!("/aws/lambda/{function}"))
            .send()
            .await
            .map_err(|e| format!("{:?}", e.into_service_error()))?;
        Ok(out
            .events()
            .iter()
            .filter_map(|e| e.message().map(str::to_string))
            .collect())
    }

    /// The events the echo function printed, waiting briefly for its output
    /// to be shipped (Lambda ships logs asynchronously too).
    async fn echoed_events(&self, function: &str, n: usize) -> Vec<Value> {
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            let events: Vec<Value> = self
                .log_lines(function)
                .await
                .unwrap_or_default()
                .iter()
                .filter_map(|l| l.strip_prefix("EVENT "))
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            if events.len() >= n || Instant::now() > end {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// `2026/11/30/[$LATEST]` and 32 hex digits, as Lambda names its streams.
fn is_lambda_stream_name(name: &str) -> bool {
    let (date, rest) = name.split_at(name.len().min(11));
    let digits = date.split('/').map(str::len).collect::<Vec<_>>() == [4, 2, 2, 0]
        && date.chars().all(|c| c == '/' || c.is_ascii_digit());
    let hex = rest.strip_prefix("[$LATEST]");
    digits && hex.is_some_and(|h| h.len() == 32 && h.chars().all(|c| c.is_ascii_hexdigit()))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alarm_reaches_slack_through_sns_and_the_handler_only_on_a_real_state_change() {
    let aws = Aws::new();
    let slack = SlackSink::ok().await;
    let webhook = slack.webhook_url();
    let function = aws
        .logged_function("relay", handler_zip(), &[("SLACK_WEBHOOK_URL", &webhook)])
        .await;
    let topic = aws.topic_to("alarms", &function).await;
    aws.allow("relay", "sns", "sns.amazonaws.com", &topic).await;
    aws.alarm("high-cpu", &[&topic], &[&topic]).await;

    let started = Instant::now();
    aws.set_state("high-cpu", StateValue::Alarm, "first firing")
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "SetAlarmState returns before the chain runs ({:?})",
        started.elapsed()
    );
    let texts = slack.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(texts, ["high-cpu state is now ALARM: first firing"]);

    // AWS: SetAlarmState to the state the alarm is already in changes nothing
    // and fires nothing.
    aws.set_state("high-cpu", StateValue::Alarm, "second firing")
        .await;
    aws.set_state("high-cpu", StateValue::Ok, "back to normal")
        .await;
    let texts = slack.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(
        texts,
        [
            "high-cpu state is now ALARM: first firing",
            "high-cpu state is now OK: back to normal"
        ]
    );
    let deliveries = aws.acct.deliveries();
    let flow: Vec<(&str, &str, Option<&str>)> = deliveries
        .iter()
        .map(|d| (d.source.as_str(), d.outcome.as_str(), d.state.as_deref()))
        .collect();
    assert_eq!(
        flow,
        [
            ("alarm", "published", Some("ALARM")),
            ("sns", "invoked", None),
            ("alarm", "published", Some("OK")),
            ("sns", "invoked", None)
        ]
    );

    // The handler's own lines, between Lambda's START and END, in a stream
    // named as Lambda names them.
    let lines = aws.log_lines("relay").await.unwrap();
    assert!(
        lines.iter().any(|l| l.starts_with("START RequestId: ")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("posted to Slack") && l.contains("name=high-cpu ")),
        "{lines:#?}"
    );
    let streams = aws
        .logs
        .describe_log_streams()
        .log_group_name("/aws/lambda/relay")
        .send()
        .await
        .unwrap();
    let stream = streams.log_streams()[0].log_stream_name().unwrap();
    assert!(is_lambda_stream_name(stream), "{stream}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_function_gets_the_sns_envelope_with_cloudwatchs_alarm_message() {
    let aws = Aws::new();
    let function = aws.logged_function("echo", echo_zip(), &[]).await;
    let topic = aws.topic_to("alarms", &function).await;
    aws.allow("echo", "sns", "sns.amazonaws.com", &topic).await;
    aws.alarm("high-cpu", &[&topic], &[]).await;
    aws.set_state("high-cpu", StateValue::Alarm, "Threshold Crossed: test")
        .await;

    let events = aws.echoed_events("echo", 1).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    let records = events[0]["Records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["EventSource"], "aws:sns");
    assert!(
        records[0]["EventSubscriptionArn"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{topic}:"))
    );
    let sns = &records[0]["Sns"];
    assert_eq!(sns["Type"], "Notification");
    assert_eq!(sns["TopicArn"], topic.as_str());
    assert_eq!(
        sns["Subject"],
        format!("ALARM: \"high-cpu\" in {REGION_LONG_NAME}")
    );
    assert!(sns["MessageId"].as_str().is_some_and(|s| s.len() == 36));
    assert!(sns["Timestamp"].as_str().unwrap().ends_with('Z'));

    let message: Value = serde_json::from_str(sns["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["AlarmName"], "high-cpu");
    assert_eq!(message["AlarmDescription"], "CPU above 80 %");
    assert_eq!(message["AWSAccountId"], aws.acct.id.as_str());
    assert_eq!(message["NewStateValue"], "ALARM");
    assert_eq!(message["NewStateReason"], "Threshold Crossed: test");
    assert_eq!(message["OldStateValue"], "INSUFFICIENT_DATA");
    assert_eq!(message["Region"], REGION_LONG_NAME);
    assert_eq!(
        message["AlarmArn"],
        aws.arn("cloudwatch", "alarm:high-cpu").as_str()
    );
    assert!(
        message["StateChangeTime"]
            .as_str()
            .unwrap()
            .ends_with("+0000")
    );
    let trigger = &message["Trigger"];
    assert_eq!(trigger["MetricName"], "CPUUtilization");
    assert_eq!(trigger["Namespace"], "AWS/EC2");
    assert_eq!(trigger["Statistic"], "AVERAGE");
    assert_eq!(trigger["Period"], 60);
    assert_eq!(trigger["EvaluationPeriods"], 1);
    assert_eq!(trigger["Threshold"], 80.0);
    assert_eq!(trigger["ComparisonOperator"], "GreaterThanThreshold");
    assert_eq!(
        trigger["Dimensions"],
        json!([{"value": "i-0123456789abcdef0", "name": "InstanceId"}])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_direct_alarm_action_invokes_with_cloudwatchs_payload_only_when_the_policy_allows() {
    let aws = Aws::new();
    let function = aws.logged_function("echo", echo_zip(), &[]).await;
    // A permission written for SNS does not let CloudWatch in.
    aws.allow(
        "echo",
        "sns",
        "sns.amazonaws.com",
        &aws.arn("cloudwatch", "alarm:*"),
    )
    .await;
    aws.alarm("web-cpu", &[&function], &[]).await;
    aws.set_state("web-cpu", StateValue::Alarm, "first").await;
    let refused = aws.acct.deliveries();
    assert_eq!(refused.len(), 1, "{refused:#?}");
    assert_eq!(refused[0].outcome, "refused");
    assert_eq!(
        refused[0].principal.as_deref(),
        Some("lambda.alarms.cloudwatch.amazonaws.com")
    );
    assert_eq!(aws.echoed_events("echo", 0).await.len(), 0);

    // The console's wildcard form: ArnLike on the alarm name prefix.
    aws.allow(
        "echo",
        "alarms",
        "lambda.alarms.cloudwatch.amazonaws.com",
        &aws.arn("cloudwatch", "alarm:web-*"),
    )
    .await;
    aws.set_state("web-cpu", StateValue::Ok, "reset").await;
    aws.set_state("web-cpu", StateValue::Alarm, "second").await;
    let events = aws.echoed_events("echo", 1).await;
    assert_eq!(
        events.len(),
        1,
        "one ALARM action; OK has none: {events:#?}"
    );
    let event = &events[0];
    assert_eq!(event["source"], "aws.cloudwatch");
    assert_eq!(
        event["alarmArn"],
        aws.arn("cloudwatch", "alarm:web-cpu").as_str()
    );
    assert_eq!(event["accountId"], aws.acct.id.as_str());
    assert_eq!(event["region"], "us-east-1");
    let data = &event["alarmData"];
    assert_eq!(data["alarmName"], "web-cpu");
    assert_eq!(data["state"]["value"], "ALARM");
    assert_eq!(data["state"]["reason"], "second");
    assert_eq!(data["previousState"]["value"], "OK");
    assert_eq!(data["previousState"]["reason"], "reset");
    assert_eq!(data["configuration"]["description"], "CPU above 80 %");
    let stat = &data["configuration"]["metrics"][0]["metricStat"];
    assert_eq!(stat["metric"]["name"], "CPUUtilization");
    assert_eq!(stat["metric"]["namespace"], "AWS/EC2");
    assert_eq!(
        stat["metric"]["dimensions"]["InstanceId"],
        "i-0123456789abcdef0"
    );
    assert_eq!(stat["period"], 60);
    assert_eq!(stat["stat"], "Average");

    // An alarm outside the wildcard is refused by the same policy.
    aws.alarm("db-cpu", &[&function], &[]).await;
    aws.set_state("db-cpu", StateValue::Alarm, "db").await;
    let last = aws.acct.deliveries().pop().unwrap();
    assert_eq!(
        (last.alarm.as_deref(), last.outcome.as_str()),
        (Some("db-cpu"), "refused")
    );
    assert_eq!(aws.echoed_events("echo", 2).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn sns_cannot_invoke_a_function_whose_policy_names_another_topic() {
    let aws = Aws::new();
    let function = aws.logged_function("echo", echo_zip(), &[]).await;
    let topic = aws.topic_to("alarms", &function).await;
    aws.allow(
        "echo",
        "sns",
        "sns.amazonaws.com",
        &aws.arn("sns", "other-topic"),
    )
    .await;
    aws.sns
        .publish()
        .topic_arn(&topic)
        .message("hello")
        .send()
        .await
        .unwrap();
    let deliveries = aws.acct.deliveries();
    assert_eq!(deliveries.len(), 1, "{deliveries:#?}");
    assert_eq!(deliveries[0].source, "sns");
    assert_eq!(deliveries[0].outcome, "refused");
    let reason = deliveries[0].reason.as_deref().unwrap();
    assert!(
        reason.contains("sns.amazonaws.com") && reason.contains(&topic),
        "{reason}"
    );
    assert_eq!(aws.echoed_events("echo", 0).await.len(), 0);

    aws.lambda
        .remove_permission()
        .function_name("echo")
        .statement_id("sns")
        .send()
        .await
        .unwrap();
    aws.allow("echo", "sns", "sns.amazonaws.com", &topic).await;
    aws.sns
        .publish()
        .topic_arn(&topic)
        .message("hello again")
        .subject("greeting")
        .send()
        .await
        .unwrap();
    let events = aws.echoed_events("echo", 1).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["Records"][0]["Sns"]["Message"], "hello again");
    assert_eq!(events[0]["Records"][0]["Sns"]["Subject"], "greeting");
}

#[tokio::test(flavor = "multi_thread")]
async fn invoke_runs_the_bootstrap_with_its_environment_deadline_and_timeout() {
    let aws = Aws::new();
    let function = aws
        .logged_function("echo", echo_zip(), &[("MY_SETTING", "one")])
        .await;
    let before = now_ms();
    let out = aws
        .lambda
        .invoke()
        .function_name("echo")
        .payload(Blob::new(r#"{"ping": 1}"#))
        .log_type(LogType::Tail)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.function_error(), None);
    let answer: Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
    assert_eq!(answer["event"], json!({"ping": 1}));
    assert_eq!(answer["arn"], function.as_str());
    assert_eq!(answer["env"]["MY_SETTING"], "one");
    assert_eq!(answer["env"]["AWS_LAMBDA_FUNCTION_NAME"], "echo");
    assert_eq!(answer["env"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "128");
    assert_eq!(
        answer["env"]["AWS_LAMBDA_LOG_GROUP_NAME"],
        "/aws/lambda/echo"
    );
    assert_eq!(answer["env"]["AWS_REGION"], "us-east-1");
    let stream = answer["env"]["AWS_LAMBDA_LOG_STREAM_NAME"]
        .as_str()
        .unwrap();
    assert!(is_lambda_stream_name(stream), "{stream}");
    let streams = aws
        .logs
        .describe_log_streams()
        .log_group_name("/aws/lambda/echo")
        .send()
        .await
        .unwrap();
    assert_eq!(streams.log_streams()[0].log_stream_name(), Some(stream));
    // The deadline header is epoch milliseconds, the function's 5 s timeout away.
    let deadline = answer["deadline_ms"].as_i64().unwrap();
    assert!(
        deadline >= before + 5_000 && deadline <= now_ms() + 5_000,
        "{deadline} vs {before}"
    );
    let tail = base64_decode(out.log_result().unwrap());
    assert!(
        tail.contains("START RequestId: ") && tail.contains("REPORT RequestId: "),
        "{tail}"
    );

    // A configuration update starts a new execution environment: the new
    // variable is seen, and the 1 s timeout kills the 3 s sleep.
    aws.lambda
        .update_function_configuration()
        .function_name("echo")
        .timeout(1)
        .environment(
            Environment::builder()
                .variables("MY_SETTING", "two")
                .variables("SLEEP_S", "3")
                .build(),
        )
        .send()
        .await
        .unwrap();
    support::wait_function_ready(&aws.lambda, "echo").await;
    let started = Instant::now();
    let out = aws
        .lambda
        .invoke()
        .function_name("echo")
        .payload(Blob::new("{}"))
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(out.function_error(), Some("Unhandled"));
    let error: Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .ends_with("Task timed out after 1.00 seconds"),
        "{error}"
    );
    assert!(
        took < Duration::from_millis(2_900),
        "killed at the timeout, took {took:?}"
    );

    aws.lambda
        .update_function_configuration()
        .function_name("echo")
        .timeout(5)
        .environment(
            Environment::builder()
                .variables("MY_SETTING", "three")
                .build(),
        )
        .send()
        .await
        .unwrap();
    support::wait_function_ready(&aws.lambda, "echo").await;
    let out = aws
        .lambda
        .invoke()
        .function_name("echo")
        .payload(Blob::new("{}"))
        .send()
        .await
        .unwrap();
    let answer: Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
    assert_eq!(
        answer["env"]["MY_SETTING"], "three",
        "after the timeout, a fresh environment"
    );
}

fn base64_decode(text: &str) -> String {
    use base64::Engine as _;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_log_group_or_the_roles_permission_the_logs_are_lost() {
    let aws = Aws::new();
    let slack = SlackSink::ok().await;
    let webhook = slack.webhook_url();
    let env = [("SLACK_WEBHOOK_URL", webhook.as_str())];

    // relayctl's role (no logs:CreateLogGroup) and no group: the function
    // runs and posts, but its output goes nowhere.
    let role = aws.logging_role("relay").await;
    aws.function("relay", &role, handler_zip(), &env).await;
    let out = aws
        .lambda
        .invoke()
        .function_name("relay")
        .payload(Blob::new(r#"{"note": "no group"}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(out.function_error(), None);
    assert_eq!(slack.wait_for(1, Duration::from_secs(10)).await.len(), 1);
    let err = aws.log_lines("relay").await.unwrap_err();
    assert!(err.contains("ResourceNotFound"), "{err}");
    let lost = aws.acct.deliveries().pop().unwrap().logs_lost.unwrap();
    assert!(lost.contains("logs:CreateLogGroup"), "{lost}");

    // A group but a role without logs:PutLogEvents: still nothing logged.
    let role = aws
        .role("stream-only", &["logs:CreateLogStream"], "*")
        .await;
    aws.log_group("quiet").await;
    aws.function("quiet", &role, handler_zip(), &env).await;
    aws.lambda
        .invoke()
        .function_name("quiet")
        .payload(Blob::new("{}"))
        .send()
        .await
        .unwrap();
    assert_eq!(slack.wait_for(2, Duration::from_secs(10)).await.len(), 2);
    assert_eq!(aws.log_lines("quiet").await.unwrap(), Vec::<String>::new());

    // A role that may create the group (AWSLambdaBasicExecutionRole's
    // actions) gets it created by Lambda, and the lines arrive.
    let role = aws
        .role(
            "basic",
            &[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            "*",
        )
        .await;
    aws.function("basic", &role, handler_zip(), &env).await;
    aws.lambda
        .invoke()
        .function_name("basic")
        .payload(Blob::new("{}"))
        .send()
        .await
        .unwrap();
    let lines = aws.log_lines("basic").await.unwrap();
    assert!(
        lines.iter().any(|l| l.contains("posted to Slack")),
        "{lines:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_arm64_package_is_reported_as_not_runnable_here() {
    let aws = Aws::new();
    let role = aws.logging_role("arm").await;
    aws.lambda
        .create_function()
        .function_name("arm")
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .role(&role)
        .architectures(Architecture::Arm64)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(echo_zip()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let out = aws
        .lambda
        .invoke()
        .function_name("arm")
        .payload(Blob::new("{}"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.function_error(), Some("Unhandled"));
    let error: Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
    assert_eq!(error["errorType"], "Runtime.InvalidEntrypoint");
    assert!(
        error["errorMessage"].as_str().unwrap().contains("arm64"),
        "{error}"
    );
}

/// The log stream an echo invocation ran in: one per execution environment.
async fn stream_of_next_invocation(aws: &Aws, function: &str) -> String {
    let out = aws
        .lambda
        .invoke()
        .function_name(function)
        .payload(Blob::new("{}"))
        .send()
        .await
        .unwrap();
    let answer: Value = serde_json::from_slice(out.payload().unwrap().as_ref()).unwrap();
    answer["env"]["AWS_LAMBDA_LOG_STREAM_NAME"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_environment_is_reused_until_the_function_is_deleted() {
    let aws = Aws::new();
    let role = aws.logging_role("echo").await;
    aws.log_group("echo").await;
    aws.function("echo", &role, echo_zip(), &[]).await;
    let first = stream_of_next_invocation(&aws, "echo").await;
    assert_eq!(
        stream_of_next_invocation(&aws, "echo").await,
        first,
        "a warm environment serves the next invocation"
    );

    aws.lambda
        .delete_function()
        .function_name("echo")
        .send()
        .await
        .unwrap();
    aws.function("echo", &role, echo_zip(), &[]).await;
    assert_ne!(
        stream_of_next_invocation(&aws, "echo").await,
        first,
        "the same code and configuration, but a new function: a cold start"
    );
}
