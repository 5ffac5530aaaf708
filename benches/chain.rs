//! Figures for docs/benchmarks.md: AWS calls, writes and wall time of the
//! relayctl binary against the fake AWS, with and without 50 ms injected per
//! call, beside the same chain made by a sequential `aws` CLI script, and
//! for a 500-alarm fleet. Prints a Markdown table; asserts nothing.
//!
//!   benches/run            (installs the aws CLI baseline, then this)
//!   cargo bench --bench chain
//!
//! `RELAYCTL_BENCH=fleet,quota` runs only those groups (chain, cli, fleet,
//! selector, quota); `RELAYCTL_BENCH_SLOWEST=N` also prints each row's N
//! slowest calls from the fake's call log, to see where a wall time goes.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::{Account, Call};

const LATENCY_MS: u64 = 50;
const FLEET: usize = 500;

struct Row {
    scenario: String,
    calls: usize,
    writes: usize,
    /// Calls the fake refused (its quota).
    throttled: usize,
    wall: Duration,
    /// Round trips in sequence, from the call log's times.
    rounds: usize,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

use support::fleet::{stack_head, stack_yaml};

/// One alarm per running instance tagged Env=prod.
fn selector_yaml(name: &str) -> String {
    stack_head(name)
        + "  - name: web\n    instance_selector: { tags: { Env: prod }, states: [running] }\n"
}

/// Launches `n` running instances tagged Env=prod in the account.
fn launch(acct: &Account, n: i32) {
    use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        aws_sdk_ec2::Client::new(&acct.sdk_config())
            .run_instances()
            .image_id("ami-12c6146b")
            .min_count(n)
            .max_count(n)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Instance)
                    .tags(Tag::builder().key("Env").value("prod").build())
                    .build(),
            )
            .send()
            .await
            .unwrap();
    });
}

/// Round trips in sequence: the longest chain of calls in which each
/// starts only after the one before it was answered (the call log's `t`
/// and `end`). With a fixed latency per call this is the critical path.
fn round_trips(calls: &[Call]) -> usize {
    let mut calls = calls.to_vec();
    calls.sort_by(|a, b| a.t.total_cmp(&b.t));
    let mut depth = vec![0usize; calls.len()];
    for i in 0..calls.len() {
        depth[i] = 1
            + (0..i)
                .filter(|&j| calls[j].end <= calls[i].t)
                .map(|j| depth[j])
                .max()
                .unwrap_or(0);
    }
    depth.into_iter().max().unwrap_or(0)
}

/// The real handler package when it has been built, else a small stand-in.
fn zip_file(dir: &Path) -> PathBuf {
    let built = root().join("target/x86_64-unknown-linux-gnu/lambda/bootstrap");
    let bytes = std::fs::read(&built).unwrap_or_else(|_| b"stand-in handler".to_vec());
    let path = dir.join("handler.zip");
    std::fs::write(&path, relayctl::package::zip_bootstrap(&bytes).unwrap()).unwrap();
    path
}

/// Unpaced: rows without a quota in the fake measure relayctl alone.
const UNPACED: &str = "cloudwatch.PutMetricAlarm=0,cloudwatch.DeleteAlarms=0";
/// The PutMetricAlarm quota the fake enforces in the quota row.
const QUOTA: u32 = 50;

fn relayctl(acct: &Account, stack: &Path, args: &[&str]) -> Duration {
    relayctl_paced(acct, stack, args, UNPACED)
}

