//! What `doctor` says about an aws-kms provider's key: when its key
//! material was created and whether KMS rotates it (`DescribeKey`,
//! `GetKeyRotationStatus`), and how old its newest key material is
//! (`ListKeyRotations`), for `max_key_age`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_kms::{
    operation::list_key_rotations::ListKeyRotationsError,
    primitives::{DateTime, DateTimeFormat},
    types::KeyMetadata,
};

use super::{AwsKmsProvider, kms_error};
use crate::providers::{KeyDate, ProviderError};

/// The configured key's `KeyMetadata` (`DescribeKey`).
async fn metadata(p: &AwsKmsProvider) -> Result<KeyMetadata, ProviderError> {
    let sdk = p.sdk().await?;
    let out =
        sdk.client.describe_key().key_id(&p.config.key_id).send().await.map_err(|e| {
            kms_error("kms:DescribeKey", &p.config.key_id, &sdk.endpoint, e, |_| None)
        })?;
    let meta = out.key_metadata.ok_or_else(|| ProviderError::Kms {
        action: "kms:DescribeKey",
        key: p.config.key_id.clone(),
        endpoint: sdk.endpoint.clone(),
        kind: crate::failure::KmsErrorKind::Other,
        source: "the answer has no KeyMetadata".into(),
    })?;
    Ok(meta)
}

fn system_time(d: &DateTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(d.secs()).unwrap_or(0))
}

/// The configured key, dated by its newest key material: the latest
/// `RotationDate` that `ListKeyRotations` reports, else its
/// `CreationDate` (a key KMS cannot rotate has only that).
pub(super) async fn key_dates(p: &AwsKmsProvider) -> Result<Vec<KeyDate>, ProviderError> {
    let meta = metadata(p).await?;
    let sdk = p.sdk().await?;
    let mut newest = meta.creation_date.as_ref().map(system_time);
    let mut marker = None;
    loop {
        let sent =
            sdk.client.list_key_rotations().key_id(&meta.key_id).set_marker(marker).send().await;
        let out = match sent {
            Ok(out) => out,
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(ListKeyRotationsError::UnsupportedOperationException(_))
                ) =>
            {
                break;
            }
            Err(e) => {
                return Err(kms_error(
                    "kms:ListKeyRotations",
                    &p.config.key_id,
                    &sdk.endpoint,
                    e,
                    |_| None,
                ));
            }
        };
        let rotated = out.rotations().iter().filter_map(|r| r.rotation_date()).map(system_time);
        newest = newest.into_iter().chain(rotated).max();
        marker = out.next_marker.filter(|_| out.truncated);
        if marker.is_none() {
            break;
        }
    }
    Ok(vec![KeyDate { id: meta.key_id, created: newest, current: true }])
}

/// `KMS key ID (ARN): created DATE, STATE; automatic rotation on (every N
/// days, next DATE) | off`.
pub(super) async fn describe(p: &AwsKmsProvider) -> Result<String, ProviderError> {
    let meta = metadata(p).await?;
    let created = meta.creation_date.and_then(|d| d.fmt(DateTimeFormat::DateTime).ok());
    let created = created.as_deref().map_or("at an unknown date", |d| d.get(..10).unwrap_or(d));
    let state =
        meta.key_state.map_or_else(|| "state unknown".into(), |s| s.as_str().to_lowercase());
    let arn = meta.arn.unwrap_or_default();
    let sdk = p.sdk().await?;
    let rotation =
        sdk.client.get_key_rotation_status().key_id(&meta.key_id).send().await.map_err(|e| {
            kms_error("kms:GetKeyRotationStatus", &p.config.key_id, &sdk.endpoint, e, |_| None)
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
