//! A stack folder in a temporary directory: stack.yaml, written by each test
//! file in its own shape, and a handler zip `a.zip`.

use std::path::{Path, PathBuf};

/// A webhook URL that never reaches Slack.
pub const WEBHOOK: &str = "https://hooks.slack.invalid/services/T000/B000/secret-token";
/// The instance the tests' alarms watch.
pub const INSTANCE: &str = "i-0123456789abcdef0";

pub struct StackDir {
    pub dir: tempfile::TempDir,
    pub name: String,
}

impl StackDir {
    /// An empty folder for stack `name`, with `zip` as `a.zip`.
    pub fn new(name: &str, zip: &[u8]) -> StackDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.zip"), zip).unwrap();
        StackDir {
            dir,
            name: name.to_string(),
        }
    }

    pub fn write_yaml(&self, yaml: &str) {
        std::fs::write(self.file(), yaml).unwrap();
    }

    pub fn file(&self) -> PathBuf {
        self.dir.path().join("stack.yaml")
    }

    pub fn zip(&self) -> String {
        self.dir.path().join("a.zip").display().to_string()
    }

    /// The stack's IAM role, `{name}-relay`.
    pub fn role(&self) -> String {
        format!("{}-relay", self.name)
    }

    /// The stack's lock parameter (src/lock.rs).
    pub fn lock_name(&self) -> String {
        format!("/relayctl/{}/lock", self.name)
    }
}

/// This repository's handler crate, for `handler.path`.
pub fn handler_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("handler")
}
