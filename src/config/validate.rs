//! The meaning of each value: ranges, names, AWS's limits. Reads the checked
//! sections from `schema::Walk`, fills in the defaults, and collects every
//! problem with the line of its field.

use std::path::{Path, PathBuf};

use super::error::{Problem, codes};
use super::model::{Architecture, Handler, LOG_RETENTION_DAYS, Route, Slack, Stack};
use super::safe::{looks_like_url, shown};
use super::schema::Section;
use super::tags;

// Defaults: together they reproduce the seed's chain (DESIGN.md, stack.yaml).
const DEFAULT_HANDLER_PATH: &str = "handler";
const DEFAULT_MEMORY_MB: i64 = 128;
const DEFAULT_TIMEOUT_S: i64 = 10;
const DEFAULT_LOG_RETENTION_DAYS: i64 = 14;

// Limits from the AWS APIs the names and values end up in.
const MAX_STACK_NAME: usize = 40;

#[derive(Default)]
pub(crate) struct Validator {
    pub problems: Vec<Problem>,
}

impl Validator {
    pub(super) fn problem(
        &mut self,
        section: &Section,
        field: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.problems.push(
            Problem::new(codes::INVALID_VALUE, section.at(field), message)
                .hint(hint)
                .line(section.line_of(field)),
        );
    }

    /// "is required", unless the field is there with a value already reported.
    pub(super) fn required(&mut self, section: &Section, field: &str, hint: &str) {
        if section.is_missing(field) || section.text(field).is_some_and(|t| t.value.is_empty()) {
            self.problems.push(
                Problem::new(codes::REQUIRED, section.at(field), "is required")
                    .hint(hint)
                    .line(section.line_of(field)),
            );
        }
    }

    pub(super) fn text(section: &Section, field: &str) -> Option<String> {
        section.text(field).map(|t| t.value.clone())
    }

    /// Checks every field and returns the stack with defaults filled in. The
    /// returned value is meaningful only when no problem was recorded.
    pub fn stack(&mut self, root: &Section, base_dir: PathBuf) -> Stack {
        let name = self.name(root);
        let region = Self::text(root, "region");
        if let Some(r) = &region
            && !is_region(r)
        {
            self.problem(
                root,
                "region",
                format!("{} is not an AWS region code", shown(r)),
                "use a region code such as eu-west-1, or leave region out to use the AWS \
                 region chain (AWS_REGION, --region, profile)",
            );
        }
        let regions = self.regions(root);
        let slack = self.slack(root);
        let empty = Section::default();
        let handler = self.handler(root.section("handler").unwrap_or(&empty), &base_dir);
        let route = self.route(root);
        let alarms = self.alarms(root, &name, route);
        let tags = tags::validate(root, &mut self.problems);
        Stack {
            name,
            region,
            regions,
            slack,
            handler,
            route,
            alarms,
            tags,
            base_dir,
        }
    }

    fn name(&mut self, root: &Section) -> String {
        let hint = "lowercase letters, digits and '-' (not first or last), at most 40 \
                    characters, e.g. cpu-relay; it prefixes every AWS name";
        let name = Self::text(root, "name").unwrap_or_default();
        if name.is_empty() {
            self.required(root, "name", hint);
        } else if !is_stack_name(&name) {
            self.problem(
                root,
                "name",
                format!("{} is not a valid stack name", shown(&name)),
                hint,
            );
        }
        name
    }

    /// `regions:`: several regions converged at once, instead of `region:`.
    fn regions(&mut self, root: &Section) -> Vec<String> {
        let Some(list) = root.text_list("regions") else {
            return Vec::new();
        };
        if !root.is_missing("region") {
            self.problem(
                root,
                "regions",
                "is set together with region",
                "use one of the two: `region: eu-west-1` for one region, or \
                 `regions: [eu-west-1, us-east-1]` for several",
            );
        }
        if list.value.is_empty() {
            self.problem(
                root,
                "regions",
                "is empty",
                "list at least one region code, e.g. `regions: [eu-west-1, us-east-1]`, or \
                 leave regions out to use the AWS region chain",
            );
        }
        for (i, r) in list.value.iter().enumerate() {
            let problem = if !is_region(r) {
                format!("{} is not an AWS region code", shown(r))
            } else if list.value[..i].contains(r) {
                format!("{} is listed twice", shown(r))
            } else {
                continue;
            };
            self.problems.push(
                Problem::new(codes::INVALID_VALUE, format!("regions[{i}]"), problem)
                    .hint("list each region code once, such as eu-west-1")
                    .line(Some(list.line)),
            );
        }
        list.value.clone()
    }

