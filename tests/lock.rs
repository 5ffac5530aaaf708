//! Issue 11.9: concurrent runs of one stack. `up` and `down` hold the
//! stack's lock (src/lock.rs, the SSM parameter `/relayctl/{stack}/lock`)
//! while they write; a second run fails fast naming the holder, `status`
//! shows the lock, `--force-unlock` breaks it, an expired one is taken over,
//! and it is released after a failure and after SIGINT. Each test drives the
//! built `relayctl` against the fake and asserts what exists afterwards and
//! which calls were made.

mod support;

use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

use assert_cmd::cargo::CommandCargoExt as _;
use aws_sdk_ssm::error::ProvideErrorMetadata as _;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde_json::{Value, json};
use support::Account;
use support::cli::{exit, text};
use support::stack::{INSTANCE, StackDir, WEBHOOK, handler_path};

/// A stack folder with one alarm on [`INSTANCE`].
fn new_stack(name: &str) -> StackDir {
    let zip = relayctl::package::zip_bootstrap(b"handler A").unwrap();
    let stack = StackDir::new(name, &zip);
    write(&stack, 80, "slack:\n  webhook_url_env: SLACK_WEBHOOK_URL");
    stack
}

fn write(stack: &StackDir, threshold: u32, slack: &str) {
    stack.write_yaml(&format!(
        "name: {}\n{slack}\nhandler:\n  path: {}\nalarms:\n  - name: high-cpu\n    instance_id: {INSTANCE}\n    threshold: {threshold}\n",
        stack.name,
        handler_path().display()
    ));
}

fn command(acct: &Account, stack: &StackDir, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::cargo_bin("relayctl").unwrap();
    cmd.envs(acct.env())
        .env("SLACK_WEBHOOK_URL", WEBHOOK)
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("RELAYCTL_PROPAGATION_TIMEOUT_S", "30")
        .arg("-f")
        .arg(stack.file())
        .args(args)
        .stdin(Stdio::null());
    cmd
}

fn relayctl(acct: &Account, stack: &StackDir, args: &[&str]) -> Output {
    command(acct, stack, args).output().unwrap()
}

/// Runs in the background, its output kept.
fn spawn(cmd: &mut std::process::Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `relayctl up --zip a.zip`.
fn up_command(acct: &Account, stack: &StackDir) -> std::process::Command {
    command(acct, stack, &["up", "--zip", &stack.zip()])
}

fn up(acct: &Account, stack: &StackDir, extra: &[&str]) -> Output {
    up_command(acct, stack).args(extra).output().unwrap()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

fn ssm(acct: &Account) -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&acct.sdk_config())
}

/// The lock parameter's value, if it exists.
fn lock_value(acct: &Account, stack: &StackDir) -> Option<Value> {
    let got = block_on(ssm(acct).get_parameter().name(stack.lock_name()).send());
    match got {
        Ok(out) => Some(serde_json::from_str(out.parameter.unwrap().value().unwrap()).unwrap()),
        Err(e) if e.code() == Some("ParameterNotFound") => None,
        Err(e) => panic!("GetParameter: {e:?}"),
    }
}

fn rfc3339(t: SystemTime) -> String {
    DateTime::from(t).fmt(Format::DateTime).unwrap()
}

/// Another run's lock, as relayctl writes it: taken `age` ago, expiring
/// `expires_in` from now (negative: in the past).
fn plant_lock(acct: &Account, stack: &StackDir, age: Duration, expires_in: i64) -> Value {
    let now = SystemTime::now();
    let expires = match expires_in >= 0 {
        true => now + Duration::from_secs(expires_in as u64),
        false => now - Duration::from_secs(expires_in.unsigned_abs()),
    };
    let value = json!({
        "id": "0123456789abcdef0123456789abcdef",
        "operation": "up",
        "who": "ana@ci-7",
        "pid": 4242,
        "created": rfc3339(now - age),
        "expires": rfc3339(expires),
    });
    block_on(
        ssm(acct)
            .put_parameter()
            .name(stack.lock_name())
            .value(value.to_string())
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .overwrite(false)
            .send(),
    )
    .unwrap();
    value
}

