//! relayctl: provisions, checks and removes a CloudWatch alarm -> SNS -> Lambda -> Slack relay.
pub mod config;
