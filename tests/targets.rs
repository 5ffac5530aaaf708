//! Issue 12 items 1 and 2: alarms for every instance a selector names, and
//! any CloudWatch metric (dimensions, datapoints to alarm, missing data,
//! description, unit, extended statistics), against the fake's EC2 and
//! CloudWatch, asserted from the call log and from what exists afterwards.

mod support;

use std::collections::BTreeSet;

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{Filter, InstanceType, ResourceType, Tag, TagSpecification};
use support::Account;
use support::cli::{exit, text};
use support::fleet::{Fleet, count, stack_head};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn ec2(acct: &Account) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(&acct.sdk_config())
}

/// Launches `n` instances (RunInstances), tagged `Env=env` at launch when
/// given; their ids in launch order.
fn launch(acct: &Account, n: i32, env: Option<&str>) -> Vec<String> {
    runtime().block_on(async {
        let mut req = ec2(acct)
            .run_instances()
            .image_id("ami-12c6146b")
            .instance_type(InstanceType::T3Micro)
            .min_count(n)
            .max_count(n);
        if let Some(env) = env {
            req = req.tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Instance)
                    .tags(Tag::builder().key("Env").value(env).build())
                    .build(),
            );
        }
        let out = req.send().await.unwrap();
        out.instances()
            .iter()
            .map(|i| i.instance_id().unwrap().to_string())
            .collect()
    })
}

fn tag(acct: &Account, ids: &[String], env: &str) {
    runtime().block_on(async {
        ec2(acct)
            .create_tags()
            .set_resources(Some(ids.to_vec()))
            .tags(Tag::builder().key("Env").value(env).build())
            .send()
            .await
            .unwrap();
    });
}

fn terminate(acct: &Account, ids: &[String]) {
    runtime().block_on(async {
        ec2(acct)
            .terminate_instances()
            .set_instance_ids(Some(ids.to_vec()))
            .send()
            .await
            .unwrap();
    });
}

/// The alarms the stack's alarm writes named, per operation, sorted.
fn written(acct: &Account, operation: &str) -> Vec<String> {
    let mut names: Vec<String> = acct
        .calls()
        .into_iter()
        .filter(|c| c.service == "cloudwatch" && c.operation == operation)
        .flat_map(|c| c.names)
        .collect();
    names.sort();
    names
}

/// The alarms that exist under `prefix`, with their CloudWatch description.
fn alarms(acct: &Account, prefix: &str) -> Vec<aws_sdk_cloudwatch::types::MetricAlarm> {
    runtime().block_on(async {
        aws_sdk_cloudwatch::Client::new(&acct.sdk_config())
            .describe_alarms()
            .alarm_name_prefix(prefix)
            .send()
            .await
            .unwrap()
            .metric_alarms()
            .to_vec()
    })
}

fn alarm_names(acct: &Account, prefix: &str) -> BTreeSet<String> {
    alarms(acct, prefix)
        .iter()
        .map(|a| a.alarm_name().unwrap().to_string())
        .collect()
}

const WEB: &str =
    "  - name: web\n    instance_selector: { tags: { Env: prod }, states: [running] }\n";

