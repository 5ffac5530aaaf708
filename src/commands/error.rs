//! What can stop a command, with its code and hint as data.

use std::path::PathBuf;

use crate::apply::ApplyError;
use crate::aws::AwsError;
use crate::config::ConfigError;
use crate::lock::LockError;
use crate::package::PackageError;
use crate::report::{Diagnostic, Location};

/// Everything that can stop a command. Remedies are data (`hint`), shown
/// by `report::Report` (see `Diagnostic` below).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(
        "interrupted by {signal}: `{operation}` stopped where it was; the stack's lock is released"
    )]
    Interrupted {
        signal: &'static str,
        operation: &'static str,
    },
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    #[error(
        "{zip} holds a bootstrap built for {found}, but stack.yaml's handler.architecture is {wanted}: Lambda would fail every invocation with \"exec format error\""
    )]
    ZipArchitecture {
        zip: String,
        found: &'static str,
        wanted: &'static str,
    },
    #[error("stack.yaml has no alarm named {0}")]
    NoSuchAlarm(String),
    #[error("the chain is not in place: {0} missing")]
    NotUp(String),
    #[error("{0}; nothing was changed")]
    NoSecret(String),
    #[error("{0}")]
    SecretInput(String),
    #[error("{} resource(s) named like this stack's are not owned by it; nothing was changed:\n{}", .0.len(), .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Foreign(Vec<AwsError>),
    #[error(
        "refusing to delete {count} resource(s) of stack {stack} without confirmation: stdin is not a terminal, so nobody can answer the question"
    )]
    NotConfirmed { stack: String, count: usize },
    #[error("nothing was deleted: the answer was not `yes`")]
    Cancelled,
    #[error("{} already exists; relayctl init does not overwrite it", file.display())]
    InitExists { file: PathBuf },
    #[error(
        "stack.yaml or --region names {} regions ({}); this command works in one region at a time",
        .0.len(),
        .0.join(", ")
    )]
    OneRegion(Vec<String>),
    #[error("cannot read the answer from stdin: {0}")]
    Stdin(#[source] std::io::Error),
    #[error("cannot write {}: {source}", file.display())]
    Write {
        file: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub fn hint(&self) -> Option<String> {
        match self {
            // ConfigError's Display carries its hints itself, per problem.
            Error::Config(_) => None,
            Error::Package(e) => e.hint(),
            Error::Aws(e) => e.hint(),
            Error::Apply(e) => e.hint(),
            Error::Lock(e) => e.hint(),
            Error::Interrupted { operation, .. } => Some(format!(
                "`relayctl status` shows what is in place; `relayctl {operation}` again goes on from there"
            )),
            Error::Export(e) => e.hint(),
            Error::ZipArchitecture { found, wanted, .. } => Some(format!(
                "rebuild the zip for {wanted}, or set handler.architecture: {found}"
            )),
            Error::NoSuchAlarm(_) => Some("pass one of the `alarms:` names to --alarm".into()),
            Error::NotUp(_) => {
                Some("run `relayctl up` first (`relayctl status` shows what is there)".into())
            }
            Error::NoSecret(_) => Some(
                "store the webhook first: `relayctl secret set < file` or \
                 `relayctl secret set --from-env VAR`"
                    .into(),
            ),
            Error::SecretInput(_) => Some(
                "pass the Slack incoming webhook URL on stdin or name the environment \
                 variable holding it with --from-env; never as an argument"
                    .into(),
            ),
            Error::Foreign(found) => match found.as_slice() {
                [one] => one.hint(),
                _ => Some("rename the stack, or delete or tag those resources yourself".into()),
            },
            Error::NotConfirmed { .. } => Some(
                "run `relayctl down --yes` (or --auto-approve) to delete without asking; `relayctl status` lists what is there".into(),
            ),
            Error::Cancelled => Some("run `relayctl down` again and type yes to delete".into()),
            Error::InitExists { .. } => Some(
                "pass --force to overwrite it, or -f other.yaml to write another file".into(),
            ),
            Error::OneRegion(regions) => Some(format!(
                "pass one of them with --region, e.g. --region {}",
                regions.first().map_or("eu-west-1", String::as_str)
            )),
            Error::Stdin(_) | Error::Write { .. } => None,
        }
    }
}

impl Error {
    /// 1, or the shell's 128 + signal number for a run a signal stopped.
    pub(super) fn exit_code(&self) -> u8 {
        match self {
            Error::Interrupted {
                signal: "SIGTERM", ..
            } => 143,
            Error::Interrupted { .. } => 130,
            _ => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Diagnostic for Error {
    fn code(&self) -> &'static str {
        use Error as E;
        match self {
            E::Config(e) => e.code(),
            E::Package(e) => e.code(),
            E::Aws(e) => e.code(),
            E::Apply(e) => e.code(),
            E::Lock(e) => e.code(),
            E::Interrupted { .. } => "E106",
            E::Export(e) => e.code(),
            E::ZipArchitecture { .. } => "E211",
            E::Foreign(found) => match found.as_slice() {
                [one] => one.code(),
                _ => "E304",
            },
            E::NotUp(_) => "E307",
            E::NoSecret(_) => "E309",
            E::SecretInput(_) => "E105",
            E::NoSuchAlarm(_) => "E101",
            E::NotConfirmed { .. } => "E102",
            E::Cancelled => "E103",
            E::InitExists { .. } => "E104",
            E::OneRegion(_) => "E107",
            E::Stdin(_) => "E401",
            E::Write { .. } => "E402",
        }
    }
    fn hint(&self) -> Option<String> {
        Error::hint(self)
    }
    fn location(&self) -> Option<Location> {
        use Error as E;
        match self {
            E::Config(e) => Diagnostic::location(e),
            E::Package(e) => e.location(),
            E::InitExists { file } | E::Write { file, .. } => Some(Location::file(file.clone())),
            _ => None,
        }
    }
}
