//! `up` and `down` in several regions: every region read and planned at
//! once, then every region's changes applied at once under one progress
//! display (each line names its region), then, for `down`, the shared IAM
//! role, once, when every region's part is gone.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::json;

use super::{Outcome, Verdict, finish, global_header, in_region, json_of, region_header};
use crate::apply::{self, Reporter};
use crate::aws::AwsError;
use crate::change::{Action, Change};
use crate::cli::{DownArgs, Global, Output, UpArgs};
use crate::commands::lock::{LockOf, with_locks};
use crate::commands::output::write_stdout;
use crate::commands::progress::Progress;
use crate::commands::session::{Foreign, Session, load_package, load_stack};
use crate::commands::{Error, Result};
use crate::config::Stack;
use crate::package::Package;
use crate::plan::Plan;
use crate::resources::{parameter, role};
use crate::secret::Secret;

/// A region read and planned; its error otherwise.
type Opened = Result<(Session, Plan)>;

pub async fn up(g: &Global, args: &UpArgs, regions: &[String]) -> Result<ExitCode> {
    let stack = load_stack(g)?;
    let webhook = match stack.slack.webhook_url_ssm {
        Some(_) => None,
        None => Some(Secret::new(stack.webhook_url()?)),
    };
    let package = load_package(&stack, &args.package)?;
    let open = || open_up(g, &stack, &webhook, &package, regions);
    let opened = open().await;
    let force = args.lock.force_unlock;
    // Nothing to change: nothing is written, not even a lock.
    if !force && count(&opened) == 0 {
        return Ok(apply_up(g, &stack.name, regions, &opened).await);
    }
    // Changes: every region locked, then read and planned again under the
    // locks, as a single-region `up` does.
    with_locks(locks(&opened), "up", force, async {
        let reopened = signalled(&opened, open().await);
        Ok(apply_up(g, &stack.name, regions, &reopened).await)
    })
    .await
}

/// Every region read and planned for `up` at once.
async fn open_up(
    g: &Global,
    stack: &Stack,
    webhook: &Option<Secret>,
    package: &Package,
    regions: &[String],
) -> Vec<Opened> {
    join_all(regions.iter().map(|region| {
        let (g, stack) = (in_region(g, region), stack.clone());
        let (webhook, package) = (webhook.clone(), package.clone());
        async move {
            let s = Session::open(&g, stack, webhook, Some(package), Foreign::Refuse).await?;
            // Before any write, as a single-region `up` checks it.
            if let Some(why) = parameter::unusable(&s.ctx, &s.live) {
                return Err(Error::NoSecret(why));
            }
            let plan = Plan::up(&s.ctx, &s.live);
            Ok((s, plan))
        }
    }))
    .await
}

async fn apply_up(g: &Global, stack: &str, regions: &[String], opened: &[Opened]) -> ExitCode {
    let progress = Progress::new(count(opened));
    let outcomes = apply_all(regions, opened, &progress, true, |plan, n| match n {
        None => plan.render_text(),
        Some(n) => format!("Applied {n} change(s) to stack {}.\n", plan.stack),
    })
    .await;
    progress.finish();
    finish(g, stack, &outcomes, None)
}

pub async fn down(g: &Global, args: &DownArgs, regions: &[String]) -> Result<ExitCode> {
    let stack = load_stack(g)?;
    let open = || open_down(g, &stack, regions);
    let opened = open().await;
    let force = args.lock.force_unlock;
    let count = deletions(&opened);
    // Nothing to delete: nothing is written, not even a lock.
    if !force && count == 0 {
        return delete_all(g, args, &stack, regions, &opened).await;
    }
    // Nobody can answer: refused before any lock is taken.
    unanswerable(args, &stack.name, count)?;
    // Deletions: shown, confirmed and applied from a read under the locks.
    with_locks(locks(&opened), "down", force, async {
        let reopened = signalled(&opened, open().await);
        delete_all(g, args, &stack, regions, &reopened).await
    })
    .await
}

