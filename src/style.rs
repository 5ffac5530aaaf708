//! Colours for people, terraform's: green create, yellow update, red
//! delete. Renderers always add them; `anstream` strips them again on the
//! way out unless the stream is a terminal that takes colour (NO_COLOR,
//! `--no-color` and pipes turn them off, CLICOLOR_FORCE on).

use anstyle::{AnsiColor, Style};

use crate::change::Action;

pub const CREATE: Style = AnsiColor::Green.on_default();
pub const UPDATE: Style = AnsiColor::Yellow.on_default();
pub const DELETE: Style = AnsiColor::Red.on_default();
pub const BOLD: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();

/// `s` in `style`, reset after.
pub fn paint(style: Style, s: &str) -> String {
    format!("{style}{s}{style:#}")
}

/// An action's colour; replace is a delete then a create.
pub fn of_action(a: Action) -> Style {
    match a {
        Action::Create => CREATE,
        Action::Update => UPDATE,
        Action::Delete | Action::Replace => DELETE,
        Action::NoOp => Style::new(),
    }
}

/// The plan symbol, right-aligned in three columns and coloured
/// (`-/+`: red minus, green plus, as terraform shows it).
pub fn symbol(a: Action) -> String {
    match a {
        Action::Replace => format!("{}/{}", paint(DELETE, "-"), paint(CREATE, "+")),
        a => format!(
            "{}{}",
            " ".repeat(3 - a.symbol().len()),
            paint(of_action(a), a.symbol())
        ),
    }
}

/// An alarm state as the console colours it.
pub fn alarm_state(state: &str) -> String {
    match state {
        "ALARM" => paint(DELETE.bold(), state),
        "OK" => paint(CREATE, state),
        _ => paint(DIM, state),
    }
}
