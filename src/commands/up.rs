//! `relayctl up`: build (or load) the handler, then converge AWS to the stack.

use std::process::ExitCode;

use super::lock::{LockOf, with_lock};
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
    let ctx = Session::connect(g, stack, webhook, Some(package)).await?;
    let s = Session::read(ctx, Foreign::Refuse).await?;
    usable(&s)?;
    // Nothing to change: nothing is written, not even the lock.
    let force = args.lock.force_unlock;
    if !force && !Plan::up(&s.ctx, &s.live).has_changes() {
        return apply(g, s).await;
    }
    // Changes: planned again from a read under the lock, so a concurrent
    // run's half-done work is never taken for the state to build on.
    let lock = LockOf::stack(&s.ctx);
    with_lock(lock, "up", force, async move {
        apply(g, Session::read(s.ctx, Foreign::Refuse).await?).await
    })
    .await
}

/// Before any write: a function whose parameter is missing would lose
/// every alarm.
fn usable(s: &Session) -> Result<()> {
    match parameter::unusable(&s.ctx, &s.live) {
        Some(why) => Err(Error::NoSecret(why)),
        None => Ok(()),
    }
}

async fn apply(g: &Global, s: Session) -> Result<ExitCode> {
    usable(&s)?;
    let plan = Plan::up(&s.ctx, &s.live);
    let nothing = plan.render_text();
    apply_and_report(&s.ctx, &plan, g.output, nothing, true, |n| {
        format!("Applied {n} change(s) to stack {}.", plan.stack)
    })
    .await
}