#[test]
fn issue_12_selector_alarms_follow_instances_launched_tagged_and_terminated() {
    let acct = Account::new();
    let ids = launch(&acct, 3, None);
    tag(&acct, &ids[..2], "prod");
    tag(&acct, &ids[2..], "dev");
    let fleet = Fleet::from_yaml(&(stack_head("sel") + WEB));
    exit(&fleet.run(&acct, None, &["up"]), 0);
    let name = |id: &String| format!("sel-web-{id}");
    let mut first = vec![name(&ids[0]), name(&ids[1])];
    first.sort();
    assert_eq!(written(&acct, "PutMetricAlarm"), first);
    // Once, though `up` reads everything else again under the stack lock
    // before it writes (docs/lock.md).
    assert_eq!(acct.count("ec2", "DescribeInstances"), 1);

    // One instance ends, another joins the selection.
    terminate(&acct, &ids[..1]);
    tag(&acct, &ids[2..], "prod");
    acct.reset_calls();
    let plan = fleet.run(&acct, None, &["plan", "--detailed-exitcode"]);
    exit(&plan, 2);
    let shown = text(&plan.stdout);
    assert!(
        shown.contains(&format!(
            "+ cloudwatch alarm {} (create)\n      # instance {} now matches Env=prod",
            name(&ids[2]),
            ids[2]
        )),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "- cloudwatch alarm {} (delete)\n      # instance {} no longer matches Env=prod",
            name(&ids[0]),
            ids[0]
        )),
        "{shown}"
    );
    assert!(shown.contains("1 to create, 0 to update, 0 to replace, 1 to delete"));
    acct.assert_no_writes();

    exit(&fleet.run(&acct, None, &["up"]), 0);
    assert_eq!(written(&acct, "PutMetricAlarm"), vec![name(&ids[2])]);
    assert_eq!(written(&acct, "DeleteAlarms"), vec![name(&ids[0])]);
    assert_eq!(
        alarm_names(&acct, "sel-web-"),
        [name(&ids[1]), name(&ids[2])].into_iter().collect()
    );
    // Each alarm watches its own instance.
    for a in alarms(&acct, "sel-web-") {
        let dims: Vec<(&str, &str)> = a
            .dimensions()
            .iter()
            .map(|d| (d.name().unwrap(), d.value().unwrap()))
            .collect();
        let id = a.alarm_name().unwrap().trim_start_matches("sel-web-");
        assert_eq!(dims, [("InstanceId", id)]);
    }
    acct.reset_calls();
    exit(&fleet.run(&acct, None, &["plan", "--detailed-exitcode"]), 0);
}

#[test]
fn issue_12_an_empty_selection_warns_and_exits_0() {
    let acct = Account::new();
    launch(&acct, 1, Some("dev"));
    let fleet = Fleet::from_yaml(&(stack_head("empty") + WEB));
    let warning = "warning: alarm web: instance_selector (Env=prod) matches no instance";
    let plan = fleet.run(&acct, None, &["plan"]);
    exit(&plan, 0);
    assert!(
        text(&plan.stderr).contains(warning),
        "{}",
        text(&plan.stderr)
    );
    // Said once, though `up` reads again under the stack lock.
    let up = fleet.run(&acct, None, &["up"]);
    exit(&up, 0);
    assert_eq!(
        text(&up.stderr).matches(warning).count(),
        1,
        "{}",
        text(&up.stderr)
    );
    assert_eq!(acct.count("ssm", "PutParameter"), 1, "the lock was taken");
    assert_eq!(acct.count("cloudwatch", "PutMetricAlarm"), 0);
    assert!(alarm_names(&acct, "empty-").is_empty());
    let status = fleet.run(&acct, None, &["status"]);
    exit(&status, 0);
    assert!(text(&status.stderr).contains(warning));
}

#[test]
fn issue_12_an_instance_list_gets_one_alarm_each_and_a_removed_one_goes() {
    let acct = Account::new();
    let fleet = Fleet::from_yaml(
        &(stack_head("list")
            + "  - name: disk\n    instances: [i-0000000000000000a, i-0000000000000000b]\n    \
               metric: disk_used_percent\n    namespace: CWAgent\n    dimensions: { path: /, fstype: xfs }\n"),
    );
    exit(&fleet.run(&acct, None, &["up"]), 0);
    assert_eq!(
        written(&acct, "PutMetricAlarm"),
        [
            "list-disk-i-0000000000000000a",
            "list-disk-i-0000000000000000b"
        ]
    );
    let a = &alarms(&acct, "list-disk-i-0000000000000000b")[0];
    let mut dims: Vec<String> = a
        .dimensions()
        .iter()
        .map(|d| format!("{}={}", d.name().unwrap(), d.value().unwrap()))
        .collect();
    dims.sort();
    assert_eq!(
        dims,
        ["InstanceId=i-0000000000000000b", "fstype=xfs", "path=/"]
    );

    fleet.write(
        &(stack_head("list")
            + "  - name: disk\n    instances: [i-0000000000000000a]\n    \
               metric: disk_used_percent\n    namespace: CWAgent\n    dimensions: { path: /, fstype: xfs }\n"),
    );
    acct.reset_calls();
    let plan = fleet.run(&acct, None, &["plan"]);
    assert!(
        text(&plan.stdout).contains("# instance i-0000000000000000b is no longer in instances"),
        "{}",
        text(&plan.stdout)
    );
    exit(&fleet.run(&acct, None, &["up"]), 0);
    assert_eq!(written(&acct, "PutMetricAlarm"), Vec::<String>::new());
    assert_eq!(
        written(&acct, "DeleteAlarms"),
        ["list-disk-i-0000000000000000b"]
    );
}

