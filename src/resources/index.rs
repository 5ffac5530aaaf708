//! Ownership read in bulk. One Resource Groups Tagging API listing,
//! GetResources filtered on this stack's ownership tag (100 resources a
//! page), answers "is this ours, and what are its tags" for the alarms, the
//! topic and the log group, instead of one ListTagsForResource each: a
//! 500-alarm no-op plan reads 6 pages instead of 500 tag lists.
//!
//! AWS: the tagging index is eventually consistent
//! (<https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html>);
//! a resource this run (or a run a moment ago) created may be missing from
//! it. A resource the index does not show is therefore never taken as
//! foreign: its own service's tag read decides (`owner_tags`'s fallback).
//! IAM roles are not in the index (IAM is global); role.rs reads its tags
//! from GetRole. Lambda's GetFunction carries the tags itself.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_resourcegroupstagging::types::TagFilter;
use tokio::sync::OnceCell;

use super::{Ctx, Tags};
use crate::aws::AwsError;
use crate::config::OWNER_TAG_KEY;

/// GetResources' largest page.
const PAGE: i32 = 100;

/// The stack's owned resources by ARN, listed once per run on first use.
#[derive(Debug, Default)]
pub struct OwnerIndex {
    by_arn: OnceCell<HashMap<String, Tags>>,
}

impl OwnerIndex {
    /// Lists the index (once; concurrent callers wait for the same listing).
    pub async fn load(&self, ctx: &Ctx) -> Result<&HashMap<String, Tags>, AwsError> {
        self.by_arn.get_or_try_init(|| list(ctx)).await
    }
}

/// The tags of the resource `arn`: from the index when it lists it (then
/// it is ours), else from `fallback`, the resource's own tag read, for a
/// resource the index does not show yet.
pub async fn owner_tags<F>(ctx: &Ctx, arn: &str, fallback: F) -> Result<Tags, AwsError>
where
    F: Future<Output = Result<Tags, AwsError>>,
{
    match ctx.index.load(ctx).await?.get(arn) {
        Some(tags) => Ok(tags.clone()),
        None => {
            tracing::debug!("{arn}: not in the tagging index yet; reading its tags directly");
            fallback.await
        }
    }
}

async fn list(ctx: &Ctx) -> Result<HashMap<String, Tags>, AwsError> {
    let stack = &ctx.stack.name;
    let filter = TagFilter::builder()
        .key(OWNER_TAG_KEY)
        .values(stack.as_str())
        .build();
    let pages: Vec<_> = ctx
        .clients
        .tagging
        .get_resources()
        .tag_filters(filter)
        .resources_per_page(PAGE)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| {
            AwsError::call(
                "tagging index",
                format!("{OWNER_TAG_KEY}={stack}"),
                "GetResources",
                e,
            )
        })?;
    Ok(pages
        .into_iter()
        .flat_map(|page| page.resource_tag_mapping_list.unwrap_or_default())
        .filter_map(|r| {
            let tags = r
                .tags
                .unwrap_or_default()
                .into_iter()
                .map(|t| (t.key, t.value))
                .collect();
            Some((r.resource_arn?, tags))
        })
        // The stack's lock carries the ownership tag but is no resource of
        // the stack: nothing reads, plans or deletes it from here.
        .filter(|(arn, _)| !crate::lock::is_lock_arn(arn))
        .collect())
}
