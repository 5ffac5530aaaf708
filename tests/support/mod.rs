//! Test support shared by the integration tests (`mod support;`): the local
//! fake AWS from `tests/fake-aws/` and one isolated fake account per test.
//!
//! The server is started once per test process (or taken from
//! `RELAYCTL_FAKE_AWS_URL`). Each [`Account`] has its own 12-digit access key
//! id, which the fake turns into its own moto account, call log and faults,
//! so tests running in parallel never see each other.
#![allow(dead_code)]

pub mod chain;
pub mod cli;
pub mod fleet;
pub mod stack;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sns::config::{Credentials, SharedCredentialsProvider};

/// Environment variable naming an already running fake (e.g. started by CI).
pub const FAKE_URL_ENV: &str = "RELAYCTL_FAKE_AWS_URL";
/// First use installs moto into a venv; give pip time.
const START_TIMEOUT: Duration = Duration::from_secs(600);

/// Base URL of the fake AWS, starting it on first use in this process.
pub fn fake_url() -> String {
    if let Ok(url) = std::env::var(FAKE_URL_ENV)
        && !url.trim().is_empty()
    {
        return url.trim().trim_end_matches('/').to_string();
    }
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(start_server).clone()
}

/// Runs `tests/fake-aws/serve --port 0 --parent-pid <us>`: the server exits
/// by itself when this test process is gone, so no guard or cleanup hook is
/// needed (statics are never dropped at exit anyway).
fn start_server() -> String {
    let serve = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fake-aws/serve");
    let log_path = server_log_path();
    let log = File::create(&log_path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", log_path.display()));
    let mut child = Command::new(&serve)
        .args([
            "--port",
            "0",
            "--parent-pid",
            &std::process::id().to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", serve.display()));

    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    match rx.recv_timeout(START_TIMEOUT) {
        Ok(line) if line.starts_with("ready ") => line["ready ".len()..].trim().to_string(),
        other => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "fake AWS did not start ({}); its log {}:\n{}",
                match other {
                    Ok(line) if line.is_empty() => "exited before printing `ready`".to_string(),
                    Ok(line) => format!("unexpected first line {line:?}"),
                    Err(_) => format!("no `ready` line within {START_TIMEOUT:?}"),
                },
                log_path.display(),
                tail(&log_path, 4000),
            )
        }
    }
}

/// One log per test binary, overwritten on each run: `target/tmp/fake-aws-<test>.log`.
fn server_log_path() -> PathBuf {
    let exe = std::env::current_exe().ok();
    let name = exe
        .as_deref()
        .and_then(Path::file_stem)
        .and_then(|s| s.to_str())
        .map(|s| s.rsplit_once('-').map_or(s, |(name, _hash)| name))
        .unwrap_or("tests");
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fake-aws-{name}.log"))
}

fn tail(path: &Path, max: usize) -> String {
    let mut text = String::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.read_to_string(&mut text);
    }
    let cut = text.len().saturating_sub(max);
    let cut = (cut..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    text[cut..].to_string()
}

fn http() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .proxy(None) // loopback only, whatever HTTP_PROXY says
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent()
    })
}

/// One AWS call as the fake recorded it. Compared without its times.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Call {
    pub service: String,
    pub operation: String,
    pub write: bool,
    #[serde(default)]
    pub fault: Option<String>,
    /// The alarms a CloudWatch PutMetricAlarm / DeleteAlarms names.
    #[serde(default)]
    pub names: Vec<String>,
    /// When the call arrived and when its answer was ready (seconds, the
    /// fake's monotonic clock): round trips are counted from them.
    #[serde(default)]
    pub t: f64,
    #[serde(default)]
    pub end: f64,
    /// An SSM call's parameter name.
    #[serde(default)]
    pub name: Option<String>,
    /// `function` for a call made by a function the fake runs (with its
    /// role's session), not by the client under test.
    #[serde(default)]
    pub caller: Option<String>,
}

impl PartialEq for Call {
    fn eq(&self, other: &Call) -> bool {
        (
            &self.service,
            &self.operation,
            self.write,
            &self.fault,
            &self.names,
        ) == (
            &other.service,
            &other.operation,
            other.write,
            &other.fault,
            &other.names,
        )
    }
}

