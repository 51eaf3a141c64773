//! The `aws-kms` provider: values are KMS `CiphertextBlob`s made by
//! `Encrypt` with the EncryptionContext `{"fnox:secret": NAME}` plus the
//! provider's `context` pairs. Large values use the envelope format with a
//! data key from `GenerateDataKey` under the same context.
//!
//! `Decrypt` does not pin the configured `key_id` (KMS reads the key from
//! the blob), so values under a previous key keep working until `rotate`
//! moves them. A value written without context (by jdx/fnox, or by
//! `aws kms encrypt`) still decrypts, with a note that it is unbound.
//!
//! `bind_name = false` (for teams in transition from jdx/fnox) leaves
//! `fnox:secret` out of a value's context, so jdx/fnox can read it; a
//! value bound before still decrypts, and `rotate` unbinds it. Envelope
//! data keys stay bound (jdx/fnox cannot read envelopes anyway).

use std::{collections::HashMap, sync::atomic::AtomicBool};

use tokio::sync::OnceCell;

use async_trait::async_trait;
use aws_sdk_kms::{
    Client,
    error::{ProvideErrorMetadata, SdkError},
    operation::{
        decrypt::DecryptError, encrypt::EncryptError, generate_data_key::GenerateDataKeyError,
        re_encrypt::ReEncryptError,
    },
    primitives::Blob,
    types::DataKeySpec,
};

use super::{
    error::ProviderError,
    provider::{Context, KeyDate, Provider, Rewrapped},
};
pub use crate::failure::KmsErrorKind;
use crate::notice::Notice;
use crate::{
    config::{
        AwsKmsConfig, KMS_DATA_KEY_CONTEXT_KEY, KMS_FILE_KEY_CONTEXT_KEYS, KMS_NAME_CONTEXT_KEY,
    },
    secret::SecretBytes,
};

/// The EncryptionContext key that binds a value to its secret name.
pub const NAME_CONTEXT_KEY: &str = KMS_NAME_CONTEXT_KEY;
/// The EncryptionContext key that binds an envelope's data key to its
/// secret name instead.
pub const DATA_KEY_CONTEXT_KEY: &str = KMS_DATA_KEY_CONTEXT_KEY;
/// KMS `Encrypt` takes at most this many plaintext bytes.
pub const DIRECT_LIMIT: usize = 4096;

/// The `aws-kms` provider: one SDK client, shared by all its secrets,
/// set up on its first request. A command the agent serves whole never
/// makes one, so it never reads the AWS configuration or the system's
/// root certificates.
#[derive(Debug)]
pub struct AwsKmsProvider {
    /// The client once set up; `None`: no region, so none can be (told as
    /// [`ProviderError::KmsNoRegion`] by every call, set up once).
    sdk: OnceCell<Option<Sdk>>,
    /// The provider's settings (`region`, `profile` and `endpoint` set the
    /// client up).
    config: AwsKmsConfig,
    ctx: Context,
    noted_unbound: AtomicBool,
}

/// The SDK client and the endpoint that errors name.
#[derive(Debug)]
struct Sdk {
    client: Client,
    endpoint: String,
}

/// An EncryptionContext to send (`None`: none at all), and whether it
/// binds the value to its name.
type Attempt = (Option<HashMap<String, String>>, bool);

/// An HTTPS client with one TLS stack (rustls + ring).
fn http_client() -> aws_sdk_kms::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .build_https()
}

/// Reads the AWS configuration (credentials chain, region) and makes the
/// client; no request is sent. `None` when no region is configured.
async fn load_sdk(ctx: &Context, config: &AwsKmsConfig) -> Option<Sdk> {
    let mut loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http_client());
    if let Some(profile) = &config.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &config.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(endpoint) = &config.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    let sdk = loader.load().await;
    let region = sdk.region()?;
    let endpoint = match (&config.endpoint, ctx.env.var("AWS_ENDPOINT_URL_KMS")) {
        (Some(e), _) => e.clone(),
        (None, Some(e)) => e.to_string(),
        _ => format!("of region {}", region.as_ref()),
    };
    Some(Sdk { client: Client::new(&sdk), endpoint })
}

impl AwsKmsProvider {
    /// The provider of `config`; its SDK client is set up on first use.
    pub(super) fn new(ctx: &Context, config: &AwsKmsConfig) -> Self {
        Self::with_sdk(ctx, config, OnceCell::new())
    }

    /// A provider around a ready client (tests use a mocked one).
    pub fn with_client(ctx: &Context, config: &AwsKmsConfig, client: Client) -> Self {
        let endpoint = config.endpoint.clone().unwrap_or_default();
        Self::with_sdk(ctx, config, OnceCell::new_with(Some(Some(Sdk { client, endpoint }))))
    }

