//! IAM role `{stack}-relay`: assumed by Lambda, with one inline policy per
//! region (`relayctl-logs-{region}`, see `regional`) that lets that
//! region's function write to its own log group and nothing else. IAM is
//! global, so the same stack in several regions shares the role: each
//! region reads, diffs and writes only its own policy, and the role goes
//! only when no region's policy is left (docs/regions.md).
//! Depends on nothing; the function depends on it. Owned by tag.

mod regional;

use std::future::Future;

use aws_sdk_iam::types::Tag;
use futures::FutureExt as _;
use futures::future::BoxFuture;
use serde_json::{Value, json};

pub use regional::{LEGACY_POLICY_NAME, policy_name};

use super::{
    Ctx, LiveState, Operation, Registration, Single, Step, TagDiff, Tags, adopt, check_owner,
    converge_tags, deferred, diff_tags, found, gone, normalize_policy, render_tags, single_live,
    tag_api,
};
use crate::aws::AwsError;
use crate::change::{Action, Attr, Change, Kind};

pub const KIND: Kind = Kind::new("role", "iam role");
pub const REGISTRATION: Registration = Registration::single::<Live>(&[]);
/// One region's inline policy, as `down` shows its removal while the role
/// stays for other regions. Level 0 (no registration): removed last.
pub const POLICY_KIND: Kind = Kind::new("role_policy", "iam role policy");
/// The IAM actions this kind calls (`relayctl policy`).
pub const IAM: &[super::iam::Grant] = &[super::iam::Grant {
    actions: &[
        "iam:GetRole",
        "iam:ListRoleTags",
        "iam:GetRolePolicy",
        "iam:ListRolePolicies",
        "iam:CreateRole",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:PutRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:DeleteRole",
    ],
    on: super::iam::Scope::Role,
}];

#[derive(Debug, Clone)]
pub struct Live {
    pub trust: Option<Value>,
    /// This region's policy; other regions' are theirs to compare.
    pub policy: Option<Value>,
    pub tags: Tags,
    /// The role holds the legacy single policy, and it is this region's:
    /// it names this region's log group (or no region's).
    pub legacy: bool,
    /// Other regions whose policy the role holds: they still use it.
    pub other_regions: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Desired {
    pub trust: Value,
    pub policy: Value,
    pub tags: Tags,
}

#[derive(Debug, Clone)]
pub enum Op {
    Create(Desired),
    Update {
        trust: Option<Value>,
        policy: Option<Value>,
        tags: Option<TagDiff>,
        /// Remove the legacy policy once this region's own is in place.
        drop_legacy: bool,
    },
    /// Remove this region's policy (and the legacy one when `legacy`),
    /// then the role when no region's policy is left, unless `keep_role`:
    /// a multi-region `down` deletes the role once, after every region.
    Delete {
        legacy: bool,
        keep_role: bool,
    },
}

impl Operation for Op {
    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<(), AwsError>> {
        match self {
            Op::Create(want) => create(ctx, want).boxed(),
            Op::Update {
                trust,
                policy,
                tags,
                drop_legacy,
            } => update(
                ctx,
                trust.as_ref(),
                policy.as_ref(),
                tags.as_ref(),
                *drop_legacy,
            )
            .boxed(),
            Op::Delete { legacy, keep_role } => delete(ctx, *legacy, *keep_role).boxed(),
        }
    }
}

impl Single for Live {
    const KIND: Kind = KIND;
    const IAM: &[super::iam::Grant] = IAM;

    fn name(ctx: &Ctx) -> String {
        ctx.stack.role_name()
    }

    fn read(ctx: &Ctx) -> impl Future<Output = Result<Option<Live>, AwsError>> + Send {
        read(ctx)
    }

    fn plan(ctx: &Ctx, live: Option<&Live>) -> Vec<Step> {
        vec![diff(ctx, live, desired(ctx))]
    }

    fn delete() -> impl Operation {
        Op::Delete {
            legacy: false,
            keep_role: false,
        }
    }

