//! Lambda entry point: read config and build the HTTP client once, then
//! serve invocations through `relay_handler::Relay`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use relay_handler::config::Config;
use relay_handler::deliver::{RetryPolicy, https_client};
use relay_handler::{Relay, deadline_from_epoch_ms, init_tracing};
use serde_json::Value;

// One invocation at a time per process: a single-threaded runtime starts
// faster and spawns no worker threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_tracing();
    let config = Config::from_env().inspect_err(|e| tracing::error!("configuration error: {e}"))?;
    let relay = Relay::new(config, https_client(), RetryPolicy::default());
    let relay = &relay;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = deadline_from_epoch_ms(event.context.deadline);
        relay.handle(&event.payload, deadline).await
    }))
    .await
}
