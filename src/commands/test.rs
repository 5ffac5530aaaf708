//! `relayctl test`: fire one alarm through the live chain and report the
//! handler's verdict.

use std::process::ExitCode;
use std::time::Duration;

use super::output::print;
use super::session::{Foreign, Session, load_stack};
use super::{Error, Result};
use crate::cli::{Global, TestArgs};
use crate::resources::{alarm, function};
use crate::smoke::{self, Verdict};

pub async fn run(g: &Global, args: &TestArgs) -> Result<ExitCode> {
    let stack = load_stack(g)?;
    let alarm = match &args.alarm {
        Some(name) => stack.alarms.iter().find(|a| &a.name == name),
        None => stack.alarms.first(),
    }
    .ok_or_else(|| Error::NoSuchAlarm(args.alarm.clone().unwrap_or_default()))?;
    let alarm = stack.alarm_name(alarm);
    let s = Session::open(g, stack, None, None, Foreign::Refuse).await?;
    if function::live(&s.live).is_none() {
        let name = s.ctx.stack.function_name();
        return Err(Error::NotUp(format!("{} {name}", function::KIND.label)));
    }
    // An entry with instances has one alarm per instance: the first will do.
    let per_instance = format!("{alarm}-i-");
    let Some(live_alarm) = alarm::live(&s.live)
        .iter()
        .find(|a| a.name == alarm || a.name.starts_with(&per_instance))
    else {
        return Err(Error::NotUp(format!("{} {alarm}", alarm::KIND.label)));
    };
    let alarm = live_alarm.name.clone();
    let already_in_alarm = live_alarm.state.as_deref() == Some("ALARM");
    let broken = smoke::broken_links(&s.ctx, &s.live);
    let group = s.ctx.stack.log_group_name();
    let waiting = format!(
        "setting {alarm} to ALARM, then watching {group} for up to {}s ...",
        args.wait
    );
    // A live line with the time waited on a terminal; one plain line otherwise.
    let spinner = super::progress::spinner(waiting.clone());
    if spinner.is_none() {
        eprintln!("{waiting}");
    }
    let wait = Duration::from_secs(args.wait);
    let verdict = smoke::fire(&s.ctx, &alarm, already_in_alarm, wait).await;
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    let verdict = verdict?;
    let ok = matches!(verdict, Verdict::Delivered { .. });
    let mut text = String::new();
    if already_in_alarm {
        text.push_str(&format!(
            "{alarm} was already in ALARM, and setting a state the alarm is in fires nothing: set it to INSUFFICIENT_DATA first (no action is attached to that state), then to ALARM.\n"
        ));
    }
    let source = match &s.ctx.stack.slack.webhook_url_ssm {
        Some(name) => format!("SSM parameter {name}: `relayctl secret set` stores a new one"),
        None => format!("{} at `up`", s.ctx.stack.slack.webhook_url_env),
    };
    text.push_str(&verdict_text(&verdict, &alarm, &group, &broken, &source));
    let json = serde_json::json!({"alarm": alarm, "delivered": ok, "detail": text.trim(), "missing": broken});
    print(g.output, text, json.to_string());
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What the verdict means for the user, with what to check next.
fn verdict_text(
    verdict: &Verdict,
    alarm: &str,
    group: &str,
    broken: &[String],
    source: &str,
) -> String {
    match verdict {
        Verdict::Delivered { after } => format!(
            "Slack accepted the test notification for {alarm} ({:.1}s after firing).\n",
            after.as_secs_f64()
        ),
        Verdict::Refused { line } => {
            let refusal = match smoke::slack_error_in(line) {
                Some(name) => format!("Slack refused the test notification for {alarm}: {name}"),
                None => {
                    format!("The handler ran but could not post the test notification for {alarm}")
                }
            };
            format!(
                "{refusal}. The handler logged:\n  {}\nCheck the webhook ({source}) and the channel.\n",
                smoke::printable(line.trim())
            )
        }
        Verdict::Silent { waited } => {
            let mut text = format!(
                "No delivery of {alarm} seen in {group} after {:.0}s: the alarm action, the subscription or the function did not run.\n",
                waited.as_secs_f64()
            );
            if broken.is_empty() {
                text.push_str("`relayctl status` shows the chain.\n");
            } else {
                text.push_str("Missing from the chain:\n");
                for link in broken {
                    text.push_str(&format!("  - {link}\n"));
                }
                text.push_str("`relayctl up` restores them.\n");
            }
            text
        }
    }
}
