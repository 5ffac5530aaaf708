//! `relayctl export cloudformation`: check the stack (no run-time-only
//! inputs), build or load the handler, upload its zip unless S3 has it,
//! write the template.

use std::process::ExitCode;

use super::session::{load_package, load_stack};
use super::{Error, Result};
use crate::aws::Connection;
use crate::cli::{ExportArgs, ExportCommand, Global};
use crate::export::{self, CodeLocation};

pub async fn run(g: &Global, cmd: &ExportCommand) -> Result<ExitCode> {
    let ExportCommand::Cloudformation(args) = cmd;
    cloudformation(g, args).await
}

async fn cloudformation(g: &Global, args: &ExportArgs) -> Result<ExitCode> {
    let stack = load_stack(g)?;
    // Everything local first: no build and no AWS call for a refused stack.
    export::check_runtime_only(&stack, &g.file.display().to_string())?;
    CodeLocation::new(&args.code_bucket, &args.code_prefix, "")?;
    let package = load_package(&stack, &args.package)?;
    let code = CodeLocation::for_package(&args.code_bucket, &args.code_prefix, &package)?;
    let template = export::cloudformation(&stack, &code);
    if args.no_upload {
        eprintln!(
            "not uploaded (--no-upload): the template expects the code at s3://{}/{}",
            code.bucket, code.key
        );
    } else {
        let conn = Connection {
            profile: g.profile.clone(),
            region: g.region.clone(),
            endpoint_url: g.endpoint_url.clone(),
        };
        let (bucket, uploaded) =
            export::upload(&conn, stack.region.as_deref(), &code, &package).await?;
        match uploaded {
            true => eprintln!("uploaded s3://{bucket}/{}", code.key),
            false => eprintln!("s3://{bucket}/{} is already there; not uploaded", code.key),
        }
    }
    match &args.out {
        Some(path) => std::fs::write(path, &template).map_err(|source| Error::Write {
            file: path.clone(),
            source,
        })?,
        None => super::output::write_stdout(&template),
    }
    Ok(ExitCode::SUCCESS)
}
