//! The answers every resource's AWS calls share: an error names the kind,
//! the resource and the operation; "not found" is nothing for a read and
//! done for a delete. Classified on the typed service error, before the SDK
//! error is flattened into an `AwsError`.

use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};

use crate::aws::AwsError;
use crate::change::Kind;

/// A service error the SDK can describe: what every call here takes.
pub trait ServiceError: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static {}
impl<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static> ServiceError for E {}

type Sent<T, E, R> = Result<T, SdkError<E, R>>;

/// One resource's calls: what their errors say they were about.
#[derive(Debug, Clone, Copy)]
pub struct Calls<'a> {
    kind: &'static str,
    name: &'a str,
}

impl<'a> Calls<'a> {
    pub fn new(kind: Kind, name: &'a str) -> Calls<'a> {
        Calls {
            kind: kind.label,
            name,
        }
    }

    /// The call's output, or its error with operation and name.
    pub fn ok<T, E: ServiceError, R: std::fmt::Debug>(
        self,
        operation: &'static str,
        result: Sent<T, E, R>,
    ) -> Result<T, AwsError> {
        result.map_err(|e| AwsError::call(self.kind, self.name, operation, e))
    }

    /// `Ok(None)` when `is_not_found` says the service error means "no such
    /// resource"; any other error is mapped with its operation and name.
    pub fn found<T, E: ServiceError, R: std::fmt::Debug>(
        self,
        operation: &'static str,
        result: Sent<T, E, R>,
        is_not_found: impl Fn(&E) -> bool,
    ) -> Result<Option<T>, AwsError> {
        match result {
            Ok(out) => Ok(Some(out)),
            Err(e) if e.as_service_error().is_some_and(&is_not_found) => Ok(None),
            Err(e) => Err(AwsError::call(self.kind, self.name, operation, e)),
        }
    }

    /// A delete whose target is already gone is done (a repeated `down`, or
    /// someone was quicker).
    pub fn gone<T, E: ServiceError, R: std::fmt::Debug>(
        self,
        operation: &'static str,
        result: Sent<T, E, R>,
        is_not_found: impl Fn(&E) -> bool,
    ) -> Result<(), AwsError> {
        self.found(operation, result, is_not_found).map(|_| ())
    }
}

/// [`Calls::found`] with the kind's label spelled out (role.rs, alarm.rs).
pub fn found<T, E: ServiceError, R: std::fmt::Debug>(
    result: Sent<T, E, R>,
    is_not_found: impl Fn(&E) -> bool,
    kind: &'static str,
    name: &str,
    operation: &'static str,
) -> Result<Option<T>, AwsError> {
    Calls { kind, name }.found(operation, result, is_not_found)
}

/// [`Calls::gone`] with the kind's label spelled out (role.rs, alarm.rs).
pub fn gone<T, E: ServiceError, R: std::fmt::Debug>(
    result: Sent<T, E, R>,
    is_not_found: impl Fn(&E) -> bool,
    kind: &'static str,
    name: &str,
    operation: &'static str,
) -> Result<(), AwsError> {
    Calls { kind, name }.gone(operation, result, is_not_found)
}
