//! The typed settings of each provider type (`[providers.NAME]` tables),
//! read with locations. Part of the config model: the providers that act
//! on them live in `crate::providers`.

use super::{ConfigError, Fields, MaxKeyAge, jdx::UnsupportedConfig};

/// The EncryptionContext key that binds an `aws-kms` value to its secret name.
pub const KMS_NAME_CONTEXT_KEY: &str = "fnox:secret";
/// The EncryptionContext key that binds an envelope's data key to its
/// secret name (apart from the secret's direct values).
pub const KMS_DATA_KEY_CONTEXT_KEY: &str = "fnox:data-key";
/// The EncryptionContext keys that bind a file's data key (`data_key =
/// true`) to its id and its provider's name.
pub const KMS_FILE_KEY_CONTEXT_KEYS: [&str; 2] = ["fnox:data-key-id", "fnox:provider"];

/// The `type = ...` values fnox knows, with the cargo feature that builds
/// each (`None`: always built).
pub const TYPES: &[(&str, Option<&str>)] = &[
    ("local", None),
    ("age", None),
    ("plain", None),
    ("aws-kms", Some("aws-kms")),
    ("vault-transit", Some("vault-transit")),
];

/// The `type = ...` values this build can use.
pub const KNOWN_TYPES: &[&str] = &[
    "local",
    "age",
    "plain",
    #[cfg(feature = "aws-kms")]
    "aws-kms",
    #[cfg(feature = "vault-transit")]
    "vault-transit",
];

/// Typed provider settings, tagged by `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderConfig {
    /// `type = "local"`.
    Local(LocalConfig),
    /// `type = "age"`.
    Age(AgeConfig),
    /// `type = "aws-kms"`.
    #[cfg(feature = "aws-kms")]
    AwsKms(AwsKmsConfig),
    /// `type = "vault-transit"`.
    #[cfg(feature = "vault-transit")]
    VaultTransit(VaultTransitConfig),
    /// `type = "plain"`: the value as written, not encrypted.
    Plain(PlainConfig),
    /// A jdx/fnox type that fnox does not implement.
    Unsupported(UnsupportedConfig),
}

impl ProviderConfig {
    /// Reads a `[providers.NAME]` table.
    pub(crate) fn parse(name: &str, f: &Fields<'_>) -> Result<Self, ConfigError> {
        let kind = f.required_str("type")?;
        match kind.as_str() {
            "local" => LocalConfig::parse(f).map(Self::Local),
            "age" => AgeConfig::parse(f).map(Self::Age),
            #[cfg(feature = "aws-kms")]
            "aws-kms" => AwsKmsConfig::parse(f).map(Self::AwsKms),
            #[cfg(feature = "vault-transit")]
            "vault-transit" => VaultTransitConfig::parse(f).map(Self::VaultTransit),
            "plain" => PlainConfig::parse(f).map(Self::Plain),
            other => match UnsupportedConfig::parse(other, f) {
                Some(parsed) => parsed.map(Self::Unsupported),
                None => Err(Self::unknown_type(name, f, kind)),
            },
        }
    }

    fn unknown_type(name: &str, f: &Fields<'_>, kind: String) -> ConfigError {
        match TYPES.iter().find(|(t, _)| *t == kind) {
            Some((_, Some(feature))) => ConfigError::FeatureDisabled {
                at: f.key_at("type"),
                provider: name.to_string(),
                kind,
                feature,
            },
            _ => {
                let jdx = super::UNSUPPORTED_TYPES.iter().map(|(t, _)| *t);
                let near = crate::suggest::nearest(&kind, TYPES.iter().map(|(t, _)| *t).chain(jdx));
                ConfigError::UnknownProviderType {
                    at: f.key_at("type"),
                    provider: name.to_string(),
                    kind,
                    near,
                }
            }
        }
    }

    /// The `type` string.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Local(_) => "local",
            Self::Age(_) => "age",
            #[cfg(feature = "aws-kms")]
            Self::AwsKms(_) => "aws-kms",
            #[cfg(feature = "vault-transit")]
            Self::VaultTransit(_) => "vault-transit",
            Self::Plain(_) => "plain",
            Self::Unsupported(c) => c.kind,
        }
    }
}

