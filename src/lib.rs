//! relayctl: provisions, checks and removes a CloudWatch alarm -> SNS -> Lambda -> Slack relay.
//! Public: what main.rs, the tests and the benches use; the rest is private.
mod apply;
mod aws;
mod change;
mod cli;
mod commands;
pub mod config;
mod display;
mod export;
mod lock;
mod pacing;
pub mod package;
mod plan;
mod report;
mod resources;
mod retry;
mod secret;
mod smoke;
mod status;
mod style;

use std::process::ExitCode;

/// The whole program: parse the command line, run the command, and map
/// the outcome to an exit code (0 ok, 1 error, 2 usage or pending changes).
pub fn main() -> ExitCode {
    match commands::parse_args() {
        Ok(cli) => commands::run(cli),
        Err(code) => code,
    }
}

/// The command line's definition (tests/readme.rs checks the README's
/// command reference against it).
pub fn command() -> clap::Command {
    <cli::Cli as clap::CommandFactory>::command()
}
