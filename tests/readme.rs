//! Issue 15 item 7: the README is a manual that cannot drift from the code.
//! Its reference tables are read row by row (the first cell's backticked
//! words) and compared both ways with what they describe:
//!
//! - `### Fields` with the schema (`relayctl::config::field_paths`),
//! - `### Global flags` and each `### \`relayctl <command>\`` with the clap
//!   definition (`relayctl::cli::Cli`),
//! - `### Exit codes` with the exit codes src/ returns,
//! - `### Error codes` and `### Problems listed by E010` with the codes
//!   src/report.rs and src/config/error.rs define,
//! - `## IAM permissions` with what `relayctl policy` prints.
//!
//! A failure names the missing (or stale) row and the table it belongs in.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use regex::Regex;

const README: &str = include_str!("../README.md");

/// The lines under `heading` (exact line), up to the next heading of the
/// same or a higher level; headings inside code fences do not count.
fn section(heading: &str) -> Vec<&'static str> {
    let level = heading.chars().take_while(|c| *c == '#').count();
    let mut lines = README.lines();
    assert!(
        lines.by_ref().any(|l| l.trim_end() == heading),
        "README.md has no heading `{heading}`"
    );
    let mut fenced = false;
    let mut out = Vec::new();
    for line in lines {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if !fenced && hashes > 0 && hashes <= level && line[hashes..].starts_with(' ') {
            break;
        }
        out.push(line);
    }
    out
}

/// The backticked words of each table row's first cell.
fn first_cells(lines: &[&str]) -> BTreeSet<String> {
    let tick = Regex::new(r"`([^`]+)`").unwrap();
    lines
        .iter()
        .filter(|l| l.starts_with("| `"))
        .flat_map(|l| {
            let cell = l[1..].split(" | ").next().unwrap_or_default();
            tick.captures_iter(cell)
                .map(|c| c[1].to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Fails with the rows to add and the rows to remove, by name.
#[track_caller]
fn assert_same(table: &str, readme: &BTreeSet<String>, code: &BTreeSet<String>, what: &str) {
    let missing: Vec<_> = code.difference(readme).collect();
    let stale: Vec<_> = readme.difference(code).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "README.md `{table}` is out of date with {what}:\n{}{}",
        missing
            .iter()
            .map(|m| format!("  add a row:    | `{m}` | … |\n"))
            .collect::<String>(),
        stale
            .iter()
            .map(|s| format!("  remove a row: | `{s}` | … | (not in {what})\n"))
            .collect::<String>(),
    );
}

#[test]
fn every_stack_yaml_field_has_a_row_and_every_row_is_a_field() {
    let schema: BTreeSet<String> = relayctl::config::field_paths().into_iter().collect();
    assert!(schema.contains("alarms[].period_s"), "{schema:?}");
    assert_same(
        "### Fields",
        &first_cells(&section("### Fields")),
        &schema,
        "the schema (src/config/schema.rs)",
    );
}

/// The flags and positional arguments a command defines itself, as the
/// README writes them: `-y`, `--yes`, `--auto-approve`, `<SHELL>`.
fn own_args(cmd: &clap::Command, globals: bool) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for arg in cmd.get_arguments() {
        // Globals are listed once, under `### Global flags`; clap copies
        // them (and `--help`) into every subcommand.
        let is_global = arg.is_global_set() || arg.get_id() == "help";
        if arg.is_hide_set() || is_global != globals {
            continue;
        }
        if arg.is_positional() {
            let name = arg
                .get_value_names()
                .and_then(|n| n.first().map(|n| n.to_string()))
                .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
            out.insert(format!("<{name}>"));
            continue;
        }
        out.extend(arg.get_short().map(|s| format!("-{s}")));
        out.extend(arg.get_long().map(|l| format!("--{l}")));
        out.extend(
            arg.get_visible_aliases()
                .into_iter()
                .flatten()
                .map(|a| format!("--{a}")),
        );
        out.extend(
            arg.get_visible_short_aliases()
                .into_iter()
                .flatten()
                .map(|a| format!("-{a}")),
        );
    }
    out
}

/// Every subcommand by its full name (`secret set`), clap's own `help` aside.
fn commands(cmd: &clap::Command, prefix: &str, out: &mut Vec<(String, clap::Command)>) {
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" || sub.is_hide_set() {
            continue;
        }
        let name = format!("{prefix}{}", sub.get_name());
        out.push((name.clone(), sub.clone()));
        commands(sub, &format!("{name} "), out);
    }
}

/// A flag's words in a first cell: `--file <PATH>` is `--file`.
fn flag_words(cells: BTreeSet<String>) -> BTreeSet<String> {
    cells
        .into_iter()
        .map(|c| match c.split_once(" <") {
            Some((flag, _)) if flag.starts_with('-') => flag.to_string(),
            _ => c,
        })
        .collect()
}

