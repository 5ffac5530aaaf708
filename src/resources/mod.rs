//! One module per AWS resource kind, each with the same verbs: `read` (find
//! it and prove it ours), `desired` (what the stack wants), `diff` (a `Step`:
//! the change to show plus the op that makes it), and the op's create /
//! update / delete. This file holds what they share: the context, the
//! registry of kinds with their dependencies, live state, and the helpers
//! for tags, ownership, not-found-is-done and lost create races.
//!
//! Adding a resource kind: its own file, plus one line in [`REGISTRY`]
//! (and `mod` for the file). Its registration names the IAM actions it
//! calls (`iam.rs`), which `relayctl policy` grants.

pub mod alarm;
pub mod function;
pub mod log_group;
pub mod parameter;
pub mod permission;
pub mod role;
pub mod subscription;
pub mod topic;

mod aws_call;
pub mod deferred;
pub mod iam;
pub mod index;
mod state;
mod tags;
pub mod targets;

use std::any::Any;
use std::fmt;
use std::future::Future;

use futures::future::BoxFuture;
use serde::Serialize;

use crate::aws::{AwsError, Clients, ForeignOwner};
use crate::change::{Action, Change, Kind};
use crate::config::Stack;
use crate::package::Package;
use crate::secret::Secret;

pub use aws_call::{Calls, found, gone};
pub use state::LiveState;
use tags::tag_api;
use tags::tag_list;
pub use tags::{TagApi, TagDiff, Tags, converge_tags, diff_tags, render_tags};

/// Every resource kind relayctl manages: the one list a new kind joins.
pub const REGISTRY: &[Registration] = &[
    role::REGISTRATION,
    log_group::REGISTRATION,
    topic::REGISTRATION,
    function::REGISTRATION,
    permission::REGISTRATION,
    alarm::REGISTRATION,
    subscription::REGISTRATION,
    parameter::REGISTRATION,
];

/// Every IAM grant relayctl needs: each registered kind's, then the calls
/// outside the kinds (`iam::OTHER`).
pub fn iam_grants() -> impl Iterator<Item = &'static iam::Grant> {
    REGISTRY.iter().flat_map(|r| r.iam.iter()).chain(iam::OTHER)
}

/// What a resource module tells the rest of relayctl about itself.
pub struct Registration {
    pub kind: Kind,
    /// Kinds that must exist before this one is created (and that are
    /// deleted only after it); apply derives its order from these.
    pub depends_on: &'static [Kind],
    /// Reads this kind's live state into `LiveState`.
    pub read: for<'a> fn(&'a Ctx) -> BoxFuture<'a, Result<state::Part, AwsError>>,
    /// The steps that make live match the stack.
    pub up: fn(&Ctx, &LiveState) -> Vec<Step>,
    /// The steps that remove everything of this kind the stack owns.
    pub down: fn(&Ctx, &LiveState) -> Vec<Step>,
    /// The IAM actions its reads and ops call, and on what.
    pub iam: &'static [iam::Grant],
}

impl Registration {
    /// The registration of a kind with one resource or none per stack.
    pub const fn single<T: Single>(depends_on: &'static [Kind]) -> Registration {
        Registration {
            kind: T::KIND,
            depends_on,
            read: read_single::<T>,
            up: up_single::<T>,
            down: down_single::<T>,
            iam: T::IAM,
        }
    }
}

/// A kind with one resource or none per stack, implemented by its live type.
pub trait Single: Any + Send + Sync + Sized {
    const KIND: Kind;
    /// The IAM actions its reads and ops call (`relayctl policy`).
    const IAM: &'static [iam::Grant];
    /// The resource's name, derived from the stack.
    fn name(ctx: &Ctx) -> String;
    /// The resource if it exists, proven ours (else a Foreign error).
    fn read(ctx: &Ctx) -> impl Future<Output = Result<Option<Self>, AwsError>> + Send;
    /// The steps that take it from `live` to what the stack wants.
    fn plan(ctx: &Ctx, live: Option<&Self>) -> Vec<Step>;
    /// The op that deletes it.
    fn delete() -> impl Operation;
    /// The steps `down` takes for it (default: delete it).
    fn plan_down(ctx: &Ctx, _live: &Self) -> Vec<Step> {
        vec![Step::delete(Self::KIND, Self::name(ctx), Self::delete())]
    }
}

