//! The Slack webhook URL: the one rule for what is accepted, and the
//! scrubber that keeps it out of every log line and error.
//!
//! Pure (no runtime, no I/O) so relayctl can apply the same rule at `up`
//! with `relay-handler = { path = "handler", default-features = false }`:
//! a URL `up` accepts is a URL the handler starts with.
//!
//! The URL is a credential (anyone holding it can post to the channel), so
//! [`WebhookUrl`]'s `Debug` and `Display` show only scheme and host, and no
//! [`WebhookError`] quotes the value.

use std::fmt;

use http::Uri;
use percent_encoding::percent_decode_str;

/// Longer than any webhook Slack issues; refusing early keeps a pasted
/// document from becoming a "URL".
pub const MAX_URL_LEN: usize = 2048;

const REDACTED: &str = "<redacted>";

/// Why a webhook URL was refused. Never contains the URL or any part of it.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum WebhookError {
    #[error("the webhook URL is empty")]
    Missing,
    #[error("the webhook URL is not valid ({0}); expected https://hooks.slack.com/services/…")]
    Invalid(&'static str),
    #[error(
        "the webhook URL must use https (plain http is allowed only for 127.0.0.1, localhost and [::1])"
    )]
    Insecure,
}

/// Checks `raw` against the rule the handler applies at init. The error
/// never echoes the URL. This is the call relayctl makes at `up`.
pub fn validate(raw: &str) -> Result<(), WebhookError> {
    WebhookUrl::parse(raw).map(drop)
}

/// A validated Slack webhook URL. Formatting it prints only scheme and host.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(Uri);

impl WebhookUrl {
    pub fn parse(raw: &str) -> Result<Self, WebhookError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(WebhookError::Missing);
        }
        if raw.len() > MAX_URL_LEN {
            return Err(WebhookError::Invalid("longer than 2048 characters"));
        }
        let uri: Uri = raw
            .parse()
            .map_err(|_| WebhookError::Invalid("cannot be parsed"))?;
        let authority = uri.authority().ok_or(WebhookError::Invalid("no host"))?;
        if authority.as_str().contains('@') {
            return Err(WebhookError::Invalid("user info before the host"));
        }
        let host = authority.host();
        if host.is_empty() {
            return Err(WebhookError::Invalid("no host"));
        }
        let loopback = is_loopback(host);
        // `https://x` parses, but no webhook host is a single label; it is
        // a typo or a placeholder, and would fail only when an alarm fires.
        if !loopback && !host.contains('.') {
            return Err(WebhookError::Invalid("host is not a domain name"));
        }
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if loopback => {}
            Some("http") => return Err(WebhookError::Insecure),
            _ => return Err(WebhookError::Invalid("scheme is not https")),
        }
        // The path carries the hook's token; without one there is nothing to post to.
        if uri.path().trim_matches('/').is_empty() {
            return Err(WebhookError::Invalid("no path after the host"));
        }
        Ok(Self(uri))
    }

    /// The full URL, for building the request only. Never log it.
    pub fn expose(&self) -> &Uri {
        &self.0
    }

    /// A scrubber for text that may echo this URL.
    pub fn scrubber(&self) -> Scrubber {
        Scrubber::for_url(&self.0)
    }
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1")
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = self.0.scheme_str().unwrap_or("?");
        let host = self.0.host().unwrap_or("?");
        write!(f, "{scheme}://{host}/{REDACTED}")
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({self})")
    }
}

/// Removes a webhook URL from text that may echo it (Slack's error bodies,
/// transport errors): the whole URL, its path, and each path segment long
/// enough to be an id or the token, so `/services/T…/B…/…` cannot survive
/// in any spelling that keeps the segments intact (raw, percent-encoded,
/// JSON-escaped slashes, without the host).
#[derive(Clone, Default)]
pub struct Scrubber {
    secrets: Vec<String>,
}

/// Segments shorter than this are words like `services`' neighbours in test
/// URLs (`/x`), not credentials; replacing them would mangle ordinary text.
const MIN_SECRET_SEGMENT: usize = 4;

impl Scrubber {
    fn for_url(uri: &Uri) -> Self {
        let mut secrets = vec![uri.to_string()];
        if let Some(path) = uri.path_and_query() {
            secrets.push(path.as_str().to_owned());
        }
        for segment in uri.path().split('/') {
            let segment = percent_decode_str(segment).decode_utf8_lossy();
            if segment.len() >= MIN_SECRET_SEGMENT && segment != "services" {
                secrets.push(segment.into_owned());
            }
        }
        // Longest first, so the whole URL goes before its parts.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets }
    }

    /// `text` with every secret replaced by `<redacted>`. Percent-encoding
    /// is decoded first (up to three layers: an echo may be encoded twice
    /// by proxies), because the encoded form of the token is not the token.
    /// Matching ignores ASCII case, since percent-escapes and some echoes
    /// change it.
    pub fn scrub(&self, text: &str) -> String {
        let mut decoded = text.to_owned();
        for _ in 0..3 {
            if !decoded.contains('%') {
                break;
            }
            let next = percent_decode_str(&decoded)
                .decode_utf8_lossy()
                .into_owned();
            if next == decoded {
                break;
            }
            decoded = next;
        }
        self.secrets.iter().fold(decoded, |out, secret| {
            replace_ignore_ascii_case(&out, secret)
        })
    }
}

