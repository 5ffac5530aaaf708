//! Hostile stack files (tests/fixtures/hostile/): each must be refused with a
//! clear problem naming its field, without a raw control character or the
//! webhook in the output, and, through the CLI against the fake, without a
//! single AWS call. Issues 10.6, 11.2, 11.3, 11.6, 11.7, 11.8 and 15.5.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use relayctl::config::{ConfigError, Stack};
use support::Account;

/// (file, field path of the problem, part of its message). An empty path is a
/// problem of the whole file; a path ending in `*` is a prefix.
const CASES: &[(&str, &str, &str)] = &[
    // A webhook anywhere in the file (issue 11.3).
    (
        "webhook-in-name.yaml",
        "name",
        "looks like a Slack webhook URL",
    ),
    (
        "webhook-in-region.yaml",
        "region",
        "looks like a Slack webhook URL",
    ),
    (
        "webhook-in-handler-path.yaml",
        "handler.path",
        "looks like a Slack webhook URL",
    ),
    (
        "webhook-in-architecture.yaml",
        "handler.architecture",
        "looks like a Slack webhook URL",
    ),
    (
        "webhook-in-route.yaml",
        "route",
        "looks like a Slack webhook URL",
    ),
    (
        "webhook-in-alarm-name.yaml",
        "alarms[0].name",
        "looks like a Slack webhook URL",
    ),
    (
        "webhook-in-instance-id.yaml",
        "alarms[0].instance_id",
        "looks like a Slack webhook URL",
    ),
    (
        "webhook-in-statistic.yaml",
        "alarms[0].statistic",
        "looks like a Slack webhook URL",
    ),
    (
        "webhook-in-comparison.yaml",
        "alarms[0].comparison",
        "looks like a Slack webhook URL",
    ),
    (
        "webhook-in-metric.yaml",
        "alarms[0].metric",
        "looks like a Slack webhook URL",
    ),
    (
        "webhook-in-namespace.yaml",
        "alarms[0].namespace",
        "looks like a Slack webhook URL",
    ),
    (
        "webhook-in-channel.yaml",
        "slack.channel",
        "looks like a Slack webhook URL",
    ),
    (
        "webhook-in-tag-value.yaml",
        "tags.slack",
        "looks like a Slack webhook URL",
    ),
    (
        "webhook-in-tag-key.yaml",
        "tags[\"<URL, not shown>\"]",
        "looks like a Slack webhook URL",
    ),
    (
        "webhook-proxy-in-env.yaml",
        "slack.webhook_url_env",
        "looks like a URL",
    ),
    (
        "webhook-without-scheme-in-tag.yaml",
        "tags.hook",
        "looks like a Slack webhook URL",
    ),
    (
        "webhook-in-block-scalar.yaml",
        "tags.note",
        "looks like a Slack webhook URL",
    ),
    (
        "webhook-as-alarm-item.yaml",
        "alarms[0]",
        "wrong type: found a string",
    ),
    (
        "webhook-as-whole-file.yaml",
        "",
        "found a string, expected a mapping of stack fields",
    ),
    ("webhook-in-syntax-error.yaml", "", "indentation"),
    // Control characters (issue 11.2).
    (
        "esc-in-tag-value.yaml",
        "tags.team",
        "control character (U+001B)",
    ),
    (
        "osc-in-metric.yaml",
        "alarms[0].metric",
        "control character (U+001B)",
    ),
    (
        "bel-in-namespace.yaml",
        "alarms[0].namespace",
        "control character (U+0007)",
    ),
    (
        "newline-in-channel.yaml",
        "slack.channel",
        "control character (U+000A)",
    ),
    ("cr-in-name.yaml", "name", "control character (U+000D)"),
    (
        "tab-in-alarm-name.yaml",
        "alarms[0].name",
        "control character (U+0009)",
    ),
    ("del-in-region.yaml", "region", "control character (U+007F)"),
    (
        "c1-csi-in-statistic.yaml",
        "alarms[0].statistic",
        "control character (U+009B)",
    ),
    (
        "nul-in-tag-key.yaml",
        "tags[\"te\\0am\"]",
        "control character (U+0000)",
    ),
    (
        "esc-in-comparison.yaml",
        "alarms[0].comparison",
        "control character (U+001B)",
    ),
    (
        "esc-in-handler-path.yaml",
        "handler.path",
        "control character (U+001B)",
    ),
    (
        "esc-in-architecture.yaml",
        "handler.architecture",
        "control character (U+001B)",
    ),
    ("esc-in-route.yaml", "route", "control character (U+001B)"),
    (
        "esc-in-instance-id.yaml",
        "alarms[0].instance_id",
        "control character (U+001B)",
    ),
    (
        "raw-esc-in-tag-value.yaml",
        "tags.team",
        "control character (U+001B)",
    ),
    (
        "esc-in-unknown-key.yaml",
        "[\"desc\\u{1b}[31m\"]",
        "unknown field",
    ),
    // Tags as AWS validates them (issue 10.6).
    (
        "tag-value-parentheses.yaml",
        "tags.owner",
        "characters AWS does not allow in tags",
    ),
    (
        "tag-value-comma.yaml",
        "tags.teams",
        "characters AWS does not allow in tags",
    ),
    (
        "tag-key-hash.yaml",
        "tags[\"#team\"]",
        "characters AWS does not allow in tags",
    ),
    (
        "tag-key-aws-prefix.yaml",
        "tags[\"AWS:owner\"]",
        "reserved by AWS",
    ),
    (
        "tag-key-owner.yaml",
        "tags[\"Relayctl:Stack\"]",
        "reserved for relayctl's ownership tag",
    ),
    (
        "tag-key-too-long.yaml",
        "tags.kkkkkkkk*",
        "the key is 129 characters",
    ),
    (
        "tag-value-too-long.yaml",
        "tags.k",
        "the value is 257 characters",
    ),
    ("too-many-tags.yaml", "tags", "49 tags; at most 48"),
    // Numbers in the user's terms (issue 11.8).
    (
        "threshold-1e309.yaml",
        "alarms[0].threshold",
        "1e309 is not a finite number",
    ),
    (
        "threshold-inf.yaml",
        "alarms[0].threshold",
        "-.inf is not a finite number",
    ),
    (
        "period-huge.yaml",
        "alarms[0].period_s",
        "99999999999999999999999999 is too large",
    ),
    (
        "period-too-long.yaml",
        "alarms[0].period_s",
        "604860 is not a valid period",
    ),
    // The file itself (issues 11.6, 15.5).
    ("empty.yaml", "", "the file is empty"),
    ("only-comments.yaml", "", "the file is empty"),
    ("billion-laughs.yaml", "", "too many YAML aliases"),
    ("deep-nesting.yaml", "", "nested deeper than any stack file"),
    ("two-documents.yaml", "", "a second YAML document"),
    ("tab-indent.yaml", "", "a tab is used for indentation"),
    (
        "no-space-after-colon.yaml",
        "",
        "`name:` has no space after the colon",
    ),
    ("bad-indentation.yaml", "", "indentation"),
    ("unclosed-quote.yaml", "", "a quoted value is not closed"),
    ("unclosed-flow.yaml", "", "is not closed"),
    ("not-utf8.yaml", "", "not UTF-8"),
    ("utf16.yaml", "", "not UTF-8"),
    (
        "duplicate-field.yaml",
        "name",
        "appears a second time (first on line 2)",
    ),
    ("unknown-anchor.yaml", "", "refers to no anchor"),
    (
        "list-as-root.yaml",
        "",
        "expected a mapping of stack fields",
    ),
];

