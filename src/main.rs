use std::process::ExitCode;

fn main() -> ExitCode {
    match relayctl::parse_args() {
        Ok(cli) => relayctl::run(cli),
        Err(code) => code,
    }
}
