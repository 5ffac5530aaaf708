//! A stack's lock, so two runs never write one stack at once (terraform's
//! state lock, without a state file): one SSM String parameter
//! `/relayctl/{stack}/lock` in the stack's region, tagged with the stack's
//! ownership tag, whose value says who holds it ([`Info`]).
//!
//! Taking it is one PutParameter with Overwrite=false: AWS creates the
//! parameter or answers ParameterAlreadyExists, atomically
//! (<https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html>),
//! so of two runs exactly one gets it. A lock past its `expires` belongs to
//! a run presumed dead and is taken over (delete, then take as above); a live
//! holder renews `expires` every [`renew_every`], so a long run keeps its
//! lock. `--force-unlock` breaks a held one. Releasing deletes the parameter
//! only while it still holds this run's id.
//!
//! Times in the value are the holder's clock (UTC, RFC 3339); the taker
//! compares `expires` with its own clock, so clock skew between two machines
//! shifts the expiry by that skew (seconds, against a 15-minute expiry).
//!
//! Plain functions over an SSM client and a stack name: a run over several
//! regions takes one lock per region (SSM is regional).

use std::future::Future;
use std::time::{Duration, SystemTime};

use aws_sdk_ssm::Client;
use aws_sdk_ssm::types::{ParameterType, Tag};
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde::{Deserialize, Serialize};

use crate::aws::AwsError;
use crate::config::{OWNER_TAG_KEY, is_lock_parameter};
use crate::display::untrusted;

const KIND: &str = "lock";
/// After this long without renewal the holder is presumed dead.
pub const DEFAULT_EXPIRY: Duration = Duration::from_secs(15 * 60);
/// Tests shorten the expiry (seconds) to see renewal and takeover.
const EXPIRY_ENV: &str = "RELAYCTL_LOCK_EXPIRY_S";
/// Tries to take the lock when it is released or taken over in between.
const ATTEMPTS: usize = 3;

/// The lock's parameter, `/relayctl/{stack}/lock`.
pub fn parameter_name(stack: &str) -> String {
    crate::config::lock_parameter_name(stack)
}

/// Whether `arn` is a lock parameter's ARN: the tagging index lists it
/// with the stack's resources (it carries the ownership tag), but it is not
/// one of them.
pub fn is_lock_arn(arn: &str) -> bool {
    arn.starts_with("arn:")
        && arn.split(':').nth(2) == Some("ssm")
        && arn
            .split_once(":parameter/")
            .is_some_and(|(_, name)| is_lock_parameter(&format!("/{name}")))
}

/// How long a lock lives without renewal.
pub fn expiry() -> Duration {
    std::env::var(EXPIRY_ENV)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(DEFAULT_EXPIRY, Duration::from_secs)
}

/// How often a holder pushes `expires` forward: three times per expiry, so
/// one failed renewal does not lose the lock.
pub fn renew_every() -> Duration {
    expiry() / 3
}

/// The parameter's value: who holds the lock, since when, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// Random per run: release and renewal touch only their own lock.
    pub id: String,
    /// `up` or `down`.
    pub operation: String,
    /// `user@host`.
    pub who: String,
    pub pid: u32,
    /// When it was taken, by the holder's clock.
    pub created: String,
    /// When it may be taken over, by the holder's clock; renewed while the
    /// holder runs.
    pub expires: String,
}

impl Info {
    fn new(operation: &str) -> Info {
        let now = SystemTime::now();
        let user = whoami::fallible::username().unwrap_or_else(|_| "unknown".into());
        let host = whoami::fallible::hostname().unwrap_or_else(|_| "unknown".into());
        Info {
            id: uuid::Uuid::new_v4().simple().to_string(),
            operation: operation.to_string(),
            who: format!("{user}@{host}"),
            pid: std::process::id(),
            created: rfc3339(now),
            expires: rfc3339(now + expiry()),
        }
    }

    /// A value relayctl did not write still holds the lock (only
    /// `--force-unlock` breaks it); its fields say so.
    fn parse(value: &str) -> Info {
        serde_json::from_str(value).unwrap_or_else(|_| Info {
            id: String::new(),
            operation: "unknown".into(),
            who: "unknown (the parameter does not hold relayctl's lock format)".into(),
            pid: 0,
            created: String::new(),
            expires: String::new(),
        })
    }

    /// Past `expires` by this machine's clock. An unreadable time never
    /// expires.
    pub fn expired(&self) -> bool {
        parse_time(&self.expires).is_some_and(|t| t < SystemTime::now())
    }

    /// How long it has been held, when `created` is readable.
    pub fn age(&self) -> Option<Duration> {
        SystemTime::now()
            .duration_since(parse_time(&self.created)?)
            .ok()
    }

    fn value(&self) -> String {
        serde_json::to_string(self).expect("lock info serializes")
    }
}

/// A held lock as `status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Holder {
    #[serde(flatten)]
    pub info: Info,
    pub age_s: Option<u64>,
    pub expired: bool,
}

impl From<Info> for Holder {
    fn from(info: Info) -> Holder {
        Holder {
            age_s: info.age().map(|a| a.as_secs()),
            expired: info.expired(),
            info,
        }
    }
}

