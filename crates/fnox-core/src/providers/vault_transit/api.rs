//! The transit engine's HTTP API: shared HTTPS clients, single and
//! `batch_input` calls, and the mapping of failures to [`ProviderError`]s.
//!
//! Request bodies that carry plaintext are built in zeroizing buffers and
//! handed to the HTTP library without a copy; answers are moved into
//! zeroizing buffers as soon as they arrive. (Buffers inside the HTTP and
//! TLS libraries are theirs and are not wiped.)

use std::path::PathBuf;

use base64::Engine as _;
use reqwest::{Method, header::HeaderValue};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use zeroize::Zeroizing;

use super::error::{
    Call, TransitDetail, TransitError, TransitErrorKind, classify, classify_message,
    is_authentication_failure,
};
pub use super::failure::Failure;
use super::failure::{transport_failure, unexpected};
use crate::providers::{error::ProviderError, http::HttpClients};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A transit operation on one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `encrypt/KEY`: plaintext in, ciphertext out.
    Encrypt,
    /// `decrypt/KEY`: ciphertext in, plaintext out.
    Decrypt,
    /// `rewrap/KEY`: ciphertext in, ciphertext under the latest version out.
    Rewrap,
}

impl Op {
    fn endpoint(self) -> &'static str {
        match self {
            Op::Encrypt => "encrypt",
            Op::Decrypt => "decrypt",
            Op::Rewrap => "rewrap",
        }
    }
}

/// How a value is bound to its secret name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Binding {
    /// A derived key: `context` = base64(name); rewrap works.
    Context,
    /// A plain AEAD key: `associated_data` = base64(name); rewrap cannot
    /// carry it, so rotation decrypts and encrypts.
    AssociatedData,
    /// A key type with neither (e.g. RSA): not bound.
    Unbound,
}

/// One input of a call: the secret's name and base64 plaintext (encrypt)
/// or a `vault:vN:...` ciphertext (decrypt, rewrap).
#[derive(Debug)]
pub struct Item {
    /// The secret name, bound as context or associated data.
    pub name: String,
    /// The input field's text.
    pub input: Zeroizing<String>,
}

/// What the server says about the key (`GET {mount}/keys/{key}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct KeyInfo {
    /// e.g. `aes256-gcm96`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Derived keys take a per-request `context`.
    #[serde(default)]
    pub derived: bool,
    /// The version new ciphertexts use.
    pub latest_version: u32,
    /// Older versions no longer decrypt.
    #[serde(default)]
    pub min_decryption_version: u32,
    /// Absent on old servers, where every transit key could encrypt.
    #[serde(default = "yes")]
    pub supports_encryption: bool,
}

fn yes() -> bool {
    true
}

impl KeyInfo {
    /// How this key binds names.
    pub fn binding(&self) -> Binding {
        if self.derived {
            Binding::Context
        } else if matches!(
            self.kind.as_str(),
            "aes128-gcm96" | "aes256-gcm96" | "chacha20-poly1305" | "xchacha20-poly1305"
        ) {
            Binding::AssociatedData
        } else {
            Binding::Unbound
        }
    }
}

/// Where the server is and who we are.
pub struct Api {
    client: reqwest::Client,
    /// The server address, without a trailing slash.
    pub address: String,
    /// The mount, without surrounding slashes.
    pub mount: String,
    /// The key name.
    pub key: String,
    namespace: Option<String>,
    token: HeaderValue,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("address", &self.address)
            .field("mount", &self.mount)
            .field("key", &self.key)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

/// The settings an [`Api`] is built from.
#[derive(Debug)]
pub struct ApiSettings {
    /// The server address.
    pub address: String,
    /// The mount.
    pub mount: String,
    /// The key.
    pub key: String,
    /// The namespace.
    pub namespace: Option<String>,
    /// A PEM file of trusted CA certificates (else the system's).
    pub ca_cert: Option<PathBuf>,
    /// The token.
    pub token: Zeroizing<String>,
}

/// An answer: its status, its `data` when it parsed, its `errors`.
struct Answer<T> {
    status: u16,
    data: Option<T>,
    errors: Vec<String>,
}

#[derive(Deserialize)]
struct Body<T> {
    data: Option<T>,
    #[serde(default, deserialize_with = "tidy_errors")]
    errors: Vec<String>,
}

/// The `errors` array, with Go's multi-error texts ("1 error occurred:\n\t*
/// permission denied\n\n") split into their items.
fn tidy_errors<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let raw = Vec::<String>::deserialize(d)?;
    Ok(raw.iter().flat_map(|e| split_multi_error(e)).collect())
}