#[test]
fn every_command_and_flag_has_a_row_and_every_row_is_in_the_cli() {
    let mut cli = relayctl::command();
    cli.build();
    // Top-level: the globals plus clap's --help and --version.
    let mut globals = own_args(&cli, true);
    globals.extend(own_args(&cli, false));
    assert!(globals.contains("--endpoint-url"), "{globals:?}");
    assert_same(
        "### Global flags",
        &flag_words(first_cells(&section("### Global flags"))),
        &globals,
        "the clap definition's global flags (src/cli.rs)",
    );

    let mut all = Vec::new();
    commands(&cli, "", &mut all);
    assert!(all.iter().any(|(n, _)| n == "secret set"), "{all:?}");
    let heading = |name: &str| format!("### `relayctl {name}`");
    let documented: BTreeSet<String> = README
        .lines()
        .filter_map(|l| l.strip_prefix("### `relayctl "))
        .filter_map(|l| l.strip_suffix('`'))
        .map(str::to_string)
        .collect();
    let defined: BTreeSet<String> = all.iter().map(|(n, _)| n.clone()).collect();
    let missing: Vec<_> = defined.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&defined).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "README.md `## Command reference`: add a section `{}` for each of {missing:?}; \
         remove the sections of {stale:?} (no such command)",
        heading("<command>"),
    );
    for (name, cmd) in &all {
        assert_same(
            &heading(name),
            &flag_words(first_cells(&section(&heading(name)))),
            &own_args(cmd, false),
            &format!("the flags of `relayctl {name}` (src/cli.rs)"),
        );
    }
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every source file of relayctl (not the handler's), with its text.
fn src_files() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

#[test]
fn every_exit_code_has_a_row() {
    let from = Regex::new(r"ExitCode::from\((\d+)\)").unwrap();
    let mut codes = BTreeSet::new();
    for (_, text) in src_files() {
        codes.extend(from.captures_iter(&text).map(|c| c[1].to_string()));
        if text.contains("ExitCode::SUCCESS") {
            codes.insert("0".to_string());
        }
    }
    assert!(codes.contains("2"), "{codes:?}");
    assert_same(
        "### Exit codes",
        &first_cells(&section("### Exit codes")),
        &codes,
        "the exit codes in src/ (ExitCode::from, ExitCode::SUCCESS)",
    );
}

/// Error codes written in src/ (`"E302"`): the kinds of stack.yaml problem
/// (inside `pub mod codes` of src/config/error.rs) apart from the codes an
/// error is printed with (everything else).
fn error_codes() -> (BTreeSet<String>, BTreeSet<String>) {
    let literal = Regex::new(r#""(E\d{3})""#).unwrap();
    let codes_block = Regex::new(r"(?s)pub mod codes \{.*?\n\}").unwrap();
    let (mut printed, mut problems) = (BTreeSet::new(), BTreeSet::new());
    for (path, text) in src_files() {
        let mut rest = text.clone();
        if path.ends_with("config/error.rs") {
            let block = codes_block
                .find(&text)
                .expect("src/config/error.rs has `pub mod codes { … }`");
            problems.extend(
                literal
                    .captures_iter(block.as_str())
                    .map(|c| c[1].to_string()),
            );
            rest = text.replace(block.as_str(), "");
        }
        // Tests in src/ quote codes they expect; those are not definitions.
        let rest = rest.split("#[cfg(test)]").next().unwrap_or_default();
        printed.extend(literal.captures_iter(rest).map(|c| c[1].to_string()));
    }
    (printed, problems)
}

#[test]
fn every_error_code_has_a_row_in_troubleshooting() {
    let (printed, problems) = error_codes();
    assert!(printed.contains("E302") && problems.contains("E050"));
    let shared: Vec<&String> = printed.intersection(&problems).collect();
    assert!(
        shared.is_empty(),
        "a problem kind shares its code with a printed error: {shared:?}"
    );
    assert_same(
        "### Error codes",
        &first_cells(&section("### Error codes")),
        &printed,
        "the error codes in src/report.rs, src/config/error.rs and the rest of src/",
    );
    assert_same(
        "### Problems listed by E010",
        &first_cells(&section("### Problems listed by E010")),
        &problems,
        "the problem codes in src/config/error.rs `pub mod codes`",
    );
}

#[test]
fn every_iam_action_of_relayctl_policy_has_a_row() {
    let dir = tempfile::tempdir().unwrap();
    // With webhook_url_ssm, the policy has every statement there is.
    std::fs::write(
        dir.path().join("stack.yaml"),
        "name: readme\nslack:\n  webhook_url_ssm: /relay/readme/hook\nalarms:\n  - name: cpu\n    instance_id: i-0123456789abcdef0\n",
    )
    .unwrap();
    let out = Command::cargo_bin("relayctl")
        .unwrap()
        .current_dir(dir.path())
        .arg("policy")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let policy: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let actions: BTreeSet<String> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().clone())
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert!(actions.contains("iam:PassRole"), "{actions:?}");
    assert_same(
        "## IAM permissions",
        &first_cells(&section("## IAM permissions")),
        &actions,
        "the actions `relayctl policy` prints",
    );
}
