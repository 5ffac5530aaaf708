//! Text read from AWS shown on a terminal (issue 11.2): an alarm's
//! StateReason (anyone allowed SetAlarmState writes it), tags, names, the
//! handler's log lines. JSON output escapes by itself; text output goes
//! through [`untrusted`] so such a value cannot move the cursor, set the
//! window title, ring the bell or start a line of its own.

/// `s` with every control character (C0, DEL, C1: ESC, BEL, CR, LF, OSC's
/// terminator …), bidirectional override and zero-width formatting
/// character written as a visible escape (`\n`, `\u{1b}`), so one value
/// stays one piece of one line.
pub fn untrusted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || is_invisible_format(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Bidi embeddings, overrides and isolates (they reorder what follows on
/// the line) and zero-width characters.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::untrusted;

    #[test]
    fn controls_and_bidi_are_escaped_printables_kept() {
        let s = "a\x1b]0;title\x07b\r\nin sync\u{202E}é 80 %";
        let got = untrusted(s);
        assert_eq!(got, "a\\u{1b}]0;title\\u{7}b\\r\\nin sync\\u{202e}é 80 %");
        assert!(!got.chars().any(char::is_control));
    }
}