/// Every region read and planned for `down` at once.
async fn open_down(g: &Global, stack: &Stack, regions: &[String]) -> Vec<Opened> {
    join_all(regions.iter().map(|region| {
        let (g, stack) = (in_region(g, region), stack.clone());
        async move {
            let s = Session::open(&g, stack, None, None, Foreign::Warn).await?;
            let mut plan = Plan::down(&s.ctx, &s.live);
            // Each region removes its own policy; the role goes below, once.
            role::keep_role(&s.ctx, &s.live, &mut plan.changes);
            Ok((s, plan))
        }
    }))
    .await
}

/// What `down` deletes over every region, the shared role included.
fn deletions(opened: &[Opened]) -> usize {
    ready(opened)
        .map(|(_, plan)| plan.summary().delete)
        .sum::<usize>()
        + usize::from(ready(opened).any(|(s, _)| role::exists(&s.live)))
}

async fn delete_all(
    g: &Global,
    args: &DownArgs,
    stack: &Stack,
    regions: &[String],
    opened: &[Opened],
) -> Result<ExitCode> {
    let role_there = ready(opened).any(|(s, _)| role::exists(&s.live));
    let role_name = stack.role_name();
    let count = deletions(opened);
    let mut show_plan = true;
    unanswerable(args, &stack.name, count)?;
    if count > 0 && !args.yes {
        let role = role_there.then_some(role_name.as_str());
        confirm_all(g, &stack.name, regions, opened, role, count).await?;
        show_plan = false;
    }
    let progress = Progress::new(count);
    let outcomes = apply_all(regions, opened, &progress, show_plan, |plan, n| match n {
        None => format!(
            "Nothing to delete: stack {} owns no resources here.\n",
            plan.stack
        ),
        Some(n) => format!("Deleted {n} resource(s) of stack {}.\n", plan.stack),
    })
    .await;
    let all_gone = outcomes.iter().all(|o| o.verdict != Verdict::Failed);
    let role = match ready(opened).next() {
        Some((s, _)) if role_there => Some(delete_role(s, all_gone, &progress).await),
        _ => None,
    };
    progress.finish();
    Ok(finish(g, &stack.name, &outcomes, role))
}

/// The lock of every region that was read, sorted by region: every run
/// takes them in the same order.
fn locks(opened: &[Opened]) -> Vec<LockOf> {
    let mut by_region: Vec<(&str, LockOf)> = ready(opened)
        .map(|(s, _)| (s.ctx.clients.region.as_str(), LockOf::stack(&s.ctx)))
        .collect();
    by_region.sort_by(|a, b| a.0.cmp(b.0));
    by_region.into_iter().map(|(_, lock)| lock).collect()
}

/// The sessions read again under the locks, each given its region's
/// "last level" signal from the session its lock was taken with, so the
/// lock's release check goes out alongside that region's last writes
/// (commands/lock.rs).
fn signalled(locked: &[Opened], mut reopened: Vec<Opened>) -> Vec<Opened> {
    for (s, _) in reopened.iter_mut().filter_map(|o| o.as_mut().ok()) {
        let region = &s.ctx.clients.region;
        if let Some((old, _)) = ready(locked).find(|(o, _)| &o.ctx.clients.region == region) {
            s.ctx.last_level = old.ctx.last_level.clone();
        }
    }
    reopened
}

/// The regions that were read and planned.
fn ready(opened: &[Opened]) -> impl Iterator<Item = &(Session, Plan)> {
    opened.iter().filter_map(|o| o.as_ref().ok())
}

/// The changes apply will report, over every region.
fn count(opened: &[Opened]) -> usize {
    ready(opened)
        .flat_map(|(_, plan)| &plan.changes)
        .filter(|s| s.op.is_some() && s.change.action != Action::NoOp)
        .count()
}

