//! A file that gives no tree, explained in plain language with the offending
//! line and a caret, instead of the parser's own phrase.

use super::error::{Excerpt, Problem, codes};
use super::safe::{escaped_line, looks_like_url};
use super::tree::{Mark, TreeError};

const NO_COLON_SPACE: &str = "has no space after the colon";

/// The one problem for a file the tree could not be built from.
pub(crate) fn problem(error: &TreeError, text: &str) -> Problem {
    let (code, mark, message, hint) = match error {
        TreeError::Syntax { mark, info } => {
            let (message, hint) = explain(info, text, *mark);
            let mark = Some(*mark)
                .filter(|_| message.ends_with(NO_COLON_SPACE))
                .and_then(|m| missing_colon_space(text, m))
                .unwrap_or(*mark);
            (codes::SYNTAX, mark, message, hint)
        }
        TreeError::TooManyAliases { mark } => (
            codes::ALIASES,
            *mark,
            "too many YAML aliases: they expand to more values than any stack file holds"
                .to_string(),
            "write the values out instead of nesting aliases (`*name`) inside anchors".to_string(),
        ),
        TreeError::TooDeep { mark } => (
            codes::TOO_DEEP,
            *mark,
            "nested deeper than any stack file is".to_string(),
            "stack.yaml is at most three levels deep, as in `alarms:` / `- name:`".to_string(),
        ),
        TreeError::MultipleDocuments { mark } => (
            codes::DOCUMENTS,
            *mark,
            "a second YAML document starts here".to_string(),
            "a stack file holds one stack: remove the `---` line, or put each stack in its \
             own file"
                .to_string(),
        ),
        TreeError::UnknownAnchor { mark } => (
            codes::SYNTAX,
            *mark,
            "an alias (`*name`) refers to no anchor (`&name`) above it".to_string(),
            "define the anchor before its first use, or write the value out".to_string(),
        ),
    };
    let mut problem = Problem::new(code, "", message)
        .hint(hint)
        .at(mark.line, mark.col);
    problem.excerpt = excerpt(text, mark);
    if problem.excerpt.is_none() {
        problem.column = None;
    }
    problem
}

/// The parser's phrase, in the words of someone editing the file.
fn explain(info: &str, text: &str, mark: Mark) -> (String, String) {
    let line = line_text(text, mark.line).unwrap_or("");
    let before = mark
        .line
        .checked_sub(1)
        .and_then(|n| line_text(text, n))
        .unwrap_or("");
    let indent: &str = &line[..line.len() - line.trim_start().len()];
    if indent.contains('\t') || info.contains("tab") {
        return (
            "a tab is used for indentation; YAML indents with spaces only".to_string(),
            "replace the tab with spaces, as many as the lines around it use".to_string(),
        );
    }
    if let Some(l) = [line, before].into_iter().find(|l| lacks_colon_space(l)) {
        let key = l.trim_start().split(':').next().unwrap_or("");
        return (
            format!("`{}:` {NO_COLON_SPACE}", escaped_line(key)),
            "YAML needs a space after the colon: `key: value`".to_string(),
        );
    }
    let (message, hint) = if info.contains("quoted scalar")
        && (info.contains("end of stream") || info.contains("indentation"))
    {
        // An open quote swallows the lines after it, so the parser trips
        // over their indentation or the end of the file.
        (
            "a quoted value is not closed",
            "close the quote on the same line as it opens",
        )
    } else if info.contains("unknown anchor") {
        (
            "an alias (`*name`) refers to no anchor (`&name`) above it",
            "define the anchor before its first use, or write the value out",
        )
    } else if info.contains("mapping values are not allowed") {
        (
            "a `:` where YAML does not expect a new key: this line is indented differently \
             from the one above it, or a value containing `: ` needs quotes",
            "indent the fields of one section by the same number of spaces; quote a value \
             that contains `: `",
        )
    } else if info.contains("did not find expected key")
        || info.contains("indentation")
        || info.contains("'-' indicator")
        || info.contains("block sequence entries are not allowed")
    {
        (
            "the indentation of this line does not match the lines before it",
            "indent the fields of one section by the same number of spaces, and list items \
             (`- `) alike",
        )
    } else if info.contains("expect ':'") || info.contains("could not find expected ':'") {
        (
            "a key without a value: YAML expects `key: value` here",
            "add `: value` after the key, or remove the line",
        )
    } else if info.contains("flow mapping") || info.contains("flow sequence") {
        (
            "a `{` or `[` is not closed, or its items are not separated by `,`",
            "write it on one line, e.g. `tags: { team: platform, env: prod }`",
        )
    } else {
        return (
            format!("YAML syntax error: {}", escaped_line(info)),
            "check the line shown and the one above it".to_string(),
        );
    };
    (message.to_string(), hint.to_string())
}

