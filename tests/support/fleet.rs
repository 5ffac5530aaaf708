//! A stack file in a temporary folder and the relayctl binary run on it
//! against one fake account: the fleet tests' harness (tests/fleet.rs,
//! tests/targets.rs).

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

use super::cli::exit;
use super::{Account, Call};

/// `name:`, `slack:` and `handler:` of a stack, `alarms:` left to the caller.
pub fn stack_head(name: &str) -> String {
    let handler = Path::new(env!("CARGO_MANIFEST_DIR")).join("handler");
    format!(
        "name: {name}\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nhandler:\n  path: {}\nalarms:\n",
        handler.display()
    )
}

/// A stack of `alarms` single-instance alarms `cpu-0`, `cpu-1`, ...
pub fn stack_yaml(name: &str, alarms: usize) -> String {
    let mut y = stack_head(name);
    for i in 0..alarms {
        y.push_str(&format!(
            "  - name: cpu-{i}\n    instance_id: i-{:017x}\n",
            i + 1
        ));
    }
    y
}

pub struct Fleet {
    dir: tempfile::TempDir,
}

impl Fleet {
    pub fn new(name: &str, alarms: usize) -> Fleet {
        Fleet::from_yaml(&stack_yaml(name, alarms))
    }

    pub fn from_yaml(yaml: &str) -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let zip = relayctl::package::zip_bootstrap(b"#!/bin/sh\n").unwrap();
        std::fs::write(dir.path().join("handler.zip"), zip).unwrap();
        let fleet = Fleet { dir };
        fleet.write(yaml);
        fleet
    }

    /// Replaces the stack file.
    pub fn write(&self, yaml: &str) {
        std::fs::write(self.path("stack.yaml"), yaml).unwrap();
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// Runs relayctl; `pace` is RELAYCTL_PACE (None: relayctl's defaults).
    pub fn run(&self, acct: &Account, pace: Option<&str>, args: &[&str]) -> Output {
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
        if matches!(args.first(), Some(&"plan" | &"up")) {
            cmd.arg("--zip").arg(self.path("handler.zip"));
        }
        cmd.output().unwrap()
    }
}

impl Fleet {
    /// `up` (unpaced, fast), then a `plan` that must find no change: the
    /// plan's calls.
    pub fn noop_plan_calls(&self, acct: &Account) -> Vec<Call> {
        exit(
            &self.run(acct, Some("cloudwatch.PutMetricAlarm=0"), &["up"]),
            0,
        );
        acct.reset_calls();
        exit(&self.run(acct, None, &["plan", "--detailed-exitcode"]), 0);
        let calls = acct.calls();
        acct.assert_no_writes();
        calls
    }
}

/// How many of `calls` are `service` `operation`.
pub fn count(calls: &[Call], service: &str, operation: &str) -> usize {
    calls
        .iter()
        .filter(|c| c.service == service && c.operation == operation)
        .count()
}
