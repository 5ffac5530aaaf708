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
    if !alarm::live(&s.live).iter().any(|a| a.name == alarm) {
        return Err(Error::NotUp(format!("{} {alarm}", alarm::KIND.label)));
    }
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
    let verdict = smoke::fire(&s.ctx, &alarm, Duration::from_secs(args.wait)).await;
    if let Some(spinner) = spinner {
        spinner.finish_and_clear();
    }
    let verdict = verdict?;
    let ok = matches!(verdict, Verdict::Delivered { .. });
    let text = match &verdict {
        Verdict::Delivered { after } => format!(
            "Slack accepted the test notification for {alarm} ({:.1}s after firing).\n",
            after.as_secs_f64()
        ),
        Verdict::Refused { line } => format!(
            "The handler ran but the post failed:\n  {}\nCheck the webhook (SLACK_WEBHOOK_URL at `up`) and the channel.\n",
            line.trim()
        ),
        Verdict::Silent { waited } => format!(
            "No delivery of {alarm} seen in {group} after {:.0}s: the alarm action, the subscription or the function did not run. `relayctl status` shows the chain.\n",
            waited.as_secs_f64()
        ),
    };
    let json = serde_json::json!({"alarm": alarm, "delivered": ok, "detail": text.trim()});
    print(g.output, text, json.to_string());
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
