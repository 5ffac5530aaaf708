//! AWS's rules the fake enforces where moto is lenient (issue 9, section 2),
//! each shown through the Rust SDK: Lambda states and their conflicts, the
//! policy size cap, GetFunction's TagsError, tag rules per service, IAM's
//! DeleteConflict after DeleteRolePolicy, DeleteAlarms on a missing name,
//! FilterLogEvents' delay, request-rate quotas, model validation, and atomic
//! check-then-act under concurrent calls.

use std::time::Duration;

use aws_sdk_lambda::types::{LastUpdateStatus, State};
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use futures::future::join_all;
use serde_json::json;

use super::{
    bootstrap_zip, create_function, create_role, function_request, parse, role_request, status,
};
use crate::support::{Account, cpu_alarm};

const BUSY: &str = "The operation cannot be performed at this time.";

use crate::support::function_states as states;
pub(crate) use crate::support::wait_function_ready as wait_ready;

fn code_and_message<E: ProvideErrorMetadata>(err: &SdkError<E>) -> (String, String) {
    (
        err.code().unwrap_or("<none>").to_string(),
        err.message().unwrap_or("").to_string(),
    )
}

// --- Lambda states -------------------------------------------------------------

#[tokio::test]
async fn lambda_is_pending_after_create_and_refuses_writes_meanwhile() {
    let acct = Account::new();
    let cfg = acct.sdk_config();
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let role = create_role(&aws_sdk_iam::Client::new(&cfg), "t-relay").await;
    let created = create_function(&lambda, "t-relay", &role, &bootstrap_zip("x"))
        .await
        .unwrap();
    assert_eq!(created.state(), Some(&State::Pending));
    let arn = created.function_arn().unwrap().to_string();

    // Every write the issue names is refused while Pending.
    let err = lambda
        .update_function_configuration()
        .function_name("t-relay")
        .memory_size(256)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_conflict_exception()),
        "{err:?}"
    );
    assert!(err.message().unwrap().starts_with(BUSY), "{err:?}");
    assert_eq!(status(&err), 409);
    let err = lambda
        .update_function_code()
        .function_name("t-relay")
        .zip_file(aws_sdk_lambda::primitives::Blob::new(bootstrap_zip("y")))
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_conflict_exception())
    );
    let err = lambda
        .tag_resource()
        .resource(&arn)
        .tags("k", "v")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_conflict_exception())
    );
    let err = lambda
        .add_permission()
        .function_name("t-relay")
        .statement_id("s")
        .action("lambda:InvokeFunction")
        .principal("sns.amazonaws.com")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_conflict_exception())
    );

    // Default: two reads show Pending (GetFunction counts too), then Active.
    let got = lambda
        .get_function()
        .function_name("t-relay")
        .send()
        .await
        .unwrap();
    let conf = got.configuration().unwrap();
    assert_eq!(conf.state(), Some(&State::Pending));
    assert_eq!(
        conf.state_reason_code().map(|c| c.as_str()),
        Some("Creating")
    );
    assert_eq!(
        states(&lambda, "t-relay").await,
        (State::Pending, LastUpdateStatus::InProgress)
    );
    assert_eq!(
        states(&lambda, "t-relay").await,
        (State::Active, LastUpdateStatus::Successful)
    );

    // An update: InProgress for two reads, other writes refused meanwhile.
    let updated = lambda
        .update_function_configuration()
        .function_name("t-relay")
        .memory_size(256)
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated.last_update_status(),
        Some(&LastUpdateStatus::InProgress)
    );
    let err = lambda
        .update_function_code()
        .function_name("t-relay")
        .zip_file(aws_sdk_lambda::primitives::Blob::new(bootstrap_zip("y")))
        .send()
        .await
        .unwrap_err();
    assert!(
        err.message()
            .unwrap()
            .contains(&format!("An update is in progress for resource: {arn}")),
        "{err:?}"
    );
    assert_eq!(
        states(&lambda, "t-relay").await,
        (State::Active, LastUpdateStatus::InProgress)
    );
    assert_eq!(
        states(&lambda, "t-relay").await,
        (State::Active, LastUpdateStatus::InProgress)
    );
    assert_eq!(
        states(&lambda, "t-relay").await,
        (State::Active, LastUpdateStatus::Successful)
    );
    // Now the write goes through.
    lambda
        .update_function_code()
        .function_name("t-relay")
        .zip_file(aws_sdk_lambda::primitives::Blob::new(bootstrap_zip("y")))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn lambda_pending_reads_are_set_per_account() {
    let acct = Account::new();
    acct.inject(json!({"lambda_pending_reads": 4, "lambda_in_progress_reads": 0}));
    let cfg = acct.sdk_config();
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let role = create_role(&aws_sdk_iam::Client::new(&cfg), "t-relay").await;
    create_function(&lambda, "t-relay", &role, &bootstrap_zip("x"))
        .await
        .unwrap();
    for _ in 0..4 {
        assert_eq!(states(&lambda, "t-relay").await.0, State::Pending);
    }
    assert_eq!(states(&lambda, "t-relay").await.0, State::Active);
    // Zero InProgress reads: an update is done at once.
    let updated = lambda
        .update_function_configuration()
        .function_name("t-relay")
        .timeout(20)
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated.last_update_status(),
        Some(&LastUpdateStatus::Successful)
    );

    // Another account keeps the default of two.
    let other = Account::new();
    let cfg = other.sdk_config();
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let role = create_role(&aws_sdk_iam::Client::new(&cfg), "t-relay").await;
    create_function(&lambda, "t-relay", &role, &bootstrap_zip("x"))
        .await
        .unwrap();
    let mut pending = 0;
    while states(&lambda, "t-relay").await.0 == State::Pending {
        pending += 1;
    }
    assert_eq!(pending, 2);
}

