//! A plan is the ordered list of changes that would turn live AWS into the
//! stack. `plan` prints it, `up` applies the same value, `status` reads it
//! as present / missing / drifted. Rendering (text and JSON) lives here too.

use std::fmt::Write as _;

use serde::Serialize;

use crate::change::Action;
use crate::display::untrusted;
use crate::resources::{self, Ctx, LiveState, Step};
use crate::style;

#[derive(Debug, Serialize)]
pub struct Plan {
    pub stack: String,
    pub account: String,
    pub region: String,
    /// In dependency order (reversed for `down`); serialised as changes only.
    pub changes: Vec<Step>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub unchanged: usize,
}

impl Plan {
    /// What `up` would do: make live match the stack.
    pub fn up(ctx: &Ctx, live: &LiveState) -> Plan {
        Plan::of(ctx, resources::plan_up(ctx, live))
    }

    /// What `down` would do: delete everything the stack owns.
    pub fn down(ctx: &Ctx, live: &LiveState) -> Plan {
        Plan::of(ctx, resources::plan_down(ctx, live))
    }

    fn of(ctx: &Ctx, changes: Vec<Step>) -> Plan {
        Plan {
            stack: ctx.stack.name.clone(),
            account: ctx.clients.account.clone(),
            region: ctx.clients.region.clone(),
            changes,
        }
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in self.changes.iter().map(|s| &s.change) {
            match c.action {
                Action::NoOp => s.unchanged += 1,
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Replace => s.replace += 1,
                Action::Delete => s.delete += 1,
            }
        }
        s
    }

    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|s| s.change.action != Action::NoOp)
    }

    /// Terraform-style text: one block per change, unchanged resources in a
    /// single count at the end. Coloured (see `style`); every name and value
    /// escaped, as they come from the file and from AWS.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let changed = self.changes.iter().map(|s| &s.change);
        for c in changed.filter(|c| c.action != Action::NoOp) {
            let _ = writeln!(
                out,
                "{} {} {} ({})",
                style::symbol(c.action),
                c.kind.label(),
                style::paint(style::BOLD, &untrusted(&c.name)),
                style::paint(style::of_action(c.action), c.action.verb())
            );
            if let Some(note) = &c.note {
                let _ = writeln!(
                    out,
                    "      {}",
                    style::paint(style::DIM, &format!("# {}", untrusted(note)))
                );
            }
            for a in &c.attrs {
                let name = untrusted(&a.name);
                match (c.action, &a.old) {
                    (Action::Create, None) => {
                        let _ = writeln!(out, "      {name:<22} = {}", untrusted(&a.show(&a.new)));
                    }
                    _ => {
                        let _ = writeln!(
                            out,
                            "      {name:<22} : {} -> {}",
                            untrusted(&a.show(&a.old)),
                            untrusted(&a.show(&a.new))
                        );
                    }
                }
            }
        }
        let s = self.summary();
        if self.has_changes() {
            let _ = writeln!(
                out,
                "\n{} {} to create, {} to update, {} to replace, {} to delete, {} unchanged.",
                style::paint(style::BOLD, &format!("Plan for stack {}:", self.stack)),
                count(style::CREATE, s.create),
                count(style::UPDATE, s.update),
                count(style::DELETE, s.replace),
                count(style::DELETE, s.delete),
                s.unchanged
            );
        } else {
            let _ = writeln!(
                out,
                "No changes: stack {} matches AWS ({} resources unchanged).",
                self.stack, s.unchanged
            );
        }
        out
    }

    pub fn render_json(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            plan: &'a Plan,
            summary: Summary,
        }
        serde_json::to_string_pretty(&Out {
            plan: self,
            summary: self.summary(),
        })
        .expect("plan serializes")
    }
}

/// A count in its action's colour, when there is something to count.
fn count(colour: anstyle::Style, n: usize) -> String {
    match n {
        0 => "0".to_string(),
        n => style::paint(colour, &n.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{Attr, Change, Kind, REDACTED};

    #[test]
    fn sensitive_values_never_render() {
        let attrs = vec![
            Attr::new(
                "env.SLACK_WEBHOOK_URL",
                Some("https://old".into()),
                Some("https://new".into()),
            )
            .sensitive(),
        ];
        let plan = Plan {
            stack: "s".into(),
            account: "1".into(),
            region: "r".into(),
            changes: vec![Step {
                change: Change::new(
                    Kind::new("function", "lambda function"),
                    "s-relay",
                    Action::Update,
                    attrs,
                ),
                op: None,
            }],
        };
        let text = plan.render_text();
        assert!(text.contains(REDACTED), "{text}");
        assert!(!text.contains("https://"), "{text}");
        let json = plan.render_json();
        assert!(json.contains("\"sensitive\": true"), "{json}");
        assert!(!json.contains("https://"), "{json}");
        assert!(!format!("{plan:?}").contains("https://"));
    }
}
