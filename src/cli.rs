//! The command line's arguments (clap), and nothing else: what each command
//! does lives in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str =
    "Wire an AWS CloudWatch alarm to Slack: alarm -> SNS -> Lambda -> Slack, from one stack.yaml";

const LONG_ABOUT: &str = "\
relayctl builds, checks and removes the whole chain that posts
\"<alarm> state is now ALARM: <reason>\" to a Slack channel when an EC2
instance's CPU crosses a threshold:

  CloudWatch alarm -> SNS topic -> Lambda (Rust, handler/) -> Slack webhook

Everything is described by stack.yaml; AWS itself is the state (no local
state file). Resources are named after the stack and carry the tag
relayctl:stack=<name>; relayctl never touches a resource without it.

Typical use:
  export SLACK_WEBHOOK_URL=https://hooks.slack.com/services/...
  relayctl init        # write a commented stack.yaml to start from
  relayctl plan        # what would change, nothing written
  relayctl up          # build the handler and converge AWS to the file
  relayctl status      # the live chain, drift, the alarm's state
  relayctl test        # fire one alarm through the chain, see Slack's answer
  relayctl down        # remove everything the stack owns

Credentials and region come from the standard AWS chain (AWS_PROFILE,
AWS_REGION, ~/.aws/config, ...), never from stack.yaml. AWS_ENDPOINT_URL or
--endpoint-url points relayctl at a local fake AWS.";

/// `relayctl --version` names what it deploys: the handler is built for, and
/// runs on, this Lambda runtime.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (deploys a Rust handler on the Lambda runtime provided.al2023)"
);

#[derive(Debug, Parser)]
#[command(name = "relayctl", version = VERSION, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct Global {
    /// The stack file.
    #[arg(
        short = 'f',
        long = "file",
        global = true,
        default_value = "stack.yaml",
        value_name = "PATH"
    )]
    pub file: PathBuf,
    /// AWS profile from ~/.aws/config (default: AWS_PROFILE, else "default").
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region, or several separated by commas (eu-west-1,us-east-1:
    /// plan, up, status and down converge each at once); overrides
    /// stack.yaml's `region:` / `regions:` and AWS_REGION.
    #[arg(long, global = true, value_name = "REGION[,REGION...]", value_parser = parse_regions)]
    pub region: Option<String>,
    /// Send every AWS call here instead (default: AWS_ENDPOINT_URL), e.g. a local fake.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// More logging on stderr (-v: AWS waits and retries, -vv: every call).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Result format on stdout (json: errors too, as one JSON object on stderr).
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// No colour, even on a terminal (also: NO_COLOR=1; CLICOLOR_FORCE=1 forces it on).
    #[arg(long, global = true)]
    pub no_color: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what `up` would create, update, replace or delete, attribute by
    /// attribute. Reads AWS, writes nothing. Builds the handler to compare its code.
    Plan(PlanArgs),
    /// Build the handler and converge AWS to stack.yaml. A second `up` with
    /// nothing changed makes no write call.
    Up(UpArgs),
    /// Delete everything this stack owns, in reverse dependency order.
    /// Resources without this stack's tag are never touched. Safe to repeat.
    /// Shows what it will delete and asks first (type `yes`) unless --yes.
    Down(DownArgs),
    /// Show the live chain: each resource present, missing or drifted, the
    /// alarms' state and the function's state. Reads only. The handler's
    /// code is not compared (that needs a build: use `plan`).
    Status(StatusArgs),
    /// Fire a test notification through the live chain: set one alarm to
    /// ALARM (its only write; via INSUFFICIENT_DATA when it is already in
    /// ALARM, since setting the current state fires nothing), then watch the
    /// function's log until the handler says Slack accepted the message, or
    /// why not. CloudWatch restores the alarm's real state at its next
    /// evaluation.
    Test(TestArgs),
    /// Write the stack as a deployment artefact for other tools.
    #[command(subcommand)]
    Export(ExportCommand),
    /// The webhook as an SSM SecureString (stack.yaml `slack.webhook_url_ssm`).
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Write a commented stack.yaml (every field, its default and what it
    /// does) to start from. Makes no AWS call.
    Init(InitArgs),
    /// Print the least-privilege IAM policy (JSON) an operator needs to run
    /// plan, up, status, test, down and secret set for this stack, scoped
    /// to its resources. Makes no AWS call: the account, and the region
    /// unless --region or stack.yaml's `region:` names it, are
    /// CloudFormation-style placeholders (${AWS::AccountId}) unless given.
    Policy(PolicyArgs),
    /// Print a shell completion script on stdout, e.g.
    /// `relayctl completions bash > /etc/bash_completion.d/relayctl`.
    Completions(CompletionsArgs),
    /// Print relayctl's man page (roff) on stdout, e.g.
    /// `relayctl man > /usr/local/share/man/man1/relayctl.1`.
    Man,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Write a CloudFormation template (YAML, deterministic) of the same
    /// chain `up` makes: same names, same IAM policy, same tags, so
    /// `relayctl status` can inspect a stack CloudFormation made. Uploads
    /// the handler zip to S3 under a key made of its SHA-256, unless it is
    /// there already. The webhook is a NoEcho parameter (or, with
    /// `webhook_url_ssm`, the parameter's name): never in the template.
    /// For StackSets see docs/stacksets.md.
    Cloudformation(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// S3 bucket for the handler's code, in the region the stack is deployed
    /// to; `relay-code-${AWS::Region}` names one bucket per region (StackSets).
    #[arg(long, value_name = "BUCKET")]
    pub code_bucket: String,
    /// Key prefix for the code object, e.g. lambda/relay/.
    #[arg(long, value_name = "PREFIX", default_value = "")]
    pub code_prefix: String,
    /// Write the template without uploading the code (upload it yourself
    /// under the key the template names).
    #[arg(long)]
    pub no_upload: bool,
    /// Write the template to this file instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub package: PackageArgs,
}

#[derive(Debug, Args)]
pub struct DownArgs {
    /// Delete without asking. Needed when stdin is not a terminal (CI, scripts).
    #[arg(short = 'y', long, visible_alias = "auto-approve")]
    pub yes: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

/// The stack's lock (docs/lock.md): `up` and `down` hold it while they
/// write, so two runs never change one stack at once.
#[derive(Debug, Args)]
pub struct LockArgs {
    /// Break the stack's lock when another run holds it (that run may be
    /// dead, e.g. killed), saying whose it was, then take it. Only when
    /// you are sure that run is no longer writing.
    #[arg(long)]
    pub force_unlock: bool,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// The 12-digit AWS account id to put in the ARNs (default: the
    /// placeholder ${AWS::AccountId}).
    #[arg(long, value_name = "ID", value_parser = parse_account)]
    pub account: Option<String>,
}

fn parse_account(s: &str) -> Result<String, String> {
    match s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        true => Ok(s.to_string()),
        false => Err(format!("an AWS account id is 12 digits, got {s:?}")),
    }
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The stack's name: [a-z0-9-]{1,40}, the prefix of every AWS name
    /// (default: the folder's name, made valid, else cpu-relay).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Alarm on every instance with this tag instead of one instance id,
    /// e.g. Env=prod (repeat for several tags; all must match).
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_tag)]
    pub instance_selector: Vec<(String, String)>,
    /// Overwrite the file when it exists.
    #[arg(long)]
    pub force: bool,
}

