//! `relayctl test`: the seed's manual test step, automated. Sets one alarm
//! to ALARM (the only write), which makes CloudWatch run the alarm's
//! actions through the live chain, then watches the function's log group
//! for the handler's verdict on that alarm: posted, or Slack's error.
//! CloudWatch re-evaluates the alarm at its next period, which returns it
//! to its real state.
//!
//! AWS: SetAlarmState to the state the alarm is already in is no change and
//! fires nothing, so an alarm already in ALARM goes to INSUFFICIENT_DATA
//! first (relayctl attaches no action to that state), then to ALARM.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatch::types::StateValue;

use crate::aws::AwsError;
use crate::config::Route;

use crate::resources::{
    Calls, Ctx, LiveState, alarm, log_group, permission, single_live, subscription,
};

/// What the handler logs per notification (handler/src/lib.rs, `Relay::handle`).
pub const POSTED: &str = "posted to Slack";
pub const NOT_POSTED: &str = "could not post to Slack";

#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Slack answered ok; after how long.
    Delivered { after: Duration },
    /// The handler ran and Slack refused (or never answered): its log line.
    Refused { line: String },
    /// Nothing about this alarm in the function's log in time.
    Silent { waited: Duration },
}

/// The handler's verdict about `alarm` in one log line, if it is one.
pub fn verdict_in(line: &str, alarm: &str) -> Option<bool> {
    let about_alarm =
        line.contains(&format!("name=\"{alarm}\"")) || line.contains(&format!("name={alarm} "));
    if !about_alarm {
        return None;
    }
    if line.contains(NOT_POSTED) {
        Some(false)
    } else if line.contains(POSTED) {
        Some(true)
    } else {
        None
    }
}

/// Slack's error name (`invalid_token`, `channel_not_found`, ...) in the
/// handler's refusal line, its `slack_error="…"` field (or the Debug form
/// `slack_error=Some("…")`).
pub fn slack_error_in(line: &str) -> Option<&str> {
    let rest = line.split("slack_error=").nth(1)?;
    let rest = rest
        .strip_prefix("Some(")
        .unwrap_or(rest)
        .strip_prefix('"')?;
    let name = &rest[..rest.find('"')?];
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    plain.then_some(name)
}

/// A log line is untrusted text: control characters are shown escaped so
/// they cannot drive the terminal.
pub fn printable(line: &str) -> String {
    crate::display::untrusted(line)
}

/// The links of the chain that are missing live, each with what it breaks:
/// why a test notification may never arrive.
pub fn broken_links(ctx: &Ctx, live: &LiveState) -> Vec<String> {
    let mut broken = Vec::new();
    if single_live::<log_group::Live>(live).is_none() {
        broken.push(format!(
            "log group {} is missing: Lambda drops the handler's output, so its verdict cannot be seen",
            ctx.stack.log_group_name()
        ));
    }
    if ctx.stack.route == Route::Sns && subscription::live(live).is_empty() {
        broken.push(format!(
            "topic {} has no lambda subscription to {}: SNS delivers the alarm to nobody",
            ctx.stack.topic_name(),
            ctx.stack.function_name()
        ));
    }
    for want in permission::desired(ctx) {
        let present = permission::live(live).iter().any(|s| {
            s.sid == want.sid && s.principal == want.principal && s.source_arn == want.source_arn
        });
        if !present {
            broken.push(format!(
                "lambda permission {} is missing from {}'s resource policy: {} may not invoke the function (for {})",
                want.sid,
                ctx.stack.function_name(),
                want.principal,
                want.source_arn
            ));
        }
    }
    broken
}

/// Sets `alarm` to ALARM, from INSUFFICIENT_DATA first when `already_in_alarm`,
/// and watches the function's log for the handler's verdict.
pub async fn fire(
    ctx: &Ctx,
    alarm: &str,
    already_in_alarm: bool,
    wait: Duration,
) -> Result<Verdict, AwsError> {
    let started = Instant::now();
    let since_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let reason = format!(
        "relayctl test: a test notification through the chain of stack {}; CloudWatch restores the real state at the next evaluation",
        ctx.stack.name
    );
    let states = if already_in_alarm {
        vec![StateValue::InsufficientData, StateValue::Alarm]
    } else {
        vec![StateValue::Alarm]
    };
    for state in states {
        ctx.clients
            .cloudwatch
            .set_alarm_state()
            .alarm_name(alarm)
            .state_value(state)
            .state_reason(&reason)
            .send()
            .await
            .map_err(|e| AwsError::call(alarm::KIND.label, alarm, "SetAlarmState", e))?;
    }
    let group = ctx.stack.log_group_name();
    let mut delay = Duration::from_millis(500);
    loop {
        for line in log_lines_since(ctx, &group, since_ms).await? {
            match verdict_in(&line, alarm) {
                Some(true) => {
                    return Ok(Verdict::Delivered {
                        after: started.elapsed(),
                    });
                }
                Some(false) => return Ok(Verdict::Refused { line }),
                None => {}
            }
        }
        if started.elapsed() + delay > wait {
            return Ok(Verdict::Silent {
                waited: started.elapsed(),
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// Every log message in the group since `since_ms`, all streams, all pages.
async fn log_lines_since(ctx: &Ctx, group: &str, since_ms: i64) -> Result<Vec<String>, AwsError> {
    let pages = ctx
        .clients
        .logs
        .filter_log_events()
        .log_group_name(group)
        .start_time(since_ms)
        .into_paginator()
        .send()
        .try_collect()
        .await;
    // No group yet means no invocation yet.
    let calls = Calls::new(log_group::KIND, group);
    let pages = calls.found("FilterLogEvents", pages, |e| {
        e.is_resource_not_found_exception()
    })?;
    Ok(pages
        .unwrap_or_default()
        .iter()
        .flat_map(|page| page.events())
        .filter_map(|e| e.message().map(str::to_string))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_handlers_verdict_for_this_alarm_only() {
        let ok = r#" INFO posted to Slack index=0 kind="alarm" name="s-cpu" attempts=1"#;
        let bad = r#"ERROR could not post to Slack index=0 kind="alarm" name="s-cpu" slack_error=Some("channel_not_found")"#;
        assert_eq!(verdict_in(ok, "s-cpu"), Some(true));
        assert_eq!(verdict_in(bad, "s-cpu"), Some(false));
        assert_eq!(verdict_in(ok, "s-cpu2"), None, "another alarm's line");
        assert_eq!(verdict_in("START RequestId: 1", "s-cpu"), None);
    }

    #[test]
    fn finds_slacks_error_name_and_escapes_what_it_prints() {
        let bad =
            r#"ERROR could not post to Slack index=0 slack_error=Some("invalid_token") error=x"#;
        assert_eq!(slack_error_in(bad), Some("invalid_token"));
        let plain = r#"ERROR could not post to Slack slack_error="channel_not_found" error=x"#;
        assert_eq!(slack_error_in(plain), Some("channel_not_found"));
        assert_eq!(slack_error_in("slack_error=None"), None);
        assert_eq!(slack_error_in(r#"slack_error=Some("\x1b[2J")"#), None);
        assert_eq!(printable("a\x1b[31mb\nc"), "a\\u{1b}[31mb\\nc");
    }
}
