//! Tags: what differs, how it is shown, and one way to converge them that
//! every kind drives through its own small `TagApi`.

use std::collections::BTreeMap;
use std::future::Future;

use crate::aws::AwsError;
use crate::change::Attr;

pub type Tags = BTreeMap<String, String>;

/// Tag keys AWS sets itself; they are neither ours to add nor to remove.
fn is_system_tag(key: &str) -> bool {
    key.starts_with("aws:")
}

/// What to set and what to remove so that `live` tags equal `desired`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TagDiff {
    pub set: Tags,
    pub remove: Vec<String>,
}

impl TagDiff {
    pub fn between(live: &Tags, desired: &Tags) -> Option<TagDiff> {
        let set: Tags = desired
            .iter()
            .filter(|(k, v)| live.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let remove: Vec<String> = live
            .keys()
            .filter(|k| !desired.contains_key(*k) && !is_system_tag(k))
            .cloned()
            .collect();
        (!set.is_empty() || !remove.is_empty()).then_some(TagDiff { set, remove })
    }
}

pub fn render_tags(tags: &Tags) -> String {
    let inner: Vec<String> = tags
        .iter()
        .filter(|(k, _)| !is_system_tag(k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// Adds a `tags` attribute to `attrs` and returns what to change when tags differ.
pub fn diff_tags(attrs: &mut Vec<Attr>, live: &Tags, desired: &Tags) -> Option<TagDiff> {
    let diff = TagDiff::between(live, desired)?;
    attrs.push(Attr::new(
        "tags",
        Some(render_tags(live)),
        Some(render_tags(desired)),
    ));
    Some(diff)
}

/// One kind's tagging calls; every service spells them (and its Tag type)
/// differently.
pub trait TagApi {
    fn tag(&self, set: &Tags) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn untag(&self, keys: &[String]) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// Removes stray tags, then sets the wanted ones; no call for an empty half.
pub async fn converge_tags(api: &impl TagApi, diff: &TagDiff) -> Result<(), AwsError> {
    if !diff.remove.is_empty() {
        api.untag(&diff.remove).await?;
    }
    if !diff.set.is_empty() {
        api.tag(&diff.set).await?;
    }
    Ok(())
}

/// Defines `Tagging { ctx, name, id }`, the `TagApi` of a service whose tag
/// and untag calls take the resource by one id setter (`resource_arn`,
/// `resource`, `role_name`) and tags through `$convert(&Tags)`.
macro_rules! tag_api {
    ($client:ident, $id:ident, $convert:expr,
     $tag:ident / $tag_op:literal, $untag:ident / $untag_op:literal) => {
        struct Tagging<'a> {
            ctx: &'a $crate::resources::Ctx,
            name: &'a str,
            id: &'a str,
        }

        impl<'a> Tagging<'a> {
            // Until role.rs and alarm.rs use it too (they spell the struct
            // out), unused in those modules.
            #[allow(dead_code)]
            fn new(ctx: &'a $crate::resources::Ctx, name: &'a str, id: &'a str) -> Self {
                Tagging { ctx, name, id }
            }

            /// Converges the tags when the diff says they differ.
            #[allow(dead_code)]
            async fn converge(
                &self,
                diff: Option<&$crate::resources::TagDiff>,
            ) -> Result<(), AwsError> {
                match diff {
                    Some(diff) => $crate::resources::converge_tags(self, diff).await,
                    None => Ok(()),
                }
            }
        }

        impl $crate::resources::TagApi for Tagging<'_> {
            async fn tag(&self, set: &$crate::resources::Tags) -> Result<(), AwsError> {
                let call = self.ctx.clients.$client.$tag().$id(self.id);
                let sent = call.set_tags(Some($convert(set))).send().await;
                sent.map_err(|e| AwsError::call(KIND.label, self.name, $tag_op, e))?;
                Ok(())
            }

            async fn untag(&self, keys: &[String]) -> Result<(), AwsError> {
                let call = self.ctx.clients.$client.$untag().$id(self.id);
                let sent = call.set_tag_keys(Some(keys.to_vec())).send().await;
                sent.map_err(|e| AwsError::call(KIND.label, self.name, $untag_op, e))?;
                Ok(())
            }
        }
    };
}
pub(crate) use tag_api;

/// Defines `fn $name(&Tags) -> Vec<$tag>` for a service whose Tag type is
/// built from a key and a value (SNS, IAM).
macro_rules! tag_list {
    ($name:ident, $tag:ty) => {
        fn $name(tags: &$crate::resources::Tags) -> Vec<$tag> {
            let tag = |(k, v): (&String, &String)| <$tag>::builder().key(k).value(v).build();
            tags.iter()
                .map(|kv| tag(kv).expect("key and value set"))
                .collect()
        }
    };
}
pub(crate) use tag_list;

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn tag_diff_sets_changed_and_removes_extra_but_keeps_system_tags() {
        let live = tags(&[
            ("a", "1"),
            ("b", "old"),
            ("stray", "x"),
            ("aws:cloudformation:stack", "y"),
        ]);
        let want = tags(&[("a", "1"), ("b", "new"), ("c", "3")]);
        let d = TagDiff::between(&live, &want).unwrap();
        assert_eq!(d.set, tags(&[("b", "new"), ("c", "3")]));
        assert_eq!(d.remove, vec!["stray".to_string()]);
        assert!(TagDiff::between(&want, &want).is_none());
    }
}
