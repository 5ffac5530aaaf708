//! Issue 14 (items 2 and 3): `relayctl export cloudformation`, on the fake
//! AWS. The template passes cfn-lint; deployed into the fake's
//! CloudFormation (code from the fake's S3) it makes the same live
//! resources, attribute by attribute, as `relayctl up` of the same stack in
//! another account, and `relayctl status` / `plan` find the CloudFormation-
//! made stack in sync; the export is byte-for-byte the same across runs,
//! working directories and AWS regions; the webhook is never in it; the code
//! is uploaded once, under its SHA-256.
//!
//! The boto3 side (what an operator does with the AWS CLI, and the table of
//! live attributes) is tests/support/cfn.py, run with the fake's venv.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;
use support::Account;
use support::cli::{ok, shown};

const WEBHOOK: &str = "https://hooks.slack.com/services/T0EXPORT/B0EXPORT/exportsecretvalue";
const BUCKET_PATTERN: &str = "relay-code-${AWS::Region}";

/// The stacks every template test covers: route sns with the webhook as a
/// parameter, route direct, and the webhook in SSM with tags and a channel.
fn stacks() -> Vec<(&'static str, String)> {
    let alarms = "alarms:\n  - name: high-cpu\n    instance_id: i-0123456789abcdef0\n  - name: low-cpu\n    instance_id: i-0fedcba9876543210\n    threshold: 5.5\n    comparison: LessThanThreshold\n    notify_ok: false\n";
    vec![
        (
            "sns",
            format!("name: exsns\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\n{alarms}"),
        ),
        (
            "direct",
            format!(
                "name: exdirect\nroute: direct\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nhandler:\n  architecture: arm64\n  memory_mb: 256\n  log_retention_days: 30\n{alarms}"
            ),
        ),
        (
            "ssm",
            format!(
                "name: exssm\nslack:\n  webhook_url_ssm: /relay/exssm/hook\n  channel: \"#ops\"\ntags: {{ team: platform, cost-center: \"42\" }}\n{alarms}"
            ),
        ),
    ]
}

/// A deterministic stand-in package (not an ELF: no architecture to check).
fn write_zip(dir: &Path) -> PathBuf {
    let zip = relayctl::package::zip_bootstrap(b"#!/bin/sh\nexit 0\n").unwrap();
    let path = dir.join("h.zip");
    std::fs::write(&path, zip).unwrap();
    path
}

fn relayctl(acct: &Account, dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("relayctl")
        .unwrap()
        .envs(acct.env())
        .env("SLACK_WEBHOOK_URL", WEBHOOK)
        .env("AWS_MAX_ATTEMPTS", "1")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// The fake's venv (made by its first start), where cfn-lint and boto3 live.
fn venv_bin(name: &str) -> PathBuf {
    support::fake_url();
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fake-aws/.venv/bin")
        .join(name)
}

/// Runs tests/support/cfn.py against `acct`; its stdout.
fn cfn_py(acct: &Account, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/cfn.py");
    let out = std::process::Command::new(venv_bin("python"))
        .arg(script)
        .args([acct.url.as_str(), acct.id.as_str()])
        .args(args)
        .output()
        .unwrap();
    ok(out).stdout.iter().map(|b| *b as char).collect()
}

/// `export cloudformation --no-upload` of `yaml` in a fresh folder.
fn export_offline(acct: &Account, yaml: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), yaml).unwrap();
    write_zip(dir.path());
    let out = ok(relayctl(
        acct,
        dir.path(),
        &[
            "export",
            "cloudformation",
            "--code-bucket",
            BUCKET_PATTERN,
            "--zip",
            "h.zip",
            "--no-upload",
        ],
    ));
    (dir, String::from_utf8(out.stdout).unwrap())
}

#[test]
fn every_exported_template_passes_cfn_lint_and_holds_no_webhook() {
    let acct = Account::new();
    for (label, yaml) in stacks() {
        let (dir, template) = export_offline(&acct, &yaml);
        let file = dir.path().join("template.yaml");
        std::fs::write(&file, &template).unwrap();
        let lint = std::process::Command::new(venv_bin("cfn-lint"))
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(
            lint.status.code(),
            Some(0),
            "{label}: cfn-lint:\n{}\n{template}",
            shown(&lint)
        );
        assert!(
            !template.contains("exportsecretvalue"),
            "{label}:\n{template}"
        );
        let doc: Value = yaml_to_json(&template);
        let env = &doc["Resources"]["Function"]["Properties"]["Environment"]["Variables"];
        if label == "ssm" {
            assert_eq!(env["SLACK_WEBHOOK_SSM_PARAMETER"], "/relay/exssm/hook");
            assert!(doc["Parameters"].is_null(), "{template}");
        } else {
            assert_eq!(env["SLACK_WEBHOOK_URL"]["Ref"], "SlackWebhookUrl");
            assert_eq!(doc["Parameters"]["SlackWebhookUrl"]["NoEcho"], true);
        }
    }
    acct.assert_no_writes();
    assert!(acct.calls().is_empty(), "--no-upload makes no AWS call");
}