    fn route(&mut self, root: &Section) -> Route {
        match root.text("route").map(|t| t.value.as_str()) {
            None | Some("sns") => Route::Sns,
            Some("direct") => Route::Direct,
            Some(other) => {
                self.problem(
                    root,
                    "route",
                    format!("{} is not a route", shown(other)),
                    "use sns (alarm -> SNS topic -> Lambda, the seed's chain) or direct (the \
                     alarm invokes Lambda itself)",
                );
                Route::Sns
            }
        }
    }

    fn slack(&mut self, root: &Section) -> Slack {
        let env_hint = "the name of the environment variable holding the webhook URL at `up` \
                        time, e.g. SLACK_WEBHOOK_URL";
        let Some(slack) = root.section("slack") else {
            if root.is_missing("slack") {
                self.required(
                    root,
                    "slack",
                    "add `slack:` with `webhook_url_env: SLACK_WEBHOOK_URL`",
                );
            }
            return Slack {
                webhook_url_env: String::new(),
                webhook_url_ssm: None,
                channel: None,
            };
        };
        let var = Self::text(slack, "webhook_url_env").unwrap_or_default();
        let ssm = Self::text(slack, "webhook_url_ssm");
        match &ssm {
            Some(_) if !var.is_empty() => self.problem(
                slack,
                "webhook_url_ssm",
                "is set together with webhook_url_env",
                "use exactly one of the two: webhook_url_env (the URL from an environment \
                 variable at `up`) or webhook_url_ssm (a SecureString the handler reads)",
            ),
            Some(name) => self.ssm_parameter_name(slack, name),
            // A webhook_url_ssm already refused by the schema is not absent.
            None if !slack.is_missing("webhook_url_ssm") => {}
            None => self.webhook_env(slack, &var, env_hint),
        }
        let channel = Self::text(slack, "channel");
        if channel.as_ref().is_some_and(|c| c.trim().is_empty()) {
            self.problem(
                slack,
                "channel",
                "is empty",
                "name a channel such as \"#alerts\", or leave channel out",
            );
        }
        Slack {
            webhook_url_env: var,
            webhook_url_ssm: ssm,
            channel,
        }
    }

    fn webhook_env(&mut self, slack: &Section, var: &str, env_hint: &str) {
        // The value is never echoed: whatever was pasted here may be a secret.
        if var.is_empty() {
            self.required(
                slack,
                "webhook_url_env",
                &format!("{env_hint}; or webhook_url_ssm, an SSM SecureString parameter's name"),
            );
        } else if looks_like_url(var) {
            self.problem(
                slack,
                "webhook_url_env",
                "looks like a URL",
                "put the name of an environment variable here (e.g. SLACK_WEBHOOK_URL), not \
                 the URL: secrets stay out of files",
            );
        } else if !is_env_var_name(var) {
            self.problem(
                slack,
                "webhook_url_env",
                "is not an environment variable name (value not shown)",
                format!("use letters, digits and '_', not starting with a digit: {env_hint}"),
            );
        }
    }

    /// SSM's parameter-name rules (PutParameter `Name`). The value is never
    /// echoed: it may be a pasted URL.
    fn ssm_parameter_name(&mut self, slack: &Section, name: &str) {
        let field = "webhook_url_ssm";
        if looks_like_url(name) {
            self.problem(
                slack,
                field,
                "looks like a URL",
                "put the name of an SSM SecureString parameter here (e.g. \
                 /relay/cpu-relay/slack-webhook), not the URL: store the URL with \
                 `relayctl secret set`",
            );
        } else if super::is_lock_parameter(name) {
            self.problem(
                slack,
                field,
                format!("is {name}, the name of a relayctl stack lock"),
                "use another name, e.g. /relay/cpu-relay/slack-webhook: relayctl takes and \
                 deletes /relayctl/<stack>/lock around every `up` and `down`",
            );
        } else if let Err(why) = check_parameter_name(name) {
            self.problem(
                slack,
                field,
                format!("is not an SSM parameter name (value not shown): {why}"),
                "e.g. /relay/cpu-relay/slack-webhook: letters, digits and . - _ /, a \
                 hierarchy starting with /",
            );
        }
    }

