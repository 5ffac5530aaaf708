//! stack.yaml parsing and validation through the library API
//! (`relayctl::config::Stack`), against the repo's stack.yaml and the bad
//! files in tests/fixtures/stacks/.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use relayctl::config::{
    Alarm, Architecture, Comparison, ConfigError, Handler, OWNER_TAG_KEY, Problem, Route, Slack,
    Stack, Statistic, Target,
};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/stacks").join(name)
}

/// Loads a file that must be invalid; returns its problems and the Display.
fn problems_of(path: &Path) -> (Vec<Problem>, String) {
    match Stack::load(path) {
        Ok(stack) => panic!("{} should be invalid, got {stack:?}", path.display()),
        Err(e) => {
            let shown = e.to_string();
            match e {
                ConfigError::Invalid { file, problems } => {
                    assert_eq!(file, path);
                    (problems, shown)
                }
                other => panic!("expected Invalid, got {other:?}"),
            }
        }
    }
}

/// The one problem at `path`; fails if there is none or several.
fn at<'a>(problems: &'a [Problem], path: &str) -> &'a Problem {
    let found: Vec<&Problem> = problems.iter().filter(|p| p.path == path).collect();
    assert_eq!(found.len(), 1, "one problem at {path} in {problems:#?}");
    found[0]
}

#[test]
fn repo_stack_yaml_is_the_seed_chain() {
    let file = repo().join("stack.yaml");
    let stack = Stack::load(&file).expect("the repo's stack.yaml is valid");
    let expected = Stack {
        name: "cpu-relay".into(),
        region: None,
        regions: Vec::new(),
        slack: Slack {
            webhook_url_env: "SLACK_WEBHOOK_URL".into(),
            webhook_url_ssm: None,
            channel: None,
        },
        handler: Handler {
            path: repo().join("handler"),
            memory_mb: 128,
            timeout_s: 10,
            architecture: Architecture::X86_64,
            log_retention_days: 14,
        },
        route: Route::Sns,
        alarms: vec![Alarm {
            name: "high-cpu".into(),
            target: Target::Instance("i-0123456789abcdef0".into()),
            dimensions: BTreeMap::new(),
            metric: "CPUUtilization".into(),
            namespace: "AWS/EC2".into(),
            statistic: Statistic::Simple("Average".into()),
            period_s: 60,
            evaluation_periods: 1,
            datapoints_to_alarm: None,
            threshold: 80.0,
            comparison: Comparison::GreaterThanThreshold,
            treat_missing_data: "missing".into(),
            description: None,
            unit: None,
            notify_ok: true,
        }],
        tags: BTreeMap::from([("team".to_string(), "platform".to_string())]),
        base_dir: repo().to_path_buf(),
    };
    assert_eq!(stack, expected);
}

const MINIMAL: &str = "\
name: cpu-relay
slack: { webhook_url_env: SLACK_WEBHOOK_URL }
alarms:
  - name: high-cpu
    instance_id: i-0123456789abcdef0
";

#[test]
fn minimal_file_gets_the_seed_defaults() {
    let file = repo().join("minimal.yaml");
    let minimal = Stack::parse(MINIMAL, &file).expect("minimal file is valid");
    let seed = Stack::load(&repo().join("stack.yaml")).unwrap();
    // The seed file spells out every default; only its tags differ.
    assert_eq!(minimal.tags, BTreeMap::new());
    assert_eq!(
        minimal,
        Stack {
            tags: BTreeMap::new(),
            ..seed
        }
    );
}

#[test]
fn names_and_tags_derive_from_the_stack_name() {
    let stack = Stack::load(&repo().join("stack.yaml")).unwrap();
    assert_eq!(stack.function_name(), "cpu-relay-relay");
    assert_eq!(stack.role_name(), "cpu-relay-relay");
    assert_eq!(stack.log_group_name(), "/aws/lambda/cpu-relay-relay");
    assert_eq!(stack.topic_name(), "cpu-relay-alarms");
    assert_eq!(stack.alarm_name(&stack.alarms[0]), "cpu-relay-high-cpu");
    assert_eq!(stack.permission_sid(), "cpu-relay-sns");
    assert_eq!(
        stack.permission_sid_for(&stack.alarms[0]),
        "cpu-relay-alarm-high-cpu"
    );
    assert_eq!(OWNER_TAG_KEY, "relayctl:stack");
    assert_eq!(
        stack.owner_tags(),
        BTreeMap::from([
            ("relayctl:stack".to_string(), "cpu-relay".to_string()),
            ("team".to_string(), "platform".to_string()),
        ])
    );
}