#[tokio::test]
async fn lambda_failed_switch_leaves_state_or_update_failed_with_a_reason() {
    let acct = Account::new();
    acct.inject(
        json!({"lambda_failed": {"on": "create", "reason_code": "InvalidZipFileException",
                                          "reason": "Could not unzip uploaded file."}}),
    );
    let cfg = acct.sdk_config();
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let role = create_role(&aws_sdk_iam::Client::new(&cfg), "t-relay").await;
    create_function(&lambda, "t-relay", &role, &bootstrap_zip("x"))
        .await
        .unwrap();
    assert_eq!(wait_ready(&lambda, "t-relay").await.0, State::Failed);
    let c = lambda
        .get_function_configuration()
        .function_name("t-relay")
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.state_reason_code().map(|c| c.as_str()),
        Some("InvalidZipFileException")
    );
    assert_eq!(c.state_reason(), Some("Could not unzip uploaded file."));

    let acct = Account::new();
    acct.inject(
        json!({"lambda_failed": {"on": "update", "reason_code": "InvalidRuntime",
                                          "reason": "The runtime is not supported."}}),
    );
    let cfg = acct.sdk_config();
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let role = create_role(&aws_sdk_iam::Client::new(&cfg), "t-relay").await;
    create_function(&lambda, "t-relay", &role, &bootstrap_zip("x"))
        .await
        .unwrap();
    assert_eq!(
        wait_ready(&lambda, "t-relay").await,
        (State::Active, LastUpdateStatus::Successful),
        "a create is not an update"
    );
    lambda
        .update_function_configuration()
        .function_name("t-relay")
        .memory_size(256)
        .send()
        .await
        .unwrap();
    assert_eq!(
        wait_ready(&lambda, "t-relay").await,
        (State::Active, LastUpdateStatus::Failed)
    );
    let c = lambda
        .get_function_configuration()
        .function_name("t-relay")
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.last_update_status_reason_code().map(|c| c.as_str()),
        Some("InvalidRuntime")
    );
    assert_eq!(
        c.last_update_status_reason(),
        Some("The runtime is not supported.")
    );
}

// --- Lambda policy and tags ------------------------------------------------------

#[tokio::test]
async fn lambda_policy_is_capped_at_20480_bytes() {
    let acct = Account::new();
    acct.inject(json!({"lambda_pending_reads": 0}));
    let cfg = acct.sdk_config();
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let role = create_role(&aws_sdk_iam::Client::new(&cfg), "t-relay").await;
    create_function(&lambda, "t-relay", &role, &bootstrap_zip("x"))
        .await
        .unwrap();
    // Each statement is ~400 bytes: the cap is reached within 60.
    let topic = |i: usize| format!("arn:aws:sns:us-east-1:{}:{}-{i}", acct.id, "t".repeat(200));
    let mut added = 0;
    let err = loop {
        let res = lambda
            .add_permission()
            .function_name("t-relay")
            .statement_id(format!("s{added}"))
            .action("lambda:InvokeFunction")
            .principal("sns.amazonaws.com")
            .source_arn(topic(added))
            .send()
            .await;
        match res {
            Ok(_) => added += 1,
            Err(e) => break e,
        }
        assert!(added < 100, "no cap after 100 statements");
    };
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_policy_length_exceeded_exception()),
        "{err:?}"
    );
    assert!(added > 10, "refused too early, after {added}");
    let policy = lambda
        .get_policy()
        .function_name("t-relay")
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    assert!(policy.len() <= 20480, "{} bytes kept", policy.len());
    let sids: Vec<String> = parse(&policy)["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap().to_string())
        .collect();
    // The refused statement was not kept; all earlier ones were.
    assert_eq!(sids.len(), added);
    assert!(!sids.contains(&format!("s{added}")));
}

