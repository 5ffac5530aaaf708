//! The one place an error becomes text for people (uv's way): `error[CODE]:`
//! with the message, a `Caused by:` line per cause not already said, then the
//! hints that the errors in the chain carry as data. With `--output json`
//! the same facts are one JSON object on stderr.
//!
//! Every error type implements [`Diagnostic`]: a stable code (documented in
//! the README's troubleshooting table, so it may be searched for and matched
//! on by scripts), a hint and, where the error is about a file, a location.
//! Codes by layer: E0xx stack.yaml (config), E1xx usage and the command
//! line, E2xx the handler package, E3xx AWS, E4xx local I/O.

use std::error::Error;
use std::path::PathBuf;

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use crate::apply::ApplyError;
use crate::aws::AwsError;
use crate::config::ConfigError;
use crate::lock::LockError;
use crate::package::PackageError;

/// What every error relayctl reports can say about itself, as data. The
/// command layer implements it for its own error type, so this module needs
/// to know no command.
pub trait Diagnostic: Error + 'static {
    /// Stable across releases: `E302` always means "no AWS credentials".
    fn code(&self) -> &'static str;
    /// The remedy, if there is one worth saying.
    fn hint(&self) -> Option<String> {
        None
    }
    /// Where in which file, for errors about a file.
    fn location(&self) -> Option<Location> {
        None
    }
}

/// A place in a file: `stack.yaml:14:5`, field `alarms[0].period_s`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The field path, e.g. `alarms[1].period_s`.
    pub field: Option<String>,
}

/// How `error` and `hint` look on a terminal (cargo's colours).
pub const ERROR: Style = AnsiColor::Red.on_default().bold();
pub const HINT: Style = AnsiColor::Cyan.on_default().bold();

/// Errors the command line itself reports: clap's usage errors.
pub const USAGE: &str = "E100";

// Config's own codes, hint and location; the field path is the first
// problem's, when there is exactly one place to point at.
impl Diagnostic for ConfigError {
    fn code(&self) -> &'static str {
        ConfigError::code(self)
    }
    fn hint(&self) -> Option<String> {
        ConfigError::hint(self)
    }
    fn location(&self) -> Option<Location> {
        let at = ConfigError::location(self)?;
        let field = match self {
            ConfigError::Invalid { problems, .. } => problems
                .first()
                .map(|p| p.path.clone())
                .filter(|p| !p.is_empty()),
            _ => None,
        };
        Some(Location {
            file: at.file,
            line: at.line,
            column: at.column,
            field,
        })
    }
}

impl Diagnostic for PackageError {
    fn code(&self) -> &'static str {
        match self {
            PackageError::ToolMissing { .. } => "E201",
            PackageError::TargetMissing { .. } => "E202",
            PackageError::Spawn { .. } => "E203",
            PackageError::BuildFailed { .. } => "E204",
            PackageError::BinaryMissing { .. } => "E205",
            PackageError::Read { .. } => "E206",
            PackageError::NotAZip { .. } => "E207",
            PackageError::NoBootstrap { .. } => "E208",
            PackageError::NotExecutable { .. } => "E209",
            PackageError::Zip(_) => "E210",
        }
    }
    fn hint(&self) -> Option<String> {
        PackageError::hint(self)
    }
    fn location(&self) -> Option<Location> {
        match self {
            PackageError::Read { path, .. }
            | PackageError::NotAZip { path, .. }
            | PackageError::NoBootstrap { path, .. }
            | PackageError::NotExecutable { path, .. } => Some(Location::file(path.clone())),
            _ => None,
        }
    }
}

impl Diagnostic for AwsError {
    fn code(&self) -> &'static str {
        match self {
            AwsError::NoRegion => "E301",
            AwsError::NoCredentials { .. } => "E302",
            AwsError::Call { .. } => "E303",
            AwsError::Foreign { .. } => "E304",
            AwsError::Wait { .. } => "E305",
            AwsError::OwnershipUnknown { .. } => "E308",
        }
    }
    fn hint(&self) -> Option<String> {
        AwsError::hint(self)
    }
}

impl Diagnostic for LockError {
    fn code(&self) -> &'static str {
        match self {
            LockError::Held { .. } => "E310",
            LockError::Contended { .. } => "E311",
            LockError::Aws(e) => e.code(),
        }
    }
    fn hint(&self) -> Option<String> {
        LockError::hint(self)
    }
}

impl Diagnostic for ApplyError {
    fn code(&self) -> &'static str {
        "E306"
    }
    fn hint(&self) -> Option<String> {
        ApplyError::hint(self)
    }
}

impl Location {
    pub fn file(file: PathBuf) -> Location {
        Location {
            file,
            line: None,
            column: None,
            field: None,
        }
    }
}