#[test]
fn scalars_read_as_strings_where_strings_are_expected() {
    // Unquoted numbers and booleans are common in tag values.
    let text = format!("{MINIMAL}tags: {{ cost-center: 1234, shared: true }}\n");
    let stack = Stack::parse(&text, &repo().join("s.yaml")).unwrap();
    assert_eq!(stack.tags["cost-center"], "1234");
    assert_eq!(stack.tags["shared"], "true");
}

#[test]
fn bad_period_names_path_line_and_hint() {
    let (problems, shown) = problems_of(&fixture("bad-period.yaml"));
    assert_eq!(problems.len(), 1);
    let p = &problems[0];
    assert_eq!(p.path, "alarms[0].period_s");
    assert_eq!(p.line, Some(10));
    assert_eq!(p.message, "45 is not a valid period");
    let hint = "period_s must be 10, 20, 30 or a multiple of 60 up to 604800 (7 days), \
                without quotes";
    assert_eq!(p.hint.as_deref(), Some(hint));
    let file = fixture("bad-period.yaml").display().to_string();
    assert_eq!(
        shown,
        format!(
            "{file} is invalid (1 problem):\n  \
             {file}:10: alarms[0].period_s: 45 is not a valid period\n    \
             hint: {hint}"
        )
    );
}

#[test]
fn every_problem_in_a_file_is_reported() {
    let (problems, shown) = problems_of(&fixture("many-problems.yaml"));
    let expected: &[(&str, usize, &str)] = &[
        ("name", 2, "\"Cpu_Relay\" is not a valid stack name"),
        ("region", 3, "\"europe\" is not an AWS region code"),
        (
            "slack.webhook_url_env",
            5,
            "is not an environment variable name",
        ),
        ("handler.memory_mb", 8, "64 MB is out of range"),
        ("handler.timeout_s", 9, "1000 seconds is out of range"),
        (
            "handler.architecture",
            10,
            "\"aarch64\" is not a Lambda architecture",
        ),
        ("handler.log_retention_days", 11, "10 is not a retention"),
        ("route", 12, "\"lambda\" is not a route"),
        ("alarms[0].statistic", 16, "\"p99\" is not a statistic"),
        ("alarms[0].period_s", 17, "0 is not a valid period"),
        ("alarms[0].evaluation_periods", 18, "0 is out of range"),
        ("alarms[0].threshold", 19, "is not a finite number"),
        ("alarms[0].comparison", 20, "\"Above\" is not a comparison"),
        ("alarms[1].name", 21, "already used by alarms[0]"),
        (
            "alarms[1].instance_id",
            22,
            "\"i-xyz\" is not an EC2 instance id",
        ),
        ("alarms[2].name", 23, "is required"),
        ("tags[\"aws:created-by\"]", 26, "reserved by AWS"),
        (
            "tags[\"relayctl:stack\"]",
            27,
            "reserved for relayctl's ownership tag",
        ),
    ];
    for (path, line, message) in expected {
        let p = at(&problems, path);
        assert_eq!(p.line, Some(*line), "line of {path}");
        assert!(p.message.contains(message), "{path}: {:?}", p.message);
        assert!(p.hint.is_some(), "{path} has a hint");
    }
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    assert!(shown.contains("(18 problems):"), "{shown}");
    // Listed in file order.
    let lines: Vec<usize> = problems.iter().map(|p| p.line.unwrap()).collect();
    assert!(lines.is_sorted(), "{lines:?}");
}

#[test]
fn missing_required_fields_are_collected_too() {
    let (problems, _) = problems_of(&fixture("missing-required.yaml"));
    assert_eq!(at(&problems, "name").message, "is required");
    assert_eq!(at(&problems, "name").line, None, "absent from the file");
    assert_eq!(at(&problems, "slack").message, "is required");
    let alarms = at(&problems, "alarms");
    assert_eq!(alarms.line, Some(4));
    assert_eq!(alarms.message, "at least one alarm is required");
    // handler.path is checked by a build, not by loading (issue 10.10).
    assert_eq!(problems.len(), 3, "{problems:#?}");
}

