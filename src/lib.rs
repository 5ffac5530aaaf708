//! relayctl: provisions, checks and removes a CloudWatch alarm -> SNS -> Lambda -> Slack relay.
pub mod apply;
pub mod aws;
pub mod cli;
pub mod config;
pub mod converge;
pub mod live;
pub mod package;
pub mod plan;
pub mod resources;
pub mod secret;
pub mod smoke;
pub mod status;
