//! Writes a step starts but the level right above it does not need,
//! finished alongside that level instead of holding it up.
//!
//! The users are a new role's inline policy and a new log group's
//! retention: CreateFunction (level 1) needs the role to exist and trust
//! Lambda, not the role's permissions or the log group's retention, which
//! matter only once the function runs. So PutRolePolicy and
//! PutRetentionPolicy are sent as soon as their resource exists and run
//! while the function is created: one round trip off a fresh `up`.
//! `apply` waits for them at the end of that level, and before any other
//! level starts (the subscription and permission at level 2, the alarm at
//! 3: what can invoke the function), and reports their failures.

use std::sync::Mutex;

use futures::future::BoxFuture;

use crate::aws::AwsError;

/// A write that borrows nothing, so it can be sent on its own task.
pub type Write = BoxFuture<'static, Result<(), AwsError>>;

#[derive(Default)]
pub struct Deferred(Mutex<Vec<Write>>);

impl Deferred {
    /// Sends `write` now, in the background; `write` owns what it sends
    /// (an SDK fluent builder's `send()` does).
    pub fn push(&self, write: Write) {
        let sent = tokio::spawn(write);
        let joined = async move {
            sent.await
                .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
        };
        self.0
            .lock()
            .expect("never poisoned")
            .push(Box::pin(joined));
    }

    /// Everything pushed so far, to be awaited by the caller.
    pub fn take(&self) -> Vec<Write> {
        std::mem::take(&mut *self.0.lock().expect("never poisoned"))
    }
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map_or(0, |w| w.len());
        write!(f, "Deferred({n} writes)")
    }
}
