//! Delivery against a Slack mock: retries, Slack errors, the time budget,
//! and the webhook URL never reaching a log line or an error.

mod common;

use std::time::{Duration, Instant};

use common::Logs;
use relay_handler::deliver::{DeliveryError, RetryPolicy, Slack, https_client};
use relay_handler::webhook::WebhookUrl;
use relay_handler::{Relay, event, render};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const HOOK_PATH: &str = "/services/T0000000/B0000000/SeCrEtToKeN123";

/// What must never reach a log line.
const SECRETS: &[&str] = &[HOOK_PATH, "SeCrEtToKeN123"];

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 6,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
    }
}

fn slack_for(server: &MockServer, policy: RetryPolicy) -> Slack {
    let webhook = WebhookUrl::parse(&format!("{}{HOOK_PATH}", server.uri())).unwrap();
    Slack::new(https_client(), webhook, policy)
}

fn seed_message() -> render::SlackMessage {
    let raw = include_str!("fixtures/sns-alarm-seed-sample.json");
    render::render(&event::parse_str(raw)[0], None)
}

fn in_secs(s: u64) -> Instant {
    Instant::now() + Duration::from_secs(s)
}

#[tokio::test]
async fn delivers_on_200() {
    let (logs, _guard) = Logs::capture(tracing::Level::TRACE);
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(HOOK_PATH))
        .and(header("content-type", "application/json"))
        .and(body_string_contains(
            "Example alarm name state is now ALARM",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let attempts = slack_for(&server, fast_policy())
        .post(&seed_message(), in_secs(10))
        .await
        .unwrap();
    assert_eq!(attempts, 1);
    logs.assert_absent(SECRETS);
}

#[tokio::test]
async fn retries_429_after_retry_after() {
    let (logs, _guard) = Logs::capture(tracing::Level::TRACE);
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_string("rate_limited"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let attempts = slack_for(&server, fast_policy())
        .post(&seed_message(), in_secs(10))
        .await
        .unwrap();
    assert_eq!(attempts, 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "did not wait Retry-After: {:?}",
        started.elapsed()
    );
    assert!(
        logs.text().contains("HTTP 429 rate_limited"),
        "{}",
        logs.text()
    );
    logs.assert_absent(SECRETS);
}

#[tokio::test]
async fn retries_5xx_with_backoff() {
    let (logs, _guard) = Logs::capture(tracing::Level::TRACE);
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string("rollup_error"))
        .up_to_n_times(2)
        .with_priority(1)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let attempts = slack_for(&server, fast_policy())
        .post(&seed_message(), in_secs(10))
        .await
        .unwrap();
    assert_eq!(attempts, 3);
    logs.assert_absent(SECRETS);
}

#[tokio::test]
async fn slack_4xx_is_not_retried_and_is_logged_by_name() {
    let (logs, _guard) = Logs::capture(tracing::Level::TRACE);
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_string("channel_not_found"))
        .expect(1)
        .mount(&server)
        .await;
    let err = slack_for(&server, fast_policy())
        .post(&seed_message(), in_secs(10))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DeliveryError::Rejected { status: 404, name } if name == "channel_not_found"),
        "{err:?}"
    );
    assert!(logs.text().contains("channel_not_found"), "{}", logs.text());
    assert!(!err.to_string().contains(HOOK_PATH));
    logs.assert_absent(SECRETS);
}

#[tokio::test]
async fn slow_slack_cannot_outlast_the_deadline() {
    let (logs, _guard) = Logs::capture(tracing::Level::TRACE);
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("ok")
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&server)
        .await;
    let started = Instant::now();
    let budget = Duration::from_millis(600);
    let err = slack_for(&server, fast_policy())
        .post(&seed_message(), Instant::now() + budget)
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, DeliveryError::OutOfTime { .. }), "{err:?}");
    assert!(
        took < budget + Duration::from_millis(300),
        "overran the budget: {took:?}"
    );
    logs.assert_absent(SECRETS);
}