/// The lock's calls: each `(operation, parameter)`.
fn lock_calls(acct: &Account) -> Vec<String> {
    acct.calls()
        .into_iter()
        .filter(|c| c.is_lock())
        .map(|c| c.operation)
        .collect()
}

/// Waits (bounded) until `ready` holds for the account's call log.
fn wait_for(acct: &Account, what: &str, ready: impl Fn(&[support::Call]) -> bool) {
    let start = Instant::now();
    while !ready(&acct.calls()) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}: {:#?}",
            acct.calls()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How the stack stands: every resource in place and in sync, or none.
#[derive(Debug, PartialEq)]
enum End {
    Up,
    Gone,
}

/// Fully up (`status --detailed-exitcode` 0, the alarm notifies a topic
/// that exists) or fully gone (no resource of the stack left); panics on
/// anything in between.
fn end_state(acct: &Account, stack: &StackDir) -> End {
    let cfg = acct.sdk_config();
    let sns = aws_sdk_sns::Client::new(&cfg);
    let cw = aws_sdk_cloudwatch::Client::new(&cfg);
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let iam = aws_sdk_iam::Client::new(&cfg);
    let topics: Vec<String> = block_on(sns.list_topics().send())
        .unwrap()
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn().map(str::to_string))
        .collect();
    let alarms = block_on(
        cw.describe_alarms()
            .alarm_name_prefix(format!("{}-", stack.name))
            .send(),
    )
    .unwrap();
    for alarm in alarms.metric_alarms() {
        for action in alarm.alarm_actions() {
            assert!(
                topics.contains(action),
                "alarm {:?} notifies {action}, which does not exist (topics: {topics:?})",
                alarm.alarm_name()
            );
        }
    }
    let functions = block_on(lambda.list_functions().send()).unwrap();
    let roles = block_on(iam.list_roles().send()).unwrap();
    let left = topics.len()
        + alarms.metric_alarms().len()
        + functions.functions().len()
        + roles.roles().len();
    if left == 0 {
        return End::Gone;
    }
    let status = relayctl(acct, stack, &["status", "--detailed-exitcode"]);
    assert_eq!(
        status.status.code(),
        Some(0),
        "neither fully up nor fully gone:\n{}{}",
        text(&status.stdout),
        text(&status.stderr)
    );
    End::Up
}

// --- the fake: PutParameter Overwrite=false is atomic --------------------------

/// AWS: of concurrent PutParameter calls without Overwrite for one new name,
/// exactly one creates it; the others answer ParameterAlreadyExists. moto
/// checks, then appends a version: without the fake's per-account lock two
/// can both "create" version 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_put_parameter_without_overwrite_creates_once() {
    let acct = Account::new();
    let ssm = aws_sdk_ssm::Client::new(&acct.sdk_config());
    const N: usize = 16;
    for round in 0..10 {
        let name = format!("/relayctl/race-{round}/lock");
        let results = futures::future::join_all((0..N).map(|i| {
            ssm.put_parameter()
                .name(&name)
                .value(format!("run {i}"))
                .r#type(aws_sdk_ssm::types::ParameterType::String)
                .overwrite(false)
                .send()
        }))
        .await;
        let ok = results.iter().filter(|r| r.is_ok()).count();
        let codes: Vec<&str> = results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .map(|e| e.code().unwrap_or("<none>"))
            .collect();
        assert_eq!(
            (ok, codes),
            (1, vec!["ParameterAlreadyExists"; N - 1]),
            "round {round}"
        );
        let p = ssm.get_parameter().name(&name).send().await.unwrap();
        assert_eq!(p.parameter.unwrap().version, 1, "round {round}");
    }
}

// --- two runs at once ---------------------------------------------------------------

