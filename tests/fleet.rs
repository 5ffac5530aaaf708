//! Fleet-scale reads and writes (issue 12 items 3 and 4), asserted from the
//! fake's call log: counts, never time.

mod support;

use support::Account;
use support::cli::{exit, text};
use support::fleet::{Fleet, count};

/// 500 alarms, no change: ownership comes from the tagging index in pages
/// of 100, not from one ListTagsForResource per alarm (515 calls before).
#[test]
fn issue_12_fleet_noop_plan_reads_ownership_in_pages() {
    let acct = Account::new();
    let fleet = Fleet::new("fleet", 500);
    let calls = fleet.noop_plan_calls(&acct);
    let count = |service: &str, op: &str| count(&calls, service, op);
    // 503 tagged resources (500 alarms, topic, log group, function).
    assert_eq!(count("tagging", "GetResources"), 6, "{calls:#?}");
    assert_eq!(count("cloudwatch", "DescribeAlarms"), 5);
    assert_eq!(count("cloudwatch", "ListTagsForResource"), 0);
    assert_eq!(count("sns", "ListTagsForResource"), 0);
    assert_eq!(count("logs", "ListTagsForResource"), 0);
    // STS, role (3: GetRole, ListRolePolicies, this region's policy),
    // log group, topic, function, its policy, subscriptions, plus the
    // pages above.
    assert_eq!(count("iam", "ListRolePolicies"), 1);
    assert_eq!(calls.len(), 20, "{calls:#?}");
    acct.assert_no_writes();
}

/// AWS's tagging index lags: an alarm it does not list yet is read on its
/// own (one ListTagsForResource), proven ours, and not recreated.
#[test]
fn issue_12_an_alarm_the_index_lacks_gets_one_tag_read() {
    let acct = Account::new();
    let fleet = Fleet::new("lag", 3);
    exit(&fleet.run(&acct, None, &["up"]), 0);
    acct.hide_from_tagging_index(&[":alarm:lag-cpu-1"]);
    acct.reset_calls();
    let out = fleet.run(&acct, None, &["plan", "--detailed-exitcode"]);
    exit(&out, 0);
    assert_eq!(acct.count("cloudwatch", "ListTagsForResource"), 1);
    assert_eq!(acct.count("tagging", "GetResources"), 1);
    acct.assert_no_writes();

    // The same lag during `down`: the hidden alarm is still found and deleted.
    exit(&fleet.run(&acct, None, &["down", "--yes"]), 0);
    acct.reset_calls();
    let out = fleet.run(&acct, None, &["plan", "--detailed-exitcode"]);
    exit(&out, 2);
    assert!(
        text(&out.stdout).contains("lag-cpu-1"),
        "{}",
        text(&out.stdout)
    );
}

const QUOTA: u32 = 10;
const FLEET: usize = 40;

fn quota_fleet(acct: &Account) -> Fleet {
    acct.quotas(serde_json::json!([
        {"service": "cloudwatch", "operation": "PutMetricAlarm", "rate": QUOTA}
    ]));
    Fleet::new("paced", FLEET)
}

fn throttled(acct: &Account) -> usize {
    acct.calls()
        .iter()
        .filter(|c| c.operation == "PutMetricAlarm" && c.fault.as_deref() == Some("quota"))
        .count()
}

/// Paced at the quota, a fleet `up` meets no throttle at all: every
/// PutMetricAlarm is admitted the first time, and the user sees no error.
#[test]
fn issue_12_paced_writes_never_meet_the_quota() {
    let acct = Account::new();
    let fleet = quota_fleet(&acct);
    let pace = format!("cloudwatch.PutMetricAlarm={QUOTA}");
    let out = fleet.run(&acct, Some(&pace), &["up"]);
    exit(&out, 0);
    assert_eq!(throttled(&acct), 0, "{}", text(&out.stderr));
    assert_eq!(acct.count("cloudwatch", "PutMetricAlarm"), FLEET);
    assert!(
        !text(&out.stderr).contains("Throttl"),
        "{}",
        text(&out.stderr)
    );
}

/// The control for the test above: unpaced, the same `up` runs into the
/// fake's quota (so the quota is real and the pacing is what avoids it).
#[test]
fn issue_12_unpaced_writes_are_throttled_by_the_same_quota() {
    let acct = Account::new();
    let fleet = quota_fleet(&acct);
    let _ = fleet.run(&acct, Some("cloudwatch.PutMetricAlarm=0"), &["up"]);
    assert!(
        throttled(&acct) > 0,
        "expected throttled PutMetricAlarm calls"
    );
}
