//! The whole chain against the fake AWS, through the built `relayctl`
//! binary: what exists after `up`, with which attributes; what `plan`,
//! `status` and `down` do; and which AWS calls each command made.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use base64::Engine as _;
use sha2::Digest as _;
use support::cli::{ok, relayctl_at, text};
use support::{Account, Call};

const WEBHOOK: &str = "https://hooks.slack.invalid/services/T000/B000/secret-token";
const INSTANCE: &str = "i-0123456789abcdef0";

/// A stack folder: stack.yaml plus two handler zips, A and B.
struct Stack {
    dir: tempfile::TempDir,
}

fn stack_yaml(name: &str, threshold: u32, memory: u32) -> String {
    let handler = Path::new(env!("CARGO_MANIFEST_DIR")).join("handler");
    format!(
        "name: {name}\n\
         slack:\n  webhook_url_env: SLACK_WEBHOOK_URL\n\
         handler:\n  path: {}\n  memory_mb: {memory}\n\
         alarms:\n  - name: high-cpu\n    instance_id: {INSTANCE}\n    threshold: {threshold}\n\
         tags:\n  team: platform\n",
        handler.display()
    )
}

impl Stack {
    fn new(name: &str) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stack.yaml"), stack_yaml(name, 80, 128)).unwrap();
        for (file, body) in [("a.zip", "handler A"), ("b.zip", "handler B")] {
            let zip = relayctl::package::zip_bootstrap(body.as_bytes()).unwrap();
            std::fs::write(dir.path().join(file), zip).unwrap();
        }
        Stack { dir }
    }

    fn file(&self) -> PathBuf {
        self.dir.path().join("stack.yaml")
    }

    fn zip(&self, which: &str) -> String {
        self.dir.path().join(which).display().to_string()
    }

    fn rewrite(&self, name: &str, threshold: u32, memory: u32) {
        std::fs::write(self.file(), stack_yaml(name, threshold, memory)).unwrap();
    }

    /// base64 SHA-256 of a zip, computed here, independently of relayctl.
    fn sha(&self, which: &str) -> String {
        let bytes = std::fs::read(self.dir.path().join(which)).unwrap();
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
    }
}

fn relayctl(acct: &Account, stack: &Stack, args: &[&str]) -> Output {
    relayctl_at(acct, &stack.file(), WEBHOOK, args)
}

fn up(acct: &Account, stack: &Stack, zip: &str) -> Output {
    ok(relayctl(acct, stack, &["up", "--zip", &stack.zip(zip)]))
}

fn writes(acct: &Account) -> Vec<(String, String)> {
    acct.writes()
        .into_iter()
        .map(
            |Call {
                 service, operation, ..
             }| (service, operation),
        )
        .collect()
}

fn pair(service: &str, operation: &str) -> (String, String) {
    (service.to_string(), operation.to_string())
}

fn arn(acct: &Account, service: &str, resource: &str) -> String {
    format!("arn:aws:{service}:us-east-1:{}:{resource}", acct.id)
}

struct Clients {
    iam: aws_sdk_iam::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    sns: aws_sdk_sns::Client,
    lambda: aws_sdk_lambda::Client,
    cw: aws_sdk_cloudwatch::Client,
}

fn clients(acct: &Account) -> Clients {
    let c = acct.sdk_config();
    Clients {
        iam: aws_sdk_iam::Client::new(&c),
        logs: aws_sdk_cloudwatchlogs::Client::new(&c),
        sns: aws_sdk_sns::Client::new(&c),
        lambda: aws_sdk_lambda::Client::new(&c),
        cw: aws_sdk_cloudwatch::Client::new(&c),
    }
}

fn expected_tags(stack: &str) -> Vec<(String, String)> {
    vec![
        ("relayctl:stack".to_string(), stack.to_string()),
        ("team".to_string(), "platform".to_string()),
    ]
}

fn sorted<K: Ord + Clone, V: Ord + Clone>(it: impl IntoIterator<Item = (K, V)>) -> Vec<(K, V)> {
    let mut v: Vec<_> = it.into_iter().collect();
    v.sort();
    v
}

