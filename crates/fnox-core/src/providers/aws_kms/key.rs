//! What `doctor` says about an aws-kms provider's key: when its key
//! material was created and whether KMS rotates it (`DescribeKey`,
//! `GetKeyRotationStatus`).

use aws_sdk_kms::primitives::DateTimeFormat;

use super::{AwsKmsProvider, kms_error};
use crate::providers::ProviderError;

/// `KMS key ID (ARN): created DATE, STATE; automatic rotation on (every N
/// days, next DATE) | off`.
pub(super) async fn describe(p: &AwsKmsProvider) -> Result<String, ProviderError> {
    let out = p
        .client
        .describe_key()
        .key_id(&p.key_id)
        .send()
        .await
        .map_err(|e| kms_error("kms:DescribeKey", &p.key_id, &p.endpoint, e, |_| None))?;
    let meta = out.key_metadata.ok_or_else(|| ProviderError::Kms {
        action: "kms:DescribeKey",
        key: p.key_id.clone(),
        endpoint: p.endpoint.clone(),
        kind: crate::failure::KmsErrorKind::Other,
        source: "the answer has no KeyMetadata".into(),
    })?;
    let created = meta.creation_date.and_then(|d| d.fmt(DateTimeFormat::DateTime).ok());
    let created = created.as_deref().map_or("at an unknown date", |d| d.get(..10).unwrap_or(d));
    let state =
        meta.key_state.map_or_else(|| "state unknown".into(), |s| s.as_str().to_lowercase());
    let arn = meta.arn.unwrap_or_default();
    let rotation =
        p.client.get_key_rotation_status().key_id(&meta.key_id).send().await.map_err(|e| {
            kms_error("kms:GetKeyRotationStatus", &p.key_id, &p.endpoint, e, |_| None)
        })?;
    let rotation = if rotation.key_rotation_enabled {
        let every = rotation.rotation_period_in_days.map(|d| format!("every {d} days"));
        let next = rotation
            .next_rotation_date
            .and_then(|d| d.fmt(DateTimeFormat::DateTime).ok())
            .map(|d| format!("next {}", d.get(..10).unwrap_or(&d)));
        let details: Vec<String> = every.into_iter().chain(next).collect();
        if details.is_empty() { "on".to_string() } else { format!("on ({})", details.join(", ")) }
    } else {
        "off".to_string()
    };
    Ok(format!(
        "KMS key {} ({arn}): created {created}, {state}; automatic rotation {rotation}",
        meta.key_id
    ))
}
