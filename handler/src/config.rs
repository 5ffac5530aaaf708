//! Handler configuration from the environment, validated once at init.
//!
//! The webhook URL is a credential (anyone holding it can post to the
//! channel), so it lives in [`WebhookUrl`], whose `Debug` and `Display` never
//! show the path, and no error here quotes it.

use std::fmt;

use hyper::Uri;

pub const WEBHOOK_VAR: &str = "SLACK_WEBHOOK_URL";
pub const CHANNEL_VAR: &str = "SLACK_CHANNEL";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{WEBHOOK_VAR} is not set; set it to the Slack incoming-webhook URL")]
    MissingWebhook,
    #[error("{WEBHOOK_VAR} is not a valid URL ({0}); expected https://hooks.slack.com/services/…")]
    InvalidWebhook(&'static str),
    #[error(
        "{WEBHOOK_VAR} must use https (plain http is allowed only for 127.0.0.1, localhost and [::1])"
    )]
    InsecureWebhook,
}

/// The Slack webhook URL. Formatting it prints only scheme and host.
#[derive(Clone)]
pub struct WebhookUrl(Uri);

impl WebhookUrl {
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ConfigError::MissingWebhook);
        }
        let uri: Uri = raw
            .parse()
            .map_err(|_| ConfigError::InvalidWebhook("cannot be parsed"))?;
        let host = uri.host().ok_or(ConfigError::InvalidWebhook("no host"))?;
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if is_loopback(host) => {}
            Some("http") => return Err(ConfigError::InsecureWebhook),
            _ => return Err(ConfigError::InvalidWebhook("scheme is not https")),
        }
        Ok(Self(uri))
    }

    /// The full URL, for building the request only. Never log it.
    pub(crate) fn expose(&self) -> &Uri {
        &self.0
    }

    /// Strings that must never reach a log line: the whole URL and its path.
    pub(crate) fn secrets(&self) -> [String; 2] {
        let full = self.0.to_string();
        let path = self
            .0
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        [full, path]
    }
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1")
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.0.scheme_str().unwrap_or("?");
        let host = self.0.host().unwrap_or("?");
        write!(f, "{scheme}://{host}/<redacted>")
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({self})")
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub webhook: WebhookUrl,
    /// Overrides the webhook's default channel when set (legacy webhooks honour it).
    pub channel: Option<String>,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_values(
            std::env::var(WEBHOOK_VAR).ok().as_deref(),
            std::env::var(CHANNEL_VAR).ok().as_deref(),
        )
    }

    pub fn from_values(webhook: Option<&str>, channel: Option<&str>) -> Result<Self, ConfigError> {
        let webhook = WebhookUrl::parse(webhook.ok_or(ConfigError::MissingWebhook)?)?;
        let channel = channel
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        Ok(Self { webhook, channel })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";

    #[test]
    fn accepts_https_and_loopback_http_only() {
        assert!(Config::from_values(Some(SECRET), None).is_ok());
        assert!(Config::from_values(Some("http://127.0.0.1:9/x"), None).is_ok());
        assert!(Config::from_values(Some("http://localhost/x"), None).is_ok());
        assert!(Config::from_values(Some("http://[::1]:80/x"), None).is_ok());
        assert_eq!(
            Config::from_values(Some("http://hooks.slack.com/services/x"), None).unwrap_err(),
            ConfigError::InsecureWebhook
        );
        assert!(matches!(
            Config::from_values(Some("ftp://example.com/x"), None),
            Err(ConfigError::InvalidWebhook(_))
        ));
        assert!(matches!(
            Config::from_values(Some("not a url"), None),
            Err(ConfigError::InvalidWebhook(_))
        ));
        assert_eq!(
            Config::from_values(None, None).unwrap_err(),
            ConfigError::MissingWebhook
        );
        assert_eq!(
            Config::from_values(Some("  "), None).unwrap_err(),
            ConfigError::MissingWebhook
        );
    }

    #[test]
    fn formatting_never_shows_the_path() {
        let config = Config::from_values(Some(SECRET), Some(" #ops ")).unwrap();
        for shown in [format!("{config:?}"), config.webhook.to_string()] {
            assert!(!shown.contains("XXXXSECRET"), "{shown}");
            assert!(!shown.contains("/services/"), "{shown}");
        }
        assert_eq!(config.channel.as_deref(), Some("#ops"));
    }

    #[test]
    fn errors_never_quote_the_value() {
        let err = Config::from_values(Some("http://example.com/services/T/B/SECRETTOKEN"), None)
            .unwrap_err();
        assert!(!err.to_string().contains("SECRETTOKEN"));
    }
}
