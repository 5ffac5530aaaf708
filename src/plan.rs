//! A plan is the ordered list of changes that would turn live AWS into the
//! stack. `plan` prints it, `up` applies the same value, `status` reads it
//! as present / missing / drifted. Rendering (text and JSON) lives here too.

use std::fmt::Write as _;

use serde::Serialize;

use crate::resources::Op;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    NoOp,
    Create,
    Update,
    /// AWS cannot change it in place: delete, then create.
    Replace,
    Delete,
}

impl Action {
    fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            Action::NoOp => "unchanged",
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
        }
    }
}

/// One attribute's old and new value, already rendered for people.
/// A sensitive value is compared for real but never rendered, in text or JSON.
#[derive(Clone, PartialEq)]
pub struct Attr {
    pub name: String,
    pub old: Option<String>,
    pub new: Option<String>,
    pub sensitive: bool,
}

pub const REDACTED: &str = "(sensitive value)";

impl Attr {
    pub fn new(name: impl Into<String>, old: Option<String>, new: Option<String>) -> Attr {
        Attr {
            name: name.into(),
            old,
            new,
            sensitive: false,
        }
    }

    pub fn sensitive(mut self) -> Attr {
        self.sensitive = true;
        self
    }

    fn redacted(&self, value: &Option<String>) -> Option<String> {
        match value {
            Some(_) if self.sensitive => Some(REDACTED.to_string()),
            other => other.clone(),
        }
    }

    fn show(&self, value: &Option<String>) -> String {
        match value {
            None => "(none)".to_string(),
            Some(_) if self.sensitive => REDACTED.to_string(),
            Some(v) => v.clone(),
        }
    }
}

impl Serialize for Attr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Attr", 4)?;
        st.serialize_field("name", &self.name)?;
        st.serialize_field("old", &self.redacted(&self.old))?;
        st.serialize_field("new", &self.redacted(&self.new))?;
        st.serialize_field("sensitive", &self.sensitive)?;
        st.end()
    }
}

// Debug goes to logs with -v: it must redact too.
impl std::fmt::Debug for Attr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attr")
            .field("name", &self.name)
            .field("old", &self.redacted(&self.old))
            .field("new", &self.redacted(&self.new))
            .finish()
    }
}

/// Compares one attribute and records it when it differs.
pub fn compare(attrs: &mut Vec<Attr>, name: &str, old: Option<String>, new: Option<String>) {
    if old != new {
        attrs.push(Attr::new(name, old, new));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Role,
    LogGroup,
    Topic,
    Function,
    Permission,
    Alarm,
    Subscription,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Role => "iam role",
            Kind::LogGroup => "log group",
            Kind::Topic => "sns topic",
            Kind::Function => "lambda function",
            Kind::Permission => "lambda permission",
            Kind::Alarm => "cloudwatch alarm",
            Kind::Subscription => "sns subscription",
        }
    }

    /// Dependency level: everything in one level can run at once; a level
    /// starts when the one before it is done (reversed for deletes).
    pub fn level(self) -> usize {
        match self {
            Kind::Role | Kind::LogGroup | Kind::Topic => 0,
            Kind::Function => 1,
            Kind::Permission | Kind::Alarm => 2,
            Kind::Subscription => 3,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub kind: Kind,
    pub name: String,
    pub action: Action,
    /// Create: every attribute; update/replace: the differing ones; delete: none.
    pub attrs: Vec<Attr>,
    /// Why a replace is needed, or other context worth showing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What apply runs; None for a no-op.
    #[serde(skip)]
    pub op: Option<Op>,
}

impl Change {
    pub fn noop(kind: Kind, name: impl Into<String>) -> Change {
        Change {
            kind,
            name: name.into(),
            action: Action::NoOp,
            attrs: Vec::new(),
            note: None,
            op: None,
        }
    }

    pub fn new(
        kind: Kind,
        name: impl Into<String>,
        action: Action,
        attrs: Vec<Attr>,
        op: Op,
    ) -> Change {
        Change {
            kind,
            name: name.into(),
            action,
            attrs,
            note: None,
            op: Some(op),
        }
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Change {
        self.note = Some(note.into());
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub stack: String,
    pub account: String,
    pub region: String,
    pub changes: Vec<Change>,
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
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
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
        self.changes.iter().any(|c| c.action != Action::NoOp)
    }

    /// Terraform-style text: one block per change, unchanged resources in a
    /// single count at the end.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for c in self.changes.iter().filter(|c| c.action != Action::NoOp) {
            let _ = writeln!(
                out,
                "{:>3} {} {} ({})",
                c.action.symbol(),
                c.kind.label(),
                c.name,
                c.action.verb()
            );
            if let Some(note) = &c.note {
                let _ = writeln!(out, "      # {note}");
            }
            for a in &c.attrs {
                match (c.action, &a.old) {
                    (Action::Create, None) => {
                        let _ = writeln!(out, "      {:<22} = {}", a.name, a.show(&a.new));
                    }
                    _ => {
                        let _ = writeln!(
                            out,
                            "      {:<22} : {} -> {}",
                            a.name,
                            a.show(&a.old),
                            a.show(&a.new)
                        );
                    }
                }
            }
        }
        let s = self.summary();
        if self.has_changes() {
            let _ = writeln!(
                out,
                "\nPlan for stack {}: {} to create, {} to update, {} to replace, {} to delete, {} unchanged.",
                self.stack, s.create, s.update, s.replace, s.delete, s.unchanged
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

#[cfg(test)]
mod tests {
    use super::*;

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
            changes: vec![Change {
                kind: Kind::Function,
                name: "s-relay".into(),
                action: Action::Update,
                attrs,
                note: None,
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