/// The template parsed by the fake venv's PyYAML, as JSON.
fn yaml_to_json(template: &str) -> Value {
    let mut child = std::process::Command::new(venv_bin("python"))
        .args([
            "-c",
            "import json,sys,yaml; print(json.dumps(yaml.safe_load(sys.stdin), default=str))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(template.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_export_is_byte_identical_across_runs_folders_and_regions() {
    let acct = Account::new();
    let (_, yaml) = stacks().remove(2);
    let (dir, first) = export_offline(&acct, &yaml);
    // Again, from another working directory, naming the files by absolute
    // path, in another region.
    let elsewhere = tempfile::tempdir().unwrap();
    let stack = dir.path().join("stack.yaml");
    let zip = dir.path().join("h.zip");
    let out = ok(Command::cargo_bin("relayctl")
        .unwrap()
        .envs(acct.env())
        .env("AWS_REGION", "eu-west-1")
        .current_dir(elsewhere.path())
        .args(["export", "cloudformation", "--no-upload"])
        .args(["-f", stack.to_str().unwrap()])
        .args([
            "--code-bucket",
            BUCKET_PATTERN,
            "--zip",
            zip.to_str().unwrap(),
        ])
        .output()
        .unwrap());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), first);
    let (_, third) = export_offline(&acct, &yaml);
    assert_eq!(third, first);
    for path in [dir.path(), elsewhere.path()] {
        assert!(!first.contains(path.to_str().unwrap()), "{first}");
    }
    assert!(
        !first.contains("us-east-1") && !first.contains(&acct.id),
        "{first}"
    );
}

#[test]
fn a_bad_code_bucket_is_refused_before_any_aws_call() {
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), &stacks()[0].1).unwrap();
    write_zip(dir.path());
    let out = relayctl(
        &acct,
        dir.path(),
        &[
            "export",
            "cloudformation",
            "--code-bucket",
            "code-${AWS::AccountId}",
            "--zip",
            "h.zip",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--code-bucket"), "{stderr}");
    assert!(stderr.contains("${AWS::Region}"), "{stderr}");
    assert!(acct.calls().is_empty(), "{:?}", acct.calls());
}

/// The attribute table of one stack's live resources (tests/support/cfn.py).
fn attributes(acct: &Account, stack: &str) -> BTreeMap<String, Value> {
    serde_json::from_str(&cfn_py(acct, &["attributes", stack])).unwrap()
}

#[test]
fn the_deployed_template_matches_up_resource_by_resource_and_status_is_in_sync() {
    let (_, yaml) = stacks().remove(0);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), &yaml).unwrap();
    write_zip(dir.path());

    // relayctl up in one account...
    let by_up = Account::new();
    ok(relayctl(&by_up, dir.path(), &["up", "--zip", "h.zip"]));

    // ...the export, deployed by CloudFormation, in another.
    let by_cfn = Account::new();
    // S3's bucket names are global: one per test run.
    let bucket = format!("relay-code-{}-${{AWS::Region}}", by_cfn.id);
    let in_region = bucket.replace("${AWS::Region}", "us-east-1");
    cfn_py(&by_cfn, &["bucket", &in_region]);
    let export = [
        "export",
        "cloudformation",
        "--code-bucket",
        &bucket,
        "--code-prefix",
        "lambda/relay",
        "--zip",
        "h.zip",
        "--out",
        "template.yaml",
    ];
    let out = ok(relayctl(&by_cfn, dir.path(), &export));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "uploaded s3://{in_region}/lambda/relay/relay-handler-"
        )),
        "{stderr}"
    );
    assert_eq!(by_cfn.count("s3", "HeadObject"), 1);
    // The same zip again: HeadObject finds it, nothing is written.
    by_cfn.reset_calls();
    let out = ok(relayctl(&by_cfn, dir.path(), &export));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already there; not uploaded"),
        "{}",
        shown(&out)
    );
    assert_eq!(by_cfn.count("s3", "HeadObject"), 1);
    by_cfn.assert_no_writes();

    let template = dir.path().join("template.yaml");
    let param = format!("SlackWebhookUrl={WEBHOOK}");
    cfn_py(
        &by_cfn,
        &["deploy", "cfn-made", template.to_str().unwrap(), &param],
    );

    let want = attributes(&by_up, "exsns");
    let got = attributes(&by_cfn, "exsns");
    // The table is the real thing, not two empty maps: spot-check rows
    // against the stack file itself.
    assert_eq!(
        want["role.policy_names"],
        serde_json::json!(["relayctl-logs-us-east-1"])
    );
    assert_eq!(want["function.tags"]["relayctl:stack"], "exsns");
    assert_eq!(want["alarm.exsns-low-cpu.Threshold"], 5.5);
    assert_eq!(want["alarm.exsns-low-cpu.OKActions"], serde_json::json!([]));
    assert_eq!(want["function.environment"]["SLACK_WEBHOOK_URL"], WEBHOOK);
    let rows: Vec<&String> = want.keys().chain(got.keys()).collect();
    let differ: Vec<String> = rows
        .into_iter()
        .filter(|row| want.get(*row) != got.get(*row))
        .map(|row| {
            format!(
                "{row}:\n  up:  {:?}\n  cfn: {:?}",
                want.get(row),
                got.get(row)
            )
        })
        .collect();
    assert!(
        differ.is_empty(),
        "rows that differ:\n{}",
        differ.join("\n")
    );
    assert!(want.len() >= 30, "{want:?}");

    // relayctl reads the CloudFormation-made stack as its own, in sync.
    by_cfn.reset_calls();
    let out = ok(relayctl(
        &by_cfn,
        dir.path(),
        &["status", "--detailed-exitcode"],
    ));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("in sync with the file"), "{stdout}");
    let out = ok(relayctl(
        &by_cfn,
        dir.path(),
        &["plan", "--detailed-exitcode", "--zip", "h.zip"],
    ));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("No changes"),
        "{}",
        shown(&out)
    );
    by_cfn.assert_no_writes();
}
