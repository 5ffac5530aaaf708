//! Strings from the file are untrusted: they may carry terminal escape
//! sequences, or a webhook URL pasted in the wrong place. These helpers
//! decide what may be shown, and how.

/// Longest excerpt of a value shown in a message; the file may hold a
/// megabyte in one scalar.
const SHOWN_CHARS: usize = 60;

/// A Slack webhook, or any URL shaped like one (`/services/T…`): a secret
/// wherever it appears in the file.
pub(crate) fn looks_like_webhook(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if lower.contains("hooks.slack.com/services") {
        return true;
    }
    // `https://any.host/services/T0…/B0…/…`: the shape of a Slack-compatible
    // webhook behind a proxy or a relay; the host is not what makes it secret.
    lower
        .find("://")
        .map(|i| &lower[i + 3..])
        .and_then(|rest| rest.find('/').map(|j| &rest[j..]))
        .is_some_and(|path| path.starts_with("/services/t"))
}

/// Any URL (a webhook pasted where its variable's name belongs).
pub(crate) fn looks_like_url(s: &str) -> bool {
    let lower = s.trim().to_ascii_lowercase();
    lower.contains("://") || lower.starts_with("hooks.slack")
}

/// The first control character (C0, DEL, C1: ESC, BEL, newline, tab…), which
/// no name, tag, metric or channel AWS or Slack accepts.
pub(crate) fn control_character(s: &str) -> Option<char> {
    s.chars().find(|c| c.is_control())
}

/// A value as it may appear in a message: quoted, control and invisible
/// characters escaped (`"\u{1b}[31m"`), cut short, and never a URL.
pub(crate) fn shown(s: &str) -> String {
    if looks_like_url(s) {
        return "<a URL, not shown>".to_string();
    }
    let total = s.chars().count();
    if total <= SHOWN_CHARS {
        return format!("{s:?}");
    }
    let head: String = s.chars().take(SHOWN_CHARS).collect();
    format!("{head:?}… ({total} characters)")
}

/// Escapes one line of the file for a terminal: what `{:?}` does, without
/// the quotes, so the rest reads as written.
pub(crate) fn escaped_line(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '"' | '\'' | '\\' => c.to_string(),
            _ => c.escape_debug().to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhooks_by_host_or_by_path() {
        assert!(looks_like_webhook(
            "https://hooks.slack.com/services/T0/B0/x"
        ));
        assert!(looks_like_webhook("HOOKS.SLACK.COM/services/T0/B0/x"));
        assert!(looks_like_webhook(
            "https://relay.example/services/T0ABC/B0/x"
        ));
        assert!(looks_like_webhook("see http://a/services/TX in the wiki"));
        assert!(!looks_like_webhook("https://example.com/docs/services"));
        assert!(!looks_like_webhook("#alerts"));
    }

    #[test]
    fn shown_escapes_cuts_and_withholds() {
        assert_eq!(shown("\u{1b}[31mred\u{7}"), "\"\\u{1b}[31mred\\u{7}\"");
        assert_eq!(shown("https://x.example/a"), "<a URL, not shown>");
        let long = shown(&"a".repeat(100));
        assert!(
            long.ends_with("… (100 characters)") && long.len() < 90,
            "{long}"
        );
        assert_eq!(escaped_line("\tname: \"x\"\u{1b}"), "\\tname: \"x\"\\u{1b}");
    }
}
