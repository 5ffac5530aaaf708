//! The one place an error becomes text for people (uv's way): `error:` with
//! the message, a `Caused by:` line per cause not already said, then the
//! hints that the errors in the chain carry as data.

use std::error::Error;

use crate::apply::ApplyError;
use crate::aws::AwsError;
use crate::commands;
use crate::package::PackageError;

/// The remedy an error suggests, if any.
fn hint_of(err: &(dyn Error + 'static)) -> Option<String> {
    if let Some(e) = err.downcast_ref::<commands::Error>() {
        return e.hint();
    }
    if let Some(e) = err.downcast_ref::<AwsError>() {
        return e.hint();
    }
    if let Some(e) = err.downcast_ref::<PackageError>() {
        return e.hint();
    }
    if let Some(e) = err.downcast_ref::<ApplyError>() {
        return e.hint();
    }
    None
}

/// `error: …`, `  Caused by: …` and `  hint: …` lines, ending in a newline.
pub fn render(err: &(dyn Error + 'static)) -> String {
    let mut said = err.to_string();
    let mut out = format!("error: {said}\n");
    let mut hints: Vec<String> = hint_of(err).into_iter().collect();
    let mut next = err.source();
    while let Some(cause) = next {
        let message = cause.to_string();
        if !said.contains(&message) {
            out.push_str(&format!("  Caused by: {message}\n"));
            said.push_str(&message);
        }
        hints.extend(hint_of(cause));
        next = cause.source();
    }
    hints.dedup();
    for hint in hints {
        out.push_str(&format!("  hint: {hint}\n"));
    }
    out
}
