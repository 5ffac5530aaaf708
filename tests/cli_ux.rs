//! Issue 15, through the built binary: `init`, the confirmation before
//! `down` (without a terminal here, through a pseudo-terminal in
//! `down_asks_on_a_terminal`), colour on and off, completions and the man
//! page, `--version`, and each error kind's text and JSON form.

mod support;

use std::path::Path;

use assert_cmd::Command;
use support::Account;
use support::cli::{ok, text};

const WEBHOOK: &str = "https://hooks.slack.invalid/services/T000/B000/ux-secret";

/// relayctl with no AWS configuration at all: nothing from this machine's
/// ~/.aws or environment leaks into a test.
fn bare(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("relayctl").unwrap();
    cmd.current_dir(dir)
        .env("HOME", dir)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("SLACK_WEBHOOK_URL");
    cmd
}

/// The same, pointed at a fresh fake account.
fn with_account(acct: &Account, dir: &Path) -> Command {
    let mut cmd = bare(dir);
    cmd.envs(acct.env())
        .env("SLACK_WEBHOOK_URL", WEBHOOK)
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("RELAYCTL_PROPAGATION_TIMEOUT_S", "30");
    cmd
}

/// A folder with a stack for the fake account and a handler zip.
fn deployable(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let handler = Path::new(env!("CARGO_MANIFEST_DIR")).join("handler");
    let yaml = format!(
        "name: {name}\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nhandler:\n  path: {}\nalarms:\n  - name: high-cpu\n    instance_id: i-0123456789abcdef0\n",
        handler.display()
    );
    std::fs::write(dir.path().join("stack.yaml"), yaml).unwrap();
    let zip = relayctl::package::zip_bootstrap(b"ux handler").unwrap();
    std::fs::write(dir.path().join("h.zip"), zip).unwrap();
    dir
}

// ---------------------------------------------------------------------------
// init

#[test]
fn init_writes_a_commented_stack_that_parses_and_says_what_next() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(bare(dir.path())
        .env("AWS_REGION", "eu-west-2")
        .args(["init", "--name", "demo"])
        .output()
        .unwrap());
    insta::assert_snapshot!("init_stdout", text(&out.stdout));
    assert_eq!(text(&out.stderr), "");
    let written = std::fs::read_to_string(dir.path().join("stack.yaml")).unwrap();
    insta::assert_snapshot!("init_stack_yaml", written);
    let stack = relayctl::config::Stack::parse(&written, Path::new("stack.yaml")).unwrap();
    assert_eq!(stack.name, "demo");
    assert_eq!(stack.region.as_deref(), Some("eu-west-2"));

    // A second init refuses and leaves the file alone; --force overwrites.
    std::fs::write(dir.path().join("stack.yaml"), "mine\n").unwrap();
    let out = bare(dir.path()).args(["init"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "error[E104]: stack.yaml already exists; relayctl init does not overwrite it\n  \
         hint: pass --force to overwrite it, or -f other.yaml to write another file\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("stack.yaml")).unwrap(),
        "mine\n"
    );
    ok(bare(dir.path())
        .args(["init", "--force", "--name", "demo", "--region", "eu-west-2"])
        .output()
        .unwrap());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("stack.yaml")).unwrap(),
        written
    );
}

#[test]
fn init_takes_the_region_from_the_aws_profile_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("aws-config");
    std::fs::write(
        &config,
        "[default]\nregion = us-west-1\n[profile work]\nregion = ap-south-1\n",
    )
    .unwrap();
    let out = ok(bare(dir.path())
        .env("AWS_CONFIG_FILE", &config)
        .args([
            "init",
            "--profile",
            "work",
            "-f",
            "prod.yaml",
            "--name",
            "p",
        ])
        .output()
        .unwrap());
    let written = std::fs::read_to_string(dir.path().join("prod.yaml")).unwrap();
    assert!(written.contains("\nregion: ap-south-1 "), "{written}");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("relayctl plan -f prod.yaml"), "{stdout}");
    assert!(stdout.contains("relayctl up -f prod.yaml"), "{stdout}");

    // No region anywhere: the field stays commented out, and the file parses.
    let out = ok(bare(dir.path())
        .args(["init", "-f", "none.yaml", "--name", "p"])
        .output()
        .unwrap());
    assert!(text(&out.stdout).contains("no region found"));
    let written = std::fs::read_to_string(dir.path().join("none.yaml")).unwrap();
    assert!(written.contains("\n# region: eu-west-1"), "{written}");
    let stack = relayctl::config::Stack::parse(&written, Path::new("none.yaml")).unwrap();
    assert_eq!(stack.region, None);
}