#[tokio::test]
async fn get_function_without_list_tags_permission_has_tags_error() {
    let acct = Account::new();
    let cfg = acct.sdk_config();
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let role = create_role(&aws_sdk_iam::Client::new(&cfg), "t-relay").await;
    let arn = function_request(&lambda, "t-relay", &role, &bootstrap_zip("x"))
        .tags("relayctl:stack", "t")
        .send()
        .await
        .unwrap()
        .function_arn
        .unwrap();
    let got = lambda
        .get_function()
        .function_name("t-relay")
        .send()
        .await
        .unwrap();
    assert_eq!(got.tags().unwrap()["relayctl:stack"], "t");
    assert!(got.tags_error().is_none());

    acct.inject(json!({"lambda_list_tags_denied": true}));
    let got = lambda
        .get_function()
        .function_name("t-relay")
        .send()
        .await
        .unwrap();
    assert!(got.tags().is_none(), "{:?}", got.tags());
    let tags_error = got.tags_error().expect("TagsError");
    assert_eq!(tags_error.error_code(), "AccessDeniedException");
    assert!(
        tags_error.message().contains("lambda:ListTags"),
        "{tags_error:?}"
    );
    assert!(got.configuration().is_some());
    let err = lambda.list_tags().resource(&arn).send().await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDeniedException"), "{err:?}");
    assert_eq!(status(&err), 403);
}

