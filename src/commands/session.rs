//! What every AWS-facing command starts with: the stack checked locally,
//! clients opened, live state read, ownership checked, once.

use std::path::{Path, PathBuf};

use super::{Error, Result};
use crate::aws::{Clients, Connection};
use crate::cli::{Global, PackageArgs};
use crate::config::Stack;
use crate::package::{self, Package};
use crate::resources::{self, Ctx, LiveState};
use crate::secret::Secret;

/// What to do with same-named resources that are not this stack's.
pub enum Foreign {
    /// Stop before anything is planned (plan, up, test).
    Refuse,
    /// Say so on stderr and leave them alone (down).
    Warn,
    /// Keep them in `live.foreign` for the report (status).
    Keep,
}

pub struct Session {
    pub ctx: Ctx,
    pub live: LiveState,
}

impl Session {
    pub async fn open(
        g: &Global,
        stack: Stack,
        webhook: Option<Secret>,
        package: Option<Package>,
        foreign: Foreign,
    ) -> Result<Session> {
        let ctx = Session::connect(g, stack, webhook, package).await?;
        Session::read(ctx, foreign).await
    }

    /// Clients opened, nothing read yet: `up` and `down` take the stack's
    /// lock between this and `read`, so what they plan from is read under it.
    pub async fn connect(
        g: &Global,
        stack: Stack,
        webhook: Option<Secret>,
        package: Option<Package>,
    ) -> Result<Ctx> {
        let conn = Connection {
            profile: g.profile.clone(),
            region: g.region.clone(),
            endpoint_url: g.endpoint_url.clone(),
        };
        let clients = Clients::connect(&conn, stack.region.as_deref()).await?;
        Ok(Ctx {
            clients,
            stack,
            webhook,
            package,
            index: Default::default(),
            deferred: Default::default(),
            last_level: Default::default(),
            instances: Default::default(),
        })
    }

    /// Live state read, ownership checked. Again from scratch when `ctx`
    /// was read before (the tagging listing too), but for the instances the
    /// alarms target (resources/targets.rs says why).
    pub async fn read(mut ctx: Ctx, foreign: Foreign) -> Result<Session> {
        ctx.index = Default::default();
        let mut live = resources::read_all(&ctx).await?;
        for w in &live.warnings {
            eprintln!("warning: {}", crate::display::untrusted(w));
        }
        match foreign {
            Foreign::Refuse if !live.foreign.is_empty() => {
                return Err(Error::Foreign(std::mem::take(&mut live.foreign)));
            }
            _ => {}
        }
        let session = Session { ctx, live };
        if let Foreign::Warn = foreign {
            session.warn_foreign();
        }
        Ok(session)
    }

    /// Same-named resources that are not this stack's, on stderr.
    pub fn warn_foreign(&self) {
        self.live
            .foreign
            .iter()
            .for_each(|f| eprintln!("warning: {f}"));
    }
}

/// Everything local is checked before the first AWS call.
pub fn load_stack(g: &Global) -> Result<Stack> {
    Ok(Stack::load(&g.file)?)
}

/// The webhook when it is set here; compared only then.
pub fn optional_webhook(stack: &Stack) -> Option<Secret> {
    if stack.slack.webhook_url_ssm.is_some() {
        return None;
    }
    stack.webhook_url().ok().map(Secret::new)
}

pub fn load_package(stack: &Stack, args: &PackageArgs) -> Result<Package> {
    let package = match &args.zip {
        Some(path) => {
            let package = package::from_zip_file(path)?;
            let wanted = stack.handler.architecture;
            // Not an ELF (a script, a test stand-in): nothing to compare.
            if let Some(found) = package.architecture().filter(|a| *a != wanted) {
                return Err(Error::ZipArchitecture {
                    zip: path.display().to_string(),
                    found: found.as_str(),
                    wanted: wanted.as_str(),
                });
            }
            package
        }
        None => package::build_package(stack, &target_dir(stack.handler_source()?))?,
    };
    eprintln!(
        "handler package: {} bytes, sha256 {}",
        package.zip.len(),
        package.sha256
    );
    Ok(package)
}

/// One target dir per workspace: the handler usually lives in relayctl's own
/// workspace, whose `target/` already holds its dependencies.
fn target_dir(handler: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let mut dir = handler.to_path_buf();
    while let Some(parent) = dir.parent() {
        let manifest = parent.join("Cargo.toml");
        if std::fs::read_to_string(&manifest).is_ok_and(|t| t.contains("[workspace]")) {
            return parent.join("target");
        }
        dir = parent.to_path_buf();
    }
    handler.join("target")
}
