//! `relayctl down`: delete everything the stack owns, and only that.
//!
//! Destroy safety as in terraform: the deletions are shown first, then the
//! user types `yes` on a terminal; `--yes` / `--auto-approve` skips that,
//! and without a terminal and without `--yes` nothing is deleted.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use super::output::{apply_and_report, write_stdout};
use super::session::{Foreign, Session, load_stack};
use super::{Error, Result};
use crate::cli::{DownArgs, Global, Output};
use crate::plan::Plan;

pub async fn run(g: &Global, args: &DownArgs) -> Result<ExitCode> {
    let stack = load_stack(g)?;
    let s = Session::open(g, stack, None, None, Foreign::Warn).await?;
    let plan = Plan::down(&s.ctx, &s.live);
    let nothing = format!(
        "Nothing to delete: stack {} owns no resources here.\n",
        plan.stack
    );
    let mut show_plan = true;
    if plan.has_changes() && !args.yes {
        let count = plan.summary().delete;
        if !std::io::stdin().is_terminal() {
            return Err(Error::NotConfirmed {
                stack: plan.stack.clone(),
                count,
            });
        }
        // The plan goes where `up`'s does (stdout, unless that is JSON); the
        // question to stderr.
        match g.output {
            Output::Text => write_stdout(&plan.render_text()),
            Output::Json => eprint!("{}", plan.render_text()),
        }
        show_plan = false;
        if !confirm(count, &plan.stack, &plan.account, &plan.region)? {
            return Err(Error::Cancelled);
        }
    }
    apply_and_report(&s.ctx, &plan, g.output, nothing, show_plan, |n| {
        format!("Deleted {n} resource(s) of stack {}.", plan.stack)
    })
    .await
}

/// Terraform's question: only `yes` approves; anything else, or end of
/// input, cancels. `place`: the region, or the regions.
pub(in crate::commands) fn confirm(
    count: usize,
    stack: &str,
    account: &str,
    place: &str,
) -> Result<bool> {
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "\nDelete these {count} resource(s) of stack {stack} in account {account} ({place})?\n  \
         There is no undo. Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    );
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(Error::Stdin)?;
    eprintln!();
    Ok(answer.trim() == "yes")
}