/// Any service's tag list (IAM's and SNS's Tag types differ) as sorted
/// (key, value) pairs.
macro_rules! tag_pairs {
    ($tags:expr) => {
        sorted(
            $tags
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string())),
        )
    };
}

#[tokio::test(flavor = "multi_thread")]
async fn fresh_up_creates_every_resource_with_exact_attributes() {
    let acct = Account::new();
    let stack = Stack::new("seed");
    up(&acct, &stack, "a.zip");
    let c = clients(&acct);
    let topic_arn = arn(&acct, "sns", "seed-alarms");
    let function_arn = arn(&acct, "lambda", "function:seed-relay");

    // Alarm: the seed's alarm, acting on the topic.
    let alarms =
        c.cw.describe_alarms()
            .alarm_names("seed-high-cpu")
            .send()
            .await
            .unwrap();
    let a = &alarms.metric_alarms()[0];
    assert_eq!(a.metric_name(), Some("CPUUtilization"));
    assert_eq!(a.namespace(), Some("AWS/EC2"));
    assert_eq!(a.statistic().map(|s| s.as_str()), Some("Average"));
    assert_eq!(a.period(), Some(60));
    assert_eq!(a.evaluation_periods(), Some(1));
    assert_eq!(a.threshold(), Some(80.0));
    assert_eq!(
        a.comparison_operator().map(|c| c.as_str()),
        Some("GreaterThanThreshold")
    );
    let dims: Vec<(&str, &str)> = a
        .dimensions()
        .iter()
        .map(|d| (d.name().unwrap(), d.value().unwrap()))
        .collect();
    assert_eq!(dims, vec![("InstanceId", INSTANCE)]);
    assert_eq!(a.alarm_actions(), std::slice::from_ref(&topic_arn));
    assert_eq!(a.ok_actions(), std::slice::from_ref(&topic_arn));
    let alarm_tags =
        c.cw.list_tags_for_resource()
            .resource_arn(a.alarm_arn().unwrap())
            .send()
            .await
            .unwrap();
    assert_eq!(
        sorted(
            alarm_tags
                .tags()
                .iter()
                .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        ),
        expected_tags("seed")
    );

    // Subscription: the topic delivers to the function.
    let subs = c
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic_arn)
        .send()
        .await
        .unwrap();
    let subs: Vec<(&str, &str)> = subs
        .subscriptions()
        .iter()
        .map(|s| (s.protocol().unwrap(), s.endpoint().unwrap()))
        .collect();
    assert_eq!(subs, vec![("lambda", function_arn.as_str())]);
    let topic_tags = c
        .sns
        .list_tags_for_resource()
        .resource_arn(&topic_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tag_pairs!(topic_tags.tags()), expected_tags("seed"));

    // Permission: only SNS, only from this topic.
    let policy = c
        .lambda
        .get_policy()
        .function_name("seed-relay")
        .send()
        .await
        .unwrap();
    let policy: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{policy}");
    let s = &statements[0];
    assert_eq!(s["Sid"], "seed-sns");
    assert_eq!(s["Principal"]["Service"], "sns.amazonaws.com");
    assert_eq!(s["Action"], "lambda:InvokeFunction");
    assert_eq!(
        s["Condition"]["ArnLike"]["AWS:SourceArn"],
        topic_arn.as_str()
    );

    // Function: runtime, handler, role, size, environment, code.
    let f = c
        .lambda
        .get_function()
        .function_name("seed-relay")
        .send()
        .await
        .unwrap();
    let conf = f.configuration().unwrap();
    assert_eq!(conf.runtime().map(|r| r.as_str()), Some("provided.al2023"));
    assert_eq!(conf.handler(), Some("bootstrap"));
    assert_eq!(
        conf.role(),
        Some(format!("arn:aws:iam::{}:role/seed-relay", acct.id).as_str())
    );
    assert_eq!(conf.memory_size(), Some(128));
    assert_eq!(conf.timeout(), Some(10));
    let env = conf.environment().unwrap().variables().unwrap();
    assert_eq!(
        env.get("SLACK_WEBHOOK_URL").map(String::as_str),
        Some(WEBHOOK)
    );
    assert_eq!(
        env.len(),
        1,
        "no channel configured, so no SLACK_CHANNEL: {:?}",
        env.keys()
    );
    assert_eq!(conf.code_sha256(), Some(stack.sha("a.zip").as_str()));
    assert_eq!(sorted(f.tags().unwrap().clone()), expected_tags("seed"));

    // Role: assumable by Lambda only; may write to its own log group only.
    let role = c
        .iam
        .get_role()
        .role_name("seed-relay")
        .send()
        .await
        .unwrap();
    let trust =
        urlencoding::decode(role.role().unwrap().assume_role_policy_document().unwrap()).unwrap();
    let trust: serde_json::Value = serde_json::from_str(&trust).unwrap();
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"],
        "lambda.amazonaws.com"
    );
    assert_eq!(trust["Statement"][0]["Action"], "sts:AssumeRole");
    let inline = c
        .iam
        .get_role_policy()
        .role_name("seed-relay")
        .policy_name("relayctl-logs-us-east-1")
        .send()
        .await
        .unwrap();
    let inline = urlencoding::decode(inline.policy_document()).unwrap();
    let inline: serde_json::Value = serde_json::from_str(&inline).unwrap();
    assert_eq!(
        inline["Statement"][0]["Resource"],
        format!(
            "arn:aws:logs:us-east-1:{}:log-group:/aws/lambda/seed-relay:*",
            acct.id
        )
    );
    assert_eq!(
        inline["Statement"][0]["Action"],
        serde_json::json!(["logs:CreateLogStream", "logs:PutLogEvents"])
    );
    let role_tags = c
        .iam
        .list_role_tags()
        .role_name("seed-relay")
        .send()
        .await
        .unwrap();
    assert_eq!(tag_pairs!(role_tags.tags()), expected_tags("seed"));

    // Log group: retention set, tagged.
    let groups = c
        .logs
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/seed-relay")
        .send()
        .await
        .unwrap();
    let g = &groups.log_groups()[0];
    assert_eq!(g.log_group_name(), Some("/aws/lambda/seed-relay"));
    assert_eq!(g.retention_in_days(), Some(14));
    let log_tags = c
        .logs
        .list_tags_for_resource()
        .resource_arn(arn(&acct, "logs", "log-group:/aws/lambda/seed-relay"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        sorted(log_tags.tags().unwrap().clone()),
        expected_tags("seed")
    );
}

