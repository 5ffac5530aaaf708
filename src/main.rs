use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    relayctl::cli::run(relayctl::cli::Cli::parse())
}
