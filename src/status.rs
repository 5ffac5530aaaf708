//! `relayctl status`: the live chain as people want to see it. Each resource
//! is present, missing, drifted (with the differing attributes), extra (ours
//! but no longer in the file) or foreign (same name, not ours); plus each
//! alarm's state and the function's state.

use std::fmt::Write as _;

use serde::Serialize;

use crate::change::{Action, Attr};
use crate::display::untrusted;
use crate::plan::Plan;
use crate::resources::{LiveState, alarm, function};
use crate::style;

#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Present,
    Missing,
    Drifted,
    Extra,
    Foreign,
}

#[derive(Debug, Serialize)]
pub struct Resource {
    pub kind: String,
    pub name: String,
    pub presence: Presence,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<Attr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AlarmState {
    pub name: String,
    pub state: Option<String>,
    pub reason: Option<String>,
    pub updated: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct FunctionState {
    pub state: Option<String>,
    pub state_reason: Option<String>,
    pub last_update_status: Option<String>,
    pub code_sha256: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub stack: String,
    pub account: String,
    pub region: String,
    /// True when every resource is present and matches the file.
    pub in_sync: bool,
    pub resources: Vec<Resource>,
    pub alarms: Vec<AlarmState>,
    pub function: Option<FunctionState>,
    /// Another run holds the stack's lock (docs/lock.md); absent when free.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<crate::lock::Holder>,
}

/// `plan` is the `up` plan for the same live state: its no-ops are what is
/// present, its creates what is missing, its updates what drifted.
pub fn build(plan: &Plan, live: &LiveState) -> Status {
    let mut resources: Vec<Resource> = plan
        .changes
        .iter()
        .map(|s| &s.change)
        .map(|c| {
            let presence = match c.action {
                Action::NoOp => Presence::Present,
                Action::Create => Presence::Missing,
                Action::Update | Action::Replace => Presence::Drifted,
                Action::Delete => Presence::Extra,
            };
            let drift = match c.action {
                Action::Update | Action::Replace => c.attrs.clone(),
                _ => Vec::new(),
            };
            Resource {
                kind: c.kind.label().to_string(),
                name: c.name.clone(),
                presence,
                drift,
                detail: c.note.clone(),
            }
        })
        .collect();
    for f in &live.foreign {
        if let crate::aws::AwsError::Foreign { kind, name, .. } = f {
            // The plan saw "missing" for it: replace that line with the truth.
            resources.retain(|r| !(r.kind == *kind && r.name == *name));
            resources.push(Resource {
                kind: kind.to_string(),
                name: name.clone(),
                presence: Presence::Foreign,
                drift: Vec::new(),
                detail: Some(f.to_string()),
            });
        }
    }
    let alarms = alarm::live(live)
        .iter()
        .map(|a| AlarmState {
            name: a.name.clone(),
            state: a.state.clone(),
            reason: a.state_reason.clone(),
            updated: a.state_updated.clone(),
        })
        .collect();
    let function = function::live(live).map(|f| FunctionState {
        state: f.state.clone(),
        state_reason: f.state_reason.clone(),
        last_update_status: f.last_update_status.clone(),
        code_sha256: f.code_sha256.clone(),
    });
    Status {
        stack: plan.stack.clone(),
        account: plan.account.clone(),
        region: plan.region.clone(),
        in_sync: resources
            .iter()
            .all(|r| matches!(r.presence, Presence::Present)),
        resources,
        alarms,
        function,
        lock: None,
    }
}

impl Status {
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "stack {} (account {}, {})",
            self.stack, self.account, self.region
        );
        for r in &self.resources {
            resource_lines(&mut out, r);
        }
        if let Some(f) = &self.function {
            let _ = writeln!(
                out,
                "function: state {}, last update {}{}",
                untrusted(f.state.as_deref().unwrap_or("unknown")),
                untrusted(f.last_update_status.as_deref().unwrap_or("unknown")),
                f.state_reason
                    .as_deref()
                    .map(|r| format!(" ({})", untrusted(r)))
                    .unwrap_or_default()
            );
        }
        for a in &self.alarms {
            let _ = writeln!(
                out,
                "alarm {}: {} since {}: {}",
                untrusted(&a.name),
                style::alarm_state(&untrusted(a.state.as_deref().unwrap_or("unknown"))),
                untrusted(a.updated.as_deref().unwrap_or("unknown")),
                untrusted(a.reason.as_deref().unwrap_or(""))
            );
        }
        if let Some(lock) = &self.lock {
            out.push_str(&locked(lock));
        }
        let verdict = match self.in_sync {
            true => style::paint(style::CREATE, "in sync with the file"),
            false => style::paint(
                style::UPDATE,
                "out of sync: `relayctl plan` shows what `up` would change",
            ),
        };
        let _ = writeln!(out, "{verdict}");
        out
    }
}

/// One resource's line, then what it has to say and its drifted attributes.
fn resource_lines(out: &mut String, r: &Resource) {
    let (word, colour) = match r.presence {
        Presence::Present => ("present", style::CREATE),
        Presence::Missing => ("MISSING", style::DELETE),
        Presence::Drifted => ("DRIFTED", style::UPDATE),
        Presence::Extra => ("extra (not in the file; `up` deletes it)", style::UPDATE),
        Presence::Foreign => ("FOREIGN (same name, not this stack's)", style::DELETE),
    };
    let word = style::paint(colour, word);
    let _ = writeln!(out, "  {:<18} {:<44} {word}", r.kind, untrusted(&r.name));
    match (&r.presence, &r.detail) {
        (Presence::Drifted, Some(detail)) => {
            let _ = writeln!(out, "      # {}", untrusted(detail));
        }
        // What a present or missing resource has to say (an SSM
        // parameter's version and last change, or how to create it).
        (Presence::Present | Presence::Missing, Some(detail)) => {
            let _ = writeln!(out, "      {}", untrusted(detail));
        }
        _ => {}
    }
    for a in &r.drift {
        let _ = writeln!(
            out,
            "      {:<22} live {} / file {}",
            untrusted(&a.name),
            untrusted(&a.show(&a.old)),
            untrusted(&a.show(&a.new))
        );
    }
}

/// `locked: up by ana@ci-7 (pid 4242) since …`: another run is changing it.
fn locked(lock: &crate::lock::Holder) -> String {
    format!(
        "{} {}\n",
        style::paint(style::UPDATE, "locked:"),
        lock.describe()
    )
}