    fn with_sdk(ctx: &Context, config: &AwsKmsConfig, sdk: OnceCell<Option<Sdk>>) -> Self {
        Self {
            sdk,
            config: config.clone(),
            ctx: ctx.clone(),
            noted_unbound: AtomicBool::new(false),
        }
    }

    /// The SDK client, set up on first use from the standard AWS chain
    /// plus the provider's `region`, `profile` and `endpoint`.
    async fn sdk(&self) -> Result<&Sdk, ProviderError> {
        let sdk = self.sdk.get_or_init(|| load_sdk(&self.ctx, &self.config)).await;
        sdk.as_ref().ok_or(ProviderError::KmsNoRegion)
    }

    /// The EncryptionContext for `name`: `fnox:secret = NAME` for a value
    /// (left out with `bind_name = false`), `fnox:data-key = NAME` for an
    /// envelope's data key (a binding from
    /// [`crate::envelope::data_key_binding`]), plus the configured pairs.
    /// `None` when that leaves nothing.
    fn context_for(&self, name: &str) -> Option<HashMap<String, String>> {
        self.attempts(name).swap_remove(0).0
    }

    /// The contexts a value of `name` may have been made with, the current
    /// one first: bound (or, with `bind_name = false`, unbound), then the
    /// other, then none at all (a value of `aws kms encrypt`).
    fn attempts(&self, name: &str) -> Vec<Attempt> {
        let pairs: HashMap<String, String> = self.config.context.iter().cloned().collect();
        if let Some((id, provider)) = crate::file_key::binding_parts(name) {
            // A file's data key: always bound to its id and provider.
            let [id_key, provider_key] = KMS_FILE_KEY_CONTEXT_KEYS;
            let mut bound = pairs;
            bound.insert(id_key.into(), id.into());
            bound.insert(provider_key.into(), provider.into());
            return vec![(Some(bound), true)];
        }
        let data_key = crate::envelope::data_key_of(name);
        let mut bound = pairs.clone();
        match data_key {
            Some(secret) => bound.insert(DATA_KEY_CONTEXT_KEY.into(), secret.into()),
            None => bound.insert(NAME_CONTEXT_KEY.into(), name.into()),
        };
        let bound = (Some(bound), true);
        let unbound = ((!pairs.is_empty()).then_some(pairs), false);
        let none_too = unbound.0.is_some();
        let mut out = if self.config.bind_name || data_key.is_some() {
            vec![bound, unbound]
        } else {
            vec![unbound, bound]
        };
        if none_too {
            out.push((None, false));
        }
        out
    }

    fn error<E>(
        &self,
        sdk: &Sdk,
        action: &'static str,
        err: SdkError<E, aws_sdk_kms::config::http::HttpResponse>,
        typed: fn(&E) -> Option<KmsErrorKind>,
    ) -> ProviderError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        kms_error(action, &self.config.key_id, &sdk.endpoint, err, typed)
    }

    /// Decrypts `blob` of `name` under each context it may have been made
    /// with ([`AwsKmsProvider::attempts`]), until one is not refused as the
    /// wrong context; also says whether that context binds the name.
    async fn decrypt_blob(
        &self,
        name: &str,
        blob: &[u8],
    ) -> Result<(SecretBytes, bool), ProviderError> {
        let sdk = self.sdk().await?;
        let mut first = None;
        for (context, bound) in self.attempts(name) {
            let sent = sdk
                .client
                .decrypt()
                .ciphertext_blob(Blob::new(blob))
                .set_encryption_context(context)
                .send()
                .await;
            let err = match sent {
                Ok(out) => return plaintext("kms:Decrypt", out.plaintext).map(|p| (p, bound)),
                Err(e) => self.error(sdk, "kms:Decrypt", e, decrypt_kind),
            };
            let wrong_context =
                matches!(&err, ProviderError::Kms { kind: KmsErrorKind::InvalidCiphertext, .. });
            first.get_or_insert(err);
            if !wrong_context {
                break;
            }
        }
        Err(first
            .unwrap_or(ProviderError::EmptyAnswer { action: "kms:Decrypt", field: "Plaintext" }))
    }
}

