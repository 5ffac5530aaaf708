//! How relayctl retries AWS calls (issues 10.11 and 11.1), and the `-v` log
//! line for every retry.
//!
//! The SDK's standard mode, with two budgets: a throttled call gets up to
//! [`THROTTLE_ATTEMPTS`] attempts, any other retryable failure (5xx, timeout,
//! connection reset) [`OTHER_ATTEMPTS`], so a persistent server error surfaces
//! within a second or two while throttling is waited out. Standard, not
//! adaptive: adaptive mode's client-wide rate limiter turned one throttle into
//! seconds of slowdown for every later call (11.1); pacing a fleet is the
//! caller's job, not the retry layer's.
//!
//! The SDK has no per-kind attempt budget, so [`RetryLog`] lowers the
//! request's `max_attempts` once a non-throttling failure has used its
//! budget: the standard strategy reads `RetryConfig` from the request's
//! config bag before each retry, and the interceptor's layer comes first.

use std::time::{Duration, Instant};

use aws_smithy_runtime::client::retries::classifiers::run_classifiers_on_ctx;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextMut,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpResponse, Metadata};
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::retries::classifiers::{RetryAction, RetryReason};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::retry::{ErrorKind, RetryConfig};

/// Attempts for a throttled call: its backoff doubles from
/// [`INITIAL_BACKOFF`] up to [`MAX_BACKOFF`], at most ~16 s in all.
pub const THROTTLE_ATTEMPTS: u32 = 8;
/// Failed attempts allowed for server errors or transient failures (not
/// counting throttles): at most ~1.4 s of backoff when they come in a row.
pub const OTHER_ATTEMPTS: u32 = 4;
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(200);
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Whether the user chose the retry behaviour (AWS_MAX_ATTEMPTS or
/// AWS_RETRY_MODE, applied by aws-config): then it wins, uncapped.
pub fn user_configured() -> bool {
    std::env::var_os("AWS_MAX_ATTEMPTS").is_some() || std::env::var_os("AWS_RETRY_MODE").is_some()
}

/// relayctl's retry configuration.
pub fn config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(THROTTLE_ATTEMPTS)
        .with_initial_backoff(INITIAL_BACKOFF)
        .with_max_backoff(MAX_BACKOFF)
}

/// Logs each retry at `-v`; with `cap`, ends non-throttling retries after
/// [`OTHER_ATTEMPTS`] (off when the user chose AWS_MAX_ATTEMPTS / AWS_RETRY_MODE).
#[derive(Debug, Default)]
pub struct RetryLog {
    pub cap: bool,
}

/// What the last failed attempt of this request was, for the next attempt's log line.
#[derive(Debug, Clone)]
struct LastFailure {
    code: String,
    kind: &'static str,
    at: Instant,
}

/// How many attempts of this request failed with something other than throttling.
#[derive(Debug, Clone, Copy)]
struct OtherFailures(u32);

impl Storable for OtherFailures {
    type Storer = StoreReplace<OtherFailures>;
}

impl Storable for LastFailure {
    type Storer = StoreReplace<LastFailure>;
}

impl Intercept for RetryLog {
    fn name(&self) -> &'static str {
        "relayctl::RetryLog"
    }

    fn modify_before_attempt_completion(
        &self,
        context: &mut FinalizerInterceptorContextMut<'_>,
        runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let ctx = context.inner();
        if !ctx.is_failed() {
            return Ok(());
        }
        let kind = match run_classifiers_on_ctx(runtime_components.retry_classifiers(), ctx) {
            RetryAction::RetryIndicated(RetryReason::RetryableError { kind, .. }) => kind,
            // Not retryable: the strategy stops by itself.
            _ => return Ok(()),
        };
        let attempts = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
        // Only non-throttling failures count against their budget: three
        // throttles and then one 500 leave three more tries for the 500.
        let others = cfg.load::<OtherFailures>().map_or(0, |n| n.0)
            + u32::from(kind != ErrorKind::ThrottlingError);
        cfg.interceptor_state().store_put(OtherFailures(others));
        if self.cap
            && kind != ErrorKind::ThrottlingError
            && others >= OTHER_ATTEMPTS
            && let Some(retry) = cfg.load::<RetryConfig>()
            && retry.max_attempts() > attempts
        {
            let capped = retry.clone().with_max_attempts(attempts);
            cfg.interceptor_state().store_put(capped);
        }
        let code = ctx
            .response()
            .map(error_code)
            .unwrap_or_else(|| "no response".to_string());
        cfg.interceptor_state().store_put(LastFailure {
            code,
            kind: kind_label(kind),
            at: Instant::now(),
        });
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let attempt = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
        if attempt < 2 {
            return Ok(());
        }
        let Some(last) = cfg.load::<LastFailure>() else {
            return Ok(());
        };
        let (service, operation) = cfg
            .load::<Metadata>()
            .map_or(("aws", "call"), |m| (m.service(), m.name()));
        let max = cfg.load::<RetryConfig>().map_or(0, |r| r.max_attempts());
        let max = match last.kind {
            _ if !self.cap => max,
            "throttling" => max,
            _ => max.min(OTHER_ATTEMPTS),
        };
        tracing::info!(
            "retrying {service} {operation} after {} ({}): attempt {attempt} of {max}, after a {} ms delay",
            last.code,
            last.kind,
            last.at.elapsed().as_millis()
        );
        Ok(())
    }
}

fn kind_label(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ThrottlingError => "throttling",
        ErrorKind::ServerError => "server error",
        ErrorKind::TransientError => "transient error",
        ErrorKind::ClientError => "client error",
        _ => "retryable error",
    }
}

/// The service's error code from a response, for the log line only (the
/// retry decision comes from the SDK's typed classifiers): the
/// `x-amzn-ErrorType` / `x-amzn-query-error` headers (JSON and CBOR
/// protocols), `<Code>` (Query/XML), `__type` or `code` (JSON), else the
/// HTTP status.
fn error_code(response: &HttpResponse) -> String {
    let headers = response.headers();
    for header in ["x-amzn-query-error", "x-amzn-errortype"] {
        if let Some(v) = headers.get(header) {
            return clean_code(v.split([';', ':']).next().unwrap_or(v));
        }
    }
    let body = response.body().bytes().unwrap_or_default();
    let text = String::from_utf8_lossy(body);
    if let Some(start) = text.find("<Code>")
        && let Some(len) = text[start + 6..].find("</Code>")
    {
        return clean_code(&text[start + 6..start + 6 + len]);
    }
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(code) = json["__type"].as_str().or(json["code"].as_str())
    {
        return clean_code(code);
    }
    format!("HTTP {}", response.status().as_u16())
}

/// `aws.protocoltests#ThrottlingException` → `ThrottlingException`.
fn clean_code(code: &str) -> String {
    let code = code.rsplit('#').next().unwrap_or(code).trim();
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_')
        .take(64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_cleaned_for_the_log() {
        assert_eq!(clean_code("aws#ThrottlingException"), "ThrottlingException");
        assert_eq!(clean_code("Throttling\u{1b}[2J"), "Throttling2J");
    }
}
