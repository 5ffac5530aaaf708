//! Handler configuration from the environment, validated once at init.
//!
//! The webhook comes either from `SLACK_WEBHOOK_URL` (the URL itself) or
//! from `SLACK_WEBHOOK_SSM_PARAMETER` (the name of a SecureString the
//! handler reads at init, so the function's configuration never holds the
//! URL). Exactly one of the two must be set.

use crate::webhook::{WebhookError, WebhookUrl};

pub const WEBHOOK_VAR: &str = "SLACK_WEBHOOK_URL";
pub const WEBHOOK_SSM_VAR: &str = "SLACK_WEBHOOK_SSM_PARAMETER";
pub const CHANNEL_VAR: &str = "SLACK_CHANNEL";

/// SSM's own limit for a parameter name or ARN.
const MAX_PARAMETER_NAME_LEN: usize = 2048;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error(
        "neither {WEBHOOK_VAR} nor {WEBHOOK_SSM_VAR} is set; set one to the Slack incoming-webhook URL or to the SSM parameter holding it"
    )]
    MissingWebhook,
    #[error("both {WEBHOOK_VAR} and {WEBHOOK_SSM_VAR} are set; set only one")]
    BothWebhookSources,
    #[error("{WEBHOOK_VAR}: {0}")]
    InvalidWebhook(WebhookError),
    #[error(
        "{WEBHOOK_SSM_VAR} is not an SSM parameter name ({0}); expected e.g. /relay/cpu-relay/slack-webhook"
    )]
    InvalidParameterName(&'static str),
}

/// Where the webhook URL comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookSource {
    Url(WebhookUrl),
    /// An SSM SecureString name (or ARN), read at init and re-read when
    /// Slack says the hook is gone.
    SsmParameter(String),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub webhook: WebhookSource,
    /// Overrides the webhook's default channel when set (legacy webhooks honour it).
    pub channel: Option<String>,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|var| std::env::var(var).ok())
    }

    /// `from_env` with the lookup injected, so tests need not mutate the
    /// process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |var| lookup(var).filter(|v: &String| !v.trim().is_empty());
        let webhook = match (set(WEBHOOK_VAR), set(WEBHOOK_SSM_VAR)) {
            (Some(_), Some(_)) => return Err(ConfigError::BothWebhookSources),
            (None, None) => return Err(ConfigError::MissingWebhook),
            (Some(url), None) => {
                WebhookSource::Url(WebhookUrl::parse(&url).map_err(ConfigError::InvalidWebhook)?)
            }
            (None, Some(name)) => WebhookSource::SsmParameter(parameter_name(&name)?),
        };
        Ok(Self {
            webhook,
            channel: channel(lookup(CHANNEL_VAR).as_deref()),
        })
    }

    /// A config posting to `webhook` directly.
    pub fn from_values(
        webhook: Option<&str>,
        channel_override: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let url = webhook
            .filter(|w| !w.trim().is_empty())
            .ok_or(ConfigError::MissingWebhook)?;
        Ok(Self {
            webhook: WebhookSource::Url(
                WebhookUrl::parse(url).map_err(ConfigError::InvalidWebhook)?,
            ),
            channel: channel(channel_override),
        })
    }
}

fn channel(raw: Option<&str>) -> Option<String> {
    raw.map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
}

/// SSM's character set for names (plus `:` for an ARN), checked here so a
/// typo fails at init with a message rather than as an opaque SSM error.
fn parameter_name(raw: &str) -> Result<String, ConfigError> {
    let name = raw.trim();
    if name.len() > MAX_PARAMETER_NAME_LEN {
        return Err(ConfigError::InvalidParameterName(
            "longer than 2048 characters",
        ));
    }
    if name.contains("://") {
        return Err(ConfigError::InvalidParameterName(
            "it looks like a URL; put the URL in the parameter and its name here",
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_.-/:".contains(c);
    if !name.chars().all(allowed) {
        return Err(ConfigError::InvalidParameterName(
            "only letters, digits and _ . - / are allowed",
        ));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |var| {
            pairs
                .iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn url_from_the_environment() {
        let config =
            Config::from_lookup(env(&[(WEBHOOK_VAR, SECRET), (CHANNEL_VAR, " #ops ")])).unwrap();
        assert!(matches!(config.webhook, WebhookSource::Url(_)));
        assert_eq!(config.channel.as_deref(), Some("#ops"));
        assert!(!format!("{config:?}").contains("XXXXSECRET"));
    }

    #[test]
    fn ssm_parameter_name_from_the_environment() {
        let config = Config::from_lookup(env(&[(
            WEBHOOK_SSM_VAR,
            " /relay/cpu-relay/slack-webhook ",
        )]))
        .unwrap();
        assert_eq!(
            config.webhook,
            WebhookSource::SsmParameter("/relay/cpu-relay/slack-webhook".into())
        );
        let arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/relay/x";
        assert_eq!(
            Config::from_lookup(env(&[(WEBHOOK_SSM_VAR, arn)]))
                .unwrap()
                .webhook,
            WebhookSource::SsmParameter(arn.into())
        );
    }

    #[test]
    fn exactly_one_source() {
        assert_eq!(
            Config::from_lookup(env(&[])).unwrap_err(),
            ConfigError::MissingWebhook
        );
        assert_eq!(
            Config::from_lookup(env(&[(WEBHOOK_VAR, "  ")])).unwrap_err(),
            ConfigError::MissingWebhook
        );
        assert_eq!(
            Config::from_lookup(env(&[(WEBHOOK_VAR, SECRET), (WEBHOOK_SSM_VAR, "/x")]))
                .unwrap_err(),
            ConfigError::BothWebhookSources
        );
    }

    #[test]
    fn bad_values_are_named_without_being_echoed() {
        let err = Config::from_lookup(env(&[(
            WEBHOOK_VAR,
            "http://example.com/services/T/B/SECRETTOKEN",
        )]))
        .unwrap_err();
        assert_eq!(err, ConfigError::InvalidWebhook(WebhookError::Insecure));
        assert!(!err.to_string().contains("SECRETTOKEN"));
        // The URL pasted where the parameter name belongs.
        let err = Config::from_lookup(env(&[(WEBHOOK_SSM_VAR, SECRET)])).unwrap_err();
        assert!(matches!(err, ConfigError::InvalidParameterName(_)), "{err}");
        assert!(!err.to_string().contains("XXXXSECRET"));
        assert!(matches!(
            Config::from_lookup(env(&[(WEBHOOK_SSM_VAR, "/relay/a b")])),
            Err(ConfigError::InvalidParameterName(_))
        ));
    }
}