impl AwsKmsProvider {
    /// `ReEncrypt` to the configured key under the current context, from
    /// each context the value may have been made with.
    async fn reencrypt(&self, name: &str, blob: &[u8]) -> Result<Rewrapped, ProviderError> {
        let attempts = self.attempts(name);
        let (target, target_bound) = attempts[0].clone();
        const ACTION: &str = "kms:ReEncryptFrom/kms:ReEncryptTo";
        let sdk = self.sdk().await?;
        let mut first = None;
        for (i, (source, bound)) in attempts.into_iter().enumerate() {
            let sent = sdk
                .client
                .re_encrypt()
                .ciphertext_blob(Blob::new(blob))
                .set_source_encryption_context(source)
                .destination_key_id(&self.config.key_id)
                .set_destination_encryption_context(target.clone())
                .send()
                .await;
            let out = match sent {
                Ok(out) => out,
                Err(e) => {
                    let err = self.error(sdk, ACTION, e, reencrypt_kind);
                    let wrong_context = matches!(
                        &err,
                        ProviderError::Kms { kind: KmsErrorKind::InvalidCiphertext, .. }
                    );
                    first.get_or_insert(err);
                    if wrong_context {
                        continue;
                    }
                    break;
                }
            };
            let same_key = out.source_key_id.is_some() && out.source_key_id == out.key_id;
            return Ok(Rewrapped {
                ciphertext: blob_field(ACTION, "CiphertextBlob", out.ciphertext_blob)?,
                unchanged: i == 0 && same_key,
                upgraded: target_bound && !bound,
            });
        }
        Err(first.unwrap_or(ProviderError::EmptyAnswer { action: ACTION, field: "CiphertextBlob" }))
    }
}

/// The `Plaintext` of a KMS answer; an answer without one is an error.
fn plaintext(action: &'static str, field: Option<Blob>) -> Result<SecretBytes, ProviderError> {
    blob_field(action, "Plaintext", field).map(SecretBytes::new)
}

/// A blob field of a KMS answer; an answer without it is an error, never
/// empty bytes.
fn blob_field(
    action: &'static str,
    field: &'static str,
    value: Option<Blob>,
) -> Result<Vec<u8>, ProviderError> {
    value.map(Blob::into_inner).ok_or(ProviderError::EmptyAnswer { action, field })
}

/// Maps an SDK error to a [`ProviderError::Kms`] by its type.
pub fn kms_error<E>(
    action: &'static str,
    key: &str,
    endpoint: &str,
    err: SdkError<E, aws_sdk_kms::config::http::HttpResponse>,
    typed: fn(&E) -> Option<KmsErrorKind>,
) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let kind = match &err {
        SdkError::ServiceError(se) => typed(se.err()).unwrap_or_else(|| match se.err().code() {
            Some("AccessDeniedException") => KmsErrorKind::AccessDenied,
            Some("ThrottlingException") => KmsErrorKind::Throttled,
            Some(
                "UnrecognizedClientException"
                | "InvalidSignatureException"
                | "ExpiredTokenException",
            ) => KmsErrorKind::BadCredentials,
            _ => KmsErrorKind::Other,
        }),
        SdkError::TimeoutError(_) => KmsErrorKind::Unreachable,
        SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => KmsErrorKind::Unreachable,
        other
            if crate::error_chain::has_cause::<
                aws_credential_types::provider::error::CredentialsError,
            >(other) =>
        {
            KmsErrorKind::NoCredentials
        }
        _ => KmsErrorKind::Other,
    };
    let detail = match &err {
        SdkError::ServiceError(se) => {
            let meta = se.err().meta();
            match (meta.code(), meta.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_string(),
                _ => crate::error_chain::root_cause(&err).to_string(),
            }
        }
        _ => crate::error_chain::root_cause(&err).to_string(),
    };
    ProviderError::Kms {
        action,
        key: key.to_string(),
        endpoint: endpoint.to_string(),
        kind,
        source: KmsDetail(detail).into(),
    }
}

/// What the SDK or KMS said, as one cause line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KmsDetail(String);

fn encrypt_kind(e: &EncryptError) -> Option<KmsErrorKind> {
    Some(match e {
        EncryptError::NotFoundException(_) => KmsErrorKind::NotFound,
        EncryptError::DisabledException(_) => KmsErrorKind::Disabled,
        EncryptError::KmsInvalidStateException(_) => KmsErrorKind::InvalidState,
        EncryptError::KeyUnavailableException(_)
        | EncryptError::KmsInternalException(_)
        | EncryptError::DependencyTimeoutException(_) => KmsErrorKind::Unavailable,
        _ => return None,
    })
}

fn decrypt_kind(e: &DecryptError) -> Option<KmsErrorKind> {
    Some(match e {
        DecryptError::NotFoundException(_) => KmsErrorKind::NotFound,
        DecryptError::DisabledException(_) => KmsErrorKind::Disabled,
        DecryptError::KmsInvalidStateException(_) => KmsErrorKind::InvalidState,
        DecryptError::IncorrectKeyException(_) => KmsErrorKind::IncorrectKey,
        DecryptError::InvalidCiphertextException(_) => KmsErrorKind::InvalidCiphertext,
        DecryptError::KeyUnavailableException(_)
        | DecryptError::KmsInternalException(_)
        | DecryptError::DependencyTimeoutException(_) => KmsErrorKind::Unavailable,
        _ => return None,
    })
}