#[test]
fn handler_path_is_checked_only_where_a_build_needs_it() {
    let file = repo().join("s.yaml");
    let text = format!("{MINIMAL}handler: {{ path: no-such-folder }}\n");
    let stack = Stack::parse(&text, &file).expect("down, status and up --zip need no source");
    let err = stack.handler_source().unwrap_err();
    assert!(matches!(err, ConfigError::HandlerSource { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.starts_with("handler.path: "), "{shown}");
    assert!(shown.contains("no-such-folder does not exist"), "{shown}");
    assert!(err.hint().unwrap().contains("Cargo.toml"), "{err:?}");
    assert!(err.hint().unwrap().contains("--zip"), "{err:?}");
    assert_eq!(err.code(), "E030");
    let seed = Stack::load(&repo().join("stack.yaml")).unwrap();
    assert_eq!(seed.handler_source().unwrap(), repo().join("handler"));
}

#[test]
fn webhook_url_in_the_file_is_refused_without_echoing_it() {
    let (problems, shown) = problems_of(&fixture("webhook-url.yaml"));
    let p = at(&problems, "slack.webhook_url_env");
    assert_eq!(p.line, Some(3));
    assert_eq!(p.message, "looks like a URL");
    assert_eq!(
        p.hint.as_deref(),
        Some(
            "put the name of an environment variable here (e.g. SLACK_WEBHOOK_URL), \
             not the URL: secrets stay out of files"
        )
    );
    for secret in ["SECRET", "hooks.slack.com/services", "https://"] {
        assert!(!shown.contains(secret), "{secret} leaked into: {shown}");
        assert!(
            !format!("{problems:?}").contains(secret),
            "Debug leaks {secret}"
        );
    }
    // Without a scheme, too.
    let text = MINIMAL.replace(
        "SLACK_WEBHOOK_URL",
        "hooks.slack.com/services/T0/B0/XSECRET",
    );
    let err = Stack::parse(&text, &repo().join("s.yaml")).unwrap_err();
    assert!(err.to_string().contains("looks like a URL"));
    assert!(!err.to_string().contains("XSECRET"));
}

#[test]
fn unknown_field_is_named_with_its_line() {
    let (problems, shown) = problems_of(&fixture("unknown-field.yaml"));
    assert_eq!(problems.len(), 1);
    let p = &problems[0];
    assert_eq!(p.path, "alarms[0].treshold");
    assert_eq!((p.line, p.column), (Some(9), Some(5)));
    assert_eq!(p.message, "unknown field");
    assert!(p.hint.as_deref().unwrap().contains("`threshold`"));
    assert!(shown.contains("unknown-field.yaml:9:5: alarms[0].treshold: unknown field"));
}

#[test]
fn wrong_type_has_its_line() {
    let (problems, _) = problems_of(&fixture("wrong-type.yaml"));
    assert_eq!(problems.len(), 1);
    let p = &problems[0];
    assert_eq!(p.path, "handler.memory_mb");
    assert_eq!(p.line, Some(6));
    assert!(
        p.message.contains("expected a whole number"),
        "{}",
        p.message
    );
}

#[test]
fn syntax_error_has_its_line() {
    let (problems, shown) = problems_of(&fixture("syntax-error.yaml"));
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, Some(4));
    assert!(!problems[0].message.contains(" at line "), "{shown}");
}

#[test]
fn name_length_and_shape() {
    let parse =
        |name: &str| Stack::parse(&MINIMAL.replace("cpu-relay", name), &repo().join("s.yaml"));
    assert!(parse(&"a".repeat(40)).is_ok());
    for bad in [
        "a".repeat(41),
        "-relay".into(),
        "relay-".into(),
        "Relay".into(),
        "a_b".into(),
    ] {
        let err = parse(&bad).unwrap_err();
        assert!(err.to_string().contains(":1: name:"), "{bad}: {err}");
    }
}

#[test]
fn limits_of_alarms_and_tags() {
    let file = repo().join("s.yaml");
    // 40-char stack + '-' + 215-char alarm = 256 > 255.
    let long = MINIMAL
        .replace("cpu-relay", &"s".repeat(40))
        .replace("high-cpu", &"a".repeat(215));
    let err = Stack::parse(&long, &file).unwrap_err();
    assert!(
        err.to_string()
            .contains("alarms[0].name: the CloudWatch alarm name would be 256")
    );
    assert!(Stack::parse(&long.replace(&"a".repeat(215), &"a".repeat(214)), &file).is_ok());

    let tags: String = (0..49).map(|i| format!("  t{i}: v\n")).collect();
    let err = Stack::parse(&format!("{MINIMAL}tags:\n{tags}"), &file).unwrap_err();
    assert!(
        err.to_string().contains(":6: tags: 49 tags; at most 48"),
        "{err}"
    );

    let text = format!(
        "{MINIMAL}tags:\n  {}: x\n  ok: {}\n",
        "k".repeat(129),
        "v".repeat(257)
    );
    let ConfigError::Invalid { problems, .. } = Stack::parse(&text, &file).unwrap_err() else {
        panic!()
    };
    assert_eq!(
        at(&problems, &format!("tags.{}", "k".repeat(129))).line,
        Some(7)
    );
    assert_eq!(
        at(&problems, "tags.ok").message,
        "the value is 257 characters"
    );
}

#[test]
fn periods_and_instance_ids() {
    let file = repo().join("s.yaml");
    let with = |extra: &str| Stack::parse(&format!("{MINIMAL}    {extra}\n"), &file);
    for ok in [
        "period_s: 10",
        "period_s: 20",
        "period_s: 30",
        "period_s: 300",
        "period_s: 604800",
    ] {
        assert!(with(ok).is_ok(), "{ok}");
    }
    for bad in [
        "period_s: 25",
        "period_s: 90",
        "period_s: -60",
        "period_s: 604860",
    ] {
        assert!(with(bad).is_err(), "{bad}");
    }
    let id = |id: &str| Stack::parse(&MINIMAL.replace("i-0123456789abcdef0", id), &file);
    assert!(id("i-0123abcd").is_ok());
    assert!(id("i-0123456789ABCDEF0").is_err());
    assert!(id("i-0123456789abcdef").is_err());
}

#[test]
fn direct_route_and_region() {
    let text = format!("{MINIMAL}route: direct\nregion: us-gov-west-1\n");
    let stack = Stack::parse(&text, &repo().join("s.yaml")).unwrap();
    assert_eq!(stack.route, Route::Direct);
    assert_eq!(stack.region.as_deref(), Some("us-gov-west-1"));
}

#[test]
fn handler_folder_without_cargo_toml() {
    // tests/fixtures is a folder but not a crate.
    let text = format!("{MINIMAL}handler: {{ path: tests/fixtures }}\n");
    let stack = Stack::parse(&text, &repo().join("s.yaml")).unwrap();
    let err = stack.handler_source().unwrap_err();
    assert!(err.to_string().starts_with("handler.path:"), "{err}");
    assert!(err.to_string().contains("has no Cargo.toml"), "{err}");
    let text = format!("{MINIMAL}handler: {{ path: stack.yaml }}\n");
    let stack = Stack::parse(&text, &repo().join("s.yaml")).unwrap();
    assert!(
        stack
            .handler_source()
            .unwrap_err()
            .to_string()
            .contains("is not a folder")
    );
}

#[test]
fn unreadable_file_is_a_read_error() {
    let missing = fixture("no-such-file.yaml");
    match Stack::load(&missing) {
        Err(ConfigError::Read { file, source }) => {
            assert_eq!(file, missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Read, got {other:?}"),
    }
}

#[test]
fn webhook_url_comes_from_the_named_variable_and_is_never_shown() {
    let stack = Stack::parse(MINIMAL, &repo().join("s.yaml")).unwrap();
    let url = "https://hooks.slack.com/services/T0/B0/XSECRET";
    let got =
        stack.webhook_url_from(|var| (var == "SLACK_WEBHOOK_URL").then(|| format!("{url}\n")));
    assert_eq!(got.unwrap(), url, "trailing newline trimmed");
    assert_eq!(
        stack
            .webhook_url_from(|_| Some("http://127.0.0.1:9/hook".into()))
            .unwrap(),
        "http://127.0.0.1:9/hook"
    );

    let missing = stack.webhook_url_from(|_| None).unwrap_err();
    assert!(matches!(&missing, ConfigError::MissingWebhook { var } if var == "SLACK_WEBHOOK_URL"));
    assert!(missing.to_string().contains("SLACK_WEBHOOK_URL is not set"));
    assert_eq!(
        missing.hint().as_deref(),
        Some("export SLACK_WEBHOOK_URL=https://hooks.slack.com/services/… before `relayctl up`")
    );
    assert!(matches!(
        stack.webhook_url_from(|_| Some("  ".into())),
        Err(ConfigError::MissingWebhook { .. })
    ));

    // Issue 11.4: what the handler would refuse at init is refused at `up`
    // (plain http off loopback, a single-label host, no host at all).
    for bad in [
        "xoxb-SECRET",
        "ftp://SECRET",
        "https://SECRET with space",
        "http://hooks.slack.com/services/SECRET",
        "https://SECRET",
        "https:///services/SECRET",
    ] {
        let err = stack.webhook_url_from(|_| Some(bad.into())).unwrap_err();
        assert!(matches!(err, ConfigError::BadWebhook { .. }), "{bad}");
        assert!(!err.to_string().contains("SECRET"), "{err}");
        assert!(!format!("{err:?}").contains("SECRET"));
    }
}

#[test]
fn unknown_fields_and_wrong_types_are_reported_with_everything_else() {
    let path = fixture("shape-problems.yaml");
    let (problems, shown) = problems_of(&path);
    // (path, line, column, message)
    let expected: &[(&str, usize, Option<usize>, &str)] = &[
        ("name", 3, None, "\"Cpu_Relay\" is not a valid stack name"),
        ("slack.chanel", 6, Some(3), "unknown field"),
        (
            "handler.memory_mb",
            9,
            Some(3),
            "wrong type: found a string, expected a whole number",
        ),
        (
            "handler.timeout_s",
            10,
            None,
            "1000 seconds is out of range",
        ),
        (
            "route",
            11,
            Some(1),
            "wrong type: found a list, expected a single value",
        ),
        ("alarms[0].treshold", 15, Some(5), "unknown field"),
        ("alarms[0].period_s", 16, None, "45 is not a valid period"),
        (
            "alarms[0].notify_ok",
            17,
            Some(5),
            "wrong type: found a string, expected true or false",
        ),
        (
            "alarms[1]",
            18,
            Some(5),
            "wrong type: found a string, expected a mapping of fields",
        ),
        (
            "alarms[2].instance_id",
            20,
            None,
            "\"i-xyz\" is not an EC2 instance id",
        ),
        (
            "alarms[2].threshold",
            21,
            Some(5),
            "wrong type: found a string, expected a number",
        ),
        (
            "tags.team",
            23,
            Some(3),
            "wrong type: found a list, expected a single value",
        ),
        ("webhook", 25, Some(1), "unknown field"),
    ];
    for (field, line, column, message) in expected {
        let p = at(&problems, field);
        assert_eq!(p.line, Some(*line), "line of {field}");
        assert_eq!(p.column, *column, "column of {field}");
        assert_eq!(p.message, *message, "{field}");
        assert!(p.hint.is_some(), "{field} has a hint");
    }
    // The emptied alarms[1] and the dropped route add no "is required" noise.
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    assert!(shown.contains("(13 problems):"), "{shown}");
    let lines: Vec<usize> = problems.iter().map(|p| p.line.unwrap()).collect();
    assert!(lines.is_sorted(), "{lines:?}");

    let hint = |field: &str| at(&problems, field).hint.clone().unwrap();
    assert!(
        hint("alarms[0].treshold")
            .starts_with("did you mean `threshold`? expected one of `name`, `instance_id`,")
    );
    assert!(hint("slack.chanel").starts_with("did you mean `channel`?"));
    assert!(
        hint("webhook").starts_with("expected one of `name`, `region`, `regions`, `slack`,"),
        "no suggestion for a name that is not close: {}",
        hint("webhook")
    );
    assert!(hint("handler.memory_mb").contains("`memory_mb: 256`"));
    let file = path.display();
    assert!(
        shown.contains(&format!(
            "\n  {file}:15:5: alarms[0].treshold: unknown field\n    hint: did you mean `threshold`?"
        )),
        "{shown}"
    );
    for secret in ["SECRET", "hooks.slack.com", "lots", "just-a-name"] {
        assert!(!shown.contains(secret), "{secret} shown in: {shown}");
    }
}

#[test]
fn unknown_field_wrong_type_and_bad_name_together() {
    let text = "\
name: Bad_Name
slack: { webhook_url_env: SLACK_WEBHOOK_URL }
handler:
  memory_mb: lots
alarms:
  - name: high-cpu
    instance_id: i-0123456789abcdef0
    treshold: 90
";
    // handler.path defaults to `handler`, which the repo has.
    let err = Stack::parse(text, &repo().join("s.yaml")).unwrap_err();
    let ConfigError::Invalid { problems, .. } = err else {
        panic!("{err:?}")
    };
    let found: Vec<(&str, Option<usize>)> =
        problems.iter().map(|p| (p.path.as_str(), p.line)).collect();
    assert_eq!(
        found,
        [
            ("name", Some(1)),
            ("handler.memory_mb", Some(4)),
            ("alarms[0].treshold", Some(8)),
        ]
    );
    assert!(problems.iter().all(|p| p.hint.is_some()), "{problems:#?}");
}

#[test]
fn a_value_of_the_wrong_shape_is_one_problem_and_never_echoed() {
    let file = repo().join("s.yaml");
    let parse = |text: &str| match Stack::parse(text, &file) {
        Err(ConfigError::Invalid { problems, .. }) => problems,
        other => panic!("expected Invalid, got {other:?}"),
    };
    // A webhook pasted as the whole slack section.
    let secret = "https://hooks.slack.com/services/T0/B0/XSECRET";
    let text = MINIMAL.replace(
        "slack: { webhook_url_env: SLACK_WEBHOOK_URL }",
        &format!("slack: {secret}"),
    );
    let problems = parse(&text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].path, "slack");
    assert_eq!(problems[0].line, Some(2));
    assert_eq!(
        problems[0].message,
        "wrong type: found a string, expected a mapping of fields"
    );
    assert!(!format!("{problems:?}").contains("SECRET"));

    // A mapping where the list of alarms belongs: not also "at least one alarm".
    let text = "name: x\nslack: { webhook_url_env: A }\nalarms:\n  name: high-cpu\n";
    let problems = parse(text);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(
        (problems[0].path.as_str(), problems[0].line),
        ("alarms", Some(3))
    );
    assert_eq!(
        problems[0].message,
        "wrong type: found a mapping, expected a list"
    );

    // The whole file a list.
    let problems = parse("- name: x\n");
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].path, "");
    assert!(
        problems[0]
            .message
            .contains("expected a mapping of stack fields")
    );
}

