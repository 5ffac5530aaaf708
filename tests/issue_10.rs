//! Issue 10: places where the fake said yes and AWS would say no. Each test
//! drives the built `relayctl` against the stricter fake (tests/fake-aws,
//! `lambda_states.py` for the Lambda behaviours moto lacks) and asserts what
//! exists afterwards and which calls were made.

mod support;

use std::process::Output;

use support::Account;
use support::cli::{exit, ok, relayctl_at, text};
use support::stack::{INSTANCE, StackDir, WEBHOOK, handler_path};

/// A stack folder with one alarm on [`INSTANCE`].
fn new_stack(name: &str) -> StackDir {
    stack_with(name, "", 1)
}

/// `extra`: more top-level YAML (e.g. `route: direct`); `alarms`: how many,
/// each on [`INSTANCE`].
fn stack_with(name: &str, extra: &str, alarms: usize) -> StackDir {
    let zip = relayctl::package::zip_bootstrap(b"handler A").unwrap();
    let stack = StackDir::new(name, &zip);
    write(&stack, 128, extra, alarms);
    stack
}

fn write(stack: &StackDir, memory: u32, extra: &str, alarms: usize) {
    let mut yaml = format!(
        "name: {}\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nhandler:\n  path: {}\n  memory_mb: {memory}\n{extra}\nalarms:\n",
        stack.name,
        handler_path().display()
    );
    for i in 0..alarms {
        let name = if i == 0 {
            "high-cpu".to_string()
        } else {
            format!("cpu-{i}")
        };
        yaml.push_str(&format!("  - name: {name}\n    instance_id: {INSTANCE}\n"));
    }
    stack.write_yaml(&yaml);
}

fn relayctl(acct: &Account, stack: &StackDir, args: &[&str]) -> Output {
    relayctl_at(acct, &stack.file(), WEBHOOK, args)
}

fn up(acct: &Account, stack: &StackDir) -> Output {
    relayctl(acct, stack, &["up", "--zip", &stack.zip()])
}

fn plan(acct: &Account, stack: &StackDir) -> Output {
    relayctl(
        acct,
        stack,
        &["plan", "--detailed-exitcode", "--zip", &stack.zip()],
    )
}

fn status(acct: &Account, stack: &StackDir) -> Output {
    relayctl(acct, stack, &["status", "--detailed-exitcode"])
}

fn writes(acct: &Account) -> Vec<String> {
    acct.writes()
        .into_iter()
        .map(|c| format!("{}:{}", c.service, c.operation))
        .collect()
}

fn lambda(acct: &Account) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&acct.sdk_config())
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

const CREATE_REASON: &str = "The function could not be created: injected failure";
const UPDATE_REASON: &str = "The update could not be applied: injected failure";

#[test]
fn issue_10_1_a_failed_create_is_unhealthy_and_up_recreates_it() {
    let acct = Account::new();
    let stack = new_stack("failed");
    acct.inject(serde_json::json!({"lambda_failed": {
        "on": "create", "reason_code": "InvalidZipFileException", "reason": CREATE_REASON}}));
    let out = up(&acct, &stack);
    exit(&out, 1);
    // The next create succeeds (the fault was for that one create).
    acct.clear_faults();
    assert!(
        text(&out.stderr).contains("state Failed") && text(&out.stderr).contains(CREATE_REASON),
        "AWS's reason quoted: {}",
        text(&out.stderr)
    );

    // Unhealthy in status and plan, with AWS's reason; both exit 2.
    let out = status(&acct, &stack);
    exit(&out, 2);
    let shown = text(&out.stdout);
    assert!(shown.contains(CREATE_REASON), "{shown}");
    assert!(!shown.contains("in sync with the file"), "{shown}");
    let out = plan(&acct, &stack);
    exit(&out, 2);
    let shown = text(&out.stdout);
    assert!(
        shown.contains("-/+ lambda function failed-relay (replace)")
            && shown.contains("state")
            && shown.contains("Failed -> Active")
            && shown.contains(CREATE_REASON),
        "{shown}"
    );

    // up repairs it: delete, create again, then the rest of the chain.
    acct.reset_calls();
    ok(up(&acct, &stack));
    let done = writes(&acct);
    let delete = done.iter().position(|w| w == "lambda:DeleteFunction");
    let create = done.iter().position(|w| w == "lambda:CreateFunction");
    assert!(
        matches!((delete, create), (Some(d), Some(c)) if d < c),
        "{done:?}"
    );
    let conf = block_on(
        lambda(&acct)
            .get_function_configuration()
            .function_name("failed-relay")
            .send(),
    )
    .unwrap();
    assert_eq!(conf.state().map(|s| s.as_str()), Some("Active"));
    let policy = block_on(
        lambda(&acct)
            .get_policy()
            .function_name("failed-relay")
            .send(),
    )
    .unwrap();
    assert!(policy.policy().unwrap().contains("failed-sns"));
    exit(&status(&acct, &stack), 0);
    exit(&plan(&acct, &stack), 0);
}

