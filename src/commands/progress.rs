//! Live progress on stderr (uv's and cargo's way): while a plan is applied,
//! one spinner line per resource being changed, with how long it has been
//! waiting (IAM propagation and Lambda's state waits happen inside those
//! calls), above one bar counting the changes with their rate (a 500-alarm
//! fleet). When stderr is not a terminal, plain lines instead: one when a
//! change starts, one when it ends. Nothing here writes to stdout.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::apply::Reporter;
use crate::aws::AwsError;
use crate::change::{Action, Change};
use crate::report::escape;

/// The one set of live lines of this process. Log lines (tracing) are
/// printed through it, above the bars, so the two never garble each other.
pub fn multi() -> &'static MultiProgress {
    static MULTI: OnceLock<MultiProgress> = OnceLock::new();
    MULTI.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
}

/// Whether live lines are drawn: stderr is a terminal (indicatif decides).
pub fn live() -> bool {
    !multi().is_hidden()
}

/// A writer for tracing: each log line is written with the bars cleared.
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        multi().suspend(|| std::io::stderr().write_all(buf))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// A spinner on its own that says what it waits for and for how long
/// (`relayctl test` watching the function's log); `None` without a terminal.
pub fn spinner(message: String) -> Option<ProgressBar> {
    if !live() {
        return None;
    }
    let bar = multi().add(ProgressBar::new_spinner());
    bar.set_style(spinner_style());
    bar.set_message(escape(&message));
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("  {spinner:.cyan} {msg} {elapsed:.dim}")
        .expect("the template is valid")
}

/// Reports an apply: live lines on a terminal, plain lines otherwise.
pub struct Progress {
    /// The count of all changes, with the rate; `None` when not live.
    total: Option<ProgressBar>,
    running: Mutex<HashMap<(&'static str, String), ProgressBar>>,
}

impl Progress {
    pub fn new(changes: usize) -> Progress {
        let total = live().then(|| {
            let bar = multi().add(ProgressBar::new(changes as u64));
            bar.set_style(
                ProgressStyle::with_template(
                    "  {pos}/{len} changes [{bar:24.green/dim}] {per_sec:.dim} {elapsed:.dim}",
                )
                .expect("the template is valid")
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Progress {
            total,
            running: Mutex::new(HashMap::new()),
        }
    }

    /// Clears the live lines; what was printed above them stays.
    pub fn finish(&self) {
        if let Some(total) = &self.total {
            total.finish_and_clear();
        }
    }

    fn key(c: &Change) -> (&'static str, String) {
        (c.kind.id, c.name.clone())
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

impl Reporter for Progress {
    fn started(&self, c: &Change) {
        let what = format!(
            "{} {} {}",
            verb_ing(c.action),
            c.kind.label(),
            escape(&c.name)
        );
        let Some(total) = &self.total else {
            eprintln!("  {what} ...");
            return;
        };
        let bar = multi().insert_before(total, ProgressBar::new_spinner());
        bar.set_style(spinner_style());
        bar.set_message(what);
        bar.enable_steady_tick(Duration::from_millis(120));
        self.running
            .lock()
            .expect("not poisoned")
            .insert(Progress::key(c), bar);
    }

    fn finished(&self, c: &Change, elapsed: Duration, error: Option<&AwsError>) {
        let name = escape(&c.name);
        let line = |ok: &str, failed: &str| match error {
            None => format!(
                "  {ok} {} {} {name} ({:.1}s)",
                verb_ed(c.action),
                c.kind.label(),
                elapsed.as_secs_f64()
            ),
            Some(e) => format!(
                "  {failed} {} {name}: {}",
                c.kind.label(),
                escape(&e.to_string())
            ),
        };
        let Some(total) = &self.total else {
            eprintln!("{}", line("ok", "FAILED"));
            return;
        };
        if let Some(bar) = self
            .running
            .lock()
            .expect("not poisoned")
            .remove(&Progress::key(c))
        {
            bar.finish_and_clear();
            multi().remove(&bar);
        }
        let green = anstyle::AnsiColor::Green.on_default();
        let red = anstyle::AnsiColor::Red.on_default().bold();
        // anstream strips the colour again where it is not wanted.
        let styled = |style: anstyle::Style, s: &str| format!("{style}{s}{style:#}");
        multi().suspend(|| {
            anstream::eprintln!(
                "{}",
                line(&styled(green, "\u{2713}"), &styled(red, "\u{2717}"))
            )
        });
        total.inc(1);
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
