//! `relayctl test` against the fake AWS. The fake cannot run alarm actions
//! or Lambda code, so these tests play the handler's part: once relayctl has
//! set the alarm to ALARM, they write the log line the handler writes
//! (handler/src/lib.rs) into the function's log group, and check what
//! relayctl makes of it; with nothing written, relayctl must say so.

mod support;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use support::Account;

fn stack(dir: &Path) -> std::path::PathBuf {
    let file = dir.join("stack.yaml");
    let handler = Path::new(env!("CARGO_MANIFEST_DIR")).join("handler");
    std::fs::write(
        &file,
        format!(
            "name: smoke\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nhandler:\n  path: {}\nalarms:\n  - name: cpu\n    instance_id: i-0123456789abcdef0\n",
            handler.display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("h.zip"),
        relayctl::package::zip_bootstrap(b"h").unwrap(),
    )
    .unwrap();
    file
}

fn relayctl(acct: &Account, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("relayctl").unwrap();
    cmd.envs(acct.env())
        .env(
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.invalid/services/T/B/x",
        )
        .env("AWS_MAX_ATTEMPTS", "1")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn up(acct: &Account, dir: &Path) {
    let out = relayctl(acct, dir, &["up", "--zip", "h.zip"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh account with the stack up.
fn deployed() -> (Account, tempfile::TempDir) {
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    stack(dir.path());
    up(&acct, dir.path());
    (acct, dir)
}

/// Waits for relayctl's SetAlarmState, then logs `line` as the function would.
fn handler_logs_after_firing(acct: &Account, line: &'static str) -> std::thread::JoinHandle<()> {
    let acct = acct.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        while acct.count("cloudwatch", "SetAlarmState") == 0 {
            assert!(Instant::now() < deadline, "relayctl never fired the alarm");
            std::thread::sleep(Duration::from_millis(50));
        }
        let rt = tokio::runtime::Runtime::new().unwrap();
        let logs = aws_sdk_cloudwatchlogs::Client::new(&acct.sdk_config());
        rt.block_on(async {
            let group = "/aws/lambda/smoke-relay";
            logs.create_log_stream()
                .log_group_name(group)
                .log_stream_name("2026/11/25/[$LATEST]test")
                .send()
                .await
                .unwrap();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64;
            let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now)
                .message(line)
                .build()
                .unwrap();
            logs.put_log_events()
                .log_group_name(group)
                .log_stream_name("2026/11/25/[$LATEST]test")
                .log_events(event)
                .send()
                .await
                .unwrap();
        });
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn fires_the_alarm_and_says_when_nothing_arrives() {
    let (acct, dir) = deployed();
    acct.reset_calls();
    let out = relayctl(&acct, dir.path(), &["test", "--wait", "1"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("No delivery of smoke-cpu seen"), "{stdout}");
    let writes: Vec<String> = acct.writes().into_iter().map(|c| c.operation).collect();
    assert_eq!(
        writes,
        vec!["SetAlarmState".to_string()],
        "the alarm state is its only write"
    );
    let cw = aws_sdk_cloudwatch::Client::new(&acct.sdk_config());
    let a = cw
        .describe_alarms()
        .alarm_names("smoke-cpu")
        .send()
        .await
        .unwrap();
    let a = &a.metric_alarms()[0];
    assert_eq!(a.state_value().map(|s| s.as_str()), Some("ALARM"));
    assert!(
        a.state_reason().unwrap().starts_with("relayctl test"),
        "{:?}",
        a.state_reason()
    );
}

#[test]
fn reports_the_handlers_success() {
    let (acct, dir) = deployed();
    let writer = handler_logs_after_firing(
        &acct,
        r#" INFO posted to Slack index=0 kind="alarm" name="smoke-cpu" attempts=1"#,
    );
    let out = relayctl(
        &acct,
        dir.path(),
        &["test", "--wait", "20", "--output", "json"],
    );
    writer.join().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["delivered"], true);
    assert_eq!(json["alarm"], "smoke-cpu");
}

#[test]
fn reports_slacks_refusal_with_its_error_name() {
    let (acct, dir) = deployed();
    let writer = handler_logs_after_firing(
        &acct,
        r#"ERROR could not post to Slack index=0 kind="alarm" name="smoke-cpu" slack_error=Some("channel_not_found")"#,
    );
    let out = relayctl(&acct, dir.path(), &["test", "--wait", "20"]);
    writer.join().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("post failed") && stdout.contains("channel_not_found"),
        "{stdout}"
    );
}

#[test]
fn an_unknown_alarm_or_a_missing_chain_is_refused() {
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    stack(dir.path());
    let out = relayctl(&acct, dir.path(), &["test", "--alarm", "memory"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no alarm named memory"));
    assert_eq!(acct.calls(), vec![], "refused before any AWS call");

    let out = relayctl(&acct, dir.path(), &["test"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("relayctl up"));
    acct.assert_no_writes();
}