fn hostile_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hostile")
}

fn path_matches(expected: &str, actual: &str) -> bool {
    match expected.strip_suffix('*') {
        Some(prefix) => actual.starts_with(prefix),
        None => actual == expected,
    }
}

/// Output a terminal may show: no control character but line breaks, no
/// part of a webhook.
fn assert_safe(what: &str, shown: &str) {
    if let Some(c) = shown.chars().find(|c| c.is_control() && *c != '\n') {
        panic!("{what}: raw control character {c:?} in: {shown:?}");
    }
    let lower = shown.to_ascii_lowercase();
    for secret in ["hooks.slack.com", "xsecret", "/services/t0"] {
        assert!(
            !lower.contains(secret),
            "{what}: {secret} shown in: {shown}"
        );
    }
}

#[test]
fn every_fixture_has_a_case_and_there_are_at_least_40() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(hostile_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let listed: BTreeSet<String> = CASES.iter().map(|(f, ..)| f.to_string()).collect();
    assert_eq!(on_disk, listed);
    assert!(listed.len() >= 40, "{}", listed.len());
}

#[test]
fn each_hostile_file_names_its_field_and_shows_nothing_raw() {
    // Every file is checked before failing, so one run lists every miss.
    let misses: Vec<String> = CASES
        .iter()
        .filter_map(|(file, path, message)| check_library(file, path, message).err())
        .collect();
    assert!(misses.is_empty(), "{}", misses.join("\n\n"));
}