#[test]
fn scalars_keep_their_written_form_next_to_a_shape_problem() {
    // With a wrong type elsewhere, the rest is read from the walked value:
    // text fields must still hold the text as written (YAML's `0x10` is text
    // where text belongs).
    let text = format!(
        "{MINIMAL}    notify_ok: maybe\nregion: 0x10\ntags: {{ a: 0x10, b: 1.50, c: ~ }}\n"
    );
    let err = Stack::parse(&text, &repo().join("s.yaml")).unwrap_err();
    let ConfigError::Invalid { problems, .. } = err else {
        panic!("{err:?}")
    };
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert_eq!(problems[0].path, "alarms[0].notify_ok");
    assert_eq!(problems[1].path, "region");
    assert_eq!(problems[1].message, "\"0x10\" is not an AWS region code");
    // And without it, the same tags are read as before.
    let text = format!("{MINIMAL}tags: {{ a: 0x10, b: 1.50, c: ~ }}\n");
    let stack = Stack::parse(&text, &repo().join("s.yaml")).unwrap();
    assert_eq!(stack.tags["a"], "0x10");
    assert_eq!(stack.tags["b"], "1.50");
    // A null tag value is empty (AWS refuses `~` in a tag, issue 10.6).
    assert_eq!(stack.tags["c"], "");
    // A repeated tag key, which `Value` refuses, reads as it always did.
    let text = format!("{MINIMAL}tags: {{ a: x, a: y }}\n");
    let stack = Stack::parse(&text, &repo().join("s.yaml")).unwrap();
    assert_eq!(stack.tags["a"], "y");
}