/// `[providers.NAME] type = "local"` settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LocalConfig {
    /// Keyring path (default `$FNOX_CONFIG_DIR/local.key`).
    pub key_file: Option<String>,
    /// Always use the envelope format.
    pub envelope: bool,
    /// `key_store = "keychain"`: the keyring is kept in the OS keychain
    /// (an item named after `key_file`'s path), not in that file.
    pub keychain: bool,
    /// `max_key_age`: values under an older key should be rotated.
    pub max_key_age: Option<MaxKeyAge>,
}

impl LocalConfig {
    pub(crate) fn parse(f: &Fields<'_>) -> Result<Self, ConfigError> {
        f.only(&["type", "key_file", "envelope", "key_store", "max_key_age"])?;
        let keychain = match f.str("key_store")?.as_deref() {
            None | Some("file") => false,
            Some("keychain") => true,
            Some(_) => return Err(f.invalid("key_store", "\"file\" or \"keychain\"")),
        };
        Ok(Self {
            key_file: f.str("key_file")?,
            envelope: f.bool("envelope")?.unwrap_or(false),
            keychain,
            max_key_age: f.max_key_age("max_key_age")?,
        })
    }
}

/// `[providers.NAME] type = "age"` settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AgeConfig {
    /// Public recipients: `age1...`, `ssh-ed25519 ...`, `ssh-rsa ...`.
    pub recipients: Vec<String>,
    /// Identity file (default `$FNOX_CONFIG_DIR/age.txt`).
    pub key_file: Option<String>,
    /// The identity itself, held by another provider (jdx/fnox's
    /// `identity = { provider = "...", value = "..." }`).
    pub identity: Option<IdentityRef>,
    /// Always use the envelope format.
    pub envelope: bool,
}

/// An age identity held by another provider: what that provider stores
/// for it.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityRef {
    /// The provider that holds it.
    pub provider: String,
    /// Its stored value (ciphertext, or the text itself for `plain`).
    pub value: String,
}

impl AgeConfig {
    pub(crate) fn parse(f: &Fields<'_>) -> Result<Self, ConfigError> {
        f.only(&["type", "recipients", "key_file", "identity", "envelope"])?;
        let identity = match f.sub_table("identity")? {
            None => None,
            Some((table, at)) => {
                let entry = format!("the `identity` of {}", f.entry);
                let id = Fields::new(table, entry, at, f.lines());
                id.only(&["provider", "value"])?;
                Some(IdentityRef {
                    provider: id.required_str("provider")?,
                    value: id.required_str("value")?,
                })
            }
        };
        Ok(Self {
            recipients: f.str_list("recipients")?.unwrap_or_default(),
            key_file: f.str("key_file")?,
            identity,
            envelope: f.bool("envelope")?.unwrap_or(false),
        })
    }
}

/// The formats jdx/fnox's `plain` provider reads a `file` in.
const PLAIN_FORMATS: &[&str] = &["env", "shell", "json", "yaml", "toml"];

/// `[providers.NAME] type = "plain"` settings: the secret's `value` is the
/// value, as written. jdx/fnox's `file` and `format` (look the value up in
/// a plaintext file) load, and the provider then refuses to be used.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlainConfig {
    /// A plaintext file to read values from (not supported).
    pub file: Option<String>,
}

impl PlainConfig {
    pub(crate) fn parse(f: &Fields<'_>) -> Result<Self, ConfigError> {
        f.only(&["type", "file", "format"])?;
        let file = f.str("file")?;
        match f.str("format")? {
            Some(format) if !PLAIN_FORMATS.contains(&format.as_str()) => {
                Err(ConfigError::Invalid {
                    at: f.key_at("format"),
                    entry: f.entry.clone(),
                    key: "format".into(),
                    expected: "one of \"env\", \"shell\", \"json\", \"yaml\", \"toml\"",
                })
            }
            None if file.is_some() => Err(ConfigError::Missing {
                at: f.at.clone(),
                entry: f.entry.clone(),
                key: "format",
            }),
            _ => Ok(Self { file }),
        }
    }
}

