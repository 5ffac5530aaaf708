//! Runs a plan over the dependency graph. Creates and updates go level by
//! level upwards (role, log group, topic; then function; then permission
//! and alarms; then subscription), deletes afterwards level by level
//! downwards. Independent changes of one level run at once, except
//! permission writes on one function, which AWS can drop when concurrent.
//! A failed level stops the run; what was done stays done, and the next
//! `up` (or `down`) picks up from the live state.

use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt, future::BoxFuture, stream};

use crate::aws::AwsError;
use crate::plan::{Action, Change, Kind, Plan};
use crate::resources::{self, Ctx, Op};

/// How many AWS writes run at once within one level.
const WRITES_AT_ONCE: usize = 8;

/// Progress, reported per change; the binary decides how to show it.
pub trait Reporter: Send + Sync {
    fn started(&self, change: &Change);
    fn finished(&self, change: &Change, elapsed: Duration, error: Option<&AwsError>);
}

/// A reporter that shows nothing (library use, tests).
pub struct Silent;

impl Reporter for Silent {
    fn started(&self, _: &Change) {}
    fn finished(&self, _: &Change, _: Duration, _: Option<&AwsError>) {}
}

#[derive(Debug, thiserror::Error)]
#[error("{} of {attempted} changes failed; {done} were applied before the stop (run the same command again to continue):\n{}", failures.len(), render_failures(failures))]
pub struct ApplyError {
    pub attempted: usize,
    pub done: usize,
    pub failures: Vec<AwsError>,
}

fn render_failures(failures: &[AwsError]) -> String {
    failures
        .iter()
        .map(|f| format!("  - {f}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub async fn apply(ctx: &Ctx, plan: &Plan, reporter: &dyn Reporter) -> Result<usize, ApplyError> {
    let (deletes, writes): (Vec<&Change>, Vec<&Change>) = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .partition(|c| c.action == Action::Delete);
    let mut levels: Vec<Vec<&Change>> = Vec::new();
    for level in 0..=3 {
        levels.push(
            writes
                .iter()
                .copied()
                .filter(|c| c.kind.level() == level)
                .collect(),
        );
    }
    for level in (0..=3).rev() {
        levels.push(
            deletes
                .iter()
                .copied()
                .filter(|c| c.kind.level() == level)
                .collect(),
        );
    }
    let attempted = writes.len() + deletes.len();
    let mut done = 0;
    for level in levels.into_iter().filter(|l| !l.is_empty()) {
        let results: Vec<Result<usize, Vec<AwsError>>> = stream::iter(tasks(ctx, level, reporter))
            .buffer_unordered(WRITES_AT_ONCE)
            .collect()
            .await;
        let mut failures = Vec::new();
        for r in results {
            match r {
                Ok(n) => done += n,
                Err(errs) => failures.extend(errs),
            }
        }
        if !failures.is_empty() {
            return Err(ApplyError {
                attempted,
                done,
                failures,
            });
        }
    }
    Ok(done)
}

type Task<'a> = BoxFuture<'a, Result<usize, Vec<AwsError>>>;

/// Splits one level into units of work that may run concurrently.
fn tasks<'a>(ctx: &'a Ctx, level: Vec<&'a Change>, reporter: &'a dyn Reporter) -> Vec<Task<'a>> {
    let (permissions, rest): (Vec<&Change>, Vec<&Change>) =
        level.into_iter().partition(|c| c.kind == Kind::Permission);
    let (alarm_deletes, singles): (Vec<&Change>, Vec<&Change>) = rest
        .into_iter()
        .partition(|c| c.kind == Kind::Alarm && c.action == Action::Delete);

    let mut tasks: Vec<Task<'a>> = singles
        .into_iter()
        .map(|c| {
            async move {
                run_one(ctx, c, reporter)
                    .await
                    .map(|_| 1)
                    .map_err(|e| vec![e])
            }
            .boxed()
        })
        .collect();
    if !permissions.is_empty() {
        // AWS: concurrent AddPermission/RemovePermission on one function can
        // lose statements (terraform serialises them too).
        tasks.push(
            async move {
                for c in &permissions {
                    run_one(ctx, c, reporter).await.map_err(|e| vec![e])?;
                }
                Ok(permissions.len())
            }
            .boxed(),
        );
    }
    if !alarm_deletes.is_empty() {
        tasks.push(async move { delete_alarms(ctx, &alarm_deletes, reporter).await }.boxed());
    }
    tasks
}

async fn run_one(ctx: &Ctx, change: &Change, reporter: &dyn Reporter) -> Result<(), AwsError> {
    let Some(op) = &change.op else { return Ok(()) };
    reporter.started(change);
    let start = Instant::now();
    let result = match op {
        Op::Role(op) => resources::role::apply(ctx, op).await,
        Op::LogGroup(op) => resources::log_group::apply(ctx, op).await,
        Op::Topic(op) => resources::topic::apply(ctx, op).await,
        Op::Function(op) => resources::function::apply(ctx, op).await,
        Op::Permission(op) => resources::permission::apply(ctx, op).await,
        Op::Alarm(op) => resources::alarm::apply(ctx, op).await,
        Op::Subscription(op) => resources::subscription::apply(ctx, op).await,
    };
    reporter.finished(change, start.elapsed(), result.as_ref().err());
    result
}

/// DeleteAlarms takes up to 100 names: one call for many alarm deletions.
async fn delete_alarms(
    ctx: &Ctx,
    changes: &[&Change],
    reporter: &dyn Reporter,
) -> Result<usize, Vec<AwsError>> {
    let names: Vec<String> = changes.iter().map(|c| c.name.clone()).collect();
    changes.iter().for_each(|c| reporter.started(c));
    let start = Instant::now();
    let result = resources::alarm::delete_many(ctx, &names).await;
    changes
        .iter()
        .for_each(|c| reporter.finished(c, start.elapsed(), result.as_ref().err()));
    result.map(|_| changes.len()).map_err(|e| vec![e])
}
