//! Proves the local fake AWS (tests/fake-aws) is faithful enough to test
//! relayctl against: every resource kind round-trips through the real Rust SDK
//! clients, the call log counts what was sent, and each injected fault reaches
//! the SDK as the error AWS would give.

mod support;
// AWS's rules the fake enforces beyond moto: tests/fake_aws/aws_rules.rs.
#[path = "fake_aws/aws_rules.rs"]
mod aws_rules;

use std::io::Write;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, StateValue, Statistic};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, Environment, FunctionCode, Runtime};
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::{Account, Call, cpu_alarm};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const ROLE_NOT_ASSUMABLE: &str = "The role defined for the function cannot be assumed by Lambda.";

fn call(service: &str, operation: &str, write: bool) -> Call {
    Call {
        service: service.into(),
        operation: operation.into(),
        write,
        ..Call::default()
    }
}

fn faulted(service: &str, operation: &str, write: bool, fault: &str) -> Call {
    Call {
        fault: Some(fault.into()),
        ..call(service, operation, write)
    }
}

/// A small valid Lambda zip: one executable `bootstrap` entry.
fn bootstrap_zip(content: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options).unwrap();
    zip.write_all(content.as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

/// What Lambda reports as CodeSha256: base64 (not hex) of the zip's SHA-256.
fn code_sha256(zip: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(zip))
}

fn parse(json_text: &str) -> Value {
    serde_json::from_str(json_text).unwrap_or_else(|e| panic!("not JSON ({e}): {json_text}"))
}

/// CreateRole of `name` with the Lambda trust policy, to send as it is or
/// with more (tags) first.
fn role_request(
    iam: &aws_sdk_iam::Client,
    name: &str,
) -> aws_sdk_iam::operation::create_role::builders::CreateRoleFluentBuilder {
    iam.create_role()
        .role_name(name)
        .assume_role_policy_document(TRUST)
}

async fn create_role(iam: &aws_sdk_iam::Client, name: &str) -> String {
    let created = role_request(iam, name).send().await.unwrap();
    created.role.unwrap().arn
}

/// CreateFunction of `name` (provided.al2023, handler bootstrap) running as
/// `role_arn` with `zip`, to send as it is or with more first.
fn function_request(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    role_arn: &str,
    zip: &[u8],
) -> aws_sdk_lambda::operation::create_function::builders::CreateFunctionFluentBuilder {
    lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .handler("bootstrap")
        .role(role_arn)
        .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
}

async fn create_function(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    role_arn: &str,
    zip: &[u8],
) -> Result<
    aws_sdk_lambda::operation::create_function::CreateFunctionOutput,
    SdkError<aws_sdk_lambda::operation::create_function::CreateFunctionError>,
> {
    function_request(lambda, name, role_arn, zip).send().await
}

/// HTTP status of the response behind an SDK error (0 when there was none).
fn status<E>(err: &SdkError<E>) -> u16 {
    err.raw_response().map_or(0, |r| r.status().as_u16())
}

// --- resources round-trip ---------------------------------------------------

#[tokio::test]
async fn iam_role_round_trip() {
    use aws_sdk_iam::types::Tag;
    let acct = Account::new();
    let iam = aws_sdk_iam::Client::new(&acct.sdk_config());
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();

    let created = role_request(&iam, "t-relay")
        .tags(tag("relayctl:stack", "t"))
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(created.role_name(), "t-relay");
    assert_eq!(
        created.arn(),
        format!("arn:aws:iam::{}:role/t-relay", acct.id)
    );

    let role = iam
        .get_role()
        .role_name("t-relay")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(role.arn(), created.arn());
    // AWS returns the trust policy URL-encoded; relayctl must decode it.
    let doc = role.assume_role_policy_document().unwrap();
    assert!(doc.starts_with("%7B"), "not URL-encoded: {doc}");
    assert_eq!(parse(&urlencoding::decode(doc).unwrap()), parse(TRUST));
    assert_eq!(role.tags(), [tag("relayctl:stack", "t")]);

    let inline = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:*:log-group:/aws/lambda/t-relay:*"}]}"#;
    iam.put_role_policy()
        .role_name("t-relay")
        .policy_name("logs")
        .policy_document(inline)
        .send()
        .await
        .unwrap();
    let got = iam
        .get_role_policy()
        .role_name("t-relay")
        .policy_name("logs")
        .send()
        .await
        .unwrap();
    assert_eq!(
        parse(&urlencoding::decode(got.policy_document()).unwrap()),
        parse(inline)
    );

    iam.tag_role()
        .role_name("t-relay")
        .tags(tag("team", "platform"))
        .send()
        .await
        .unwrap();
    let tags = iam
        .list_role_tags()
        .role_name("t-relay")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags(),
        [tag("relayctl:stack", "t"), tag("team", "platform")]
    );
    iam.untag_role()
        .role_name("t-relay")
        .tag_keys("team")
        .send()
        .await
        .unwrap();
    let tags = iam
        .list_role_tags()
        .role_name("t-relay")
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags(), [tag("relayctl:stack", "t")]);

    iam.delete_role_policy()
        .role_name("t-relay")
        .policy_name("logs")
        .send()
        .await
        .unwrap();
    iam.delete_role().role_name("t-relay").send().await.unwrap();
    let err = iam
        .get_role()
        .role_name("t-relay")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_no_such_entity_exception()),
        "{err:?}"
    );

    assert_eq!(
        acct.calls(),
        [
            call("iam", "CreateRole", true),
            call("iam", "GetRole", false),
            call("iam", "PutRolePolicy", true),
            call("iam", "GetRolePolicy", false),
            call("iam", "TagRole", true),
            call("iam", "ListRoleTags", false),
            call("iam", "UntagRole", true),
            call("iam", "ListRoleTags", false),
            call("iam", "DeleteRolePolicy", true),
            call("iam", "DeleteRole", true),
            call("iam", "GetRole", false),
        ]
    );
}

