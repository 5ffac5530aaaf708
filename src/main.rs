use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    relayctl::run(relayctl::cli::Cli::parse())
}
