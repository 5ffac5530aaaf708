//! Several regions from one stack file (`regions: [eu-west-1, us-east-1]`
//! or `--region eu-west-1,us-east-1`): `plan`, `up`, `status` and `down`
//! read and converge every region at once, then report per region (a
//! header each in text, one object per region in JSON) with one exit
//! status for all, the worst: an error, then changes, then none.
//!
//! The regional resources are each region's own; the IAM role is global
//! and shared, each region keeping only its own inline policy on it
//! (resources/role.rs). A `down` of several regions removes each region's
//! policy with the rest of that region, then deletes the role once, after
//! every region's part is gone (docs/regions.md).

mod converge;

use std::process::ExitCode;

use serde_json::Value;

use super::Result;
use super::output::write_stdout;
use super::session::{Foreign, Session, load_package, load_stack, optional_webhook};
use crate::cli::{Command, Global, Output, PlanArgs, StatusArgs};
use crate::config::Stack;
use crate::plan::Plan;

/// Where one command runs.
pub enum Targets {
    /// One region (or the region chain's): the command runs as it always did.
    One(Global),
    /// Several regions: [`run`] runs the command in each.
    Many(Vec<String>),
}

/// `--region a,b` wins; else the file's `regions:`. A file that does not
/// load is left for the command itself to report.
pub fn targets(g: &Global, command: &Command) -> Result<Targets> {
    let multi = matches!(
        command,
        Command::Plan(_) | Command::Up(_) | Command::Down(_) | Command::Status(_)
    );
    let single_only = matches!(command, Command::Test(_) | Command::Secret(_));
    if !multi && !single_only {
        return Ok(Targets::One(g.clone()));
    }
    let list: Vec<String> = match &g.region {
        Some(flag) => flag.split(',').map(str::to_string).collect(),
        None => match Stack::load(&g.file) {
            Ok(stack) => stack.regions,
            Err(_) => Vec::new(),
        },
    };
    match list.as_slice() {
        [] => Ok(Targets::One(g.clone())),
        [one] => Ok(Targets::One(in_region(g, one))),
        _ if single_only => Err(super::Error::OneRegion(list)),
        _ => Ok(Targets::Many(list)),
    }
}

/// Runs a command that [`targets`] found several regions for.
pub async fn run(g: &Global, command: &Command, regions: &[String]) -> Result<ExitCode> {
    match command {
        Command::Plan(args) => plan(g, args, regions).await,
        Command::Status(args) => status(g, args, regions).await,
        Command::Up(args) => converge::up(g, args, regions).await,
        Command::Down(args) => converge::down(g, args, regions).await,
        _ => unreachable!("targets() gives several regions only to plan, up, down, status"),
    }
}

fn in_region(g: &Global, region: &str) -> Global {
    let mut g = g.clone();
    g.region = Some(region.to_string());
    g
}

/// How one region ended, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    Clean,
    Changes,
    Failed,
}

/// One region's report: text for people, a JSON value, its verdict.
struct Outcome {
    region: String,
    text: String,
    json: Value,
    verdict: Verdict,
}

impl Outcome {
    fn new(region: &str, text: String, json: Value, verdict: Verdict) -> Outcome {
        Outcome {
            region: region.to_string(),
            text,
            json,
            verdict,
        }
    }

    /// A region's error, reported like every other error (code, hint),
    /// under its region.
    fn failed(region: &str, err: &super::Error) -> Outcome {
        let report = crate::report::Report::of(err);
        Outcome {
            region: region.to_string(),
            text: report.text(true),
            json: serde_json::json!({ "error": report }),
            verdict: Verdict::Failed,
        }
    }

    fn of(region: &str, result: Result<Outcome>) -> Outcome {
        result.unwrap_or_else(|e| Outcome::failed(region, &e))
    }
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).expect("our own JSON parses")
}