/// A cause as a `Diagnostic`, when it is one of the lower layers' types.
fn diagnostic<'a>(err: &'a (dyn Error + 'static)) -> Option<&'a dyn Diagnostic> {
    if let Some(e) = err.downcast_ref::<ConfigError>() {
        return Some(e);
    }
    if let Some(e) = err.downcast_ref::<AwsError>() {
        return Some(e);
    }
    if let Some(e) = err.downcast_ref::<PackageError>() {
        return Some(e);
    }
    if let Some(e) = err.downcast_ref::<ApplyError>() {
        return Some(e);
    }
    if let Some(e) = err.downcast_ref::<LockError>() {
        return Some(e);
    }
    None
}

/// What is said about one error, before it is text or JSON.
#[derive(Debug, Serialize)]
pub struct Report {
    pub code: &'static str,
    pub message: String,
    /// Each cause not already part of the message.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<String>,
    /// The remedies, one per line; null when there is none.
    pub hint: Option<String>,
    pub location: Option<Location>,
}

impl Report {
    pub fn of(top: &dyn Diagnostic) -> Report {
        let message = top.to_string();
        let mut said = message.clone();
        let mut causes = Vec::new();
        let mut hints: Vec<String> = top.hint().into_iter().collect();
        let mut next = top.source();
        while let Some(cause) = next {
            let text = cause.to_string();
            if !said.contains(&text) {
                said.push_str(&text);
                causes.push(text);
            }
            hints.extend(diagnostic(cause).and_then(Diagnostic::hint));
            next = cause.source();
        }
        hints.dedup();
        // Some messages carry their hint already (config's, for now).
        hints.retain(|h| !said.contains(h.as_str()));
        Report {
            code: top.code(),
            message,
            causes,
            hint: (!hints.is_empty()).then(|| hints.join("\n")),
            location: top.location(),
        }
    }

    /// `error[CODE]: …`, `  Caused by: …` and `  hint: …` lines, ending in
    /// a newline; styled (bold red `error`, cyan `hint`) when `styled`.
    /// Every string in it is escaped: AWS messages and file names may hold
    /// control characters.
    pub fn text(&self, styled: bool) -> String {
        let paint = |style: Style, s: &str| match styled {
            true => format!("{style}{s}{style:#}"),
            false => s.to_string(),
        };
        let mut out = format!(
            "{}: {}\n",
            paint(ERROR, &format!("error[{}]", self.code)),
            escape(&self.message)
        );
        for cause in &self.causes {
            out.push_str(&format!("  Caused by: {}\n", escape(cause)));
        }
        for line in self.hint.iter().flat_map(|h| h.lines()) {
            out.push_str(&format!("  {}: {}\n", paint(HINT, "hint"), escape(line)));
        }
        out
    }

    pub fn json(&self) -> String {
        serde_json::to_string(self).expect("an error report serializes")
    }
}

/// Plain text of an error, as tests want it.
#[cfg(test)]
pub fn render(err: &dyn Diagnostic) -> String {
    Report::of(err).text(false)
}

/// Control characters (an ANSI escape in an AWS message, a file name with a
/// carriage return) shown as `\u{1b}` instead of acted on by the terminal.
/// Newlines and tabs are kept: messages are multi-line.
pub fn escape(s: &str) -> String {
    if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return s.to_string();
    }
    s.chars()
        .map(|c| match c {
            '\n' | '\t' => c.to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// Prints the error on stderr: text (coloured when stderr takes colour) or
/// one JSON object.
pub fn eprint(err: &dyn Diagnostic, json: bool) {
    use std::io::Write as _;
    let report = Report::of(err);
    let mut stderr = anstream::stderr();
    let _ = match json {
        true => writeln!(stderr, "{}", report.json()),
        false => write!(stderr, "{}", report.text(true)),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_characters_but_keeps_lines() {
        assert_eq!(escape("a\u{1b}[31mb\nc\r"), "a\\u{1b}[31mb\nc\\u{d}");
        assert_eq!(escape("plain\ttext"), "plain\ttext");
    }

    #[test]
    fn text_and_json_carry_the_same_facts() {
        let err = AwsError::NoRegion;
        let report = Report::of(&err);
        assert_eq!(
            report.text(false),
            "error[E301]: no AWS region\n  hint: set `region:` in stack.yaml, pass --region, or export AWS_REGION\n"
        );
        let json: serde_json::Value = serde_json::from_str(&report.json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "code": "E301",
                "message": "no AWS region",
                "hint": "set `region:` in stack.yaml, pass --region, or export AWS_REGION",
                "location": null,
            })
        );
        let styled = report.text(true);
        assert!(styled.contains("\u{1b}["), "{styled:?}");
        assert_eq!(
            anstream::adapter::strip_str(&styled).to_string(),
            report.text(false)
        );
    }

    #[test]
    fn a_hint_already_in_the_message_is_not_repeated() {
        let err = ConfigError::MissingWebhook {
            var: "SLACK_WEBHOOK_URL".into(),
        };
        let text = render(&err);
        assert_eq!(text.matches("hint:").count(), 1, "{text}");
        assert!(text.starts_with("error[E020]: environment variable SLACK_WEBHOOK_URL"));
    }
}
