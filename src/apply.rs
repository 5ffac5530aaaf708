//! Runs a plan over the dependency graph. Each kind's level comes from the
//! dependencies its resource module declares: creates and updates go level
//! by level upwards, deletes afterwards level by level downwards.
//! Independent changes of one level run at once, except ops that share a
//! lane (permission writes on one function, which AWS can drop when
//! concurrent; alarm deletes, which go in one batched call).
//! A failed level stops the run; what was done stays done, and the next
//! `up` (or `down`) picks up from the live state.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt, future::BoxFuture, stream};

use crate::aws::AwsError;
use crate::change::{Action, Change};
use crate::plan::Plan;
use crate::resources::{self, Ctx, Operation, Step, deferred};

/// How many AWS writes run at once within one level.
const WRITES_AT_ONCE: usize = 8;

/// Progress, reported per change; the binary decides how to show it.
pub trait Reporter: Send + Sync {
    fn started(&self, change: &Change);
    fn finished(&self, change: &Change, elapsed: Duration, error: Option<&AwsError>);
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

/// One dependency level's changes, all writes or all deletes.
struct Level<'a> {
    number: usize,
    deletes: bool,
    steps: Vec<&'a Step>,
}

/// The plan's changes as runs of one level each: writes upwards, then
/// deletes downwards.
fn levels(plan: &Plan) -> Vec<Level<'_>> {
    let mut writes: BTreeMap<usize, Vec<&Step>> = BTreeMap::new();
    let mut deletes: BTreeMap<usize, Vec<&Step>> = BTreeMap::new();
    for step in plan.changes.iter().filter(|s| s.op.is_some()) {
        let level = resources::level(step.change.kind);
        let side = match step.change.action {
            Action::Delete => &mut deletes,
            _ => &mut writes,
        };
        side.entry(level).or_default().push(step);
    }
    let level = |deletes| {
        move |(number, steps)| Level {
            number,
            deletes,
            steps,
        }
    };
    writes
        .into_iter()
        .map(level(false))
        .chain(deletes.into_iter().rev().map(level(true)))
        .collect()
}

/// Applies every change; returns how many were applied.
pub async fn apply(ctx: &Ctx, plan: &Plan, reporter: &dyn Reporter) -> Result<usize, ApplyError> {
    let levels = levels(plan);
    let attempted = levels.iter().map(|l| l.steps.len()).sum();
    let mut done = 0;
    let last = levels.len().saturating_sub(1);
    let mut previous: Option<usize> = None;
    for (i, level) in levels.into_iter().enumerate() {
        // Deferred writes (resources/deferred.rs) may run alongside the
        // write level right above the one that started them, which needs
        // their resource to exist but not their effect; any other level
        // (one that can invoke the function) waits for them first.
        let mut earlier = ctx.deferred.take();
        let alongside = !level.deletes && previous.is_some_and(|p| level.number == p + 1);
        if !alongside {
            let failures = settle(&mut done, finish(std::mem::take(&mut earlier)).await);
            stop_on(failures, attempted, done)?;
        }
        previous = (!level.deletes).then_some(level.number);
        if i == last {
            ctx.last_level.notify_one();
        }
        let (results, earlier): (Vec<Result<usize, Vec<AwsError>>>, _) = futures::future::join(
            stream::iter(tasks(ctx, level.steps, reporter))
                .buffer_unordered(WRITES_AT_ONCE)
                .collect(),
            finish(earlier),
        )
        .await;
        let mut failures = Vec::new();
        for r in results {
            match r {
                Ok(n) => done += n,
                Err(errs) => failures.extend(errs),
            }
        }
        failures.extend(settle(&mut done, earlier));
        if !failures.is_empty() {
            // Never leave a deferred write unsent or unreported.
            failures.extend(settle(&mut done, finish(ctx.deferred.take()).await));
            stop_on(failures, attempted, done)?;
        }
    }
    let failures = settle(&mut done, finish(ctx.deferred.take()).await);
    stop_on(failures, attempted, done)?;
    Ok(done)
}

/// The run's error when anything failed.
fn stop_on(failures: Vec<AwsError>, attempted: usize, done: usize) -> Result<(), ApplyError> {
    match failures.is_empty() {
        true => Ok(()),
        false => Err(ApplyError {
            attempted,
            done,
            failures,
        }),
    }
}

/// Awaits deferred writes (resources/deferred.rs); their failures.
async fn finish(writes: Vec<deferred::Write>) -> Vec<AwsError> {
    futures::future::join_all(writes)
        .await
        .into_iter()
        .filter_map(Result::err)
        .collect()
}

/// A failed deferred write's change was counted done when its first write
/// succeeded: it is not done after all.
fn settle(done: &mut usize, failures: Vec<AwsError>) -> Vec<AwsError> {
    *done = done.saturating_sub(failures.len());
    failures
}

type Task<'a> = BoxFuture<'a, Result<usize, Vec<AwsError>>>;

/// Splits one level into units of work that may run concurrently: each
/// step on its own, or a lane of steps that must not overlap.
fn tasks<'a>(ctx: &'a Ctx, level: Vec<&'a Step>, reporter: &'a dyn Reporter) -> Vec<Task<'a>> {
    let mut lanes: BTreeMap<&'static str, Vec<&'a Step>> = BTreeMap::new();
    let mut tasks: Vec<Task<'a>> = Vec::new();
    for step in level {
        match step.op.as_deref().and_then(Operation::lane) {
            Some(lane) => lanes.entry(lane).or_default().push(step),
            None => tasks.push(
                async move {
                    run_one(ctx, step, reporter)
                        .await
                        .map(|_| 1)
                        .map_err(|e| vec![e])
                }
                .boxed(),
            ),
        }
    }
    tasks.extend(
        lanes
            .into_values()
            .map(|lane| run_lane(ctx, lane, reporter).boxed()),
    );
    tasks
}

async fn run_one(ctx: &Ctx, step: &Step, reporter: &dyn Reporter) -> Result<(), AwsError> {
    let Some(op) = &step.op else { return Ok(()) };
    reporter.started(&step.change);
    let start = Instant::now();
    let result = op.run(ctx).await;
    reporter.finished(&step.change, start.elapsed(), result.as_ref().err());
    result
}

/// A lane's steps in one batched call when their op offers one, else one
/// after another.
async fn run_lane(
    ctx: &Ctx,
    lane: Vec<&Step>,
    reporter: &dyn Reporter,
) -> Result<usize, Vec<AwsError>> {
    let ops: Vec<&dyn Operation> = lane.iter().filter_map(|s| s.op.as_deref()).collect();
    if let Some(batch) = ops.first().and_then(|op| op.run_batch(ctx, &ops)) {
        lane.iter().for_each(|s| reporter.started(&s.change));
        let start = Instant::now();
        let result = batch.await;
        lane.iter()
            .for_each(|s| reporter.finished(&s.change, start.elapsed(), result.as_ref().err()));
        return result.map(|()| lane.len()).map_err(|e| vec![e]);
    }
    for step in &lane {
        run_one(ctx, step, reporter).await.map_err(|e| vec![e])?;
    }
    Ok(lane.len())
}

impl ApplyError {
    /// The first remedy among the failures (each failure's own Display is
    /// already in the message).
    pub fn hint(&self) -> Option<String> {
        self.failures.iter().find_map(AwsError::hint)
    }
}