fn replace_ignore_ascii_case(haystack: &str, needle: &str) -> String {
    if needle.is_empty() || haystack.len() < needle.len() {
        return haystack.to_owned();
    }
    let lower_hay = haystack.to_ascii_lowercase();
    let lower_needle = needle.to_ascii_lowercase();
    // ASCII lowercasing keeps byte offsets, so matches in the lowered copy
    // are valid char boundaries in the original.
    let mut out = String::with_capacity(haystack.len());
    let mut last = 0;
    for (start, _) in lower_hay.match_indices(&lower_needle) {
        if start < last {
            continue;
        }
        out.push_str(&haystack[last..start]);
        out.push_str(REDACTED);
        last = start + needle.len();
    }
    out.push_str(&haystack[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";

    #[test]
    fn accepts_https_and_loopback_http_only() {
        assert!(validate(SECRET).is_ok());
        assert!(validate("http://127.0.0.1:9/x").is_ok());
        assert!(validate("http://localhost/x").is_ok());
        assert!(validate("http://[::1]:80/x").is_ok());
        assert_eq!(
            validate("http://hooks.slack.com/services/x"),
            Err(WebhookError::Insecure)
        );
    }

    /// Issue 11 item 4: URLs `up` used to accept that cannot work.
    #[test]
    fn issue_11_refuses_urls_the_handler_cannot_use() {
        for (raw, want) in [
            ("", WebhookError::Missing),
            ("   ", WebhookError::Missing),
            (
                "http://hooks.slack.com/services/T/B/x",
                WebhookError::Insecure,
            ),
            (
                "https://x",
                WebhookError::Invalid("host is not a domain name"),
            ),
            (
                "https://x/services/T/B/x",
                WebhookError::Invalid("host is not a domain name"),
            ),
            (
                "https:///services/nohost",
                WebhookError::Invalid("cannot be parsed"),
            ),
            (
                "https://hooks.slack.com",
                WebhookError::Invalid("no path after the host"),
            ),
            (
                "https://hooks.slack.com/",
                WebhookError::Invalid("no path after the host"),
            ),
            (
                "ftp://example.com/x",
                WebhookError::Invalid("scheme is not https"),
            ),
            (
                "hooks.slack.com/services/T/B/x",
                WebhookError::Invalid("cannot be parsed"),
            ),
            ("/services/T/B/x", WebhookError::Invalid("no host")),
            ("not a url", WebhookError::Invalid("cannot be parsed")),
            (
                "https://u:p@hooks.slack.com/s/x",
                WebhookError::Invalid("user info before the host"),
            ),
        ] {
            assert_eq!(validate(raw), Err(want), "{raw:?}");
        }
        let long = format!("{SECRET}{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(
            validate(&long),
            Err(WebhookError::Invalid("longer than 2048 characters"))
        );
    }

    #[test]
    fn errors_and_formatting_never_show_the_secret() {
        for bad in [
            "http://example.com/services/T/B/SECRETTOKEN",
            "https://nodot/services/T/B/SECRETTOKEN",
            "ftp://example.com/services/T/B/SECRETTOKEN",
            "https://example.com/services/T/B/SECRETTOKEN with space",
        ] {
            let err = validate(bad).unwrap_err();
            assert!(!format!("{err} {err:?}").contains("SECRETTOKEN"), "{err}");
        }
        let url = WebhookUrl::parse(SECRET).unwrap();
        for shown in [format!("{url:?}"), url.to_string()] {
            assert!(!shown.contains("XXXXSECRET"), "{shown}");
            assert!(!shown.contains("/services/"), "{shown}");
        }
    }

    /// Issue 11 item 5: every spelling of the path is scrubbed.
    #[test]
    fn issue_11_scrubs_raw_encoded_and_partial_echoes() {
        let scrubber = WebhookUrl::parse(SECRET).unwrap().scrubber();
        for echo in [
            "error sending https://hooks.slack.com/services/T000/B000/XXXXSECRET",
            "no_service for /services/T000/B000/XXXXSECRET",
            "path=%2Fservices%2FT000%2FB000%2FXXXXSECRET",
            "path=%2fservices%2ft000%2fb000%2fxxxxsecret",
            "double=%252Fservices%252FT000%252FB000%252FXXXXSECRET",
            r#"{"path":"\/services\/T000\/B000\/XXXXSECRET"}"#,
            "token XXXXSECRET alone",
            "every byte %58%58%58%58%53%45%43%52%45%54",
        ] {
            let out = scrubber.scrub(echo);
            assert!(!out.contains("XXXXSECRET"), "{echo:?} -> {out:?}");
            assert!(!out.to_ascii_lowercase().contains("xxxxsecret"), "{out:?}");
            assert!(out.contains(REDACTED), "{out:?}");
        }
        assert_eq!(scrubber.scrub("channel_not_found"), "channel_not_found");
    }

    #[test]
    fn replacement_keeps_surrounding_text_and_non_ascii() {
        assert_eq!(
            replace_ignore_ascii_case("é ABC é abc", "abc"),
            "é <redacted> é <redacted>"
        );
        assert_eq!(replace_ignore_ascii_case("ab", "abc"), "ab");
    }
}
