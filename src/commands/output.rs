//! Results on stdout (text or JSON), progress and logs on stderr.

use std::process::ExitCode;

use clap::CommandFactory as _;

use super::Result;
use super::progress::{LogWriter, Progress};
use crate::apply;
use crate::change::Action;
use crate::cli::{Cli, Output};
use crate::plan::Plan;
use crate::resources::Ctx;

pub fn init_logging(verbose: u8, colour: bool) {
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
        .with_writer(|| LogWriter)
        .with_ansi(colour)
        .with_target(false)
        .try_init();
}

pub fn print(output: Output, text: String, json: String) {
    match output {
        Output::Text => write_stdout(&text),
        Output::Json => write_stdout(&format!("{json}\n")),
    }
}

/// `relayctl plan | head` closes stdout early: that is the reader's choice,
/// not an error worth a panic (print! would panic on the broken pipe).
/// Colour in `text` (anstyle codes) is kept on a terminal that takes it and
/// stripped everywhere else (NO_COLOR, --no-color, a pipe).
pub fn write_stdout(text: &str) {
    use std::io::Write as _;
    let mut out = anstream::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Shared end of `up` and `down`: say there is nothing to do, or show the
/// plan (unless `show_plan` is false: already shown), apply it with
/// progress, and report what `done` makes of the count.
pub async fn apply_and_report(
    ctx: &Ctx,
    plan: &Plan,
    output: Output,
    nothing: String,
    show_plan: bool,
    done: impl Fn(usize) -> String,
) -> Result<ExitCode> {
    if !plan.has_changes() {
        print(output, nothing, plan.render_json());
        return Ok(ExitCode::SUCCESS);
    }
    if output == Output::Text && show_plan {
        write_stdout(&plan.render_text());
    }
    let changes = plan
        .changes
        .iter()
        .filter(|s| s.op.is_some() && s.change.action != Action::NoOp)
        .count();
    let progress = Progress::new(changes);
    let applied = apply::apply(ctx, plan, &progress).await;
    progress.finish();
    let applied = applied?;
    print(output, format!("{}\n", done(applied)), plan.render_json());
    Ok(ExitCode::SUCCESS)
}

/// `relayctl completions <shell>`: the script on stdout.
pub fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "relayctl", &mut buf);
    write_stdout(&String::from_utf8_lossy(&buf));
    ExitCode::SUCCESS
}

/// `relayctl man`: the man page (roff), generated from the same clap
/// definition as `--help`, on stdout.
pub fn man() -> ExitCode {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .expect("writing to a Vec cannot fail");
    write_stdout(&String::from_utf8_lossy(&buf));
    ExitCode::SUCCESS
}

/// A usage error from clap, said like every other error: `error[E100]: …`
/// with clap's usage and tips as the hint, or one JSON object when the
/// command line asked for `--output json`. `--help` and `--version` print
/// as clap does.
pub fn usage_error(e: clap::Error, args: &[std::ffi::OsString]) -> ExitCode {
    if !e.use_stderr() {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let rendered = e.render().to_string();
    let body = rendered.strip_prefix("error: ").unwrap_or(&rendered);
    let (first, rest) = body.split_once('\n').unwrap_or((body, ""));
    let message = first.to_string();
    let hint: Vec<&str> = rest
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let report = crate::report::Report {
        code: crate::report::USAGE,
        message,
        causes: Vec::new(),
        hint: (!hint.is_empty()).then(|| hint.join("\n")),
        location: None,
    };
    let json = args
        .windows(2)
        .any(|w| w[0] == "--output" && w[1] == "json")
        || args.iter().any(|a| a == "--output=json");
    use std::io::Write as _;
    let mut stderr = anstream::stderr();
    // Text keeps clap's own layout (usage, tips) under the coded first line.
    let _ = match json {
        true => writeln!(stderr, "{}", report.json()),
        false => write!(
            stderr,
            "{}: {}",
            crate::style::paint(
                crate::report::ERROR,
                &format!("error[{}]", crate::report::USAGE)
            ),
            body
        ),
    };
    ExitCode::from(2)
}
