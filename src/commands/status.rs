//! `relayctl status`: the live chain, drift and state; reads only.

use std::process::ExitCode;

use super::Result;
use super::output::print;
use super::session::{Foreign, Session, load_stack, optional_webhook};
use crate::cli::{Global, StatusArgs};
use crate::plan::Plan;

pub async fn run(g: &Global, args: &StatusArgs) -> Result<ExitCode> {
    let stack = load_stack(g)?;
    // The webhook is compared only when it is set here; the code not at all.
    let webhook = optional_webhook(&stack);
    let s = Session::open(g, stack, webhook, None, Foreign::Keep).await?;
    let plan = Plan::up(&s.ctx, &s.live);
    let report = crate::status::build(&plan, &s.live);
    let json = serde_json::to_string_pretty(&report).expect("status serializes");
    print(g.output, report.render_text(), json);
    Ok(if args.detailed_exitcode && !report.in_sync {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
