//! `relayctl test` end to end against the chain running in the fake AWS:
//! relayctl sets the alarm to ALARM, CloudWatch's action publishes to the
//! topic, SNS invokes the function (if its resource policy allows it), the
//! real handler posts to a Slack stand-in and logs its verdict, and relayctl
//! reports that verdict from the function's log group.

mod support;

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use aws_sdk_cloudwatch::types::StateValue;
use support::Account;
use support::chain::{SlackSink, handler_zip};

const ALARM: &str = "smoke-cpu";
const REASON_PREFIX: &str = "relayctl test: a test notification through the chain of stack smoke";

fn stack(dir: &Path, route: &str, zip: &[u8]) {
    let handler = Path::new(env!("CARGO_MANIFEST_DIR")).join("handler");
    std::fs::write(
        dir.join("stack.yaml"),
        format!(
            "name: smoke\nroute: {route}\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nhandler:\n  path: {}\nalarms:\n  - name: cpu\n    instance_id: i-0123456789abcdef0\n",
            handler.display()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("h.zip"), zip).unwrap();
}

fn relayctl(acct: &Account, dir: &Path, webhook: &str, args: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("relayctl").unwrap();
    cmd.envs(acct.env())
        .env("SLACK_WEBHOOK_URL", webhook)
        .env("AWS_MAX_ATTEMPTS", "1")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// A fresh account with the stack up (route `route`, code `zip`), its
/// webhook pointing at `slack`; the call log starts empty.
fn deployed(route: &str, zip: &[u8], webhook: &str) -> (Account, tempfile::TempDir) {
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    stack(dir.path(), route, zip);
    let out = relayctl(&acct, dir.path(), webhook, &["up", "--zip", "h.zip"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    acct.reset_calls();
    (acct, dir)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write_ops(acct: &Account) -> Vec<String> {
    acct.writes().into_iter().map(|c| c.operation).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_notification_goes_through_the_chain_and_slacks_acceptance_is_reported() {
    let slack = SlackSink::ok().await;
    let (acct, dir) = deployed("sns", &handler_zip(), &slack.webhook_url());
    let out = relayctl(
        &acct,
        dir.path(),
        &slack.webhook_url(),
        &["test", "--wait", "30", "--output", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["delivered"], true);
    assert_eq!(json["alarm"], ALARM);

    let texts = slack.texts().await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    let expected = format!("{ALARM} state is now ALARM: {REASON_PREFIX}");
    assert!(texts[0].starts_with(&expected), "{texts:?}");
    assert_eq!(write_ops(&acct), ["SetAlarmState"], "its only write");
    let flow: Vec<(String, String)> = acct
        .deliveries()
        .into_iter()
        .map(|d| (d.source, d.outcome))
        .collect();
    assert_eq!(
        flow,
        [
            ("alarm".to_string(), "published".to_string()),
            ("sns".to_string(), "invoked".to_string())
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn slacks_refusal_is_reported_by_its_error_name() {
    let slack = SlackSink::answering(403, "invalid_token").await;
    let (acct, dir) = deployed("sns", &handler_zip(), &slack.webhook_url());
    let out = relayctl(
        &acct,
        dir.path(),
        &slack.webhook_url(),
        &["test", "--wait", "30"],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "Slack refused the test notification for {ALARM}: invalid_token"
        )),
        "{text}"
    );
    assert_eq!(slack.texts().await.len(), 1, "a 4xx is not retried");
    let err = String::from_utf8_lossy(&out.stderr);
    for shown in [&text, &err.to_string()] {
        assert!(
            !shown.contains("fakesecrettoken"),
            "webhook leaked: {shown}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_permission_is_diagnosed_when_sns_cannot_invoke() {
    let slack = SlackSink::ok().await;
    let (acct, dir) = deployed("sns", &handler_zip(), &slack.webhook_url());
    let lambda = aws_sdk_lambda::Client::new(&acct.sdk_config());
    lambda
        .remove_permission()
        .function_name("smoke-relay")
        .statement_id("smoke-sns")
        .send()
        .await
        .unwrap();

    let out = relayctl(
        &acct,
        dir.path(),
        &slack.webhook_url(),
        &["test", "--wait", "3"],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("No delivery of smoke-cpu seen"), "{text}");
    assert!(
        text.contains("lambda permission smoke-sns is missing")
            && text.contains("sns.amazonaws.com may not invoke the function"),
        "{text}"
    );
    assert_eq!(slack.texts().await, Vec::<String>::new());
    let flow: Vec<(String, String)> = acct
        .deliveries()
        .into_iter()
        .map(|d| (d.source, d.outcome))
        .collect();
    assert_eq!(
        flow,
        [
            ("alarm".to_string(), "published".to_string()),
            ("sns".to_string(), "refused".to_string())
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alarm_already_in_alarm_is_moved_out_first_so_the_test_still_fires() {
    let slack = SlackSink::ok().await;
    let (acct, dir) = deployed("sns", &handler_zip(), &slack.webhook_url());
    let cw = aws_sdk_cloudwatch::Client::new(&acct.sdk_config());
    cw.set_alarm_state()
        .alarm_name(ALARM)
        .state_value(StateValue::Alarm)
        .state_reason("a real incident")
        .send()
        .await
        .unwrap();
    acct.deliveries();
    assert_eq!(
        slack
            .wait_for(1, std::time::Duration::from_secs(20))
            .await
            .len(),
        1
    );
    acct.reset_calls();

    let out = relayctl(
        &acct,
        dir.path(),
        &slack.webhook_url(),
        &["test", "--wait", "30"],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("smoke-cpu was already in ALARM") && text.contains("INSUFFICIENT_DATA first"),
        "{text}"
    );
    let texts = slack.texts().await;
    assert_eq!(texts.len(), 2, "no OK message in between: {texts:?}");
    assert!(
        texts[1].starts_with(&format!("{ALARM} state is now ALARM: {REASON_PREFIX}")),
        "{texts:?}"
    );
    assert_eq!(write_ops(&acct), ["SetAlarmState", "SetAlarmState"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn route_direct_delivers_through_the_alarm_invoking_the_function() {
    let slack = SlackSink::ok().await;
    let (acct, dir) = deployed("direct", &handler_zip(), &slack.webhook_url());
    let out = relayctl(
        &acct,
        dir.path(),
        &slack.webhook_url(),
        &["test", "--wait", "30"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let texts = slack.texts().await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(
        texts[0].starts_with(&format!("{ALARM} state is now ALARM: {REASON_PREFIX}")),
        "{texts:?}"
    );
    let deliveries = acct.deliveries();
    assert_eq!(deliveries.len(), 1, "{deliveries:#?}");
    assert_eq!(deliveries[0].source, "alarm");
    assert_eq!(
        deliveries[0].principal.as_deref(),
        Some("lambda.alarms.cloudwatch.amazonaws.com")
    );
    assert_eq!(deliveries[0].outcome, "invoked");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_function_that_cannot_run_is_reported_as_no_delivery() {
    // Not a program: Lambda cannot start it, so the handler never logs.
    let zip = relayctl::package::zip_bootstrap(b"h").unwrap();
    let (acct, dir) = deployed("sns", &zip, "https://hooks.slack.invalid/services/T/B/x");
    let out = relayctl(
        &acct,
        dir.path(),
        "https://hooks.slack.invalid/services/T/B/x",
        &["test", "--wait", "2"],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("No delivery of smoke-cpu seen"), "{text}");
    assert!(text.contains("`relayctl status` shows the chain"), "{text}");
    assert_eq!(write_ops(&acct), ["SetAlarmState"], "its only write");
    let failed = acct.deliveries().pop().unwrap();
    assert_eq!(failed.outcome, "failed");
    assert_eq!(
        failed.error_type.as_deref(),
        Some("Runtime.InvalidEntrypoint")
    );

    let cw = aws_sdk_cloudwatch::Client::new(&acct.sdk_config());
    let a = cw
        .describe_alarms()
        .alarm_names(ALARM)
        .send()
        .await
        .unwrap();
    let a = &a.metric_alarms()[0];
    assert_eq!(a.state_value().map(|s| s.as_str()), Some("ALARM"));
    assert!(
        a.state_reason().unwrap().starts_with(REASON_PREFIX),
        "{:?}",
        a.state_reason()
    );
}

#[test]
fn an_unknown_alarm_or_a_missing_chain_is_refused() {
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    stack(dir.path(), "sns", b"");
    let webhook = "https://hooks.slack.invalid/services/T/B/x";
    let out = relayctl(&acct, dir.path(), webhook, &["test", "--alarm", "memory"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no alarm named memory"));
    assert_eq!(acct.calls(), vec![], "refused before any AWS call");

    let out = relayctl(&acct, dir.path(), webhook, &["test"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("relayctl up"));
    acct.assert_no_writes();
}
