//! The stack's lock (src/lock.rs) around what `up` and `down` write: taken
//! before the live read they plan from, released when they end, also on an
//! error and on Ctrl-C (SIGINT) or SIGTERM.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::{Error, Result};
use crate::aws::AwsError;
use crate::display::untrusted;
use crate::lock::{self, Held, Holder, Info, Released, Replaced};
use crate::resources::Ctx;

/// Which lock: the stack's, in the region of the session's SSM client.
pub struct LockOf {
    ssm: aws_sdk_ssm::Client,
    stack: String,
    /// The session's signal that its writes reached their last level.
    last_level: Arc<Notify>,
}

impl LockOf {
    pub fn stack(ctx: &Ctx) -> LockOf {
        LockOf {
            ssm: ctx.clients.ssm.clone(),
            stack: ctx.stack.name.clone(),
            last_level: ctx.last_level.clone(),
        }
    }
}

/// The release's "is it still ours?" read, sent as the run's last level of
/// writes starts instead of after it: one round trip off an `up` or `down`
/// whose last level is short. Its answer is used only while it is younger
/// than [`CHECK_FRESH`] when the writes end (else, and on an error, release
/// reads again), so a lock broken during a long last level (a paced fleet,
/// a function update's wait) is still noticed and left to its new holder.
struct Check {
    started: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(std::result::Result<Option<Info>, AwsError>, Instant)>,
}

/// About a round trip or two: the window in which a lock broken by another
/// run goes unseen is no wider than with a read just before the delete.
const CHECK_FRESH: Duration = Duration::from_secs(1);

impl Check {
    fn at_last_level(held: &Held, last_level: Arc<Notify>) -> Check {
        let started = Arc::new(AtomicBool::new(false));
        let (flag, read) = (started.clone(), held.check());
        let task = tokio::spawn(async move {
            last_level.notified().await;
            flag.store(true, Ordering::SeqCst);
            (read.await, Instant::now())
        });
        Check { started, task }
    }

    /// What the read found (waiting for it if in flight), when it found it
    /// and recently enough; None makes release read afresh.
    async fn answer(self) -> Option<std::result::Result<Option<Info>, AwsError>> {
        if !self.started.load(Ordering::SeqCst) {
            self.task.abort();
            return None;
        }
        match self.task.await {
            Ok((Ok(now), at)) if at.elapsed() <= CHECK_FRESH => Some(Ok(now)),
            _ => None,
        }
    }
}

/// Runs `work` holding the lock. A signal stops `work` where it is (as a
/// kill would: the next run converges from there), releases the lock and
/// ends the run with [`Error::Interrupted`].
pub async fn with_lock<T>(
    lock: LockOf,
    operation: &'static str,
    force: bool,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    with_locks(vec![lock], operation, force, work).await
}

/// [`with_lock`] for several regions' locks, taken one after another in the
/// order given (every run takes them in region order, so two runs cannot
/// each hold one the other waits for: the second is refused with E310). A
/// lock that cannot be taken releases those already held.
pub async fn with_locks<T>(
    locks: Vec<LockOf>,
    operation: &'static str,
    force: bool,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    // Listening before the locks exist: a signal while they are being taken
    // still releases them.
    let signals = Signals::listen();
    let several = locks.len() > 1;
    let mut held = Vec::new();
    let mut checks = Vec::new();
    for LockOf {
        ssm,
        stack,
        last_level,
    } in locks
    {
        let whose = match several {
            true => format!("{stack} ({})", lock::region(&ssm)),
            false => stack.clone(),
        };
        match lock::acquire(&ssm, &stack, operation, force).await {
            Ok((h, replaced)) => {
                say_replaced(&whose, replaced);
                tracing::info!("holding the lock {}", lock::parameter_name(&stack));
                checks.push(Check::at_last_level(&h, last_level));
                held.push((whose, h));
            }
            Err(e) => {
                release(held, checks, operation).await;
                return Err(e.into());
            }
        }
    }
    let outcome = tokio::select! {
        result = work => Ok(result),
        signal = signals.first() => Err(signal),
    };
    release(held, checks, operation).await;
    outcome.unwrap_or_else(|signal| Err(Error::Interrupted { signal, operation }))
}

fn say_replaced(whose: &str, replaced: Option<Replaced>) {
    match replaced {
        Some(Replaced::Expired(old)) => eprintln!(
            "warning: took over stack {whose}'s expired lock: {}",
            Holder::from(old).describe()
        ),
        Some(Replaced::Broken(old)) => eprintln!(
            "broke stack {whose}'s lock (--force-unlock): {}",
            Holder::from(old).describe()
        ),
        None => {}
    }
}

/// Releases every lock held; a failure is a warning (the lock expires).
async fn release(held: Vec<(String, Held)>, checks: Vec<Check>, operation: &str) {
    for ((whose, h), check) in held.into_iter().zip(checks) {
        let expires = h.info().expires.clone();
        match h.release_checked(check.answer().await).await {
            Ok(Released::Done) => {}
            Ok(Released::Lost(now)) => eprintln!(
                "warning: this run's lock on stack {whose} was broken while it ran{}",
                now.map(|i| format!("; now held: {}", Holder::from(i).describe()))
                    .unwrap_or_default()
            ),
            Err(e) => eprintln!(
                "warning: stack {whose}'s lock was not released ({}); it expires at {expires}, or \
                 `relayctl {operation} --force-unlock` breaks it",
                untrusted(&e.to_string())
            ),
        }
    }
}

/// SIGINT and SIGTERM, caught instead of ending the process.
struct Signals {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn listen() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                int: signal(SignalKind::interrupt()).ok(),
                term: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The first signal's name; never, when none could be listened to.
    async fn first(mut self) -> &'static str {
        #[cfg(unix)]
        {
            async fn on(s: Option<&mut tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending().await,
                }
            }
            tokio::select! {
                _ = on(self.int.as_mut()) => "SIGINT",
                _ = on(self.term.as_mut()) => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        match tokio::signal::ctrl_c().await {
            Ok(()) => "Ctrl-C",
            Err(_) => std::future::pending().await,
        }
    }
}
