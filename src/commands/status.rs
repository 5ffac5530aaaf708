//! `relayctl status`: the live chain, drift and state; reads only.

use std::process::ExitCode;

use super::Result;
use super::output::print;
use super::session::{Foreign, Session, load_stack, optional_webhook};
use crate::cli::{Global, StatusArgs};
use crate::display::untrusted;
use crate::lock::{self, Holder};
use crate::plan::Plan;

pub async fn run(g: &Global, args: &StatusArgs) -> Result<ExitCode> {
    let stack = load_stack(g)?;
    // The webhook is compared only when it is set here; the code not at all.
    let webhook = optional_webhook(&stack);
    let s = Session::open(g, stack, webhook, None, Foreign::Keep).await?;
    let plan = Plan::up(&s.ctx, &s.live);
    let mut report = crate::status::build(&plan, &s.live);
    report.lock = held_lock(&s).await;
    let json = serde_json::to_string_pretty(&report).expect("status serializes");
    print(g.output, report.render_text(), json);
    Ok(if args.detailed_exitcode && !report.in_sync {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// The stack's lock when a run holds it. Not being allowed to read it
/// (ssm:GetParameter) does not stop `status`: said on stderr.
async fn held_lock(s: &Session) -> Option<Holder> {
    match lock::read(&s.ctx.clients.ssm, &s.ctx.stack.name).await {
        Ok(found) => found.map(Holder::from),
        Err(e) => {
            eprintln!(
                "warning: cannot tell whether the stack is locked: {}",
                untrusted(&e.to_string())
            );
            None
        }
    }
}
