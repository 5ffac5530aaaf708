//! Regressions from issues 10 and 11, each against the fake AWS through the
//! built `relayctl` binary, asserted from the fake's call log and state.

mod support;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use support::Account;
use support::cli::{ok, text};

const WEBHOOK: &str = "https://hooks.slack.invalid/services/T000/B000/secret-token";

struct Stack {
    dir: tempfile::TempDir,
}

impl Stack {
    /// A stack named `name` with the given alarm names, and a prebuilt zip.
    fn new(name: &str, alarms: &[&str]) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let handler = Path::new(env!("CARGO_MANIFEST_DIR")).join("handler");
        let mut yaml = format!(
            "name: {name}\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nhandler:\n  path: {}\nalarms:\n",
            handler.display()
        );
        for a in alarms {
            yaml.push_str(&format!(
                "  - name: {a}\n    instance_id: i-0123456789abcdef0\n"
            ));
        }
        std::fs::write(dir.path().join("stack.yaml"), yaml).unwrap();
        let zip = relayctl::package::zip_bootstrap(b"handler A").unwrap();
        std::fs::write(dir.path().join("a.zip"), zip).unwrap();
        Stack { dir }
    }

    fn cmd(&self, acct: &Account) -> Command {
        let mut cmd = Command::cargo_bin("relayctl").unwrap();
        cmd.envs(acct.env())
            .env("SLACK_WEBHOOK_URL", WEBHOOK)
            .env("RELAYCTL_PROPAGATION_TIMEOUT_S", "30")
            .env_remove("AWS_MAX_ATTEMPTS")
            .env_remove("AWS_RETRY_MODE")
            .env_remove("RELAYCTL_LOG")
            // A hang guard, not a performance assertion.
            .timeout(Duration::from_secs(120))
            .arg("-f")
            .arg(self.dir.path().join("stack.yaml"));
        cmd
    }

    fn run(&self, acct: &Account, args: &[&str]) -> Output {
        let mut cmd = self.cmd(acct);
        if args.first() == Some(&"up") {
            cmd.args(args)
                .arg("--zip")
                .arg(self.dir.path().join("a.zip"));
        } else {
            cmd.args(args);
        }
        cmd.output().unwrap()
    }
}

fn lambda(acct: &Account) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&acct.sdk_config())
}

/// Issue 11.1: one throttle costs one short retry, and `-v` says so.
#[test]
fn issue_11_1_one_throttle_on_create_topic_is_one_visible_retry() {
    let acct = Account::new();
    let stack = Stack::new("thr", &["cpu"]);
    acct.inject(serde_json::json!({"rules": [
        {"kind": "throttle", "service": "sns", "operation": "CreateTopic", "nth": 1}
    ]}));
    let out = ok(stack.run(&acct, &["up", "-v"]));
    let stderr = text(&out.stderr);
    assert_eq!(
        acct.count("sns", "CreateTopic"),
        2,
        "one throttled, one retry"
    );
    let line = stderr
        .lines()
        .find(|l| l.contains("CreateTopic") && l.contains("retrying"))
        .unwrap_or_else(|| panic!("no retry line at -v:\n{stderr}"));
    assert!(line.contains("Throttling"), "{line}");
    assert!(line.contains("attempt 2 of 8"), "{line}");
    assert!(line.contains("ms delay"), "{line}");
}

/// Issue 10.11: a persistent 5xx surfaces after a bounded number of
/// attempts (4), not the throttling budget (8), naming the operation.
#[test]
fn issue_10_11_persistent_500_fails_after_four_attempts() {
    let acct = Account::new();
    let stack = Stack::new("five", &["cpu"]);
    acct.inject(serde_json::json!({"rules": [
        {"kind": "error500", "service": "sns", "operation": "CreateTopic"}
    ]}));
    let out = stack.run(&acct, &["up", "-v"]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "up should fail:\n{stderr}");
    assert!(stderr.contains("CreateTopic"), "{stderr}");
    assert_eq!(acct.count("sns", "CreateTopic"), 4, "{stderr}");
    assert!(stderr.contains("attempt 4 of 4"), "{stderr}");
}

/// Issue 10.11: throttles do not use up the server-error budget: three
/// throttles and then one 500 on CreateTopic still end in success.
#[test]
fn issue_10_11_throttles_do_not_count_against_the_5xx_budget() {
    let acct = Account::new();
    let stack = Stack::new("mix", &["cpu"]);
    acct.inject(serde_json::json!({"rules": [
        {"kind": "throttle", "service": "sns", "operation": "CreateTopic", "count": 3},
        {"kind": "error500", "service": "sns", "operation": "CreateTopic", "nth": 4}
    ]}));
    ok(stack.run(&acct, &["up"]));
    assert_eq!(acct.count("sns", "CreateTopic"), 5);
}