#[tokio::test]
async fn sns_topic_and_lambda_subscription_round_trip() {
    use aws_sdk_sns::types::Tag;
    let acct = Account::new();
    let sns = aws_sdk_sns::Client::new(&acct.sdk_config());
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();

    let topic = sns
        .create_topic()
        .name("t-alarms")
        .tags(tag("relayctl:stack", "t"))
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    assert_eq!(topic, format!("arn:aws:sns:us-east-1:{}:t-alarms", acct.id));

    let attrs = sns
        .get_topic_attributes()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(attrs["TopicArn"], topic);
    assert_eq!(attrs["Owner"], acct.id);
    let tags = sns
        .list_tags_for_resource()
        .resource_arn(&topic)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags(), [tag("relayctl:stack", "t")]);

    let function = format!("arn:aws:lambda:us-east-1:{}:function:t-relay", acct.id);
    let sub = sns
        .subscribe()
        .topic_arn(&topic)
        .protocol("lambda")
        .endpoint(&function)
        .return_subscription_arn(true)
        .send()
        .await
        .unwrap()
        .subscription_arn
        .unwrap();
    assert!(sub.starts_with(&format!("{topic}:")), "{sub}");

    let subs = sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    let [listed] = subs.subscriptions() else {
        panic!("one subscription expected: {subs:?}")
    };
    assert_eq!(listed.subscription_arn(), Some(sub.as_str()));
    assert_eq!(listed.protocol(), Some("lambda"));
    assert_eq!(listed.endpoint(), Some(function.as_str()));
    assert_eq!(listed.topic_arn(), Some(topic.as_str()));
    assert_eq!(listed.owner(), Some(acct.id.as_str()));

    let sub_attrs = sns
        .get_subscription_attributes()
        .subscription_arn(&sub)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    assert_eq!(sub_attrs["Protocol"], "lambda");
    assert_eq!(sub_attrs["Endpoint"], function);
    assert_eq!(sub_attrs["TopicArn"], topic);

    sns.unsubscribe()
        .subscription_arn(&sub)
        .send()
        .await
        .unwrap();
    let subs = sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    assert!(subs.subscriptions().is_empty(), "{subs:?}");

    sns.delete_topic().topic_arn(&topic).send().await.unwrap();
    let err = sns
        .get_topic_attributes()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_not_found_exception()),
        "{err:?}"
    );

    assert_eq!(
        acct.calls(),
        [
            call("sns", "CreateTopic", true),
            call("sns", "GetTopicAttributes", false),
            call("sns", "ListTagsForResource", false),
            call("sns", "Subscribe", true),
            call("sns", "ListSubscriptionsByTopic", false),
            call("sns", "GetSubscriptionAttributes", false),
            call("sns", "Unsubscribe", true),
            call("sns", "ListSubscriptionsByTopic", false),
            call("sns", "DeleteTopic", true),
            call("sns", "GetTopicAttributes", false),
        ]
    );
}