#[test]
fn issue_10_1_a_failed_update_is_unhealthy_and_up_applies_it_again() {
    let acct = Account::new();
    let stack = new_stack("upfail");
    ok(up(&acct, &stack));
    acct.inject(serde_json::json!({"lambda_failed": {
        "on": "update", "reason_code": "InvalidRuntime", "reason": UPDATE_REASON}}));
    write(&stack, 256, "", 1);
    let out = up(&acct, &stack);
    exit(&out, 1);
    acct.clear_faults();
    assert!(
        text(&out.stderr).contains(UPDATE_REASON),
        "{}",
        text(&out.stderr)
    );

    let out = status(&acct, &stack);
    exit(&out, 2);
    assert!(
        text(&out.stdout).contains(UPDATE_REASON),
        "{}",
        text(&out.stdout)
    );
    let out = plan(&acct, &stack);
    exit(&out, 2);
    let shown = text(&out.stdout);
    assert!(
        shown.contains("~ lambda function upfail-relay (update)")
            && shown.contains("Failed -> Successful"),
        "{shown}"
    );

    // Lambda accepts a new update after a failed one: no delete, no wait error.
    acct.reset_calls();
    ok(up(&acct, &stack));
    assert_eq!(
        writes(&acct),
        vec![
            "lambda:UpdateFunctionConfiguration".to_string(),
            "lambda:UpdateFunctionCode".to_string()
        ]
    );
    let conf = block_on(
        lambda(&acct)
            .get_function_configuration()
            .function_name("upfail-relay")
            .send(),
    )
    .unwrap();
    assert_eq!(
        conf.last_update_status().map(|s| s.as_str()),
        Some("Successful")
    );
    assert_eq!(conf.memory_size(), Some(256));
    exit(&status(&acct, &stack), 0);
    acct.reset_calls();
    exit(&plan(&acct, &stack), 0);
    acct.assert_no_writes();
}

/// The function's resource policy statements.
fn statements(acct: &Account, function: &str) -> Vec<serde_json::Value> {
    let policy = block_on(lambda(acct).get_policy().function_name(function).send()).unwrap();
    let doc: serde_json::Value = serde_json::from_str(policy.policy().unwrap()).unwrap();
    doc["Statement"].as_array().unwrap().clone()
}

#[test]
fn issue_10_2_route_direct_with_500_alarms_uses_one_statement() {
    let acct = Account::new();
    let stack = stack_with("fleet", "route: direct", 500);
    let out = up(&acct, &stack);
    ok(out);
    assert_eq!(acct.count("lambda", "AddPermission"), 1);
    assert_eq!(acct.count("cloudwatch", "PutMetricAlarm"), 500);

    let found = statements(&acct, "fleet-relay");
    assert_eq!(found.len(), 1, "{found:?}");
    let s = &found[0];
    assert_eq!(s["Sid"], "fleet-alarms");
    assert_eq!(
        s["Principal"]["Service"],
        "lambda.alarms.cloudwatch.amazonaws.com"
    );
    assert_eq!(s["Action"], "lambda:InvokeFunction");
    assert_eq!(s["Condition"]["StringEquals"]["AWS:SourceAccount"], acct.id);
    assert_eq!(
        s["Condition"]["ArnLike"]["AWS:SourceArn"],
        format!("arn:aws:cloudwatch:us-east-1:{}:alarm:fleet-*", acct.id)
    );

    acct.reset_calls();
    let out = ok(up(&acct, &stack));
    assert!(
        text(&out.stdout).contains("No changes"),
        "{}",
        text(&out.stdout)
    );
    acct.assert_no_writes();
}

