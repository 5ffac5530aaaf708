use std::process::ExitCode;

fn main() -> ExitCode {
    relayctl::main()
}