fn relayctl_paced(acct: &Account, stack: &Path, args: &[&str], pace: &str) -> Duration {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_relayctl"))
        .envs(acct.env())
        .env("RELAYCTL_PACE", pace)
        .env(
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.invalid/services/T/B/x",
        )
        .arg("-f")
        .arg(stack)
        .args(args)
        .output()
        .unwrap();
    let wall = start.elapsed();
    assert!(
        out.status.success() || out.status.code() == Some(2),
        "relayctl {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wall
}

/// With `RELAYCTL_BENCH_SLOWEST=N`: the row's N slowest calls, to stderr.
fn print_slowest(scenario: &str, calls: &[Call]) {
    let Some(n) = std::env::var("RELAYCTL_BENCH_SLOWEST")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    else {
        return;
    };
    let mut by_time: Vec<&Call> = calls.iter().collect();
    by_time.sort_by(|a, b| (b.end - b.t).total_cmp(&(a.end - a.t)));
    let first = calls.iter().map(|c| c.t).fold(f64::INFINITY, f64::min);
    let last = calls.iter().map(|c| c.end).fold(0.0, f64::max);
    let first_write = calls
        .iter()
        .filter(|c| c.write)
        .map(|c| c.t)
        .fold(f64::INFINITY, f64::min);
    eprintln!(
        "{scenario}: calls span {:.2} s, first write at +{:.2} s",
        last - first,
        first_write - first
    );
    for c in by_time.into_iter().take(n) {
        eprintln!(
            "  {:>7.1} ms at {:>8.3} s  {}.{}",
            (c.end - c.t) * 1000.0,
            c.t,
            c.service,
            c.operation
        );
    }
}

fn measure(acct: &Account, scenario: String, run: impl FnOnce() -> Duration) -> Row {
    acct.reset_calls();
    let wall = run();
    let calls = acct.calls();
    print_slowest(&scenario, &calls);
    Row {
        scenario,
        calls: calls.len(),
        writes: calls.iter().filter(|c| c.write).count(),
        throttled: calls.iter().filter(|c| c.fault.is_some()).count(),
        wall,
        rounds: round_trips(&calls),
    }
}

fn chain_rows(rows: &mut Vec<Row>, latency_ms: u64) {
    let acct = Account::new();
    acct.inject(serde_json::json!({"latency_ms": latency_ms, "rules": []}));
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("stack.yaml");
    std::fs::write(&stack, stack_yaml("bench", 1)).unwrap();
    let zip = zip_file(dir.path());
    let zip = zip.to_str().unwrap();
    let tag = format!("{latency_ms} ms/call");
    rows.push(measure(
        &acct,
        format!("seed chain: plan, fresh account ({tag})"),
        || relayctl(&acct, &stack, &["plan", "--zip", zip]),
    ));
    rows.push(measure(
        &acct,
        format!("seed chain: up, fresh account ({tag})"),
        || relayctl(&acct, &stack, &["up", "--zip", zip]),
    ));
    rows.push(measure(
        &acct,
        format!("seed chain: up, no change ({tag})"),
        || relayctl(&acct, &stack, &["up", "--zip", zip]),
    ));
    rows.push(measure(&acct, format!("seed chain: down ({tag})"), || {
        relayctl(&acct, &stack, &["down", "--yes"])
    }));
}

fn aws_cli() -> Option<PathBuf> {
    let venv = root().join(".venv/bin/aws");
    if venv.is_file() {
        return Some(venv);
    }
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("aws"))
            .find(|a| a.is_file())
    })
}