#[test]
fn second_up_writes_nothing_and_plan_is_empty() {
    let acct = Account::new();
    let stack = Stack::new("idem");
    up(&acct, &stack, "a.zip");
    let created = writes(&acct);
    for w in [
        pair("iam", "CreateRole"),
        pair("iam", "PutRolePolicy"),
        pair("logs", "CreateLogGroup"),
        pair("logs", "PutRetentionPolicy"),
        pair("sns", "CreateTopic"),
        pair("lambda", "CreateFunction"),
        pair("lambda", "AddPermission"),
        pair("cloudwatch", "PutMetricAlarm"),
        pair("sns", "Subscribe"),
    ] {
        assert_eq!(
            created.iter().filter(|c| **c == w).count(),
            1,
            "{w:?} once in {created:?}"
        );
    }
    assert_eq!(created.len(), 9, "{created:?}");

    acct.reset_calls();
    let out = up(&acct, &stack, "a.zip");
    acct.assert_no_writes();
    assert!(
        text(&out.stdout).contains("No changes"),
        "{}",
        text(&out.stdout)
    );

    let out = relayctl(
        &acct,
        &stack,
        &["plan", "--detailed-exitcode", "--zip", &stack.zip("a.zip")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    acct.assert_no_writes();
}

/// The first call of `operation` in the call log.
fn first_call<'a>(calls: &'a [Call], operation: &str) -> &'a Call {
    calls
        .iter()
        .find(|c| c.operation == operation)
        .unwrap_or_else(|| panic!("no {operation} in {calls:#?}"))
}