#[tokio::test]
async fn lambda_function_round_trip() {
    let acct = Account::new();
    // A function ready at once keeps this an attribute round trip with an
    // exact call log; Pending / InProgress are shown in aws_rules.rs.
    acct.inject(json!({"lambda_pending_reads": 0, "lambda_in_progress_reads": 0}));
    let cfg = acct.sdk_config();
    let iam = aws_sdk_iam::Client::new(&cfg);
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let role = create_role(&iam, "t-relay").await;
    acct.reset_calls();

    let zip = bootstrap_zip("#!/bin/sh\necho v1\n");
    let created = function_request(&lambda, "t-relay", &role, &zip)
        .memory_size(128)
        .timeout(10)
        .architectures(Architecture::X8664)
        .environment(
            Environment::builder()
                .variables("SLACK_WEBHOOK_URL", "https://hooks.example.invalid/T/B/x")
                .variables("RUST_LOG", "info")
                .build(),
        )
        .tags("relayctl:stack", "t")
        .send()
        .await
        .unwrap();
    let arn = format!("arn:aws:lambda:us-east-1:{}:function:t-relay", acct.id);
    assert_eq!(created.function_arn(), Some(arn.as_str()));
    assert_eq!(created.code_sha256(), Some(code_sha256(&zip).as_str()));
    assert_eq!(created.code_size(), zip.len() as i64);
    assert_eq!(created.runtime(), Some(&Runtime::Providedal2023));
    assert_eq!(created.handler(), Some("bootstrap"));
    assert_eq!(created.role(), Some(role.as_str()));

    let got = lambda
        .get_function()
        .function_name("t-relay")
        .send()
        .await
        .unwrap();
    let conf = got.configuration().unwrap();
    assert_eq!(conf.function_name(), Some("t-relay"));
    assert_eq!(conf.code_sha256(), Some(code_sha256(&zip).as_str()));
    assert_eq!(conf.runtime(), Some(&Runtime::Providedal2023));
    assert_eq!(conf.handler(), Some("bootstrap"));
    assert_eq!(conf.memory_size(), Some(128));
    assert_eq!(conf.timeout(), Some(10));
    assert_eq!(conf.architectures(), [Architecture::X8664]);
    // What the SDK's function_active_v2 / function_updated_v2 waiters poll.
    assert_eq!(conf.state(), Some(&aws_sdk_lambda::types::State::Active));
    assert_eq!(
        conf.last_update_status(),
        Some(&aws_sdk_lambda::types::LastUpdateStatus::Successful)
    );
    let vars = conf.environment().unwrap().variables().unwrap();
    assert_eq!(vars.len(), 2);
    assert_eq!(vars["RUST_LOG"], "info");
    assert_eq!(
        vars["SLACK_WEBHOOK_URL"],
        "https://hooks.example.invalid/T/B/x"
    );
    assert_eq!(got.tags().unwrap()["relayctl:stack"], "t");

    lambda
        .update_function_configuration()
        .function_name("t-relay")
        .memory_size(256)
        .environment(
            Environment::builder()
                .variables("RUST_LOG", "debug")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let conf = lambda
        .get_function_configuration()
        .function_name("t-relay")
        .send()
        .await
        .unwrap();
    assert_eq!(conf.memory_size(), Some(256));
    let vars = conf.environment().unwrap().variables().unwrap();
    assert_eq!(vars.len(), 1);
    assert_eq!(vars["RUST_LOG"], "debug");

    let zip2 = bootstrap_zip("#!/bin/sh\necho v2\n");
    let updated = lambda
        .update_function_code()
        .function_name("t-relay")
        .zip_file(Blob::new(zip2.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.code_sha256(), Some(code_sha256(&zip2).as_str()));
    assert_ne!(code_sha256(&zip), code_sha256(&zip2));

    lambda
        .tag_resource()
        .resource(&arn)
        .tags("team", "platform")
        .send()
        .await
        .unwrap();
    lambda
        .untag_resource()
        .resource(&arn)
        .tag_keys("relayctl:stack")
        .send()
        .await
        .unwrap();
    let tags = lambda.list_tags().resource(&arn).send().await.unwrap();
    let tags = tags.tags().unwrap();
    assert_eq!(tags.len(), 1, "{tags:?}");
    assert_eq!(tags["team"], "platform");

    let out = lambda
        .invoke()
        .function_name("t-relay")
        .payload(Blob::new(r#"{"Records":[]}"#))
        .send()
        .await
        .unwrap();
    // The code runs for real (tests/fake_chain.rs): this bootstrap exits
    // without asking the Runtime API for the event, which Lambda reports as
    // a function error of type Runtime.ExitError.
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.function_error(), Some("Unhandled"));
    let error = parse(std::str::from_utf8(out.payload().unwrap().as_ref()).unwrap());
    assert_eq!(error["errorType"], "Runtime.ExitError");

    let listed = lambda.list_functions().send().await.unwrap();
    let names: Vec<_> = listed
        .functions()
        .iter()
        .filter_map(|f| f.function_name())
        .collect();
    assert_eq!(names, ["t-relay"]);

    lambda
        .delete_function()
        .function_name("t-relay")
        .send()
        .await
        .unwrap();
    let err = lambda
        .get_function()
        .function_name("t-relay")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "{err:?}"
    );

    assert_eq!(
        acct.calls(),
        [
            call("lambda", "CreateFunction", true),
            call("lambda", "GetFunction", false),
            call("lambda", "UpdateFunctionConfiguration", true),
            call("lambda", "GetFunctionConfiguration", false),
            call("lambda", "UpdateFunctionCode", true),
            call("lambda", "TagResource", true),
            call("lambda", "UntagResource", true),
            call("lambda", "ListTags", false),
            call("lambda", "Invoke", true),
            call("lambda", "ListFunctions", false),
            call("lambda", "DeleteFunction", true),
            call("lambda", "GetFunction", false),
        ]
    );
}

#[tokio::test]
async fn lambda_permission_for_sns_round_trip() {
    let acct = Account::new();
    let cfg = acct.sdk_config();
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let role = create_role(&aws_sdk_iam::Client::new(&cfg), "t-relay").await;
    create_function(&lambda, "t-relay", &role, &bootstrap_zip("x"))
        .await
        .unwrap();
    aws_rules::wait_ready(&lambda, "t-relay").await;
    let topic = aws_sdk_sns::Client::new(&cfg)
        .create_topic()
        .name("t-alarms")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let function = format!("arn:aws:lambda:us-east-1:{}:function:t-relay", acct.id);
    acct.reset_calls();

    let added = lambda
        .add_permission()
        .function_name("t-relay")
        .statement_id("t-sns")
        .action("lambda:InvokeFunction")
        .principal("sns.amazonaws.com")
        .source_arn(&topic)
        .send()
        .await
        .unwrap();
    let expected = json!({
        "Sid": "t-sns",
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"},
        "Action": "lambda:InvokeFunction",
        "Resource": function,
        "Condition": {"ArnLike": {"AWS:SourceArn": topic}},
    });
    assert_eq!(parse(added.statement().unwrap()), expected);

    let policy = lambda
        .get_policy()
        .function_name("t-relay")
        .send()
        .await
        .unwrap();
    let policy = parse(policy.policy().unwrap());
    assert_eq!(policy["Statement"], json!([expected]));

    lambda
        .remove_permission()
        .function_name("t-relay")
        .statement_id("t-sns")
        .send()
        .await
        .unwrap();
    let err = lambda
        .get_policy()
        .function_name("t-relay")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_not_found_exception()),
        "a function without statements has no policy: {err:?}"
    );

    assert_eq!(
        acct.calls(),
        [
            call("lambda", "AddPermission", true),
            call("lambda", "GetPolicy", false),
            call("lambda", "RemovePermission", true),
            call("lambda", "GetPolicy", false),
        ]
    );
}

