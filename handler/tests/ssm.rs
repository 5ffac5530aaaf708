//! The webhook read from SSM (issue 13): a signed GetParameter at init, the
//! cached value for later invocations, one re-read when Slack says the hook
//! is gone, and SSM's errors named at init. SSM and Slack are wiremock
//! servers.

mod common;

use std::time::{Duration, Instant};

use common::Logs;
use relay_handler::Relay;
use relay_handler::deliver::{RetryPolicy, https_client};
use relay_handler::ssm::{ENDPOINT_SSM_VAR, SsmClient, SsmError};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PARAMETER: &str = "/relay/cpu-relay/slack-webhook";
const OLD_PATH: &str = "/services/T0SSM/B0OLD/oldSecretToken1";
const NEW_PATH: &str = "/services/T0SSM/B0NEW/newSecretToken2";
const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SESSION_TOKEN: &str = "session-token-example";

/// What must never reach a log line.
const SECRETS: &[&str] = &["oldSecretToken1", "newSecretToken2", "B0OLD", "B0NEW"];

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    }
}

fn ssm_client(ssm: &MockServer) -> SsmClient {
    let vars = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
        ),
        ("AWS_SESSION_TOKEN", SESSION_TOKEN.to_owned()),
        ("AWS_REGION", "eu-west-1".to_owned()),
        (ENDPOINT_SSM_VAR, ssm.uri()),
    ];
    SsmClient::from_lookup(https_client(), |var| {
        vars.iter().find(|(k, _)| *k == var).map(|(_, v)| v.clone())
    })
    .unwrap()
}

fn value(url: String) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "application/x-amz-json-1.1")
        .set_body_json(json!({"Parameter": {"Name": PARAMETER, "Type": "SecureString", "Value": url, "Version": 1}}))
}

fn ssm_error(status: u16, kind: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"__type": kind, "message": message}))
}

async fn relay(ssm: &MockServer) -> Result<Relay, SsmError> {
    Relay::with_ssm(
        ssm_client(ssm),
        PARAMETER.into(),
        None,
        https_client(),
        fast_policy(),
    )
    .await
}

fn seed_event() -> Value {
    serde_json::from_str(include_str!("fixtures/sns-alarm-seed-sample.json")).unwrap()
}

fn in_secs(s: u64) -> Instant {
    Instant::now() + Duration::from_secs(s)
}

async fn posts_to(slack: &MockServer, to: &str) -> usize {
    slack
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == to)
        .count()
}