/// An alarm on an Auto Scaling group's metric with every new field set.
const ASG: &str = "  - name: asg\n    dimensions: { AutoScalingGroupName: web }\n    \
                   extended_statistic: p99\n    period_s: 300\n    evaluation_periods: 3\n    \
                   datapoints_to_alarm: 2\n    treat_missing_data: breaching\n    \
                   description: p99 CPU of the web group\n    unit: Percent\n";

/// The attributes plan shows as changed for alarm `name` (JSON output).
fn changed_attrs(fleet: &Fleet, acct: &Account, name: &str) -> Vec<String> {
    let out = fleet.run(acct, None, &["plan", "--output", "json"]);
    exit(&out, 0);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes = plan["changes"].as_array().unwrap();
    let changed: Vec<&serde_json::Value> =
        changes.iter().filter(|c| c["action"] != "no_op").collect();
    assert_eq!(changed.len(), 1, "{changed:#?}");
    assert_eq!(changed[0]["name"], name);
    changed[0]["attrs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn issue_12_new_alarm_fields_round_trip_and_diff_one_attribute_at_a_time() {
    let acct = Account::new();
    let yaml = stack_head("any") + ASG;
    let fleet = Fleet::from_yaml(&yaml);
    exit(&fleet.run(&acct, None, &["up"]), 0);
    // What AWS holds now is what the file says.
    let a = &alarms(&acct, "any-asg")[0];
    assert_eq!(a.extended_statistic(), Some("p99"));
    assert_eq!(a.statistic(), None);
    assert_eq!(a.datapoints_to_alarm(), Some(2));
    assert_eq!(a.evaluation_periods(), Some(3));
    assert_eq!(a.period(), Some(300));
    assert_eq!(a.treat_missing_data(), Some("breaching"));
    assert_eq!(a.alarm_description(), Some("p99 CPU of the web group"));
    assert_eq!(a.unit().map(|u| u.as_str()), Some("Percent"));
    let dims: Vec<(&str, &str)> = a
        .dimensions()
        .iter()
        .map(|d| (d.name().unwrap(), d.value().unwrap()))
        .collect();
    assert_eq!(dims, [("AutoScalingGroupName", "web")]);
    // Round trip: nothing to change.
    acct.reset_calls();
    exit(&fleet.run(&acct, None, &["plan", "--detailed-exitcode"]), 0);
    acct.assert_no_writes();

    for (from, to, attr) in [
        (
            "datapoints_to_alarm: 2",
            "datapoints_to_alarm: 3",
            "datapoints_to_alarm",
        ),
        (
            "treat_missing_data: breaching",
            "treat_missing_data: notBreaching",
            "treat_missing_data",
        ),
        (
            "description: p99 CPU of the web group",
            "description: other",
            "description",
        ),
        ("unit: Percent", "unit: Count", "unit"),
        (
            "extended_statistic: p99",
            "extended_statistic: p95",
            "extended_statistic",
        ),
        (
            "AutoScalingGroupName: web",
            "AutoScalingGroupName: api",
            "dimensions",
        ),
        ("    datapoints_to_alarm: 2\n", "", "datapoints_to_alarm"),
        ("    unit: Percent\n", "", "unit"),
    ] {
        assert!(yaml.contains(from), "{from}");
        fleet.write(&yaml.replace(from, to));
        assert_eq!(
            changed_attrs(&fleet, &acct, "any-asg"),
            [attr],
            "{from} -> {to}"
        );
    }

    // Each change applied round-trips too: up, then plan shows no change.
    fleet.write(&yaml.replace("unit: Percent", "unit: Count"));
    exit(&fleet.run(&acct, None, &["up"]), 0);
    exit(&fleet.run(&acct, None, &["plan", "--detailed-exitcode"]), 0);
}

/// Every CloudWatch rule, refused with file, line, field and hint, and no
/// AWS call made.
#[test]
fn issue_12_cloudwatch_rules_are_checked_before_any_aws_call() {
    let acct = Account::new();
    let id = "    instance_id: i-0123456789abcdef0\n";
    let cases: &[(&str, &str, &str)] = &[
        (
            "period_s: 45",
            "alarms[0].period_s: 45 is not a valid period",
            "10, 20, 30 or a multiple of 60",
        ),
        (
            "evaluation_periods: 1441",
            "alarms[0].evaluation_periods: 1441 periods of 60 s are 86460 seconds",
            "at most 86400 seconds",
        ),
        (
            "evaluation_periods: 2\n    datapoints_to_alarm: 3",
            "alarms[0].datapoints_to_alarm: 3 is not between 1 and evaluation_periods (2)",
            "at most evaluation_periods",
        ),
        (
            "treat_missing_data: notbreaching",
            "alarms[0].treat_missing_data: \"notbreaching\" is not a missing-data treatment",
            "did you mean `notBreaching`?",
        ),
        (
            "unit: percent",
            "alarms[0].unit: \"percent\" is not a CloudWatch unit",
            "did you mean `Percent`?",
        ),
        (
            "statistic: p99",
            "alarms[0].statistic: \"p99\" is not a statistic",
            "`extended_statistic: p99`",
        ),
        (
            "statistic: Averge",
            "alarms[0].statistic",
            "did you mean `Average`?",
        ),
        (
            "statistic: Average\n    extended_statistic: p99",
            "alarms[0].extended_statistic: is set together with statistic",
            "one of the two",
        ),
        (
            "extended_statistic: p101",
            "alarms[0].extended_statistic",
            "p0.0 to p100",
        ),
        (
            "treat_mising_data: ignore",
            "alarms[0].treat_mising_data: unknown field",
            "did you mean `treat_missing_data`?",
        ),
        (
            "dimensions: { InstanceId: i-0fedcba9876543210 }",
            "alarms[0].dimensions: sets InstanceId",
            "leave InstanceId out",
        ),
        (
            "description: \"\\a\"",
            "alarms[0].description: contains a control character",
            "remove it",
        ),
    ];
    for (extra, problem, hint) in cases {
        let fleet = Fleet::from_yaml(&format!(
            "{}  - name: cpu\n{id}    {extra}\n",
            stack_head("bad")
        ));
        let out = fleet.run(&acct, None, &["plan"]);
        exit(&out, 1);
        let err = text(&out.stderr);
        assert!(err.contains("stack.yaml:"), "{extra}: {err}");
        assert!(err.contains(problem), "{extra}: {err}");
        assert!(err.contains(hint), "{extra}: {err}");
    }
    let targets: &[(&str, &str, &str)] = &[
        (
            "    instance_id: i-0123456789abcdef0\n    instance_selector: { tags: { Env: prod } }\n",
            "alarms[0].instance_selector: is set together with instance_id",
            "name the instances one way",
        ),
        (
            "    instance_selector: { tags: { Env: prod }, states: [runing] }\n",
            "alarms[0].instance_selector.states: \"runing\" is not an instance state",
            "did you mean `running`?",
        ),
        (
            "    instances: [i-0123456789abcdef0, i-0123456789abcdef0]\n",
            "alarms[0].instances: lists i-0123456789abcdef0 twice",
            "list it once",
        ),
        (
            "    instances: []\n",
            "alarms[0].instances: is empty",
            "instance_selector",
        ),
        (
            "    metric: X\n",
            "alarms[0].instance_id: is required",
            "dimensions:",
        ),
    ];
    for (fields, problem, hint) in targets {
        let fleet = Fleet::from_yaml(&format!("{}  - name: cpu\n{fields}", stack_head("bad")));
        let out = fleet.run(&acct, None, &["plan"]);
        exit(&out, 1);
        let err = text(&out.stderr);
        assert!(err.contains(problem), "{fields}: {err}");
        assert!(err.contains(hint), "{fields}: {err}");
    }
    assert_eq!(
        acct.calls(),
        vec![],
        "an invalid file must make no AWS call"
    );
}

/// 500 instances through one selector, no change: the plan's calls,
/// counted from the call log.
#[test]
fn issue_12_500_selected_instances_noop_plan_call_count() {
    let acct = Account::new();
    let ids = launch(&acct, 500, Some("prod"));
    assert_eq!(ids.len(), 500);
    let fleet = Fleet::from_yaml(&(stack_head("big") + WEB));
    let calls = fleet.noop_plan_calls(&acct);
    let count = |service: &str, op: &str| count(&calls, service, op);
    assert_eq!(count("ec2", "DescribeInstances"), 1, "{calls:#?}");
    // 503 tagged resources in pages of 100; 500 alarms in pages of 100.
    assert_eq!(count("tagging", "GetResources"), 6);
    assert_eq!(count("cloudwatch", "DescribeAlarms"), 5);
    assert_eq!(count("cloudwatch", "ListTagsForResource"), 0);
    assert_eq!(calls.len(), FLEET_NOOP_PLAN_CALLS, "{calls:#?}");
}

/// STS; the role (GetRole, ListRolePolicies for the regions sharing it,
/// GetRolePolicy for this region's); log group, topic, subscriptions,
/// function, its policy; one DescribeInstances, 6 tagging pages and 5 alarm
/// pages: 1 + 3 + 5 + 1 + 6 + 5.
const FLEET_NOOP_PLAN_CALLS: usize = 21;

/// The instances `filters` selects, as (id, state, Env tag), sorted.
fn described(acct: &Account, filters: Vec<Filter>) -> Vec<(String, String, Option<String>)> {
    runtime().block_on(async {
        let pages: Vec<_> = ec2(acct)
            .describe_instances()
            .set_filters(Some(filters))
            .max_results(5)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .unwrap();
        let mut seen: Vec<_> = pages
            .iter()
            .flat_map(|p| p.reservations())
            .flat_map(|r| r.instances())
            .map(|i| {
                let env = i.tags().iter().find(|t| t.key() == Some("Env"));
                (
                    i.instance_id().unwrap().to_string(),
                    i.state().unwrap().name().unwrap().as_str().to_string(),
                    env.and_then(|t| t.value()).map(str::to_string),
                )
            })
            .collect();
        seen.sort();
        seen
    })
}

fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.iter().map(|v| v.to_string()).collect()))
        .build()
}