#[tokio::test]
async fn tags_are_checked_per_service() {
    use aws_sdk_cloudwatch::types::Tag as CwTag;
    use aws_sdk_iam::types::Tag as IamTag;
    use aws_sdk_sns::types::Tag as SnsTag;
    let acct = Account::new();
    acct.inject(json!({"lambda_pending_reads": 0}));
    let cfg = acct.sdk_config();
    let iam = aws_sdk_iam::Client::new(&cfg);
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&cfg);
    let sns = aws_sdk_sns::Client::new(&cfg);
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);
    let role = create_role(&iam, "t-relay").await;
    let function = create_function(&lambda, "t-relay", &role, &bootstrap_zip("x"))
        .await
        .unwrap()
        .function_arn
        .unwrap();
    logs.create_log_group()
        .log_group_name("/aws/lambda/t-relay")
        .send()
        .await
        .unwrap();
    let log_group = format!(
        "arn:aws:logs:us-east-1:{}:log-group:/aws/lambda/t-relay",
        acct.id
    );
    let topic = sns
        .create_topic()
        .name("t-alarms")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    cpu_alarm(&cw, "t-cpu").send().await.unwrap();
    let alarm = format!("arn:aws:cloudwatch:us-east-1:{}:alarm:t-cpu", acct.id);

    // One TagResource per service with `tags` (key, value) pairs: the error
    // code, or None when accepted.
    async fn tag(
        which: &str,
        tags: &[(String, String)],
        c: &(
            &aws_sdk_iam::Client,
            &aws_sdk_lambda::Client,
            &aws_sdk_cloudwatchlogs::Client,
            &aws_sdk_sns::Client,
            &aws_sdk_cloudwatch::Client,
        ),
        arns: &(&str, &str, &str, &str),
    ) -> Option<String> {
        let (iam, lambda, logs, sns, cw) = c;
        let (function, log_group, topic, alarm) = arns;
        // An error the SDK could not read must not pass for "accepted".
        fn code<E: ProvideErrorMetadata + std::fmt::Debug>(e: SdkError<E>) -> String {
            e.code()
                .map_or_else(|| format!("no code: {e:?}"), str::to_string)
        }
        match which {
            "iam" => {
                let mut req = iam.tag_role().role_name("t-relay");
                for (k, v) in tags {
                    req = req.tags(IamTag::builder().key(k).value(v).build().unwrap());
                }
                req.send().await.err().map(code)
            }
            "lambda" => {
                let mut req = lambda.tag_resource().resource(*function);
                for (k, v) in tags {
                    req = req.tags(k, v);
                }
                req.send().await.err().map(code)
            }
            "logs" => {
                let mut req = logs.tag_resource().resource_arn(*log_group);
                for (k, v) in tags {
                    req = req.tags(k, v);
                }
                req.send().await.err().map(code)
            }
            "sns" => {
                let mut req = sns.tag_resource().resource_arn(*topic);
                for (k, v) in tags {
                    req = req.tags(SnsTag::builder().key(k).value(v).build().unwrap());
                }
                req.send().await.err().map(code)
            }
            _ => {
                let mut req = cw.tag_resource().resource_arn(*alarm);
                for (k, v) in tags {
                    req = req.tags(CwTag::builder().key(k).value(v).build());
                }
                req.send().await.err().map(code)
            }
        }
    }
    let clients = (&iam, &lambda, &logs, &sns, &cw);
    let arns = (
        function.as_str(),
        log_group.as_str(),
        topic.as_str(),
        alarm.as_str(),
    );
    let one = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    let many = |n: usize, prefix: &str| {
        (0..n)
            .map(|i| (format!("{prefix}{i}"), "v".to_string()))
            .collect::<Vec<_>>()
    };
    // (service, code for the aws: prefix, for a character outside the
    // allowed set, for too many tags). Where the service's model has the
    // tag pattern (IAM, Lambda, Logs) its validation error comes first.
    let services = [
        ("iam", "InvalidInput", "ValidationError", "LimitExceeded"),
        (
            "lambda",
            "InvalidParameterValueException",
            "ValidationException",
            "InvalidParameterValueException",
        ),
        (
            "logs",
            "InvalidParameterException",
            "InvalidParameterException",
            "TooManyTagsException",
        ),
        (
            "sns",
            "InvalidParameter",
            "InvalidParameter",
            "TagLimitExceeded",
        ),
        (
            "cloudwatch",
            "InvalidParameterValue",
            "InvalidParameterValue",
            "InvalidParameterValue",
        ),
    ];
    for (svc, reserved, bad, too_many) in services {
        let refused = |tags: Vec<(String, String)>| {
            let clients = &clients;
            let arns = &arns;
            async move { tag(svc, &tags, clients, arns).await }
        };
        assert_eq!(
            refused(one("team", "platform")).await,
            None,
            "{svc}: a good tag"
        );
        assert_eq!(
            refused(one("aws:stack", "x")).await.as_deref(),
            Some(reserved),
            "{svc}: aws: prefix"
        );
        assert_eq!(
            refused(one("AWS:Stack", "x")).await.as_deref(),
            Some(reserved),
            "{svc}: aws: prefix in capitals"
        );
        assert_eq!(
            refused(one("team", "a;b")).await.as_deref(),
            Some(bad),
            "{svc}: ';' in a value"
        );
        assert_eq!(
            refused(one("te\u{1b}[31mam", "x")).await.as_deref(),
            Some(bad),
            "{svc}: an escape sequence in a key"
        );
        // Unicode letters and the allowed punctuation pass.
        assert_eq!(
            refused(one("équipe_1.a:b/c=d+e-f@g", "Zürich plateforme")).await,
            None,
            "{svc}: unicode letters"
        );
        // Past 50 with the two the resource already has: refused.
        assert_eq!(
            refused(many(49, "k")).await.as_deref(),
            Some(too_many),
            "{svc}: 2 + 49 tags"
        );
        assert_eq!(refused(many(48, "k")).await, None, "{svc}: 2 + 48 tags");
        // Re-tagging existing keys does not count twice.
        assert_eq!(refused(many(48, "k")).await, None, "{svc}: same 48 again");
        assert_eq!(
            refused(one("one-more", "x")).await.as_deref(),
            Some(too_many),
            "{svc}: a 51st key"
        );
        // Key and value lengths (the model or the tag rules, whichever first).
        assert!(
            refused(one(&"k".repeat(129), "x")).await.is_some(),
            "{svc}: 129-char key"
        );
        assert!(
            refused(one("team", &"v".repeat(257))).await.is_some(),
            "{svc}: 257-char value"
        );
    }

    // Create calls carry tags too.
    let err = role_request(&iam, "t-other")
        .tags(IamTag::builder().key("aws:x").value("y").build().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidInput"));
    let err = sns
        .create_topic()
        .name("t-other")
        .set_tags(Some(
            many(51, "k")
                .into_iter()
                .map(|(k, v)| SnsTag::builder().key(k).value(v).build().unwrap())
                .collect(),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("TagLimitExceeded"));
}

// --- IAM, CloudWatch, Logs ------------------------------------------------------

#[tokio::test]
async fn delete_role_conflicts_for_n_calls_after_delete_role_policy() {
    let acct = Account::new();
    acct.inject(json!({"iam_delete_conflicts": 2}));
    let iam = aws_sdk_iam::Client::new(&acct.sdk_config());
    create_role(&iam, "t-relay").await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"}]}"#;
    iam.put_role_policy()
        .role_name("t-relay")
        .policy_name("logs")
        .policy_document(policy)
        .send()
        .await
        .unwrap();
    iam.delete_role_policy()
        .role_name("t-relay")
        .policy_name("logs")
        .send()
        .await
        .unwrap();
    for _ in 0..2 {
        let err = iam
            .delete_role()
            .role_name("t-relay")
            .send()
            .await
            .unwrap_err();
        assert!(
            err.as_service_error()
                .is_some_and(|e| e.is_delete_conflict_exception()),
            "{err:?}"
        );
    }
    iam.delete_role().role_name("t-relay").send().await.unwrap();
    assert!(iam.get_role().role_name("t-relay").send().await.is_err());

    // Without DeleteRolePolicy before it, DeleteRole is not held up.
    create_role(&iam, "t-plain").await;
    iam.delete_role().role_name("t-plain").send().await.unwrap();
}

#[tokio::test]
async fn delete_alarms_with_a_missing_name_is_resource_not_found() {
    let acct = Account::new();
    let cw = aws_sdk_cloudwatch::Client::new(&acct.sdk_config());
    cpu_alarm(&cw, "t-cpu").send().await.unwrap();
    let err = cw
        .delete_alarms()
        .alarm_names("t-cpu")
        .alarm_names("t-missing")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_resource_not_found()),
        "{err:?}"
    );
    assert!(err.message().unwrap().contains("t-missing"), "{err:?}");
    cw.delete_alarms()
        .alarm_names("t-cpu")
        .send()
        .await
        .unwrap();
    let left = cw.describe_alarms().send().await.unwrap();
    assert!(left.metric_alarms().is_empty());
}