/// Two `up`s of a fresh stack at once: one builds the chain, the other
/// fails fast with the lock error (or, started after the first released
/// the lock, finds nothing to do). One of each resource, one create each.
#[test]
fn two_ups_at_once_build_one_chain_with_one_create_each() {
    let acct = Account::new();
    let stack = new_stack("twin");
    // Slow calls: both runs read before either takes the lock.
    acct.inject(json!({"latency_ms": 100}));
    let runs = [
        spawn(&mut up_command(&acct, &stack)),
        spawn(&mut up_command(&acct, &stack)),
    ];
    let outs: Vec<Output> = runs
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    acct.clear_faults();
    let winners = outs.iter().filter(|o| o.status.success()).count();
    assert!(winners >= 1, "{outs:#?}");
    for out in outs.iter().filter(|o| !o.status.success()) {
        exit(out, 1);
        let err = text(&out.stderr);
        assert!(
            err.contains("error[E310]: stack twin is locked in us-east-1: up by ")
                && err.contains("relayctl up --force-unlock"),
            "{err}"
        );
    }
    for (service, operation) in [
        ("iam", "CreateRole"),
        ("logs", "CreateLogGroup"),
        ("sns", "CreateTopic"),
        ("lambda", "CreateFunction"),
        ("lambda", "AddPermission"),
        ("sns", "Subscribe"),
        ("cloudwatch", "PutMetricAlarm"),
    ] {
        assert_eq!(acct.count(service, operation), 1, "{operation}");
    }
    let cfg = acct.sdk_config();
    let lambda = aws_sdk_lambda::Client::new(&cfg);
    let sns = aws_sdk_sns::Client::new(&cfg);
    assert_eq!(
        block_on(lambda.list_functions().send())
            .unwrap()
            .functions()
            .len(),
        1
    );
    let policy = block_on(lambda.get_policy().function_name("twin-relay").send())
        .unwrap()
        .policy
        .unwrap();
    let policy: Value = serde_json::from_str(&policy).unwrap();
    assert_eq!(policy["Statement"].as_array().unwrap().len(), 1, "{policy}");
    let topic = format!("arn:aws:sns:us-east-1:{}:twin-alarms", acct.id);
    let subs = block_on(sns.list_subscriptions_by_topic().topic_arn(topic).send()).unwrap();
    assert_eq!(subs.subscriptions().len(), 1);
    assert_eq!(end_state(&acct, &stack), End::Up);
    assert_eq!(lock_value(&acct, &stack), None, "released");
}

/// `down` started while `up` is writing: it refuses (the lock is held),
/// so the chain ends fully up, never an alarm pointing at a deleted topic.
#[test]
fn down_during_up_is_refused_and_the_chain_ends_fully_up() {
    let acct = Account::new();
    let stack = new_stack("updown");
    acct.inject(json!({"latency_ms": 100}));
    let up_run = spawn(&mut up_command(&acct, &stack));
    // `up` is past its reads and creating.
    wait_for(&acct, "up's first create", |calls| {
        calls.iter().any(|c| c.operation == "CreateTopic")
    });
    let down = relayctl(&acct, &stack, &["down", "--yes"]);
    let up_out = up_run.wait_with_output().unwrap();
    acct.clear_faults();
    exit(&up_out, 0);
    exit(&down, 1);
    let err = text(&down.stderr);
    assert!(
        err.contains("error[E310]: stack updown is locked in us-east-1: up by ")
            && err.contains("relayctl down --force-unlock"),
        "{err}"
    );
    assert_eq!(acct.count("sns", "DeleteTopic"), 0);
    assert_eq!(end_state(&acct, &stack), End::Up);
}

/// `up` started while `down` is deleting: refused, the stack ends fully gone.
#[test]
fn up_during_down_is_refused_and_the_stack_ends_fully_gone() {
    let acct = Account::new();
    let stack = new_stack("downup");
    exit(&up(&acct, &stack, &[]), 0);
    acct.reset_calls();
    acct.inject(json!({"latency_ms": 100}));
    let down_run = spawn(&mut command(&acct, &stack, &["down", "--yes"]));
    wait_for(&acct, "down's first delete", |calls| {
        calls.iter().any(|c| c.operation == "DeleteAlarms")
    });
    let up_out = up(&acct, &stack, &[]);
    let down_out = down_run.wait_with_output().unwrap();
    acct.clear_faults();
    exit(&down_out, 0);
    exit(&up_out, 1);
    let err = text(&up_out.stderr);
    assert!(
        err.contains("error[E310]: stack downup is locked in us-east-1: down by "),
        "{err}"
    );
    assert_eq!(acct.count("lambda", "CreateFunction"), 0);
    assert_eq!(end_state(&acct, &stack), End::Gone);
}

