//! SSM parameter `slack.webhook_url_ssm`: the SecureString the handler reads
//! the webhook from. Only `relayctl secret set` writes it (the URL never
//! passes through `up`), so `up` never creates it: a missing parameter is
//! shown as missing and `up` stops before any write. relayctl never fetches
//! its value: reads are GetParameter without decryption (version, type,
//! last-modified) and ListTagsForResource (ownership). `down` deletes it
//! only when it carries this stack's tag, i.e. `secret set` created it.
//! Depends on nothing; only with `webhook_url_ssm`.

use aws_sdk_ssm::operation::get_parameter::GetParameterOutput;
use aws_sdk_ssm::types::ResourceTypeForTagging;
use futures::FutureExt as _;
use futures::future::BoxFuture;

use super::{
    Calls, Ctx, LiveState, Operation, Registration, Single, Step, Tags, is_owned, single_kind,
};
use crate::aws::AwsError;
use crate::change::{Action, Change, Kind};

pub const KIND: Kind = Kind::new("parameter", "ssm parameter");
pub const REGISTRATION: Registration = {
    let mut r = Registration::single::<Live>(&[]);
    // Not every parameter found is ours to delete: see `down_steps`.
    r.down = down_steps;
    r
};
/// The IAM actions this kind calls (`relayctl policy`).
pub const IAM: &[super::iam::Grant] = &[super::iam::Grant {
    actions: &[
        "ssm:GetParameter",
        "ssm:ListTagsForResource",
        "ssm:DeleteParameter",
    ],
    on: super::iam::Scope::Parameter,
}];
/// What `secret set` writes and the handler decrypts.
pub const SECURE_STRING: &str = "SecureString";

#[derive(Debug, Clone)]
pub struct Live {
    /// AWS: every PutParameter with Overwrite adds a version.
    pub version: i64,
    /// `String`, `StringList` or `SecureString`.
    pub kind: String,
    /// RFC 3339, UTC.
    pub last_modified: Option<String>,
    /// Carries this stack's ownership tag: `secret set` created it, `down`
    /// deletes it. A parameter made by hand is used, never deleted.
    pub owned: bool,
}

#[derive(Debug, Clone)]
pub enum Op {
    Delete,
}

impl Operation for Op {
    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<(), AwsError>> {
        match self {
            Op::Delete => delete(ctx).boxed(),
        }
    }
}

single_kind!(
    name: |ctx: &Ctx| ctx.stack.slack.webhook_url_ssm.clone().unwrap_or_default(),
    plan: |ctx, live| match &ctx.stack.slack.webhook_url_ssm {
        Some(name) => vec![diff(name, live)],
        None => Vec::new(),
    }
);

/// The stack's parameter as read (None: missing, or no `webhook_url_ssm`).
pub fn live(state: &LiveState) -> Option<&Live> {
    state.get::<Option<Live>>(KIND)?.as_ref()
}

/// Why `up` cannot go on: the parameter the function would read is not
/// there, or is not a SecureString. None when it is fine or not used.
pub fn unusable(ctx: &Ctx, state: &LiveState) -> Option<String> {
    let name = ctx.stack.slack.webhook_url_ssm.as_ref()?;
    match live(state) {
        None => Some(format!("the webhook's SSM parameter {name} does not exist")),
        Some(p) if p.kind != SECURE_STRING => Some(format!(
            "the webhook's SSM parameter {name} is a {}, not a {SECURE_STRING}",
            p.kind
        )),
        Some(_) => None,
    }
}

/// Never an op for `up`: only `secret set` writes the parameter.
pub fn diff(name: &str, live: Option<&Live>) -> Step {
    let Some(live) = live else {
        return Step {
            change: Change::new(KIND, name, Action::Create, Vec::new()).with_note(
                "missing: store the webhook with `relayctl secret set`; `up` never writes it",
            ),
            op: None,
        };
    };
    let mut note = format!(
        "{}, version {}, last modified {}",
        live.kind,
        live.version,
        live.last_modified.as_deref().unwrap_or("unknown")
    );
    if !live.owned {
        note.push_str(", not created by this stack (`down` keeps it)");
    }
    Step {
        change: Change::new(KIND, name, Action::NoOp, Vec::new()).with_note(note),
        op: None,
    }
}

pub async fn read(ctx: &Ctx) -> Result<Option<Live>, AwsError> {
    let Some(name) = ctx.stack.slack.webhook_url_ssm.clone() else {
        return Ok(None);
    };
    let got = get(&ctx.clients.ssm, &name).await?;
    let Some(p) = got.and_then(|out| out.parameter) else {
        return Ok(None);
    };
    let tags = find_tags(ctx, &name).await?;
    Ok(Some(Live {
        version: p.version,
        kind: p.r#type().map_or("", |t| t.as_str()).to_string(),
        last_modified: p.last_modified_date().map(|d| {
            d.fmt(aws_sdk_ssm::primitives::DateTimeFormat::DateTime)
                .unwrap_or_default()
        }),
        owned: is_owned(&ctx.stack, &tags),
    }))
}