/// Where the space is missing, when `explain` blamed that: on the line of
/// the error, or the one before it, where the parser noticed nothing yet.
fn missing_colon_space(text: &str, mark: Mark) -> Option<Mark> {
    [mark.line, mark.line.saturating_sub(1)]
        .into_iter()
        .find_map(|line| {
            let l = line_text(text, line).filter(|l| lacks_colon_space(l))?;
            let col = l.chars().take_while(|c| *c != ':').count() + 2;
            Some(Mark { line, col })
        })
}

/// `name:cpu-relay`: one string to YAML, almost always meant as a field.
fn lacks_colon_space(line: &str) -> bool {
    let line = line.trim_start().trim_start_matches("- ");
    if line.starts_with(['#', '"', '\'']) {
        return false;
    }
    line.split_once(':').is_some_and(|(key, value)| {
        !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            && value.starts_with(|c: char| !c.is_whitespace() && c != '/')
    })
}

fn line_text(text: &str, line: usize) -> Option<&str> {
    text.lines().nth(line.checked_sub(1)?)
}

/// The offending line, escaped and cut to a window around the caret; none
/// for a line holding a URL, which may be the webhook.
fn excerpt(text: &str, mark: Mark) -> Option<Excerpt> {
    const WIDTH: usize = 100;
    let line = line_text(text, mark.line)?;
    if looks_like_url(line) {
        return None;
    }
    let col = mark.col.saturating_sub(1);
    let chars: Vec<char> = line.chars().collect();
    let start = col.saturating_sub(WIDTH / 2).min(chars.len());
    let end = chars.len().min(start + WIDTH);
    let window: String = chars.get(start..end)?.iter().collect();
    let prefix: String = chars.get(start..col.min(end))?.iter().collect();
    let lead = if start > 0 { "…" } else { "" };
    let tail = if end < chars.len() { "…" } else { "" };
    Some(Excerpt {
        text: format!("{lead}{}{tail}", escaped_line(&window)),
        caret: lead.chars().count() + escaped_line(&prefix).chars().count() + 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colon_without_space() {
        assert!(lacks_colon_space("name:cpu-relay"));
        assert!(lacks_colon_space("  - name:x"));
        assert!(!lacks_colon_space("name: cpu-relay"));
        assert!(!lacks_colon_space("url: https://x"));
        assert!(!lacks_colon_space("# a:b"));
        assert!(!lacks_colon_space("tags:"));
    }

    #[test]
    fn excerpt_escapes_and_places_the_caret() {
        let e = excerpt("a: 1\n\tb:\u{1b} 2\n", Mark { line: 2, col: 3 }).unwrap();
        assert_eq!(e.text, "\\tb:\\u{1b} 2");
        assert_eq!(e.caret, 4);
        let long = format!("{}x: [", "a".repeat(500));
        let e = excerpt(&long, Mark { line: 1, col: 504 }).unwrap();
        assert!(
            e.text.starts_with('…') && e.text.chars().count() <= 102,
            "{}",
            e.text
        );
        assert_eq!(e.text.chars().nth(e.caret - 1), Some('['));
        assert!(excerpt("a: https://hooks.example/x\n", Mark { line: 1, col: 1 }).is_none());
    }
}
