//! The command line: arguments (clap) and the one function main calls.
//! Results go to stdout, progress and errors to stderr.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::apply::{self, Reporter};
use crate::aws::{AwsError, Clients, Connection};
use crate::config::{ConfigError, Stack};
use crate::package::{self, Package, PackageError};
use crate::plan::{Action, Change};
use crate::resources::Ctx;
use crate::secret::Secret;
use crate::{converge, live, smoke, status};

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
  relayctl plan        # what would change, nothing written
  relayctl up          # build the handler and converge AWS to the file
  relayctl status      # the live chain, drift, the alarm's state
  relayctl test        # fire one alarm through the chain, see Slack's answer
  relayctl down        # remove everything the stack owns

Credentials and region come from the standard AWS chain (AWS_PROFILE,
AWS_REGION, ~/.aws/config, ...), never from stack.yaml. AWS_ENDPOINT_URL or
--endpoint-url points relayctl at a local fake AWS.";

#[derive(Debug, Parser)]
#[command(name = "relayctl", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
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
    /// AWS region; overrides stack.yaml's `region:` and AWS_REGION.
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Send every AWS call here instead (default: AWS_ENDPOINT_URL), e.g. a local fake.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// More logging on stderr (-v: AWS waits and retries, -vv: every call).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Result format on stdout.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
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
    Plan {
        /// Exit 0 when there is nothing to do, 2 when there are changes, 1 on error.
        #[arg(long)]
        detailed_exitcode: bool,
        #[command(flatten)]
        package: PackageArgs,
    },
    /// Build the handler and converge AWS to stack.yaml. A second `up` with
    /// nothing changed makes no write call.
    Up {
        #[command(flatten)]
        package: PackageArgs,
    },
    /// Delete everything this stack owns, in reverse dependency order.
    /// Resources without this stack's tag are never touched. Safe to repeat.
    Down,
    /// Show the live chain: each resource present, missing or drifted, the
    /// alarms' state and the function's state. Reads only. The handler's
    /// code is not compared (that needs a build: use `plan`).
    Status {
        /// Exit 0 when everything matches the file, 2 when anything is
        /// missing, drifted or foreign, 1 on error: for monitoring.
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Fire a test notification through the live chain: set one alarm to
    /// ALARM (its only write), then watch the function's log until the
    /// handler says Slack accepted the message, or why not. CloudWatch
    /// restores the alarm's real state at its next evaluation.
    Test(TestArgs),
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

/// Everything that can stop a command, each with its own fix in its message.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Apply(#[from] apply::ApplyError),
    #[error(
        "{zip} holds a bootstrap built for {found}, but stack.yaml's handler.architecture is {wanted}: Lambda would fail every invocation with \"exec format error\"\n  hint: rebuild the zip for {wanted}, or set handler.architecture: {found}"
    )]
    ZipArchitecture {
        zip: String,
        found: &'static str,
        wanted: &'static str,
    },
    #[error(
        "stack.yaml has no alarm named {0}\n  hint: pass one of the `alarms:` names to --alarm"
    )]
    NoSuchAlarm(String),
    #[error(
        "the chain is not in place: {0} missing\n  hint: run `relayctl up` first (`relayctl status` shows what is there)"
    )]
    NotUp(String),
    #[error("{} resource(s) named like this stack's are not owned by it; nothing was changed:\n{}", .0.len(), .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Foreign(Vec<AwsError>),
}

