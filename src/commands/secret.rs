//! `relayctl secret set`: the webhook URL into the stack's SSM SecureString
//! parameter (`slack.webhook_url_ssm`). The URL comes from stdin or the
//! environment variable `--from-env` names, never from an argument (argv is
//! visible to every user of the machine), is checked with the handler's own
//! rule and is never printed, logged or put in an error.

use std::io::Read as _;
use std::process::ExitCode;

use aws_sdk_ssm::types::{ParameterType, Tag};
use serde_json::json;

use super::output::print;
use super::session::load_stack;
use super::{Error, Result};
use crate::aws::{Clients, Connection};
use crate::cli::{Global, SecretCommand, SecretSetArgs};
use crate::resources::Calls;
use crate::resources::parameter::{self, KIND};
use crate::secret::Secret;

/// AWS: the key SSM uses for a SecureString when no KeyId is given.
pub const DEFAULT_KEY: &str = "alias/aws/ssm";

pub async fn run(g: &Global, cmd: &SecretCommand) -> Result<ExitCode> {
    match cmd {
        SecretCommand::Set(args) => set(g, args).await,
    }
}

async fn set(g: &Global, args: &SecretSetArgs) -> Result<ExitCode> {
    let stack = load_stack(g)?;
    let Some(name) = stack.slack.webhook_url_ssm.clone() else {
        return Err(Error::SecretInput(
            "stack.yaml has no slack.webhook_url_ssm: set it to the parameter's name \
             (e.g. /relay/cpu-relay/slack-webhook) instead of webhook_url_env"
                .into(),
        ));
    };
    let url = read_url(args.from_env.as_deref())?;
    let conn = Connection {
        profile: g.profile.clone(),
        region: g.region.clone(),
        endpoint_url: g.endpoint_url.clone(),
    };
    let clients = Clients::connect(&conn, stack.region.as_deref()).await?;
    let ssm = &clients.ssm;
    let existing = parameter::get(ssm, &name).await?;
    let put = ssm
        .put_parameter()
        .name(&name)
        .value(url.expose())
        .r#type(ParameterType::SecureString)
        .set_key_id(args.key_id.clone());
    // AWS: PutParameter refuses Tags together with Overwrite, so a new
    // parameter is created with the ownership tag and an existing one (ours
    // or made by hand) only gets a new version; its tags stay as they are.
    let created = existing.is_none();
    let sent = if created {
        let tags = stack
            .owner_tags()
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .expect("key and value set");
        put.set_tags(Some(tags)).send().await
    } else {
        put.overwrite(true).send().await
    };
    let out = Calls::new(KIND, &name).ok("PutParameter", sent)?;
    let key = args.key_id.as_deref().unwrap_or(DEFAULT_KEY);
    let text = format!(
        "{} SSM parameter {name}: SecureString, version {}, key {key}. The webhook is not shown.\n",
        if created { "Created" } else { "Updated" },
        out.version
    );
    let json = json!({
        "parameter": name,
        "created": created,
        "version": out.version,
        "key_id": key,
    });
    print(
        g.output,
        text,
        serde_json::to_string_pretty(&json).expect("json"),
    );
    Ok(ExitCode::SUCCESS)
}

/// The URL from `var` or stdin, trimmed and checked; errors never hold it.
fn read_url(var: Option<&str>) -> Result<Secret> {
    let raw = match var {
        Some(var) => std::env::var(var).map_err(|_| {
            Error::SecretInput(format!(
                "environment variable {var} (named by --from-env) is not set"
            ))
        })?,
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| Error::SecretInput(format!("cannot read stdin: {}", e.kind())))?;
            s
        }
    };
    // A trailing newline from `echo` or a file is harmless.
    let url = raw.trim();
    if url.is_empty() {
        return Err(Error::SecretInput(
            "no webhook URL given (empty input)".into(),
        ));
    }
    relay_handler::webhook::validate(url)
        .map_err(|e| Error::SecretInput(format!("the input is not a Slack webhook URL: {e}")))?;
    Ok(Secret::new(url))
}
