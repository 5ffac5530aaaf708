//! One Relay per process: the Slack client, the channel override, and,
//! when the webhook lives in SSM, how to read it again after a rotation.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tracing::{error, info, warn};

use crate::config::{Config, ConfigError, WebhookSource};
use crate::deliver::{DeliveryError, HttpClient, RetryPolicy, Slack};
use crate::event::Notification;
use crate::ssm::{SsmClient, SsmError};
use crate::webhook::WebhookUrl;

/// Lambda gives init 10 s; leave room to report a failure.
const INIT_SSM_BUDGET: Duration = Duration::from_secs(5);
/// Untrusted names in log lines are cut to this many characters.
const MAX_LOGGED_CHARS: usize = 200;

/// Left for reporting the failure to Lambda after the last retry gives up.
const DEADLINE_MARGIN: Duration = Duration::from_millis(300);

/// The invocation failed because at least one post did not get through.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} Slack post(s) failed; first: {first}")]
pub struct HandlerError {
    pub failed: usize,
    pub total: usize,
    pub first: DeliveryError,
}

/// What Lambda records as the failed invocation's errorType / errorMessage:
/// Slack's own error name when it gave one, so failure metrics group by cause.
impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        // Only a bare Slack error name makes a metric dimension; a scrubbed
        // free-text answer stays in the message.
        let error_type = match e.first.slack_error() {
            Some(name) if is_error_name(name) => format!("Slack.{name}"),
            Some(_) => "Slack.UnexpectedAnswer".to_owned(),
            None => "Slack.DeliveryFailed".to_owned(),
        };
        Self {
            error_type,
            error_message: e.to_string(),
        }
    }
}

