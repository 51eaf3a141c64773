//! The `aws-kms` provider: values are KMS `CiphertextBlob`s made by
//! `Encrypt` with the EncryptionContext `{"fnox:secret": NAME}` plus the
//! provider's `context` pairs. Large values use the envelope format with a
//! data key from `GenerateDataKey` under the same context.
//!
//! `Decrypt` does not pin the configured `key_id` (KMS reads the key from
//! the blob), so values under a previous key keep working until `rotate`
//! moves them. A value written without context (by jdx/fnox, or by
//! `aws kms encrypt`) still decrypts, with a note that it is unbound.

use std::{collections::HashMap, sync::atomic::AtomicBool};

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
    provider::{Context, Provider, Rewrapped},
};
pub use crate::failure::KmsErrorKind;
use crate::notice::Notice;
use crate::{
    config::{AwsKmsConfig, KMS_DATA_KEY_CONTEXT_KEY, KMS_NAME_CONTEXT_KEY},
    secret::SecretBytes,
};

/// The EncryptionContext key that binds a value to its secret name.
pub const NAME_CONTEXT_KEY: &str = KMS_NAME_CONTEXT_KEY;
/// The EncryptionContext key that binds an envelope's data key to its
/// secret name instead.
pub const DATA_KEY_CONTEXT_KEY: &str = KMS_DATA_KEY_CONTEXT_KEY;
/// KMS `Encrypt` takes at most this many plaintext bytes.
pub const DIRECT_LIMIT: usize = 4096;

/// The `aws-kms` provider: one SDK client, shared by all its secrets.
#[derive(Debug)]
pub struct AwsKmsProvider {
    client: Client,
    key_id: String,
    endpoint: String,
    context: Vec<(String, String)>,
    envelope: bool,
    ctx: Context,
    noted_unbound: AtomicBool,
}

/// An HTTPS client with one TLS stack (rustls + ring).
fn http_client() -> aws_sdk_kms::config::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
        .build_https()
}

impl AwsKmsProvider {
    /// Builds the SDK client from the standard AWS chain plus the
    /// provider's `region`, `profile` and `endpoint`.
    pub(super) async fn new(ctx: &Context, config: &AwsKmsConfig) -> Result<Self, ProviderError> {
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
        if sdk.region().is_none() {
            return Err(ProviderError::KmsNoRegion);
        }
        let mut provider = Self::with_client(ctx, config, Client::new(&sdk));
        provider.endpoint = match (&config.endpoint, ctx.env.var("AWS_ENDPOINT_URL_KMS")) {
            (Some(e), _) => e.clone(),
            (None, Some(e)) => e.to_string(),
            _ => format!("of region {}", sdk.region().map(|r| r.as_ref()).unwrap_or("?")),
        };
        Ok(provider)
    }

    /// A provider around a ready client (tests use a mocked one).
    pub fn with_client(ctx: &Context, config: &AwsKmsConfig, client: Client) -> Self {
        Self {
            client,
            key_id: config.key_id.clone(),
            endpoint: config.endpoint.clone().unwrap_or_default(),
            context: config.context.clone(),
            envelope: config.envelope,
            ctx: ctx.clone(),
            noted_unbound: AtomicBool::new(false),
        }
    }

    /// The EncryptionContext for `name`: `fnox:secret = NAME` for a value,
    /// `fnox:data-key = NAME` for an envelope's data key (a binding from
    /// [`crate::envelope::data_key_binding`]), plus the configured pairs.
    fn context_for(&self, name: &str) -> HashMap<String, String> {
        let mut ctx: HashMap<String, String> = self.context.iter().cloned().collect();
        match crate::envelope::data_key_of(name) {
            Some(secret) => ctx.insert(DATA_KEY_CONTEXT_KEY.into(), secret.into()),
            None => ctx.insert(NAME_CONTEXT_KEY.into(), name.into()),
        };
        ctx
    }