#[tokio::test]
async fn log_group_retention_and_tags_round_trip() {
    let acct = Account::new();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&acct.sdk_config());
    let name = "/aws/lambda/t-relay";

    logs.create_log_group()
        .log_group_name(name)
        .tags("relayctl:stack", "t")
        .send()
        .await
        .unwrap();
    let err = logs
        .create_log_group()
        .log_group_name(name)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_already_exists_exception()),
        "{err:?}"
    );
    logs.put_retention_policy()
        .log_group_name(name)
        .retention_in_days(14)
        .send()
        .await
        .unwrap();

    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .unwrap();
    let [group] = groups.log_groups() else {
        panic!("one log group expected: {groups:?}")
    };
    assert_eq!(group.log_group_name(), Some(name));
    assert_eq!(group.retention_in_days(), Some(14));
    let arn = format!("arn:aws:logs:us-east-1:{}:log-group:{name}", acct.id);
    assert_eq!(group.arn(), Some(format!("{arn}:*").as_str()));

    logs.tag_resource()
        .resource_arn(&arn)
        .tags("team", "platform")
        .send()
        .await
        .unwrap();
    let tags = logs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    let tags = tags.tags().unwrap();
    assert_eq!(tags.len(), 2, "{tags:?}");
    assert_eq!(tags["relayctl:stack"], "t");
    assert_eq!(tags["team"], "platform");

    logs.delete_log_group()
        .log_group_name(name)
        .send()
        .await
        .unwrap();
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .unwrap();
    assert!(groups.log_groups().is_empty(), "{groups:?}");

    assert_eq!(
        acct.calls(),
        [
            call("logs", "CreateLogGroup", true),
            call("logs", "CreateLogGroup", true),
            call("logs", "PutRetentionPolicy", true),
            call("logs", "DescribeLogGroups", false),
            call("logs", "TagResource", true),
            call("logs", "ListTagsForResource", false),
            call("logs", "DeleteLogGroup", true),
            call("logs", "DescribeLogGroups", false),
        ]
    );
}

/// STYLE (c): "already exists" differs per API; the fake must differ the same way.
#[tokio::test]
async fn duplicates_are_refused_like_aws() {
    use aws_sdk_sns::types::Tag;
    let acct = Account::new();
    let cfg = acct.sdk_config();
    let iam = aws_sdk_iam::Client::new(&cfg);
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let sns = aws_sdk_sns::Client::new(&cfg);

    let role = create_role(&iam, "t-relay").await;
    let err = role_request(&iam, "t-relay").send().await.unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_entity_already_exists_exception()),
        "{err:?}"
    );

    let zip = bootstrap_zip("x");
    create_function(&lambda, "t-relay", &role, &zip)
        .await
        .unwrap();
    let err = create_function(&lambda, "t-relay", &role, &zip)
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_conflict_exception()),
        "{err:?}"
    );
    aws_rules::wait_ready(&lambda, "t-relay").await;

    let add = || {
        lambda
            .add_permission()
            .function_name("t-relay")
            .statement_id("t-sns")
            .action("lambda:InvokeFunction")
            .principal("sns.amazonaws.com")
            .source_arn(format!("arn:aws:sns:us-east-1:{}:t-alarms", acct.id))
            .send()
    };
    add().await.unwrap();
    let err = add().await.unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_conflict_exception()),
        "{err:?}"
    );

    // CreateTopic quietly returns the existing topic unless the tags differ.
    let tag = |v: &str| {
        Tag::builder()
            .key("relayctl:stack")
            .value(v)
            .build()
            .unwrap()
    };
    let create = |v: &str| sns.create_topic().name("t-alarms").tags(tag(v)).send();
    let first = create("t").await.unwrap().topic_arn.unwrap();
    let again = create("t").await.unwrap().topic_arn.unwrap();
    assert_eq!(first, again);
    let err = create("other").await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameter"), "{err:?}");

    // Subscribing the same endpoint twice gives the same subscription.
    let function = format!("arn:aws:lambda:us-east-1:{}:function:t-relay", acct.id);
    let subscribe = || {
        sns.subscribe()
            .topic_arn(&first)
            .protocol("lambda")
            .endpoint(&function)
            .return_subscription_arn(true)
            .send()
    };
    let s1 = subscribe().await.unwrap().subscription_arn.unwrap();
    let s2 = subscribe().await.unwrap().subscription_arn.unwrap();
    assert_eq!(s1, s2);
}

