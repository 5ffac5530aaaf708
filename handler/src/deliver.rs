//! Posts a Slack payload to the webhook, retrying what is worth retrying
//! inside the invocation's time budget.
//!
//! - 2xx: delivered.
//! - 429: wait `Retry-After` (seconds), then retry.
//! - 5xx, 408, connection errors: jittered exponential backoff, then retry.
//! - Other 4xx: Slack's error name (`channel_not_found`, `invalid_token`, …,
//!   sent as the plain-text body) is logged and returned; retrying cannot help.
//!
//! The webhook URL is a credential: no log line or error here contains it,
//! and transport errors are scrubbed because client errors may embed it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use hyper::{Request, StatusCode};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tracing::{error, warn};

use crate::config::WebhookUrl;
use crate::render::SlackMessage;

pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Slack's replies are a word or two; never buffer more than this.
const MAX_RESPONSE_BYTES: usize = 4 * 1024;

/// The one HTTPS client: rustls with the ring provider and compiled-in
/// webpki roots, so init reads no certificate store and seeds no
/// jitter-entropy source. Plain http is allowed only because config
/// restricts it to loopback hosts.
pub fn https_client() -> HttpClient {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports rustls' default protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let https = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(https)
}

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("Slack rejected the message: {name} (HTTP {status})")]
    Rejected { status: u16, name: String },
    #[error(
        "gave up after {attempts} attempt(s): no time left before the Lambda deadline (last: {last})"
    )]
    OutOfTime { attempts: u32, last: String },
    #[error("gave up after {attempts} attempts (last: {last})")]
    GaveUp { attempts: u32, last: String },
    #[error("could not build the request: {0}")]
    Request(String),
}

impl DeliveryError {
    /// Slack's error name, when Slack answered with one.
    pub fn slack_error(&self) -> Option<&str> {
        match self {
            Self::Rejected { name, .. } => Some(name),
            _ => None,
        }
    }
}

pub struct Slack {
    client: HttpClient,
    webhook: WebhookUrl,
    policy: RetryPolicy,
}

enum Outcome {
    Delivered,
    Retry { wait: Option<Duration>, why: String },
    Rejected { status: u16, name: String },
}

impl Slack {
    pub fn new(client: HttpClient, webhook: WebhookUrl, policy: RetryPolicy) -> Self {
        Self {
            client,
            webhook,
            policy,
        }
    }