/// Runs `each` in every region at once; the outcomes in the regions' order.
async fn each_region<'a, F, Fut>(regions: &'a [String], each: F) -> Vec<Outcome>
where
    F: Fn(&'a str) -> Fut,
    Fut: std::future::Future<Output = Result<Outcome>>,
{
    let runs = regions.iter().map(|r| {
        let run = each(r);
        async move { Outcome::of(r, run.await) }
    });
    futures::future::join_all(runs).await
}

/// Prints every region's report (text: a header each, errors on stderr;
/// JSON: one object, `regions` keyed by region) and `global`'s (the shared
/// role after a `down`: its own header, its own top-level JSON key), and
/// returns the worst verdict's exit code.
fn finish(g: &Global, stack: &str, outcomes: &[Outcome], global: Option<Outcome>) -> ExitCode {
    match g.output {
        Output::Text => {
            let mut out = String::new();
            let sections = outcomes.iter().map(|o| (region_header(&o.region), o));
            let global_section = global.as_ref().map(|o| (global_header(&o.region), o));
            for (head, o) in sections.chain(global_section) {
                out.push_str(&head);
                match o.verdict {
                    Verdict::Failed => {
                        out.push_str("failed (the error is on stderr)\n\n");
                        anstream::eprint!("{head}{}", o.text);
                    }
                    _ => out.push_str(&format!("{}\n", o.text)),
                }
            }
            write_stdout(&out);
        }
        Output::Json => {
            let regions: serde_json::Map<String, Value> = outcomes
                .iter()
                .map(|o| (o.region.clone(), o.json.clone()))
                .collect();
            let mut doc = serde_json::json!({ "stack": stack, "regions": regions });
            if let Some(o) = &global {
                doc[o.region.as_str()] = o.json.clone();
            }
            let text = serde_json::to_string_pretty(&doc).expect("serializes");
            write_stdout(&format!("{text}\n"));
        }
    }
    let worst = outcomes.iter().chain(&global).map(|o| o.verdict).max();
    match worst.unwrap_or(Verdict::Clean) {
        Verdict::Clean => ExitCode::SUCCESS,
        Verdict::Changes => ExitCode::from(2),
        Verdict::Failed => ExitCode::from(1),
    }
}

fn region_header(region: &str) -> String {
    header(&format!("region {region}"))
}

/// What all regions share: the IAM role (`what` = "role").
fn global_header(what: &str) -> String {
    header(&format!("global: iam {what}"))
}

fn header(title: &str) -> String {
    format!(
        "{}\n",
        crate::style::paint(crate::style::BOLD, &format!("=== {title} ==="))
    )
}

async fn plan(g: &Global, args: &PlanArgs, regions: &[String]) -> Result<ExitCode> {
    let stack = load_stack(g)?;
    let webhook = optional_webhook(&stack);
    let package = load_package(&stack, &args.package)?;
    let outcomes = each_region(regions, |region| {
        let (g, stack) = (in_region(g, region), stack.clone());
        let (webhook, package) = (webhook.clone(), package.clone());
        async move {
            let s = Session::open(&g, stack, webhook, Some(package), Foreign::Refuse).await?;
            let plan = Plan::up(&s.ctx, &s.live);
            let verdict = match args.detailed_exitcode && plan.has_changes() {
                true => Verdict::Changes,
                false => Verdict::Clean,
            };
            let json = json_of(&plan.render_json());
            Ok(Outcome::new(region, plan.render_text(), json, verdict))
        }
    })
    .await;
    Ok(finish(g, &stack.name, &outcomes, None))
}

async fn status(g: &Global, args: &StatusArgs, regions: &[String]) -> Result<ExitCode> {
    let stack = load_stack(g)?;
    let webhook = optional_webhook(&stack);
    let outcomes = each_region(regions, |region| {
        let (g, stack, webhook) = (in_region(g, region), stack.clone(), webhook.clone());
        async move {
            let s = Session::open(&g, stack, webhook, None, Foreign::Keep).await?;
            let plan = Plan::up(&s.ctx, &s.live);
            let report = crate::status::build(&plan, &s.live);
            let verdict = match args.detailed_exitcode && !report.in_sync {
                true => Verdict::Changes,
                false => Verdict::Clean,
            };
            let json = serde_json::to_value(&report).expect("status serializes");
            Ok(Outcome::new(region, report.render_text(), json, verdict))
        }
    })
    .await;
    Ok(finish(g, &stack.name, &outcomes, None))
}
