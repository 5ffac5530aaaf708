//! `relayctl up`: build (or load) the handler, then converge AWS to the stack.

use std::process::ExitCode;

use super::Result;
use super::output::apply_and_report;
use super::session::{Foreign, Session, load_package, load_stack};
use crate::cli::{Global, UpArgs};
use crate::plan::Plan;
use crate::secret::Secret;

pub async fn run(g: &Global, args: &UpArgs) -> Result<ExitCode> {
    let stack = load_stack(g)?;
    let webhook = Secret::new(stack.webhook_url()?);
    let package = load_package(&stack, &args.package)?;
    let s = Session::open(g, stack, Some(webhook), Some(package), Foreign::Refuse).await?;
    let plan = Plan::up(&s.ctx, &s.live);
    let nothing = plan.render_text();
    apply_and_report(&s.ctx, &plan, g.output, nothing, true, |n| {
        format!("Applied {n} change(s) to stack {}.", plan.stack)
    })
    .await
}