fn aws_cli_row(rows: &mut Vec<Row>, latency_ms: u64) {
    let Some(aws) = aws_cli() else {
        eprintln!(
            "aws CLI baseline skipped: run benches/run (installs it from benches/requirements.txt)"
        );
        return;
    };
    let acct = Account::new();
    acct.inject(serde_json::json!({"latency_ms": latency_ms, "rules": []}));
    let dir = tempfile::tempdir().unwrap();
    let zip = zip_file(dir.path());
    let path = format!(
        "{}:{}",
        aws.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    rows.push(measure(
        &acct,
        format!("seed chain: sequential aws CLI script ({latency_ms} ms/call)"),
        || {
            let start = Instant::now();
            let out = Command::new(root().join("benches/aws-cli-chain.sh"))
                .arg("bench")
                .arg(&zip)
                .envs(acct.env())
                // The CLI insists a named profile exists; the keys are in the env.
                .env_remove("AWS_PROFILE")
                .env("PATH", path)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "aws CLI script failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            start.elapsed()
        },
    ));
}

fn fleet_rows(rows: &mut Vec<Row>, latency_ms: u64) {
    let acct = Account::new();
    acct.inject(serde_json::json!({"latency_ms": latency_ms, "rules": []}));
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("stack.yaml");
    std::fs::write(&stack, stack_yaml("fleet", FLEET)).unwrap();
    let zip = zip_file(dir.path());
    let zip = zip.to_str().unwrap();
    let tag = format!("{FLEET} alarms, {latency_ms} ms/call");
    rows.push(measure(
        &acct,
        format!("fleet: plan, fresh account ({tag})"),
        || relayctl(&acct, &stack, &["plan", "--zip", zip]),
    ));
    rows.push(measure(
        &acct,
        format!("fleet: up, fresh account ({tag})"),
        || relayctl(&acct, &stack, &["up", "--zip", zip]),
    ));
    rows.push(measure(
        &acct,
        format!("fleet: plan, no change ({tag})"),
        || relayctl(&acct, &stack, &["plan", "--zip", zip]),
    ));
    rows.push(measure(
        &acct,
        format!("fleet: up, no change ({tag})"),
        || relayctl(&acct, &stack, &["up", "--zip", zip]),
    ));
    rows.push(measure(&acct, format!("fleet: down ({tag})"), || {
        relayctl(&acct, &stack, &["down", "--yes"])
    }));
}

/// 500 instances found by one `instance_selector`: plan, up, no-op plan
/// and up, down.
fn selector_rows(rows: &mut Vec<Row>, latency_ms: u64) {
    let acct = Account::new();
    launch(&acct, FLEET as i32);
    // moto's first DescribeInstances in an account loads its AMI catalogue
    // (seconds): done once here, outside the figures.
    let dir = tempfile::tempdir().unwrap();
    let stack = dir.path().join("stack.yaml");
    std::fs::write(&stack, selector_yaml("sel")).unwrap();
    let zip = zip_file(dir.path());
    let zip = zip.to_str().unwrap();
    relayctl(&acct, &stack, &["plan", "--zip", zip]);
    acct.inject(serde_json::json!({"latency_ms": latency_ms, "rules": []}));
    let tag = format!("selector of {FLEET} instances, {latency_ms} ms/call");
    for (what, args) in [
        ("plan, fresh account", &["plan", "--zip", zip][..]),
        ("up, fresh account", &["up", "--zip", zip][..]),
        ("plan, no change", &["plan", "--zip", zip][..]),
        ("up, no change", &["up", "--zip", zip][..]),
        ("down", &["down", "--yes"][..]),
    ] {
        rows.push(measure(&acct, format!("fleet: {what} ({tag})"), || {
            relayctl(&acct, &stack, args)
        }));
    }
}

/// Fresh fleet `up` of 500 alarms with the fake enforcing a PutMetricAlarm
/// quota, paced at that quota; the floor is writes ÷ quota. Once with the
/// instances found by a selector, once listed in the file: the second
/// leaves out the fake's own DescribeInstances of 500 instances.
fn quota_rows(rows: &mut Vec<Row>) {
    for selector in [true, false] {
        let acct = Account::new();
        acct.quotas(serde_json::json!([
            {"service": "cloudwatch", "operation": "PutMetricAlarm", "rate": QUOTA}
        ]));
        let dir = tempfile::tempdir().unwrap();
        let stack = dir.path().join("stack.yaml");
        let (yaml, how) = match selector {
            true => {
                launch(&acct, FLEET as i32);
                (
                    selector_yaml("quota"),
                    format!("selector of {FLEET} instances"),
                )
            }
            false => (
                stack_yaml("quota", FLEET),
                format!("{FLEET} listed instances"),
            ),
        };
        std::fs::write(&stack, yaml).unwrap();
        let zip = zip_file(dir.path());
        let zip = zip.to_str().unwrap();
        // Outside the figure: the fake's one-off set-up for the account
        // (moto's first calls, and by selector its first DescribeInstances).
        relayctl(&acct, &stack, &["plan", "--zip", zip]);
        let pace = format!("cloudwatch.PutMetricAlarm={QUOTA}");
        rows.push(measure(
            &acct,
            format!(
                "fleet: up, fresh account, fake quota {QUOTA}/s on PutMetricAlarm, paced ({how}, 0 ms/call; floor {:.0} s)",
                FLEET as f64 / QUOTA as f64
            ),
            || relayctl_paced(&acct, &stack, &["up", "--zip", zip], &pace),
        ));
    }
}

/// Whether `RELAYCTL_BENCH` (a comma-separated list; unset = all) names `group`.
fn wanted(group: &str) -> bool {
    std::env::var("RELAYCTL_BENCH")
        .map_or(true, |groups| groups.split(',').any(|g| g.trim() == group))
}

fn main() {
    // `cargo bench` passes --bench; groups are chosen by RELAYCTL_BENCH.
    let mut rows = Vec::new();
    if wanted("chain") {
        chain_rows(&mut rows, 0);
        chain_rows(&mut rows, LATENCY_MS);
    }
    if wanted("cli") {
        aws_cli_row(&mut rows, LATENCY_MS);
    }
    if wanted("fleet") {
        fleet_rows(&mut rows, LATENCY_MS);
    }
    if wanted("selector") {
        selector_rows(&mut rows, LATENCY_MS);
    }
    if wanted("quota") {
        quota_rows(&mut rows);
    }

    println!(
        "| scenario | AWS calls | writes | throttled | wall time | round trips in sequence (call log) | wall / latency |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let (rounds, depth) = if r.scenario.contains(&format!("{LATENCY_MS} ms/call")) {
            (
                r.rounds.to_string(),
                format!("~{:.0}", r.wall.as_secs_f64() * 1000.0 / LATENCY_MS as f64),
            )
        } else {
            ("–".to_string(), "–".to_string())
        };
        println!(
            "| {} | {} | {} | {} | {:.2} s | {} | {} |",
            r.scenario,
            r.calls,
            r.writes,
            r.throttled,
            r.wall.as_secs_f64(),
            rounds,
            depth
        );
    }
}