    /// Posts `message`, retrying until delivered, rejected, out of attempts,
    /// or out of time. Returns the number of attempts made.
    pub async fn post(
        &self,
        message: &SlackMessage,
        deadline: Instant,
    ) -> Result<u32, DeliveryError> {
        let body = Bytes::from(
            serde_json::to_vec(message).map_err(|e| DeliveryError::Request(e.to_string()))?,
        );
        let mut last = String::from("not attempted");
        for attempt in 1..=self.policy.max_attempts {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(DeliveryError::OutOfTime {
                    attempts: attempt - 1,
                    last,
                });
            }
            let outcome = match tokio::time::timeout(remaining, self.attempt(body.clone())).await {
                Ok(outcome) => outcome?,
                Err(_) => {
                    last = "no response before the deadline".into();
                    error!(attempt, "Slack did not answer before the Lambda deadline");
                    return Err(DeliveryError::OutOfTime {
                        attempts: attempt,
                        last,
                    });
                }
            };
            let (wait, why) = match outcome {
                Outcome::Delivered => return Ok(attempt),
                Outcome::Rejected { status, name } => {
                    error!(slack_error = %name, status, "Slack rejected the message; not retrying");
                    return Err(DeliveryError::Rejected { status, name });
                }
                Outcome::Retry { wait, why } => (wait, why),
            };
            last = why;
            if attempt == self.policy.max_attempts {
                break;
            }
            let wait = wait.unwrap_or_else(|| self.backoff(attempt));
            if Instant::now() + wait >= deadline {
                error!(attempt, wait_ms = wait.as_millis() as u64, last = %last, "no time left to retry the Slack post");
                return Err(DeliveryError::OutOfTime {
                    attempts: attempt,
                    last,
                });
            }
            warn!(attempt, wait_ms = wait.as_millis() as u64, reason = %last, "Slack post failed; retrying");
            tokio::time::sleep(wait).await;
        }
        error!(attempts = self.policy.max_attempts, last = %last, "Slack post failed; giving up");
        Err(DeliveryError::GaveUp {
            attempts: self.policy.max_attempts,
            last,
        })
    }

    async fn attempt(&self, body: Bytes) -> Result<Outcome, DeliveryError> {
        let request = Request::post(self.webhook.expose().clone())
            .header(CONTENT_TYPE, "application/json")
            .header(
                USER_AGENT,
                concat!("relay-handler/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(body))
            // The builder's error names the bad part, never the value.
            .map_err(|e| DeliveryError::Request(e.to_string()))?;
        let response = match self.client.request(request).await {
            Ok(response) => response,
            Err(e) => {
                let why = format!("connection error: {}", self.scrub(&error_chain(&e)));
                return Ok(Outcome::Retry { wait: None, why });
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = match Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(_) => Bytes::new(),
        };
        let name = self.slack_error_name(&body);
        Ok(if status.is_success() {
            Outcome::Delivered
        } else if status == StatusCode::TOO_MANY_REQUESTS {
            Outcome::Retry {
                wait: Some(retry_after.unwrap_or(self.policy.max_delay)),
                why: format!("HTTP 429 {name}"),
            }
        } else if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            Outcome::Retry {
                wait: retry_after,
                why: format!("HTTP {} {name}", status.as_u16()),
            }
        } else {
            Outcome::Rejected {
                status: status.as_u16(),
                name,
            }
        })
    }

    /// Slack answers errors with a bare name such as `channel_not_found`;
    /// anything else is shown cut short and scrubbed.
    fn slack_error_name(&self, body: &[u8]) -> String {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        if text.is_empty() {
            return "(empty response)".into();
        }
        if text.len() <= 64 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return text.to_owned();
        }
        let short: String = text
            .chars()
            .take(120)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        self.scrub(&short)
    }

    /// Removes the webhook URL and its path from `text`.
    fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in self.webhook.secrets() {
            if secret.len() > 1 {
                out = out.replace(&secret, "<redacted>");
            }
        }
        out
    }

    /// Exponential with equal jitter: half the step fixed, half random, so
    /// concurrent invocations throttled together don't retry in lockstep.
    fn backoff(&self, attempt: u32) -> Duration {
        let step = self
            .policy
            .base_delay
            .saturating_mul(1 << (attempt - 1).min(16))
            .min(self.policy.max_delay);
        let half = step / 2;
        half + half.mul_f64(random_unit())
    }
}

/// `Retry-After` as delta-seconds (what Slack sends). HTTP-date values are
/// ignored and fall back to the default wait.
fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A number in [0, 1) for jitter. SplitMix64 over a time-seeded counter:
/// jitter needs spread, not unpredictability, and this avoids a rand/getrandom
/// dependency and any entropy read at start-up.
fn random_unit() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut z = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed) ^ seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let webhook = WebhookUrl::parse("http://127.0.0.1:1/x").unwrap();
        let slack = Slack::new(https_client(), webhook, RetryPolicy::default());
        for attempt in 1..=10 {
            let step =
                (Duration::from_millis(250) * (1 << (attempt - 1))).min(Duration::from_secs(4));
            let got = slack.backoff(attempt);
            assert!(got >= step / 2 && got <= step, "attempt {attempt}: {got:?}");
        }
        let a: Vec<_> = (0..8).map(|_| slack.backoff(3)).collect();
        assert!(a.windows(2).any(|w| w[0] != w[1]), "no jitter: {a:?}");
    }

    #[test]
    fn scrub_removes_url_and_path() {
        let webhook = WebhookUrl::parse("https://hooks.example/services/T1/B2/SECRET").unwrap();
        let slack = Slack::new(https_client(), webhook, RetryPolicy::default());
        let scrubbed = slack.scrub(
            "error sending https://hooks.example/services/T1/B2/SECRET and /services/T1/B2/SECRET",
        );
        assert!(!scrubbed.contains("SECRET"), "{scrubbed}");
        assert_eq!(
            slack.slack_error_name(b"channel_not_found\n"),
            "channel_not_found"
        );
        assert!(
            !slack
                .slack_error_name(b"<html>/services/T1/B2/SECRET</html>")
                .contains("SECRET")
        );
    }
}
