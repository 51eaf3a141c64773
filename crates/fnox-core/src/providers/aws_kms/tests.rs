//! Unit tests of the `aws-kms` provider against a mocked KMS client.
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
            || DecryptError::KmsInvalidStateException(KmsInvalidStateException::builder().build()),
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
            DecryptError::InvalidCiphertextException(InvalidCiphertextException::builder().build())
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