/// `impl Single for Live` in a module with the usual parts: `KIND`, an async
/// `read(ctx)`, `Op::Delete`, the name given here and, unless given, the
/// plan `vec![diff(ctx, live, desired(ctx))]`.
macro_rules! single_kind {
    (name: $name:expr) => {
        single_kind!(name: $name, plan: |ctx, live| vec![diff(ctx, live, desired(ctx))]);
    };
    (name: $name:expr, plan: $plan:expr) => {
        impl $crate::resources::Single for Live {
            const KIND: $crate::change::Kind = KIND;
            const IAM: &'static [$crate::resources::iam::Grant] = IAM;

            fn name(ctx: &$crate::resources::Ctx) -> String {
                ($name)(ctx)
            }

            fn read(
                ctx: &$crate::resources::Ctx,
            ) -> impl std::future::Future<Output = Result<Option<Live>, AwsError>> + Send {
                read(ctx)
            }

            fn plan(ctx: &$crate::resources::Ctx, live: Option<&Live>) -> Vec<Step> {
                let plan: fn(&$crate::resources::Ctx, Option<&Live>) -> Vec<Step> = $plan;
                plan(ctx, live)
            }

            fn delete() -> impl $crate::resources::Operation {
                Op::Delete
            }
        }
    };
}
pub(crate) use single_kind;

/// The live value of a kind with one resource or none: None when it is
/// missing (or was not read).
pub fn single_live<T: Single>(state: &LiveState) -> Option<&T> {
    state.get::<Option<T>>(T::KIND).and_then(Option::as_ref)
}

fn read_single<T: Single>(ctx: &Ctx) -> BoxFuture<'_, Result<state::Part, AwsError>> {
    Box::pin(async move { state::Part::single(T::read(ctx).await) })
}

fn up_single<T: Single>(ctx: &Ctx, state: &LiveState) -> Vec<Step> {
    T::plan(ctx, single_live::<T>(state))
}

fn down_single<T: Single>(ctx: &Ctx, state: &LiveState) -> Vec<Step> {
    match state.get::<Option<T>>(T::KIND) {
        Some(Some(live)) => T::plan_down(ctx, live),
        _ => Vec::new(),
    }
}

/// Dependency level of each registered kind: 0 for kinds that depend on
/// nothing, else one more than the deepest dependency. Kinds of one level
/// can be changed at once.
pub fn level(kind: Kind) -> usize {
    fn depth(kind: Kind, seen: usize) -> usize {
        // A cycle among registrations is a programming error; stop anyway.
        assert!(seen <= REGISTRY.len(), "dependency cycle at {}", kind.id);
        REGISTRY.iter().find(|r| r.kind == kind).map_or(0, |r| {
            r.depends_on
                .iter()
                .map(|d| depth(*d, seen + 1) + 1)
                .max()
                .unwrap_or(0)
        })
    }
    depth(kind, 0)
}

/// Everything a resource needs to read, diff and apply.
pub struct Ctx {
    pub clients: Clients,
    pub stack: Stack,
    /// The webhook URL for the function's environment. None when it is not
    /// needed (status, down) or not set: the env value is then not compared.
    pub webhook: Option<Secret>,
    /// The handler package. None when the code is not compared (status, down).
    pub package: Option<Package>,
    /// This stack's resources in the tagging index, listed once on first use.
    pub index: index::OwnerIndex,
    /// The instances the alarms target, looked up once on first use.
    pub instances: targets::Found,
    /// Writes finished alongside the next level (deferred.rs).
    pub deferred: deferred::Deferred,
    /// Signalled when `apply` starts its last level: the stack lock's
    /// release check runs alongside it (commands/lock.rs).
    pub last_level: std::sync::Arc<tokio::sync::Notify>,
}

impl Ctx {
    pub fn topic_arn(&self) -> String {
        self.clients.arn("sns", &self.stack.topic_name())
    }

    pub fn function_arn(&self) -> String {
        self.clients.arn(
            "lambda",
            &format!("function:{}", self.stack.function_name()),
        )
    }