impl Call {
    /// A call on a stack's lock parameter (`/relayctl/{stack}/lock`, see
    /// src/lock.rs), which `up` and `down` take around their writes.
    pub fn is_lock(&self) -> bool {
        on_lock(&self.service, self.name.as_deref())
    }
}

fn on_lock(service: &str, parameter: Option<&str>) -> bool {
    service == "ssm"
        && parameter.is_some_and(|n| n.starts_with("/relayctl/") && n.ends_with("/lock"))
}

/// One AWS call with the region it was signed for.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct RegionalCall {
    pub region: String,
    pub service: String,
    pub operation: String,
    pub write: bool,
    /// An SSM call's parameter name.
    #[serde(default)]
    pub name: Option<String>,
}

impl RegionalCall {
    /// See [`Call::is_lock`].
    pub fn is_lock(&self) -> bool {
        on_lock(&self.service, self.name.as_deref())
    }
}

/// An isolated fake AWS account: its own resources, call log and faults.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub url: String,
}

impl Account {
    /// A fresh account with a unique 12-digit id (pid, process start, counter),
    /// its call log and faults cleared.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Account {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        static START: OnceLock<u64> = OnceLock::new();
        let start = *START.get_or_init(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        });
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        // "9" keeps clear of moto's default 123456789012.
        let id = format!(
            "9{:05}{:03}{:03}",
            std::process::id() % 100_000,
            start % 1000,
            n % 1000
        );
        let account = Account {
            id,
            url: fake_url(),
        };
        account.reset_calls();
        account.clear_faults();
        account
    }

    /// SDK config for this account with retries off (max attempts 1), so an
    /// injected fault reaches the test as the raw error.
    pub fn sdk_config(&self) -> SdkConfig {
        self.sdk_config_with_retries(1)
    }

    /// SDK config with the standard retry strategy and `attempts` max
    /// attempts; backoff kept short so retrying tests stay quick.
    pub fn sdk_config_with_retries(&self, attempts: u32) -> SdkConfig {
        let creds = Credentials::new(self.id.clone(), "test", None, None, "relayctl-fake-aws");
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(creds))
            .endpoint_url(self.url.clone())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(attempts.max(1))
                    .with_initial_backoff(Duration::from_millis(10))
                    .with_max_backoff(Duration::from_millis(200)),
            )
            .build()
    }

    /// Environment for running the relayctl binary against this account; no
    /// user profile, credentials file or instance metadata can leak in.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ACCESS_KEY_ID", self.id.as_str()),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", self.url.as_str()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
            ("AWS_PROFILE", "default"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// Every AWS call this account made, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.call_log()
    }

    /// Every AWS call this account made, with its region, in arrival order.
    pub fn regional_calls(&self) -> Vec<RegionalCall> {
        self.call_log()
    }

    fn call_log<T: serde::de::DeserializeOwned>(&self) -> Vec<T> {
        let url = format!("{}/_fake/calls?account={}", self.url, self.id);
        http()
            .get(&url)
            .call()
            .and_then(|mut r| r.body_mut().read_json::<Vec<T>>())
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
    }

    /// The built `relayctl` with this account's environment, quick to give
    /// up on faults, and `file` as its stack.
    pub fn relayctl(&self, file: &Path) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::cargo_bin("relayctl").unwrap();
        cmd.envs(self.env())
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("RELAYCTL_PROPAGATION_TIMEOUT_S", "30")
            .arg("-f")
            .arg(file);
        cmd
    }

    /// The calls that changed a resource (everything but Get*/List*/
    /// Describe*/Filter*, and but the stack lock's; tests/lock.rs checks those).
    pub fn writes(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.write && !c.is_lock())
            .collect()
    }

    pub fn reset_calls(&self) {
        let url = format!("{}/_fake/calls?account={}", self.url, self.id);
        if let Err(e) = http().delete(&url).call() {
            panic!("DELETE {url}: {e}");
        }
    }

    /// Panics, listing them, if this account made any write call.
    #[track_caller]
    pub fn assert_no_writes(&self) {
        let writes = self.writes();
        assert!(
            writes.is_empty(),
            "expected zero AWS write calls, got {}:\n{}",
            writes.len(),
            writes
                .iter()
                .map(|c| format!("  {}:{}", c.service, c.operation))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    /// How many `service` `operation` calls were made (faulted ones included).
    pub fn count(&self, service: &str, operation: &str) -> usize {
        self.calls()
            .iter()
            .filter(|c| c.service == service && c.operation == operation)
            .count()
    }

    /// Installs faults for this account, replacing earlier ones; `account`
    /// is filled in. See tests/fake-aws/fake_aws/faults.py for the format,
    /// e.g. `json!({"latency_ms": 50, "rules": [{"kind": "throttle", "nth": 1}]})`.
    pub fn inject(&self, faults: serde_json::Value) {
        let mut faults = faults;
        match faults.as_object_mut() {
            Some(obj) => {
                obj.insert("account".into(), self.id.clone().into());
            }
            None => panic!("inject() wants a JSON object, got {faults}"),
        }
        let url = format!("{}/_fake/faults", self.url);
        let resp = http()
            .post(&url)
            .config()
            .http_status_as_error(false)
            .build()
            .send_json(&faults)
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        if resp.status() != 200 {
            let mut resp = resp;
            let body = resp.body_mut().read_to_string().unwrap_or_default();
            panic!("POST {url} {faults}: {} {body}", resp.status());
        }
    }

    /// Hides from this account's tagging-index listings (GetResources)
    /// every ARN containing one of `substrings`: the index's lag on AWS.
    pub fn hide_from_tagging_index(&self, substrings: &[&str]) {
        self.post_control(
            "tagging",
            serde_json::json!({"account": self.id, "hide": substrings}),
        );
    }

    /// Installs request-rate quotas for this account, e.g.
    /// `json!([{"service": "cloudwatch", "operation": "PutMetricAlarm", "rate": 20}])`.
    pub fn quotas(&self, quotas: serde_json::Value) {
        self.post_control(
            "quotas",
            serde_json::json!({"account": self.id, "quotas": quotas}),
        );
    }

    fn post_control(&self, endpoint: &str, body: serde_json::Value) {
        let url = format!("{}/_fake/{endpoint}", self.url);
        let mut resp = http()
            .post(&url)
            .config()
            .http_status_as_error(false)
            .build()
            .send_json(&body)
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        if resp.status() != 200 {
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            panic!("POST {url} {body}: {} {text}", resp.status());
        }
    }

    pub fn clear_faults(&self) {
        let url = format!("{}/_fake/faults?account={}", self.url, self.id);
        if let Err(e) = http().delete(&url).call() {
            panic!("DELETE {url}: {e}");
        }
    }
}

/// PutMetricAlarm of `name`: EC2 CPUUtilization, Average over 60 s, one
/// period, above 80; a later setter replaces any of these.
pub fn cpu_alarm(
    cw: &aws_sdk_cloudwatch::Client,
    name: &str,
) -> aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder {
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
    cw.put_metric_alarm()
        .alarm_name(name)
        .metric_name("CPUUtilization")
        .namespace("AWS/EC2")
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(80.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
}

/// The function's State and LastUpdateStatus, read once.
pub async fn function_states(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
) -> (
    aws_sdk_lambda::types::State,
    aws_sdk_lambda::types::LastUpdateStatus,
) {
    let got = lambda.get_function_configuration().function_name(name);
    let c = got.send().await.unwrap();
    (
        c.state().cloned().unwrap(),
        c.last_update_status().cloned().unwrap(),
    )
}

/// What relayctl does before each Lambda write: poll until the function is
/// neither Pending nor InProgress (the fake keeps it so for a few reads after
/// each create or update, like AWS).
pub async fn wait_function_ready(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
) -> (
    aws_sdk_lambda::types::State,
    aws_sdk_lambda::types::LastUpdateStatus,
) {
    use aws_sdk_lambda::types::{LastUpdateStatus, State};
    for _ in 0..20 {
        let (state, update) = function_states(lambda, name).await;
        if state != State::Pending && update != LastUpdateStatus::InProgress {
            return (state, update);
        }
    }
    panic!("{name} still Pending/InProgress after 20 reads");
}