// --- status, force-unlock, expiry ---------------------------------------------------

/// A held lock: `status` names it (text and JSON), `up` refuses without a
/// resource write and leaves the lock as it was; `--force-unlock` breaks
/// it, says whose it was, and the run goes on.
#[test]
fn status_shows_a_held_lock_and_force_unlock_breaks_it() {
    let acct = Account::new();
    let stack = new_stack("held");
    let planted = plant_lock(&acct, &stack, Duration::from_secs(200), 600);

    let status = relayctl(&acct, &stack, &["status"]);
    let out = text(&status.stdout);
    assert!(
        out.contains("locked: up by ana@ci-7 (pid 4242) since ")
            && out.contains(" (3m 2")
            && out.contains(&format!("expires {}", planted["expires"].as_str().unwrap())),
        "{out}"
    );
    let json = relayctl(&acct, &stack, &["status", "--output", "json"]);
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["lock"]["who"], "ana@ci-7");
    assert_eq!(json["lock"]["operation"], "up");
    assert_eq!(json["lock"]["expired"], false);
    assert!(json["lock"]["age_s"].as_u64().unwrap() >= 200, "{json}");

    acct.reset_calls();
    let refused = up(&acct, &stack, &[]);
    exit(&refused, 1);
    let err = text(&refused.stderr);
    assert!(
        err.contains("error[E310]: stack held is locked in us-east-1: up by ana@ci-7 (pid 4242)")
            && err.contains("relayctl up --force-unlock"),
        "{err}"
    );
    acct.assert_no_writes();
    assert_eq!(lock_calls(&acct), ["PutParameter", "GetParameter"]);
    assert_eq!(lock_value(&acct, &stack), Some(planted));

    acct.reset_calls();
    let forced = up(&acct, &stack, &["--force-unlock"]);
    exit(&forced, 0);
    let err = text(&forced.stderr);
    assert!(
        err.contains("broke stack held's lock (--force-unlock): up by ana@ci-7 (pid 4242)"),
        "{err}"
    );
    assert_eq!(
        lock_calls(&acct),
        [
            "PutParameter",
            "GetParameter",
            "DeleteParameter",
            "PutParameter",
            "GetParameter",
            "DeleteParameter"
        ]
    );
    assert_eq!(lock_value(&acct, &stack), None);
    assert_eq!(end_state(&acct, &stack), End::Up);
    // Unlocked, in sync: nothing about a lock.
    let status = relayctl(&acct, &stack, &["status", "--output", "json"]);
    let json: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert!(json.get("lock").is_none(), "{json}");
}

/// A lock past its expiry belongs to a run presumed dead: taken over with
/// a warning naming it.
#[test]
fn an_expired_lock_is_taken_over_with_a_warning() {
    let acct = Account::new();
    let stack = new_stack("stale");
    plant_lock(&acct, &stack, Duration::from_secs(3600), -60);
    let status = relayctl(&acct, &stack, &["status"]);
    assert!(
        text(&status.stdout).contains("expired "),
        "{}",
        text(&status.stdout)
    );
    let out = up(&acct, &stack, &[]);
    exit(&out, 0);
    let err = text(&out.stderr);
    assert!(
        err.contains("warning: took over stack stale's expired lock: up by ana@ci-7 (pid 4242)")
            && err.contains("presumed dead"),
        "{err}"
    );
    assert_eq!(lock_value(&acct, &stack), None);
    assert_eq!(end_state(&acct, &stack), End::Up);
}