impl Holder {
    /// `up by ana@ci-7 (pid 4242) since 2026-…Z (3m 12s ago), expires …`,
    /// escaped for a terminal: anyone who may write the parameter wrote it.
    pub fn describe(&self) -> String {
        let i = &self.info;
        let age = self
            .age_s
            .map_or(String::new(), |s| format!(" ({} ago)", age_text(s)));
        let expiry = match self.expired {
            true => format!("expired {} (the holder is presumed dead)", i.expires),
            false => format!("expires {}", i.expires),
        };
        untrusted(&format!(
            "{} by {} (pid {}) since {}{age}, {expiry}",
            i.operation, i.who, i.pid, i.created
        ))
    }
}

/// `75` → `1m 15s`.
pub fn age_text(secs: u64) -> String {
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("stack {stack} is locked in {region}: {}", .holder.describe())]
    Held {
        stack: String,
        region: String,
        holder: Box<Holder>,
        /// This run's command, for the way out.
        wanted: String,
    },
    #[error(
        "stack {stack}'s lock in {region} was taken and released {ATTEMPTS} times while this run tried to take it"
    )]
    Contended { stack: String, region: String },
    #[error(transparent)]
    Aws(#[from] AwsError),
}

impl LockError {
    pub fn hint(&self) -> Option<String> {
        match self {
            LockError::Held { wanted, .. } => Some(format!(
                "another relayctl run is changing this stack: wait for it and run again; if that \
                 run is dead, wait until the lock expires (it is then taken over) or break it now \
                 with `relayctl {wanted} --force-unlock`"
            )),
            LockError::Contended { .. } => Some("run the command again".into()),
            LockError::Aws(e) => e.hint(),
        }
    }
}

/// Why the lock this run took replaced another one.
#[derive(Debug, Clone)]
pub enum Replaced {
    /// Past its expiry: the holder is presumed dead.
    Expired(Info),
    /// `--force-unlock`.
    Broken(Info),
}

/// A lock this run holds. Renewed in the background until released;
/// dropping it stops the renewal and leaves the parameter to expire.
pub struct Held {
    ssm: Client,
    name: String,
    info: Info,
    renewal: tokio::task::JoinHandle<()>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.renewal.abort();
    }
}

/// What releasing found.
#[derive(Debug)]
pub enum Released {
    Done,
    /// The lock was no longer this run's: broken (and maybe taken) while
    /// it ran. The holder now, if any.
    Lost(Option<Info>),
}

/// The lock now, if anyone holds it.
pub async fn read(ssm: &Client, stack: &str) -> Result<Option<Info>, AwsError> {
    read_at(ssm, &parameter_name(stack)).await
}

/// Takes the stack's lock for `operation`. A held, unexpired lock is an
/// error naming its holder, unless `force`; an expired one is taken over.
pub async fn acquire(
    ssm: &Client,
    stack: &str,
    operation: &str,
    force: bool,
) -> Result<(Held, Option<Replaced>), LockError> {
    let name = parameter_name(stack);
    let mine = Info::new(operation);
    let mut replaced = None;
    for _ in 0..ATTEMPTS {
        if create(ssm, &name, stack, &mine).await? {
            let held = Held {
                renewal: tokio::spawn(renew(ssm.clone(), name.clone(), mine.clone())),
                ssm: ssm.clone(),
                name,
                info: mine,
            };
            return Ok((held, replaced));
        }
        // Released in between: try again.
        let Some(theirs) = read_at(ssm, &name).await? else {
            continue;
        };
        replaced = Some(match (force, theirs.expired()) {
            (true, _) => Replaced::Broken(theirs),
            (false, true) => Replaced::Expired(theirs),
            (false, false) => {
                return Err(LockError::Held {
                    stack: stack.to_string(),
                    region: region(ssm),
                    holder: Box::new(theirs.into()),
                    wanted: operation.to_string(),
                });
            }
        });
        delete(ssm, &name).await?;
    }
    Err(LockError::Contended {
        stack: stack.to_string(),
        region: region(ssm),
    })
}

impl Held {
    pub fn info(&self) -> &Info {
        &self.info
    }

    /// Reads who holds the lock now, for [`Held::release_checked`]; owns
    /// what it needs, so it can run on its own task.
    pub fn check(&self) -> impl Future<Output = Result<Option<Info>, AwsError>> + Send + 'static {
        let (ssm, name) = (self.ssm.clone(), self.name.clone());
        async move { read_at(&ssm, &name).await }
    }

    /// Deletes the lock if it is still this run's: as `checked` found (a
    /// [`Held::check`] made while the run's last writes were in flight),
    /// or, without one, as a read now finds.
    pub async fn release_checked(
        self,
        checked: Option<Result<Option<Info>, AwsError>>,
    ) -> Result<Released, AwsError> {
        self.renewal.abort();
        let now = match checked {
            Some(checked) => checked?,
            None => read_at(&self.ssm, &self.name).await?,
        };
        match now {
            Some(now) if now.id == self.info.id => {
                delete(&self.ssm, &self.name).await?;
                Ok(Released::Done)
            }
            other => Ok(Released::Lost(other)),
        }
    }
}

