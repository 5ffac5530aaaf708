//! What can go wrong between stack.yaml on disk and a usable `Stack`, as data:
//! a stable code per kind, the hint apart from the message, the location.
//!
//! Every string here that came from the file has been through
//! `safe::shown` (control characters escaped, URLs withheld), so a
//! renderer may print it as it is.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Stable codes for each kind of problem inside a stack file (`Problem::code`).
/// Never renumber: users search for them. They sit in stack.yaml's E0xx
/// range so no kind shares a code with an error relayctl prints.
pub mod codes {
    /// The YAML itself does not parse.
    pub const SYNTAX: &str = "E040";
    /// No document at all.
    pub const EMPTY: &str = "E041";
    /// Alias expansion beyond the budget (a "billion laughs" file).
    pub const ALIASES: &str = "E042";
    /// Nesting deeper than any stack file needs.
    pub const TOO_DEEP: &str = "E043";
    /// Several `---` documents in one file.
    pub const DOCUMENTS: &str = "E044";
    /// Bytes that are not UTF-8.
    pub const NOT_UTF8: &str = "E045";
    pub const UNKNOWN_FIELD: &str = "E050";
    pub const DUPLICATE_FIELD: &str = "E051";
    pub const WRONG_TYPE: &str = "E052";
    pub const REQUIRED: &str = "E053";
    pub const INVALID_VALUE: &str = "E054";
    /// A control character (ESC, BEL, a newline…) in a string.
    pub const CONTROL_CHARACTER: &str = "E055";
    /// A Slack webhook URL in the file, where secrets never belong.
    pub const SECRET_IN_FILE: &str = "E056";
    pub const TAG: &str = "E057";
}

/// Everything that can go wrong between stack.yaml on disk and a usable `Stack`.
///
/// Each Display is complete on its own, hints included: the CLI prints
/// `error: {e}` and nothing else. The same parts are data too: `code()`,
/// `hint()`, `location()`, `problems()`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },

    /// Larger than any stack file has reason to be; nothing past the limit is read.
    #[error(
        "{} is larger than {} bytes\n  hint: {}",
        file.display(),
        limit,
        too_large_hint()
    )]
    TooLarge { file: PathBuf, limit: u64 },

    /// A directory, FIFO, device or socket: reading it could block or never end.
    #[error("{} is {what}, not a regular file\n  hint: {}", file.display(), not_a_file_hint())]
    NotAFile { file: PathBuf, what: &'static str },

    /// Every problem found, each with its own path, line and hint.
    #[error("{}", render_invalid(file, problems))]
    Invalid {
        file: PathBuf,
        problems: Vec<Problem>,
    },

    #[error(
        "environment variable {var} is not set (named by slack.webhook_url_env)\n  hint: {}",
        missing_webhook_hint(var)
    )]
    MissingWebhook { var: String },

    /// The value is a secret: the message names the variable, never its value.
    #[error(
        "environment variable {var}: {reason} (value not shown)\n  hint: {}",
        bad_webhook_hint(var)
    )]
    BadWebhook { var: String, reason: String },

    /// `handler.path` is needed for a build and is not a crate folder.
    #[error("handler.path: {} {problem}\n  hint: {}", path.display(), handler_source_hint())]
    HandlerSource {
        path: PathBuf,
        problem: &'static str,
    },
}

fn too_large_hint() -> &'static str {
    "a stack file is a few kilobytes; check that -f names the right file"
}

fn not_a_file_hint() -> &'static str {
    "pass the path of a stack.yaml file with -f"
}

fn missing_webhook_hint(var: &str) -> String {
    format!("export {var}=https://hooks.slack.com/services/… before `relayctl up`")
}

fn bad_webhook_hint(var: &str) -> String {
    format!("set {var} to the Slack incoming webhook URL, which starts with https://")
}

fn handler_source_hint() -> &'static str {
    "handler.path is the handler crate's folder (the one with its Cargo.toml), relative to \
     the stack file's folder; or pass a built package with --zip"
}