#[test]
fn issue_10_2_per_alarm_statements_are_migrated_to_the_stack_wide_one() {
    let acct = Account::new();
    let stack = stack_with("legacy", "route: direct", 3);
    ok(up(&acct, &stack));
    // What earlier versions left: one statement per alarm, no stack-wide one.
    let l = lambda(&acct);
    block_on(async {
        l.remove_permission()
            .function_name("legacy-relay")
            .statement_id("legacy-alarms")
            .send()
            .await
            .unwrap();
        for alarm in ["high-cpu", "cpu-1", "cpu-2"] {
            l.add_permission()
                .function_name("legacy-relay")
                .statement_id(format!("legacy-alarm-{alarm}"))
                .action("lambda:InvokeFunction")
                .principal("lambda.alarms.cloudwatch.amazonaws.com")
                .source_arn(format!(
                    "arn:aws:cloudwatch:us-east-1:{}:alarm:legacy-{alarm}",
                    acct.id
                ))
                .send()
                .await
                .unwrap();
        }
    });
    let out = plan(&acct, &stack);
    exit(&out, 2);
    let shown = text(&out.stdout);
    assert!(
        shown.contains("+ lambda permission legacy-alarms (create)")
            && shown.contains("- lambda permission legacy-alarm-cpu-1 (delete)"),
        "{shown}"
    );

    acct.reset_calls();
    ok(up(&acct, &stack));
    // The new statement first, then the old ones: never a moment without.
    assert_eq!(
        writes(&acct),
        vec![
            "lambda:AddPermission",
            "lambda:RemovePermission",
            "lambda:RemovePermission",
            "lambda:RemovePermission"
        ]
    );
    let sids: Vec<String> = statements(&acct, "legacy-relay")
        .iter()
        .map(|s| s["Sid"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sids, vec!["legacy-alarms"]);
}

/// Position of the first `service:operation` call in the log.
fn first(calls: &[String], call: &str) -> usize {
    calls
        .iter()
        .position(|c| c == call)
        .unwrap_or_else(|| panic!("no {call} in {calls:?}"))
}

#[test]
fn issue_10_9_the_alarm_is_created_after_the_path_it_notifies() {
    for (name, extra) in [("order", ""), ("orderd", "route: direct")] {
        let acct = Account::new();
        let stack = stack_with(name, extra, 1);
        ok(up(&acct, &stack));
        let calls: Vec<String> = acct
            .calls()
            .into_iter()
            .map(|c| format!("{}:{}", c.service, c.operation))
            .collect();
        let alarm = first(&calls, "cloudwatch:PutMetricAlarm");
        let permission = first(&calls, "lambda:AddPermission");
        assert!(permission < alarm, "{name}: {calls:?}");
        // The permission's read-back (GetPolicy) also precedes the alarm.
        let read_back = calls[permission..]
            .iter()
            .position(|c| c == "lambda:GetPolicy")
            .map(|i| i + permission)
            .unwrap();
        assert!(read_back < alarm, "{name}: {calls:?}");
        if extra.is_empty() {
            assert!(first(&calls, "sns:Subscribe") < alarm, "{calls:?}");
        }
        // down: the alarm goes first, before the path it notifies.
        acct.reset_calls();
        ok(relayctl(&acct, &stack, &["down", "--yes"]));
        let gone = writes(&acct);
        assert_eq!(gone[0], "cloudwatch:DeleteAlarms", "{gone:?}");
    }
}

#[test]
fn issue_10_7_without_list_tags_nothing_is_judged_foreign_or_half_deleted() {
    let acct = Account::new();
    let stack = new_stack("notags");
    ok(up(&acct, &stack));
    // The caller may not lambda:ListTags: GetFunction answers TagsError.
    acct.inject(serde_json::json!({"lambda_list_tags_denied": true}));
    acct.reset_calls();
    let out = relayctl(&acct, &stack, &["down", "--yes"]);
    exit(&out, 1);
    let err = text(&out.stderr);
    assert!(
        err.contains("lambda function notags-relay")
            && err.contains("lambda:ListTags")
            && err.contains("AccessDeniedException")
            && err.contains(&format!(
                "arn:aws:lambda:us-east-1:{}:function:notags-relay",
                acct.id
            )),
        "{err}"
    );
    assert!(!err.contains("not owned by this stack"), "{err}");
    // Nothing deleted: the role, the log group and the function are all there.
    acct.assert_no_writes();
    let iam = aws_sdk_iam::Client::new(&acct.sdk_config());
    assert!(block_on(iam.get_role().role_name("notags-relay").send()).is_ok());
    let logs = aws_sdk_cloudwatchlogs::Client::new(&acct.sdk_config());
    let groups = block_on(
        logs.describe_log_groups()
            .log_group_name_prefix("/aws/lambda/notags-relay")
            .send(),
    )
    .unwrap();
    assert_eq!(groups.log_groups().len(), 1);

    // up and status say the same, and write nothing.
    let out = up(&acct, &stack);
    exit(&out, 1);
    assert!(
        text(&out.stderr).contains("lambda:ListTags"),
        "{}",
        text(&out.stderr)
    );
    let out = status(&acct, &stack);
    exit(&out, 1);
    acct.assert_no_writes();

    // With the permission back, down removes everything.
    acct.clear_faults();
    ok(relayctl(&acct, &stack, &["down", "--yes"]));
    assert!(block_on(iam.get_role().role_name("notags-relay").send()).is_err());
    assert!(
        block_on(
            lambda(&acct)
                .get_function()
                .function_name("notags-relay")
                .send()
        )
        .is_err()
    );
}
