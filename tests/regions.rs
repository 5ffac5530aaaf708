//! One stack in several regions of one account (issue 10.3, issue 14.1).
//! IAM is global (moto keys its IAM backend by account and partition, not
//! region, as AWS does), so the regions share the role `{name}-relay`;
//! each region keeps its own inline policy `relayctl-logs-{region}` on it.
//! Every test drives the built `relayctl` against the fake and asserts what
//! exists afterwards in each region, and which calls went where.

mod support;

use std::process::Output;
use std::time::{Duration, Instant};

use aws_config::{Region, SdkConfig};
use serde_json::Value;
use support::Account;
use support::cli::{exit, text};
use support::stack::{INSTANCE, StackDir, WEBHOOK, handler_path};

const EU: &str = "eu-west-1";
const US: &str = "us-east-1";

/// A stack folder: stack.yaml plus a handler zip (the fake's echo function,
/// so an invocation shows whether the role still lets it log); `extra`:
/// more top-level YAML (e.g. `regions: [...]`).
fn new_stack(name: &str, extra: &str) -> StackDir {
    let stack = StackDir::new(name, &support::chain::echo_zip());
    stack.write_yaml(&format!(
        "name: {name}\n{extra}\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nhandler:\n  path: {}\nalarms:\n  - name: high-cpu\n    instance_id: {INSTANCE}\n",
        handler_path().display()
    ));
    stack
}

fn relayctl(acct: &Account, stack: &StackDir, args: &[&str]) -> Output {
    let mut cmd = acct.relayctl(&stack.file());
    cmd.env("SLACK_WEBHOOK_URL", WEBHOOK).args(args);
    cmd.output().unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout:\n{}", text(&out.stdout)))
}

fn up(acct: &Account, stack: &StackDir, region: &str) -> Output {
    relayctl(
        acct,
        stack,
        &["--region", region, "up", "--zip", &stack.zip()],
    )
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

/// The account's SDK config in `region`.
fn in_region(acct: &Account, region: &str) -> SdkConfig {
    acct.sdk_config()
        .into_builder()
        .region(Region::new(region.to_string()))
        .build()
}

fn iam(acct: &Account) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&acct.sdk_config())
}

/// The role's inline policies, by name, each as JSON; None when the role is gone.
fn role_policies(acct: &Account, role: &str) -> Option<Vec<(String, Value)>> {
    block_on(async {
        let iam = iam(acct);
        let names = match iam.list_role_policies().role_name(role).send().await {
            Ok(out) => out.policy_names,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_no_such_entity_exception()) =>
            {
                return None;
            }
            Err(e) => panic!("{e:?}"),
        };
        let mut out = Vec::new();
        for name in names {
            let doc = iam
                .get_role_policy()
                .role_name(role)
                .policy_name(&name)
                .send()
                .await
                .unwrap()
                .policy_document;
            let doc = serde_json::from_str(&urlencoding::decode(&doc).unwrap()).unwrap();
            out.push((name, doc));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Some(out)
    })
}

fn policy_names(acct: &Account, role: &str) -> Option<Vec<String>> {
    role_policies(acct, role).map(|p| p.into_iter().map(|(n, _)| n).collect())
}

/// The log group ARN pattern a region's policy must grant, and only it.
fn log_resource(acct: &Account, stack: &StackDir, region: &str) -> String {
    format!(
        "arn:aws:logs:{region}:{}:log-group:/aws/lambda/{}-relay:*",
        acct.id, stack.name
    )
}

/// Every Resource a policy document names.
fn resources(doc: &Value) -> Vec<String> {
    let statements = match &doc["Statement"] {
        Value::Array(items) => items.clone(),
        one => vec![one.clone()],
    };
    statements
        .iter()
        .flat_map(|s| match &s["Resource"] {
            Value::Array(rs) => rs.clone(),
            one => vec![one.clone()],
        })
        .filter_map(|r| r.as_str().map(str::to_string))
        .collect()
}

fn function_exists(acct: &Account, region: &str, name: &str) -> bool {
    let lambda = aws_sdk_lambda::Client::new(&in_region(acct, region));
    match block_on(lambda.get_function().function_name(name).send()) {
        Ok(_) => true,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            false
        }
        Err(e) => panic!("{e:?}"),
    }
}