    pub fn role_arn(&self) -> String {
        self.clients
            .global_arn("iam", &format!("role/{}", self.stack.role_name()))
    }

    pub fn log_group_arn(&self) -> String {
        self.clients.arn(
            "logs",
            &format!("log-group:{}", self.stack.log_group_name()),
        )
    }

    /// AWS: a hierarchical name's ARN is `parameter/a/b` (its leading slash
    /// is the separator), a flat name's `parameter/name`.
    pub fn parameter_arn(&self, name: &str) -> String {
        let name = name.strip_prefix('/').unwrap_or(name);
        self.clients.arn("ssm", &format!("parameter/{name}"))
    }

    pub fn alarm_arn(&self, alarm_name: &str) -> String {
        self.clients
            .arn("cloudwatch", &format!("alarm:{alarm_name}"))
    }

    /// The tags every owned resource carries: the user's plus ownership.
    pub fn tags(&self) -> Tags {
        self.stack.owner_tags()
    }
}

/// What apply runs for one change. Each kind implements it for its own op
/// type, so apply needs to know no kind.
pub trait Operation: fmt::Debug + Send + Sync + Any {
    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<(), AwsError>>;

    /// Ops that share a lane never run at once; None runs freely.
    fn lane(&self) -> Option<&'static str> {
        None
    }

    /// Runs a whole lane in one call (e.g. DeleteAlarms takes 100 names);
    /// None: the lane's ops run one after another.
    fn run_batch<'a>(
        &'a self,
        _ctx: &'a Ctx,
        _lane: &'a [&'a dyn Operation],
    ) -> Option<BoxFuture<'a, Result<(), AwsError>>> {
        None
    }
}

/// A change to show plus the op that carries it out (None for a no-op).
#[derive(Debug, Serialize)]
pub struct Step {
    #[serde(flatten)]
    pub change: Change,
    #[serde(skip)]
    pub op: Option<Box<dyn Operation>>,
}

impl Step {
    pub fn noop(kind: Kind, name: impl Into<String>) -> Step {
        Step {
            change: Change::new(kind, name, Action::NoOp, Vec::new()),
            op: None,
        }
    }

    pub fn new(change: Change, op: impl Operation) -> Step {
        Step {
            change,
            op: Some(Box::new(op)),
        }
    }

    pub fn delete(kind: Kind, name: impl Into<String>, op: impl Operation) -> Step {
        Step::new(Change::new(kind, name, Action::Delete, Vec::new()), op)
    }

    /// The op as its own kind's type, for tests.
    #[cfg(test)]
    pub fn op_as<T: Operation>(&self) -> Option<&T> {
        let op: &dyn Any = self.op.as_deref()?;
        op.downcast_ref()
    }
}

/// AWS: a create lost a race (a concurrent or half-finished earlier run made
/// it first). `step` is the diff against what a fresh read found, which has
/// already proven the resource ours or failed as foreign; converge it.
pub async fn adopt(ctx: &Ctx, step: Step) -> Result<(), AwsError> {
    match step.op {
        Some(op) if step.change.action == Action::Update => op.run(ctx).await,
        _ => Ok(()),
    }
}

/// A same-named resource is ours only when it carries our ownership tag.
pub fn check_owner(kind: Kind, name: &str, stack: &Stack, tags: &Tags) -> Result<(), AwsError> {
    match tags.get(crate::config::OWNER_TAG_KEY) {
        Some(owner) if *owner == stack.name => Ok(()),
        other => Err(AwsError::Foreign {
            kind: kind.label,
            name: name.to_string(),
            expected: stack.name.clone(),
            found: ForeignOwner(other.cloned()),
        }),
    }
}

/// Is this resource (found under a prefix) owned by this stack? Used where a
/// foreign same-prefix resource is simply not ours to see, not an error.
pub fn is_owned(stack: &Stack, tags: &Tags) -> bool {
    tags.get(crate::config::OWNER_TAG_KEY) == Some(&stack.name)
}

