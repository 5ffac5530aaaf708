//! Issue 10 "also build": `relayctl policy` grants exactly what relayctl
//! calls. The whole life of a stack runs against the fake AWS (a foreign
//! same-named role, plan, up, status, test, a change and drift repaired by
//! up, a route and webhook change with the tagging index lagging, secret
//! set, down), and the fake's call log is held against the policy printed
//! for the stack.yaml of each phase: every action called is granted, and
//! every action granted was called, except the few AWS authorises inside
//! another call (NOT_CALLED, each with its reason).

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use support::Account;
use support::chain::{SlackSink, echo_zip, handler_zip};
use support::cli::shown;

const STACK: &str = "policy";
const PARAM: &str = "/relay/policy/hook";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// Granted but never called: AWS authorises them inside another call.
const NOT_CALLED: &[(&str, &str)] = &[
    (
        "iam:PassRole",
        "CreateFunction and UpdateFunctionConfiguration pass the role",
    ),
    (
        "lambda:ListTags",
        "GetFunction returns the function's tags only with it",
    ),
    (
        "ssm:AddTagsToResource",
        "PutParameter with Tags (secret set creating the parameter) needs it",
    ),
];

/// Called but never granted: AWS allows it to every caller.
const ALWAYS_ALLOWED: &[&str] = &["sts:GetCallerIdentity"];

/// The IAM action of a call in the fake's log: the service prefix is the
/// one IAM uses, which for the Resource Groups Tagging API is `tag`.
fn action(service: &str, operation: &str) -> String {
    let prefix = match service {
        "tagging" => "tag",
        // CloudWatch's SigV4 name is `monitoring`; the log says cloudwatch.
        other => other,
    };
    format!("{prefix}:{operation}")
}

struct Run {
    acct: Account,
    dir: tempfile::TempDir,
    /// The actions relayctl called in the current phase.
    called: BTreeSet<String>,
    /// The actions relayctl called over the whole run.
    all_called: BTreeSet<String>,
    /// The actions of every policy printed.
    all_granted: BTreeSet<String>,
    webhook: String,
    /// The last policy printed.
    last: serde_json::Value,
}

impl Run {
    fn stack(&self, route: &str, slack: &str, sizes: (u32, u32, u32), tags: &str) {
        let (memory, retention, threshold) = sizes;
        let handler = Path::new(env!("CARGO_MANIFEST_DIR")).join("handler");
        let yaml = format!(
            "name: {STACK}\nroute: {route}\nslack:\n  {slack}\n\
             handler:\n  path: {}\n  memory_mb: {memory}\n  log_retention_days: {retention}\n\
             alarms:\n  - name: cpu\n    instance_id: i-0123456789abcdef0\n    threshold: {threshold}\n\
             tags:\n{tags}",
            handler.display()
        );
        std::fs::write(self.dir.path().join("stack.yaml"), yaml).unwrap();
    }

    fn zip(&self, code: &[u8]) {
        std::fs::write(self.dir.path().join("h.zip"), code).unwrap();
    }

    /// Runs relayctl and adds the calls it made (not the function's) to
    /// this phase.
    fn relayctl(&mut self, args: &[&str], stdin: Option<&str>) -> Output {
        self.acct.reset_calls();
        let mut cmd = Command::cargo_bin("relayctl").unwrap();
        cmd.envs(self.acct.env())
            .env("SLACK_WEBHOOK_URL", &self.webhook)
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("RELAYCTL_PROPAGATION_TIMEOUT_S", "30")
            .current_dir(self.dir.path())
            .args(args);
        if let Some(input) = stdin {
            cmd.write_stdin(input.to_string());
        }
        let out = cmd.output().unwrap();
        for call in self.acct.calls() {
            if call.caller.as_deref() == Some("function") {
                continue;
            }
            let a = action(&call.service, &call.operation);
            self.called.insert(a.clone());
            self.all_called.insert(a);
        }
        out
    }

    #[track_caller]
    fn ok(&mut self, args: &[&str]) -> Output {
        let out = self.relayctl(args, None);
        assert!(out.status.success(), "relayctl {args:?}: {}", shown(&out));
        out
    }

