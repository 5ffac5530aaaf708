//! `relayctl up`: build (or load) the handler, then converge AWS to the stack.

use std::process::ExitCode;

use super::output::apply_and_report;
use super::session::{Foreign, Session, load_package, load_stack};
use super::{Error, Result};
use crate::cli::{Global, UpArgs};
use crate::plan::Plan;
use crate::resources::parameter;
use crate::secret::Secret;

pub async fn run(g: &Global, args: &UpArgs) -> Result<ExitCode> {
    let stack = load_stack(g)?;
    // With webhook_url_ssm the URL never passes through here: the handler
    // reads the parameter itself.
    let webhook = match stack.slack.webhook_url_ssm {
        Some(_) => None,
        None => Some(Secret::new(stack.webhook_url()?)),
    };
    let package = load_package(&stack, &args.package)?;
    let s = Session::open(g, stack, webhook, Some(package), Foreign::Refuse).await?;
    // Before any write: a function whose parameter is missing would lose
    // every alarm.
    if let Some(why) = parameter::unusable(&s.ctx, &s.live) {
        return Err(Error::NoSecret(why));
    }
    let plan = Plan::up(&s.ctx, &s.live);
    let nothing = plan.render_text();
    apply_and_report(&s.ctx, &plan, g.output, nothing, true, |n| {
        format!("Applied {n} change(s) to stack {}.", plan.stack)
    })
    .await
}