// --- CloudWatch through the CBOR bridge --------------------------------------

fn cw_tag(k: &str, v: &str) -> aws_sdk_cloudwatch::types::Tag {
    aws_sdk_cloudwatch::types::Tag::builder()
        .key(k)
        .value(v)
        .build()
}

async fn describe_one(
    cw: &aws_sdk_cloudwatch::Client,
    name: &str,
) -> aws_sdk_cloudwatch::types::MetricAlarm {
    let out = cw.describe_alarms().alarm_names(name).send().await.unwrap();
    match out.metric_alarms() {
        [alarm] => alarm.clone(),
        other => panic!("one alarm {name} expected, got {other:?}"),
    }
}

#[tokio::test]
async fn cloudwatch_alarm_round_trip_over_cbor() {
    let acct = Account::new();
    let cw = aws_sdk_cloudwatch::Client::new(&acct.sdk_config());
    let topic = format!("arn:aws:sns:us-east-1:{}:t-alarms", acct.id);
    let before = std::time::SystemTime::now();

    cw.put_metric_alarm()
        .alarm_name("t-high-cpu")
        .alarm_description("CPU above 80%")
        .namespace("AWS/EC2")
        .metric_name("CPUUtilization")
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(80.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .dimensions(
            Dimension::builder()
                .name("InstanceId")
                .value("i-0123456789abcdef0")
                .build(),
        )
        .alarm_actions(&topic)
        .ok_actions(&topic)
        .treat_missing_data("missing")
        .tags(cw_tag("relayctl:stack", "t"))
        .send()
        .await
        .unwrap();

    let alarm = describe_one(&cw, "t-high-cpu").await;
    let arn = format!("arn:aws:cloudwatch:us-east-1:{}:alarm:t-high-cpu", acct.id);
    assert_eq!(alarm.alarm_name(), Some("t-high-cpu"));
    assert_eq!(alarm.alarm_arn(), Some(arn.as_str()));
    assert_eq!(alarm.alarm_description(), Some("CPU above 80%"));
    assert_eq!(alarm.namespace(), Some("AWS/EC2"));
    assert_eq!(alarm.metric_name(), Some("CPUUtilization"));
    assert_eq!(alarm.statistic(), Some(&Statistic::Average));
    assert_eq!(alarm.period(), Some(60));
    assert_eq!(alarm.evaluation_periods(), Some(1));
    assert_eq!(alarm.threshold(), Some(80.0));
    assert_eq!(
        alarm.comparison_operator(),
        Some(&ComparisonOperator::GreaterThanThreshold)
    );
    assert_eq!(
        alarm.dimensions(),
        [Dimension::builder()
            .name("InstanceId")
            .value("i-0123456789abcdef0")
            .build()]
    );
    assert_eq!(alarm.alarm_actions(), std::slice::from_ref(&topic));
    assert_eq!(alarm.ok_actions(), std::slice::from_ref(&topic));
    assert!(alarm.insufficient_data_actions().is_empty());
    assert_eq!(alarm.actions_enabled(), Some(true));
    assert_eq!(alarm.treat_missing_data(), Some("missing"));
    // A new alarm starts in INSUFFICIENT_DATA, as on AWS.
    assert_eq!(alarm.state_value(), Some(&StateValue::InsufficientData));
    let configured = alarm.alarm_configuration_updated_timestamp().unwrap();
    let since = configured.secs()
        - before
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
    assert!(
        (-2..60).contains(&since),
        "timestamp {configured} is not now"
    );
    let first_update = *alarm.state_updated_timestamp().unwrap();
    assert!(alarm.state_transitioned_timestamp().is_some());

    let by_prefix = cw
        .describe_alarms()
        .alarm_name_prefix("t-")
        .send()
        .await
        .unwrap();
    assert_eq!(by_prefix.metric_alarms().len(), 1);
    let none = cw
        .describe_alarms()
        .alarm_name_prefix("other-")
        .send()
        .await
        .unwrap();
    assert!(none.metric_alarms().is_empty());

    tokio::time::sleep(Duration::from_millis(20)).await;
    cw.set_alarm_state()
        .alarm_name("t-high-cpu")
        .state_value(StateValue::Alarm)
        .state_reason("relayctl test")
        .send()
        .await
        .unwrap();
    let alarm = describe_one(&cw, "t-high-cpu").await;
    assert_eq!(alarm.state_value(), Some(&StateValue::Alarm));
    assert_eq!(alarm.state_reason(), Some("relayctl test"));
    assert!(*alarm.state_updated_timestamp().unwrap() > first_update);
    assert_eq!(
        alarm.state_transitioned_timestamp(),
        alarm.state_updated_timestamp()
    );

    let tags =
        |out: aws_sdk_cloudwatch::operation::list_tags_for_resource::ListTagsForResourceOutput| {
            out.tags().to_vec()
        };
    let listed = cw
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags(listed), [cw_tag("relayctl:stack", "t")]);
    cw.tag_resource()
        .resource_arn(&arn)
        .tags(cw_tag("team", "platform"))
        .send()
        .await
        .unwrap();
    let listed = cw
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags(listed),
        [cw_tag("relayctl:stack", "t"), cw_tag("team", "platform")]
    );
    cw.untag_resource()
        .resource_arn(&arn)
        .tag_keys("relayctl:stack")
        .send()
        .await
        .unwrap();
    let listed = cw
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags(listed), [cw_tag("team", "platform")]);

    // PutMetricAlarm on an existing alarm replaces its configuration but, as
    // on AWS, keeps its state and ignores the tags it is given.
    cw.put_metric_alarm()
        .alarm_name("t-high-cpu")
        .namespace("AWS/EC2")
        .metric_name("CPUUtilization")
        .statistic(Statistic::Average)
        .period(300)
        .evaluation_periods(2)
        .threshold(90.5)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .alarm_actions(&topic)
        .tags(cw_tag("ignored", "on-update"))
        .send()
        .await
        .unwrap();
    let alarm = describe_one(&cw, "t-high-cpu").await;
    assert_eq!(alarm.threshold(), Some(90.5));
    assert_eq!(alarm.period(), Some(300));
    assert_eq!(alarm.evaluation_periods(), Some(2));
    assert!(alarm.ok_actions().is_empty());
    assert_eq!(alarm.state_value(), Some(&StateValue::Alarm));
    let listed = cw
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags(listed), [cw_tag("team", "platform")]);

    cw.delete_alarms()
        .alarm_names("t-high-cpu")
        .send()
        .await
        .unwrap();
    let gone = cw
        .describe_alarms()
        .alarm_names("t-high-cpu")
        .send()
        .await
        .unwrap();
    assert!(gone.metric_alarms().is_empty(), "{gone:?}");
    assert!(gone.composite_alarms().is_empty());

    let ops: Vec<_> = acct.calls();
    assert!(ops.iter().all(|c| c.service == "cloudwatch"), "{ops:?}");
    assert_eq!(acct.count("cloudwatch", "DescribeAlarms"), 6);
    assert_eq!(acct.count("cloudwatch", "PutMetricAlarm"), 2);
    // Alarm writes are logged with the alarms they name.
    let named = |op: &str| Call {
        names: vec!["t-high-cpu".into()],
        ..call("cloudwatch", op, true)
    };
    assert_eq!(
        acct.writes(),
        [
            named("PutMetricAlarm"),
            call("cloudwatch", "SetAlarmState", true),
            call("cloudwatch", "TagResource", true),
            call("cloudwatch", "UntagResource", true),
            named("PutMetricAlarm"),
            named("DeleteAlarms"),
        ]
    );
}

