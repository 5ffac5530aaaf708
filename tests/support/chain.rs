//! What tests need to run the whole chain in the fake AWS: the real handler
//! zipped for upload, a tiny event-echoing function, a Slack webhook
//! stand-in, and the fake's record of what was delivered (or refused).

use std::path::{Path, PathBuf};
use std::time::Duration;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{Account, http};

/// The built handler (`scripts/lib.sh build_bootstrap`), from
/// `RELAY_BOOTSTRAP` or where that build leaves it.
pub fn bootstrap_path() -> PathBuf {
    const HOW_TO: &str = "build it with `source scripts/lib.sh && ensure_build_tools && build_bootstrap` \
                          (scripts/test does this) or point RELAY_BOOTSTRAP at it";
    let built = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/x86_64-unknown-linux-gnu/lambda/bootstrap");
    let path = std::env::var_os("RELAY_BOOTSTRAP").map_or(built, PathBuf::from);
    assert!(
        path.is_file(),
        "no handler bootstrap at {}; {HOW_TO}",
        path.display()
    );
    path
}

/// The real handler as Lambda gets it from `relayctl up`.
pub fn handler_zip() -> Vec<u8> {
    let binary = std::fs::read(bootstrap_path()).expect("read bootstrap");
    relayctl::package::zip_bootstrap(&binary).expect("zip bootstrap")
}

/// A function that prints each event it gets (`EVENT {json}`, one line) and
/// answers with the event, its deadline header, invoked ARN and a few
/// environment variables. `SLEEP_S` in its environment delays the answer.
pub const ECHO_BOOTSTRAP: &str = r#"#!/usr/bin/env python3
import json, os, time, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        deadline = int(r.headers["Lambda-Runtime-Deadline-Ms"])
        arn = r.headers["Lambda-Runtime-Invoked-Function-Arn"]
        event = json.load(r)
    print("EVENT " + json.dumps(event), flush=True)
    time.sleep(float(os.environ.get("SLEEP_S", "0")))
    names = ("MY_SETTING", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
             "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_REGION")
    answer = {"event": event, "deadline_ms": deadline, "arn": arn,
              "env": {n: os.environ.get(n) for n in names}}
    req = urllib.request.Request(api + rid + "/response", data=json.dumps(answer).encode(), method="POST")
    urllib.request.urlopen(req).read()
"#;

pub fn echo_zip() -> Vec<u8> {
    relayctl::package::zip_bootstrap(ECHO_BOOTSTRAP.as_bytes()).expect("zip echo bootstrap")
}

/// A Slack incoming webhook on 127.0.0.1 that answers every POST with
/// `status` and `body` (Slack's own: `200 ok`, `403 invalid_token`, ...).
pub struct SlackSink {
    server: MockServer,
}

impl SlackSink {
    pub async fn answering(status: u16, body: &str) -> SlackSink {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).set_body_string(body.to_string()))
            .mount(&server)
            .await;
        SlackSink { server }
    }

    pub async fn ok() -> SlackSink {
        Self::answering(200, "ok").await
    }

    /// A webhook URL as Slack issues them; plain http is allowed for loopback only.
    pub fn webhook_url(&self) -> String {
        format!(
            "{}/services/T0000TEST/B0000TEST/fakesecrettoken",
            self.server.uri()
        )
    }

    /// Another webhook of the same sink, at its own path (a rotated URL).
    pub fn webhook_url_with_token(&self, token: &str) -> String {
        format!("{}/services/T0000TEST/B0000TEST/{token}", self.server.uri())
    }

    /// From now on the webhook at `url` answers 404 `no_service`, as Slack
    /// does for a webhook that was removed (the other paths keep answering).
    pub async fn refuse(&self, url: &str) {
        let at = url
            .strip_prefix(&self.server.uri())
            .expect("a URL of this sink");
        Mock::given(method("POST"))
            .and(path(at))
            .respond_with(ResponseTemplate::new(404).set_body_string("no_service"))
            .with_priority(1)
            .mount(&self.server)
            .await;
    }

    /// The `text` of every message posted to `url`, refused ones included.
    pub async fn texts_at(&self, url: &str) -> Vec<String> {
        let at = url
            .strip_prefix(&self.server.uri())
            .expect("a URL of this sink");
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == at)
            .map(|r| {
                serde_json::from_slice::<serde_json::Value>(&r.body).unwrap_or_default()["text"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect()
    }

    /// The `text` of every message received so far.
    pub async fn texts(&self) -> Vec<String> {
        self.messages()
            .await
            .iter()
            .map(|m| m["text"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Every JSON body received so far, in arrival order.
    pub async fn messages(&self) -> Vec<serde_json::Value> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null))
            .collect()
    }

    /// Waits up to `within` for at least `n` messages; returns their texts.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<String> {
        let end = std::time::Instant::now() + within;
        loop {
            let texts = self.texts().await;
            if texts.len() >= n || std::time::Instant::now() > end {
                return texts;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// One entry of the fake's delivery log (`GET /_fake/deliveries`).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Delivery {
    /// `alarm` (an alarm action), `sns` (a topic delivering), `invoke` (the API).
    pub source: String,
    /// `published`, `invoked`, `failed`, `refused` or `skipped`.
    pub outcome: String,
    pub function: Option<String>,
    pub principal: Option<String>,
    pub alarm: Option<String>,
    pub state: Option<String>,
    pub topic: Option<String>,
    pub target: Option<String>,
    pub reason: Option<String>,
    pub error_type: Option<String>,
    pub logs_lost: Option<String>,
}

impl Account {
    /// What flowed through this account's chain, once every delivery in
    /// flight has finished.
    pub fn deliveries(&self) -> Vec<Delivery> {
        let url = format!("{}/_fake/deliveries?account={}&wait=1", self.url, self.id);
        http()
            .get(&url)
            .call()
            .and_then(|mut r| r.body_mut().read_json::<Vec<Delivery>>())
            .unwrap_or_else(|e| panic!("GET {url}: {e}"))
    }
}
