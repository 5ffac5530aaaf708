//! `relayctl plan`: what `up` would change; reads AWS, writes nothing.

use std::process::ExitCode;

use super::Result;
use super::output::print;
use super::session::{Foreign, Session, load_package, load_stack, optional_webhook};
use crate::cli::{Global, PlanArgs};
use crate::plan::Plan;

pub async fn run(g: &Global, args: &PlanArgs) -> Result<ExitCode> {
    let stack = load_stack(g)?;
    let webhook = optional_webhook(&stack);
    let package = load_package(&stack, &args.package)?;
    let s = Session::open(g, stack, webhook, Some(package), Foreign::Refuse).await?;
    let plan = Plan::up(&s.ctx, &s.live);
    print(g.output, plan.render_text(), plan.render_json());
    Ok(if args.detailed_exitcode && plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