/// The parameter's metadata, None when it does not exist. Never
/// with_decryption: relayctl has no use for the value, and a SecureString
/// comes back encrypted without it.
pub async fn get(
    ssm: &aws_sdk_ssm::Client,
    name: &str,
) -> Result<Option<GetParameterOutput>, AwsError> {
    let got = ssm
        .get_parameter()
        .name(name)
        .with_decryption(false)
        .send()
        .await;
    Calls::new(KIND, name).found("GetParameter", got, |e| e.is_parameter_not_found())
}

async fn find_tags(ctx: &Ctx, name: &str) -> Result<Tags, AwsError> {
    let ssm = &ctx.clients.ssm;
    let listed = ssm
        .list_tags_for_resource()
        .resource_type(ResourceTypeForTagging::Parameter)
        .resource_id(name)
        .send()
        .await;
    let tags = Calls::new(KIND, name)
        .ok("ListTagsForResource", listed)?
        .tag_list;
    Ok(tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect())
}

/// `down` plans this only for a parameter the stack owns (see `down_steps`).
async fn delete(ctx: &Ctx) -> Result<(), AwsError> {
    let name = Live::name(ctx);
    let deleted = ctx.clients.ssm.delete_parameter().name(&name).send().await;
    Calls::new(KIND, &name).gone("DeleteParameter", deleted, |e| e.is_parameter_not_found())
}

/// `down`: the parameter goes only when this stack created it.
pub fn down_steps(ctx: &Ctx, state: &LiveState) -> Vec<Step> {
    let name = Live::name(ctx);
    match live(state) {
        Some(p) if p.owned => {
            let mut step = Step::delete(KIND, name, Op::Delete);
            step.change.note =
                Some("created by `relayctl secret set` for this stack (ownership tag)".into());
            vec![step]
        }
        Some(_) => {
            let mut step = Step::noop(KIND, name);
            step.change.note = Some("kept: not created by this stack (no ownership tag)".into());
            vec![step]
        }
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::state::Part;
    use crate::resources::test_ctx;

    const STACK: &str = "name: p\nslack:\n  webhook_url_ssm: /relay/p/hook\nalarms:\n  - name: cpu\n    instance_id: i-0123456789abcdef0";

    fn state(live: Option<Live>) -> LiveState {
        let mut state = LiveState::default();
        state.insert(KIND, Part::new(live, Vec::new()));
        state
    }

    fn param(owned: bool, kind: &str) -> Live {
        Live {
            version: 3,
            kind: kind.into(),
            last_modified: Some("2026-11-30T16:00:00Z".into()),
            owned,
        }
    }

    #[test]
    fn up_never_writes_it_and_stops_while_it_is_unusable() {
        let ctx = test_ctx(STACK, None);
        let missing = Live::plan(&ctx, None);
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].change.action, Action::Create);
        assert!(missing[0].op.is_none(), "only `secret set` writes it");
        assert!(unusable(&ctx, &state(None)).is_some());
        assert!(unusable(&ctx, &state(Some(param(true, "String")))).is_some());
        assert_eq!(
            unusable(&ctx, &state(Some(param(false, SECURE_STRING)))),
            None
        );
        let present = Live::plan(&ctx, Some(&param(true, SECURE_STRING)));
        assert_eq!(present[0].change.action, Action::NoOp);
        assert_eq!(
            present[0].change.note.as_deref(),
            Some("SecureString, version 3, last modified 2026-11-30T16:00:00Z")
        );
    }

    #[test]
    fn down_deletes_only_what_the_stack_created() {
        let ctx = test_ctx(STACK, None);
        let owned = down_steps(&ctx, &state(Some(param(true, SECURE_STRING))));
        assert_eq!(owned[0].change.action, Action::Delete);
        assert!(owned[0].op.is_some());
        let foreign = down_steps(&ctx, &state(Some(param(false, SECURE_STRING))));
        assert_eq!(foreign[0].change.action, Action::NoOp);
        assert!(foreign[0].op.is_none());
        assert!(down_steps(&ctx, &state(None)).is_empty());
    }

    #[test]
    fn without_webhook_url_ssm_there_is_nothing_to_read_or_plan() {
        let ctx = test_ctx(
            "name: p\nslack:\n  webhook_url_env: X\nalarms:\n  - name: cpu\n    instance_id: i-0123456789abcdef0",
            None,
        );
        assert!(Live::plan(&ctx, None).is_empty());
        assert_eq!(unusable(&ctx, &state(None)), None);
    }
}
