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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
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

use crate::render::SlackMessage;
use crate::webhook::{Scrubber, WebhookUrl};

pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Slack's replies are a word or two; never buffer more than this.
const MAX_RESPONSE_BYTES: usize = 4 * 1024;
/// How much of a non-standard Slack answer is kept for logs and errors,
/// counted after scrubbing so a cut can never leave half a secret behind.
const MAX_SHOWN_ANSWER_CHARS: usize = 120;

/// Slack's answers meaning this webhook no longer exists or was revoked
/// (its incoming-webhook error list, plus the names its older hooks and the
/// Web API use for a dead token). A rotated secret can fix these; nothing
/// else about the message can.
const HOOK_GONE: &[&str] = &[
    "no_service",
    "no_service_id",
    "no_team",
    "team_disabled",
    "invalid_token",
    "token_revoked",
    "no_active_hooks",
    "account_inactive",
    "channel_is_archived",
];

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

    /// Slack says this webhook is gone or revoked: 404/410, or a name from
    /// its list of dead-hook answers. Only then is re-reading the secret
    /// worth a try; `channel_not_found` on a 404 is also read as gone, since
    /// a rotated hook may point at a new channel.
    pub fn hook_gone(&self) -> bool {
        match self {
            Self::Rejected { status, name } => {
                matches!(status, 404 | 410) || HOOK_GONE.contains(&name.as_str())
            }
            _ => false,
        }
    }
}

pub struct Slack {
    client: HttpClient,
    /// Replaced when the secret is rotated; read once per post, never held
    /// across an await.
    webhook: RwLock<(WebhookUrl, Scrubber)>,
    policy: RetryPolicy,
}

enum Outcome {
    Delivered,
    Retry { wait: Option<Duration>, why: String },
    Rejected { status: u16, name: String },
}

impl Slack {
    pub fn new(client: HttpClient, webhook: WebhookUrl, policy: RetryPolicy) -> Self {
        let scrubber = webhook.scrubber();
        Self {
            client,
            webhook: RwLock::new((webhook, scrubber)),
            policy,
        }
    }

    /// Posts to `webhook` from now on. Returns false when it is the URL
    /// already in use, so the caller knows a retry would change nothing.
    pub fn replace_webhook(&self, webhook: WebhookUrl) -> bool {
        let mut current = self.webhook.write().unwrap_or_else(|e| e.into_inner());
        if current.0 == webhook {
            return false;
        }
        let scrubber = webhook.scrubber();
        *current = (webhook, scrubber);
        true
    }

    fn current(&self) -> (WebhookUrl, Scrubber) {
        self.webhook
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `text` without the webhook in any spelling, then cut short; control
    /// characters become spaces so a log line stays one line.
    pub fn scrub_for_log(&self, text: &str) -> String {
        shown(&self.current().1, text)
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
        let (webhook, scrubber) = self.current();
        let mut last = String::from("not attempted");
        for attempt in 1..=self.policy.max_attempts {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(DeliveryError::OutOfTime {
                    attempts: attempt - 1,
                    last,
                });
            }
            let outcome = match tokio::time::timeout(
                remaining,
                self.attempt(&webhook, &scrubber, body.clone()),
            )
            .await
            {
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

    async fn attempt(
        &self,
        webhook: &WebhookUrl,
        scrubber: &Scrubber,
        body: Bytes,
    ) -> Result<Outcome, DeliveryError> {
        let request = Request::post(webhook.expose().clone())
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
                let why = format!("connection error: {}", shown(scrubber, &error_chain(&e)));
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
        let name = slack_error_name(scrubber, &body);
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

/// Slack answers errors with a bare name such as `channel_not_found`;
/// anything else is scrubbed, then cut short (issue 11: cutting first could
/// leave the start of the path, which no longer matches the secret).
fn slack_error_name(scrubber: &Scrubber, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty response)".into();
    }
    shown(scrubber, text)
}

/// Scrubbed first, then cut to [`MAX_SHOWN_ANSWER_CHARS`], control
/// characters (ESC, newlines, bidi overrides) as spaces.
fn shown(scrubber: &Scrubber, text: &str) -> String {
    let scrubbed = scrubber.scrub(text);
    let mut out: String = scrubbed
        .chars()
        .take(MAX_SHOWN_ANSWER_CHARS)
        .map(|c| {
            if crate::render::is_unsafe_char(c) {
                ' '
            } else {
                c
            }
        })
        .collect();
    if scrubbed.chars().nth(MAX_SHOWN_ANSWER_CHARS).is_some() {
        out.push('…');
    }
    out
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
    fn answers_are_scrubbed_before_they_are_cut() {
        let webhook =
            WebhookUrl::parse("https://hooks.example.com/services/T1AAAA/B2BBBB/SECRETSECRET")
                .unwrap();
        let scrubber = webhook.scrubber();
        assert_eq!(
            slack_error_name(&scrubber, b"channel_not_found\n"),
            "channel_not_found"
        );
        // Issue 11 item 5: the path starts right where the old code cut
        // (char 120), so truncating first left `/services/T1AAAA/B2B…`.
        let body = format!("{}/services/T1AAAA/B2BBBB/SECRETSECRET", "x".repeat(110));
        let name = slack_error_name(&scrubber, body.as_bytes());
        for part in ["SECRETSECRET", "T1AAAA", "B2BBBB", "/services/T1"] {
            assert!(!name.contains(part), "{part} in {name}");
        }
        assert!(name.chars().count() <= MAX_SHOWN_ANSWER_CHARS + 1, "{name}");
        let encoded = slack_error_name(
            &scrubber,
            b"invalid_payload for %2Fservices%2FT1AAAA%2FB2BBBB%2FSECRETSECRET",
        );
        assert!(!encoded.contains("SECRETSECRET"), "{encoded}");
        // A bare token is an "alphanumeric name" too: still scrubbed.
        assert_eq!(slack_error_name(&scrubber, b"SECRETSECRET"), "<redacted>");
        assert_eq!(
            slack_error_name(&scrubber, b"\x1b]0;owned\x07\nfake line"),
            " ]0;owned  fake line"
        );
    }

    #[test]
    fn hook_gone_means_a_rotation_may_help() {
        let rejected = |status, name: &str| DeliveryError::Rejected {
            status,
            name: name.into(),
        };
        assert!(rejected(404, "no_service").hook_gone());
        assert!(rejected(403, "invalid_token").hook_gone());
        assert!(rejected(410, "no_active_hooks").hook_gone());
        assert!(rejected(400, "no_service_id").hook_gone());
        assert!(!rejected(400, "invalid_payload").hook_gone());
        assert!(!rejected(403, "action_prohibited").hook_gone());
        assert!(
            !DeliveryError::GaveUp {
                attempts: 6,
                last: "HTTP 500".into()
            }
            .hook_gone()
        );
    }
}
