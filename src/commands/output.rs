//! Results on stdout (text or JSON), progress and logs on stderr.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use super::Result;
use crate::apply::{self, Reporter};
use crate::aws::AwsError;
use crate::change::{Action, Change};
use crate::cli::Output;
use crate::plan::Plan;
use crate::resources::Ctx;

pub fn init_logging(verbose: u8) {
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

pub fn print(output: Output, text: String, json: String) {
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

/// Shared end of `up` and `down`: say there is nothing to do, or show the
/// plan, apply it with progress, and report what `done` makes of the count.
pub async fn apply_and_report(
    ctx: &Ctx,
    plan: &Plan,
    output: Output,
    nothing: String,
    done: impl Fn(usize) -> String,
) -> Result<ExitCode> {
    if !plan.has_changes() {
        print(output, nothing, plan.render_json());
        return Ok(ExitCode::SUCCESS);
    }
    if output == Output::Text {
        write_stdout(&plan.render_text());
    }
    let applied = apply::apply(ctx, plan, &Progress).await?;
    print(output, format!("{}\n", done(applied)), plan.render_json());
    Ok(ExitCode::SUCCESS)
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