#[tokio::test]
async fn filter_log_events_sees_an_event_only_after_the_delay() {
    use aws_sdk_cloudwatchlogs::types::InputLogEvent;
    let acct = Account::new();
    acct.inject(json!({"log_delay_ms": 1000}));
    let logs = aws_sdk_cloudwatchlogs::Client::new(&acct.sdk_config());
    logs.create_log_group()
        .log_group_name("/aws/lambda/t")
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name("/aws/lambda/t")
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    logs.put_log_events()
        .log_group_name("/aws/lambda/t")
        .log_stream_name("s")
        .log_events(
            InputLogEvent::builder()
                .timestamp(now)
                .message("posted to Slack")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let filter = || {
        logs.filter_log_events()
            .log_group_name("/aws/lambda/t")
            .send()
    };
    assert!(filter().await.unwrap().events().is_empty(), "seen at once");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let events = filter().await.unwrap();
    assert_eq!(events.events().len(), 1);
    assert_eq!(events.events()[0].message(), Some("posted to Slack"));
}

// --- quotas ------------------------------------------------------------------------

#[tokio::test]
async fn request_rate_quotas_throttle_with_each_services_error() {
    let acct = Account::new();
    acct.inject(
        json!({"quotas": {"sns:ListTopics": 2, "lambda:ListFunctions": 2,
                                  "cloudwatch:DescribeAlarms": 2}}),
    );
    let cfg = acct.sdk_config();
    let sns = aws_sdk_sns::Client::new(&cfg);
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);

    // A burst of 2 passes; the third within the same second is throttled.
    let mut sns_results = Vec::new();
    for _ in 0..3 {
        sns_results.push(
            sns.list_topics()
                .send()
                .await
                .err()
                .map(|e| code_and_message(&e).0),
        );
    }
    assert_eq!(sns_results, [None, None, Some("Throttling".to_string())]);
    let mut lambda_errs = Vec::new();
    for _ in 0..3 {
        lambda_errs.push(lambda.list_functions().send().await.err());
    }
    let err = lambda_errs[2]
        .as_ref()
        .expect("third ListFunctions throttled");
    assert!(lambda_errs[..2].iter().all(Option::is_none));
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_too_many_requests_exception()),
        "{err:?}"
    );
    assert_eq!(status(err), 429);
    let mut cw_errs = Vec::new();
    for _ in 0..3 {
        cw_errs.push(cw.describe_alarms().send().await.err());
    }
    assert_eq!(
        cw_errs[2].as_ref().and_then(|e| e.code()),
        Some("Throttling")
    );
    // Operations without an override keep the (generous) defaults.
    for _ in 0..5 {
        sns.list_subscriptions().send().await.unwrap();
    }
    let quota = acct
        .calls()
        .into_iter()
        .filter(|c| c.fault.as_deref() == Some("quota"))
        .map(|c| c.operation)
        .collect::<Vec<_>>();
    assert_eq!(quota, ["ListTopics", "ListFunctions", "DescribeAlarms"]);

    // The bucket refills at the rate: half a second buys one more call.
    tokio::time::sleep(Duration::from_millis(600)).await;
    sns.list_topics().send().await.unwrap();
    // With the SDK's retries the throttled call succeeds after a backoff.
    let retrying = aws_sdk_sns::Client::new(&acct.sdk_config_with_retries(20));
    for _ in 0..2 {
        retrying.list_topics().send().await.unwrap();
    }
}

