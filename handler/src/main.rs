//! Lambda entry point: read config, build the HTTP client and read the
//! webhook (from SSM when configured so) once, then serve invocations
//! through `relay_handler::Relay`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use relay_handler::config::Config;
use relay_handler::deliver::{RetryPolicy, https_client};
use relay_handler::{InitError, Relay, deadline_from_epoch_ms, init_tracing};
use serde_json::Value;

// One invocation at a time per process: a single-threaded runtime starts
// faster and spawns no worker threads.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_tracing();
    let relay = init().await.inspect_err(|e| tracing::error!("{e}"))?;
    let relay = &relay;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let deadline = deadline_from_epoch_ms(event.context.deadline);
        relay.handle(&event.payload, deadline).await
    }))
    .await
}

async fn init() -> Result<Relay, InitError> {
    let config = Config::from_env()?;
    Relay::init(config, https_client(), RetryPolicy::default()).await
}