/// A live holder renews its lock: past the first expiry a second run still
/// finds it held and does not take it over.
#[test]
fn a_running_holder_renews_its_lock() {
    let acct = Account::new();
    let stack = new_stack("renew");
    acct.inject(json!({"latency_ms": 150}));
    let first = spawn(up_command(&acct, &stack).env("RELAYCTL_LOCK_EXPIRY_S", "2"));
    wait_for(&acct, "a renewal", |calls| {
        calls
            .iter()
            .filter(|c| c.is_lock() && c.operation == "PutParameter")
            .count()
            >= 2
    });
    let second = up_command(&acct, &stack)
        .env("RELAYCTL_LOCK_EXPIRY_S", "2")
        .output()
        .unwrap();
    let first = first.wait_with_output().unwrap();
    acct.clear_faults();
    exit(&first, 0);
    exit(&second, 1);
    assert!(
        text(&second.stderr).contains("error[E310]"),
        "{}",
        text(&second.stderr)
    );
    assert_eq!(acct.count("lambda", "CreateFunction"), 1);
    assert_eq!(lock_value(&acct, &stack), None);
}

// --- released on failure and on SIGINT ----------------------------------------------

/// `up` fails half-way (every CreateFunction answers 500): the error is
/// reported and the lock is released all the same.
#[test]
fn the_lock_is_released_after_a_failed_up() {
    let acct = Account::new();
    let stack = new_stack("fails");
    acct.inject(json!({"rules": [{"kind": "error500", "service": "lambda", "operation": "CreateFunction"}]}));
    let out = up(&acct, &stack, &[]);
    exit(&out, 1);
    assert!(
        text(&out.stderr).contains("CreateFunction"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        lock_calls(&acct),
        ["PutParameter", "GetParameter", "DeleteParameter"]
    );
    assert_eq!(lock_value(&acct, &stack), None);
    // The next run is not locked out and finishes the job.
    acct.clear_faults();
    exit(&up(&acct, &stack, &[]), 0);
    assert_eq!(end_state(&acct, &stack), End::Up);
}

/// Ctrl-C during `up`: it stops, releases the lock and exits 130; the next
/// `up` converges.
#[test]
fn the_lock_is_released_after_sigint() {
    let acct = Account::new();
    let stack = new_stack("sigint");
    acct.inject(json!({"latency_ms": 150}));
    let run = spawn(&mut up_command(&acct, &stack));
    wait_for(&acct, "up's first create", |calls| {
        calls.iter().any(|c| c.operation == "CreateTopic")
    });
    let kill = std::process::Command::new("kill")
        .args(["-INT", &run.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = run.wait_with_output().unwrap();
    acct.clear_faults();
    exit(&out, 130);
    let err = text(&out.stderr);
    assert!(
        err.contains("error[E106]: interrupted by SIGINT: `up` stopped where it was"),
        "{err}"
    );
    assert_eq!(
        lock_calls(&acct).last().map(String::as_str),
        Some("DeleteParameter")
    );
    assert_eq!(lock_value(&acct, &stack), None);
    exit(&up(&acct, &stack, &[]), 0);
    assert_eq!(end_state(&acct, &stack), End::Up);
}

// --- the lock is no resource of the stack -------------------------------------------

/// The lock's name is refused as the webhook's parameter (`down` would
/// delete it, `secret set` overwrite it), before any AWS call.
#[test]
fn the_lock_parameter_cannot_be_the_webhook_parameter() {
    let acct = Account::new();
    let stack = new_stack("clash");
    write(
        &stack,
        80,
        "slack:\n  webhook_url_ssm: /relayctl/clash/lock",
    );
    let out = relayctl(&acct, &stack, &["plan"]);
    exit(&out, 1);
    let err = text(&out.stderr);
    assert!(
        err.contains("slack.webhook_url_ssm")
            && err.contains("is /relayctl/clash/lock, the name of a relayctl stack lock"),
        "{err}"
    );
    assert!(acct.calls().is_empty(), "{:?}", acct.calls());
}

/// While another run holds the lock, `down` of a stack with a webhook
/// parameter of its own neither lists nor deletes the lock: the lock stays
/// its holder's, the webhook parameter goes.
#[test]
fn down_never_deletes_the_lock_of_another_run() {
    let acct = Account::new();
    let stack = new_stack("keep");
    write(&stack, 80, "slack:\n  webhook_url_ssm: /relay/keep/hook");
    let mut secret = command(&acct, &stack, &["secret", "set"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    secret
        .stdin
        .take()
        .unwrap()
        .write_all(WEBHOOK.as_bytes())
        .unwrap();
    assert!(secret.wait().unwrap().success());
    exit(&up(&acct, &stack, &[]), 0);
    // The lock in the tagging index with the stack's tag, as on AWS.
    let planted = plant_lock(&acct, &stack, Duration::from_secs(5), 600);
    block_on(
        ssm(&acct)
            .add_tags_to_resource()
            .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
            .resource_id(stack.lock_name())
            .tags(
                aws_sdk_ssm::types::Tag::builder()
                    .key("relayctl:stack")
                    .value("keep")
                    .build()
                    .unwrap(),
            )
            .send(),
    )
    .unwrap();
    let plan = relayctl(&acct, &stack, &["plan", "--zip", &stack.zip()]);
    exit(&plan, 0);
    assert!(
        !text(&plan.stdout).contains("/relayctl/keep/lock"),
        "{}",
        text(&plan.stdout)
    );
    // Held: refused. Forced: deletes the stack and its webhook parameter,
    // and the lock only as the lock (broken, then released).
    exit(&relayctl(&acct, &stack, &["down", "--yes"]), 1);
    assert_eq!(lock_value(&acct, &stack), Some(planted));
    acct.reset_calls();
    let down = relayctl(&acct, &stack, &["down", "--yes", "--force-unlock"]);
    exit(&down, 0);
    assert!(
        !text(&down.stdout).contains("/relayctl/keep/lock"),
        "{}",
        text(&down.stdout)
    );
    let deleted: Vec<String> = acct
        .calls()
        .into_iter()
        .filter(|c| c.operation == "DeleteParameter")
        .filter_map(|c| c.name)
        .collect();
    assert_eq!(
        deleted,
        [
            "/relayctl/keep/lock",
            "/relay/keep/hook",
            "/relayctl/keep/lock"
        ]
    );
    assert_eq!(end_state(&acct, &stack), End::Gone);
}

/// The release's "still ours?" read goes out as the last level of writes
/// starts (alongside PutMetricAlarm), not after it; the delete follows
/// both (issue 12 item 5). 200 ms per call keeps the overlap clear of
/// scheduling noise.
#[test]
fn the_release_check_goes_alongside_the_last_writes() {
    let acct = Account::new();
    let stack = new_stack("checks");
    acct.inject(json!({"latency_ms": 200, "rules": []}));
    exit(&up(&acct, &stack, &[]), 0);
    let calls = acct.calls();
    let alarm = calls
        .iter()
        .find(|c| c.operation == "PutMetricAlarm")
        .expect("PutMetricAlarm");
    let check = calls
        .iter()
        .rfind(|c| c.is_lock() && c.operation == "GetParameter")
        .expect("the release's GetParameter");
    let delete = calls
        .iter()
        .find(|c| c.is_lock() && c.operation == "DeleteParameter")
        .expect("the release's DeleteParameter");
    assert!(
        check.t < alarm.end,
        "the check waited for the alarm: {check:?} {alarm:?}"
    );
    assert!(delete.t >= alarm.end && delete.t >= check.end);
    assert_eq!(lock_value(&acct, &stack), None);
}

/// A lock broken (and taken by another run) while `up` runs is left to its
/// new holder: `up` finishes its writes, warns, and does not delete it.
#[test]
fn a_lock_broken_while_up_runs_is_left_to_its_new_holder() {
    let acct = Account::new();
    let stack = new_stack("broken");
    acct.inject(json!({"latency_ms": 100, "rules": []}));
    let child = spawn(&mut up_command(&acct, &stack));
    wait_for(&acct, "CreateFunction", |calls| {
        calls.iter().any(|c| c.operation == "CreateFunction")
    });
    // What `--force-unlock` by another run does: delete, then take.
    block_on(ssm(&acct).delete_parameter().name(stack.lock_name()).send()).unwrap();
    let planted = plant_lock(&acct, &stack, Duration::ZERO, 600);
    let out = child.wait_with_output().unwrap();
    exit(&out, 0);
    let err = text(&out.stderr);
    assert!(
        err.contains("was broken while it ran") && err.contains("ana@ci-7"),
        "{err}"
    );
    assert_eq!(lock_value(&acct, &stack), Some(planted));
    assert_eq!(end_state(&acct, &stack), End::Up);
}
