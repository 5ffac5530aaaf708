//! Fleet-scale reads and writes (issue 12 items 3 and 4), asserted from the
//! fake's call log: counts, never time.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use support::Account;
use support::cli::{exit, text};

fn stack_yaml(name: &str, alarms: usize) -> String {
    let handler = Path::new(env!("CARGO_MANIFEST_DIR")).join("handler");
    let mut y = format!(
        "name: {name}\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nhandler:\n  path: {}\nalarms:\n",
        handler.display()
    );
    for i in 0..alarms {
        y.push_str(&format!(
            "  - name: cpu-{i}\n    instance_id: i-{:017x}\n",
            i + 1
        ));
    }
    y
}

struct Fleet {
    dir: tempfile::TempDir,
}

impl Fleet {
    fn new(name: &str, alarms: usize) -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stack.yaml"), stack_yaml(name, alarms)).unwrap();
        let zip = relayctl::package::zip_bootstrap(b"#!/bin/sh\n").unwrap();
        std::fs::write(dir.path().join("handler.zip"), zip).unwrap();
        Fleet { dir }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// Runs relayctl; `pace` is RELAYCTL_PACE (None: relayctl's defaults).
    fn run(&self, acct: &Account, pace: Option<&str>, args: &[&str]) -> Output {
        let mut cmd = Command::cargo_bin("relayctl").unwrap();
        cmd.envs(acct.env())
            .env(
                "SLACK_WEBHOOK_URL",
                "https://hooks.slack.invalid/services/T/B/x",
            )
            .env_remove("RELAYCTL_PACE")
            .arg("-f")
            .arg(self.path("stack.yaml"))
            .args(args);
        if let Some(pace) = pace {
            cmd.env("RELAYCTL_PACE", pace);
        }
        if args.first() != Some(&"down") {
            cmd.arg("--zip").arg(self.path("handler.zip"));
        }
        cmd.output().unwrap()
    }
}

/// 500 alarms, no change: ownership comes from the tagging index in pages
/// of 100, not from one ListTagsForResource per alarm (515 calls before).
#[test]
fn issue_12_fleet_noop_plan_reads_ownership_in_pages() {
    let acct = Account::new();
    let fleet = Fleet::new("fleet", 500);
    // Fast writes for the set-up; the fake enforces no quota here.
    exit(
        &fleet.run(&acct, Some("cloudwatch.PutMetricAlarm=0"), &["up"]),
        0,
    );
    acct.reset_calls();
    exit(&fleet.run(&acct, None, &["plan", "--detailed-exitcode"]), 0);
    let calls = acct.calls();
    let count = |service: &str, op: &str| {
        calls
            .iter()
            .filter(|c| c.service == service && c.operation == op)
            .count()
    };
    // 503 tagged resources (500 alarms, topic, log group, function).
    assert_eq!(count("tagging", "GetResources"), 6, "{calls:#?}");
    assert_eq!(count("cloudwatch", "DescribeAlarms"), 5);
    assert_eq!(count("cloudwatch", "ListTagsForResource"), 0);
    assert_eq!(count("sns", "ListTagsForResource"), 0);
    assert_eq!(count("logs", "ListTagsForResource"), 0);
    // STS, role (2), log group, topic, function, its policy, subscriptions,
    // plus the pages above.
    assert_eq!(calls.len(), 19, "{calls:#?}");
    acct.assert_no_writes();
}

/// AWS's tagging index lags: an alarm it does not list yet is read on its
/// own (one ListTagsForResource), proven ours, and not recreated.
#[test]
fn issue_12_an_alarm_the_index_lacks_gets_one_tag_read() {
    let acct = Account::new();
    let fleet = Fleet::new("lag", 3);
    exit(&fleet.run(&acct, None, &["up"]), 0);
    acct.hide_from_tagging_index(&[":alarm:lag-cpu-1"]);
    acct.reset_calls();
    let out = fleet.run(&acct, None, &["plan", "--detailed-exitcode"]);
    exit(&out, 0);
    assert_eq!(acct.count("cloudwatch", "ListTagsForResource"), 1);
    assert_eq!(acct.count("tagging", "GetResources"), 1);
    acct.assert_no_writes();

    // The same lag during `down`: the hidden alarm is still found and deleted.
    exit(&fleet.run(&acct, None, &["down", "--yes"]), 0);
    acct.reset_calls();
    let out = fleet.run(&acct, None, &["plan", "--detailed-exitcode"]);
    exit(&out, 2);
    assert!(
        text(&out.stdout).contains("lag-cpu-1"),
        "{}",
        text(&out.stdout)
    );
}

const QUOTA: u32 = 10;
const FLEET: usize = 40;

fn quota_fleet(acct: &Account) -> Fleet {
    acct.quotas(serde_json::json!([
        {"service": "cloudwatch", "operation": "PutMetricAlarm", "rate": QUOTA}
    ]));
    Fleet::new("paced", FLEET)
}

fn throttled(acct: &Account) -> usize {
    acct.calls()
        .iter()
        .filter(|c| c.operation == "PutMetricAlarm" && c.fault.as_deref() == Some("throttle"))
        .count()
}

/// Paced at the quota, a fleet `up` meets no throttle at all: every
/// PutMetricAlarm is admitted the first time, and the user sees no error.
#[test]
fn issue_12_paced_writes_never_meet_the_quota() {
    let acct = Account::new();
    let fleet = quota_fleet(&acct);
    let pace = format!("cloudwatch.PutMetricAlarm={QUOTA}");
    let out = fleet.run(&acct, Some(&pace), &["up"]);
    exit(&out, 0);
    assert_eq!(throttled(&acct), 0, "{}", text(&out.stderr));
    assert_eq!(acct.count("cloudwatch", "PutMetricAlarm"), FLEET);
    assert!(
        !text(&out.stderr).contains("Throttl"),
        "{}",
        text(&out.stderr)
    );
}

/// The control for the test above: unpaced, the same `up` runs into the
/// fake's quota (so the quota is real and the pacing is what avoids it).
#[test]
fn issue_12_unpaced_writes_are_throttled_by_the_same_quota() {
    let acct = Account::new();
    let fleet = quota_fleet(&acct);
    let _ = fleet.run(&acct, Some("cloudwatch.PutMetricAlarm=0"), &["up"]);
    assert!(
        throttled(&acct) > 0,
        "expected throttled PutMetricAlarm calls"
    );
}