/// Why the handler could not start; Lambda reports it as the init error.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("configuration error: {0}")]
    Config(#[from] ConfigError),
    #[error("could not read the Slack webhook: {0}")]
    Ssm(#[from] SsmError),
}

fn is_error_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The SSM parameter the webhook was read from, for re-reading it.
struct Secret {
    ssm: SsmClient,
    name: String,
}

pub struct Relay {
    slack: Slack,
    channel: Option<String>,
    secret: Option<Secret>,
}

impl Relay {
    /// Posts to a fixed webhook (`SLACK_WEBHOOK_URL`).
    pub fn new(
        webhook: WebhookUrl,
        channel: Option<String>,
        client: HttpClient,
        policy: RetryPolicy,
    ) -> Self {
        Self {
            slack: Slack::new(client, webhook, policy),
            channel,
            secret: None,
        }
    }

    /// Reads the webhook from the SSM parameter `name` now, and again when
    /// Slack says it is gone.
    pub async fn with_ssm(
        ssm: SsmClient,
        name: String,
        channel: Option<String>,
        client: HttpClient,
        policy: RetryPolicy,
    ) -> Result<Self, SsmError> {
        let webhook = ssm.webhook(&name, Instant::now() + INIT_SSM_BUDGET).await?;
        Ok(Self {
            slack: Slack::new(client, webhook, policy),
            channel,
            secret: Some(Secret { ssm, name }),
        })
    }

    /// The relay `config` describes; SSM settings come from the environment.
    pub async fn init(
        config: Config,
        client: HttpClient,
        policy: RetryPolicy,
    ) -> Result<Self, InitError> {
        Ok(match config.webhook {
            WebhookSource::Url(url) => Self::new(url, config.channel, client, policy),
            WebhookSource::SsmParameter(name) => {
                let ssm = SsmClient::from_env(client.clone())?;
                Self::with_ssm(ssm, name, config.channel, client, policy).await?
            }
        })
    }

    /// Posts every notification in `event`. Each is tried even when an
    /// earlier one failed; the invocation fails if any did. When Slack says
    /// the webhook is gone and it came from SSM, the parameter is re-read
    /// once per invocation and the post retried if the URL changed.
    pub async fn handle(&self, event: &Value, deadline: Instant) -> Result<usize, HandlerError> {
        let notifications = crate::event::parse_value(event);
        let total = notifications.len();
        let mut failed = 0;
        let mut first = None;
        let mut reread = false;
        for (index, notification) in notifications.iter().enumerate() {
            let message = crate::render::render(notification, self.channel.as_deref());
            let (kind, name) = describe(notification);
            let name = for_log(name);
            let mut result = self.slack.post(&message, deadline).await;
            if let Err(e) = &result
                && e.hook_gone()
                && !reread
                && let Some(secret) = &self.secret
            {
                reread = true;
                if self.refresh(secret, e, deadline).await {
                    result = self.slack.post(&message, deadline).await;
                }
            }
            match result {
                Ok(attempts) => info!(index, kind, name = %name, attempts, "posted to Slack"),
                Err(e) => {
                    let slack_error = e.slack_error().map(for_log);
                    error!(index, kind, name = %name, slack_error = slack_error.as_deref(), error = %e, "could not post to Slack");
                    failed += 1;
                    first.get_or_insert(e);
                }
            }
        }
        match first {
            None => Ok(total),
            Some(first) => Err(HandlerError {
                failed,
                total,
                first,
            }),
        }
    }
}

impl Relay {
    /// Re-reads the webhook after Slack called it gone. True when a new URL
    /// is now in use, so a retry can succeed.
    async fn refresh(&self, secret: &Secret, why: &DeliveryError, deadline: Instant) -> bool {
        let why = why.slack_error().map(for_log).unwrap_or_default();
        warn!(slack_error = %why, parameter = %for_log(&secret.name), "Slack says the webhook is gone; re-reading it from SSM");
        match secret.ssm.webhook(&secret.name, deadline).await {
            Ok(webhook) => {
                let changed = self.slack.replace_webhook(webhook);
                if changed {
                    info!("the webhook in SSM has changed; retrying with the new one");
                } else {
                    warn!("the webhook in SSM is unchanged; not retrying");
                }
                changed
            }
            Err(e) => {
                error!(error = %e, "could not re-read the webhook from SSM");
                false
            }
        }
    }
}

/// An untrusted string as a log value: escaped (no raw control characters,
/// quotes or newlines that could forge a line) and cut short.
fn for_log(raw: &str) -> String {
    let mut out: String = raw
        .chars()
        .take(MAX_LOGGED_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if raw.chars().nth(MAX_LOGGED_CHARS).is_some() {
        out.push('…');
    }
    out
}

fn describe(notification: &Notification) -> (&'static str, &str) {
    match notification {
        Notification::Alarm(alarm) => ("alarm", alarm.name.as_str()),
        Notification::Other(other) => ("other", other.origin.as_str()),
    }
}

/// Converts Lambda's deadline (ms since the epoch) to an `Instant`, less a
/// margin so a failure can still be reported in time.
pub fn deadline_from_epoch_ms(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    // cargo-lambda's emulator sends the timeout itself (e.g. 600000) rather
    // than an epoch time; Lambda never sends a deadline before 2001, so a
    // value that small is read as milliseconds from now.
    let left = if deadline_ms < RELATIVE_DEADLINE_BELOW_MS {
        deadline_ms
    } else {
        deadline_ms.saturating_sub(now_ms)
    };
    Instant::now() + Duration::from_millis(left).saturating_sub(DEADLINE_MARGIN)
}

/// 2001-09-09 in epoch milliseconds.
const RELATIVE_DEADLINE_BELOW_MS: u64 = 1_000_000_000_000;

/// Log lines for CloudWatch: no timestamps (Lambda adds them), no colours,
/// level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` as a plain level name.
pub fn init_tracing() {
    let level = ["AWS_LAMBDA_LOG_LEVEL", "RUST_LOG"]
        .iter()
        .find_map(|var| std::env::var(var).ok()?.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt()
        .with_max_level(level)
        .without_time()
        .with_ansi(false)
        .with_target(false)
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_values_are_escaped_and_short() {
        assert_eq!(
            for_log("a\u{1b}[2J\nfake line\u{202E}"),
            "a\\u{1b}[2J\\nfake line\\u{202e}"
        );
        let long = for_log(&"é".repeat(10_000));
        assert_eq!(long.chars().count(), MAX_LOGGED_CHARS + 1);
    }

    #[test]
    fn deadline_accepts_epoch_and_emulator_values() {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let epoch =
            deadline_from_epoch_ms(now_ms + 3_000).saturating_duration_since(Instant::now());
        assert!(
            epoch > Duration::from_millis(2_500) && epoch <= Duration::from_millis(2_700),
            "{epoch:?}"
        );
        let relative = deadline_from_epoch_ms(600_000).saturating_duration_since(Instant::now());
        assert!(
            relative > Duration::from_secs(599) && relative <= Duration::from_secs(600),
            "{relative:?}"
        );
        assert_eq!(
            deadline_from_epoch_ms(now_ms - 5_000).saturating_duration_since(Instant::now()),
            Duration::ZERO
        );
    }
}