/// Where a problem is, as data for a renderer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl ConfigError {
    /// Stable code for the kind of error, such as `E010`; for `Invalid`, each
    /// problem has its own code as well.
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::Read { .. } => "E001",
            ConfigError::TooLarge { .. } => "E002",
            ConfigError::NotAFile { .. } => "E003",
            ConfigError::Invalid { .. } => "E010",
            ConfigError::MissingWebhook { .. } => "E020",
            ConfigError::BadWebhook { .. } => "E021",
            ConfigError::HandlerSource { .. } => "E030",
        }
    }

    /// The remedy alone, as data (the Display already contains it). For
    /// `Invalid`, the hint of its only problem; several problems each have
    /// their own (`problems()`).
    pub fn hint(&self) -> Option<String> {
        match self {
            ConfigError::Read { .. } => None,
            ConfigError::TooLarge { .. } => Some(too_large_hint().to_string()),
            ConfigError::NotAFile { .. } => Some(not_a_file_hint().to_string()),
            ConfigError::Invalid { problems, .. } => match problems.as_slice() {
                [only] => only.hint.clone(),
                _ => None,
            },
            ConfigError::MissingWebhook { var } => Some(missing_webhook_hint(var)),
            ConfigError::BadWebhook { var, .. } => Some(bad_webhook_hint(var)),
            ConfigError::HandlerSource { .. } => Some(handler_source_hint().to_string()),
        }
    }

    /// The file and, for `Invalid`, the first problem's line and column.
    pub fn location(&self) -> Option<Location> {
        let at = |file: &Path, line, column| Location {
            file: file.to_path_buf(),
            line,
            column,
        };
        match self {
            ConfigError::Read { file, .. }
            | ConfigError::TooLarge { file, .. }
            | ConfigError::NotAFile { file, .. } => Some(at(file, None, None)),
            ConfigError::Invalid { file, problems } => {
                let first = problems.first();
                Some(at(
                    file,
                    first.and_then(|p| p.line),
                    first.and_then(|p| p.column),
                ))
            }
            ConfigError::HandlerSource { path, .. } => Some(at(path, None, None)),
            ConfigError::MissingWebhook { .. } | ConfigError::BadWebhook { .. } => None,
        }
    }

    /// The problems of an `Invalid` file, in file order; empty otherwise.
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }
}

/// One thing wrong with stack.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Stable code of the kind of problem (`codes`).
    pub code: &'static str,
    /// Field path such as `alarms[1].period_s`; empty for a problem of the
    /// whole file (syntax, empty file).
    pub path: String,
    /// 1-based line in the file, when known (a defaulted field has none of its
    /// own and borrows its section's line, if the section is in the file).
    pub line: Option<usize>,
    /// 1-based column; known where the problem is the YAML's shape (syntax,
    /// unknown field, wrong type), not for a value's meaning.
    pub column: Option<usize>,
    /// What was found. Never contains a secret or a raw control character.
    pub message: String,
    /// What is allowed instead.
    pub hint: Option<String>,
    /// The offending line of the file, for a syntax error.
    pub excerpt: Option<Excerpt>,
}

/// One source line, escaped for a terminal, and where in it the caret goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Excerpt {
    pub text: String,
    /// 1-based column in `text` (after escaping) of the offending character.
    pub caret: usize,
}

impl Problem {
    pub(crate) fn new(
        code: &'static str,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Problem {
            code,
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
            hint: None,
            excerpt: None,
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn line(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }

    pub(crate) fn at(mut self, line: usize, column: usize) -> Self {
        self.line = Some(line);
        self.column = Some(column);
        self
    }
}

fn render_invalid(file: &Path, problems: &[Problem]) -> String {
    let file = file.display();
    let n = problems.len();
    let mut out = format!(
        "{file} is invalid ({n} problem{}):",
        if n == 1 { "" } else { "s" }
    );
    for p in problems {
        // file:line:col: is the form editors and terminals turn into links.
        let _ = write!(out, "\n  {file}");
        if let Some(line) = p.line {
            let _ = write!(out, ":{line}");
            if let Some(col) = p.column {
                let _ = write!(out, ":{col}");
            }
        }
        out.push_str(": ");
        if !p.path.is_empty() {
            let _ = write!(out, "{}: ", p.path);
        }
        out.push_str(&p.message);
        if let (Some(excerpt), Some(line)) = (&p.excerpt, p.line) {
            let gutter = " ".repeat(line.to_string().len());
            let pad = " ".repeat(excerpt.caret.saturating_sub(1));
            let _ = write!(
                out,
                "\n    {line} | {}\n    {gutter} | {pad}^",
                excerpt.text
            );
        }
        if let Some(hint) = &p.hint {
            let _ = write!(out, "\n    hint: {hint}");
        }
    }
    out
}

impl fmt::Display for Problem {
    /// `line: path: message` without the file; `ConfigError` adds the file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "{line}: ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}