#[test]
fn init_with_an_instance_selector_writes_one_instead_of_an_instance_id() {
    let dir = tempfile::tempdir().unwrap();
    ok(bare(dir.path())
        .args(["init", "--name", "fleet", "--instance-selector", "Env=prod"])
        .output()
        .unwrap());
    let written = std::fs::read_to_string(dir.path().join("stack.yaml")).unwrap();
    assert!(
        written.contains("    instance_selector: { tags: { Env: prod }, states: [running] }\n"),
        "{written}"
    );
    assert!(!written.contains("instance_id:"), "{written}");
    let out = bare(dir.path())
        .args(["init", "--force", "--instance-selector", "Env"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("error[E100]: invalid value 'Env'"));
}

// ---------------------------------------------------------------------------
// completions, man page, version

#[test]
fn completions_are_produced_for_each_shell() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = ok(bare(dir.path())
            .args(["completions", shell])
            .output()
            .unwrap());
        let script = text(&out.stdout);
        for word in [
            "relayctl",
            "init",
            "down",
            "auto-approve",
            "detailed-exitcode",
        ] {
            assert!(script.contains(word), "{shell} lacks {word}");
        }
    }
    // The bash script is valid bash.
    let out = ok(bare(dir.path())
        .args(["completions", "bash"])
        .output()
        .unwrap());
    let path = dir.path().join("relayctl.bash");
    std::fs::write(&path, &out.stdout).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", text(&check.stderr));
    let out = bare(dir.path())
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_man_page_is_produced_from_the_clap_definition() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(bare(dir.path()).arg("man").output().unwrap());
    let page = text(&out.stdout);
    assert!(page.contains(".TH relayctl 1"), "{page}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH SUBCOMMANDS"] {
        assert!(page.contains(section), "no {section}");
    }
    for command in [
        "plan",
        "up",
        "down",
        "status",
        "test",
        "init",
        "completions",
    ] {
        assert!(
            page.contains(&format!("relayctl\\-{command}(1)")),
            "no {command}"
        );
    }
    // groff reads it without a warning.
    let path = dir.path().join("relayctl.1");
    std::fs::write(&path, &out.stdout).unwrap();
    if let Ok(groff) = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&path)
        .output()
    {
        assert!(groff.status.success());
        assert_eq!(text(&groff.stderr), "");
    }
}

