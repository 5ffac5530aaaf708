//! The one place an error becomes text for people (uv's way): `error:` with
//! the message, a `Caused by:` line per cause not already said, then the
//! hints the errors in the chain carry as data, found by `hint_of`.
//! A leaf: the caller, which knows the error types, supplies `hint_of`.

use std::error::Error;

/// Finds the remedy one error in a chain carries, if any.
pub type HintOf = fn(&(dyn Error + 'static)) -> Option<String>;

/// `error: …`, `  Caused by: …` and `  hint: …` lines, ending in a newline.
pub fn render(err: &(dyn Error + 'static), hint_of: HintOf) -> String {
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