    fn handler(&mut self, handler: &Section, base_dir: &Path) -> Handler {
        let rel = Self::text(handler, "path").unwrap_or_else(|| DEFAULT_HANDLER_PATH.to_string());
        // Whether it is a crate folder matters only to a build: `handler_source`.
        if rel.trim().is_empty() {
            self.problem(
                handler,
                "path",
                "is empty",
                "handler.path is the handler crate's folder, relative to the stack file's \
                 folder; leave it out for `handler`",
            );
        }
        let whole = |name: &str, default: i64| handler.whole(name).map_or(default, |w| w.value);
        let memory_mb = self.int_in(
            handler,
            "memory_mb",
            whole("memory_mb", DEFAULT_MEMORY_MB),
            128..=10240,
            "MB",
            "Lambda allows 128 to 10240 MB",
        );
        let timeout_s = self.int_in(
            handler,
            "timeout_s",
            whole("timeout_s", DEFAULT_TIMEOUT_S),
            1..=900,
            "seconds",
            "Lambda allows 1 to 900 seconds",
        );
        let architecture = self.architecture(handler);
        let days = whole("log_retention_days", DEFAULT_LOG_RETENTION_DAYS);
        let log_retention_days = match i32::try_from(days) {
            Ok(d) if LOG_RETENTION_DAYS.contains(&d) => d,
            _ => {
                let allowed: Vec<String> =
                    LOG_RETENTION_DAYS.iter().map(|d| d.to_string()).collect();
                self.problem(
                    handler,
                    "log_retention_days",
                    format!("{days} is not a retention CloudWatch Logs accepts"),
                    format!("use one of {}", allowed.join(", ")),
                );
                DEFAULT_LOG_RETENTION_DAYS as i32
            }
        };
        Handler {
            path: base_dir.join(&rel),
            memory_mb,
            timeout_s,
            architecture,
            log_retention_days,
        }
    }

    fn architecture(&mut self, handler: &Section) -> Architecture {
        match handler.text("architecture").map(|t| t.value.as_str()) {
            None | Some("x86_64") => Architecture::X86_64,
            Some("arm64") => Architecture::Arm64,
            Some(other) => {
                let alias = matches!(other, "aarch64" | "arm" | "amd64" | "x86-64" | "x64");
                self.problem(
                    handler,
                    "architecture",
                    format!("{} is not a Lambda architecture", shown(other)),
                    if alias {
                        "Lambda spells them x86_64 and arm64"
                    } else {
                        "use x86_64 or arm64"
                    },
                );
                Architecture::X86_64
            }
        }
    }

    fn int_in(
        &mut self,
        section: &Section,
        field: &str,
        value: i64,
        range: std::ops::RangeInclusive<i64>,
        unit: &str,
        hint: &str,
    ) -> i32 {
        if range.contains(&value) {
            // The ranges used here all fit in i32.
            value as i32
        } else {
            self.problem(
                section,
                field,
                format!("{value} {unit} is out of range"),
                hint,
            );
            *range.start() as i32
        }
    }
}

/// `[a-z0-9-]{1,40}`, no '-' at either end (AWS names are built as `{name}-…`,
/// and a leading or doubled dash reads as a mistake in the console).
fn is_stack_name(s: &str) -> bool {
    (1..=MAX_STACK_NAME).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Region codes such as eu-west-1, us-gov-west-1, ap-southeast-4.
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let Some((last, rest)) = parts.split_last() else {
        return false;
    };
    rest.len() >= 2
        && (2..=4).contains(&rest[0].len())
        && rest
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && (1..=2).contains(&last.len())
        && last.bytes().all(|b| b.is_ascii_digit())
}

/// `[A-Za-z_][A-Za-z0-9_]*`: what a POSIX shell can export.
fn is_env_var_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `i-` and 8 (older) or 17 (current) lowercase hex digits.
pub(super) fn is_instance_id(s: &str) -> bool {
    s.strip_prefix("i-").is_some_and(|hex| {
        matches!(hex.len(), 8 | 17)
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// AWS: SSM parameter names (PutParameter `Name`, "Naming constraints" in
/// https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html):
/// a-z A-Z 0-9 . - _ and /, at most 1011 characters, not beginning with
/// `aws` or `ssm` (in any case, also as the first level of a hierarchy), a
/// name with / is fully qualified (starts with /), at most 15 levels.
fn check_parameter_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > 1011 {
        return Err("it must be 1 to 1011 characters long");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'))
    {
        return Err("only letters, digits and . - _ / are allowed");
    }
    if name.contains('/') && !name.starts_with('/') {
        return Err("a name with / must start with /");
    }
    if name.ends_with('/') || name.contains("//") {
        return Err("a hierarchy level is empty");
    }
    let first = name.trim_start_matches('/').to_ascii_lowercase();
    if first.starts_with("aws") || first.starts_with("ssm") {
        return Err("names beginning with aws or ssm are reserved");
    }
    if name.matches('/').count() > 15 {
        return Err("at most 15 hierarchy levels");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_predicates() {
        assert!(is_region("eu-west-1") && is_region("us-gov-west-1"));
        assert!(!is_region("eu-west") && !is_region("EU-WEST-1") && !is_region("west-1"));
        assert!(is_env_var_name("SLACK_WEBHOOK_URL") && is_env_var_name("_x1"));
        assert!(!is_env_var_name("1X") && !is_env_var_name("A-B") && !is_env_var_name(""));
        assert!(is_instance_id("i-0123456789abcdef0") && is_instance_id("i-0123abcd"));
        assert!(!is_instance_id("i-0123456789ABCDEF0") && !is_instance_id("i-012345678"));
        assert!(is_stack_name("cpu-relay") && !is_stack_name("-x") && !is_stack_name("x-"));
    }
}
