//! One module per subcommand, each `run(&Global, args) -> Result<ExitCode>`,
//! plus what they share: the error type, the `Session` that connects and
//! reads live state once, and output on stdout / progress on stderr.

mod down;
mod export;
mod init;
mod lock;
mod output;
mod plan;
mod policy;
mod progress;
mod regions;
mod secret;
mod session;
mod status;
mod test;
mod up;

use std::path::PathBuf;
use std::process::ExitCode;

use crate::apply::ApplyError;
use crate::aws::AwsError;
use crate::cli::{Cli, Command};
use crate::config::ConfigError;
use crate::lock::LockError;
use crate::package::PackageError;

/// Everything that can stop a command. Remedies are data (`hint`), shown
/// by `report::render`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(
        "interrupted by {signal}: `{operation}` stopped where it was; the stack's lock is released"
    )]
    Interrupted {
        signal: &'static str,
        operation: &'static str,
    },
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    #[error(
        "{zip} holds a bootstrap built for {found}, but stack.yaml's handler.architecture is {wanted}: Lambda would fail every invocation with \"exec format error\""
    )]
    ZipArchitecture {
        zip: String,
        found: &'static str,
        wanted: &'static str,
    },
    #[error("stack.yaml has no alarm named {0}")]
    NoSuchAlarm(String),
    #[error("the chain is not in place: {0} missing")]
    NotUp(String),
    #[error("{0}; nothing was changed")]
    NoSecret(String),
    #[error("{0}")]
    SecretInput(String),
    #[error("{} resource(s) named like this stack's are not owned by it; nothing was changed:\n{}", .0.len(), .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Foreign(Vec<AwsError>),
    #[error(
        "refusing to delete {count} resource(s) of stack {stack} without confirmation: stdin is not a terminal, so nobody can answer the question"
    )]
    NotConfirmed { stack: String, count: usize },
    #[error("nothing was deleted: the answer was not `yes`")]
    Cancelled,
    #[error("{} already exists; relayctl init does not overwrite it", file.display())]
    InitExists { file: PathBuf },
    #[error(
        "stack.yaml or --region names {} regions ({}); this command works in one region at a time",
        .0.len(),
        .0.join(", ")
    )]
    OneRegion(Vec<String>),
    #[error("cannot read the answer from stdin: {0}")]
    Stdin(#[source] std::io::Error),
    #[error("cannot write {}: {source}", file.display())]
    Write {
        file: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub fn hint(&self) -> Option<String> {
        match self {
            // ConfigError's Display carries its hints itself, per problem.
            Error::Config(_) => None,
            Error::Package(e) => e.hint(),
            Error::Aws(e) => e.hint(),
            Error::Apply(e) => e.hint(),
            Error::Lock(e) => e.hint(),
            Error::Interrupted { operation, .. } => Some(format!(
                "`relayctl status` shows what is in place; `relayctl {operation}` again goes on from there"
            )),
            Error::Export(e) => e.hint(),
            Error::ZipArchitecture { found, wanted, .. } => Some(format!(
                "rebuild the zip for {wanted}, or set handler.architecture: {found}"
            )),
            Error::NoSuchAlarm(_) => Some("pass one of the `alarms:` names to --alarm".into()),
            Error::NotUp(_) => {
                Some("run `relayctl up` first (`relayctl status` shows what is there)".into())
            }
            Error::NoSecret(_) => Some(
                "store the webhook first: `relayctl secret set < file` or \
                 `relayctl secret set --from-env VAR`"
                    .into(),
            ),
            Error::SecretInput(_) => Some(
                "pass the Slack incoming webhook URL on stdin or name the environment \
                 variable holding it with --from-env; never as an argument"
                    .into(),
            ),
            Error::Foreign(found) => match found.as_slice() {
                [one] => one.hint(),
                _ => Some("rename the stack, or delete or tag those resources yourself".into()),
            },
            Error::NotConfirmed { .. } => Some(
                "run `relayctl down --yes` (or --auto-approve) to delete without asking; `relayctl status` lists what is there".into(),
            ),
            Error::Cancelled => Some("run `relayctl down` again and type yes to delete".into()),
            Error::InitExists { .. } => Some(
                "pass --force to overwrite it, or -f other.yaml to write another file".into(),
            ),
            Error::OneRegion(regions) => Some(format!(
                "pass one of them with --region, e.g. --region {}",
                regions.first().map_or("eu-west-1", String::as_str)
            )),
            Error::Stdin(_) | Error::Write { .. } => None,
        }
    }
}

impl Error {
    /// 1, or the shell's 128 + signal number for a run a signal stopped.
    fn exit_code(&self) -> u8 {
        match self {
            Error::Interrupted {
                signal: "SIGTERM", ..
            } => 143,
            Error::Interrupted { .. } => 130,
            _ => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs one parsed command and maps the outcome to the exit code (0 ok,
/// 1 error, 2 changes pending with --detailed-exitcode).
pub fn run(cli: Cli) -> ExitCode {
    // anstream already honours NO_COLOR, CLICOLOR_FORCE and non-terminals.
    if cli.global.no_color {
        anstream::ColorChoice::Never.write_global();
    }
    // Progress lines (indicatif draws with console) and log lines follow
    // the same choice.
    let stderr_colour =
        anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never;
    console::set_colors_enabled_stderr(stderr_colour);
    output::init_logging(cli.global.verbose, stderr_colour);
    let g = &cli.global;
    // Commands that never touch AWS need no runtime.
    match &cli.command {
        Command::Completions(args) => return output::completions(args.shell),
        Command::Man => return output::man(),
        Command::Policy(args) => return finish(policy::run(g, args), g),
        _ => {}
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime starts");
    let result = runtime.block_on(async {
        // Several regions (`regions:` or `--region a,b`): regions.rs runs
        // the command in each; one region: the command as always.
        let g = match regions::targets(g, &cli.command)? {
            regions::Targets::One(g) => g,
            regions::Targets::Many(list) => return regions::run(g, &cli.command, &list).await,
        };
        let g = &g;
        match &cli.command {
            Command::Plan(args) => plan::run(g, args).await,
            Command::Up(args) => up::run(g, args).await,
            Command::Down(args) => down::run(g, args).await,
            Command::Status(args) => status::run(g, args).await,
            Command::Test(args) => test::run(g, args).await,
            Command::Secret(cmd) => secret::run(g, cmd).await,
            Command::Export(cmd) => export::run(g, cmd).await,
            Command::Init(args) => init::run(g, args).await,
            Command::Completions(_) | Command::Man | Command::Policy(_) => {
                unreachable!("handled above")
            }
        }
    });
    // Without waiting for blocking tasks: `down`'s question may still be
    // reading stdin after a Ctrl-C ended the command.
    runtime.shutdown_background();
    finish(result, g)
}

/// A command's outcome as its exit code; an error is reported on stderr.
fn finish(result: Result<ExitCode>, g: &crate::cli::Global) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::report::eprint(&e, g.output == crate::cli::Output::Json);
            ExitCode::from(e.exit_code())
        }
    }
}

/// Parses the command line; a usage error is reported like every other
/// error (`error[E100]`, or JSON with `--output json`), exit code 2.
pub fn parse_args() -> std::result::Result<Cli, ExitCode> {
    use clap::Parser as _;
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    match Cli::try_parse_from(&args) {
        Ok(cli) => Ok(cli),
        Err(e) => Err(output::usage_error(e, &args)),
    }
}
