//! `relayctl init`: writes a commented stack.yaml to start from (every
//! field, its default and what it does), never over an existing file unless
//! `--force`, and says what to run next. Makes no AWS call: the region comes
//! from the flag, the environment or ~/.aws/config only (never the instance
//! metadata service).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use aws_config::meta::region::ProvideRegion as _;

use super::output::write_stdout;
use super::{Error, Result};
use crate::cli::{Global, InitArgs};

/// The name when neither --name nor the folder gives a valid one.
const DEFAULT_NAME: &str = "cpu-relay";

pub async fn run(g: &Global, args: &InitArgs) -> Result<ExitCode> {
    let file = &g.file;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => name_from_folder(file).unwrap_or_else(|| DEFAULT_NAME.to_string()),
    };
    let region = match &g.region {
        Some(region) => Some(region.clone()),
        None => region_from_chain(g.profile.as_deref()).await,
    };
    let text = template(&name, region.as_deref(), &args.instance_selector);
    write_new(file, &text, args.force)?;
    let shown = file.display();
    let mut out = format!("Wrote {shown} for stack {name}");
    match &region {
        Some(r) => {
            let _ = write!(out, " in {r}.");
        }
        None => out.push_str(" (no region found: set `region:` or AWS_REGION)."),
    }
    let with_file = if file == Path::new("stack.yaml") {
        String::new()
    } else {
        format!(" -f {shown}")
    };
    if args.instance_selector.is_empty() {
        out.push_str("\nPut your instance's id in alarms[0].instance_id,");
    } else {
        out.push('\n');
    }
    let _ = write!(
        out,
        " export SLACK_WEBHOOK_URL=<your Slack incoming webhook URL>, then:\n\n  \
         relayctl plan{with_file}   # what would be created; writes nothing\n  \
         relayctl up{with_file}     # build the handler and create the chain\n"
    );
    let base = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    if !base.join("handler").is_dir() {
        out.push_str(
            "\nhandler.path is ./handler, which is not here yet: point it at relayctl's handler/ crate (in relayctl's source tree).\n",
        );
    }
    write_stdout(&out);
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to a new file; an existing one only with `force`.
fn write_new(file: &Path, text: &str, force: bool) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    match force {
        true => options.create(true).truncate(true),
        // create_new: no window between "does it exist" and the write.
        false => options.create_new(true),
    };
    let write_err = |source| Error::Write {
        file: file.to_path_buf(),
        source,
    };
    let mut f = options.open(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => Error::InitExists {
            file: file.to_path_buf(),
        },
        _ => write_err(e),
    })?;
    f.write_all(text.as_bytes()).map_err(write_err)
}

/// The stack file's folder name, made into a valid stack name
/// (`[a-z0-9-]{1,40}`), if anything is left of it.
fn name_from_folder(file: &Path) -> Option<String> {
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.canonicalize().ok()?,
        _ => std::env::current_dir().ok()?,
    };
    let raw = dir.file_name()?.to_str()?.to_ascii_lowercase();
    let mut name = String::new();
    for c in raw.chars() {
        match c {
            'a'..='z' | '0'..='9' => name.push(c),
            _ if !name.ends_with('-') && !name.is_empty() => name.push('-'),
            _ => {}
        }
    }
    let name: String = name.trim_end_matches('-').chars().take(40).collect();
    let name = name.trim_end_matches('-').to_string();
    (!name.is_empty()).then_some(name)
}

/// AWS_REGION / AWS_DEFAULT_REGION, then the profile's `region` in
/// ~/.aws/config. Deliberately not the whole default chain: it ends at the
/// instance metadata service, a network call `init` must not make.
async fn region_from_chain(profile: Option<&str>) -> Option<String> {
    let env = aws_config::environment::EnvironmentVariableRegionProvider::new();
    if let Some(r) = env.region().await {
        return Some(r.to_string());
    }
    let mut file = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(p) = profile {
        file = file.profile_name(p);
    }
    file.build().region().await.map(|r| r.to_string())
}

