//! Where the function's code lives for CloudFormation: the deterministic
//! handler zip (the one `up` uploads, src/package.rs) in S3, under a key
//! derived from its SHA-256, so an unchanged handler is never uploaded twice
//! and a changed one never overwrites the object a deployed stack points at.
//! For StackSets the bucket may be a per-region pattern
//! (`relay-code-${AWS::Region}`): Lambda reads code only from a bucket in
//! the function's own region.

use aws_sdk_s3::primitives::ByteStream;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::ExportError;
use crate::aws::{AwsError, Connection};
use crate::package::Package;

const KIND: &str = "s3 object";

/// The one placeholder a bucket may contain.
pub const REGION_PATTERN: &str = "${AWS::Region}";

#[derive(Debug, Clone)]
pub struct CodeLocation {
    /// The bucket, or a pattern with `${AWS::Region}`.
    pub bucket: String,
    pub key: String,
}

impl CodeLocation {
    /// Checks the bucket (pattern) and prefix; the key is
    /// `{prefix}relay-handler-{sha256 hex}.zip`.
    pub fn new(bucket: &str, prefix: &str, sha256_hex: &str) -> Result<CodeLocation, ExportError> {
        check_bucket(bucket)?;
        if prefix.starts_with('/') || prefix.chars().any(char::is_control) {
            return Err(ExportError::Prefix {
                prefix: prefix.to_string(),
                problem: "must not start with '/' or hold control characters".into(),
            });
        }
        let sep = if prefix.is_empty() || prefix.ends_with('/') {
            ""
        } else {
            "/"
        };
        Ok(CodeLocation {
            bucket: bucket.to_string(),
            key: format!("{prefix}{sep}relay-handler-{sha256_hex}.zip"),
        })
    }

    pub fn for_package(bucket: &str, prefix: &str, package: &Package) -> Result<Self, ExportError> {
        CodeLocation::new(bucket, prefix, &sha256_hex(&package.zip))
    }

    /// The bucket as the template says it: a pattern becomes `Fn::Sub`.
    pub fn bucket_value(&self) -> Value {
        match self.bucket.contains(REGION_PATTERN) {
            true => json!({ "Fn::Sub": self.bucket }),
            false => json!(self.bucket),
        }
    }

    /// The bucket in one region.
    pub fn bucket_in(&self, region: &str) -> String {
        self.bucket.replace(REGION_PATTERN, region)
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// AWS: bucket names are 3-63 characters of a-z, 0-9, '.' and '-',
/// starting and ending with a letter or digit
/// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
/// With the pattern, the name is checked for the longest region name.
fn check_bucket(bucket: &str) -> Result<(), ExportError> {
    let problem = |p: &str| {
        Err(ExportError::Bucket {
            bucket: bucket.to_string(),
            problem: p.to_string(),
        })
    };
    let example = bucket.replace(REGION_PATTERN, "ap-southeast-5");
    if example.contains('$') || example.contains('{') {
        return problem("the only placeholder a bucket may hold is ${AWS::Region}");
    }
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-';
    let ends = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !(3..=63).contains(&example.len())
        || !example.chars().all(ok_char)
        || !ends(example.chars().next())
        || !ends(example.chars().last())
    {
        return problem(
            "not a valid S3 bucket name (3-63 of a-z 0-9 . -, a letter or digit at each end)",
        );
    }
    Ok(())
}

/// Uploads the zip to the bucket of the connection's region unless an object
/// is already there under its key (HeadObject): the key is the content's
/// hash, so an existing object is this very zip. Returns whether it uploaded.
pub async fn upload(
    conn: &Connection,
    stack_region: Option<&str>,
    code: &CodeLocation,
    package: &Package,
) -> Result<(String, bool), ExportError> {
    let s3 = client(conn, stack_region).await;
    let region = s3
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    let bucket = code.bucket_in(&region);
    let object = format!("s3://{bucket}/{}", code.key);
    let failed = |error| ExportError::Upload(Box::new(error));
    let head = s3.head_object().bucket(&bucket).key(&code.key).send().await;
    match head {
        Ok(_) => return Ok((bucket, false)),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => {}
        Err(e) => return Err(failed(AwsError::call(KIND, &object, "HeadObject", e))),
    }
    s3.put_object()
        .bucket(&bucket)
        .key(&code.key)
        .content_type("application/zip")
        .body(ByteStream::from(package.zip.clone()))
        .send()
        .await
        .map_err(|e| failed(AwsError::call(KIND, &object, "PutObject", e)))?;
    Ok((bucket, true))
}

/// An S3 client from the standard chain, like the others (src/aws.rs). With
/// an endpoint URL (a local fake) paths name the bucket: virtual-host
/// addressing would need DNS for `bucket.127.0.0.1`.
async fn client(conn: &Connection, stack_region: Option<&str>) -> aws_sdk_s3::Client {
    let config = crate::aws::load_config(conn, stack_region).await;
    let s3 = aws_sdk_s3::config::Builder::from(&config)
        .force_path_style(conn.endpoint_url.is_some())
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_the_content_hash_under_the_prefix() {
        let hex = sha256_hex(b"zip");
        assert_eq!(hex.len(), 64);
        let c = CodeLocation::new("relay-code", "lambda/relay", &hex).unwrap();
        assert_eq!(c.key, format!("lambda/relay/relay-handler-{hex}.zip"));
        let c = CodeLocation::new("relay-code", "", "ab").unwrap();
        assert_eq!(c.key, "relay-handler-ab.zip");
        assert_eq!(c.bucket_value(), json!("relay-code"));
    }

    #[test]
    fn a_region_pattern_is_a_sub_and_resolves_per_region() {
        let c = CodeLocation::new("relay-code-${AWS::Region}", "p/", "ab").unwrap();
        assert_eq!(
            c.bucket_value(),
            json!({"Fn::Sub": "relay-code-${AWS::Region}"})
        );
        assert_eq!(c.bucket_in("eu-west-1"), "relay-code-eu-west-1");
    }

    #[test]
    fn bad_buckets_and_prefixes_are_refused() {
        for bad in ["Relay", "ab", "x-${AWS::AccountId}", "-x-", "a_b"] {
            assert!(CodeLocation::new(bad, "", "ab").is_err(), "{bad}");
        }
        assert!(CodeLocation::new("relay-code", "/abs", "ab").is_err());
    }
}