fn split_multi_error(text: &str) -> Vec<String> {
    let text = text.trim();
    let is_multi = text
        .lines()
        .next()
        .is_some_and(|l| l.ends_with("error occurred:") || l.ends_with("errors occurred:"));
    if !is_multi {
        return vec![text.to_string()];
    }
    text.lines().skip(1).filter_map(|l| l.trim().strip_prefix("* ")).map(str::to_string).collect()
}

#[derive(Deserialize)]
struct OpData {
    ciphertext: Option<String>,
    plaintext: Option<Zeroizing<String>>,
    batch_results: Option<Vec<OpResult>>,
}

#[derive(Deserialize)]
struct OpResult {
    ciphertext: Option<String>,
    plaintext: Option<Zeroizing<String>>,
    #[serde(default)]
    error: String,
}

#[derive(Serialize)]
struct ItemBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ciphertext: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    associated_data: Option<String>,
}

#[derive(Serialize)]
struct BatchBody<'a> {
    batch_input: Vec<ItemBody<'a>>,
}

impl Api {
    /// An API handle over a client from `clients`.
    pub fn new(s: ApiSettings, clients: &HttpClients) -> Result<Self, TransitError> {
        let address = s.address.trim_end_matches('/').to_string();
        if !(address.starts_with("http://") || address.starts_with("https://"))
            || reqwest::Url::parse(&address).is_err()
        {
            return Err(TransitError::BadAddress(s.address));
        }
        let mut token = HeaderValue::from_str(s.token.trim()).map_err(|_| {
            TransitError::Client("the token has characters not allowed in an HTTP header".into())
        })?;
        token.set_sensitive(true);
        Ok(Self {
            client: clients.get(s.ca_cert.as_deref())?,
            address,
            mount: s.mount.trim_matches('/').to_string(),
            key: s.key,
            namespace: s.namespace.filter(|n| !n.is_empty()),
            token,
        })
    }

    /// How messages name `endpoint` (`encrypt`, `keys`, ...) of the key.
    pub fn call(&self, endpoint: &str) -> Call {
        Call {
            path: format!("{}/{endpoint}/{}", self.mount, self.key),
            capability: if endpoint == "keys" { "read" } else { "update" },
            address: self.address.clone(),
            mount: self.mount.clone(),
            key: self.key.clone(),
            namespace: self.namespace.clone(),
        }
    }

    /// Reads the key's settings.
    pub async fn read_key(&self) -> Result<KeyInfo, Failure> {
        let call = self.call("keys");
        let answer = self.request::<KeyInfo>(Method::GET, &call.path, &call, None).await?;
        match answer.data {
            Some(info) if (200..300).contains(&answer.status) => Ok(info),
            _ => Err(self.failure(&call, answer.status, &answer.errors).await),
        }
    }

