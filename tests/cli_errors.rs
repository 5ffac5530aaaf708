//! Bad input through the built binary: a clear error naming the file, field
//! and fix, exit code 1 (2 for usage), and not one AWS call.

mod support;

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use support::Account;

const SECRET_URL: &str = "https://hooks.slack.com/services/T123/B456/verysecrettoken";

fn handler_dir() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("handler")
        .display()
        .to_string()
}

fn run(acct: &Account, dir: &Path, yaml: &str, args: &[&str], webhook: Option<&str>) -> Output {
    std::fs::write(dir.join("stack.yaml"), yaml).unwrap();
    let mut cmd = Command::cargo_bin("relayctl").unwrap();
    cmd.envs(acct.env())
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("SLACK_WEBHOOK_URL")
        .current_dir(dir)
        .args(args);
    if let Some(url) = webhook {
        cmd.env("SLACK_WEBHOOK_URL", url);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn good_yaml() -> String {
    format!(
        "name: fine\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nhandler:\n  path: {}\nalarms:\n  - name: cpu\n    instance_id: i-0123456789abcdef0\n",
        handler_dir()
    )
}

fn zip_in(dir: &Path) -> String {
    let zip = relayctl::package::zip_bootstrap(b"handler").unwrap();
    let path = dir.join("h.zip");
    std::fs::write(&path, zip).unwrap();
    path.display().to_string()
}

#[test]
fn invalid_stack_names_every_problem_and_calls_no_aws() {
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "name: Bad_Name\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nhandler:\n  path: {}\n  memory_mb: 64\nalarms:\n  - name: cpu\n    instance_id: i-0123456789abcdef0\n    period_s: 45\n",
        handler_dir()
    );
    for cmd in ["plan", "up", "down", "status"] {
        let out = run(&acct, dir.path(), &yaml, &[cmd], Some(SECRET_URL));
        assert_eq!(out.status.code(), Some(1), "{cmd}");
        let err = stderr(&out);
        assert!(
            err.contains("stack.yaml is invalid (3 problems)"),
            "{cmd}: {err}"
        );
        assert!(err.contains("stack.yaml:1: name:"), "{cmd}: {err}");
        assert!(
            err.contains("stack.yaml:6: handler.memory_mb:"),
            "{cmd}: {err}"
        );
        assert!(
            err.contains("stack.yaml:10: alarms[0].period_s:"),
            "{cmd}: {err}"
        );
        assert!(err.contains("hint:"), "{cmd}: {err}");
    }
    assert_eq!(
        acct.calls(),
        vec![],
        "an invalid file must make no AWS call"
    );
}

#[test]
fn webhook_url_in_the_file_is_refused_without_echoing_it() {
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    let yaml = good_yaml().replace(
        "webhook_url_env: SLACK_WEBHOOK_URL",
        &format!("webhook_url_env: {SECRET_URL}"),
    );
    let out = run(&acct, dir.path(), &yaml, &["plan"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("slack.webhook_url_env"), "{err}");
    assert!(
        !err.contains("verysecrettoken") && !err.contains("hooks.slack.com"),
        "secret echoed: {err}"
    );
    assert_eq!(acct.calls(), vec![]);
}

#[test]
fn up_without_the_webhook_variable_stops_before_any_call() {
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    let zip = zip_in(dir.path());
    let out = run(
        &acct,
        dir.path(),
        &good_yaml(),
        &["up", "--zip", &zip],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("SLACK_WEBHOOK_URL"), "{err}");
    assert!(
        err.contains("export SLACK_WEBHOOK_URL="),
        "the hint says how: {err}"
    );
    assert_eq!(acct.calls(), vec![]);
}

#[test]
fn a_zip_without_bootstrap_is_refused_before_any_call() {
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    let not_zip = dir.path().join("x.zip");
    std::fs::write(&not_zip, b"not a zip").unwrap();
    let out = run(
        &acct,
        dir.path(),
        &good_yaml(),
        &["up", "--zip", &not_zip.display().to_string()],
        Some(SECRET_URL),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("x.zip"), "{}", stderr(&out));
    assert_eq!(acct.calls(), vec![]);
}

#[test]
fn missing_stack_file_says_which_and_usage_errors_exit_2() {
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::cargo_bin("relayctl").unwrap();
    let out = cmd
        .envs(acct.env())
        .current_dir(dir.path())
        .args(["status", "-f", "nope.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nope.yaml"), "{}", stderr(&out));

    let mut cmd = Command::cargo_bin("relayctl").unwrap();
    let out = cmd.arg("launch").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(acct.calls(), vec![]);
}

#[test]
fn global_flags_work_after_the_subcommand_too() {
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    let zip = zip_in(dir.path());
    std::fs::write(dir.path().join("other.yaml"), good_yaml()).unwrap();
    let mut cmd = Command::cargo_bin("relayctl").unwrap();
    let out = cmd
        .envs(acct.env())
        .env_remove("AWS_ENDPOINT_URL")
        .env("SLACK_WEBHOOK_URL", SECRET_URL)
        .current_dir(dir.path())
        .args([
            "plan",
            "-f",
            "other.yaml",
            "--endpoint-url",
            &acct.url,
            "--output",
            "json",
            "--zip",
            &zip,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["stack"], "fine");
    assert_eq!(plan["summary"]["create"], 7);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("verysecrettoken"));
    assert!(
        acct.count("sts", "GetCallerIdentity") >= 1,
        "--endpoint-url was used"
    );
    acct.assert_no_writes();
}

#[test]
fn no_credentials_is_named_with_a_hint_and_no_aws_call() {
    // Told apart from other failures by the credentials error in the SDK
    // error's source chain, not by its text.
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), good_yaml()).unwrap();
    let out = Command::cargo_bin("relayctl")
        .unwrap()
        .envs(acct.env())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env("AWS_MAX_ATTEMPTS", "1")
        .current_dir(dir.path())
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with("error[E302]: no AWS credentials: "),
        "{err}"
    );
    assert!(
        err.ends_with(
            "\n  hint: set AWS_PROFILE (see `aws configure`), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n"
        ),
        "{err}"
    );
    assert_eq!(acct.calls(), vec![], "nothing reached AWS");
}

/// Issue 10.10: without the handler's source tree, a stack can still be
/// inspected, deployed from a zip and removed; only a build needs the source.
#[test]
fn no_source_tree_needed_except_to_build() {
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    let zip = zip_in(dir.path());
    let yaml = good_yaml().replace(&handler_dir(), "no-such-handler");
    let runs: [&[&str]; 4] = [
        &["status"],
        &["plan", "--zip", &zip],
        &["up", "--zip", &zip],
        &["down", "--yes"],
    ];
    for args in runs {
        let out = run(&acct, dir.path(), &yaml, args, Some(SECRET_URL));
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    assert!(
        acct.count("lambda", "CreateFunction") == 1,
        "up --zip deployed"
    );
    assert!(
        acct.count("lambda", "DeleteFunction") == 1,
        "down removed it"
    );

    acct.reset_calls();
    let out = run(&acct, dir.path(), &yaml, &["up"], Some(SECRET_URL));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("handler.path: "), "{err}");
    assert!(err.contains("no-such-handler does not exist"), "{err}");
    assert!(err.contains("--zip"), "the hint names the way out: {err}");
    assert_eq!(
        acct.calls(),
        vec![],
        "a build problem stops before any call"
    );
}