#[test]
fn a_byte_order_mark_before_the_first_key_is_accepted() {
    // Issue 11.7: it used to read as "more than one document".
    let seed = std::fs::read_to_string(repo().join("stack.yaml")).unwrap();
    let file = repo().join("stack.yaml");
    let with_bom = Stack::parse(&format!("\u{feff}{seed}"), &file).expect("BOM accepted");
    assert_eq!(with_bom, Stack::load(&file).unwrap());
    // Lines still count from the first line of the file.
    let err = Stack::parse(&format!("\u{feff}{MINIMAL}    period_s: 45\n"), &file).unwrap_err();
    assert_eq!(err.problems()[0].line, Some(6), "{err}");
}

#[test]
fn an_empty_file_says_so_and_nothing_else() {
    for text in ["", "\n\n", "# only a comment\n", "\u{feff}"] {
        let err = Stack::parse(text, &repo().join("s.yaml")).unwrap_err();
        let problems = err.problems();
        assert_eq!(problems.len(), 1, "{text:?}: {problems:#?}");
        assert_eq!(problems[0].message, "the file is empty");
        assert_eq!(problems[0].code, "E041");
        assert!(problems[0].hint.is_some());
    }
}

#[test]
fn syntax_errors_show_the_line_with_a_caret_in_plain_words() {
    let (problems, shown) = problems_of(&fixture("syntax-error.yaml"));
    let p = &problems[0];
    assert_eq!(p.code, "E040");
    assert_eq!(
        p.message,
        "the indentation of this line does not match the lines before it"
    );
    let excerpt = p.excerpt.as_ref().expect("the offending line");
    assert_eq!(excerpt.text, " handler: oops");
    let column = p.column.unwrap();
    assert!(
        shown.contains(&format!(
            "syntax-error.yaml:4:{column}: {}\n    4 |  handler: oops\n      | {}^\n    hint: ",
            p.message,
            " ".repeat(excerpt.caret - 1)
        )),
        "{shown}"
    );

    let file = repo().join("s.yaml");
    let explain = |text: &str| {
        let err = Stack::parse(text, &file).unwrap_err();
        let p = err.problems()[0].clone();
        (p.line, p.message, p.hint.unwrap_or_default())
    };
    let (line, message, hint) = explain("name: x\nslack:\n\twebhook_url_env: A\n");
    assert_eq!(line, Some(3));
    assert_eq!(
        message,
        "a tab is used for indentation; YAML indents with spaces only"
    );
    assert!(hint.contains("spaces"), "{hint}");
    let (_, message, hint) = explain("name:x\nslack:\n  webhook_url_env: A\n");
    assert_eq!(message, "`name:` has no space after the colon");
    assert_eq!(hint, "YAML needs a space after the colon: `key: value`");
    let (line, message, _) = explain("name: x\nslack:\n  channel: \"#alerts\n");
    assert_eq!(message, "a quoted value is not closed");
    assert!(line.is_some());
    // A section written `slack:webhook_url_env: A` is one string to YAML.
    let (_, message, hint) = explain("name: x\nslack: webhook_url_env:A\n");
    assert!(message.contains("wrong type"), "{message}");
    assert!(
        hint.ends_with("YAML needs a space after the colon: `key: value`"),
        "{hint}"
    );
}