    /// The policy for the current stack.yaml; no AWS call is made for it.
    fn policy(&mut self) -> BTreeSet<String> {
        let id = self.acct.id.clone();
        let out = self.ok(&["policy", "--account", &id, "--region", "us-east-1"]);
        assert!(self.acct.calls().is_empty(), "policy made AWS calls");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(!doc.to_string().contains("${"), "placeholders left: {doc}");
        let role = format!("arn:aws:iam::{id}:role/{STACK}-relay");
        let statements = doc["Statement"].as_array().unwrap();
        let pass = statements
            .iter()
            .find(|s| s["Action"] == serde_json::json!(["iam:PassRole"]))
            .expect("a statement granting iam:PassRole alone");
        assert_eq!(pass["Resource"], serde_json::json!([role]));
        let actions: BTreeSet<String> = statements
            .iter()
            .flat_map(|s| s["Action"].as_array().unwrap().clone())
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        self.all_granted.extend(actions.iter().cloned());
        self.last = doc;
        actions
    }

    /// The resources the last policy grants any `ssm:` action on.
    fn ssm_resources(&self) -> BTreeSet<String> {
        self.last["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| {
                s["Action"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a.as_str().unwrap().starts_with("ssm:"))
            })
            .flat_map(|s| s["Resource"].as_array().unwrap().clone())
            .map(|r| r.as_str().unwrap().to_string())
            .collect()
    }

    /// Every action relayctl called since the last check is granted by
    /// `policy`; starts the next phase.
    #[track_caller]
    fn check_phase(&mut self, phase: &str, policy: &BTreeSet<String>) {
        let missing: Vec<&String> = self
            .called
            .iter()
            .filter(|a| !policy.contains(*a) && !ALWAYS_ALLOWED.contains(&a.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "{phase}: called but not in `relayctl policy`: {missing:?}"
        );
        self.called.clear();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_policy_grants_every_call_of_a_stacks_life_and_nothing_unused() {
    let slack = SlackSink::ok().await;
    let mut run = Run {
        acct: Account::new(),
        dir: tempfile::tempdir().unwrap(),
        called: BTreeSet::new(),
        all_called: BTreeSet::new(),
        all_granted: BTreeSet::new(),
        webhook: slack.webhook_url(),
        last: serde_json::Value::Null,
    };
    let env_webhook = "webhook_url_env: SLACK_WEBHOOK_URL";
    let iam = aws_sdk_iam::Client::new(&run.acct.sdk_config());

    // A: route sns, webhook from the environment.
    run.stack(
        "sns",
        env_webhook,
        (128, 14, 80),
        "  team: platform\n  env: dev\n",
    );
    run.zip(&handler_zip());
    let policy_a = run.policy();
    // With the webhook in the environment the only parameter is the stack
    // lock's.
    let lock = format!(
        "arn:aws:ssm:us-east-1:{}:parameter/relayctl/{STACK}/lock",
        run.acct.id
    );
    assert_eq!(run.ssm_resources(), BTreeSet::from([lock.clone()]));

    // Someone's untagged role with the stack's role name: refused as foreign
    // (GetRole shows no tags, so ListRoleTags decides), then removed by hand.
    iam.create_role()
        .role_name(format!("{STACK}-relay"))
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap();
    let out = run.relayctl(&["plan", "--zip", "h.zip"], None);
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[E304]"));
    iam.delete_role()
        .role_name(format!("{STACK}-relay"))
        .send()
        .await
        .unwrap();

    run.ok(&["plan", "--zip", "h.zip"]);
    run.ok(&["up", "--zip", "h.zip"]);
    run.ok(&["status"]);
    run.ok(&["test", "--wait", "30"]);
    assert_eq!(slack.texts().await.len(), 1, "test delivered one message");
    run.check_phase("A: plan, up, status, test", &policy_a);

    // A': tags (one removed, one added), memory, retention, threshold and
    // code changed; the role's trust policy drifted behind relayctl's back.
    run.stack(
        "sns",
        env_webhook,
        (256, 30, 90),
        "  team: platform\n  owner: ops\n",
    );
    run.zip(&echo_zip());
    let drifted = TRUST.replace("lambda.amazonaws.com", "edgelambda.amazonaws.com");
    iam.update_assume_role_policy()
        .role_name(format!("{STACK}-relay"))
        .policy_document(drifted)
        .send()
        .await
        .unwrap();
    let policy_a2 = run.policy();
    run.ok(&["plan", "--zip", "h.zip"]);
    run.ok(&["up", "--zip", "h.zip"]);
    run.ok(&["status"]);
    run.check_phase("A': a change and drift, then up", &policy_a2);

    // B: route direct, the webhook in SSM (secret set), the real handler
    // back; the tagging index lags, so ownership comes from each service.
    run.stack(
        "direct",
        &format!("webhook_url_ssm: {PARAM}"),
        (256, 30, 90),
        "  team: platform\n  owner: ops\n",
    );
    run.zip(&handler_zip());
    run.acct.hide_from_tagging_index(&[STACK]);
    let policy_b = run.policy();
    let param = format!("arn:aws:ssm:us-east-1:{}:parameter{PARAM}", run.acct.id);
    assert_eq!(run.ssm_resources(), BTreeSet::from([lock, param]));
    let hook = format!("{}\n", run.webhook);
    let out = run.relayctl(&["secret", "set"], Some(&hook));
    assert!(out.status.success(), "{}", shown(&out));
    run.ok(&["plan", "--zip", "h.zip"]);
    run.ok(&["up", "--zip", "h.zip"]);
    run.ok(&["status"]);
    run.ok(&["test", "--wait", "30"]);
    assert_eq!(slack.texts().await.len(), 2, "test delivered again");
    run.ok(&["down", "--yes"]);
    run.check_phase(
        "B: route direct, SSM webhook, index lagging, down",
        &policy_b,
    );

    // Nothing granted went unused, but for the calls AWS authorises inside
    // others; and those really are never called.
    let not_called: BTreeSet<String> = NOT_CALLED.iter().map(|(a, _)| a.to_string()).collect();
    let unused: Vec<&String> = run
        .all_granted
        .iter()
        .filter(|a| !run.all_called.contains(*a) && !not_called.contains(*a))
        .collect();
    assert!(
        unused.is_empty(),
        "granted by `relayctl policy` but never called: {unused:?}\ncalled: {:?}",
        run.all_called
    );
    for (a, why) in NOT_CALLED {
        assert!(run.all_granted.contains(*a), "{a} ({why}) is not granted");
        assert!(
            !run.all_called.contains(*a),
            "{a} is called after all: drop it from NOT_CALLED"
        );
    }
}

#[test]
fn a_broken_stack_yaml_prints_no_policy_and_makes_no_aws_call() {
    let acct = Account::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stack.yaml"), "name: Bad_Name\n").unwrap();
    let out = Command::cargo_bin("relayctl")
        .unwrap()
        .envs(acct.env())
        .current_dir(dir.path())
        .args(["policy"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert!(out.stdout.is_empty(), "{}", shown(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error[E010]: stack.yaml is invalid"),
        "{stderr}"
    );
    assert!(acct.calls().is_empty(), "{:?}", acct.calls());
}

#[test]
fn without_account_and_region_the_arns_carry_placeholders() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("stack.yaml"),
        "name: ph\nslack:\n  webhook_url_env: HOOK\nalarms:\n  - name: cpu\n    instance_id: i-0123456789abcdef0\n",
    )
    .unwrap();
    let out = Command::cargo_bin("relayctl")
        .unwrap()
        .current_dir(dir.path())
        .env_remove("AWS_REGION")
        .args(["policy"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", shown(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let resources: BTreeSet<String> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Resource"].as_array().unwrap().clone())
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    for arn in [
        "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:ph-relay",
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/ph-relay",
        "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:ph-*",
        "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:ph-alarms",
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/ph-relay",
        "*",
    ] {
        assert!(resources.contains(arn), "no {arn} in {resources:?}");
    }
    let bad = Command::cargo_bin("relayctl")
        .unwrap()
        .current_dir(dir.path())
        .args(["policy", "--account", "12345"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", shown(&bad));
}