    /// One request for all of `items` (a `batch_input` when there are
    /// several); results in the order of `items`.
    pub async fn run(
        &self,
        op: Op,
        binding: Binding,
        items: &[Item],
    ) -> Vec<Result<Zeroizing<String>, ProviderError>> {
        let call = self.call(op.endpoint());
        let body = request_body(op, binding, items);
        let all = |f: Failure| items.iter().map(|_| Err(f.error())).collect();
        let answer = match self.request::<OpData>(Method::POST, &call.path, &call, Some(body)).await
        {
            Ok(a) => a,
            Err(f) => return all(f),
        };
        let ok = (200..300).contains(&answer.status);
        match answer.data {
            Some(OpData { batch_results: Some(results), .. }) if items.len() > 1 => {
                if results.len() != items.len() {
                    return all(unexpected(&call, "the batch answer has the wrong length"));
                }
                results.into_iter().map(|r| item_result(&call, op, r)).collect()
            }
            Some(OpData { ciphertext, plaintext, .. }) if ok && items.len() == 1 => {
                vec![item_result(
                    &call,
                    op,
                    OpResult { ciphertext, plaintext, error: String::new() },
                )]
            }
            _ if ok => all(unexpected(&call, "the answer has no result")),
            _ => all(self.failure(&call, answer.status, &answer.errors).await),
        }
    }

    /// Sends one request and parses Vault's JSON answer.
    async fn request<T: DeserializeOwned>(
        &self,
        method: Method,
        api_path: &str,
        call: &Call,
        body: Option<Zeroizing<Vec<u8>>>,
    ) -> Result<Answer<T>, Failure> {
        let url = format!("{}/v1/{api_path}", self.address);
        let mut req = self.client.request(method, url).header("X-Vault-Token", self.token.clone());
        if let Some(ns) = &self.namespace {
            req = req.header("X-Vault-Namespace", ns);
        }
        if let Some(body) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes::Bytes::from_owner(body));
        }
        let resp = req.send().await.map_err(|e| transport_failure(call, &e))?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| transport_failure(call, &e))?;
        let bytes = Zeroizing::new(Vec::<u8>::from(bytes));
        match serde_json::from_slice::<Body<T>>(&bytes) {
            Ok(b) => Ok(Answer { status, data: b.data, errors: b.errors }),
            // A 404 or 403 may come with an empty body.
            Err(_) if bytes.is_empty() || status == 404 => {
                Ok(Answer { status, data: None, errors: Vec::new() })
            }
            Err(_) => Err(Failure::Call {
                call: Box::new(call.clone()),
                kind: TransitErrorKind::NotVault,
                detail: format!("HTTP {status}, and the body is not Vault's JSON"),
            }),
        }
    }

    /// The failure for an answer with `status` and `errors`. A 403 is a
    /// bad token when the token cannot look itself up.
    async fn failure(&self, call: &Call, status: u16, errors: &[String]) -> Failure {
        let detail = match errors {
            [] => format!("HTTP {status}"),
            _ => format!("HTTP {status}: {}", errors.join("; ")),
        };
        if status == 400 && errors.first().is_some_and(|m| is_authentication_failure(m)) {
            return Failure::Tampered;
        }
        let mut kind = classify(status, errors);
        if kind == TransitErrorKind::PermissionDenied && !self.token_is_valid(call).await {
            kind = TransitErrorKind::BadToken;
        }
        Failure::Call { call: Box::new(call.clone()), kind, detail }
    }

    /// Whether `auth/token/lookup-self` (allowed by the default policy)
    /// answers; `true` when it cannot be told.
    async fn token_is_valid(&self, call: &Call) -> bool {
        match self
            .request::<serde_json::Value>(Method::GET, "auth/token/lookup-self", call, None)
            .await
        {
            Ok(a) => a.status != 403,
            Err(_) => true,
        }
    }
}