/// Issue 10.4: ResourceConflictException while the function is busy is
/// waited out, not answered by remove + re-add.
#[test]
fn issue_10_4_add_permission_waits_while_function_is_in_progress() {
    let acct = Account::new();
    let stack = Stack::new("perm", &["cpu"]);
    ok(stack.run(&acct, &["up"]));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let lambda = lambda(&acct);
    rt.block_on(async {
        lambda
            .remove_permission()
            .function_name("perm-relay")
            .statement_id("perm-sns")
            .send()
            .await
            .unwrap();
    });
    acct.inject(serde_json::json!({"lambda_in_progress_reads": 5}));
    rt.block_on(async {
        // Same memory as the stack: no drift, but LastUpdateStatus InProgress.
        lambda
            .update_function_configuration()
            .function_name("perm-relay")
            .memory_size(128)
            .send()
            .await
            .unwrap();
    });
    acct.reset_calls();
    let out = ok(stack.run(&acct, &["up", "-v"]));
    assert!(
        acct.count("lambda", "AddPermission") >= 2,
        "expected a conflict first:\n{}",
        text(&out.stderr)
    );
    assert_eq!(acct.count("lambda", "RemovePermission"), 0);
    let policy = rt.block_on(async {
        lambda
            .get_policy()
            .function_name("perm-relay")
            .send()
            .await
            .unwrap()
            .policy
            .unwrap()
    });
    let doc: serde_json::Value = serde_json::from_str(&policy).unwrap();
    let sids: Vec<&str> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .collect();
    assert_eq!(sids, ["perm-sns"]);
}

/// Issue 10.8: DeleteRole answering DeleteConflict right after
/// DeleteRolePolicy is retried until the role is gone.
#[test]
fn issue_10_8_delete_role_conflict_is_retried() {
    let acct = Account::new();
    let stack = Stack::new("role", &["cpu"]);
    ok(stack.run(&acct, &["up"]));
    acct.inject(serde_json::json!({"iam_delete_conflicts": 2}));
    acct.reset_calls();
    ok(stack.run(&acct, &["down", "--yes", "-v"]));
    assert_eq!(
        acct.count("iam", "DeleteRole"),
        3,
        "two conflicts, then gone"
    );
    let iam = aws_sdk_iam::Client::new(&acct.sdk_config());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let got = rt.block_on(iam.get_role().role_name("role-relay").send());
    assert!(
        got.err()
            .and_then(|e| e
                .into_service_error()
                .is_no_such_entity_exception()
                .then_some(()))
            .is_some(),
        "role still exists"
    );
}

/// Issue 10.8: an alarm deleted out of band between `down`'s read and its
/// DeleteAlarms is done; the batch's other alarm is still deleted.
#[test]
fn issue_10_8_alarm_gone_before_delete_alarms_is_done() {
    let acct = Account::new();
    let stack = Stack::new("gone", &["a", "b"]);
    ok(stack.run(&acct, &["up"]));
    acct.reset_calls();
    // Every call waits 400 ms after the fake logs it: once `down`'s last
    // alarm read is in the log, our DeleteAlarms arrives before its own.
    acct.inject(serde_json::json!({"latency_ms": 400}));
    let cw = aws_sdk_cloudwatch::Client::new(&acct.sdk_config());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let down = std::thread::scope(|s| {
        let down = s.spawn(|| stack.run(&acct, &["down", "--yes"]));
        for _ in 0..600 {
            // The alarms read and their ownership listed (one tagging-index
            // page) under the stack lock (the read before it only finds
            // that there is something to delete): the plan is made.
            if acct.count("cloudwatch", "DescribeAlarms") >= 2
                && acct.count("tagging", "GetResources") >= 2
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        rt.block_on(cw.delete_alarms().alarm_names("gone-a").send())
            .unwrap();
        down.join().unwrap()
    });
    ok(down);
    acct.clear_faults();
    let calls = acct.calls();
    let deletes = calls
        .iter()
        .filter(|c| c.operation == "DeleteAlarms")
        .count();
    assert!(
        deletes >= 3,
        "ours, relayctl's refused one, relayctl's retry: {calls:#?}"
    );
    let left = rt
        .block_on(cw.describe_alarms().alarm_name_prefix("gone-").send())
        .unwrap();
    assert!(left.metric_alarms().is_empty(), "{left:?}");
}

/// Issue 11.2: an alarm's StateReason is written by anyone allowed
/// SetAlarmState; `status` shows it escaped, on its own line only.
#[test]
fn issue_11_2_status_escapes_the_alarm_state_reason() {
    let acct = Account::new();
    let stack = Stack::new("esc", &["cpu"]);
    ok(stack.run(&acct, &["up"]));
    let reason = "ok\x1b[2J\x1b]0;pwned\x07 bell\x07\r\nin sync with the file";
    let cw = aws_sdk_cloudwatch::Client::new(&acct.sdk_config());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(
        cw.set_alarm_state()
            .alarm_name("esc-cpu")
            .state_value(aws_sdk_cloudwatch::types::StateValue::Ok)
            .state_reason(reason)
            .send(),
    )
    .unwrap();
    let out = stack.run(&acct, &["status"]);
    let stdout = text(&out.stdout);
    for raw in ['\x1b', '\x07', '\r'] {
        assert!(!stdout.contains(raw), "raw {raw:?} in:\n{stdout:?}");
    }
    let alarm_line = stdout
        .lines()
        .find(|l| l.starts_with("alarm esc-cpu"))
        .unwrap_or_else(|| panic!("no alarm line:\n{stdout}"));
    assert!(
        alarm_line.contains("\\u{1b}[2J") && alarm_line.contains("\\r\\nin sync with the file"),
        "{alarm_line}"
    );
    // Only relayctl's own verdict, the last line, may start with it.
    let lines: Vec<&str> = stdout.lines().collect();
    let injected = lines[..lines.len() - 1]
        .iter()
        .filter(|l| l.starts_with("in sync with the file"))
        .count();
    assert_eq!(injected, 0, "{stdout}");
}