/// A fresh `up` sends the role's policy and the log group's retention as
/// soon as each resource exists, alongside CreateFunction (which needs only
/// the role), and both are in place before anything that could invoke the
/// function (issue 12 item 5). 200 ms per call keeps the overlap well
/// clear of scheduling noise.
#[test]
fn issue_12_policy_and_retention_go_alongside_the_function_before_any_trigger() {
    let acct = Account::new();
    acct.inject(serde_json::json!({"latency_ms": 200, "rules": []}));
    let stack = Stack::new("overlap");
    up(&acct, &stack, "a.zip");
    let calls = acct.calls();
    let find = |op: &str| first_call(&calls, op);
    let create_fn = find("CreateFunction");
    for (first, then) in [
        ("CreateRole", "PutRolePolicy"),
        ("CreateLogGroup", "PutRetentionPolicy"),
    ] {
        let (first, then) = (find(first), find(then));
        assert!(then.t >= first.end, "{then:?} before {first:?}");
        assert!(
            create_fn.t < then.end,
            "CreateFunction waited for {}: {create_fn:?} {then:?}",
            then.operation
        );
        for trigger in ["Subscribe", "AddPermission", "PutMetricAlarm"] {
            let trigger = find(trigger);
            assert!(
                trigger.t >= then.end,
                "{} before {} was done",
                trigger.operation,
                then.operation
            );
        }
    }
}

/// When the level right above the role has nothing to do (the role was
/// deleted out of band, the function is unchanged), the role's policy is
/// in place before the next level, here the alarm's update, starts: a
/// deferred write never runs alongside what can invoke the function.
#[test]
fn issue_12_a_recreated_roles_policy_is_in_place_before_the_alarm() {
    let acct = Account::new();
    let stack = Stack::new("readd");
    up(&acct, &stack, "a.zip");
    let iam = aws_sdk_iam::Client::new(&acct.sdk_config());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let role = "readd-relay";
        let policies = iam
            .list_role_policies()
            .role_name(role)
            .send()
            .await
            .unwrap();
        for p in policies.policy_names() {
            let delete = iam.delete_role_policy().role_name(role).policy_name(p);
            delete.send().await.unwrap();
        }
        iam.delete_role().role_name(role).send().await.unwrap();
    });
    stack.rewrite("readd", 90, 128);
    acct.inject(serde_json::json!({"latency_ms": 200, "rules": []}));
    acct.reset_calls();
    up(&acct, &stack, "a.zip");
    let calls = acct.calls();
    let find = |op: &str| first_call(&calls, op);
    assert!(
        !calls
            .iter()
            .any(|c| c.operation.starts_with("UpdateFunction")),
        "{calls:#?}"
    );
    let (policy, alarm) = (find("PutRolePolicy"), find("PutMetricAlarm"));
    assert!(
        alarm.t >= policy.end,
        "the alarm went out before the role's policy was in place: {policy:?} {alarm:?}"
    );
}