/// Parses nothing: main has done that. Runs one command and maps the outcome
/// to the exit code (0 ok, 1 error, 2 changes pending with --detailed-exitcode).
pub fn run(cli: Cli) -> ExitCode {
    init_logging(cli.global.verbose);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime starts");
    match runtime.block_on(dispatch(&cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(verbose: u8) {
    let filter = match verbose {
        // aws-config warns about every credential and region source it
        // tries; the error that follows says what is missing. -v shows them.
        0 => "warn,aws_config=error",
        1 => "relayctl=info,warn",
        2 => "relayctl=debug,info",
        _ => "debug",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RELAYCTL_LOG")
                .unwrap_or_else(|_| filter.into()),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

async fn dispatch(cli: &Cli) -> Result<ExitCode, Error> {
    let g = &cli.global;
    // Everything local is checked before the first AWS call.
    let stack = Stack::load(&g.file)?;
    let conn = Connection {
        profile: g.profile.clone(),
        region: g.region.clone(),
        endpoint_url: g.endpoint_url.clone(),
    };
    match &cli.command {
        Command::Plan {
            detailed_exitcode,
            package,
        } => {
            let webhook = optional_webhook(&stack);
            let package = load_package(&stack, package)?;
            let ctx = connect(&conn, stack, webhook, Some(package)).await?;
            let mut live = live::read_all(&ctx).await?;
            refuse_foreign(&mut live)?;
            let plan = converge::up(&ctx, &live);
            print(g.output, plan.render_text(), plan.render_json());
            Ok(if *detailed_exitcode && plan.has_changes() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Up { package } => {
            let webhook = Secret::new(stack.webhook_url()?);
            let package = load_package(&stack, package)?;
            let ctx = connect(&conn, stack, Some(webhook), Some(package)).await?;
            let mut live = live::read_all(&ctx).await?;
            refuse_foreign(&mut live)?;
            let plan = converge::up(&ctx, &live);
            let nothing = plan.render_text();
            apply_and_report(
                &ctx,
                &plan,
                g.output,
                nothing,
                "Applied {n} change(s) to stack {stack}.",
            )
            .await
        }
        Command::Down => {
            let ctx = connect(&conn, stack, None, None).await?;
            let live = live::read_all(&ctx).await?;
            for f in &live.foreign {
                eprintln!("warning: {f}");
            }
            let plan = converge::down(&ctx, &live);
            let nothing = format!(
                "Nothing to delete: stack {} owns no resources here.\n",
                plan.stack
            );
            apply_and_report(
                &ctx,
                &plan,
                g.output,
                nothing,
                "Deleted {n} resource(s) of stack {stack}.",
            )
            .await
        }
        Command::Test(args) => {
            let alarm = match &args.alarm {
                Some(name) => stack.alarms.iter().find(|a| &a.name == name),
                None => stack.alarms.first(),
            }
            .ok_or_else(|| Error::NoSuchAlarm(args.alarm.clone().unwrap_or_default()))?;
            let alarm = stack.alarm_name(alarm);
            let ctx = connect(&conn, stack, None, None).await?;
            let mut live = live::read_all(&ctx).await?;
            refuse_foreign(&mut live)?;
            if live.function.is_none() {
                return Err(Error::NotUp(format!(
                    "lambda function {}",
                    ctx.stack.function_name()
                )));
            }
            if !live.alarms.iter().any(|a| a.name == alarm) {
                return Err(Error::NotUp(format!("cloudwatch alarm {alarm}")));
            }
            eprintln!(
                "setting {alarm} to ALARM, then watching {} for up to {}s ...",
                ctx.stack.log_group_name(),
                args.wait
            );
            let verdict = smoke::fire(&ctx, &alarm, Duration::from_secs(args.wait)).await?;
            let (text, ok) = match &verdict {
                smoke::Verdict::Delivered { after } => (
                    format!(
                        "Slack accepted the test notification for {alarm} ({:.1}s after firing).\n",
                        after.as_secs_f64()
                    ),
                    true,
                ),
                smoke::Verdict::Refused { line } => (
                    format!(
                        "The handler ran but the post failed:\n  {}\nCheck the webhook (SLACK_WEBHOOK_URL at `up`) and the channel.\n",
                        line.trim()
                    ),
                    false,
                ),
                smoke::Verdict::Silent { waited } => (
                    format!(
                        "No delivery of {alarm} seen in {} after {:.0}s: the alarm action, the subscription or the function did not run. `relayctl status` shows the chain.\n",
                        ctx.stack.log_group_name(),
                        waited.as_secs_f64()
                    ),
                    false,
                ),
            };
            let json = serde_json::json!({"alarm": alarm, "delivered": ok, "detail": text.trim()});
            print(g.output, text, json.to_string());
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Status { detailed_exitcode } => {
            // The webhook is compared only when it is set here; the code not at all.
            let webhook = optional_webhook(&stack);
            let ctx = connect(&conn, stack, webhook, None).await?;
            let live = live::read_all(&ctx).await?;
            let plan = converge::up(&ctx, &live);
            let report = status::build(&plan, &live);
            let json = serde_json::to_string_pretty(&report).expect("status serializes");
            print(g.output, report.render_text(), json);
            Ok(if *detailed_exitcode && !report.in_sync {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}

/// Shared end of `up` and `down`: say there is nothing to do, or show the
/// plan, apply it with progress, and report. `done` may hold `{n}` and `{stack}`.
async fn apply_and_report(
    ctx: &Ctx,
    plan: &crate::plan::Plan,
    output: Output,
    nothing: String,
    done: &str,
) -> Result<ExitCode, Error> {
    if !plan.has_changes() {
        print(output, nothing, plan.render_json());
        return Ok(ExitCode::SUCCESS);
    }
    if output == Output::Text {
        write_stdout(&plan.render_text());
    }
    let applied = apply::apply(ctx, plan, &Progress).await?;
    let done = done
        .replace("{n}", &applied.to_string())
        .replace("{stack}", &plan.stack);
    print(output, format!("{done}\n"), plan.render_json());
    Ok(ExitCode::SUCCESS)
}

fn optional_webhook(stack: &Stack) -> Option<Secret> {
    stack.webhook_url().ok().map(Secret::new)
}

fn refuse_foreign(live: &mut live::LiveState) -> Result<(), Error> {
    if live.foreign.is_empty() {
        return Ok(());
    }
    Err(Error::Foreign(std::mem::take(&mut live.foreign)))
}

async fn connect(
    conn: &Connection,
    stack: Stack,
    webhook: Option<Secret>,
    package: Option<Package>,
) -> Result<Ctx, Error> {
    let clients = Clients::connect(conn, stack.region.as_deref()).await?;
    Ok(Ctx {
        clients,
        stack,
        webhook,
        package,
    })
}

fn load_package(stack: &Stack, args: &PackageArgs) -> Result<Package, Error> {
    let package = match &args.zip {
        Some(path) => {
            let package = package::from_zip_file(path)?;
            let wanted = stack.handler.architecture;
            // Not an ELF (a script, a test stand-in): nothing to compare.
            if let Some(found) = package.architecture().filter(|a| *a != wanted) {
                return Err(Error::ZipArchitecture {
                    zip: path.display().to_string(),
                    found: found.as_str(),
                    wanted: wanted.as_str(),
                });
            }
            package
        }
        None => package::build_package(stack, &target_dir(stack.handler_source()?))?,
    };
    eprintln!(
        "handler package: {} bytes, sha256 {}",
        package.zip.len(),
        package.sha256
    );
    Ok(package)
}

/// One target dir per workspace: the handler usually lives in relayctl's own
/// workspace, whose `target/` already holds its dependencies.
fn target_dir(handler: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let mut dir = handler.to_path_buf();
    while let Some(parent) = dir.parent() {
        let manifest = parent.join("Cargo.toml");
        if std::fs::read_to_string(&manifest).is_ok_and(|t| t.contains("[workspace]")) {
            return parent.join("target");
        }
        dir = parent.to_path_buf();
    }
    handler.join("target")
}

fn print(output: Output, text: String, json: String) {
    match output {
        Output::Text => write_stdout(&text),
        Output::Json => write_stdout(&format!("{json}\n")),
    }
}

/// `relayctl plan | head` closes stdout early: that is the reader's choice,
/// not an error worth a panic (print! would panic on the broken pipe).
fn write_stdout(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Progress lines on stderr: one when a change starts (so a long wait is
/// visible), one when it ends.
struct Progress;

impl Reporter for Progress {
    fn started(&self, c: &Change) {
        eprintln!("  {} {} {} ...", verb_ing(c.action), c.kind.label(), c.name);
    }

    fn finished(&self, c: &Change, elapsed: Duration, error: Option<&AwsError>) {
        let mark = if std::io::stderr().is_terminal() {
            ("\u{2713}", "\u{2717}")
        } else {
            ("ok", "FAILED")
        };
        match error {
            None => eprintln!(
                "  {} {} {} {} ({:.1}s)",
                mark.0,
                verb_ed(c.action),
                c.kind.label(),
                c.name,
                elapsed.as_secs_f64()
            ),
            Some(e) => eprintln!("  {} {} {}: {e}", mark.1, c.kind.label(), c.name),
        }
    }
}

fn verb_ing(a: Action) -> &'static str {
    match a {
        Action::Create => "creating",
        Action::Update => "updating",
        Action::Replace => "replacing",
        Action::Delete => "deleting",
        Action::NoOp => "checking",
    }
}

fn verb_ed(a: Action) -> &'static str {
    match a {
        Action::Create => "created",
        Action::Update => "updated",
        Action::Replace => "replaced",
        Action::Delete => "deleted",
        Action::NoOp => "checked",
    }
}