    fn plan_down(ctx: &Ctx, live: &Live) -> Vec<Step> {
        plan_down(ctx, live)
    }
}

pub fn desired(ctx: &Ctx) -> Desired {
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"
        }]
    });
    // Least privilege: the log group is created by relayctl, so the function
    // needs no logs:CreateLogGroup, only streams and events in its own group.
    let mut statements = vec![json!({
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": format!("{}:*", ctx.log_group_arn())
    })];
    if let Some(name) = &ctx.stack.slack.webhook_url_ssm {
        statements.extend(webhook_parameter_statements(ctx, name));
    }
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": statements
    });
    Desired {
        trust,
        policy,
        tags: ctx.tags(),
    }
}

/// The role's description (also the exported template's).
pub fn description(ctx: &Ctx) -> String {
    format!(
        "relayctl stack {}: runs the Slack relay function",
        ctx.stack.name
    )
}

/// With `webhook_url_ssm`: read that one parameter, and decrypt it only
/// through SSM and only for it.
// AWS: SSM encrypts a SecureString under the encryption context
// {"PARAMETER_ARN": <its ARN>} and calls KMS on the caller's behalf
// (https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html),
// so kms:ViaService plus that context pins Decrypt to this parameter via SSM
// whatever key `secret set --key-id` chose (the AWS-managed alias/aws/ssm's
// key id is not known without a KMS call).
fn webhook_parameter_statements(ctx: &Ctx, name: &str) -> [Value; 2] {
    let arn = ctx.parameter_arn(name);
    let c = &ctx.clients;
    [
        json!({
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": arn
        }),
        json!({
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": format!("arn:{}:kms:{}:{}:key/*", c.partition, c.region, c.account),
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": format!("ssm.{}.amazonaws.com", c.region),
                    "kms:EncryptionContext:PARAMETER_ARN": arn
                }
            }
        }),
    ]
}

pub async fn read(ctx: &Ctx) -> Result<Option<Live>, AwsError> {
    let name = ctx.stack.role_name();
    let region = ctx.clients.region.as_str();
    let own = policy_name(region);
    // One round trip: the role, its policies' names and this region's policy
    // at once. For a missing role the other two answer NoSuchEntity and are
    // not looked at; a foreign role's are read (reads only) and dropped.
    let (got, listed, own_doc) = futures::join!(
        ctx.clients.iam.get_role().role_name(&name).send(),
        regional::list(ctx, &name),
        regional::get(ctx, &name, &own),
    );
    let Some(role) = found(
        got,
        |e| e.is_no_such_entity_exception(),
        KIND.label,
        &name,
        "GetRole",
    )?
    .and_then(|out| out.role) else {
        return Ok(None);
    };
    let tags = find_tags(ctx, &name, &role).await?;
    check_owner(KIND, &name, &ctx.stack, &tags)?;
    let policies = listed?.unwrap_or_default();
    let policy = match policies.contains(&own) {
        true => own_doc?,
        false => None,
    };
    // Only a role from before per-region policies holds the legacy one.
    let legacy = match policies.iter().any(|p| p == LEGACY_POLICY_NAME) {
        true => regional::get(ctx, &name, LEGACY_POLICY_NAME).await,
        false => Ok(None),
    };
    // The legacy policy is this region's when it names this region's log
    // group, or no region's (nothing else depends on it then).
    let legacy_region =
        legacy?.map(|doc| regional::region_granted(&doc, &ctx.stack.log_group_name()));
    let mut other_regions: Vec<String> = policies
        .iter()
        .filter_map(|p| regional::region_of(p))
        .filter(|r| *r != region)
        .map(str::to_string)
        .chain(legacy_region.clone().flatten().filter(|r| r != region))
        .collect();
    other_regions.sort();
    other_regions.dedup();
    Ok(Some(Live {
        trust: role
            .assume_role_policy_document()
            .and_then(normalize_policy),
        policy,
        tags,
        legacy: matches!(legacy_region, Some(None))
            || legacy_region.flatten().as_deref() == Some(region),
        other_regions,
    }))
}

/// GetRole carries the tags in AWS; ListRoleTags is the fallback when an
/// endpoint leaves them out.
async fn find_tags(
    ctx: &Ctx,
    name: &str,
    role: &aws_sdk_iam::types::Role,
) -> Result<Tags, AwsError> {
    if let Some(tags) = role.tags.as_ref().filter(|t| !t.is_empty()) {
        return Ok(tags
            .iter()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect());
    }
    let out = ctx
        .clients
        .iam
        .list_role_tags()
        .role_name(name)
        .send()
        .await
        .map_err(|e| AwsError::call(KIND.label, name, "ListRoleTags", e))?;
    Ok(out.tags.into_iter().map(|t| (t.key, t.value)).collect())
}

pub fn diff(ctx: &Ctx, live: Option<&Live>, want: Desired) -> Step {
    let name = ctx.stack.role_name();
    let Some(live) = live else {
        let attrs = vec![
            Attr::new(
                "trust",
                None,
                Some("lambda.amazonaws.com may sts:AssumeRole".into()),
            ),
            Attr::new(
                "policy",
                None,
                Some(format!(
                    "{}: logs:CreateLogStream, logs:PutLogEvents on its own log group",
                    policy_name(&ctx.clients.region)
                )),
            ),
            Attr::new("tags", None, Some(render_tags(&want.tags))),
        ];
        return Step::new(
            Change::new(KIND, name, Action::Create, attrs),
            Op::Create(want),
        );
    };
    let mut attrs = Vec::new();
    let trust = changed_policy(&mut attrs, "trust", live.trust.as_ref(), &want.trust);
    let policy = changed_policy(&mut attrs, "policy", live.policy.as_ref(), &want.policy);
    let tags = diff_tags(&mut attrs, &live.tags, &want.tags);
    if live.legacy {
        attrs.push(Attr::new(
            format!("policy {LEGACY_POLICY_NAME}"),
            Some("this region's, from before per-region policies".into()),
            None,
        ));
    }
    if attrs.is_empty() {
        return Step::noop(KIND, name);
    }
    let op = Op::Update {
        trust,
        policy,
        tags,
        drop_legacy: live.legacy,
    };
    let mut change = Change::new(KIND, name, Action::Update, attrs);
    if live.legacy {
        change = change.with_note(format!(
            "one inline policy per region now: {LEGACY_POLICY_NAME} moves to {} (docs/regions.md)",
            policy_name(&ctx.clients.region)
        ));
    }
    Step::new(change, op)
}

/// `down` in this region: its policy goes; the role too when no other
/// region's policy is on it (checked again when the step runs). While
/// other regions use the role, only the policy's removal is shown.
fn plan_down(ctx: &Ctx, live: &Live) -> Vec<Step> {
    let op = Op::Delete {
        legacy: live.legacy,
        keep_role: false,
    };
    let mine = live.policy.is_some() || live.legacy;
    match (mine, live.other_regions.is_empty()) {
        (_, true) => vec![Step::delete(KIND, ctx.stack.role_name(), op)],
        (true, false) => {
            let note = format!(
                "the role stays: region(s) {} still use it",
                live.other_regions.join(", ")
            );
            vec![policy_removal(ctx, op, note)]
        }
        (false, false) => Vec::new(),
    }
}

fn policy_removal(ctx: &Ctx, op: Op, note: String) -> Step {
    let name = format!(
        "{}/{}",
        ctx.stack.role_name(),
        policy_name(&ctx.clients.region)
    );
    let change = Change::new(POLICY_KIND, name, Action::Delete, Vec::new()).with_note(note);
    Step::new(change, op)
}

/// For a `down` of several regions at once: this region's step removes
/// only its policy; the role is deleted once, after every region, with
/// [`delete_if_unused`].
pub fn keep_role(ctx: &Ctx, live: &LiveState, steps: &mut Vec<Step>) {
    let mine = single_live::<Live>(live).is_some_and(|l| l.policy.is_some() || l.legacy);
    let legacy = single_live::<Live>(live).is_some_and(|l| l.legacy);
    steps.retain(|s| s.change.kind != KIND && s.change.kind != POLICY_KIND);
    if mine {
        let op = Op::Delete {
            legacy,
            keep_role: true,
        };
        let note = "the role itself is deleted once every region's part is gone".to_string();
        steps.push(policy_removal(ctx, op, note));
    }
}

/// Whether the role exists (as read with `live`); IAM is global, so any
/// region's read tells.
pub fn exists(live: &LiveState) -> bool {
    single_live::<Live>(live).is_some()
}

/// The wanted document when it means something else than the live one.
fn changed_policy(
    attrs: &mut Vec<Attr>,
    name: &str,
    live: Option<&Value>,
    want: &Value,
) -> Option<Value> {
    let normal = normalize_policy(&want.to_string()).expect("our own policy is valid JSON");
    (live != Some(&normal)).then(|| {
        attrs.push(Attr::new(
            name,
            live.map(Value::to_string),
            Some(normal.to_string()),
        ));
        want.clone()
    })
}

async fn create(ctx: &Ctx, want: &Desired) -> Result<(), AwsError> {
    let name = ctx.stack.role_name();
    let created = ctx
        .clients
        .iam
        .create_role()
        .role_name(&name)
        .description(description(ctx))
        .assume_role_policy_document(want.trust.to_string())
        .set_tags(Some(iam_tags(&want.tags)))
        .send()
        .await;
    match created {
        // The function's create needs only the role (deferred.rs).
        Ok(_) => {
            ctx.deferred.push(put_policy(ctx, &want.policy));
            Ok(())
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_entity_already_exists_exception()) =>
        {
            adopt(ctx, diff(ctx, read(ctx).await?.as_ref(), want.clone())).await
        }
        Err(e) => Err(AwsError::call(KIND.label, &name, "CreateRole", e)),
    }
}

async fn update(
    ctx: &Ctx,
    trust: Option<&Value>,
    policy: Option<&Value>,
    tags: Option<&TagDiff>,
    drop_legacy: bool,
) -> Result<(), AwsError> {
    let name = ctx.stack.role_name();
    if let Some(trust) = trust {
        ctx.clients
            .iam
            .update_assume_role_policy()
            .role_name(&name)
            .policy_document(trust.to_string())
            .send()
            .await
            .map_err(|e| AwsError::call(KIND.label, &name, "UpdateAssumeRolePolicy", e))?;
    }
    if let Some(policy) = policy {
        put_policy(ctx, policy).await?;
    }
    // After this region's own policy is in place, so the function never
    // runs without its log permissions.
    if drop_legacy {
        regional::delete(ctx, &name, LEGACY_POLICY_NAME).await?;
    }
    if let Some(tags) = tags {
        converge_tags(
            &Tagging {
                ctx,
                name: &name,
                id: &name,
            },
            tags,
        )
        .await?;
    }
    Ok(())
}

fn iam_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .expect("key and value set")
        })
        .collect()
}

/// This region's policy; a future that borrows nothing (`ctx.deferred`).
fn put_policy(ctx: &Ctx, policy: &Value) -> deferred::Write {
    let own = policy_name(&ctx.clients.region);
    regional::put(ctx, &ctx.stack.role_name(), &own, policy)
}

tag_api!(
    iam,
    role_name,
    iam_tags,
    tag_role / "TagRole",
    untag_role / "UntagRole"
);

/// This region's policy goes; the role too unless `keep_role` or another
/// region's policy is still on it.
async fn delete(ctx: &Ctx, legacy: bool, keep_role: bool) -> Result<(), AwsError> {
    let name = ctx.stack.role_name();
    regional::delete(ctx, &name, &policy_name(&ctx.clients.region)).await?;
    if legacy {
        regional::delete(ctx, &name, LEGACY_POLICY_NAME).await?;
    }
    if !keep_role {
        delete_if_unused(ctx).await?;
    }
    Ok(())
}

/// Deletes the role when none of relayctl's policies (any region's) is left
/// on it; true when it did. Inline policies must go before the role can;
/// policies attached by someone else are not ours to detach, so DeleteRole
/// then fails and says so.
pub async fn delete_if_unused(ctx: &Ctx) -> Result<bool, AwsError> {
    let name = ctx.stack.role_name();
    let Some(policies) = regional::list(ctx, &name).await? else {
        return Ok(false);
    };
    let in_use: Vec<&String> = policies.iter().filter(|p| regional::is_ours(p)).collect();
    if !in_use.is_empty() {
        tracing::info!("{name}: kept, other regions' policies remain: {in_use:?}");
        return Ok(false);
    }
    let iam = &ctx.clients.iam;
    // AWS: right after DeleteRolePolicy, DeleteRole can still answer
    // DeleteConflict ("must delete policies first") until IAM's change has
    // propagated (issue 10.8): retry that, bounded.
    let mut delay = std::time::Duration::from_millis(250);
    let mut attempt = 1;
    loop {
        let deleted = iam.delete_role().role_name(&name).send().await;
        match deleted {
            Err(e)
                if attempt < DELETE_ROLE_ATTEMPTS
                    && e.as_service_error()
                        .is_some_and(|x| x.is_delete_conflict_exception()) =>
            {
                tracing::info!(
                    "DeleteRole {name}: DeleteConflict while IAM propagates the policy removal; retrying in {} ms (attempt {} of {DELETE_ROLE_ATTEMPTS})",
                    delay.as_millis(),
                    attempt + 1
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(4));
                attempt += 1;
            }
            other => {
                gone(
                    other,
                    |e| e.is_no_such_entity_exception(),
                    KIND.label,
                    &name,
                    "DeleteRole",
                )?;
                return Ok(true);
            }
        }
    }
}

/// DeleteRole attempts while it answers DeleteConflict: ~15 s of backoff.
const DELETE_ROLE_ATTEMPTS: u32 = 6;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::test_ctx;

    const STACK: &str = "name: r\nslack:\n  webhook_url_env: SLACK_WEBHOOK_URL\nalarms:\n  - name: cpu\n    instance_id: i-0123456789abcdef0";

    /// The role as this region's `up` leaves it (test_ctx is in eu-west-1).
    fn live(ctx: &Ctx, legacy: bool, others: &[&str]) -> Live {
        let want = desired(ctx);
        Live {
            trust: normalize_policy(&want.trust.to_string()),
            policy: (!legacy).then(|| normalize_policy(&want.policy.to_string()).unwrap()),
            tags: want.tags,
            legacy,
            other_regions: others.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn delete_op(step: &Step) -> (bool, bool) {
        match step.op_as::<Op>() {
            Some(Op::Delete { legacy, keep_role }) => (*legacy, *keep_role),
            other => panic!("not a delete: {other:?}"),
        }
    }

    #[test]
    fn another_regions_policy_is_neither_compared_nor_removed() {
        let ctx = test_ctx(STACK, None);
        let shared = live(&ctx, false, &["us-east-1"]);
        assert_eq!(
            diff(&ctx, Some(&shared), desired(&ctx)).change.action,
            Action::NoOp
        );
        // down here: only this region's policy, the role stays for us-east-1.
        let steps = plan_down(&ctx, &shared);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].change.kind, POLICY_KIND);
        assert_eq!(steps[0].change.name, "r-relay/relayctl-logs-eu-west-1");
        assert_eq!(steps[0].change.action, Action::Delete);
        assert_eq!(delete_op(&steps[0]), (false, false));
        // Alone on the role: the role itself goes.
        let alone = live(&ctx, false, &[]);
        let steps = plan_down(&ctx, &alone);
        assert_eq!(
            (steps[0].change.kind, steps[0].change.action),
            (KIND, Action::Delete)
        );
        // Nothing of this region's left while another region uses it: no step.
        let mut none = live(&ctx, false, &["us-east-1"]);
        none.policy = None;
        assert!(plan_down(&ctx, &none).is_empty());
    }

    #[test]
    fn this_regions_legacy_policy_moves_to_its_own_name() {
        let ctx = test_ctx(STACK, None);
        let step = diff(&ctx, Some(&live(&ctx, true, &[])), desired(&ctx));
        assert_eq!(step.change.action, Action::Update);
        let names: Vec<&str> = step.change.attrs.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["policy", "policy relayctl-logs"]);
        match step.op_as::<Op>() {
            Some(Op::Update {
                policy: Some(_),
                drop_legacy: true,
                trust: None,
                tags: None,
            }) => {}
            other => panic!("{other:?}"),
        }
        // down removes it with this region's own.
        assert_eq!(
            delete_op(&plan_down(&ctx, &live(&ctx, true, &[]))[0]),
            (true, false)
        );
    }

    #[test]
    fn a_multi_region_down_keeps_the_role_for_the_end() {
        let ctx = test_ctx(STACK, None);
        let mut state = LiveState::default();
        state.insert(
            KIND,
            crate::resources::state::Part::single(Ok(Some(live(&ctx, false, &[])))).unwrap(),
        );
        let mut steps = plan_down(&ctx, single_live::<Live>(&state).unwrap());
        keep_role(&ctx, &state, &mut steps);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].change.kind, POLICY_KIND);
        assert_eq!(delete_op(&steps[0]), (false, true));
        assert!(exists(&state));
    }
}