/// The JSON body: one item's fields, or `batch_input`. Written into a
/// zeroizing buffer sized up front, so it never reallocates.
fn request_body(op: Op, binding: Binding, items: &[Item]) -> Zeroizing<Vec<u8>> {
    let bodies: Vec<ItemBody<'_>> = items
        .iter()
        .map(|item| {
            let name = Some(B64.encode(&item.name));
            let (context, associated_data) = match binding {
                Binding::Context => (name, None),
                Binding::AssociatedData => (None, name),
                Binding::Unbound => (None, None),
            };
            let (plaintext, ciphertext) = match op {
                Op::Encrypt => (Some(item.input.as_str()), None),
                Op::Decrypt | Op::Rewrap => (None, Some(item.input.as_str())),
            };
            ItemBody { plaintext, ciphertext, context, associated_data }
        })
        .collect();
    let size: usize = items.iter().map(|i| i.input.len() + 2 * i.name.len() + 96).sum();
    let mut out = Zeroizing::new(Vec::with_capacity(size + 32));
    let written = match bodies.as_slice() {
        [one] => serde_json::to_writer(&mut *out, one),
        _ => serde_json::to_writer(&mut *out, &BatchBody { batch_input: bodies }),
    };
    // Serializing strings into a Vec cannot fail.
    debug_assert!(written.is_ok());
    out
}

fn item_result(call: &Call, op: Op, r: OpResult) -> Result<Zeroizing<String>, ProviderError> {
    if !r.error.is_empty() {
        if is_authentication_failure(&r.error) {
            return Err(ProviderError::Tampered);
        }
        return Err(TransitError::Call {
            call: call.clone(),
            kind: classify_message(&r.error),
            detail: TransitDetail(r.error),
        }
        .into());
    }
    let out = match op {
        Op::Decrypt => r.plaintext,
        Op::Encrypt | Op::Rewrap => r.ciphertext.map(Zeroizing::new),
    };
    out.ok_or_else(|| unexpected(call, "the answer has no result").error())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_bind_the_name_as_the_key_requires() {
        let items = [Item { name: "DB".into(), input: Zeroizing::new("aGk=".into()) }];
        let body = |op, binding| String::from_utf8(request_body(op, binding, &items).to_vec());
        assert_eq!(
            body(Op::Encrypt, Binding::Context).unwrap(),
            r#"{"plaintext":"aGk=","context":"REI="}"#
        );
        assert_eq!(
            body(Op::Decrypt, Binding::AssociatedData).unwrap(),
            r#"{"ciphertext":"aGk=","associated_data":"REI="}"#
        );
        assert_eq!(body(Op::Rewrap, Binding::Unbound).unwrap(), r#"{"ciphertext":"aGk="}"#);
        let two = [
            Item { name: "A".into(), input: Zeroizing::new("vault:v1:x".into()) },
            Item { name: "B".into(), input: Zeroizing::new("vault:v1:y".into()) },
        ];
        assert_eq!(
            String::from_utf8(request_body(Op::Decrypt, Binding::Context, &two).to_vec()).unwrap(),
            r#"{"batch_input":[{"ciphertext":"vault:v1:x","context":"QQ=="},{"ciphertext":"vault:v1:y","context":"Qg=="}]}"#
        );
    }

    #[test]
    fn multi_errors_are_split_into_their_items() {
        assert_eq!(
            split_multi_error("1 error occurred:\n\t* permission denied\n\n"),
            ["permission denied"]
        );
        assert_eq!(
            split_multi_error("2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"),
            ["permission denied", "invalid token"]
        );
        assert_eq!(split_multi_error("Vault is sealed"), ["Vault is sealed"]);
    }

    #[test]
    fn key_binding_follows_derived_and_type() {
        let info = |kind: &str, derived| KeyInfo {
            kind: kind.into(),
            derived,
            latest_version: 1,
            min_decryption_version: 1,
            supports_encryption: true,
        };
        assert_eq!(info("aes256-gcm96", true).binding(), Binding::Context);
        assert_eq!(info("aes256-gcm96", false).binding(), Binding::AssociatedData);
        assert_eq!(info("chacha20-poly1305", false).binding(), Binding::AssociatedData);
        assert_eq!(info("rsa-4096", false).binding(), Binding::Unbound);
    }
}