#[test]
fn version_names_the_handler_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(bare(dir.path()).arg("--version").output().unwrap());
    assert_eq!(
        text(&out.stdout),
        format!(
            "relayctl {} (deploys a Rust handler on the Lambda runtime provided.al2023)\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

// ---------------------------------------------------------------------------
// down: confirmation

#[test]
fn down_without_a_terminal_refuses_unless_yes() {
    let acct = Account::new();
    let dir = deployable("ux-down");
    ok(with_account(&acct, dir.path())
        .args(["up", "--zip", "h.zip"])
        .output()
        .unwrap());
    acct.reset_calls();

    let out = with_account(&acct, dir.path())
        .arg("down")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "", "nothing but the error");
    insta::assert_snapshot!("down_refused", text(&out.stderr));
    acct.assert_no_writes();

    let out = with_account(&acct, dir.path())
        .args(["down", "--output", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(json["code"], "E102");
    assert!(json["hint"].as_str().unwrap().contains("--yes"));
    acct.assert_no_writes();

    let out = ok(with_account(&acct, dir.path())
        .args(["down", "--auto-approve"])
        .output()
        .unwrap());
    assert!(text(&out.stdout).contains("Deleted 7 resource(s) of stack ux-down."));
    // Nothing left: a second down needs no confirmation.
    let out = ok(with_account(&acct, dir.path())
        .arg("down")
        .output()
        .unwrap());
    assert_eq!(
        text(&out.stdout),
        "Nothing to delete: stack ux-down owns no resources here.\n"
    );
}

/// relayctl under a pseudo-terminal (rexpect), as a person runs it.
fn pty(acct: &Account, dir: &Path, args: &[&str]) -> rexpect::session::PtySession {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_relayctl"));
    cmd.current_dir(dir)
        .env("HOME", dir)
        .envs(acct.env())
        .env("SLACK_WEBHOOK_URL", WEBHOOK)
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("NO_COLOR", "1")
        .env("TERM", "dumb")
        .args(args);
    rexpect::session::spawn_command(cmd, Some(60_000)).unwrap()
}

#[test]
fn down_asks_on_a_terminal() {
    let acct = Account::new();
    let dir = deployable("ux-ask");
    ok(with_account(&acct, dir.path())
        .args(["up", "--zip", "h.zip"])
        .output()
        .unwrap());
    acct.reset_calls();

    // Anything but `yes` cancels.
    let mut p = pty(&acct, dir.path(), &["down"]);
    let shown = p.exp_string("Enter a value: ").unwrap();
    let shown = shown.replace("\r\n", "\n").replace(&acct.id, "<account>");
    insta::assert_snapshot!("down_prompt", format!("{shown}Enter a value: "));
    p.send_line("no").unwrap();
    p.exp_string("nothing was deleted: the answer was not `yes`")
        .unwrap();
    p.exp_eof().unwrap();
    acct.assert_no_writes();

    let mut p = pty(&acct, dir.path(), &["down"]);
    p.exp_string("Enter a value: ").unwrap();
    p.send_line("yes").unwrap();
    p.exp_string("Deleted 7 resource(s) of stack ux-ask.")
        .unwrap();
    p.exp_eof().unwrap();
    assert_eq!(acct.count("lambda", "DeleteFunction"), 1);
}

// ---------------------------------------------------------------------------
// colour

fn escapes_visible(s: &str) -> String {
    s.replace('\u{1b}', "\\e")
}

#[test]
fn colour_follows_clicolor_force_no_color_and_the_flag() {
    let acct = Account::new();
    let dir = deployable("ux-colour");
    let plan = |env: &[(&str, &str)], extra: &[&str]| {
        let mut cmd = with_account(&acct, dir.path());
        cmd.args(["plan", "--zip", "h.zip"]).args(extra);
        for (k, v) in env {
            cmd.env(k, v);
        }
        text(&ok(cmd.output().unwrap()).stdout).replace(&acct.id, "<account>")
    };
    // A pipe: no colour.
    let plain = plan(&[], &[]);
    assert!(!plain.contains('\u{1b}'), "{plain}");
    // Forced: terraform's colours.
    let forced = plan(&[("CLICOLOR_FORCE", "1")], &[]);
    let first = forced.lines().next().unwrap();
    assert_eq!(
        escapes_visible(first),
        "  \\e[32m+\\e[0m iam role \\e[1mux-colour-relay\\e[0m (\\e[32mcreate\\e[0m)"
    );
    insta::assert_snapshot!(
        "plan_coloured_summary",
        escapes_visible(forced.lines().last().unwrap())
    );
    assert_eq!(anstream::adapter::strip_str(&forced).to_string(), plain);
    // NO_COLOR and --no-color beat CLICOLOR_FORCE.
    assert_eq!(
        plan(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], &[]),
        plain
    );
    assert_eq!(plan(&[("CLICOLOR_FORCE", "1")], &["--no-color"]), plain);
}

// ---------------------------------------------------------------------------
// every error kind: text and JSON

/// Runs one failing command in text and in JSON; returns both forms.
fn both_forms(mut make: impl FnMut() -> Command, args: &[&str]) -> String {
    let out = make().args(args).output().unwrap();
    let code = out.status.code();
    assert!(matches!(code, Some(1) | Some(2)), "{args:?}: {code:?}");
    assert_eq!(text(&out.stdout), "", "{args:?}: errors go to stderr");
    let text_form = text(&out.stderr);
    let out = make()
        .args(args)
        .args(["--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), code, "{args:?}");
    assert_eq!(text(&out.stdout), "");
    let json: serde_json::Value = serde_json::from_slice(&out.stderr)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", text(&out.stderr)));
    let line = text_form.lines().next().unwrap();
    assert!(
        line.starts_with(&format!("error[{}]: ", json["code"].as_str().unwrap())),
        "{line}"
    );
    format!(
        "$ relayctl {}  (exit {})\n{text_form}{}\n",
        args.join(" "),
        code.unwrap(),
        serde_json::to_string_pretty(&json).unwrap()
    )
}

#[test]
fn each_error_kind_has_a_code_in_text_and_json() {
    let dir = deployable("ux-errors");
    let d = dir.path();
    std::fs::write(d.join("not-a-zip"), "hello").unwrap();
    std::fs::write(d.join("bad.yaml"), "name: Bad_Name\n").unwrap();
    std::fs::write(d.join("stack-init.yaml"), "exists\n").unwrap();
    let mut all = String::new();
    // usage
    all += &both_forms(|| bare(d), &["plan", "--frobnicate"]);
    // config: a missing file, an invalid one (placeholder code for now)
    all += &both_forms(|| bare(d), &["plan", "-f", "missing.yaml"]);
    all += &both_forms(|| bare(d), &["status", "-f", "bad.yaml"]);
    // package
    all += &both_forms(|| bare(d), &["plan", "--zip", "not-a-zip"]);
    // AWS: no region, no credentials (nothing is called)
    all += &both_forms(|| bare(d), &["status"]);
    all += &both_forms(|| bare(d), &["status", "--region", "eu-west-1"]);
    // init over an existing file
    all += &both_forms(|| bare(d), &["init", "-f", "stack-init.yaml"]);
    let all = all
        .replace(&d.display().to_string(), "<dir>")
        .replace(env!("CARGO_MANIFEST_DIR"), "<repo>");
    insta::assert_snapshot!("error_kinds", all);
}
