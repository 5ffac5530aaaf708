//! `relayctl down`: delete everything the stack owns, and only that.
//!
//! Destroy safety as in terraform: the deletions are shown first, then the
//! user types `yes` on a terminal; `--yes` / `--auto-approve` skips that,
//! and without a terminal and without `--yes` nothing is deleted.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use super::lock::{LockOf, with_lock};
use super::output::{apply_and_report, write_stdout};
use super::session::{Foreign, Session, load_stack};
use super::{Error, Result};
use crate::cli::{DownArgs, Global, Output};
use crate::plan::Plan;

pub async fn run(g: &Global, args: &DownArgs) -> Result<ExitCode> {
    let stack = load_stack(g)?;
    let ctx = Session::connect(g, stack, None, None).await?;
    let force = args.lock.force_unlock;
    // Nothing to delete: nothing is written, not even the lock.
    let s = Session::read(ctx, Foreign::Keep).await?;
    let plan = Plan::down(&s.ctx, &s.live);
    if !force && !plan.has_changes() {
        s.warn_foreign();
        return delete(g, args, s).await;
    }
    // Nobody can answer: refused before the lock is taken.
    unanswerable(args, &plan)?;
    // Deletions: shown, confirmed and applied from a read under the lock.
    let lock = LockOf::stack(&s.ctx);
    with_lock(lock, "down", force, async move {
        delete(g, args, Session::read(s.ctx, Foreign::Warn).await?).await
    })
    .await
}

async fn delete(g: &Global, args: &DownArgs, s: Session) -> Result<ExitCode> {
    let plan = Plan::down(&s.ctx, &s.live);
    let nothing = format!(
        "Nothing to delete: stack {} owns no resources here.\n",
        plan.stack
    );
    let mut show_plan = true;
    if plan.has_changes() && !args.yes {
        unanswerable(args, &plan)?;
        let count = plan.summary().delete;
        // The plan goes where `up`'s does (stdout, unless that is JSON); the
        // question to stderr.
        match g.output {
            Output::Text => write_stdout(&plan.render_text()),
            Output::Json => eprint!("{}", plan.render_text()),
        }
        show_plan = false;
        if !confirm(question(count, &plan.stack, &plan.account, &plan.region)).await? {
            return Err(Error::Cancelled);
        }
    }
    apply_and_report(&s.ctx, &plan, g.output, nothing, show_plan, |n| {
        format!("Deleted {n} resource(s) of stack {}.", plan.stack)
    })
    .await
}

/// Deletions to confirm, without `--yes`, and stdin is not a terminal.
fn unanswerable(args: &DownArgs, plan: &Plan) -> Result<()> {
    if plan.has_changes() && !args.yes && !std::io::stdin().is_terminal() {
        return Err(Error::NotConfirmed {
            stack: plan.stack.clone(),
            count: plan.summary().delete,
        });
    }
    Ok(())
}

/// `place`: the region, or the regions.
pub(in crate::commands) fn question(
    count: usize,
    stack: &str,
    account: &str,
    place: &str,
) -> String {
    format!(
        "\nDelete these {count} resource(s) of stack {stack} in account {account} ({place})?\n  \
         There is no undo. Only 'yes' will be accepted to approve.\n\n  Enter a value: "
    )
}

/// Terraform's question: only `yes` approves; anything else, or end of
/// input, cancels. Read on a blocking thread, so Ctrl-C (which the lock
/// catches) ends the wait.
pub(in crate::commands) async fn confirm(question: String) -> Result<bool> {
    let read = tokio::task::spawn_blocking(move || {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{question}");
        let _ = err.flush();
        drop(err);
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        Ok(answer)
    });
    let answer: std::io::Result<String> = read.await.expect("the question does not panic");
    let answer = answer.map_err(Error::Stdin)?;
    eprintln!();
    Ok(answer.trim() == "yes")
}