#[tokio::test]
async fn quotas_are_off_by_default() {
    let acct = Account::new();
    let cw = aws_sdk_cloudwatch::Client::new(&acct.sdk_config());
    // Far beyond DescribeAlarms' 9/s: nothing is throttled without the switch.
    for _ in 0..30 {
        cw.describe_alarms().send().await.unwrap();
    }
    acct.inject(json!({"quotas": true}));
    let mut throttled = 0;
    for _ in 0..30 {
        if cw.describe_alarms().send().await.is_err() {
            throttled += 1;
        }
    }
    assert!(
        throttled > 0,
        "30 DescribeAlarms at once passed a 9/s quota"
    );
}

// --- model validation ------------------------------------------------------------

#[tokio::test]
async fn requests_are_validated_against_the_service_model() {
    let acct = Account::new();
    let cfg = acct.sdk_config();
    let iam = aws_sdk_iam::Client::new(&cfg);
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&cfg);
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);
    let sns = aws_sdk_sns::Client::new(&cfg);

    // IAM (Query): pattern of RoleName.
    let err = role_request(&iam, "bad name!").send().await.unwrap_err();
    let (code, message) = code_and_message(&err);
    assert_eq!(code, "ValidationError");
    assert!(
        message.starts_with("1 validation error detected: Value 'bad name!' at 'roleName'"),
        "{message}"
    );
    assert!(message.contains("regular expression pattern"), "{message}");

    // Lambda (REST-JSON): a range and a length, both named.
    let role = create_role(&iam, "t-relay").await;
    let err = function_request(&lambda, "bad name", &role, &bootstrap_zip("x"))
        .memory_size(99_999)
        .send()
        .await
        .unwrap_err();
    let (code, message) = code_and_message(&err);
    assert_eq!(code, "ValidationException");
    assert!(
        message.starts_with("2 validation errors detected"),
        "{message}"
    );
    // botocore's model says 32768 (AWS's documented maximum is 10240 MB).
    assert!(
        message.contains("Value '99999' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 32768"),
        "{message}"
    );
    assert!(
        message.contains("Value 'bad name' at 'functionName'"),
        "{message}"
    );
    // A path member (GetFunction's FunctionName) is checked too.
    let err = lambda
        .get_function()
        .function_name("no spaces allowed")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");

    // Logs (JSON 1.1): pattern of logGroupName.
    let err = logs
        .create_log_group()
        .log_group_name("bad name")
        .send()
        .await
        .unwrap_err();
    let (code, message) = code_and_message(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("at 'logGroupName'"), "{message}");

    // CloudWatch (CBOR): a minimum and a maximum.
    let err = cpu_alarm(&cw, "t-cpu")
        .evaluation_periods(0)
        .alarm_description("d".repeat(1025))
        .send()
        .await
        .unwrap_err();
    let (code, message) = code_and_message(&err);
    assert_eq!(code, "ValidationError");
    assert!(message.contains("at 'evaluationPeriods'"), "{message}");
    assert!(message.contains("at 'alarmDescription'"), "{message}");

    // SNS (Query): a nested list member, 1-based like AWS.
    let err = sns
        .create_topic()
        .name("t")
        .tags(
            aws_sdk_sns::types::Tag::builder()
                .key("ok")
                .value("v")
                .build()
                .unwrap(),
        )
        .tags(
            aws_sdk_sns::types::Tag::builder()
                .key("k".repeat(129))
                .value("v")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    let (code, message) = code_and_message(&err);
    assert_eq!(code, "ValidationError");
    assert!(message.contains("at 'tags.2.member.key'"), "{message}");

    // Nothing was created by the refused calls.
    assert!(
        lambda
            .list_functions()
            .send()
            .await
            .unwrap()
            .functions()
            .is_empty()
    );
    assert!(
        cw.describe_alarms()
            .send()
            .await
            .unwrap()
            .metric_alarms()
            .is_empty()
    );

    // The switch lets a test send what AWS would refuse: moto accepts it.
    acct.inject(json!({"validation": false}));
    role_request(&iam, "bad name!").send().await.unwrap();
}

