//! Issue 13: the webhook as an SSM SecureString (`slack.webhook_url_ssm`),
//! end to end on the fake AWS: `secret set` stores it, `up` puts only the
//! parameter's name in the function and lets the role read that one
//! parameter, the running handler fetches it, a rotation reaches the handler
//! without an `up`, `down` deletes only a parameter the stack created, and
//! the URL appears in no output, call log, delivery log or handler log line.

mod support;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use support::Account;
use support::chain::{SlackSink, handler_zip};
use support::cli::{ok, shown};

const STACK: &str = "ssmrelay";
const PARAM: &str = "/relay/ssmrelay/slack-webhook";
const ALARM: &str = "ssmrelay-cpu";

fn stack(dir: &Path) {
    let handler = Path::new(env!("CARGO_MANIFEST_DIR")).join("handler");
    std::fs::write(
        dir.join("stack.yaml"),
        format!(
            "name: {STACK}\nslack:\n  webhook_url_ssm: {PARAM}\nhandler:\n  path: {}\nalarms:\n  - name: cpu\n    instance_id: i-0123456789abcdef0\n",
            handler.display()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("h.zip"), handler_zip()).unwrap();
}

/// relayctl with no webhook anywhere in its environment, unless `env` adds one.
fn relayctl(
    acct: &Account,
    dir: &Path,
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> Output {
    let mut cmd = Command::cargo_bin("relayctl").unwrap();
    cmd.envs(acct.env())
        .env_remove("SLACK_WEBHOOK_URL")
        .env("AWS_MAX_ATTEMPTS", "1")
        .current_dir(dir)
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.write_stdin(stdin.unwrap_or("")).output().unwrap()
}

/// The URL and the part of it that makes it a secret (its path).
fn secret_parts(url: &str) -> Vec<String> {
    let path = &url[url.find("/services/").expect("a webhook path")..];
    vec![
        url.to_string(),
        path.to_string(),
        path.rsplit('/').next().unwrap().to_string(),
    ]
}

#[track_caller]
fn assert_no_secret(what: &str, haystack: &str, urls: &[&str]) {
    for url in urls {
        for part in secret_parts(url) {
            assert!(
                !haystack.contains(&part),
                "{what} contains the webhook ({part}):\n{haystack}"
            );
        }
    }
}

async fn parameter_value(ssm: &aws_sdk_ssm::Client) -> (String, i64) {
    let p = ssm
        .get_parameter()
        .name(PARAM)
        .with_decryption(true)
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap();
    (p.value.unwrap(), p.version)
}

/// Every message the handler wrote to its log group.
async fn handler_log(acct: &Account) -> String {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&acct.sdk_config());
    let events = logs
        .filter_log_events()
        .log_group_name(format!("/aws/lambda/{STACK}-relay"))
        .send()
        .await
        .unwrap();
    events
        .events()
        .iter()
        .filter_map(|e| e.message())
        .collect::<Vec<_>>()
        .join("\n")
}

fn fake_log(acct: &Account, what: &str) -> String {
    let url = format!("{}/_fake/{what}?account={}", acct.url, acct.id);
    let mut resp = ureq::Agent::config_builder()
        .proxy(None)
        .build()
        .new_agent()
        .get(&url)
        .call()
        .unwrap();
    resp.body_mut().read_to_string().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn issue_13_ssm_webhook_end_to_end_with_rotation_and_no_leak() {
    let slack = SlackSink::ok().await;
    let first = slack.webhook_url_with_token("firstsecrettoken");
    let second = slack.webhook_url_with_token("rotatedsecrettoken");
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    stack(d);
    let config = acct.sdk_config();
    let ssm = aws_sdk_ssm::Client::new(&config);
    let lambda = aws_sdk_lambda::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let mut outputs = Vec::new();
    let loud = ["-vvv", "--output", "json"];

    // `up` before `secret set`: stops before any write, pointing at `secret set`.
    let out = relayctl(&acct, d, &["up", "--zip", "h.zip"], None, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("relayctl secret set"),
        "{}",
        shown(&out)
    );
    acct.assert_no_writes();

    // `secret set` from stdin: a tagged SecureString holding exactly the URL.
    let out = ok(relayctl(
        &acct,
        d,
        &[&loud[..], &["secret", "set"]].concat(),
        Some(&format!("{first}\n")),
        &[],
    ));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (json["created"].as_bool(), json["version"].as_i64()),
        (Some(true), Some(1))
    );
    outputs.push(shown(&out));
    assert_eq!(parameter_value(&ssm).await, (first.clone(), 1));
    let p = ssm
        .get_parameter()
        .name(PARAM)
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap();
    assert_eq!(p.r#type().map(|t| t.as_str()), Some("SecureString"));
    let tags = ssm
        .list_tags_for_resource()
        .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
        .resource_id(PARAM)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tag_list()
            .iter()
            .any(|t| t.key == "relayctl:stack" && t.value == STACK),
        "{tags:?}"
    );

    // plan, up: the function's environment names the parameter, never the URL;
    // the role may read that one parameter.
    outputs.push(shown(&relayctl(
        &acct,
        d,
        &[&loud[..], &["plan", "--zip", "h.zip"]].concat(),
        None,
        &[],
    )));
    let out = ok(relayctl(
        &acct,
        d,
        &[&loud[..], &["up", "--zip", "h.zip"]].concat(),
        None,
        &[],
    ));
    outputs.push(shown(&out));
    let conf = lambda
        .get_function_configuration()
        .function_name(format!("{STACK}-relay"))
        .send()
        .await
        .unwrap();
    let vars = conf
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        vars.get("SLACK_WEBHOOK_SSM_PARAMETER").map(String::as_str),
        Some(PARAM)
    );
    assert!(!vars.contains_key("SLACK_WEBHOOK_URL"), "{vars:?}");
    let policy = iam
        .get_role_policy()
        .role_name(format!("{STACK}-relay"))
        .policy_name("relayctl-logs-us-east-1")
        .send()
        .await
        .unwrap()
        .policy_document;
    let policy: serde_json::Value =
        serde_json::from_str(&urlencoding::decode(&policy).unwrap()).unwrap();
    let param_arn = format!("arn:aws:ssm:us-east-1:{}:parameter{PARAM}", acct.id);
    let statements = policy["Statement"].as_array().unwrap();
    assert!(
        statements
            .iter()
            .any(|s| s["Action"] == "ssm:GetParameter" && s["Resource"] == param_arn),
        "{policy:#}"
    );
    let kms = statements
        .iter()
        .find(|s| s["Action"] == "kms:Decrypt")
        .expect("kms:Decrypt");
    assert_eq!(
        kms["Condition"]["StringEquals"]["kms:ViaService"],
        "ssm.us-east-1.amazonaws.com"
    );
    assert_eq!(
        kms["Condition"]["StringEquals"]["kms:EncryptionContext:PARAMETER_ARN"],
        param_arn.as_str()
    );

    // A second up changes nothing.
    acct.reset_calls();
    ok(relayctl(&acct, d, &["up", "--zip", "h.zip"], None, &[]));
    acct.assert_no_writes();

    // status: present, with version and last-modified time.
    let out = ok(relayctl(
        &acct,
        d,
        &[&loud[..], &["status"]].concat(),
        None,
        &[],
    ));
    outputs.push(shown(&out));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let param = status["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "ssm parameter")
        .unwrap_or_else(|| panic!("{status:#}"));
    assert_eq!(param["presence"], "present");
    let detail = param["detail"].as_str().unwrap();
    assert!(
        detail.contains("SecureString, version 1, last modified 20"),
        "{detail}"
    );

    // The chain: alarm -> SNS -> handler -> GetParameter -> Slack at the stored URL.
    let out = ok(relayctl(
        &acct,
        d,
        &[&loud[..], &["test", "--wait", "30"]].concat(),
        None,
        &[],
    ));
    outputs.push(shown(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["delivered"], true, "{json:#}");
    let at_first = slack.texts_at(&first).await;
    assert_eq!(at_first.len(), 1, "{at_first:?}");
    assert!(
        at_first[0].starts_with(&format!("{ALARM} state is now ALARM")),
        "{at_first:?}"
    );

    // Rotation without `up`: the old hook is gone (404 no_service), the new
    // one is stored; the next alarm arrives through the new URL.
    slack.refuse(&first).await;
    acct.reset_calls();
    let out = ok(relayctl(
        &acct,
        d,
        &[&loud[..], &["secret", "set", "--from-env", "NEW_HOOK"]].concat(),
        None,
        &[("NEW_HOOK", &second)],
    ));
    outputs.push(shown(&out));
    assert_eq!(parameter_value(&ssm).await, (second.clone(), 2));
    let out = ok(relayctl(
        &acct,
        d,
        &[&loud[..], &["test", "--wait", "30"]].concat(),
        None,
        &[],
    ));
    outputs.push(shown(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["delivered"], true, "{json:#}");
    let writes: Vec<String> = acct.writes().into_iter().map(|c| c.operation).collect();
    assert!(
        writes
            .iter()
            .all(|w| ["PutParameter", "SetAlarmState"].contains(&w.as_str())),
        "no redeploy: {writes:?}"
    );
    assert_eq!(
        slack.texts_at(&first).await.len(),
        2,
        "the old hook was tried once more, and refused"
    );
    let at_second = slack.texts_at(&second).await;
    assert_eq!(at_second.len(), 1, "{at_second:?}");
    assert!(
        at_second[0].starts_with(&format!("{ALARM} state is now ALARM")),
        "{at_second:?}"
    );

    // status in text shows the new version, never the value.
    let out = ok(relayctl(&acct, d, &["-vvv", "status"], None, &[]));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.contains("SecureString, version 2, last modified 20"),
        "{stdout}"
    );
    outputs.push(shown(&out));

    // Nothing the handler logged, nothing the fake recorded, holds the URL.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = handler_log(&acct).await;
    assert!(!log.is_empty());
    assert_no_secret("the handler's log", &log, &[&first, &second]);

    // down: the parameter was made by `secret set` for this stack, so it goes, and the plan says so.
    let out = ok(relayctl(
        &acct,
        d,
        &[&loud[..], &["down", "--yes"]].concat(),
        None,
        &[],
    ));
    outputs.push(shown(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes = plan["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("{plan:#}"));
    assert!(
        changes
            .iter()
            .any(|c| c["kind"] == "parameter" && c["action"] == "delete" && c["name"] == PARAM),
        "{plan:#}"
    );
    let gone = ssm.get_parameter().name(PARAM).send().await.unwrap_err();
    assert!(
        gone.as_service_error()
            .is_some_and(|e| e.is_parameter_not_found()),
        "{gone:?}"
    );

    for (i, out) in outputs.iter().enumerate() {
        assert_no_secret(&format!("command output #{i}"), out, &[&first, &second]);
    }
    assert_no_secret(
        "the fake's call log",
        &fake_log(&acct, "calls"),
        &[&first, &second],
    );
    assert_no_secret(
        "the fake's delivery log",
        &fake_log(&acct, "deliveries"),
        &[&first, &second],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn issue_13_down_keeps_a_parameter_the_stack_did_not_create() {
    let slack = SlackSink::ok().await;
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    stack(dir.path());
    let ssm = aws_sdk_ssm::Client::new(&acct.sdk_config());
    // Made by hand: no ownership tag.
    ssm.put_parameter()
        .name(PARAM)
        .value(slack.webhook_url())
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    ok(relayctl(
        &acct,
        dir.path(),
        &["up", "--zip", "h.zip"],
        None,
        &[],
    ));
    let out = ok(relayctl(&acct, dir.path(), &["down", "--yes"], None, &[]));
    // The stack lock's release is a DeleteParameter too (tests/lock.rs).
    let deleted = acct
        .calls()
        .into_iter()
        .filter(|c| c.operation == "DeleteParameter" && !c.is_lock())
        .count();
    assert_eq!(deleted, 0, "{}", shown(&out));
    assert_eq!(parameter_value(&ssm).await, (slack.webhook_url(), 1));
}

#[test]
fn issue_13_secret_set_refuses_what_is_not_a_webhook_without_echoing_it() {
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    stack(dir.path());
    let input = "ftp://example.invalid/not/a/hooksecretpart";
    let out = relayctl(&acct, dir.path(), &["secret", "set"], Some(input), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    let shown = shown(&out);
    assert!(shown.contains("not a Slack webhook URL"), "{shown}");
    assert!(
        !shown.contains("hooksecretpart") && !shown.contains("example.invalid"),
        "{shown}"
    );
    acct.assert_no_writes();
}
