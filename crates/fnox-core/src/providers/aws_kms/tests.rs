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

fn with_config(config: AwsKmsConfig, client: Client) -> (AwsKmsProvider, Notes) {
    let (ctx, notes) = Context::for_tests();
    (AwsKmsProvider::with_client(&ctx, &config, client), notes)
}

fn unbound_config(context: &[(&str, &str)]) -> AwsKmsConfig {
    AwsKmsConfig {
        key_id: "alias/app".into(),
        bind_name: false,
        context: context.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..AwsKmsConfig::default()
    }
}

#[test]
fn the_contexts_tried_put_the_current_one_first() {
    let map = |pairs: &[(&str, &str)]| -> Option<HashMap<String, String>> {
        Some(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    };
    let client = || mock_client!(aws_sdk_kms, []);
    let bound = provider(client());
    assert_eq!(bound.attempts("A"), [(map(&[("fnox:secret", "A")]), true), (None, false)]);
    let (unbound, _) = with_config(unbound_config(&[]), client());
    assert_eq!(unbound.attempts("A"), [(None, false), (map(&[("fnox:secret", "A")]), true)]);
    let (with_pairs, _) = with_config(unbound_config(&[("app", "x")]), client());
    assert_eq!(
        with_pairs.attempts("A"),
        [
            (map(&[("app", "x")]), false),
            (map(&[("app", "x"), ("fnox:secret", "A")]), true),
            (None, false)
        ]
    );
    // An envelope's data key stays bound, whatever `bind_name` says.
    let binding = crate::envelope::data_key_binding("A");
    assert_eq!(unbound.attempts(&binding)[0], (map(&[("fnox:data-key", "A")]), true));
}

#[tokio::test]
async fn with_bind_name_false_a_value_is_encrypted_without_context_and_read_without_a_note() {
    use aws_sdk_kms::operation::encrypt::EncryptOutput;
    let encrypt = mock!(Client::encrypt)
        .match_requests(|r| r.encryption_context().is_none())
        .then_output(|| EncryptOutput::builder().ciphertext_blob(Blob::new("blob")).build());
    let decrypt = mock!(Client::decrypt)
        .match_requests(|r| r.encryption_context().is_none())
        .then_output(|| DecryptOutput::builder().plaintext(Blob::new("plain")).build());
    let client = mock_client!(aws_sdk_kms, RuleMode::MatchAny, [&encrypt, &decrypt]);
    let (p, notes) = with_config(unbound_config(&[]), client);
    let secret = SecretBytes::from_slice(b"plain");
    assert_eq!(p.encrypt("A", &secret).await.unwrap(), b"blob");
    assert_eq!(p.decrypt("A", b"blob").await.unwrap().expose(), b"plain");
    assert_eq!(p.is_bound("A", b"blob").await, Some(false));
    assert!(notes.lock().unwrap().is_empty());
}
