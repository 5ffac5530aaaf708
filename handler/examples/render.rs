//! Prints the Slack payload the handler would post for an event.
//!
//! cargo run -p relay-handler --example render < handler/tests/fixtures/sns-alarm-seed-sample.json
//!
//! `SLACK_CHANNEL` is honoured as in the handler. Exits non-zero when stdin
//! cannot be read or is not JSON.

use std::io::{ErrorKind, Read, Write};

use anyhow::{Context, bail};
use relay_handler::{event, render};

fn main() {
    // One clear line, no backtrace: this is for people piping files in.
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let mut raw = String::new();
    std::io::stdin()
        .read_to_string(&mut raw)
        .context("could not read the event from stdin (is it UTF-8?)")?;
    if raw.trim().is_empty() {
        bail!("no event on stdin: pipe an event JSON file into this example");
    }
    let value: serde_json::Value = serde_json::from_str(&raw)
        .context("stdin is not JSON: Lambda events are JSON documents")?;
    let channel = std::env::var(relay_handler::config::CHANNEL_VAR).ok();
    for notification in event::parse_value(&value) {
        let message = render::render(&notification, channel.as_deref());
        let json = serde_json::to_string_pretty(&message)?;
        match writeln!(std::io::stdout().lock(), "{json}") {
            // `render | head` closing the pipe early is not an error.
            Err(e) if e.kind() == ErrorKind::BrokenPipe => return Ok(()),
            other => other.context("could not write to stdout")?,
        }
    }
    Ok(())
}