/// The region the client's calls go to, for messages.
pub fn region(ssm: &Client) -> String {
    ssm.config()
        .region()
        .map_or_else(|| "its region".to_string(), |r| r.to_string())
}

/// PutParameter Overwrite=false: true when this call created it, false when
/// it already exists.
async fn create(ssm: &Client, name: &str, stack: &str, info: &Info) -> Result<bool, AwsError> {
    let tag = Tag::builder()
        .key(OWNER_TAG_KEY)
        .value(stack)
        .build()
        .expect("tag has key and value");
    let put = ssm
        .put_parameter()
        .name(name)
        .description("relayctl: a run changing this stack holds it; see `relayctl status`")
        .value(info.value())
        .r#type(ParameterType::String)
        .overwrite(false)
        .tags(tag)
        .send()
        .await;
    match put {
        Ok(_) => Ok(true),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_parameter_already_exists()) =>
        {
            Ok(false)
        }
        Err(e) => Err(AwsError::call(KIND, name, "PutParameter", e)),
    }
}

async fn read_at(ssm: &Client, name: &str) -> Result<Option<Info>, AwsError> {
    match ssm.get_parameter().name(name).send().await {
        Ok(out) => Ok(out.parameter.and_then(|p| p.value).map(|v| Info::parse(&v))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_parameter_not_found()) =>
        {
            Ok(None)
        }
        Err(e) => Err(AwsError::call(KIND, name, "GetParameter", e)),
    }
}

/// Already gone is done: released or broken by someone else meanwhile.
async fn delete(ssm: &Client, name: &str) -> Result<(), AwsError> {
    match ssm.delete_parameter().name(name).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_parameter_not_found()) =>
        {
            Ok(())
        }
        Err(e) => Err(AwsError::call(KIND, name, "DeleteParameter", e)),
    }
}

/// Pushes `expires` forward while this run holds the lock; stops when the
/// lock is no longer ours (broken by `--force-unlock`).
async fn renew(ssm: Client, name: String, mut info: Info) {
    loop {
        tokio::time::sleep(renew_every()).await;
        match read_at(&ssm, &name).await {
            Ok(Some(now)) if now.id == info.id => {}
            Ok(_) => {
                tracing::warn!("the lock {name} is no longer this run's: it was broken");
                return;
            }
            Err(e) => {
                tracing::warn!("cannot renew the lock {name}: {e}");
                continue;
            }
        }
        info.expires = rfc3339(SystemTime::now() + expiry());
        // Overwrite keeps the tags; AWS refuses Tags with Overwrite.
        let put = ssm
            .put_parameter()
            .name(&name)
            .value(info.value())
            .r#type(ParameterType::String)
            .overwrite(true)
            .send()
            .await;
        match put {
            Ok(_) => tracing::debug!("renewed the lock {name} until {}", info.expires),
            Err(e) => tracing::warn!(
                "cannot renew the lock {name}: {}",
                AwsError::call(KIND, &name, "PutParameter", e)
            ),
        }
    }
}

fn rfc3339(t: SystemTime) -> String {
    DateTime::from(t).fmt(Format::DateTime).unwrap_or_default()
}

fn parse_time(s: &str) -> Option<SystemTime> {
    DateTime::from_str(s, Format::DateTime)
        .ok()
        .and_then(|t| SystemTime::try_from(t).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns_of_locks() {
        assert_eq!(parameter_name("cpu-relay"), "/relayctl/cpu-relay/lock");
        assert!(is_lock_parameter("/relayctl/cpu-relay/lock"));
        assert!(!is_lock_parameter("/relayctl/cpu-relay/slack-webhook"));
        assert!(!is_lock_parameter("/relayctl//lock"));
        assert!(!is_lock_parameter("/relay/cpu-relay/lock"));
        assert!(is_lock_arn(
            "arn:aws:ssm:eu-west-1:111122223333:parameter/relayctl/cpu-relay/lock"
        ));
        assert!(!is_lock_arn(
            "arn:aws:ssm:eu-west-1:111122223333:parameter/relay/cpu-relay/slack-webhook"
        ));
        assert!(!is_lock_arn(
            "arn:aws:sns:eu-west-1:111122223333:relayctl/cpu-relay/lock"
        ));
    }

    #[test]
    fn expiry_and_age_by_the_clock() {
        let mut info = Info::new("up");
        assert!(!info.expired());
        assert!(info.age().unwrap() < Duration::from_secs(5));
        info.expires = rfc3339(SystemTime::now() - Duration::from_secs(1));
        assert!(info.expired());
        let round = Info::parse(&info.value());
        assert_eq!(round, info);
        // Not relayctl's: held until broken.
        let foreign = Info::parse("hello");
        assert!(!foreign.expired());
        assert_eq!(foreign.age(), None);
    }

    #[test]
    fn ages_read_like_people_say_them() {
        assert_eq!(age_text(7), "7s");
        assert_eq!(age_text(75), "1m 15s");
        assert_eq!(age_text(3 * 3600 + 120), "3h 2m");
    }
}