#[tokio::test]
async fn cloudwatch_describe_alarms_paginates() {
    let acct = Account::new();
    let cw = aws_sdk_cloudwatch::Client::new(&acct.sdk_config());
    // Created out of order: AWS lists alarms sorted by name.
    for i in [3, 0, 4, 1, 2] {
        cpu_alarm(&cw, &format!("fleet-{i}"))
            .threshold(f64::from(i) + 0.25)
            .send()
            .await
            .unwrap();
    }
    cpu_alarm(&cw, "other").threshold(1.0).send().await.unwrap();

    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = cw
            .describe_alarms()
            .alarm_name_prefix("fleet-")
            .max_records(2)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        pages.push(
            out.metric_alarms()
                .iter()
                .map(|a| (a.alarm_name().unwrap().to_string(), a.threshold().unwrap()))
                .collect::<Vec<_>>(),
        );
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
        assert!(pages.len() < 10, "pagination does not end");
    }
    let page = |names: &[(&str, f64)]| {
        names
            .iter()
            .map(|(n, t)| (n.to_string(), *t))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        pages,
        [
            page(&[("fleet-0", 0.25), ("fleet-1", 1.25)]),
            page(&[("fleet-2", 2.25), ("fleet-3", 3.25)]),
            page(&[("fleet-4", 4.25)]),
        ]
    );

    // The SDK's own paginator walks the same pages.
    let all_pages = cw
        .describe_alarms()
        .max_records(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(all_pages.len(), 3);
    let names: Vec<String> = all_pages
        .iter()
        .flat_map(|p| p.metric_alarms())
        .filter_map(|a| a.alarm_name().map(str::to_string))
        .collect();
    assert_eq!(
        names,
        [
            "fleet-0", "fleet-1", "fleet-2", "fleet-3", "fleet-4", "other"
        ]
    );

    // Filters combine, as on AWS (moto alone applies only the first).
    cw.set_alarm_state()
        .alarm_name("fleet-3")
        .state_value(StateValue::Alarm)
        .state_reason("t")
        .send()
        .await
        .unwrap();
    let alarming = cw
        .describe_alarms()
        .alarm_name_prefix("fleet-")
        .state_value(StateValue::Alarm)
        .send()
        .await
        .unwrap();
    let names: Vec<_> = alarming
        .metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_name())
        .collect();
    assert_eq!(names, ["fleet-3"]);
}

// --- call log ----------------------------------------------------------------