#[test]
fn each_error_kind_has_a_stable_code_hint_and_location_as_data() {
    let (problems, _) = problems_of(&fixture("shape-problems.yaml"));
    let code_of = |path: &str| at(&problems, path).code;
    assert_eq!(code_of("slack.chanel"), "E050");
    assert_eq!(code_of("handler.memory_mb"), "E052");
    assert_eq!(code_of("name"), "E054");
    let (problems, _) = problems_of(&fixture("missing-required.yaml"));
    assert_eq!(at(&problems, "name").code, "E053");

    let err = Stack::load(&fixture("bad-period.yaml")).unwrap_err();
    assert_eq!(err.code(), "E010");
    let location = err.location().unwrap();
    assert_eq!(
        (location.file, location.line, location.column),
        (fixture("bad-period.yaml"), Some(10), None)
    );
    assert!(err.hint().unwrap().starts_with("period_s must be"));
    let json = serde_json::to_value(err.problems()).unwrap();
    assert_eq!(json[0]["code"], "E054");
    assert_eq!(json[0]["path"], "alarms[0].period_s");
    assert_eq!(json[0]["line"], 10);

    let missing = Stack::load(&fixture("no-such-file.yaml")).unwrap_err();
    assert_eq!(missing.code(), "E001");
    let stack = Stack::parse(MINIMAL, &repo().join("s.yaml")).unwrap();
    assert_eq!(stack.webhook_url_from(|_| None).unwrap_err().code(), "E020");
    let bad = stack
        .webhook_url_from(|_| Some("ftp://x".into()))
        .unwrap_err();
    assert_eq!(bad.code(), "E021");
}

