//! What a plan is made of, independent of how it is carried out: the kind
//! of resource, the action, and each attribute's old and new value. A leaf:
//! it imports nothing of the crate, so resources, plan rendering and status
//! can all depend on it without depending on each other.

use serde::Serialize;

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
    pub fn symbol(self) -> &'static str {
        match self {
            Action::NoOp => " ",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
        }
    }

    pub fn verb(self) -> &'static str {
        match self {
            Action::NoOp => "unchanged",
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
        }
    }
}

/// A resource kind: declared by its own module in `resources/` as a const,
/// so a new kind needs no edit here. `id` is what JSON output carries,
/// `label` what people read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Kind {
    pub id: &'static str,
    pub label: &'static str,
}

impl Kind {
    pub const fn new(id: &'static str, label: &'static str) -> Kind {
        Kind { id, label }
    }

    pub fn label(self) -> &'static str {
        self.label
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id)
    }
}

/// Shown instead of a sensitive value, in text, JSON and Debug alike.
pub const REDACTED: &str = "(sensitive value)";

/// One attribute's old and new value, already rendered for people.
/// A sensitive value is compared for real but never rendered, in text or JSON.
#[derive(Clone, PartialEq)]
pub struct Attr {
    pub name: String,
    pub old: Option<String>,
    pub new: Option<String>,
    pub sensitive: bool,
}

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

    /// The value as people see it: `(none)`, redacted, or itself.
    pub fn show(&self, value: &Option<String>) -> String {
        match value {
            None => "(none)".to_string(),
            Some(_) if self.sensitive => REDACTED.to_string(),
            // Live values come from AWS: shown escaped (issue 11.2).
            Some(v) => crate::display::untrusted(v),
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

/// One resource's planned change, as shown; what runs it lives beside it
/// in a `resources::Step`.
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
}

impl Change {
    pub fn new(kind: Kind, name: impl Into<String>, action: Action, attrs: Vec<Attr>) -> Change {
        Change {
            kind,
            name: name.into(),
            action,
            attrs,
            note: None,
        }
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Change {
        self.note = Some(note.into());
        self
    }
}
