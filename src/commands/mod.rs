//! One module per subcommand, each `run(&Global, args) -> Result<ExitCode>`,
//! plus what they share: the error type, the `Session` that connects and
//! reads live state once, and output on stdout / progress on stderr.

mod down;
mod error;
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

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub use error::{Error, Result};

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
