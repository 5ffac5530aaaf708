//! relay-handler: CloudWatch alarm (via SNS or direct invoke) -> Slack.
//!
//! `main.rs` builds the HTTP client and config once; each invocation comes
//! through [`Relay::handle`]: parse ([`event`]), render ([`render`]), post
//! ([`deliver`]) one Slack message per notification.

pub mod config;
pub mod deliver;
pub mod event;
pub mod regions;
pub mod render;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tracing::{error, info};

use crate::config::Config;
use crate::deliver::{DeliveryError, HttpClient, RetryPolicy, Slack};
use crate::event::Notification;

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
        let error_type = match e.first.slack_error() {
            Some(name) => format!("Slack.{name}"),
            None => "Slack.DeliveryFailed".to_owned(),
        };
        Self {
            error_type,
            error_message: e.to_string(),
        }
    }
}

pub struct Relay {
    slack: Slack,
    channel: Option<String>,
}

impl Relay {
    pub fn new(config: Config, client: HttpClient, policy: RetryPolicy) -> Self {
        Self {
            slack: Slack::new(client, config.webhook, policy),
            channel: config.channel,
        }
    }

    /// Posts every notification in `event`. Each is tried even when an
    /// earlier one failed; the invocation fails if any did.
    pub async fn handle(&self, event: &Value, deadline: Instant) -> Result<usize, HandlerError> {
        let notifications = event::parse_value(event);
        let total = notifications.len();
        let mut failed = 0;
        let mut first = None;
        for (index, notification) in notifications.iter().enumerate() {
            let message = render::render(notification, self.channel.as_deref());
            let (kind, name) = describe(notification);
            match self.slack.post(&message, deadline).await {
                Ok(attempts) => info!(index, kind, name, attempts, "posted to Slack"),
                Err(e) => {
                    error!(index, kind, name, slack_error = e.slack_error(), error = %e, "could not post to Slack");
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