#[test]
fn period_times_evaluation_periods_stays_within_cloudwatch_limits() {
    let file = repo().join("s.yaml");
    let with = |extra: &str| Stack::parse(&format!("{MINIMAL}{extra}"), &file);
    // AWS: at most one day in total for periods under an hour, else 7 days.
    assert!(with("    period_s: 60\n    evaluation_periods: 1440\n").is_ok());
    let err = with("    period_s: 60\n    evaluation_periods: 1441\n").unwrap_err();
    assert!(
        err.to_string()
            .contains("alarms[0].evaluation_periods: 1441 periods of 60 s are 86460 seconds"),
        "{err}"
    );
    assert!(with("    period_s: 3600\n    evaluation_periods: 168\n").is_ok());
    assert!(with("    period_s: 3600\n    evaluation_periods: 169\n").is_err());
}

#[test]
fn a_repeated_field_is_a_problem_of_its_own() {
    let text = format!("{MINIMAL}name: other\n");
    let err = Stack::parse(&text, &repo().join("s.yaml")).unwrap_err();
    let problems = err.problems();
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].path, "name");
    assert_eq!((problems[0].line, problems[0].column), (Some(6), Some(1)));
    assert_eq!(
        problems[0].message,
        "appears a second time (first on line 1)"
    );
}