/// The commented stack.yaml. Its values are the defaults (DESIGN.md's seed
/// chain); optional fields without a default are commented out, in the
/// form `# field: example`.
pub fn template(name: &str, region: Option<&str>, selector: &[(String, String)]) -> String {
    let region = match region {
        Some(r) => format!(
            "{:<31} # else --region, AWS_REGION or ~/.aws/config",
            format!("region: {r}")
        ),
        None => format!(
            "{:<31} # default: --region, AWS_REGION or ~/.aws/config",
            "# region: eu-west-1"
        ),
    };
    let target = match selector {
        [] => "    instance_id: i-0123456789abcdef0   # REPLACE with your EC2 instance's id"
            .to_string(),
        tags => {
            let tags = tags
                .iter()
                .map(|(k, v)| format!("{}: {}", yaml_str(k), yaml_str(v)))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "    # one alarm per running instance with these tags, named {{name}}-{{alarm}}-{{instance-id}}\n    instance_selector: {{ tags: {{ {tags} }}, states: [running] }}"
            )
        }
    };
    format!(
        r##"# relayctl stack: CloudWatch alarm -> SNS topic -> Lambda -> Slack.
# Every field is shown with its default. `relayctl plan` shows what this
# file would create; `relayctl up` creates it; `relayctl down` removes it.

# [a-z0-9-]{{1,40}}; prefixes every AWS name ({{name}}-relay, {{name}}-alarms, ...)
name: {name}
{region}

slack:
  # The NAME of the environment variable holding the webhook URL, read at
  # `relayctl up`. The URL itself never goes in this file.
  webhook_url_env: SLACK_WEBHOOK_URL
  # Channel override; only legacy webhooks honour it. Default: the webhook's own.
  # channel: "#alerts"

handler:
  path: handler                 # the handler crate to build, relative to this file
  memory_mb: 128                # Lambda memory, 128..10240
  timeout_s: 10                 # seconds per invocation, 1..900
  architecture: x86_64          # x86_64 | arm64
  log_retention_days: 14        # the function's log group; a value CloudWatch Logs accepts

# How the alarm reaches the function. sns = alarm -> SNS topic -> function
# (the classic chain), direct = the alarm invokes the function, no topic.
route: sns                      # sns | direct

alarms:
  - name: high-cpu              # the AWS alarm is {{name}}-high-cpu
{target}
    metric: CPUUtilization      # any metric; with namespace below
    namespace: AWS/EC2
    statistic: Average          # Average | Sum | Minimum | Maximum | SampleCount
    period_s: 60                # seconds per datapoint: 10, 30 or a multiple of 60
    evaluation_periods: 1       # datapoints in a row before ALARM
    threshold: 80
    comparison: GreaterThanThreshold   # or GreaterThanOrEqualToThreshold, LessThanThreshold, LessThanOrEqualToThreshold
    notify_ok: true             # also post when the alarm returns to OK

# Tags for every resource, besides relayctl:stack={name} (which relayctl owns).
# tags: {{ team: platform }}
"##
    )
}

/// A YAML scalar for a tag key or value: quoted unless plainly safe.
fn yaml_str(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    match plain {
        true => s.to_string(),
        false => serde_json::to_string(s).expect("a string serializes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Stack;

    #[test]
    fn the_template_parses_with_and_without_a_region() {
        for region in [Some("eu-west-1"), None] {
            let text = template("cpu-relay", region, &[]);
            let stack = Stack::parse(&text, Path::new("stack.yaml"))
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(stack.name, "cpu-relay");
            assert_eq!(stack.region.as_deref(), region);
            assert_eq!(stack.alarms.len(), 1);
        }
    }

    #[test]
    fn the_commented_out_fields_parse_too() {
        let text = uncomment(&template("cpu-relay", None, &[]));
        let stack = Stack::parse(&text, Path::new("stack.yaml")).unwrap();
        assert_eq!(stack.region.as_deref(), Some("eu-west-1"));
        assert_eq!(stack.slack.channel.as_deref(), Some("#alerts"));
        assert_eq!(stack.tags.get("team").map(String::as_str), Some("platform"));
    }

    /// `# field: value` lines made live, as a user would.
    pub fn uncomment(text: &str) -> String {
        text.lines()
            .map(|l| {
                let indent = l.len() - l.trim_start().len();
                match l.trim_start().strip_prefix("# ") {
                    Some(rest)
                        if rest.split_once(": ").is_some_and(|(k, _)| {
                            k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                        }) =>
                    {
                        format!("{}{rest}", &l[..indent])
                    }
                    _ => l.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn folder_names_become_valid_stack_names() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("My Relay_Prod");
        std::fs::create_dir(&sub).unwrap();
        assert_eq!(
            name_from_folder(&sub.join("stack.yaml")).as_deref(),
            Some("my-relay-prod")
        );
    }

    #[test]
    fn selector_tags_are_quoted_when_needed() {
        let text = template(
            "x",
            None,
            &[("Env".into(), "prod".into()), ("a b".into(), "".into())],
        );
        assert!(
            text.contains(
                "instance_selector: { tags: { Env: prod, \"a b\": \"\" }, states: [running] }"
            ),
            "{text}"
        );
        assert!(!text.contains("instance_id:"), "{text}");
        // What init writes is a stack that parses, selector and all.
        let stack = Stack::parse(&text, Path::new("stack.yaml")).unwrap();
        let crate::config::Target::Selector(sel) = &stack.alarms[0].target else {
            panic!("{:?}", stack.alarms[0].target);
        };
        assert_eq!(sel.tags.get("a b").map(String::as_str), Some(""));
        assert_eq!(sel.tags.get("Env").map(String::as_str), Some("prod"));
        assert_eq!(sel.states, ["running"]);
    }
}