/// Applies every region's plan at once. `said(plan, None)` is what a region
/// with nothing to do reports, `said(plan, Some(n))` one that applied `n`.
async fn apply_all(
    regions: &[String],
    opened: &[Opened],
    progress: &Progress,
    show_plan: bool,
    said: impl Fn(&Plan, Option<usize>) -> String,
) -> Vec<Outcome> {
    let said = &said;
    join_all(regions.iter().zip(opened).map(|(region, o)| async move {
        let (s, plan) = match o {
            Ok(ready) => ready,
            Err(e) => return Outcome::failed(region, e),
        };
        let json = json_of(&plan.render_json());
        if !plan.has_changes() {
            return Outcome::new(region, said(plan, None), json, Verdict::Clean);
        }
        let reporter = InRegion { region, progress };
        match apply::apply(&s.ctx, plan, &reporter).await {
            Ok(n) => {
                let shown = if show_plan {
                    plan.render_text()
                } else {
                    String::new()
                };
                let text = format!("{shown}{}", said(plan, Some(n)));
                Outcome::new(region, text, json, Verdict::Clean)
            }
            Err(e) => Outcome::failed(region, &Error::Apply(e)),
        }
    }))
    .await
}

/// The shared role, once every region's part is gone: deleted when no
/// region's policy is left on it. Reported as the "role" outcome.
async fn delete_role(s: &Session, all_gone: bool, progress: &Progress) -> Outcome {
    let name = s.ctx.stack.role_name();
    let said = |deleted: bool, why: &str| {
        let json = json!({"name": name, "deleted": deleted, "why": why});
        let text = format!("iam role {name} (shared by every region): {why}\n");
        Outcome::new("role", text, json, Verdict::Clean)
    };
    if !all_gone {
        return said(
            false,
            "kept: not every region's part is gone (run `down` again)",
        );
    }
    let change = Change::new(role::KIND, &name, Action::Delete, Vec::new());
    let reporter = InRegion {
        region: "global",
        progress,
    };
    reporter.started(&change);
    let start = Instant::now();
    let deleted = role::delete_if_unused(&s.ctx).await;
    reporter.finished(&change, start.elapsed(), deleted.as_ref().err());
    match deleted {
        Ok(true) => said(true, "deleted: no region's policy is left on it"),
        Ok(false) => said(false, "kept: another region's policy is still on it"),
        Err(e) => {
            let mut failed = Outcome::failed("role", &Error::Aws(e));
            failed.json["name"] = json!(name);
            failed
        }
    }
}

/// Deletions to confirm, without `--yes`, and stdin is not a terminal.
fn unanswerable(args: &DownArgs, stack: &str, count: usize) -> Result<()> {
    if count > 0 && !args.yes && !std::io::stdin().is_terminal() {
        return Err(Error::NotConfirmed {
            stack: stack.to_string(),
            count,
        });
    }
    Ok(())
}

/// Terraform's question, once for every region; the plans go where `up`'s
/// go (stdout, unless that is JSON), the question to stderr.
async fn confirm_all(
    g: &Global,
    stack: &str,
    regions: &[String],
    opened: &[Opened],
    role: Option<&str>,
    count: usize,
) -> Result<()> {
    let mut shown = String::new();
    for (region, opened) in regions.iter().zip(opened) {
        if let Ok((_, plan)) = opened {
            shown.push_str(&format!(
                "{}{}\n",
                region_header(region),
                plan.render_text()
            ));
        }
    }
    if let Some(name) = role {
        shown.push_str(&format!(
            "{}- iam role {name} (delete, once every region's part is gone)\n",
            global_header("role")
        ));
    }
    match g.output {
        Output::Text => write_stdout(&shown),
        Output::Json => eprint!("{shown}"),
    }
    let account = opened
        .iter()
        .find_map(|o| o.as_ref().ok())
        .map(|(s, _)| s.ctx.clients.account.clone())
        .unwrap_or_default();
    let question = crate::commands::down::question(count, stack, &account, &regions.join(", "));
    match crate::commands::down::confirm(question).await? {
        true => Ok(()),
        false => Err(Error::Cancelled),
    }
}

/// Progress lines that name the region of each change.
struct InRegion<'a> {
    region: &'a str,
    progress: &'a Progress,
}

impl InRegion<'_> {
    fn named(&self, c: &Change) -> Change {
        let mut c = c.clone();
        c.name = format!("{} [{}]", c.name, self.region);
        c
    }
}

impl Reporter for InRegion<'_> {
    fn started(&self, c: &Change) {
        self.progress.started(&self.named(c));
    }

    fn finished(&self, c: &Change, elapsed: Duration, error: Option<&AwsError>) {
        self.progress.finished(&self.named(c), elapsed, error);
    }
}
