//! User tags, checked the way AWS checks them, so a tag AWS would refuse
//! fails here, before the first resource is created, not halfway through.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::error::{Problem, codes};
use super::model::{MAX_USER_TAGS, OWNER_TAG_KEY};
use super::safe::shown;
use super::schema::{Section, key_path};

const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;

/// AWS: the tag key and value pattern of IAM, Lambda, SNS, CloudWatch and
/// CloudWatch Logs (`Tag.Key`, `Tag.Value` in their API models): letters,
/// separators (spaces), numbers and `_ . : / = + - @`.
static TAG_CHARACTERS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$").expect("a valid pattern"));

/// The user's tags, each checked; problems go to `problems`.
pub(crate) fn validate(root: &Section, problems: &mut Vec<Problem>) -> BTreeMap<String, String> {
    let Some(tags) = root.map("tags") else {
        return BTreeMap::new();
    };
    if tags.value.len() > MAX_USER_TAGS {
        problems.push(
            Problem::new(
                codes::TAG,
                "tags",
                format!(
                    "{} tags; at most {MAX_USER_TAGS} are allowed",
                    tags.value.len()
                ),
            )
            .hint(format!(
                "AWS allows 50 tags per resource and relayctl adds its own {OWNER_TAG_KEY} tag"
            ))
            .line(Some(tags.line)),
        );
    }
    for (key, value) in &tags.value {
        let mut report = |message: String, hint: String| {
            problems.push(
                Problem::new(codes::TAG, key_path("tags", key), message)
                    .hint(hint)
                    .line(Some(value.line)),
            );
        };
        if let Some((message, hint)) = key_problem(key) {
            report(message, hint);
        }
        if let Some((message, hint)) = value_problem(&value.value) {
            report(message, hint);
        }
    }
    tags.value
        .iter()
        .map(|(k, v)| (k.clone(), v.value.clone()))
        .collect()
}

fn key_problem(key: &str) -> Option<(String, String)> {
    let len = key.chars().count();
    if len == 0 || len > MAX_TAG_KEY {
        return Some((
            format!("the key is {len} characters"),
            format!("tag keys are 1 to {MAX_TAG_KEY} characters"),
        ));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Some((
            "keys starting with aws: are reserved by AWS".to_string(),
            "choose a key without the aws: prefix".to_string(),
        ));
    }
    // IAM compares tag keys case-insensitively, so any casing collides.
    if key.eq_ignore_ascii_case(OWNER_TAG_KEY) {
        return Some((
            format!("{OWNER_TAG_KEY} is reserved for relayctl's ownership tag"),
            format!(
                "relayctl sets {OWNER_TAG_KEY}=<name> on every resource itself; choose another key"
            ),
        ));
    }
    bad_characters("key", key)
}

fn value_problem(value: &str) -> Option<(String, String)> {
    let len = value.chars().count();
    if len > MAX_TAG_VALUE {
        return Some((
            format!("the value is {len} characters"),
            format!("tag values are at most {MAX_TAG_VALUE} characters"),
        ));
    }
    bad_characters("value", value)
}

/// The problem with a tag key or value (`what`) that AWS would refuse.
fn bad_characters(what: &str, text: &str) -> Option<(String, String)> {
    (!TAG_CHARACTERS.is_match(text)).then(|| {
        (
            format!(
                "the {what} {} has characters AWS does not allow in tags",
                shown(text)
            ),
            "AWS allows letters, digits, spaces and _ . : / = + - @ in tags; e.g. write \
             `Jane (SRE)` as `Jane - SRE`"
                .to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_tag_characters() {
        for ok in [
            "platform",
            "Jane - SRE",
            "a.b:c/d=e+f-g@h_i",
            "Zoë 東京 ١٢",
            "",
        ] {
            assert!(value_problem(ok).is_none(), "{ok}");
        }
        for bad in ["Jane (SRE)", "a,b", "x;y", "50%", "tab\there", "\u{1b}[31m"] {
            assert!(value_problem(bad).is_some(), "{bad:?}");
        }
        assert!(key_problem("AWS:x").is_some());
        assert!(key_problem("Relayctl:Stack").is_some());
        assert!(key_problem("cost-center").is_none());
        assert!(key_problem("").is_some());
    }
}