/// Problems of an inline stack file that must be invalid.
fn problems_in(yaml: &str) -> (Vec<Problem>, String) {
    match Stack::parse(yaml, &repo().join("inline.yaml")) {
        Ok(stack) => panic!("should be invalid, got {stack:?}"),
        Err(e) => {
            let shown = e.to_string();
            (e.problems().to_vec(), shown)
        }
    }
}

fn with_slack(slack: &str) -> String {
    format!(
        "name: cpu-relay\nslack:\n{slack}alarms:\n  - name: high-cpu\n    instance_id: i-0123456789abcdef0\n"
    )
}

#[test]
fn issue_13_webhook_url_ssm_replaces_the_env_var() {
    let stack = Stack::parse(
        &with_slack("  webhook_url_ssm: /relay/cpu-relay/slack-webhook\n"),
        &repo().join("inline.yaml"),
    )
    .expect("valid");
    assert_eq!(
        stack.slack.webhook_url_ssm.as_deref(),
        Some("/relay/cpu-relay/slack-webhook")
    );
    assert_eq!(stack.slack.webhook_url_env, "");
}

#[test]
fn issue_13_exactly_one_webhook_source() {
    let (problems, _) = problems_in(&with_slack(
        "  webhook_url_env: SLACK_WEBHOOK_URL\n  webhook_url_ssm: /relay/x\n",
    ));
    let p = at(&problems, "slack.webhook_url_ssm");
    assert!(p.message.contains("together with webhook_url_env"), "{p:?}");
    let (problems, _) = problems_in(&with_slack("  channel: \"#alerts\"\n"));
    let p = at(&problems, "slack.webhook_url_env");
    assert!(
        p.hint.as_deref().unwrap_or("").contains("webhook_url_ssm"),
        "{p:?}"
    );
}

#[test]
fn issue_13_ssm_names_follow_ssm_rules_and_urls_are_never_echoed() {
    for bad in [
        "zqrelay/no-leading-slash",
        "/aws/zq",
        "ssmzq",
        "/zq//empty",
        "/zq/",
        "/zq/sp ace",
    ] {
        let (problems, shown) =
            problems_in(&with_slack(&format!("  webhook_url_ssm: \"{bad}\"\n")));
        let p = at(&problems, "slack.webhook_url_ssm");
        assert!(
            p.message.contains("is not an SSM parameter name"),
            "{bad}: {p:?}"
        );
        assert!(!shown.contains("zq"), "{bad} echoed: {shown}");
    }
    let url = "https://hooks.slack.com/services/T000/B000/secretpart";
    let (problems, shown) = problems_in(&with_slack(&format!("  webhook_url_ssm: {url}\n")));
    at(&problems, "slack.webhook_url_ssm");
    assert!(
        !shown.contains("secretpart") && !shown.contains("T000"),
        "{shown}"
    );
    assert!(shown.contains("relayctl secret set"), "{shown}");
}
