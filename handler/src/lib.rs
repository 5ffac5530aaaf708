//! relay-handler: CloudWatch alarm (via SNS or direct invoke) -> Slack.
//!
//! `main.rs` builds the HTTP client and config once, then [`Relay::init`]
//! (which reads the webhook from SSM when configured so); each invocation
//! comes through [`Relay::handle`]: parse ([`event`]), render ([`render`]),
//! post ([`deliver`]) one Slack message per notification.
//!
//! Without the default `runtime` feature only the pure modules are built
//! ([`event`], [`render`], [`regions`], [`webhook`], [`config`]), which is
//! what relayctl links to share the webhook rule.

pub mod config;
pub mod event;
pub mod regions;
pub mod render;
pub mod webhook;

#[cfg(feature = "runtime")]
pub mod deliver;
#[cfg(feature = "runtime")]
mod relay;
#[cfg(feature = "runtime")]
pub mod ssm;

#[cfg(feature = "runtime")]
pub use relay::{HandlerError, InitError, Relay, deadline_from_epoch_ms, init_tracing};
