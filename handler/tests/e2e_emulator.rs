//! End to end: the released `bootstrap` under cargo-lambda's Runtime API
//! emulator, fed the seed sample, posting to a local Slack sink.
//!
//! Needs `RELAY_BOOTSTRAP` (path to the built binary) and `cargo-lambda`
//! (on PATH or in the workspace's `.venv/bin`). Set `RELAY_SKIP_E2E=1` to
//! skip when they are deliberately absent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const HOOK_PATH: &str = "/services/T0E2E/B0E2E/e2eSecretToken";

const HOW_TO: &str = "build and install the e2e prerequisites:\n  \
    python3 -m venv .venv && .venv/bin/pip install cargo-lambda cargo-zigbuild ziglang\n  \
    PATH=$PWD/.venv/bin:$PATH cargo zigbuild -p relay-handler --bin bootstrap --profile lambda --target x86_64-unknown-linux-gnu.2.34\n  \
    RELAY_BOOTSTRAP=$PWD/target/x86_64-unknown-linux-gnu/lambda/bootstrap cargo test -p relay-handler --test e2e_emulator\n\
    or set RELAY_SKIP_E2E=1 to skip this test";

/// Kills the child on drop so a failed assertion leaves no process behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn prerequisites() -> Option<(PathBuf, PathBuf)> {
    if std::env::var("RELAY_SKIP_E2E").as_deref() == Ok("1") {
        eprintln!("skipping e2e_emulator: RELAY_SKIP_E2E=1");
        return None;
    }
    let bootstrap = match std::env::var_os("RELAY_BOOTSTRAP").map(PathBuf::from) {
        Some(path) if path.is_file() => path,
        Some(path) => panic!("RELAY_BOOTSTRAP={} is not a file; {HOW_TO}", path.display()),
        None => panic!("RELAY_BOOTSTRAP is not set; {HOW_TO}"),
    };
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin");
    let search = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    let cargo_lambda = search
        .chain([venv])
        .map(|dir| dir.join("cargo-lambda"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("cargo-lambda not found on PATH or in .venv/bin; {HOW_TO}"));
    Some((bootstrap, cargo_lambda))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, within: Duration) {
    let until = Instant::now() + within;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < until,
            "emulator did not listen on {port} within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A one-route HTTP/1.1 server standing in for Slack: answers `ok` and hands
/// each request's path and body to the test.
fn slack_sink() -> (u16, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let mut stream = reader.into_inner();
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            let _ = tx.send((path, String::from_utf8_lossy(&body).into_owned()));
        }
    });
    (port, rx)
}

#[test]
fn seed_sample_reaches_slack_through_the_emulator() {
    let Some((bootstrap, cargo_lambda)) = prerequisites() else {
        return;
    };
    let (sink_port, received) = slack_sink();
    let api_port = free_port();
    let logs = tempdir();

    // `watch` reads cargo metadata, so it runs from this crate's directory.
    let _emulator = Running(
        Command::new(&cargo_lambda)
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "--invoke-address",
                "127.0.0.1",
            ])
            .args(["--invoke-port", &api_port.to_string()])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start cargo-lambda watch"),
    );
    wait_for_port(api_port, Duration::from_secs(30));

    let handler_log = logs.join("bootstrap.log");
    let _handler = Running(
        Command::new(&bootstrap)
            .env_clear()
            .env(
                "SLACK_WEBHOOK_URL",
                format!("http://127.0.0.1:{sink_port}{HOOK_PATH}"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{api_port}/.rt/_"),
            )
            .stdout(std::fs::File::create(&handler_log).unwrap())
            .stderr(std::fs::File::create(logs.join("bootstrap.err")).unwrap())
            .spawn()
            .expect("start bootstrap"),
    );

    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sns-alarm-seed-sample.json");
    let invoke = Command::new(&cargo_lambda)
        .args([
            "lambda",
            "invoke",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &api_port.to_string(),
        ])
        .arg("--data-file")
        .arg(&fixture)
        .arg("_")
        .output()
        .expect("run cargo-lambda invoke");
    let handler_output = std::fs::read_to_string(&handler_log).unwrap_or_default()
        + &std::fs::read_to_string(logs.join("bootstrap.err")).unwrap_or_default();
    assert!(
        invoke.status.success(),
        "invoke failed: {}\n{}\nhandler said:\n{handler_output}",
        String::from_utf8_lossy(&invoke.stdout),
        String::from_utf8_lossy(&invoke.stderr),
    );

    let (path, body) = received
        .recv_timeout(Duration::from_secs(10))
        .expect("Slack sink received nothing");
    assert_eq!(path, HOOK_PATH);
    let message: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        message["text"],
        "Example alarm name state is now ALARM: Threshold Crossed: 1 datapoint (10.0) was greater than or equal to the threshold (1.0)."
    );
    assert_eq!(message["attachments"][0]["color"], "#d50200");
    assert!(
        message["attachments"][0]["title_link"]
            .as_str()
            .unwrap()
            .contains("region=eu-west-1")
    );
    assert!(received.try_recv().is_err(), "one record, one post");
    assert!(
        handler_output.contains("posted to Slack"),
        "{handler_output}"
    );
    assert!(
        !handler_output.contains("e2eSecretToken"),
        "webhook leaked into the handler's logs:\n{handler_output}"
    );
}

/// A fresh temporary directory for this run's handler logs.
fn tempdir() -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("relay-e2e-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
