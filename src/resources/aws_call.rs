//! The two answers every resource gives "not found": a read finds nothing,
//! a delete is already done. Classified on the typed service error, before
//! the SDK error is flattened into an `AwsError`.

use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};

use crate::aws::AwsError;

/// `Ok(None)` when `is_not_found` says the service error means "no such
/// resource"; any other error is mapped with its operation and name.
pub fn found<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    is_not_found: impl Fn(&E) -> bool,
    kind: &'static str,
    name: &str,
    operation: &'static str,
) -> Result<Option<T>, AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e) if e.as_service_error().is_some_and(&is_not_found) => Ok(None),
        Err(e) => Err(AwsError::call(kind, name, operation, e)),
    }
}

/// A delete whose target is already gone is done (a repeated `down`, or
/// someone was quicker).
pub fn gone<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    is_not_found: impl Fn(&E) -> bool,
    kind: &'static str,
    name: &str,
    operation: &'static str,
) -> Result<(), AwsError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    found(result, is_not_found, kind, name, operation).map(|_| ())
}