fn reencrypt_kind(e: &ReEncryptError) -> Option<KmsErrorKind> {
    Some(match e {
        ReEncryptError::NotFoundException(_) => KmsErrorKind::NotFound,
        ReEncryptError::DisabledException(_) => KmsErrorKind::Disabled,
        ReEncryptError::KmsInvalidStateException(_) => KmsErrorKind::InvalidState,
        ReEncryptError::IncorrectKeyException(_) => KmsErrorKind::IncorrectKey,
        ReEncryptError::InvalidCiphertextException(_) => KmsErrorKind::InvalidCiphertext,
        ReEncryptError::KeyUnavailableException(_)
        | ReEncryptError::KmsInternalException(_)
        | ReEncryptError::DependencyTimeoutException(_) => KmsErrorKind::Unavailable,
        _ => return None,
    })
}

fn generate_kind(e: &GenerateDataKeyError) -> Option<KmsErrorKind> {
    Some(match e {
        GenerateDataKeyError::NotFoundException(_) => KmsErrorKind::NotFound,
        GenerateDataKeyError::DisabledException(_) => KmsErrorKind::Disabled,
        GenerateDataKeyError::KmsInvalidStateException(_) => KmsErrorKind::InvalidState,
        GenerateDataKeyError::KeyUnavailableException(_)
        | GenerateDataKeyError::KmsInternalException(_)
        | GenerateDataKeyError::DependencyTimeoutException(_) => KmsErrorKind::Unavailable,
        _ => return None,
    })
}

mod key;

#[async_trait]
impl Provider for AwsKmsProvider {
    /// The key's creation date, state and automatic rotation, for `doctor`.
    async fn describe(&self) -> Result<Option<String>, ProviderError> {
        key::describe(self).await.map(Some)
    }

    /// The configured key, dated by its newest key material.
    async fn key_dates(&self) -> Result<Option<Vec<KeyDate>>, ProviderError> {
        key::key_dates(self).await.map(Some)
    }

    async fn encrypt(&self, name: &str, plaintext: &SecretBytes) -> Result<Vec<u8>, ProviderError> {
        let sdk = self.sdk().await?;
        let out = sdk
            .client
            .encrypt()
            .key_id(&self.config.key_id)
            .plaintext(Blob::new(plaintext.expose()))
            .set_encryption_context(self.context_for(name))
            .send()
            .await
            .map_err(|e| self.error(sdk, "kms:Encrypt", e, encrypt_kind))?;
        blob_field("kms:Encrypt", "CiphertextBlob", out.ciphertext_blob)
    }

    /// A value that is not bound to its name (written by jdx/fnox or
    /// `aws kms encrypt`) is told in one notice per provider, unless the
    /// provider says `bind_name = false`.
    async fn decrypt(&self, name: &str, ciphertext: &[u8]) -> Result<SecretBytes, ProviderError> {
        let (plain, bound) = self.decrypt_blob(name, ciphertext).await?;
        if !bound
            && self.config.bind_name
            && !self.noted_unbound.swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            (self.ctx.notify)(Notice::UnboundKmsValue { secret: name.to_string() });
        }
        Ok(plain)
    }

    async fn is_bound(&self, name: &str, ciphertext: &[u8]) -> Option<bool> {
        self.decrypt_blob(name, ciphertext).await.ok().map(|(_, bound)| bound)
    }

    fn direct_limit(&self) -> Option<usize> {
        Some(DIRECT_LIMIT)
    }

    fn always_envelope(&self) -> bool {
        self.config.envelope
    }

    fn data_key(&self) -> bool {
        self.config.data_key
    }

    async fn rewrap(
        &self,
        name: &str,
        ciphertext: &[u8],
    ) -> Option<Result<Rewrapped, ProviderError>> {
        Some(self.reencrypt(name, ciphertext).await)
    }

    async fn new_data_key(&self, name: &str) -> Result<(SecretBytes, Vec<u8>), ProviderError> {
        let sdk = self.sdk().await?;
        let out = sdk
            .client
            .generate_data_key()
            .key_id(&self.config.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(self.context_for(&crate::envelope::data_key_binding(name)))
            .send()
            .await
            .map_err(|e| self.error(sdk, "kms:GenerateDataKey", e, generate_kind))?;
        let key = plaintext("kms:GenerateDataKey", out.plaintext)?;
        Ok((key, blob_field("kms:GenerateDataKey", "CiphertextBlob", out.ciphertext_blob)?))
    }
}

#[cfg(test)]
mod tests;