#[tokio::test]
async fn retry_after_beyond_the_deadline_fails_now() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "30"))
        .expect(1)
        .mount(&server)
        .await;
    let started = Instant::now();
    let err = slack_for(&server, fast_policy())
        .post(&seed_message(), in_secs(3))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeliveryError::OutOfTime { attempts: 1, .. }),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn connection_errors_are_retried_and_scrubbed() {
    let (logs, _guard) = Logs::capture(tracing::Level::TRACE);
    // A port with nothing listening: bind, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let webhook = WebhookUrl::parse(&format!("http://127.0.0.1:{port}{HOOK_PATH}")).unwrap();
    let slack = Slack::new(
        https_client(),
        webhook,
        RetryPolicy {
            max_attempts: 3,
            ..fast_policy()
        },
    );
    let err = slack.post(&seed_message(), in_secs(10)).await.unwrap_err();
    assert!(
        matches!(&err, DeliveryError::GaveUp { attempts: 3, last } if last.starts_with("connection error")),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("SeCrEtToKeN123"));
    logs.assert_absent(SECRETS);
}

#[tokio::test]
async fn one_failing_record_does_not_stop_the_others() {
    let (logs, _guard) = Logs::capture(tracing::Level::TRACE);
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("web-1 high CPU"))
        .respond_with(ResponseTemplate::new(410).set_body_string("channel_is_archived"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("api 5xx rate"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(&server)
        .await;
    let webhook = WebhookUrl::parse(&format!("{}{HOOK_PATH}", server.uri())).unwrap();
    let relay = Relay::new(
        webhook,
        Some("#alerts".into()),
        https_client(),
        fast_policy(),
    );
    let event: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/sns-alarm-multiple-records.json")).unwrap();
    let err = relay.handle(&event, in_secs(10)).await.unwrap_err();
    assert_eq!((err.failed, err.total), (1, 2));
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "Slack.channel_is_archived");
    assert!(!diagnostic.error_message.contains(HOOK_PATH));
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests
            .iter()
            .all(|r| String::from_utf8_lossy(&r.body).contains("\"channel\":\"#alerts\""))
    );
    logs.assert_absent(SECRETS);
}

/// Issue 11 item 5: a 400 whose body echoes the request path, raw and
/// percent-encoded, leaves no part of it in the error, errorType or logs.
#[tokio::test]
async fn echoed_path_never_reaches_error_type_or_logs() {
    let (logs, _guard) = Logs::capture(tracing::Level::TRACE);
    let server = MockServer::start().await;
    let encoded = HOOK_PATH.replace('/', "%2F");
    let body = format!(
        "{pad}invalid_payload: POST {HOOK_PATH} ({encoded})",
        pad = "x".repeat(100)
    );
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_string(body))
        .expect(1)
        .mount(&server)
        .await;
    let webhook = WebhookUrl::parse(&format!("{}{HOOK_PATH}", server.uri())).unwrap();
    let relay = Relay::new(webhook, None, https_client(), fast_policy());
    let event: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/sns-alarm-seed-sample.json")).unwrap();
    let err = relay.handle(&event, in_secs(10)).await.unwrap_err();
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "Slack.UnexpectedAnswer");
    for part in ["SeCrEtToKeN123", "T0000000", "B0000000", "/services/T"] {
        assert!(
            !diagnostic.error_message.contains(part),
            "{part}: {}",
            diagnostic.error_message
        );
        assert!(!logs.text().contains(part), "{part}: {}", logs.text());
    }
    logs.assert_absent(SECRETS);
}

/// Log lines carry untrusted alarm names escaped: no raw ESC, no forged line.
#[tokio::test]
async fn hostile_alarm_names_are_escaped_in_logs() {
    let (logs, _guard) = Logs::capture(tracing::Level::TRACE);
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    let webhook = WebhookUrl::parse(&format!("{}{HOOK_PATH}", server.uri())).unwrap();
    let relay = Relay::new(webhook, None, https_client(), fast_policy());
    let name = format!(
        "evil\u{1b}]0;title\u{7}\nINFO posted to Slack fake=1{}",
        "n".repeat(5000)
    );
    let event = serde_json::json!({"AlarmName": name, "NewStateValue": "ALARM"});
    relay.handle(&event, in_secs(10)).await.unwrap();
    let text = logs.text();
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    let posted: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("posted to Slack"))
        .collect();
    assert_eq!(posted.len(), 1, "a forged line: {text}");
    assert!(
        posted[0].len() < 1_000,
        "the 5,000-character name was logged whole"
    );
}
