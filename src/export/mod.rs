//! `relayctl export cloudformation`: the chain the stack describes as a
//! CloudFormation template, for stacks and StackSets that relayctl does not
//! run itself. The template is made from the same `desired()` values `up`
//! converges to (`template`), with the account, region and partition left to
//! CloudFormation (`intrinsic`), and the handler's code in S3 under a key
//! derived from its SHA-256 (`code`). Deterministic: the same stack and
//! package give the same bytes on every run and machine.

mod code;
mod intrinsic;
mod refuse;
mod template;
mod yaml;

pub use code::{CodeLocation, upload};
pub use refuse::check_runtime_only;

use crate::config::Stack;

/// Why a stack cannot be exported, or its code not uploaded.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{file}: cannot export a template: {}", .problems.join("; "))]
    RuntimeOnly { file: String, problems: Vec<String> },
    #[error("--code-bucket {bucket:?}: {problem}")]
    Bucket { bucket: String, problem: String },
    #[error("--code-prefix {prefix:?}: {problem}")]
    Prefix { prefix: String, problem: String },
    #[error("cannot upload the handler's code: {0}")]
    Upload(#[source] Box<crate::aws::AwsError>),
}

impl ExportError {
    /// Stable codes, like every other error's (src/report.rs).
    pub fn code(&self) -> &'static str {
        match self {
            ExportError::RuntimeOnly { .. } => "E130",
            ExportError::Bucket { .. } => "E131",
            ExportError::Prefix { .. } => "E132",
            // An S3 call that failed: AwsError::Call's code (no import of
            // report.rs, which imports commands, which import this).
            ExportError::Upload(_) => "E303",
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            ExportError::RuntimeOnly { .. } => Some(
                "a template cannot list what only exists when relayctl runs: name the \
                 instances (instance_id) in the file you export, or manage this stack \
                 with `relayctl up`"
                    .into(),
            ),
            ExportError::Bucket { .. } => Some(
                "an S3 bucket name (3-63 of a-z 0-9 . -), or a per-region pattern such as \
                 relay-code-${AWS::Region} (quote it in the shell); see docs/stacksets.md"
                    .into(),
            ),
            ExportError::Prefix { .. } => {
                Some("a key prefix such as lambda/relay/ (no leading '/')".into())
            }
            ExportError::Upload(_) => Some(
                "check that the bucket exists in this region and that your credentials \
                 allow s3:GetObject and s3:PutObject on it; --no-upload writes the \
                 template without uploading"
                    .into(),
            ),
        }
    }
}

/// The CloudFormation template (YAML) for `stack`, its code at `code`.
pub fn cloudformation(stack: &Stack, code: &CodeLocation) -> String {
    let ctx = intrinsic::ctx(stack.clone());
    yaml::emit(&template::build(&ctx, code))
}
