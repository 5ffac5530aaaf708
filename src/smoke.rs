//! `relayctl test`: the seed's manual test step, automated. Sets one alarm
//! to ALARM (the only write), which makes CloudWatch run the alarm's
//! actions through the live chain, then watches the function's log group
//! for the handler's verdict on that alarm: posted, or Slack's error.
//! CloudWatch re-evaluates the alarm at its next period, which returns it
//! to its real state.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatch::types::StateValue;

use crate::aws::AwsError;
use crate::resources::{Ctx, alarm, found, log_group};
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

pub async fn fire(ctx: &Ctx, alarm: &str, wait: Duration) -> Result<Verdict, AwsError> {
    let started = Instant::now();
    let since_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    ctx.clients
        .cloudwatch
        .set_alarm_state()
        .alarm_name(alarm)
        .state_value(StateValue::Alarm)
        .state_reason(format!(
            "relayctl test: a test notification through the chain of stack {}; CloudWatch restores the real state at the next evaluation",
            ctx.stack.name
        ))
        .send()
        .await
        .map_err(|e| AwsError::call(alarm::KIND.label, alarm, "SetAlarmState", e))?;
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
    let pages = found(
        pages,
        |e| e.is_resource_not_found_exception(),
        log_group::KIND.label,
        group,
        "FilterLogEvents",
    )?;
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
}