// --- atomic check-then-act ---------------------------------------------------------

/// `n` copies of one call at once: how many succeeded, and the errors' codes.
async fn race<T, E, F>(n: usize, call: impl Fn(usize) -> F) -> (usize, Vec<String>)
where
    F: std::future::Future<Output = Result<T, SdkError<E>>>,
    E: ProvideErrorMetadata + std::fmt::Debug,
{
    let results = join_all((0..n).map(call)).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let codes = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(|e| e.code().unwrap_or("<none>").to_string())
        .collect();
    (ok, codes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_succeed_exactly_once() {
    let acct = Account::new();
    acct.inject(json!({"lambda_pending_reads": 0}));
    let cfg = acct.sdk_config();
    let iam = aws_sdk_iam::Client::new(&cfg);
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&cfg);
    let sns = aws_sdk_sns::Client::new(&cfg);
    const N: usize = 8;

    let (ok, codes) = race(N, |_| role_request(&iam, "t-relay").send()).await;
    assert_eq!(
        (ok, codes),
        (1, vec!["EntityAlreadyExists".to_string(); N - 1])
    );

    let role = format!("arn:aws:iam::{}:role/t-relay", acct.id);
    let zip = bootstrap_zip("x");
    let (ok, codes) = race(N, |_| create_function(&lambda, "t-relay", &role, &zip)).await;
    assert_eq!(
        (ok, codes),
        (1, vec!["ResourceConflictException".to_string(); N - 1])
    );

    let (ok, codes) = race(N, |_| {
        logs.create_log_group()
            .log_group_name("/aws/lambda/t-relay")
            .send()
    })
    .await;
    assert_eq!(
        (ok, codes),
        (1, vec!["ResourceAlreadyExistsException".to_string(); N - 1])
    );

    // Same Sid, eight times at once: one statement, seven conflicts.
    let topic = format!("arn:aws:sns:us-east-1:{}:t-alarms", acct.id);
    let (ok, codes) = race(N, |_| {
        lambda
            .add_permission()
            .function_name("t-relay")
            .statement_id("t-sns")
            .action("lambda:InvokeFunction")
            .principal("sns.amazonaws.com")
            .source_arn(&topic)
            .send()
    })
    .await;
    assert_eq!(
        (ok, codes),
        (1, vec!["ResourceConflictException".to_string(); N - 1])
    );
    let policy = lambda
        .get_policy()
        .function_name("t-relay")
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    assert_eq!(parse(&policy)["Statement"].as_array().unwrap().len(), 1);

    // CreateTopic with a different tag value each: the first one made wins,
    // the others differ from it and are refused.
    let (ok, codes) = race(N, |i| {
        sns.create_topic()
            .name("t-alarms")
            .tags(
                aws_sdk_sns::types::Tag::builder()
                    .key("relayctl:stack")
                    .value(format!("s{i}"))
                    .build()
                    .unwrap(),
            )
            .send()
    })
    .await;
    assert_eq!(
        (ok, codes),
        (1, vec!["InvalidParameter".to_string(); N - 1])
    );
    let tags = sns
        .list_tags_for_resource()
        .resource_arn(&topic)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 1);
}
