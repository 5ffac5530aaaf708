//! What the handler's integration tests share (`mod common;`): a log
//! capture, to assert what reached the log lines and what never did.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// Collects everything the fmt subscriber writes.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Installs a capturing subscriber, down to `level`, for this thread
    /// (tokio::test runs the test and the client's tasks on one thread).
    pub fn capture(level: tracing::Level) -> (Self, tracing::subscriber::DefaultGuard) {
        anchor();
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(level)
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Asserts that no line holds any of `secrets`.
    #[track_caller]
    pub fn assert_absent(&self, secrets: &[&str]) {
        let text = self.text();
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} leaked into logs:\n{text}");
        }
    }
}

/// Gives every thread a subscriber that wants every event, so no callsite's
/// interest can be cached as "never".
///
/// tracing caches one interest per callsite for the whole process, computed
/// by the first thread to reach it; while at most one dispatcher is
/// registered it asks that thread's default. A test without a capture (for
/// example `an_unchanged_parameter_is_not_retried`) that reaches a `warn!`
/// first would cache "never" from its no-op default, and a capturing test
/// on another thread would then miss that line: CI saw exactly that
/// (tokio-rs/tracing#3611). With this registry as the global default, every
/// thread's answer is "always", and the scoped captures still filter by
/// level for themselves.
fn anchor() {
    static ANCHOR: std::sync::Once = std::sync::Once::new();
    ANCHOR.call_once(|| {
        // Ignored if already set: any global default serves the same purpose.
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
    });
}
