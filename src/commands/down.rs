//! `relayctl down`: delete everything the stack owns, and only that.

use std::process::ExitCode;

use super::Result;
use super::output::apply_and_report;
use super::session::{Foreign, Session, load_stack};
use crate::cli::Global;
use crate::plan::Plan;

pub async fn run(g: &Global) -> Result<ExitCode> {
    let stack = load_stack(g)?;
    let s = Session::open(g, stack, None, None, Foreign::Warn).await?;
    let plan = Plan::down(&s.ctx, &s.live);
    let nothing = format!(
        "Nothing to delete: stack {} owns no resources here.\n",
        plan.stack
    );
    apply_and_report(&s.ctx, &plan, g.output, nothing, |n| {
        format!("Deleted {n} resource(s) of stack {}.", plan.stack)
    })
    .await
}