/// `[providers.NAME] type = "aws-kms"` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsKmsConfig {
    /// Key ARN, key id or `alias/...`.
    pub key_id: String,
    /// AWS region (else the standard chain: `AWS_REGION`, profile).
    pub region: Option<String>,
    /// A KMS-compatible endpoint URL.
    pub endpoint: Option<String>,
    /// An AWS shared-config profile.
    pub profile: Option<String>,
    /// Extra EncryptionContext pairs.
    pub context: Vec<(String, String)>,
    /// Bind each value to its secret name (`fnox:secret` in the
    /// EncryptionContext). `bind_name = false` writes values that jdx/fnox
    /// and `aws kms decrypt` without context can read.
    pub bind_name: bool,
    /// Always use the envelope format.
    pub envelope: bool,
    /// `data_key = true`: one data key per file, wrapped once; values are
    /// AES-256-GCM under it (see [`crate::file_key`]).
    pub data_key: bool,
    /// `max_key_age`: the key's newest material should be younger.
    pub max_key_age: Option<MaxKeyAge>,
}

impl Default for AwsKmsConfig {
    fn default() -> Self {
        Self {
            key_id: String::new(),
            region: None,
            endpoint: None,
            profile: None,
            context: Vec::new(),
            bind_name: true,
            envelope: false,
            data_key: false,
            max_key_age: None,
        }
    }
}

#[cfg(feature = "aws-kms")]
impl AwsKmsConfig {
    pub(crate) fn parse(f: &Fields<'_>) -> Result<Self, ConfigError> {
        f.only(&[
            "type",
            "key_id",
            "region",
            "endpoint",
            "profile",
            "context",
            "bind_name",
            "envelope",
            "data_key",
            "max_key_age",
        ])?;
        let context = f.str_map("context")?.unwrap_or_default();
        let reserved = |k: &str| {
            k == KMS_NAME_CONTEXT_KEY
                || k == KMS_DATA_KEY_CONTEXT_KEY
                || KMS_FILE_KEY_CONTEXT_KEYS.contains(&k)
        };
        if context.iter().any(|(k, _)| reserved(k)) {
            return Err(ConfigError::Invalid {
                at: f.key_at("context"),
                entry: f.entry.clone(),
                key: "context".into(),
                expected: "free of the reserved keys \"fnox:secret\", \"fnox:data-key\", \"fnox:data-key-id\" and \"fnox:provider\"",
            });
        }
        Ok(Self {
            key_id: f.required_str("key_id")?,
            region: f.str("region")?,
            endpoint: f.str("endpoint")?,
            profile: f.str("profile")?,
            context,
            bind_name: f.bool("bind_name")?.unwrap_or(true),
            envelope: f.bool("envelope")?.unwrap_or(false),
            data_key: f.bool("data_key")?.unwrap_or(false),
            max_key_age: f.max_key_age("max_key_age")?,
        })
    }
}

/// `[providers.NAME] type = "vault-transit"` settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VaultTransitConfig {
    /// Server address (else `VAULT_ADDR`, `BAO_ADDR`).
    pub address: Option<String>,
    /// Where the transit engine is mounted (default `transit`).
    pub mount: String,
    /// The transit key's name.
    pub key: String,
    /// Vault Enterprise / OpenBao namespace (`X-Vault-Namespace`).
    pub namespace: Option<String>,
    /// PEM file of the CA certificates to trust (else `VAULT_CACERT`,
    /// `BAO_CACERT`, else the system's roots).
    pub ca_cert: Option<String>,
    /// Always use the envelope format.
    pub envelope: bool,
    /// `data_key = true`: one data key per file, wrapped once; values are
    /// AES-256-GCM under it (see [`crate::file_key`]).
    pub data_key: bool,
}

#[cfg(feature = "vault-transit")]
impl VaultTransitConfig {
    pub(crate) fn parse(f: &Fields<'_>) -> Result<Self, ConfigError> {
        f.only(&[
            "type",
            "address",
            "mount",
            "key",
            "namespace",
            "ca_cert",
            "envelope",
            "data_key",
        ])?;
        Ok(Self {
            address: f.str("address")?,
            mount: f.str("mount")?.unwrap_or_else(|| "transit".into()),
            key: f.required_str("key")?,
            namespace: f.str("namespace")?,
            ca_cert: f.str("ca_cert")?,
            envelope: f.bool("envelope")?.unwrap_or(false),
            data_key: f.bool("data_key")?.unwrap_or(false),
        })
    }
}
