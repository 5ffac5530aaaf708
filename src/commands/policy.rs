//! `relayctl policy`: the IAM policy this stack's operator needs, from the
//! actions each resource kind declares (`resources/iam.rs`). No AWS call:
//! an administrator writes the policy before anyone can call anything.

use std::process::ExitCode;

use super::Result;
use super::session::load_stack;
use crate::cli::{Global, PolicyArgs};
use crate::resources::iam::{Place, policy};
use crate::resources::iam_grants;

pub fn run(g: &Global, args: &PolicyArgs) -> Result<ExitCode> {
    let stack = load_stack(g)?;
    // The same precedence as the AWS-facing commands: --region, then the file.
    let region = g.region.as_deref().or(stack.region.as_deref());
    let place = Place::new(region, args.account.as_deref());
    let doc = serde_json::to_string_pretty(&policy(&stack, &place, iam_grants()))
        .expect("policy serializes");
    println!("{doc}");
    Ok(ExitCode::SUCCESS)
}