/// The fake answers a selector's DescribeInstances itself (moto's answer
/// takes seconds for a fleet: tests/fake-aws/fake_aws/ec2_instances.py).
/// Its answer must be moto's: the same instances, states and tags, across
/// pages, after tags change and instances end.
#[test]
fn the_fakes_selector_answer_is_motos() {
    let acct = Account::new();
    // Eight reservations of two: more than one page of five (moto pages
    // by reservation) even after two of them stop matching.
    let mut prod = Vec::new();
    for _ in 0..8 {
        prod.extend(launch(&acct, 2, Some("prod")));
    }
    let dev = launch(&acct, 3, Some("dev"));
    tag(&acct, &prod[..2], "dev");
    terminate(&acct, &prod[2..4]);

    let selector = vec![
        filter("tag:Env", &["prod"]),
        filter("instance-state-name", &["running"]),
    ];
    let fast = described(&acct, selector.clone());
    let first_page = runtime()
        .block_on(
            ec2(&acct)
                .describe_instances()
                .set_filters(Some(selector.clone()))
                .max_results(5)
                .send(),
        )
        .unwrap();
    assert!(first_page.next_token().is_some(), "six reservations match");
    let want: Vec<String> = {
        let mut w = prod[4..].to_vec();
        w.sort();
        w
    };
    let ids: Vec<String> = fast.iter().map(|(id, _, _)| id.clone()).collect();
    assert_eq!(ids, want);
    assert!(
        fast.iter()
            .all(|(_, state, env)| state == "running" && env.as_deref() == Some("prod"))
    );

    // moto's own path: a filter the fake leaves to moto, true of every
    // instance here.
    let via_moto = |mut filters: Vec<Filter>| {
        filters.push(filter("instance-type", &["t3.micro"]));
        described(&acct, filters)
    };
    assert_eq!(via_moto(selector), fast);
    for filters in [
        vec![filter("tag:Env", &["dev", "prod"])],
        vec![filter(
            "instance-state-name",
            &["terminated", "shutting-down"],
        )],
        vec![
            filter("tag:Env", &["prod"]),
            filter("instance-state-name", &["running", "stopped"]),
        ],
    ] {
        assert_eq!(described(&acct, filters.clone()), via_moto(filters));
    }
    let dev_running = described(
        &acct,
        vec![
            filter("tag:Env", &["dev"]),
            filter("instance-state-name", &["running"]),
        ],
    );
    let mut want_dev: Vec<String> = dev.iter().chain(&prod[..2]).cloned().collect();
    want_dev.sort();
    assert_eq!(
        dev_running
            .into_iter()
            .map(|(id, _, _)| id)
            .collect::<Vec<_>>(),
        want_dev
    );

    // AWS: MaxResults is 5 to 1000.
    let code = runtime()
        .block_on(ec2(&acct).describe_instances().max_results(1001).send())
        .err()
        .and_then(|e| e.code().map(str::to_string));
    assert_eq!(code.as_deref(), Some("InvalidParameterValue"));
}