#[tokio::test]
async fn call_log_records_each_call_in_order() {
    let acct = Account::new();
    let sns = aws_sdk_sns::Client::new(&acct.sdk_config());
    let topic = sns
        .create_topic()
        .name("t-log")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    sns.get_topic_attributes()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    sns.list_topics().send().await.unwrap();
    sns.set_topic_attributes()
        .topic_arn(&topic)
        .attribute_name("DisplayName")
        .attribute_value("relay")
        .send()
        .await
        .unwrap();
    assert_eq!(
        acct.calls(),
        [
            call("sns", "CreateTopic", true),
            call("sns", "GetTopicAttributes", false),
            call("sns", "ListTopics", false),
            call("sns", "SetTopicAttributes", true),
        ]
    );
    assert_eq!(acct.count("sns", "ListTopics"), 1);
    assert_eq!(acct.writes().len(), 2);
    let err = std::panic::catch_unwind(|| acct.assert_no_writes()).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(
        msg.contains("sns:CreateTopic") && msg.contains("sns:SetTopicAttributes"),
        "{msg}"
    );

    acct.reset_calls();
    sns.list_topics().send().await.unwrap();
    assert_eq!(acct.calls(), [call("sns", "ListTopics", false)]);
    acct.assert_no_writes();
}

#[tokio::test]
async fn accounts_are_isolated() {
    let a = Account::new();
    let b = Account::new();
    assert_ne!(a.id, b.id);
    assert_eq!(a.id.len(), 12);
    let sns_a = aws_sdk_sns::Client::new(&a.sdk_config());
    let sns_b = aws_sdk_sns::Client::new(&b.sdk_config());

    let arn_a = sns_a
        .create_topic()
        .name("same-name")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let seen_by_b = sns_b.list_topics().send().await.unwrap();
    assert!(seen_by_b.topics().is_empty(), "{seen_by_b:?}");
    let arn_b = sns_b
        .create_topic()
        .name("same-name")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    assert_eq!(arn_a, format!("arn:aws:sns:us-east-1:{}:same-name", a.id));
    assert_eq!(arn_b, format!("arn:aws:sns:us-east-1:{}:same-name", b.id));
    let listed: Vec<_> = sns_a
        .list_topics()
        .send()
        .await
        .unwrap()
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn().map(str::to_string))
        .collect();
    assert_eq!(listed, [arn_a]);
    // Each account's call log holds only its own calls.
    assert_eq!(a.calls().len(), 2);
    assert_eq!(b.calls().len(), 2);
}

// --- faults --------------------------------------------------------------------

#[tokio::test]
async fn throttle_has_each_services_code_and_is_retried() {
    let acct = Account::new();
    acct.inject(json!({"rules": [{"kind": "throttle"}]}));
    let cfg = acct.sdk_config();

    let err = aws_sdk_sns::Client::new(&cfg)
        .list_topics()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("Throttling"), "{err:?}");
    assert_eq!(status(&err), 400);
    let err = aws_sdk_iam::Client::new(&cfg)
        .list_roles()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("Throttling"), "{err:?}");
    let err = aws_sdk_lambda::Client::new(&cfg)
        .list_functions()
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_too_many_requests_exception()),
        "{err:?}"
    );
    assert_eq!(status(&err), 429);
    let err = aws_sdk_cloudwatchlogs::Client::new(&cfg)
        .describe_log_groups()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ThrottlingException"), "{err:?}");
    let err = aws_sdk_cloudwatch::Client::new(&cfg)
        .describe_alarms()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("Throttling"), "{err:?}");
    assert_eq!(status(&err), 400);

    // Only the first matching call is throttled: the SDK's retry absorbs it.
    acct.inject(json!({"rules": [{"kind": "throttle", "service": "sns", "operation": "CreateTopic", "nth": 1}]}));
    acct.reset_calls();
    let sns = aws_sdk_sns::Client::new(&acct.sdk_config_with_retries(3));
    sns.create_topic().name("t-retry").send().await.unwrap();
    assert_eq!(
        acct.calls(),
        [
            faulted("sns", "CreateTopic", true, "throttle"),
            call("sns", "CreateTopic", true),
        ]
    );
}

#[tokio::test]
async fn nth_filters_by_service_and_operation() {
    let acct = Account::new();
    acct.inject(json!({"rules": [{"kind": "throttle", "service": "sns", "operation": "CreateTopic", "nth": 2}]}));
    let sns = aws_sdk_sns::Client::new(&acct.sdk_config());
    sns.list_topics().send().await.unwrap();
    sns.create_topic().name("a").send().await.unwrap();
    sns.list_topics().send().await.unwrap();
    let err = sns.create_topic().name("b").send().await.unwrap_err();
    assert_eq!(err.code(), Some("Throttling"));
    sns.create_topic().name("b").send().await.unwrap();
    assert_eq!(
        acct.calls(),
        [
            call("sns", "ListTopics", false),
            call("sns", "CreateTopic", true),
            call("sns", "ListTopics", false),
            faulted("sns", "CreateTopic", true, "throttle"),
            call("sns", "CreateTopic", true),
        ]
    );
    acct.clear_faults();
    sns.create_topic().name("c").send().await.unwrap();
}

