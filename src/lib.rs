//! relayctl: provisions, checks and removes a CloudWatch alarm -> SNS -> Lambda -> Slack relay.
//! Public: what main.rs, the tests and the benches use; the rest is private.
mod apply;
mod aws;
mod change;
pub mod cli;
mod commands;
pub mod config;
mod display;
mod lock;
mod export;
mod pacing;
pub mod package;
mod plan;
mod report;
mod resources;
mod retry;
mod secret;
mod smoke;
mod status;
mod style;

pub use commands::{parse_args, run};
