//! `relayctl up` building a handler for real (cargo-zigbuild, no `--zip`):
//! an unchanged source is never uploaded again, a changed one is uploaded
//! exactly once. Uses a tiny standalone crate so the build takes seconds.
//!
//! Needs cargo-zigbuild and zig: scripts/test installs them into .venv.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use support::{Account, Call};

fn venv_bin() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin")
}

fn write_crate(dir: &Path, greeting: &str) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"tiny-relay\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [[bin]]\nname = \"bootstrap\"\npath = \"src/main.rs\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        format!("fn main() {{ println!(\"{greeting}\"); }}\n"),
    )
    .unwrap();
}

fn up(acct: &Account, stack: &Path) -> Output {
    let path = format!(
        "{}:{}",
        venv_bin().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::cargo_bin("relayctl").unwrap();
    let out = cmd
        .envs(acct.env())
        .env("PATH", path)
        .env(
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.invalid/services/T/B/x",
        )
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("CARGO_TARGET_DIR")
        .args(["up", "-f"])
        .arg(stack)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "relayctl up failed (is cargo-zigbuild installed? run scripts/test, or \
         python3 -m venv .venv && .venv/bin/pip install -r scripts/requirements-build.txt)\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn writes(acct: &Account) -> Vec<String> {
    acct.writes()
        .into_iter()
        .map(
            |Call {
                 service, operation, ..
             }| format!("{service}:{operation}"),
        )
        .collect()
}

#[test]
fn built_handler_is_uploaded_only_when_its_source_changes() {
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    let crate_dir = dir.path().join("relay");
    write_crate(&crate_dir, "first");
    let stack = dir.path().join("stack.yaml");
    std::fs::write(
        &stack,
        "name: built\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nhandler:\n  path: relay\n\
         alarms:\n  - name: cpu\n    instance_id: i-0123456789abcdef0\n",
    )
    .unwrap();

    up(&acct, &stack);
    assert_eq!(acct.count("lambda", "CreateFunction"), 1);
    let built = crate_dir.join("target/x86_64-unknown-linux-gnu/lambda/bootstrap");
    assert!(
        built.is_file(),
        "the handler's own target dir holds the build"
    );

    // A rebuild of the same source gives the same zip: nothing is uploaded.
    acct.reset_calls();
    let out = up(&acct, &stack);
    assert!(String::from_utf8_lossy(&out.stdout).contains("No changes"));
    acct.assert_no_writes();

    // Changed source: exactly one UpdateFunctionCode, and AWS has the new hash.
    write_crate(&crate_dir, "second");
    acct.reset_calls();
    up(&acct, &stack);
    assert_eq!(writes(&acct), vec!["lambda:UpdateFunctionCode".to_string()]);
    let zip = relayctl::package::zip_bootstrap(&std::fs::read(&built).unwrap()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let conf = rt
        .block_on(
            aws_sdk_lambda::Client::new(&acct.sdk_config())
                .get_function_configuration()
                .function_name("built-relay")
                .send(),
        )
        .unwrap();
    assert_eq!(
        conf.code_sha256(),
        Some(relayctl::package::code_sha256(&zip).as_str())
    );
}
