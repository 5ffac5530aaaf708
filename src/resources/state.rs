//! Live state as read from AWS, one part per registered kind, each stored
//! as its own module's type. Same-named resources that are not this stack's
//! are collected as findings, never touched.

use std::any::Any;
use std::collections::HashMap;

use crate::aws::AwsError;
use crate::change::Kind;

/// One kind's read: its live value (the module's own type) and any
/// same-named resources found without our ownership tag.
pub struct Part {
    value: Box<dyn Any + Send + Sync>,
    foreign: Vec<AwsError>,
    warnings: Vec<String>,
}

impl Part {
    pub fn new<T: Any + Send + Sync>(value: T, foreign: Vec<AwsError>) -> Part {
        Part {
            value: Box::new(value),
            foreign,
            warnings: Vec::new(),
        }
    }

    /// Something worth telling the user that stops nothing (an instance
    /// selector that matches no instance).
    pub fn with_warnings(mut self, warnings: Vec<String>) -> Part {
        self.warnings = warnings;
        self
    }

    /// A read that found one resource or none: a Foreign error is a
    /// finding, not a failure, and the resource then counts as absent.
    pub fn single<T: Any + Send + Sync>(
        found: Result<Option<T>, AwsError>,
    ) -> Result<Part, AwsError> {
        match found {
            Err(e @ AwsError::Foreign { .. }) => Ok(Part::new(None::<T>, vec![e])),
            Err(e) => Err(e),
            Ok(value) => Ok(Part::new(value, Vec::new())),
        }
    }
}

#[derive(Default)]
pub struct LiveState {
    parts: HashMap<Kind, Box<dyn Any + Send + Sync>>,
    /// Same-named resources that are not this stack's: never touched.
    pub foreign: Vec<AwsError>,
    /// Found while reading, worth a word on stderr, stopping nothing.
    pub warnings: Vec<String>,
}

impl LiveState {
    pub(super) fn insert(&mut self, kind: Kind, part: Part) {
        self.parts.insert(kind, part.value);
        self.foreign.extend(part.foreign);
        self.warnings.extend(part.warnings);
    }

    /// The live value of `kind`, as the type its module stored; None when
    /// the kind was not read.
    pub fn get<T: Any>(&self, kind: Kind) -> Option<&T> {
        self.parts.get(&kind)?.downcast_ref()
    }
}

impl std::fmt::Debug for LiveState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveState")
            .field(
                "kinds",
                &self.parts.keys().map(|k| k.id).collect::<Vec<_>>(),
            )
            .field("foreign", &self.foreign)
            .finish()
    }
}
