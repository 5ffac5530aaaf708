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
use crate::resources::{self, Ctx, Operation, Step};

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

/// The plan's changes as runs of one level each: writes upwards, then
/// deletes downwards.
fn levels(plan: &Plan) -> Vec<Vec<&Step>> {
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
    writes
        .into_values()
        .chain(deletes.into_values().rev())
        .collect()
}

/// Applies every change; returns how many were applied.
pub async fn apply(ctx: &Ctx, plan: &Plan, reporter: &dyn Reporter) -> Result<usize, ApplyError> {
    let levels = levels(plan);
    let attempted = levels.iter().map(Vec::len).sum();
    let mut done = 0;
    for level in levels {
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