#[test]
fn plan_writes_nothing_and_exits_2_when_changes_are_pending() {
    let acct = Account::new();
    let stack = Stack::new("planonly");
    let out = relayctl(
        &acct,
        &stack,
        &["plan", "--detailed-exitcode", "--zip", &stack.zip("a.zip")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("7 to create"), "{stdout}");
    assert!(
        !stdout.contains(WEBHOOK) && !text(&out.stderr).contains("secret-token"),
        "webhook leaked: {stdout}"
    );
    acct.assert_no_writes();
    assert!(!acct.calls().is_empty(), "plan must read live state");
}

#[test]
fn each_change_makes_exactly_its_one_write() {
    let acct = Account::new();
    let stack = Stack::new("edit");
    up(&acct, &stack, "a.zip");

    // Threshold: one attribute in the plan, one PutMetricAlarm.
    stack.rewrite("edit", 90, 128);
    let out = relayctl(
        &acct,
        &stack,
        &["plan", "--detailed-exitcode", "--zip", &stack.zip("a.zip")],
    );
    assert_eq!(out.status.code(), Some(2));
    let plan = text(&out.stdout);
    assert!(
        plan.contains("~ cloudwatch alarm edit-high-cpu (update)"),
        "{plan}"
    );
    assert!(
        plan.contains("threshold") && plan.contains("80 -> 90"),
        "{plan}"
    );
    assert!(
        plan.contains("0 to create, 1 to update, 0 to replace, 0 to delete"),
        "{plan}"
    );
    let json = relayctl(
        &acct,
        &stack,
        &["plan", "--output", "json", "--zip", &stack.zip("a.zip")],
    );
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let changed: Vec<&serde_json::Value> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "no_op")
        .collect();
    assert_eq!(changed.len(), 1, "{json}");
    assert_eq!(
        changed[0]["attrs"],
        serde_json::json!([{"name": "threshold", "old": "80", "new": "90", "sensitive": false}])
    );
    acct.reset_calls();
    up(&acct, &stack, "a.zip");
    assert_eq!(writes(&acct), vec![pair("cloudwatch", "PutMetricAlarm")]);

    // Memory: one UpdateFunctionConfiguration.
    stack.rewrite("edit", 90, 256);
    acct.reset_calls();
    up(&acct, &stack, "a.zip");
    assert_eq!(
        writes(&acct),
        vec![pair("lambda", "UpdateFunctionConfiguration")]
    );

    // New handler code: one UpdateFunctionCode, and the new hash is live.
    acct.reset_calls();
    up(&acct, &stack, "b.zip");
    assert_eq!(writes(&acct), vec![pair("lambda", "UpdateFunctionCode")]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let conf = rt
        .block_on(
            clients(&acct)
                .lambda
                .get_function_configuration()
                .function_name("edit-relay")
                .send(),
        )
        .unwrap();
    assert_eq!(conf.code_sha256(), Some(stack.sha("b.zip").as_str()));
    assert_eq!(conf.memory_size(), Some(256));

    acct.reset_calls();
    up(&acct, &stack, "b.zip");
    acct.assert_no_writes();
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_is_reported_by_status_and_repaired_by_up() {
    let acct = Account::new();
    let stack = Stack::new("drift");
    up(&acct, &stack, "a.zip");
    let c = clients(&acct);
    let topic_arn = arn(&acct, "sns", "drift-alarms");

    // Someone edits the alarm in the console: threshold 50, no OK action.
    c.cw.put_metric_alarm()
        .alarm_name("drift-high-cpu")
        .metric_name("CPUUtilization")
        .namespace("AWS/EC2")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(50.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .dimensions(
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name("InstanceId")
                .value(INSTANCE)
                .build(),
        )
        .alarm_actions(&topic_arn)
        .send()
        .await
        .unwrap();

    let out = ok(relayctl(&acct, &stack, &["status"]));
    let status = text(&out.stdout);
    assert!(
        status.contains("drift-high-cpu") && status.contains("DRIFTED"),
        "{status}"
    );
    assert!(
        status.contains("threshold") && status.contains("live 50 / file 80"),
        "{status}"
    );
    assert!(status.contains("ok_actions"), "{status}");
    let json = ok(relayctl(&acct, &stack, &["status", "--output", "json"]));
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["in_sync"], false);
    let out = relayctl(&acct, &stack, &["status", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(2), "drift exits 2 for monitoring");

    acct.reset_calls();
    up(&acct, &stack, "a.zip");
    assert_eq!(writes(&acct), vec![pair("cloudwatch", "PutMetricAlarm")]);
    let a =
        c.cw.describe_alarms()
            .alarm_names("drift-high-cpu")
            .send()
            .await
            .unwrap();
    assert_eq!(a.metric_alarms()[0].threshold(), Some(80.0));
    assert_eq!(
        a.metric_alarms()[0].ok_actions(),
        std::slice::from_ref(&topic_arn)
    );
    let json = ok(relayctl(&acct, &stack, &["status", "--output", "json"]));
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["in_sync"], true, "{json}");
    assert_eq!(json["alarms"][0]["state"], "INSUFFICIENT_DATA", "{json}");
    let out = relayctl(&acct, &stack, &["status", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json["function"]["state"], "Active", "{json}");

    // The topic deleted behind our back: plan shows it (and its
    // subscription) to be created again, up does so.
    c.sns
        .delete_topic()
        .topic_arn(&topic_arn)
        .send()
        .await
        .unwrap();
    let out = relayctl(
        &acct,
        &stack,
        &["plan", "--detailed-exitcode", "--zip", &stack.zip("a.zip")],
    );
    assert_eq!(out.status.code(), Some(2));
    let plan = text(&out.stdout);
    assert!(plan.contains("+ sns topic drift-alarms (create)"), "{plan}");
    assert!(
        plan.contains("+ sns subscription drift-alarms -> drift-relay (create)"),
        "{plan}"
    );
    up(&acct, &stack, "a.zip");
    let out = relayctl(
        &acct,
        &stack,
        &["plan", "--detailed-exitcode", "--zip", &stack.zip("a.zip")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn down_removes_everything_it_owns_and_is_idempotent() {
    let acct = Account::new();
    let stack = Stack::new("gone");
    up(&acct, &stack, "a.zip");
    acct.reset_calls();
    ok(relayctl(&acct, &stack, &["down", "--yes"]));
    let mut deleted = writes(&acct);
    deleted.sort();
    let mut expected = vec![
        pair("sns", "Unsubscribe"),
        pair("lambda", "RemovePermission"),
        pair("cloudwatch", "DeleteAlarms"),
        pair("lambda", "DeleteFunction"),
        pair("sns", "DeleteTopic"),
        pair("logs", "DeleteLogGroup"),
        pair("iam", "DeleteRolePolicy"),
        pair("iam", "DeleteRole"),
    ];
    expected.sort();
    assert_eq!(deleted, expected);

    let c = clients(&acct);
    assert!(
        c.iam
            .get_role()
            .role_name("gone-relay")
            .send()
            .await
            .is_err()
    );
    assert!(
        c.lambda
            .get_function()
            .function_name("gone-relay")
            .send()
            .await
            .is_err()
    );
    let topics = c.sns.list_topics().send().await.unwrap();
    assert!(topics.topics().is_empty(), "{topics:?}");
    let subs = c.sns.list_subscriptions().send().await.unwrap();
    assert!(subs.subscriptions().is_empty(), "{subs:?}");
    let alarms = c.cw.describe_alarms().send().await.unwrap();
    assert!(alarms.metric_alarms().is_empty());
    let groups = c.logs.describe_log_groups().send().await.unwrap();
    assert!(groups.log_groups().is_empty());

    acct.reset_calls();
    let out = ok(relayctl(&acct, &stack, &["down", "--yes"]));
    assert!(
        text(&out.stdout).contains("Nothing to delete"),
        "{}",
        text(&out.stdout)
    );
    acct.assert_no_writes();
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_same_named_topic_survives_up_and_down() {
    let acct = Account::new();
    let stack = Stack::new("shared");
    let c = clients(&acct);
    let topic = c
        .sns
        .create_topic()
        .name("shared-alarms")
        .tags(
            aws_sdk_sns::types::Tag::builder()
                .key("owner")
                .value("billing")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let topic_arn = topic.topic_arn().unwrap().to_string();
    acct.reset_calls();

    let out = relayctl(&acct, &stack, &["up", "--zip", &stack.zip("a.zip")]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("sns topic shared-alarms") && err.contains("not owned by this stack"),
        "{err}"
    );
    acct.assert_no_writes();

    ok(relayctl(&acct, &stack, &["down", "--yes"]));
    acct.assert_no_writes();
    let attrs = c
        .sns
        .get_topic_attributes()
        .topic_arn(&topic_arn)
        .send()
        .await;
    assert!(attrs.is_ok(), "the foreign topic must survive down");
    let tags = c
        .sns
        .list_tags_for_resource()
        .resource_arn(&topic_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_stacks_in_one_account_never_touch_each_other() {
    let acct = Account::new();
    // "team" is a prefix of "team-b": prefix reads must not mix them up.
    let a = Stack::new("team");
    let b = Stack::new("team-b");
    up(&acct, &a, "a.zip");
    up(&acct, &b, "a.zip");
    ok(relayctl(&acct, &a, &["down", "--yes"]));

    let out = ok(relayctl(&acct, &b, &["status", "--output", "json"]));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["in_sync"], true, "{json}");
    let alarms = clients(&acct).cw.describe_alarms().send().await.unwrap();
    let names: Vec<&str> = alarms
        .metric_alarms()
        .iter()
        .filter_map(|a| a.alarm_name())
        .collect();
    assert_eq!(names, vec!["team-b-high-cpu"]);
    acct.reset_calls();
    up(&acct, &b, "a.zip");
    acct.assert_no_writes();
}

#[test]
fn iam_propagation_delay_is_waited_out() {
    let acct = Account::new();
    let stack = Stack::new("fresh");
    acct.inject(serde_json::json!({"rules": [{"kind": "iam_propagation", "count": 2}]}));
    up(&acct, &stack, "a.zip");
    assert_eq!(acct.count("lambda", "CreateFunction"), 3);
    let faulted: Vec<Call> = acct
        .calls()
        .into_iter()
        .filter(|c| c.fault.is_some())
        .collect();
    assert_eq!(faulted.len(), 2, "{faulted:?}");
}

#[test]
fn a_failure_midway_is_completed_by_the_next_up_and_removed_by_down() {
    let acct = Account::new();
    let stack = Stack::new("half");
    acct.inject(serde_json::json!({"rules": [{"kind": "error500", "service": "cloudwatch", "operation": "PutMetricAlarm", "count": 1}]}));
    let out = relayctl(&acct, &stack, &["up", "--zip", &stack.zip("a.zip")]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("PutMetricAlarm") && err.contains("half-high-cpu"),
        "{err}"
    );
    // The alarm comes last, after the path it notifies: the subscription is made.
    assert_eq!(acct.count("sns", "Subscribe"), 1);
    acct.clear_faults();

    acct.reset_calls();
    up(&acct, &stack, "a.zip");
    assert_eq!(writes(&acct), vec![pair("cloudwatch", "PutMetricAlarm")]);

    ok(relayctl(&acct, &stack, &["down", "--yes"]));
    let out = ok(relayctl(&acct, &stack, &["status", "--output", "json"]));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let present: Vec<&serde_json::Value> = json["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["presence"] != "missing")
        .collect();
    assert!(present.is_empty(), "{json}");
}

#[test]
fn throttled_writes_are_retried_by_the_sdk() {
    let acct = Account::new();
    let stack = Stack::new("busy");
    acct.inject(serde_json::json!({"rules": [{"kind": "throttle", "service": "sns", "operation": "CreateTopic", "nth": 1}]}));
    let mut cmd = Command::cargo_bin("relayctl").unwrap();
    let out = cmd
        .envs(acct.env())
        .env("SLACK_WEBHOOK_URL", WEBHOOK)
        .env("AWS_MAX_ATTEMPTS", "3")
        .arg("-f")
        .arg(stack.file())
        .args(["up", "--zip", &stack.zip("a.zip")])
        .output()
        .unwrap();
    ok(out);
    assert_eq!(acct.count("sns", "CreateTopic"), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn switching_to_route_direct_rewires_the_alarm_and_removes_the_topic() {
    let acct = Account::new();
    let stack = Stack::new("route");
    up(&acct, &stack, "a.zip");
    let yaml = std::fs::read_to_string(stack.file()).unwrap();
    std::fs::write(stack.file(), format!("{yaml}route: direct\n")).unwrap();
    acct.reset_calls();
    up(&acct, &stack, "a.zip");
    let mut done = writes(&acct);
    done.sort();
    let mut expected = vec![
        pair("lambda", "AddPermission"),
        pair("cloudwatch", "PutMetricAlarm"),
        pair("sns", "Unsubscribe"),
        pair("lambda", "RemovePermission"),
        pair("sns", "DeleteTopic"),
    ];
    expected.sort();
    assert_eq!(done, expected);

    let c = clients(&acct);
    let function_arn = arn(&acct, "lambda", "function:route-relay");
    let a =
        c.cw.describe_alarms()
            .alarm_names("route-high-cpu")
            .send()
            .await
            .unwrap();
    assert_eq!(
        a.metric_alarms()[0].alarm_actions(),
        std::slice::from_ref(&function_arn)
    );
    let policy = c
        .lambda
        .get_policy()
        .function_name("route-relay")
        .send()
        .await
        .unwrap();
    let policy: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    let statements = policy["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{policy}");
    assert_eq!(statements[0]["Sid"], "route-alarms");
    assert_eq!(
        statements[0]["Principal"]["Service"],
        "lambda.alarms.cloudwatch.amazonaws.com"
    );
    assert_eq!(
        statements[0]["Condition"]["ArnLike"]["AWS:SourceArn"],
        arn(&acct, "cloudwatch", "alarm:route-*")
    );
    assert_eq!(
        statements[0]["Condition"]["StringEquals"]["AWS:SourceAccount"],
        acct.id
    );
    assert!(
        c.sns
            .list_topics()
            .send()
            .await
            .unwrap()
            .topics()
            .is_empty()
    );

    acct.reset_calls();
    up(&acct, &stack, "a.zip");
    acct.assert_no_writes();
}

#[test]
fn a_run_that_breaks_a_live_lock_still_leaves_one_chain() {
    // Two ups of one stack normally never overlap (the stack lock,
    // tests/lock.rs). `--force-unlock` against a live run makes them
    // overlap on purpose: whichever loses a create race must find the
    // winner's resource, prove it ours by tag, and converge it.
    let acct = Account::new();
    let stack = Stack::new("race");
    let zip = stack.zip("a.zip");
    acct.inject(serde_json::json!({"latency_ms": 200}));
    let outs: Vec<Output> = std::thread::scope(|s| {
        let first = s.spawn(|| relayctl(&acct, &stack, &["up", "--zip", &zip]));
        // The first run holds the lock and is about to create.
        let start = std::time::Instant::now();
        while !acct
            .calls()
            .iter()
            .any(|c| c.is_lock() && c.operation == "PutParameter")
        {
            assert!(
                start.elapsed().as_secs() < 60,
                "the first up never took the lock"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let second = s.spawn(|| relayctl(&acct, &stack, &["up", "--zip", &zip, "--force-unlock"]));
        [first, second]
            .into_iter()
            .map(|r| r.join().unwrap())
            .collect()
    });
    for out in outs {
        ok(out);
    }
    acct.clear_faults();
    acct.reset_calls();
    let out = up(&acct, &stack, "a.zip");
    assert!(
        text(&out.stdout).contains("No changes"),
        "{}",
        text(&out.stdout)
    );
    acct.assert_no_writes();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = clients(&acct);
    let subs = rt
        .block_on(
            c.sns
                .list_subscriptions_by_topic()
                .topic_arn(arn(&acct, "sns", "race-alarms"))
                .send(),
        )
        .unwrap();
    assert_eq!(subs.subscriptions().len(), 1, "one message, one post");
}

#[tokio::test(flavor = "multi_thread")]
async fn stray_tags_added_out_of_band_are_removed_and_nothing_else_is_written() {
    let acct = Account::new();
    let stack = Stack::new("tagged");
    up(&acct, &stack, "a.zip");
    let c = clients(&acct);
    let stray = || ("stray".to_string(), "x".to_string());
    c.iam
        .tag_role()
        .role_name("tagged-relay")
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("stray")
                .value("x")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    c.lambda
        .tag_resource()
        .resource(arn(&acct, "lambda", "function:tagged-relay"))
        .tags("stray", "x")
        .send()
        .await
        .unwrap();
    let topic = arn(&acct, "sns", "tagged-alarms");
    c.sns
        .tag_resource()
        .resource_arn(&topic)
        .tags(
            aws_sdk_sns::types::Tag::builder()
                .key("stray")
                .value("x")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    acct.reset_calls();
    up(&acct, &stack, "a.zip");
    let mut done = writes(&acct);
    done.sort();
    assert_eq!(
        done,
        vec![
            pair("iam", "UntagRole"),
            pair("lambda", "UntagResource"),
            pair("sns", "UntagResource"),
        ]
    );
    let role = c
        .iam
        .list_role_tags()
        .role_name("tagged-relay")
        .send()
        .await
        .unwrap();
    let role_tags = tag_pairs!(role.tags());
    assert!(!role_tags.contains(&stray()), "{role_tags:?}");
    let topic_tags = c
        .sns
        .list_tags_for_resource()
        .resource_arn(&topic)
        .send()
        .await
        .unwrap();
    assert_eq!(tag_pairs!(topic_tags.tags()), expected_tags("tagged"));
}
