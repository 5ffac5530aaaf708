//! Snapshots of what people read: `plan` (text and JSON) on a fresh account
//! and after an edit, and `status` with drift. The account id, which differs
//! per test run, is masked; nothing else varies.

mod support;

use std::path::Path;

use assert_cmd::Command;
use support::Account;

fn yaml(threshold: u32, route: &str) -> String {
    format!(
        "name: snap\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\n  channel: \"#alerts\"\nhandler:\n  path: {}\nroute: {route}\nalarms:\n  - name: high-cpu\n    instance_id: i-0123456789abcdef0\n    threshold: {threshold}\ntags:\n  team: platform\n",
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("handler")
            .display()
    )
}

struct Run {
    acct: Account,
    dir: tempfile::TempDir,
}

impl Run {
    fn new() -> Run {
        let dir = tempfile::tempdir().unwrap();
        let zip = relayctl::package::zip_bootstrap(b"snapshot handler").unwrap();
        std::fs::write(dir.path().join("h.zip"), zip).unwrap();
        Run {
            acct: Account::new(),
            dir,
        }
    }

    fn write(&self, yaml: &str) {
        std::fs::write(self.dir.path().join("stack.yaml"), yaml).unwrap();
    }

    /// stdout with the account id masked; panics on exit codes other than 0 and 2.
    fn run(&self, args: &[&str]) -> String {
        let mut cmd = Command::cargo_bin("relayctl").unwrap();
        let out = cmd
            .envs(self.acct.env())
            .env(
                "SLACK_WEBHOOK_URL",
                "https://hooks.slack.invalid/services/T/B/snapshot-secret",
            )
            .env("AWS_MAX_ATTEMPTS", "1")
            .current_dir(self.dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0) | Some(2)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(
            !stdout.contains("snapshot-secret"),
            "webhook leaked:\n{stdout}"
        );
        stdout.replace(&self.acct.id, "[ACCOUNT]")
    }
}

#[test]
fn plan_on_a_fresh_account() {
    let r = Run::new();
    r.write(&yaml(80, "sns"));
    insta::assert_snapshot!("plan_fresh_text", r.run(&["plan", "--zip", "h.zip"]));
    insta::assert_snapshot!(
        "plan_fresh_json",
        r.run(&["plan", "--zip", "h.zip", "--output", "json"])
    );
}

#[test]
fn plan_after_an_edit_and_a_route_change() {
    let r = Run::new();
    r.write(&yaml(80, "sns"));
    r.run(&["up", "--zip", "h.zip"]);
    r.write(&yaml(95, "sns"));
    insta::assert_snapshot!("plan_threshold_edit", r.run(&["plan", "--zip", "h.zip"]));
    r.write(&yaml(80, "direct"));
    insta::assert_snapshot!("plan_route_direct", r.run(&["plan", "--zip", "h.zip"]));
}

#[test]
fn status_in_sync_and_with_drift() {
    let r = Run::new();
    r.write(&yaml(80, "sns"));
    r.run(&["up", "--zip", "h.zip"]);
    let masked_time = |s: String| {
        s.lines()
            .map(|l| match l.find(" since ") {
                Some(i) if l.starts_with("alarm ") => {
                    let rest = &l[i + 7..];
                    let after = rest.find(": ").map_or("", |j| &rest[j..]);
                    format!("{} since [TIME]{after}", &l[..i])
                }
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    insta::assert_snapshot!("status_in_sync", masked_time(r.run(&["status"])));
    r.write(&yaml(90, "sns"));
    insta::assert_snapshot!("status_drifted", masked_time(r.run(&["status"])));
}
