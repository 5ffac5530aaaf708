//! The SSM read against the project's fake AWS (moto), not a mock: a
//! SecureString put there is what the handler posts to, and overwriting it
//! (rotation) is picked up after Slack answers 404 for the old hook.
//!
//! Uses the fake at `RELAYCTL_FAKE_AWS_URL` (scripts/test starts one), else
//! starts `tests/fake-aws/serve` for this test binary.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use relay_handler::Relay;
use relay_handler::deliver::{RetryPolicy, https_client};
use relay_handler::ssm::{ENDPOINT_SSM_VAR, SsmClient};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REGION: &str = "eu-west-1";

struct Fake {
    url: String,
    _child: Option<Child>,
}

fn fake_aws() -> &'static str {
    static FAKE: OnceLock<Fake> = OnceLock::new();
    &FAKE
        .get_or_init(|| {
            if let Ok(url) = std::env::var("RELAYCTL_FAKE_AWS_URL") {
                return Fake { url, _child: None };
            }
            let serve = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fake-aws/serve");
            let mut child = Command::new(serve)
                .args([
                    "--port",
                    "0",
                    "--parent-pid",
                    &std::process::id().to_string(),
                ])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("could not start {serve}: {e}"));
            let mut line = String::new();
            BufReader::new(child.stdout.take().unwrap())
                .read_line(&mut line)
                .unwrap();
            let url = line
                .strip_prefix("ready ")
                .unwrap_or_else(|| panic!("fake AWS said {line:?}"))
                .trim()
                .to_owned();
            Fake {
                url,
                _child: Some(child),
            }
        })
        .url
}

/// A fresh 12-digit access key id: the fake's account, so tests don't share parameters.
fn account() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:012}", (nanos % 900_000_000_000) + 100_000_000_000)
}

/// One signed SSM call, as the operator's `relayctl secret set` would make it.
async fn put_parameter(account: &str, name: &str, value: &str) {
    let body = json!({"Name": name, "Value": value, "Type": "SecureString", "Overwrite": true})
        .to_string();
    let url = format!("{}/", fake_aws());
    let host = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", "AmazonSSM.PutParameter"),
    ];
    let identity = Credentials::new(account, "secret", None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("ssm")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "POST",
        url.as_str(),
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = Request::post(url.as_str());
    for (k, v) in headers.iter().copied().chain(instructions.headers()) {
        request = request.header(k, v);
    }
    let response = https_client()
        .request(request.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let answer = response.into_body().collect().await.unwrap().to_bytes();
    assert!(status.is_success(), "PutParameter: {status} {answer:?}");
}

fn ssm_client(account: &str) -> SsmClient {
    let vars = [
        ("AWS_ACCESS_KEY_ID", account.to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "secret".to_owned()),
        ("AWS_SESSION_TOKEN", "token".to_owned()),
        ("AWS_REGION", REGION.to_owned()),
        (ENDPOINT_SSM_VAR, fake_aws().to_owned()),
    ];
    SsmClient::from_lookup(https_client(), |var| {
        vars.iter().find(|(k, _)| *k == var).map(|(_, v)| v.clone())
    })
    .unwrap()
}

#[tokio::test]
async fn reads_and_re_reads_a_secure_string_from_the_fake() {
    let account = account();
    let slack = MockServer::start().await;
    let (old, new) = (
        "/services/T0FAKE/B0OLD/fakeOld",
        "/services/T0FAKE/B0NEW/fakeNew",
    );
    Mock::given(method("POST"))
        .and(path(old))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path(old))
        .respond_with(ResponseTemplate::new(404).set_body_string("no_service"))
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path(new))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&slack)
        .await;
    let name = "/relay/handler-test/slack-webhook";
    put_parameter(&account, name, &format!("{}{old}", slack.uri())).await;

    let relay = Relay::with_ssm(
        ssm_client(&account),
        name.into(),
        None,
        https_client(),
        RetryPolicy::default(),
    )
    .await
    .unwrap();
    let event: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/sns-alarm-seed-sample.json")).unwrap();
    let deadline = || Instant::now() + Duration::from_secs(10);
    relay.handle(&event, deadline()).await.unwrap();

    // Rotate: the fake now holds the new hook; the old one answers 404.
    put_parameter(&account, name, &format!("{}{new}", slack.uri())).await;
    relay.handle(&event, deadline()).await.unwrap();
    let paths: Vec<String> = slack
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(paths, [old, old, new]);
}

#[tokio::test]
async fn a_missing_parameter_is_named_at_init() {
    let err = Relay::with_ssm(
        ssm_client(&account()),
        "/relay/handler-test/absent".into(),
        None,
        https_client(),
        RetryPolicy::default(),
    )
    .await
    .err()
    .expect("init must fail");
    let shown = err.to_string();
    assert!(shown.contains("ParameterNotFound"), "{shown}");
    assert!(shown.contains("/relay/handler-test/absent"), "{shown}");
}