fn check_library(file: &str, path: &str, message: &str) -> Result<(), String> {
    let err = match Stack::load(&hostile_dir().join(file)) {
        Ok(stack) => return Err(format!("{file} was accepted: {stack:?}")),
        Err(e) => e,
    };
    if !matches!(err, ConfigError::Invalid { .. }) {
        return Err(format!("{file}: {err:?}"));
    }
    let Some(problem) = err
        .problems()
        .iter()
        .find(|p| path_matches(path, &p.path) && p.message.contains(message))
    else {
        return Err(format!(
            "{file}: no problem at {path:?} saying {message:?} in {:#?}",
            err.problems()
        ));
    };
    let whole_file_without_lines = ["empty.yaml", "only-comments.yaml"].contains(&file);
    if !problem.code.starts_with('E')
        || problem.hint.is_none()
        || (problem.line.is_none() && !whole_file_without_lines)
    {
        return Err(format!("{file}: code, hint or line missing in {problem:?}"));
    }
    assert_safe(file, &err.to_string());
    assert_safe(file, &format!("{:?}", err.problems()));
    assert_safe(file, &serde_json::to_string(err.problems()).unwrap());
    Ok(())
}

#[test]
fn each_hostile_file_through_the_cli_makes_no_aws_call() {
    let acct = Account::new();
    let commands = ["plan", "up", "down", "status"];
    for (i, (file, path, message)) in CASES.iter().enumerate() {
        let cmd = commands[i % commands.len()];
        let out = Command::cargo_bin("relayctl")
            .unwrap()
            .envs(acct.env())
            .env("AWS_MAX_ATTEMPTS", "1")
            .env(
                "SLACK_WEBHOOK_URL",
                "https://hooks.slack.com/services/T0/B0/XSECRETENV",
            )
            .args([cmd, "-f"])
            .arg(hostile_dir().join(file))
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{cmd} {file}: {stderr}");
        let path = path.trim_end_matches('*');
        assert!(
            stderr.contains(path),
            "{cmd} {file}: {path} not named in {stderr}"
        );
        assert!(stderr.contains(message), "{cmd} {file}: {stderr}");
        assert_safe(file, &stderr);
        assert_safe(file, &String::from_utf8_lossy(&out.stdout));
    }
    assert_eq!(acct.calls(), vec![], "a hostile file made an AWS call");
}

#[test]
fn alias_bomb_stops_fast() {
    let started = Instant::now();
    let err = Stack::load(&hostile_dir().join("billion-laughs.yaml")).unwrap_err();
    assert!(err.to_string().contains("too many YAML aliases"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

/// `-f` naming something that is not a regular file, or a huge one: a clear
/// error within seconds, never a hang or a gigabyte read (issue 11.6).
#[test]
fn special_and_huge_files_are_refused_quickly() {
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let huge = dir.path().join("huge.yaml");
    let mut text = "name: x\ntags:\n  big: ".to_string();
    text.push_str(&"v".repeat(2 << 20));
    std::fs::write(&huge, text).unwrap();
    let cases: [(&Path, &str); 4] = [
        (
            Path::new("/dev/zero"),
            "is a device or socket, not a regular file",
        ),
        (dir.path(), "is a directory, not a regular file"),
        (&fifo, "is a FIFO, not a regular file"),
        (&huge, "is larger than 1048576 bytes"),
    ];
    for (file, message) in cases {
        let started = Instant::now();
        let out = Command::cargo_bin("relayctl")
            .unwrap()
            .envs(acct.env())
            .args(["status", "-f"])
            .arg(file)
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}: {stderr}", file.display());
        assert!(stderr.contains(message), "{}: {stderr}", file.display());
        assert!(stderr.contains("hint:"), "{stderr}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{}",
            file.display()
        );
    }
    // The library says the same, with a code of its own per kind.
    let codes: Vec<&str> = [Path::new("/dev/zero"), dir.path(), &huge]
        .into_iter()
        .map(|f| Stack::load(f).unwrap_err().code())
        .collect();
    assert_eq!(codes, ["E003", "E003", "E002"]);
    assert_eq!(acct.calls(), vec![]);
}
