//! AWS region names and codes, and the CloudWatch console link for an alarm.
//!
//! SNS alarm messages carry the region as a display name ("EU - Ireland",
//! "US East (N. Virginia)", "Europe (Ireland)" depending on age), never as a
//! code, so we keep a table of every public region and match loosely.

/// (code, current display name, older names CloudWatch has used)
const REGIONS: &[(&str, &str, &[&str])] = &[
    ("us-east-1", "US East (N. Virginia)", &[]),
    ("us-east-2", "US East (Ohio)", &[]),
    ("us-west-1", "US West (N. California)", &[]),
    ("us-west-2", "US West (Oregon)", &[]),
    ("af-south-1", "Africa (Cape Town)", &[]),
    ("ap-east-1", "Asia Pacific (Hong Kong)", &[]),
    ("ap-east-2", "Asia Pacific (Taipei)", &[]),
    ("ap-south-1", "Asia Pacific (Mumbai)", &[]),
    ("ap-south-2", "Asia Pacific (Hyderabad)", &[]),
    ("ap-southeast-1", "Asia Pacific (Singapore)", &[]),
    ("ap-southeast-2", "Asia Pacific (Sydney)", &[]),
    ("ap-southeast-3", "Asia Pacific (Jakarta)", &[]),
    ("ap-southeast-4", "Asia Pacific (Melbourne)", &[]),
    ("ap-southeast-5", "Asia Pacific (Malaysia)", &[]),
    ("ap-southeast-6", "Asia Pacific (New Zealand)", &[]),
    ("ap-southeast-7", "Asia Pacific (Thailand)", &[]),
    ("ap-northeast-1", "Asia Pacific (Tokyo)", &[]),
    ("ap-northeast-2", "Asia Pacific (Seoul)", &[]),
    (
        "ap-northeast-3",
        "Asia Pacific (Osaka)",
        &["Asia Pacific (Osaka-Local)"],
    ),
    ("ca-central-1", "Canada (Central)", &[]),
    ("ca-west-1", "Canada West (Calgary)", &[]),
    ("eu-central-1", "Europe (Frankfurt)", &[]),
    ("eu-central-2", "Europe (Zurich)", &[]),
    ("eu-west-1", "Europe (Ireland)", &[]),
    ("eu-west-2", "Europe (London)", &[]),
    ("eu-west-3", "Europe (Paris)", &[]),
    ("eu-south-1", "Europe (Milan)", &[]),
    ("eu-south-2", "Europe (Spain)", &[]),
    ("eu-north-1", "Europe (Stockholm)", &[]),
    ("il-central-1", "Israel (Tel Aviv)", &[]),
    ("me-south-1", "Middle East (Bahrain)", &[]),
    ("me-central-1", "Middle East (UAE)", &[]),
    ("mx-central-1", "Mexico (Central)", &[]),
    (
        "sa-east-1",
        "South America (São Paulo)",
        &["South America (Sao Paulo)"],
    ),
    ("us-gov-east-1", "AWS GovCloud (US-East)", &[]),
    (
        "us-gov-west-1",
        "AWS GovCloud (US-West)",
        &["AWS GovCloud (US)"],
    ),
    ("cn-north-1", "China (Beijing)", &[]),
    ("cn-northwest-1", "China (Ningxia)", &[]),
];

/// Region code for a display name or a code; `None` when unknown.
pub fn region_code(name: &str) -> Option<&'static str> {
    let wanted = normalize(name);
    if wanted.is_empty() {
        return None;
    }
    REGIONS.iter().find_map(|(code, display, older)| {
        let hit = *code == name.trim()
            || normalize(display) == wanted
            || older.iter().any(|o| normalize(o) == wanted);
        hit.then_some(*code)
    })
}

/// `"EU - Ireland"`, `"EU (Ireland)"` and `"Europe (Ireland)"` all become
/// `"europe ireland"`: lower case, punctuation to single spaces, "eu" spelled out.
fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let c = match c {
            'ã' | 'Ã' => 'a',
            c => c.to_ascii_lowercase(),
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    }
    let out = out.trim_end();
    match out.strip_prefix("eu ") {
        Some(rest) => format!("europe {rest}"),
        None => out.to_owned(),
    }
}