#[tokio::test]
async fn get_parameter_is_a_signed_json_11_request() {
    let (ssm, slack) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .and(path("/"))
        .and(header("x-amz-target", "AmazonSSM.GetParameter"))
        .and(header("content-type", "application/x-amz-json-1.1"))
        .and(header("x-amz-security-token", SESSION_TOKEN))
        .and(body_json(
            json!({"Name": PARAMETER, "WithDecryption": true}),
        ))
        .respond_with(value(format!("{}{OLD_PATH}", slack.uri())))
        .expect(1)
        .mount(&ssm)
        .await;
    relay(&ssm).await.unwrap();

    let request = &ssm.received_requests().await.unwrap()[0];
    let text = |name: &str| {
        request
            .headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let amz_date = text("x-amz-date");
    assert_eq!(amz_date.len(), 16, "{amz_date}"); // 20261130T152400Z
    let authorization = text("authorization");
    let scope = format!(
        "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{}/eu-west-1/ssm/aws4_request, ",
        &amz_date[..8]
    );
    assert!(authorization.starts_with(&scope), "{authorization}");
    let signed = authorization
        .split("SignedHeaders=")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap();
    for needed in [
        "content-type",
        "host",
        "x-amz-date",
        "x-amz-target",
        "x-amz-security-token",
    ] {
        assert!(
            signed.split(';').any(|h| h == needed),
            "{needed} not signed: {signed}"
        );
    }
    let signature = authorization.rsplit("Signature=").next().unwrap();
    assert!(
        signature.len() == 64 && signature.bytes().all(|b| b.is_ascii_hexdigit()),
        "{signature}"
    );
    assert!(
        !authorization.contains("wJalrXUtnFEMI"),
        "the secret key is sent"
    );
}

#[tokio::test]
async fn the_parameter_is_read_once_for_many_invocations() {
    let (logs, _guard) = Logs::capture(tracing::Level::DEBUG);
    let (ssm, slack) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(value(format!("{}{OLD_PATH}", slack.uri())))
        .expect(1)
        .mount(&ssm)
        .await;
    Mock::given(method("POST"))
        .and(path(OLD_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(3)
        .mount(&slack)
        .await;
    let relay = relay(&ssm).await.unwrap();
    for _ in 0..3 {
        relay.handle(&seed_event(), in_secs(10)).await.unwrap();
    }
    ssm.verify().await;
    slack.verify().await;
    logs.assert_absent(SECRETS);
}

#[tokio::test]
async fn a_rotated_webhook_is_picked_up_without_a_redeploy() {
    let (logs, _guard) = Logs::capture(tracing::Level::DEBUG);
    let (ssm, slack) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(value(format!("{}{OLD_PATH}", slack.uri())))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&ssm)
        .await;
    Mock::given(method("POST"))
        .respond_with(value(format!("{}{NEW_PATH}", slack.uri())))
        .mount(&ssm)
        .await;
    Mock::given(method("POST"))
        .and(path(OLD_PATH))
        .respond_with(ResponseTemplate::new(404).set_body_string("no_service"))
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path(NEW_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&slack)
        .await;

    let relay = relay(&ssm).await.unwrap();
    assert_eq!(relay.handle(&seed_event(), in_secs(10)).await.unwrap(), 1);
    assert_eq!(
        ssm.received_requests().await.unwrap().len(),
        2,
        "init + one re-read"
    );
    assert_eq!(
        (
            posts_to(&slack, OLD_PATH).await,
            posts_to(&slack, NEW_PATH).await
        ),
        (1, 1)
    );

    // The new URL is kept: the next invocation neither re-reads nor tries the old one.
    relay.handle(&seed_event(), in_secs(10)).await.unwrap();
    assert_eq!(ssm.received_requests().await.unwrap().len(), 2);
    assert_eq!(
        (
            posts_to(&slack, OLD_PATH).await,
            posts_to(&slack, NEW_PATH).await
        ),
        (1, 2)
    );
    assert!(
        logs.text().contains("re-reading it from SSM"),
        "{}",
        logs.text()
    );
    logs.assert_absent(SECRETS);
}

#[tokio::test]
async fn only_one_re_read_per_invocation() {
    let (logs, _guard) = Logs::capture(tracing::Level::DEBUG);
    let (ssm, slack) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(value(format!("{}{OLD_PATH}", slack.uri())))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&ssm)
        .await;
    Mock::given(method("POST"))
        .respond_with(value(format!("{}{NEW_PATH}", slack.uri())))
        .mount(&ssm)
        .await;
    // Both hooks are dead: revoked and gone.
    Mock::given(method("POST"))
        .and(path(OLD_PATH))
        .respond_with(ResponseTemplate::new(403).set_body_string("invalid_token"))
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path(NEW_PATH))
        .respond_with(ResponseTemplate::new(410).set_body_string("no_active_hooks"))
        .mount(&slack)
        .await;
    let relay = relay(&ssm).await.unwrap();
    let two_records: Value =
        serde_json::from_str(include_str!("fixtures/sns-alarm-multiple-records.json")).unwrap();
    let err = relay.handle(&two_records, in_secs(10)).await.unwrap_err();
    assert_eq!((err.failed, err.total), (2, 2));
    assert_eq!(
        ssm.received_requests().await.unwrap().len(),
        2,
        "init + one re-read"
    );
    // Record 1: old (invalid_token), re-read, new (no_active_hooks); record 2: new only.
    assert_eq!(
        (
            posts_to(&slack, OLD_PATH).await,
            posts_to(&slack, NEW_PATH).await
        ),
        (1, 2)
    );
    logs.assert_absent(SECRETS);
}