/// Region codes as stack.yaml's `region:` takes them, each once.
fn parse_regions(s: &str) -> Result<String, String> {
    let list: Vec<&str> = s.split(',').map(str::trim).collect();
    for (i, r) in list.iter().enumerate() {
        if !crate::config::is_region(r) {
            return Err(format!(
                "{r:?} is not an AWS region code; use codes such as eu-west-1, separated by commas"
            ));
        }
        if list[..i].contains(r) {
            return Err(format!("{r} is listed twice; name each region once"));
        }
    }
    Ok(list.join(","))
}

fn parse_tag(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("expected KEY=VALUE (e.g. Env=prod), got {s:?}")),
    }
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store the Slack webhook URL in the stack's SecureString parameter,
    /// read from stdin or from the environment variable --from-env names,
    /// never from an argument, and never echoed. A new parameter gets the
    /// stack's ownership tag (`down` deletes only such a one); an existing
    /// one gets a new version, which the running handler picks up when
    /// Slack refuses the old URL: no `up` needed.
    Set(SecretSetArgs),
}

#[derive(Debug, Args)]
pub struct SecretSetArgs {
    /// Read the URL from this environment variable instead of stdin.
    #[arg(long, value_name = "VAR")]
    pub from_env: Option<String>,
    /// KMS key (id, ARN or alias) to encrypt with; default the AWS-managed
    /// key alias/aws/ssm.
    #[arg(long, value_name = "KEY")]
    pub key_id: Option<String>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Exit 0 when there is nothing to do, 2 when there are changes, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[command(flatten)]
    pub package: PackageArgs,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub package: PackageArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Exit 0 when everything matches the file, 2 when anything is
    /// missing, drifted or foreign, 1 on error: for monitoring.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Which alarm to fire, by its name in stack.yaml (default: the first).
    #[arg(long, value_name = "NAME")]
    pub alarm: Option<String>,
    /// How long to watch the function's log for the handler's verdict.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub wait: u64,
}

#[derive(Debug, Args)]
pub struct PackageArgs {
    /// Use this prebuilt Lambda zip (one `bootstrap` entry) instead of building handler/.
    #[arg(long, value_name = "PATH")]
    pub zip: Option<PathBuf>,
}