/// Region code from an ARN (`arn:partition:service:region:account:...`).
pub fn region_from_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    (parts.next()? == "arn").then_some(())?;
    let region = parts.nth(2)?.trim();
    looks_like_code(region).then_some(region)
}

pub(crate) fn looks_like_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.contains('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// CloudWatch's own limit for an alarm name.
pub const MAX_ALARM_NAME_CHARS: usize = 255;

/// Link to the alarm's page in the CloudWatch console of its own partition;
/// `None` for a name no real alarm can have (the link would be megabytes).
pub fn console_alarm_url(region: &str, alarm_name: &str) -> Option<String> {
    if !looks_like_code(region) || alarm_name.chars().nth(MAX_ALARM_NAME_CHARS).is_some() {
        return None;
    }
    let host = if region.starts_with("cn-") {
        format!("{region}.console.amazonaws.cn")
    } else if region.starts_with("us-gov-") {
        "console.amazonaws-us-gov.com".to_owned()
    } else {
        format!("{region}.console.aws.amazon.com")
    };
    Some(format!(
        "https://{host}/cloudwatch/home?region={region}#alarmsV2:alarm/{}",
        encode_component(alarm_name)
    ))
}

/// Percent-encoding as JavaScript's `encodeURIComponent`, which is what the
/// console itself puts in its alarm links. Hand-written: ten lines instead of
/// a dependency.
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_in_every_spelling_map_to_codes() {
        assert_eq!(region_code("EU - Ireland"), Some("eu-west-1"));
        assert_eq!(region_code("EU (Ireland)"), Some("eu-west-1"));
        assert_eq!(region_code("Europe (Ireland)"), Some("eu-west-1"));
        assert_eq!(region_code("US East (N. Virginia)"), Some("us-east-1"));
        assert_eq!(region_code("US East - N. Virginia"), Some("us-east-1"));
        assert_eq!(region_code("South America (São Paulo)"), Some("sa-east-1"));
        assert_eq!(region_code("Asia Pacific - Tokyo"), Some("ap-northeast-1"));
        assert_eq!(region_code("AWS GovCloud (US)"), Some("us-gov-west-1"));
        assert_eq!(region_code("eu-central-2"), Some("eu-central-2"));
        assert_eq!(region_code("EXAMPLE"), None);
        assert_eq!(region_code(""), None);
    }

    #[test]
    fn every_region_round_trips_through_its_display_name() {
        for (code, display, _) in REGIONS {
            assert_eq!(region_code(display), Some(*code), "{display}");
        }
    }

    #[test]
    fn region_from_arn_rejects_placeholders() {
        assert_eq!(
            region_from_arn("arn:aws:cloudwatch:us-east-1:111122223333:alarm:x"),
            Some("us-east-1")
        );
        assert_eq!(
            region_from_arn("arn:aws:cloudwatch:REGION:ACCOUNT:alarm:x"),
            None
        );
        assert_eq!(region_from_arn("not an arn"), None);
    }

    #[test]
    fn console_links_follow_the_partition() {
        assert_eq!(
            console_alarm_url("eu-west-1", "High CPU/db #1").unwrap(),
            "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarmsV2:alarm/High%20CPU%2Fdb%20%231"
        );
        assert!(
            console_alarm_url("cn-north-1", "a")
                .unwrap()
                .starts_with("https://cn-north-1.console.amazonaws.cn/")
        );
        assert!(
            console_alarm_url("us-gov-west-1", "a")
                .unwrap()
                .starts_with("https://console.amazonaws-us-gov.com/")
        );
        assert_eq!(console_alarm_url("EU - Ireland", "a"), None);
        let longest = "😀".repeat(MAX_ALARM_NAME_CHARS);
        assert!(
            console_alarm_url("eu-west-1", &longest).unwrap().len()
                <= crate::render::MAX_TITLE_LINK_CHARS
        );
        assert_eq!(console_alarm_url("eu-west-1", &format!("{longest}x")), None);
    }
}