#[tokio::test]
async fn error500_is_a_server_error_and_is_retried() {
    let acct = Account::new();
    acct.inject(json!({"rules": [{"kind": "error500", "nth": 1}]}));
    let err = aws_sdk_sns::Client::new(&acct.sdk_config())
        .list_topics()
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, SdkError::ServiceError(_)), "{err:?}");
    assert_eq!(status(&err), 500);
    assert_eq!(err.code(), Some("InternalFailure"));

    acct.inject(json!({"rules": [{"kind": "error500", "service": "cloudwatch", "nth": 1}]}));
    let err = aws_sdk_cloudwatch::Client::new(&acct.sdk_config())
        .describe_alarms()
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&err), 500, "{err:?}");

    acct.inject(json!({"rules": [{"kind": "error500", "service": "lambda", "nth": 1}]}));
    acct.reset_calls();
    let lambda = aws_sdk_lambda::Client::new(&acct.sdk_config_with_retries(2));
    lambda.list_functions().send().await.unwrap();
    assert_eq!(
        acct.calls(),
        [
            faulted("lambda", "ListFunctions", false, "error500"),
            call("lambda", "ListFunctions", false),
        ]
    );
}

#[tokio::test]
async fn fraction_faults_are_seeded() {
    let acct = Account::new();
    let sns = aws_sdk_sns::Client::new(&acct.sdk_config());
    let mut runs = Vec::new();
    for _ in 0..2 {
        acct.inject(json!({"rules": [{"kind": "error500", "fraction": 0.5, "seed": 7}]}));
        let mut pattern = Vec::new();
        for _ in 0..16 {
            pattern.push(sns.list_topics().send().await.is_err());
        }
        runs.push(pattern);
    }
    assert_eq!(runs[0], runs[1], "same seed, same faults");
    let failed = runs[0].iter().filter(|f| **f).count();
    assert!((1..16).contains(&failed), "{:?}", runs[0]);
    let logged = acct.calls().iter().filter(|c| c.fault.is_some()).count();
    assert_eq!(logged, 2 * failed);
}

#[tokio::test]
async fn drop_is_a_dispatch_failure() {
    let acct = Account::new();
    acct.inject(json!({"rules": [{"kind": "drop", "service": "cloudwatch", "nth": 1}]}));
    let cw = aws_sdk_cloudwatch::Client::new(&acct.sdk_config());
    let err = cw.describe_alarms().send().await.unwrap_err();
    assert!(matches!(err, SdkError::DispatchFailure(_)), "{err:?}");
    cw.describe_alarms().send().await.unwrap();
    assert_eq!(
        acct.calls(),
        [
            faulted("cloudwatch", "DescribeAlarms", false, "drop"),
            call("cloudwatch", "DescribeAlarms", false),
        ]
    );
}

#[tokio::test]
async fn iam_propagation_fails_create_function_k_times() {
    let acct = Account::new();
    acct.inject(json!({"rules": [{"kind": "iam_propagation", "count": 3}]}));
    let cfg = acct.sdk_config();
    // Not a Lambda create/update: untouched.
    let role = create_role(&aws_sdk_iam::Client::new(&cfg), "t-relay").await;
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    lambda.list_functions().send().await.unwrap();

    let zip = bootstrap_zip("x");
    for attempt in 1..=3 {
        let err = create_function(&lambda, "t-relay", &role, &zip)
            .await
            .unwrap_err();
        let service = err
            .as_service_error()
            .unwrap_or_else(|| panic!("attempt {attempt}: {err:?}"));
        assert!(service.is_invalid_parameter_value_exception(), "{err:?}");
        assert_eq!(service.message(), Some(ROLE_NOT_ASSUMABLE));
    }
    let created = create_function(&lambda, "t-relay", &role, &zip)
        .await
        .unwrap();
    assert_eq!(created.code_sha256(), Some(code_sha256(&zip).as_str()));
    assert_eq!(acct.count("lambda", "CreateFunction"), 4);
    let faults: Vec<_> = acct.calls().into_iter().filter_map(|c| c.fault).collect();
    assert_eq!(faults, ["iam_propagation"; 3]);
}

#[tokio::test]
async fn latency_delays_every_call() {
    let acct = Account::new();
    let sns = aws_sdk_sns::Client::new(&acct.sdk_config());
    sns.list_topics().send().await.unwrap(); // warm up the client
    acct.inject(json!({"latency_ms": 150}));
    let start = Instant::now();
    sns.list_topics().send().await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(150),
        "{:?}",
        start.elapsed()
    );
    acct.clear_faults();
    let start = Instant::now();
    sns.list_topics().send().await.unwrap();
    assert!(
        start.elapsed() < Duration::from_millis(150),
        "{:?}",
        start.elapsed()
    );
}

// --- robustness --------------------------------------------------------------

#[tokio::test]
async fn unimplemented_operation_names_itself() {
    let acct = Account::new();
    let err = aws_sdk_cloudwatch::Client::new(&acct.sdk_config())
        .get_metric_widget_image()
        .metric_widget("{}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&err), 501, "{err:?}");
    let message = err.message().unwrap_or_default();
    assert!(
        message.contains("cloudwatch.GetMetricWidgetImage") && message.contains("not implemented"),
        "{message}"
    );
}

#[test]
fn control_endpoints() {
    let url = support::fake_url();
    let agent = ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut health = agent.get(format!("{url}/_fake/health")).call().unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.body_mut().read_to_string().unwrap().trim(), "ok");
    let bad = agent
        .post(format!("{url}/_fake/faults"))
        .send_json(json!({"account": "1", "rules": [{"kind": "meteor"}]}))
        .unwrap();
    assert_eq!(bad.status(), 400);
    let missing = agent.get(format!("{url}/_fake/nope")).call().unwrap();
    assert_eq!(missing.status(), 404);
}
