//! Reads the webhook from an SSM SecureString: one signed GetParameter
//! (AWS JSON 1.1, `WithDecryption: true`) over the handler's own HTTP
//! client.
//!
//! Signed with `aws-sigv4` rather than through aws-sdk-ssm: the SDK would
//! bring its own HTTP stack, config loader and retry machinery into a
//! binary that makes exactly one kind of call. Credentials and region are
//! the ones Lambda puts in the environment (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`); the
//! endpoint honours `AWS_ENDPOINT_URL_SSM`, then `AWS_ENDPOINT_URL`.
//!
//! The parameter's value is the webhook: it goes straight into a
//! [`WebhookUrl`] and is never logged or quoted in an error.

use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue, USER_AGENT};
use hyper::{Request, Uri};
use serde::Deserialize;
use tracing::warn;

use crate::deliver::HttpClient;
use crate::regions;
use crate::webhook::{WebhookError, WebhookUrl};

pub const ENDPOINT_SSM_VAR: &str = "AWS_ENDPOINT_URL_SSM";
pub const ENDPOINT_VAR: &str = "AWS_ENDPOINT_URL";

const TARGET: &str = "AmazonSSM.GetParameter";
const CONTENT_TYPE_JSON_11: &str = "application/x-amz-json-1.1";
/// A SecureString holds at most 8 KB; the JSON around it is small.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Throttling, 5xx and dropped connections are retried this many times in all.
const MAX_ATTEMPTS: u32 = 3;
const RETRY_DELAY: Duration = Duration::from_millis(100);
/// AWS error messages are quoted in errors, shortened and escaped.
const MAX_MESSAGE_CHARS: usize = 300;

#[derive(Debug, thiserror::Error)]
pub enum SsmError {
    #[error(
        "AWS credentials are missing: {0} is not set (Lambda sets it from the function's role)"
    )]
    MissingCredentials(&'static str),
    #[error("AWS_REGION is not set or is not a region code")]
    MissingRegion,
    #[error("{var} is not a usable endpoint ({why}); expected https://… or http://127.0.0.1:PORT")]
    BadEndpoint {
        var: &'static str,
        why: &'static str,
    },
    #[error("could not sign the SSM request: {0}")]
    Signing(String),
    #[error("SSM GetParameter {name}: {code}: {message}{}", hint(.code))]
    Service {
        name: String,
        code: String,
        message: String,
    },
    #[error("SSM GetParameter {name}: {why}")]
    Transport { name: String, why: String },
    #[error("SSM GetParameter {name}: the answer has no parameter value")]
    NoValue { name: String },
    #[error("SSM parameter {name} does not hold a usable webhook URL: {error}")]
    BadValue { name: String, error: WebhookError },
}

/// What to do about each error SSM names, in the operator's terms.
fn hint(code: &str) -> &'static str {
    match code {
        "ParameterNotFound" => {
            " (hint: create it with `relayctl secret set`, in this function's region)"
        }
        "AccessDeniedException" => {
            " (hint: the function's role needs ssm:GetParameter on this parameter, and kms:Decrypt on its key)"
        }
        "InvalidKeyId"
        | "KMSAccessDeniedException"
        | "KMSDisabledException"
        | "KMSInvalidStateException"
        | "KMSNotFoundException" => {
            " (hint: KMS could not decrypt the SecureString: check its key exists, is enabled, and the role may kms:Decrypt via SSM)"
        }
        "UnrecognizedClientException" | "InvalidSignatureException" => {
            " (hint: the function's credentials were refused)"
        }
        _ => "",
    }
}

/// The SSM endpoint, region and credentials: everything a signed request needs.
#[derive(Clone)]
pub struct SsmClient {
    http: HttpClient,
    endpoint: Uri,
    region: String,
    credentials: Credentials,
}

impl SsmClient {
    pub fn new(http: HttpClient, endpoint: Uri, region: String, credentials: Credentials) -> Self {
        Self {
            http,
            endpoint,
            region,
            credentials,
        }
    }

