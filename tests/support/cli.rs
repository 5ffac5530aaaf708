//! Running the built `relayctl` and checking how it exited, for the tests
//! that drive the binary.

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

use super::Account;

/// `relayctl -f FILE ARGS` against `acct`'s fake account, with `webhook` as
/// SLACK_WEBHOOK_URL, no SDK retries and a short IAM propagation budget.
pub fn relayctl_at(acct: &Account, file: &Path, webhook: &str, args: &[&str]) -> Output {
    let mut cmd = Command::cargo_bin("relayctl").unwrap();
    cmd.envs(acct.env())
        .env("SLACK_WEBHOOK_URL", webhook)
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("RELAYCTL_PROPAGATION_TIMEOUT_S", "30")
        .arg("-f")
        .arg(file)
        .args(args);
    cmd.output().unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// How a run ended and both its streams, for an assertion's message.
pub fn shown(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// The output of a run that must have succeeded; else both streams.
#[track_caller]
pub fn ok(out: Output) -> Output {
    assert!(out.status.success(), "relayctl failed: {}", shown(&out));
    out
}

/// Asserts the exit code, showing both streams when it differs.
#[track_caller]
pub fn exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "{}", shown(out));
}