/// Policy documents compared by meaning, not by text: AWS re-serialises
/// them (and IAM URL-encodes them), and a one-element list means the same as
/// its element.
pub fn normalize_policy(doc: &str) -> Option<serde_json::Value> {
    let decoded = if doc.trim_start().starts_with('{') {
        doc.to_string()
    } else {
        urlencoding::decode(doc).ok()?.into_owned()
    };
    let value: serde_json::Value = serde_json::from_str(&decoded).ok()?;
    Some(normalize_value(value))
}

fn normalize_value(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Array(items) => {
            let mut items: Vec<Value> = items.into_iter().map(normalize_value).collect();
            if items.len() == 1 {
                return items.pop().expect("one item");
            }
            items.sort_by_key(|i| i.to_string());
            Value::Array(items)
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, normalize_value(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Reads every registered kind at once: names and ARNs are deterministic,
/// so no read waits on another. No local state file: this is the state.
/// The tagging index is listed alongside, so reads that need it for
/// ownership find it (nearly) ready instead of waiting one more round trip.
pub async fn read_all(ctx: &Ctx) -> Result<LiveState, AwsError> {
    let (index, parts) = futures::future::join(
        ctx.index.load(ctx),
        futures::future::join_all(REGISTRY.iter().map(|r| (r.read)(ctx))),
    )
    .await;
    index?;
    let mut live = LiveState::default();
    for (r, part) in REGISTRY.iter().zip(parts) {
        live.insert(r.kind, part?);
    }
    Ok(live)
}

/// The plan `up` applies and `plan` prints, in dependency order.
pub fn plan_up(ctx: &Ctx, live: &LiveState) -> Vec<Step> {
    let mut steps: Vec<Step> = REGISTRY.iter().flat_map(|r| (r.up)(ctx, live)).collect();
    steps.sort_by_key(|s| level(s.change.kind));
    steps
}

/// The plan `down` applies: every owned resource, deleted, dependents first.
pub fn plan_down(ctx: &Ctx, live: &LiveState) -> Vec<Step> {
    let mut steps: Vec<Step> = REGISTRY
        .iter()
        .rev()
        .flat_map(|r| (r.down)(ctx, live))
        .collect();
    steps.sort_by_key(|s| std::cmp::Reverse(level(s.change.kind)));
    steps
}

/// A context for unit tests of `diff`: real clients that are never sent,
/// the stack parsed from YAML (handler path: this repository's handler/).
#[cfg(test)]
pub fn test_ctx(yaml: &str, package_sha: Option<&str>) -> Ctx {
    let handler = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("handler");
    let yaml = format!("{yaml}\nhandler:\n  path: {}\n", handler.display());
    let stack =
        Stack::parse(&yaml, std::path::Path::new("stack.yaml")).expect("test stack is valid");
    Ctx {
        clients: Clients::unsent("111122223333", "eu-west-1", "aws"),
        stack,
        webhook: Some(Secret::new("https://hooks.slack.invalid/services/T/B/x")),
        package: package_sha.map(|sha| Package {
            zip: Vec::new(),
            sha256: sha.to_string(),
            source: std::path::PathBuf::new(),
        }),
        index: Default::default(),
        deferred: Default::default(),
        last_level: Default::default(),
        instances: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_declared_dependencies() {
        let levels: Vec<(&str, usize)> = REGISTRY
            .iter()
            .map(|r| (r.kind.id, level(r.kind)))
            .collect();
        assert_eq!(
            levels,
            vec![
                ("role", 0),
                ("log_group", 0),
                ("topic", 0),
                ("function", 1),
                ("permission", 2),
                ("alarm", 3),
                ("subscription", 2),
                ("parameter", 0),
            ]
        );
    }

    #[test]
    fn policies_compare_by_meaning() {
        let a = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let b = "%7B%22Statement%22%3A%7B%22Action%22%3A%5B%22sts%3AAssumeRole%22%5D%2C%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%5B%22lambda.amazonaws.com%22%5D%7D%7D%2C%22Version%22%3A%222012-10-17%22%7D";
        assert_eq!(normalize_policy(a), normalize_policy(b));
        let c = a.replace("lambda.amazonaws.com", "ec2.amazonaws.com");
        assert_ne!(normalize_policy(a), normalize_policy(&c));
    }
}