    pub fn from_env(http: HttpClient) -> Result<Self, SsmError> {
        Self::from_lookup(http, |var| std::env::var(var).ok())
    }

    pub fn from_lookup(
        http: HttpClient,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SsmError> {
        let get = |var| {
            lookup(var)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let access_key =
            get("AWS_ACCESS_KEY_ID").ok_or(SsmError::MissingCredentials("AWS_ACCESS_KEY_ID"))?;
        let secret_key = get("AWS_SECRET_ACCESS_KEY")
            .ok_or(SsmError::MissingCredentials("AWS_SECRET_ACCESS_KEY"))?;
        let session_token = get("AWS_SESSION_TOKEN");
        let region = get("AWS_REGION")
            .or_else(|| get("AWS_DEFAULT_REGION"))
            .filter(|r| regions::looks_like_code(r))
            .ok_or(SsmError::MissingRegion)?;
        let endpoint = match (get(ENDPOINT_SSM_VAR), get(ENDPOINT_VAR)) {
            (Some(url), _) => endpoint_from(ENDPOINT_SSM_VAR, &url)?,
            (None, Some(url)) => endpoint_from(ENDPOINT_VAR, &url)?,
            (None, None) => default_endpoint(&region),
        };
        let credentials =
            Credentials::new(access_key, secret_key, session_token, None, "environment");
        Ok(Self::new(http, endpoint, region, credentials))
    }

    /// The decrypted value of `name` as a webhook URL. Throttling, 5xx and
    /// connection errors are retried a few times before `deadline`.
    pub async fn webhook(&self, name: &str, deadline: Instant) -> Result<WebhookUrl, SsmError> {
        let value = self.get_parameter(name, deadline).await?;
        WebhookUrl::parse(&value).map_err(|error| SsmError::BadValue {
            name: name.to_owned(),
            error,
        })
    }

    async fn get_parameter(&self, name: &str, deadline: Instant) -> Result<String, SsmError> {
        let body = serde_json::json!({ "Name": name, "WithDecryption": true }).to_string();
        let mut attempt = 1;
        loop {
            let result = match tokio::time::timeout(
                deadline.saturating_duration_since(Instant::now()),
                self.attempt(name, &body),
            )
            .await
            {
                Ok(result) => result,
                Err(_) => Err(Attempt::Retry(SsmError::Transport {
                    name: name.to_owned(),
                    why: "no answer before the deadline".into(),
                })),
            };
            match result {
                Ok(value) => return Ok(value),
                Err(Attempt::Fail(e)) => return Err(e),
                Err(Attempt::Retry(e)) => {
                    let wait = RETRY_DELAY * attempt;
                    if attempt >= MAX_ATTEMPTS || Instant::now() + wait >= deadline {
                        return Err(e);
                    }
                    warn!(attempt, error = %e, "SSM GetParameter failed; retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(&self, name: &str, body: &str) -> Result<String, Attempt> {
        let request = self.signed_request(body).map_err(Attempt::Fail)?;
        let transport = |why: String| SsmError::Transport {
            name: name.to_owned(),
            why,
        };
        let response = self.http.request(request).await.map_err(|e| {
            Attempt::Retry(transport(format!(
                "connection error: {}",
                escape(&e.to_string())
            )))
        })?;
        let status = response.status();
        let error_header = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| {
                Attempt::Retry(transport(format!(
                    "reading the answer: {}",
                    escape(&e.to_string())
                )))
            })?
            .to_bytes();
        if status.is_success() {
            let answer: GetParameterOutput = serde_json::from_slice(&bytes).map_err(|_| {
                Attempt::Fail(transport("the answer is not GetParameter's JSON".into()))
            })?;
            return answer.parameter.and_then(|p| p.value).ok_or_else(|| {
                Attempt::Fail(SsmError::NoValue {
                    name: name.to_owned(),
                })
            });
        }
        let error: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
        let code = error
            .kind
            .or(error_header)
            .map(|t| error_code(&t).to_owned())
            .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
        let message = escape(&error.message.or(error.message_upper).unwrap_or_default());
        let retry = status.is_server_error()
            || matches!(code.as_str(), "ThrottlingException" | "InternalServerError");
        let e = SsmError::Service {
            name: name.to_owned(),
            code,
            message,
        };
        Err(if retry {
            Attempt::Retry(e)
        } else {
            Attempt::Fail(e)
        })
    }

    /// POST / with the JSON 1.1 target header, signed for `ssm` in our region.
    fn signed_request(&self, body: &str) -> Result<Request<Full<Bytes>>, SsmError> {
        let signing = |e: &dyn std::fmt::Display| SsmError::Signing(escape(&e.to_string()));
        let host = match self.endpoint.port() {
            Some(port) => format!("{}:{port}", self.endpoint.host().unwrap_or_default()),
            None => self.endpoint.host().unwrap_or_default().to_owned(),
        };
        let headers = [
            ("host", host.as_str()),
            ("content-type", CONTENT_TYPE_JSON_11),
            ("x-amz-target", TARGET),
        ];
        let uri = self.endpoint.to_string();
        let signable = SignableRequest::new(
            "POST",
            uri.as_str(),
            headers.iter().copied(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .map_err(|e| signing(&e))?;
        let identity = self.credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("ssm")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| signing(&e))?
            .into();
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| signing(&e))?
            .into_parts();

        let mut request = Request::post(self.endpoint.clone())
            .header(HOST, host.as_str())
            .header(CONTENT_TYPE, CONTENT_TYPE_JSON_11)
            .header("x-amz-target", TARGET)
            .header(
                USER_AGENT,
                concat!("relay-handler/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::from(body.to_owned())))
            .map_err(|e| signing(&e))?;
        // Applied by hand rather than with `apply_to_request_http1x`, which
        // unwraps each header value: a malformed token becomes an error here.
        for (name, value) in instructions.headers() {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| signing(&e))?;
            let mut value = HeaderValue::from_str(value).map_err(|_| {
                SsmError::Signing("a credential holds characters HTTP cannot carry".into())
            })?;
            value.set_sensitive(true);
            request.headers_mut().insert(name, value);
        }
        Ok(request)
    }
}

enum Attempt {
    Retry(SsmError),
    Fail(SsmError),
}

#[derive(Deserialize)]
struct GetParameterOutput {
    #[serde(rename = "Parameter")]
    parameter: Option<Parameter>,
}

#[derive(Deserialize)]
struct Parameter {
    #[serde(rename = "Value")]
    value: Option<String>,
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(rename = "__type")]
    kind: Option<String>,
    message: Option<String>,
    #[serde(rename = "Message")]
    message_upper: Option<String>,
}

/// `com.amazonaws.ssm#ParameterNotFound` or `ParameterNotFound:http://…`
/// to `ParameterNotFound`.
fn error_code(raw: &str) -> &str {
    let code = raw.rsplit('#').next().unwrap_or(raw);
    code.split(':').next().unwrap_or(code).trim()
}

/// AWS's texts are shown, not trusted: control characters escaped, cut short.
fn escape(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(MAX_MESSAGE_CHARS).is_some() {
        out.push('…');
    }
    out
}

fn endpoint_from(var: &'static str, raw: &str) -> Result<Uri, SsmError> {
    let bad = |why| SsmError::BadEndpoint { var, why };
    let uri: Uri = raw.parse().map_err(|_| bad("cannot be parsed"))?;
    let host = uri.host().filter(|h| !h.is_empty()).ok_or(bad("no host"))?;
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1") => {}
        Some("http") => return Err(bad("plain http is allowed only for loopback hosts")),
        _ => return Err(bad("scheme is not https")),
    }
    // The request goes to the root; a configured path would not be signed
    // the way the server sees it.
    let root = format!(
        "{}://{}/",
        uri.scheme_str().unwrap_or("https"),
        uri.authority().map_or("", |a| a.as_str())
    );
    root.parse().map_err(|_| bad("cannot be parsed"))
}

/// `ssm.{region}.{partition's domain}`.
fn default_endpoint(region: &str) -> Uri {
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else if region.starts_with("us-isob-") {
        "sc2s.sgov.gov"
    } else if region.starts_with("us-iso-") {
        "c2s.ic.gov"
    } else {
        "amazonaws.com"
    };
    format!("https://ssm.{region}.{domain}/")
        .parse()
        .expect("a region code and a fixed domain form a valid URI")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deliver::https_client;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |var| {
            pairs
                .iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    const KEYS: [(&str, &str); 3] = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_REGION", "eu-west-1"),
    ];

    #[test]
    fn endpoint_follows_the_environment_then_the_partition() {
        let client = |extra: &[(&str, &str)]| {
            let mut all = KEYS.to_vec();
            all.extend_from_slice(extra);
            SsmClient::from_lookup(https_client(), env(&all)).map(|c| c.endpoint.to_string())
        };
        assert_eq!(client(&[]).unwrap(), "https://ssm.eu-west-1.amazonaws.com/");
        assert_eq!(
            client(&[(ENDPOINT_VAR, "http://127.0.0.1:4566")]).unwrap(),
            "http://127.0.0.1:4566/"
        );
        assert_eq!(
            client(&[
                (ENDPOINT_SSM_VAR, "https://ssm.example.com/x"),
                (ENDPOINT_VAR, "http://127.0.0.1:1")
            ])
            .unwrap(),
            "https://ssm.example.com/"
        );
        assert!(matches!(
            client(&[(ENDPOINT_SSM_VAR, "http://ssm.example.com")]),
            Err(SsmError::BadEndpoint {
                var: ENDPOINT_SSM_VAR,
                ..
            })
        ));
        assert_eq!(
            default_endpoint("cn-north-1").to_string(),
            "https://ssm.cn-north-1.amazonaws.com.cn/"
        );
        assert_eq!(
            default_endpoint("us-gov-west-1").to_string(),
            "https://ssm.us-gov-west-1.amazonaws.com/"
        );
    }

    #[test]
    fn missing_credentials_and_region_are_named() {
        let err = |pairs: &[(&str, &str)]| {
            SsmClient::from_lookup(https_client(), env(pairs))
                .err()
                .map(|e| e.to_string())
        };
        assert!(err(&KEYS[1..]).unwrap().contains("AWS_ACCESS_KEY_ID"));
        assert!(
            err(&[KEYS[0], KEYS[2]])
                .unwrap()
                .contains("AWS_SECRET_ACCESS_KEY")
        );
        assert!(err(&KEYS[..2]).unwrap().contains("AWS_REGION"));
        assert!(
            err(&[KEYS[0], KEYS[1], ("AWS_REGION", "EU (Ireland)")])
                .unwrap()
                .contains("AWS_REGION")
        );
    }

    #[test]
    fn error_codes_and_hints() {
        assert_eq!(
            error_code("com.amazonaws.ssm#ParameterNotFound"),
            "ParameterNotFound"
        );
        assert_eq!(
            error_code("AccessDeniedException:http://internal.amazon.com/"),
            "AccessDeniedException"
        );
        let e = SsmError::Service {
            name: "/relay/x".into(),
            code: "ParameterNotFound".into(),
            message: escape("Parameter /relay/x not found.\u{1b}[2J"),
        };
        let shown = e.to_string();
        assert!(
            shown.starts_with(
                "SSM GetParameter /relay/x: ParameterNotFound: Parameter /relay/x not found."
            ),
            "{shown}"
        );
        assert!(shown.contains("relayctl secret set"), "{shown}");
        assert!(!shown.contains('\u{1b}'), "{shown}");
    }
}