/// Invokes the echo function in `region` and returns its logged lines, once
/// the fake has shipped them (or None when the fake says they were lost).
fn invoke_and_read_log(
    acct: &Account,
    region: &str,
    function: &str,
) -> Result<Vec<String>, String> {
    let config = in_region(acct, region);
    let lambda = aws_sdk_lambda::Client::new(&config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    block_on(async {
        support::wait_function_ready(&lambda, function).await;
        let out = lambda
            .invoke()
            .function_name(function)
            .payload(aws_sdk_lambda::primitives::Blob::new(r#"{"probe": 1}"#))
            .send()
            .await
            .unwrap();
        assert_eq!(out.function_error(), None);
        if let Some(lost) = acct.deliveries().pop().and_then(|d| d.logs_lost) {
            return Err(lost);
        }
        let end = Instant::now() + Duration::from_secs(15);
        loop {
            let lines: Vec<String> = logs
                .filter_log_events()
                .log_group_name(format!("/aws/lambda/{function}"))
                .send()
                .await
                .map(|o| {
                    o.events()
                        .iter()
                        .filter_map(|e| e.message().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if lines.iter().any(|l| l.contains("probe")) || Instant::now() > end {
                return Ok(lines);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

/// Issue 10.3: up in two regions, down in one; the other keeps the role,
/// its own policy, its logs and a clean plan; down there removes the role.
#[test]
fn issue_10_3_down_in_one_region_leaves_the_other_in_sync() {
    let acct = Account::new();
    let stack = new_stack("tworeg", "");
    exit(&up(&acct, &stack, EU), 0);
    exit(&up(&acct, &stack, US), 0);

    // One role, one policy per region, each granting only its own log group.
    let policies = role_policies(&acct, &stack.role()).expect("the role exists");
    let names: Vec<&str> = policies.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["relayctl-logs-eu-west-1", "relayctl-logs-us-east-1"]
    );
    for (region, (_, doc)) in [EU, US].into_iter().zip(&policies) {
        assert_eq!(
            resources(doc),
            [log_resource(&acct, &stack, region)],
            "{doc:#}"
        );
    }

    // No fight: each region's up and plan leave the other's policy alone.
    acct.reset_calls();
    exit(&up(&acct, &stack, EU), 0);
    acct.assert_no_writes();
    for region in [EU, US] {
        let out = relayctl(
            &acct,
            &stack,
            &[
                "--region",
                region,
                "plan",
                "--detailed-exitcode",
                "--zip",
                &stack.zip(),
            ],
        );
        exit(&out, 0);
    }

    acct.reset_calls();
    let out = relayctl(&acct, &stack, &["--region", EU, "down", "--yes"]);
    exit(&out, 0);
    let shown = text(&out.stdout);
    assert!(
        shown.contains("- iam role policy tworeg-relay/relayctl-logs-eu-west-1 (delete)")
            && shown.contains("the role stays: region(s) us-east-1 still use it"),
        "{shown}"
    );
    assert_eq!(acct.count("iam", "DeleteRole"), 0);
    assert!(!function_exists(&acct, EU, "tworeg-relay"));
    assert!(function_exists(&acct, US, "tworeg-relay"));
    assert_eq!(
        policy_names(&acct, &stack.role()).as_deref(),
        Some(&["relayctl-logs-us-east-1".to_string()][..])
    );

    // us-east-1 is fully in sync: plan, status, and its function still logs.
    let out = relayctl(
        &acct,
        &stack,
        &[
            "--region",
            US,
            "plan",
            "--detailed-exitcode",
            "--zip",
            &stack.zip(),
        ],
    );
    exit(&out, 0);
    let out = relayctl(
        &acct,
        &stack,
        &["--region", US, "status", "--detailed-exitcode"],
    );
    exit(&out, 0);
    assert!(text(&out.stdout).contains("in sync with the file"));
    let lines = invoke_and_read_log(&acct, US, "tworeg-relay").expect("logs delivered");
    assert!(lines.iter().any(|l| l.contains("probe")), "{lines:?}");

    // The last region's down removes the role.
    exit(
        &relayctl(&acct, &stack, &["--region", US, "down", "--yes"]),
        0,
    );
    assert_eq!(policy_names(&acct, &stack.role()), None);
}

/// The single policy of earlier releases (`relayctl-logs`) belongs to the
/// region whose log group it names: that region's up moves it to its own
/// name, another region ignores it, and down keeps the role while it is there.
#[test]
fn issue_10_3_the_legacy_policy_migrates_to_its_regions_name() {
    let acct = Account::new();
    let stack = new_stack("legacy", "");
    exit(&up(&acct, &stack, EU), 0);
    exit(&up(&acct, &stack, US), 0);
    // What an earlier release left: eu-west-1's grant under the old name.
    block_on(async {
        let iam = iam(&acct);
        let eu = "relayctl-logs-eu-west-1";
        let doc = iam
            .get_role_policy()
            .role_name(stack.role())
            .policy_name(eu)
            .send()
            .await
            .unwrap()
            .policy_document;
        let doc = urlencoding::decode(&doc).unwrap().into_owned();
        let put = iam.put_role_policy().role_name(stack.role());
        put.policy_name("relayctl-logs")
            .policy_document(doc)
            .send()
            .await
            .unwrap();
        let delete = iam.delete_role_policy().role_name(stack.role());
        delete.policy_name(eu).send().await.unwrap();
    });

    // us-east-1 neither compares nor touches eu-west-1's legacy policy.
    let status = ["--region", US, "status", "--detailed-exitcode"];
    exit(&relayctl(&acct, &stack, &status), 0);
    // Its down keeps the role: eu-west-1's function still runs as it.
    exit(
        &relayctl(&acct, &stack, &["--region", US, "down", "--yes"]),
        0,
    );
    assert_eq!(
        policy_names(&acct, &stack.role()).as_deref(),
        Some(&["relayctl-logs".to_string()][..])
    );

    // eu-west-1's plan shows the move; its up makes it.
    let plan = [
        "--region",
        EU,
        "plan",
        "--detailed-exitcode",
        "--zip",
        &stack.zip(),
    ];
    let out = relayctl(&acct, &stack, &plan);
    exit(&out, 2);
    let shown = text(&out.stdout);
    assert!(
        shown.contains("~ iam role legacy-relay (update)")
            && shown.contains("relayctl-logs moves to relayctl-logs-eu-west-1"),
        "{shown}"
    );
    acct.reset_calls();
    exit(&up(&acct, &stack, EU), 0);
    let writes: Vec<String> = acct.writes().iter().map(|c| c.operation.clone()).collect();
    assert_eq!(
        writes,
        ["PutRolePolicy", "DeleteRolePolicy"],
        "own policy first"
    );
    let policies = role_policies(&acct, &stack.role()).unwrap();
    assert_eq!(policies.len(), 1);
    assert_eq!(policies[0].0, "relayctl-logs-eu-west-1");
    assert_eq!(resources(&policies[0].1), [log_resource(&acct, &stack, EU)]);
    exit(&relayctl(&acct, &stack, &plan), 0);
    exit(
        &relayctl(&acct, &stack, &["--region", EU, "down", "--yes"]),
        0,
    );
    assert_eq!(policy_names(&acct, &stack.role()), None);
}

/// Sets the alarm's threshold in `region` only, as someone in the console
/// would: every other attribute as it is.
fn drift_threshold(acct: &Account, region: &str, alarm: &str, threshold: f64) {
    let cw = aws_sdk_cloudwatch::Client::new(&in_region(acct, region));
    block_on(async {
        let found = cw
            .describe_alarms()
            .alarm_names(alarm)
            .send()
            .await
            .unwrap();
        let a = found.metric_alarms()[0].clone();
        cw.put_metric_alarm()
            .alarm_name(alarm)
            .set_alarm_description(a.alarm_description)
            .set_metric_name(a.metric_name)
            .set_namespace(a.namespace)
            .set_statistic(a.statistic)
            .set_dimensions(a.dimensions)
            .set_period(a.period)
            .set_evaluation_periods(a.evaluation_periods)
            .set_datapoints_to_alarm(a.datapoints_to_alarm)
            .set_comparison_operator(a.comparison_operator)
            .set_treat_missing_data(a.treat_missing_data)
            .set_unit(a.unit)
            .set_actions_enabled(a.actions_enabled)
            .set_alarm_actions(a.alarm_actions)
            .set_ok_actions(a.ok_actions)
            .set_insufficient_data_actions(a.insufficient_data_actions)
            .threshold(threshold)
            .send()
            .await
            .unwrap();
    });
}

/// What of stack `name` is left in `region`: function, topic, alarms, log group.
fn leftovers(acct: &Account, region: &str, name: &str) -> Vec<String> {
    let config = in_region(acct, region);
    block_on(async {
        let mut left = Vec::new();
        let lambda = aws_sdk_lambda::Client::new(&config);
        let functions = lambda.list_functions().send().await.unwrap();
        left.extend(
            functions
                .functions()
                .iter()
                .filter_map(|f| f.function_name.clone()),
        );
        let sns = aws_sdk_sns::Client::new(&config);
        let topics = sns.list_topics().send().await.unwrap();
        left.extend(topics.topics().iter().filter_map(|t| t.topic_arn.clone()));
        let cw = aws_sdk_cloudwatch::Client::new(&config);
        let alarms = cw.describe_alarms().send().await.unwrap();
        left.extend(
            alarms
                .metric_alarms()
                .iter()
                .filter_map(|a| a.alarm_name.clone()),
        );
        let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
        let groups = logs.describe_log_groups().send().await.unwrap();
        left.extend(
            groups
                .log_groups()
                .iter()
                .filter_map(|g| g.log_group_name.clone()),
        );
        left.retain(|n| n.contains(name));
        left
    })
}

/// Issue 14.1: `regions:` in stack.yaml; every command per region, at once.
#[test]
fn issue_14_1_two_regions_from_one_file() {
    let acct = Account::new();
    let stack = new_stack("multi", "regions: [eu-west-1, us-east-1]");

    acct.reset_calls();
    let out = relayctl(&acct, &stack, &["up", "--zip", &stack.zip()]);
    exit(&out, 0);
    let shown = text(&out.stdout);
    let eu = shown.find("=== region eu-west-1 ===").expect(&shown);
    let us = shown.find("=== region us-east-1 ===").expect(&shown);
    assert!(eu < us, "regions in the file's order: {shown}");
    assert_eq!(
        shown.matches("Applied 7 change(s) to stack multi.").count(),
        2,
        "{shown}"
    );
    // Converged at once: the two regions' calls interleave.
    let calls = acct.regional_calls();
    let at =
        |r: &str| -> Vec<usize> { (0..calls.len()).filter(|i| calls[*i].region == r).collect() };
    let (eu_at, us_at) = (at(EU), at(US));
    assert!(!eu_at.is_empty() && !us_at.is_empty());
    assert!(
        eu_at[0] < *us_at.last().unwrap() && us_at[0] < *eu_at.last().unwrap(),
        "one region after the other: {calls:#?}"
    );
    for region in [EU, US] {
        let mut left = leftovers(&acct, region, "multi");
        left.sort();
        let topic = format!("arn:aws:sns:{region}:{}:multi-alarms", acct.id);
        let mut want = vec![
            "/aws/lambda/multi-relay".to_string(),
            "multi-high-cpu".into(),
            "multi-relay".into(),
            topic,
        ];
        want.sort();
        assert_eq!(left, want, "{region}");
    }
    assert_eq!(
        policy_names(&acct, "multi-relay").unwrap(),
        ["relayctl-logs-eu-west-1", "relayctl-logs-us-east-1"]
    );

    // Status per region, both in sync.
    let out = relayctl(
        &acct,
        &stack,
        &["status", "--detailed-exitcode", "--output", "json"],
    );
    exit(&out, 0);
    let report = json(&out);
    for region in [EU, US] {
        let r = &report["regions"][region];
        assert_eq!(r["region"], region, "{report:#}");
        assert_eq!(r["in_sync"], true, "{report:#}");
    }

    // A drift in us-east-1 only shows there, and the exit status says so.
    drift_threshold(&acct, US, "multi-high-cpu", 95.0);
    let out = relayctl(
        &acct,
        &stack,
        &["status", "--detailed-exitcode", "--output", "json"],
    );
    exit(&out, 2);
    let report = json(&out);
    assert_eq!(report["regions"][EU]["in_sync"], true, "{report:#}");
    assert_eq!(report["regions"][US]["in_sync"], false, "{report:#}");
    let drifted: Vec<&Value> = report["regions"][US]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["presence"] == "drifted")
        .collect();
    assert_eq!(drifted.len(), 1, "{report:#}");
    assert_eq!(drifted[0]["name"], "multi-high-cpu");
    assert_eq!(drifted[0]["drift"][0]["name"], "threshold");
    assert_eq!(drifted[0]["drift"][0]["old"], "95");
    assert_eq!(drifted[0]["drift"][0]["new"], "80");
    let plan = [
        "plan",
        "--detailed-exitcode",
        "--output",
        "json",
        "--zip",
        &stack.zip(),
    ];
    let out = relayctl(&acct, &stack, &plan);
    exit(&out, 2);
    let plans = json(&out);
    assert_eq!(plans["regions"][EU]["summary"]["update"], 0, "{plans:#}");
    assert_eq!(plans["regions"][US]["summary"]["update"], 1, "{plans:#}");

    // up repairs only us-east-1, holding both regions' locks while it
    // plans again and writes.
    acct.reset_calls();
    exit(&relayctl(&acct, &stack, &["up", "--zip", &stack.zip()]), 0);
    let calls = acct.regional_calls();
    let writes: Vec<(String, String)> = calls
        .iter()
        .filter(|c| c.write && !c.is_lock())
        .map(|c| (c.region.clone(), c.operation.clone()))
        .collect();
    assert_eq!(writes, [(US.to_string(), "PutMetricAlarm".to_string())]);
    for region in [EU, US] {
        let lock_writes: Vec<&str> = calls
            .iter()
            .filter(|c| c.region == region && c.is_lock() && c.write)
            .map(|c| c.operation.as_str())
            .collect();
        assert_eq!(lock_writes, ["PutParameter", "DeleteParameter"], "{region}");
    }
    exit(
        &relayctl(&acct, &stack, &["status", "--detailed-exitcode"]),
        0,
    );

    // down in both: nothing left in either region, the role deleted once,
    // after both functions.
    acct.reset_calls();
    let out = relayctl(&acct, &stack, &["down", "--yes", "--output", "json"]);
    exit(&out, 0);
    let report = json(&out);
    assert_eq!(report["role"]["deleted"], true, "{report:#}");
    for region in [EU, US] {
        assert_eq!(
            leftovers(&acct, region, "multi"),
            Vec::<String>::new(),
            "{region}"
        );
    }
    assert_eq!(policy_names(&acct, "multi-relay"), None);
    let ops: Vec<String> = acct.calls().into_iter().map(|c| c.operation).collect();
    assert_eq!(
        ops.iter().filter(|o| *o == "DeleteRole").count(),
        1,
        "{ops:?}"
    );
    let role_at = ops.iter().position(|o| o == "DeleteRole").unwrap();
    let last_function = ops.iter().rposition(|o| o == "DeleteFunction").unwrap();
    assert!(last_function < role_at, "{ops:?}");
    exit(
        &relayctl(&acct, &stack, &["status", "--detailed-exitcode"]),
        2,
    );
}

/// `--region a,b` does the same as `regions:`; one region failing is
/// reported under its header and makes the whole run exit 1.
#[test]
fn issue_14_1_region_flag_and_the_worst_exit_status() {
    let acct = Account::new();
    let stack = new_stack("flag", "");
    exit(&up(&acct, &stack, EU), 0);
    // us-east-1 holds a same-named topic that is not this stack's.
    let sns = aws_sdk_sns::Client::new(&in_region(&acct, US));
    block_on(sns.create_topic().name("flag-alarms").send()).unwrap();

    let both = format!("{EU},{US}");
    let out = relayctl(
        &acct,
        &stack,
        &[
            "--region",
            &both,
            "plan",
            "--detailed-exitcode",
            "--zip",
            &stack.zip(),
        ],
    );
    exit(&out, 1);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        stdout.contains("=== region eu-west-1 ===\nNo changes: stack flag matches AWS"),
        "{stdout}"
    );
    assert!(
        stdout.contains("=== region us-east-1 ===\nfailed"),
        "{stdout}"
    );
    assert!(
        stderr.contains("=== region us-east-1 ===")
            && stderr.contains("flag-alarms exists but is not owned"),
        "{stderr}"
    );
    let plan = [
        "--region",
        &both,
        "plan",
        "--output",
        "json",
        "--zip",
        &stack.zip(),
    ];
    let out = relayctl(&acct, &stack, &plan);
    exit(&out, 1);
    let report = json(&out);
    assert_eq!(report["regions"][EU]["summary"]["create"], 0, "{report:#}");
    assert_eq!(report["regions"][US]["error"]["code"], "E304", "{report:#}");
    // status reports a foreign resource rather than failing: drift (2)
    // there, in sync in the other region.
    let status = [
        "--region",
        &both,
        "status",
        "--detailed-exitcode",
        "--output",
        "json",
    ];
    let out = relayctl(&acct, &stack, &status);
    exit(&out, 2);
    let report = json(&out);
    assert_eq!(report["regions"][EU]["in_sync"], true, "{report:#}");
    assert_eq!(report["regions"][US]["in_sync"], false, "{report:#}");
}

/// Bad region lists stop before any AWS call, naming the field and the fix.
#[test]
fn issue_14_1_region_lists_are_checked_before_any_call() {
    let acct = Account::new();
    let cases: &[(&str, &[&str], i32, &str)] = &[
        (
            "region: eu-west-1\nregions: [us-east-1, eu-west-1]",
            &["status"],
            1,
            "regions: is set together with region",
        ),
        (
            "regions: [eu-west-1, eu-west-1]",
            &["status"],
            1,
            "regions[1]: \"eu-west-1\" is listed twice",
        ),
        (
            "regions: [eu-west-1, eu-west]",
            &["status"],
            1,
            "regions[1]: \"eu-west\" is not an AWS region code",
        ),
        ("regions: []", &["status"], 1, "regions: is empty"),
        (
            "",
            &["--region", "eu-west-1,eu-west-1", "status"],
            2,
            "eu-west-1 is listed twice",
        ),
        (
            "",
            &["--region", "eu-west-1,mars", "status"],
            2,
            "\"mars\" is not an AWS region code",
        ),
        (
            "regions: [eu-west-1, us-east-1]",
            &["test"],
            1,
            "error[E107]",
        ),
    ];
    for (extra, args, code, said) in cases {
        acct.reset_calls();
        let stack = new_stack("bad", extra);
        let out = relayctl(&acct, &stack, args);
        exit(&out, *code);
        let stderr = text(&out.stderr);
        assert!(stderr.contains(said), "{extra} {args:?}: {stderr}");
        assert_eq!(acct.calls(), [], "{extra} {args:?}");
    }
}

/// Issue 11 with `regions:`: a run over several regions takes every
/// region's lock, in region order, before it plans again and writes; a
/// region locked by someone else refuses the whole run, and the locks
/// already taken are released.
#[test]
fn issue_11_several_regions_take_every_regions_lock() {
    let acct = Account::new();
    let stack = new_stack("locked", "regions: [us-east-1, eu-west-1]");
    // Someone's `up` holds us-east-1 for ten more minutes.
    let theirs = serde_json::json!({
        "id": "0123456789abcdef0123456789abcdef",
        "operation": "up",
        "who": "ana@ci-7",
        "pid": 4242,
        "created": "2026-11-30T12:00:00Z",
        "expires": "2999-01-01T00:00:00Z",
    })
    .to_string();
    let ssm = |region: &str| aws_sdk_ssm::Client::new(&in_region(&acct, region));
    let lock = "/relayctl/locked/lock";
    block_on(
        ssm(US)
            .put_parameter()
            .name(lock)
            .value(&theirs)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .send(),
    )
    .unwrap();
    let held = |region: &str| {
        block_on(ssm(region).get_parameter().name(lock).send())
            .ok()
            .and_then(|o| o.parameter?.value)
    };

    acct.reset_calls();
    let out = relayctl(&acct, &stack, &["up", "--zip", &stack.zip()]);
    exit(&out, 1);
    let err = text(&out.stderr);
    assert!(
        err.contains("error[E310]: stack locked is locked in us-east-1: up by ana@ci-7"),
        "{err}"
    );
    let calls = acct.regional_calls();
    let written: Vec<(&str, &str)> = calls
        .iter()
        .filter(|c| c.write)
        .map(|c| (c.region.as_str(), c.operation.as_str()))
        .collect();
    // eu-west-1 comes first: taken; us-east-1's create (Overwrite=false)
    // refused as the parameter exists; eu-west-1 given back.
    assert_eq!(
        written,
        [
            (EU, "PutParameter"),
            (US, "PutParameter"),
            (EU, "DeleteParameter")
        ],
        "{calls:#?}"
    );
    assert!(calls.iter().filter(|c| c.write).all(|c| c.is_lock()));
    assert_eq!(held(EU), None);
    assert_eq!(held(US), Some(theirs));

    // Once it is gone, both regions are locked, built and unlocked.
    block_on(ssm(US).delete_parameter().name(lock).send()).unwrap();
    exit(&relayctl(&acct, &stack, &["up", "--zip", &stack.zip()]), 0);
    assert_eq!((held(EU), held(US)), (None, None));
    for region in [EU, US] {
        assert!(function_exists(&acct, region, "locked-relay"), "{region}");
    }
    exit(&relayctl(&acct, &stack, &["down", "--yes"]), 0);
    assert_eq!((held(EU), held(US)), (None, None));
}
