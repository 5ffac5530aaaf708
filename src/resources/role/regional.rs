//! The role's inline policies, one per region. IAM is global: the same
//! stack in eu-west-1 and us-east-1 of one account shares the role
//! `{stack}-relay`, and each region's function needs its own log group
//! (and parameter) in the policy. One policy per region,
//! `relayctl-logs-{region}`, lets each region's `up` and `down` maintain
//! its own part without rewriting or removing another region's
//! (docs/regions.md).
//!
//! Releases before this wrote one policy, `relayctl-logs`, for whichever
//! region ran `up` last. It belongs to the region whose log group it names
//! and is migrated by that region's next `up` (or removed by its `down`).

use futures::FutureExt;
use serde_json::Value;

use super::KIND;
use crate::aws::AwsError;
use crate::resources::{Ctx, deferred, found, gone, normalize_policy};

/// The single policy of releases before per-region policies.
pub const LEGACY_POLICY_NAME: &str = "relayctl-logs";
const PREFIX: &str = "relayctl-logs-";

/// This region's inline policy on the shared role.
pub fn policy_name(region: &str) -> String {
    format!("{PREFIX}{region}")
}

/// The region a per-region policy serves, from its name.
pub fn region_of(policy_name: &str) -> Option<&str> {
    policy_name.strip_prefix(PREFIX).filter(|r| !r.is_empty())
}

/// Whether relayctl wrote this policy (any region's, or the legacy one).
pub fn is_ours(policy_name: &str) -> bool {
    policy_name == LEGACY_POLICY_NAME || region_of(policy_name).is_some()
}

/// The region whose log group `log_group` a (legacy) policy document grants,
/// read from its statements' `arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME:*`.
pub fn region_granted(doc: &Value, log_group: &str) -> Option<String> {
    let wanted = format!("log-group:{log_group}");
    let mut resources = Vec::new();
    collect_resources(doc, &mut resources);
    resources.into_iter().find_map(|arn| {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        match parts.as_slice() {
            ["arn", _, "logs", region, _, rest]
                if *rest == wanted || rest.starts_with(&format!("{wanted}:")) =>
            {
                Some((*region).to_string())
            }
            _ => None,
        }
    })
}

/// Every `Resource` string of every statement (normalised documents hold a
/// one-element list as its element).
fn collect_resources<'a>(doc: &'a Value, out: &mut Vec<&'a str>) {
    let statements = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    for s in statements {
        match s.get("Resource") {
            Some(Value::String(r)) => out.push(r),
            Some(Value::Array(rs)) => out.extend(rs.iter().filter_map(Value::as_str)),
            _ => {}
        }
    }
}

/// The names of every inline policy on the role (all pages); None when the
/// role does not exist.
pub async fn list(ctx: &Ctx, role: &str) -> Result<Option<Vec<String>>, AwsError> {
    let pages: Result<Vec<_>, _> = ctx
        .clients
        .iam
        .list_role_policies()
        .role_name(role)
        .into_paginator()
        .send()
        .try_collect()
        .await;
    let pages = match pages {
        Ok(pages) => pages,
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            return Ok(None);
        }
        Err(e) => return Err(AwsError::call(KIND.label, role, "ListRolePolicies", e)),
    };
    Ok(Some(
        pages.into_iter().flat_map(|p| p.policy_names).collect(),
    ))
}

/// One inline policy's document, normalised; None when it is missing.
pub async fn get(ctx: &Ctx, role: &str, policy: &str) -> Result<Option<Value>, AwsError> {
    let got = ctx
        .clients
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(policy)
        .send()
        .await;
    Ok(found(
        got,
        |e| e.is_no_such_entity_exception(),
        KIND.label,
        role,
        "GetRolePolicy",
    )?
    .and_then(|out| normalize_policy(&out.policy_document)))
}

/// A future that borrows nothing, so `ctx.deferred` can hold it too.
pub fn put(ctx: &Ctx, role: &str, policy: &str, doc: &Value) -> deferred::Write {
    let send = ctx
        .clients
        .iam
        .put_role_policy()
        .role_name(role)
        .policy_name(policy)
        .policy_document(doc.to_string())
        .send();
    let role = role.to_string();
    async move {
        send.await
            .map(|_| ())
            .map_err(|e| AwsError::call(KIND.label, role, "PutRolePolicy", e))
    }
    .boxed()
}

/// Already gone (or the role with it) is done.
pub async fn delete(ctx: &Ctx, role: &str, policy: &str) -> Result<(), AwsError> {
    let deleted = ctx
        .clients
        .iam
        .delete_role_policy()
        .role_name(role)
        .policy_name(policy)
        .send()
        .await;
    gone(
        deleted,
        |e| e.is_no_such_entity_exception(),
        KIND.label,
        role,
        "DeleteRolePolicy",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_regions() {
        assert_eq!(policy_name("eu-west-1"), "relayctl-logs-eu-west-1");
        assert_eq!(region_of("relayctl-logs-eu-west-1"), Some("eu-west-1"));
        assert_eq!(region_of(LEGACY_POLICY_NAME), None);
        assert!(is_ours(LEGACY_POLICY_NAME) && is_ours("relayctl-logs-us-east-1"));
        assert!(!is_ours("relayctl-logs-") && !is_ours("someone-elses"));
    }

    #[test]
    fn the_legacy_policy_belongs_to_the_region_of_its_log_group() {
        let group = "/aws/lambda/s-relay";
        let one = json!({"Statement": {"Resource":
            "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/s-relay:*"}});
        assert_eq!(region_granted(&one, group).as_deref(), Some("eu-west-1"));
        let several = json!({"Statement": [
            {"Resource": "arn:aws:ssm:us-east-1:111122223333:parameter/x"},
            {"Resource": ["arn:aws-cn:logs:cn-north-1:111122223333:log-group:/aws/lambda/s-relay:*"]}
        ]});
        assert_eq!(
            region_granted(&several, group).as_deref(),
            Some("cn-north-1")
        );
        // Another function's group, or none at all: no region of this stack.
        let other = json!({"Statement": {"Resource":
            "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/s-relay-2:*"}});
        assert_eq!(region_granted(&other, group), None);
        assert_eq!(region_granted(&json!({}), group), None);
    }
}