    fn error<E>(
        &self,
        action: &'static str,
        err: SdkError<E, aws_sdk_kms::config::http::HttpResponse>,
        typed: fn(&E) -> Option<KmsErrorKind>,
    ) -> ProviderError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        kms_error(action, &self.key_id, &self.endpoint, err, typed)
    }

    async fn decrypt_blob(&self, name: &str, blob: &[u8]) -> Result<SecretBytes, ProviderError> {
        let bound = self
            .client
            .decrypt()
            .ciphertext_blob(Blob::new(blob))
            .set_encryption_context(Some(self.context_for(name)))
            .send()
            .await;
        let err = match bound {
            Ok(out) => return plaintext("kms:Decrypt", out.plaintext),
            Err(e) => self.error("kms:Decrypt", e, decrypt_kind),
        };
        if !matches!(&err, ProviderError::Kms { kind: KmsErrorKind::InvalidCiphertext, .. }) {
            return Err(err);
        }
        // A legacy value made without any EncryptionContext?
        let legacy = self.client.decrypt().ciphertext_blob(Blob::new(blob)).send().await;
        match legacy {
            Ok(out) => {
                if !self.noted_unbound.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    (self.ctx.notify)(Notice::UnboundKmsValue { secret: name.to_string() });
                }
                plaintext("kms:Decrypt", out.plaintext)
            }
            Err(_) => Err(err),
        }
    }
}