#[tokio::test]
async fn an_unchanged_parameter_is_not_retried() {
    let (ssm, slack) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(value(format!("{}{OLD_PATH}", slack.uri())))
        .expect(2)
        .mount(&ssm)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_string("no_service"))
        .expect(1)
        .mount(&slack)
        .await;
    let relay = relay(&ssm).await.unwrap();
    let err = relay.handle(&seed_event(), in_secs(10)).await.unwrap_err();
    assert_eq!(err.first.slack_error(), Some("no_service"));
}

#[tokio::test]
async fn other_slack_errors_do_not_re_read() {
    let (ssm, slack) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(value(format!("{}{OLD_PATH}", slack.uri())))
        .expect(1)
        .mount(&ssm)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_string("invalid_payload"))
        .expect(1)
        .mount(&slack)
        .await;
    let relay = relay(&ssm).await.unwrap();
    relay.handle(&seed_event(), in_secs(10)).await.unwrap_err();
}

#[tokio::test]
async fn ssm_errors_at_init_are_named_with_a_hint() {
    for (status, kind, hint) in [
        (400, "ParameterNotFound", "relayctl secret set"),
        (400, "AccessDeniedException", "ssm:GetParameter"),
        (400, "InvalidKeyId", "KMS"),
    ] {
        let ssm = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ssm_error(status, kind, "details \u{1b}[31m from AWS"))
            .expect(1)
            .mount(&ssm)
            .await;
        let err = relay(&ssm).await.err().expect("init must fail");
        let shown = err.to_string();
        assert!(
            matches!(&err, SsmError::Service { code, .. } if code == kind),
            "{err:?}"
        );
        assert!(shown.contains(PARAMETER) && shown.contains(hint), "{shown}");
        assert!(!shown.contains('\u{1b}'), "{shown:?}");
    }
}

#[tokio::test]
async fn throttling_and_5xx_are_retried_at_init() {
    let (ssm, slack) = (MockServer::start().await, MockServer::start().await);
    Mock::given(method("POST"))
        .respond_with(ssm_error(400, "ThrottlingException", "Rate exceeded"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&ssm)
        .await;
    Mock::given(method("POST"))
        .respond_with(ssm_error(500, "InternalServerError", "oops"))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&ssm)
        .await;
    Mock::given(method("POST"))
        .respond_with(value(format!("{}{OLD_PATH}", slack.uri())))
        .with_priority(3)
        .mount(&ssm)
        .await;
    relay(&ssm).await.unwrap();
    assert_eq!(ssm.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_value_that_is_not_a_webhook_is_refused_without_echo() {
    let ssm = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(value(
            "http://example.com/services/T/B/leakedValue99".into(),
        ))
        .mount(&ssm)
        .await;
    let err = relay(&ssm).await.err().expect("init must fail");
    assert!(matches!(err, SsmError::BadValue { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("leakedValue99"), "{err}");
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_init_in_time() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let vars = [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "x".to_owned()),
        ("AWS_REGION", "eu-west-1".to_owned()),
        (ENDPOINT_SSM_VAR, format!("http://127.0.0.1:{port}")),
    ];
    let client = SsmClient::from_lookup(https_client(), |var| {
        vars.iter().find(|(k, _)| *k == var).map(|(_, v)| v.clone())
    })
    .unwrap();
    let started = Instant::now();
    let err = Relay::with_ssm(
        client,
        PARAMETER.into(),
        None,
        https_client(),
        fast_policy(),
    )
    .await
    .err()
    .expect("init must fail");
    assert!(matches!(err, SsmError::Transport { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
