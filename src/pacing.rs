//! Client-side pacing of AWS write calls at the account's request quotas,
//! so a fleet `up` goes as fast as the account allows instead of firing
//! 500 PutMetricAlarm calls and leaning on throttling retries.
//!
//! One token bucket per (service, operation), shared by the whole process:
//! a call waits for its token before it is sent. The bucket holds at most
//! half a second of calls, so the burst it lets out never uses more than
//! half of AWS's own bucket (which holds a second's worth) and the rest of
//! the run stays at the quota. Pacing never slows down after a throttle:
//! the SDK's retry layer (src/aws.rs) retries a throttled call with its
//! jittered backoff, and every other call keeps its pace.
//!
//! Quotas are per account and Region and shared by everything in it;
//! another client using the same quota can still cause a throttle, which
//! the SDK's retries then absorb.
//!
//! Override (for raised quotas, or tests against a fake with its own):
//! `RELAYCTL_PACE="cloudwatch.PutMetricAlarm=50,cloudwatch.DeleteAlarms=5"`;
//! a rate of 0 turns pacing off for that operation.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, OnceLock};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// AWS's default request quotas (requests per second per account and
/// Region) for the writes a fleet makes many of.
/// Source: Amazon CloudWatch User Guide, "CloudWatch service quotas"
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html>),
/// and the Service Quotas console, service "CloudWatch" (monitoring):
/// PutMetricAlarm and DeleteAlarms 3 TPS each. Check the console for
/// an account's applied values; raised quotas go in `RELAYCTL_PACE`.
const DEFAULT_QUOTAS: &[(&str, &str, u32)] = &[
    ("cloudwatch", "PutMetricAlarm", 3),
    ("cloudwatch", "DeleteAlarms", 3),
];

const OVERRIDE_ENV: &str = "RELAYCTL_PACE";

type Key = (&'static str, &'static str);

/// Waits until a call of `service` `operation` may be sent. Operations
/// without a quota here return at once.
pub async fn wait(service: &'static str, operation: &'static str) {
    if let Some(bucket) = bucket((service, operation)) {
        bucket.until_ready().await;
    }
}

fn bucket(key: Key) -> Option<Arc<DefaultDirectRateLimiter>> {
    static BUCKETS: OnceLock<Mutex<HashMap<Key, Option<Arc<DefaultDirectRateLimiter>>>>> =
        OnceLock::new();
    let overrides = overrides(std::env::var(OVERRIDE_ENV).ok().as_deref());
    let mut buckets = BUCKETS
        .get_or_init(Default::default)
        .lock()
        .expect("pacing lock is never poisoned");
    buckets
        .entry(key)
        .or_insert_with(|| {
            let rate = rate_for(key, &overrides)?;
            Some(Arc::new(RateLimiter::direct(quota(rate))))
        })
        .clone()
}

/// The rate for `key`: the override when given, else AWS's default; None
/// when unpaced.
fn rate_for(key: Key, overrides: &HashMap<(String, String), u32>) -> Option<NonZeroU32> {
    let (service, operation) = key;
    let rate = overrides
        .get(&(service.to_string(), operation.to_string()))
        .copied()
        .or_else(|| {
            DEFAULT_QUOTAS
                .iter()
                .find(|(s, o, _)| *s == service && *o == operation)
                .map(|(_, _, r)| *r)
        })?;
    NonZeroU32::new(rate)
}

/// `rate` calls a second, at most half a second's worth at once.
fn quota(rate: NonZeroU32) -> Quota {
    let burst = NonZeroU32::new(rate.get() / 2).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(rate).allow_burst(burst)
}

/// Parses `service.Operation=rate,...`; malformed entries are ignored with
/// a warning (pacing is an optimisation, never a reason to stop).
fn overrides(spec: Option<&str>) -> HashMap<(String, String), u32> {
    let mut out = HashMap::new();
    for entry in spec.unwrap_or_default().split(',').map(str::trim) {
        if entry.is_empty() {
            continue;
        }
        let parsed = entry.split_once('=').and_then(|(key, rate)| {
            let (service, op) = key.trim().split_once('.')?;
            Some((
                (service.to_string(), op.to_string()),
                rate.trim().parse().ok()?,
            ))
        });
        match parsed {
            Some((key, rate)) => {
                out.insert(key, rate);
            }
            None => tracing::warn!(
                "{OVERRIDE_ENV}: ignoring {entry:?} (want service.Operation=calls_per_second)"
            ),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_unless_overridden_and_zero_turns_pacing_off() {
        let none = overrides(None);
        let put = ("cloudwatch", "PutMetricAlarm");
        assert_eq!(rate_for(put, &none), NonZeroU32::new(3));
        assert_eq!(rate_for(("sns", "Subscribe"), &none), None);
        let set = overrides(Some("cloudwatch.PutMetricAlarm=50, sns.Subscribe=0, bogus"));
        assert_eq!(rate_for(put, &set), NonZeroU32::new(50));
        assert_eq!(rate_for(("sns", "Subscribe"), &set), None);
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn the_burst_is_half_a_second_of_calls() {
        let q = quota(NonZeroU32::new(50).unwrap());
        assert_eq!(q.burst_size().get(), 25);
        assert_eq!(quota(NonZeroU32::new(3).unwrap()).burst_size().get(), 1);
    }
}