impl AwsKmsProvider {
    /// `ReEncrypt` to the configured key with the name-bound context; a
    /// legacy value without context is re-encrypted from no context.
    async fn reencrypt(&self, name: &str, blob: &[u8]) -> Result<Rewrapped, ProviderError> {
        let ctx = self.context_for(name);
        let call = |source: Option<HashMap<String, String>>| {
            self.client
                .re_encrypt()
                .ciphertext_blob(Blob::new(blob))
                .set_source_encryption_context(source)
                .destination_key_id(&self.key_id)
                .set_destination_encryption_context(Some(ctx.clone()))
                .send()
        };
        const ACTION: &str = "kms:ReEncryptFrom/kms:ReEncryptTo";
        let (out, upgraded) = match call(Some(ctx.clone())).await {
            Ok(out) => (out, false),
            Err(e) => {
                let err = self.error(ACTION, e, reencrypt_kind);
                if !matches!(&err, ProviderError::Kms { kind: KmsErrorKind::InvalidCiphertext, .. })
                {
                    return Err(err);
                }
                match call(None).await {
                    Ok(out) => (out, true),
                    Err(_) => return Err(err),
                }
            }
        };
        let unchanged = !upgraded && out.source_key_id.is_some() && out.source_key_id == out.key_id;
        Ok(Rewrapped {
            ciphertext: blob_field(ACTION, "CiphertextBlob", out.ciphertext_blob)?,
            unchanged,
            upgraded,
        })
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

#[async_trait]
impl Provider for AwsKmsProvider {
    async fn encrypt(&self, name: &str, plaintext: &SecretBytes) -> Result<Vec<u8>, ProviderError> {
        let out = self
            .client
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(plaintext.expose()))
            .set_encryption_context(Some(self.context_for(name)))
            .send()
            .await
            .map_err(|e| self.error("kms:Encrypt", e, encrypt_kind))?;
        blob_field("kms:Encrypt", "CiphertextBlob", out.ciphertext_blob)
    }

    async fn decrypt(&self, name: &str, ciphertext: &[u8]) -> Result<SecretBytes, ProviderError> {
        self.decrypt_blob(name, ciphertext).await
    }

    fn direct_limit(&self) -> Option<usize> {
        Some(DIRECT_LIMIT)
    }

    fn always_envelope(&self) -> bool {
        self.envelope
    }

    async fn rewrap(
        &self,
        name: &str,
        ciphertext: &[u8],
    ) -> Option<Result<Rewrapped, ProviderError>> {
        Some(self.reencrypt(name, ciphertext).await)
    }

    async fn new_data_key(&self, name: &str) -> Result<(SecretBytes, Vec<u8>), ProviderError> {
        let out = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(
                self.context_for(&crate::envelope::data_key_binding(name)),
            ))
            .send()
            .await
            .map_err(|e| self.error("kms:GenerateDataKey", e, generate_kind))?;
        let key = plaintext("kms:GenerateDataKey", out.plaintext)?;
        Ok((key, blob_field("kms:GenerateDataKey", "CiphertextBlob", out.ciphertext_blob)?))
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_kms::{
        operation::decrypt::{DecryptError, DecryptOutput},
        types::error::{
            DisabledException, IncorrectKeyException, InvalidCiphertextException,
            KmsInvalidStateException, NotFoundException,
        },
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    type Notes = std::sync::Arc<std::sync::Mutex<Vec<Notice>>>;

    fn provider_with_notes(client: Client) -> (AwsKmsProvider, Notes) {
        let (ctx, notes) = Context::for_tests();
        let config = AwsKmsConfig { key_id: "alias/app".into(), ..AwsKmsConfig::default() };
        (AwsKmsProvider::with_client(&ctx, &config, client), notes)
    }

    fn provider(client: Client) -> AwsKmsProvider {
        provider_with_notes(client).0
    }

    #[tokio::test]
    async fn an_answer_without_plaintext_is_an_error_not_empty_bytes() {
        let rule = mock!(Client::decrypt).then_output(|| DecryptOutput::builder().build());
        let p = provider(mock_client!(aws_sdk_kms, [&rule]));
        let err = p.decrypt("A", b"blob").await.unwrap_err();
        assert!(matches!(
            err,
            ProviderError::EmptyAnswer { action: "kms:Decrypt", field: "Plaintext" }
        ));
        assert_eq!(err.to_string(), "the key service's answer to kms:Decrypt has no Plaintext");
    }

    async fn decrypt_fails_with(err: fn() -> DecryptError) -> (KmsErrorKind, String) {
        let rule = mock!(Client::decrypt).then_error(err);
        let client = mock_client!(aws_sdk_kms, RuleMode::MatchAny, [&rule]);
        match provider(client).decrypt("A", b"blob").await {
            Err(e @ ProviderError::Kms { kind, .. }) => (kind, e.to_string()),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn typed_errors_map_to_their_own_messages() {
        type Case = (fn() -> DecryptError, KmsErrorKind, &'static str);
        let cases: Vec<Case> = vec![
            (
                || DecryptError::DisabledException(DisabledException::builder().build()),
                KmsErrorKind::Disabled,
                "KMS key `alias/app` is disabled",
            ),
            (
                || {
                    DecryptError::KmsInvalidStateException(
                        KmsInvalidStateException::builder().build(),
                    )
                },
                KmsErrorKind::InvalidState,
                "KMS key `alias/app` is not usable in its current state (e.g. pending deletion)",
            ),
            (
                || DecryptError::IncorrectKeyException(IncorrectKeyException::builder().build()),
                KmsErrorKind::IncorrectKey,
                "the value was encrypted under a different KMS key",
            ),
            (
                || DecryptError::NotFoundException(NotFoundException::builder().build()),
                KmsErrorKind::NotFound,
                "KMS key `alias/app` was not found",
            ),
            (
                || {
                    DecryptError::generic(
                        aws_sdk_kms::error::ErrorMetadata::builder()
                            .code("AccessDeniedException")
                            .message("User: x is not authorized")
                            .build(),
                    )
                },
                KmsErrorKind::AccessDenied,
                "access denied: the caller may not call kms:Decrypt on key `alias/app`",
            ),
            (
                || {
                    DecryptError::generic(
                        aws_sdk_kms::error::ErrorMetadata::builder()
                            .code("ThrottlingException")
                            .message("Rate exceeded")
                            .build(),
                    )
                },
                KmsErrorKind::Throttled,
                "KMS throttled kms:Decrypt, even after retries",
            ),
        ];
        for (err, kind, message) in cases {
            assert_eq!(decrypt_fails_with(err).await, (kind, message.to_string()));
        }
    }

    #[tokio::test]
    async fn legacy_value_without_context_decrypts_with_one_note() {
        let bound = mock!(Client::decrypt)
            .match_requests(|r| r.encryption_context().is_some())
            .then_error(|| {
                DecryptError::InvalidCiphertextException(
                    InvalidCiphertextException::builder().build(),
                )
            });
        let legacy = mock!(Client::decrypt)
            .match_requests(|r| r.encryption_context().is_none())
            .then_output(|| DecryptOutput::builder().plaintext(Blob::new("old")).build());
        let client = mock_client!(aws_sdk_kms, RuleMode::MatchAny, [&bound, &legacy]);
        let (p, notes) = provider_with_notes(client);
        assert_eq!(p.decrypt("A", b"blob").await.unwrap().expose(), b"old");
        assert_eq!(p.decrypt("B", b"blob").await.unwrap().expose(), b"old");
        assert_eq!(*notes.lock().unwrap(), vec![Notice::UnboundKmsValue { secret: "A".into() }]);
    }

    #[tokio::test]
    async fn wrong_context_and_no_legacy_is_tampered() {
        let (kind, msg) = decrypt_fails_with(|| {
            DecryptError::InvalidCiphertextException(InvalidCiphertextException::builder().build())
        })
        .await;
        assert_eq!(kind, KmsErrorKind::InvalidCiphertext);
        assert_eq!(
            msg,
            "KMS rejected the value: wrong context (it belongs to another secret name) or tampered"
        );
    }
}
