//! The `age` provider: the stored value is the binary age v1 file, exactly
//! as the `age` CLI writes it, so `base64 -d | age -d -i key.txt` reads it.
//! age has no associated data, so the secret name is not bound.
//!
//! Identities, in jdx/fnox's order: `FNOX_AGE_KEY` (the key itself), else
//! the provider's `identity` (held by another provider), else its
//! `key_file` (when it exists), else `FNOX_AGE_KEY_FILE`, else
//! `$FNOX_CONFIG_DIR/age.txt`. X25519 identity files and unencrypted SSH
//! (ed25519, rsa) private keys work, and so do age plugins' recipients and
//! identities (see [`super::age_plugin`]).

use std::{
    io::{BufReader, Read, Write},
    path::{Path, PathBuf},
    str::FromStr,
    sync::Arc,
};

use age::{Identity, Recipient};
use async_trait::async_trait;
use zeroize::Zeroizing;

use super::{
    age_plugin::{PluginCallbacks, Recipients, has_plugin_identity},
    error::ProviderError,
    provider::{Context, Provider},
    registry::RegistryRef,
};
use crate::{
    config::{AgeConfig, IdentityRef},
    secret::SecretBytes,
};

/// The identities of a provider.
pub struct Identities {
    list: Vec<Box<dyn Identity + Send + Sync>>,
    /// Some are age plugins' (which may ask the user something).
    plugins: bool,
    callbacks: PluginCallbacks,
}

impl std::fmt::Debug for Identities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identities").field("count", &self.list.len()).finish()
    }
}

/// The secret name an age identity held by another provider is stored
/// under: its `value` is what that provider stores for a secret of this
/// name (`fnox set FNOX_AGE_IDENTITY --provider P` makes one).
pub const IDENTITY_NAME: &str = "FNOX_AGE_IDENTITY";

/// The `age` provider.
pub struct AgeProvider {
    envelope: bool,
    recipients: Recipients,
    identity_source: IdentitySource,
    identities: tokio::sync::OnceCell<Arc<Identities>>,
    notify: crate::notice::Notify,
    callbacks: PluginCallbacks,
    /// Keeps a passphrase-encrypted identity file unlocked for the session.
    agent: Arc<crate::agent::Link>,
}

impl std::fmt::Debug for AgeProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgeProvider")
            .field("recipients", &self.recipients.native.len())
            .field("identity_source", &self.identity_source)
            .finish()
    }
}

#[derive(Clone)]
enum IdentitySource {
    Env(Zeroizing<String>),
    /// Held by another provider of the same config.
    Provider(IdentityRef, RegistryRef),
    File(PathBuf),
    Missing {
        key_file: Option<PathBuf>,
        default: PathBuf,
    },
}

impl std::fmt::Debug for IdentitySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Env(_) => f.write_str("Env"),
            Self::Provider(id, _) => f.debug_tuple("Provider").field(&id.provider).finish(),
            Self::File(p) => f.debug_tuple("File").field(p).finish(),
            Self::Missing { key_file, default } => f
                .debug_struct("Missing")
                .field("key_file", key_file)
                .field("default", default)
                .finish(),
        }
    }
}

/// Parses one native recipient string (X25519 or SSH; plugin recipients
/// are parsed by [`super::age_plugin`]).
pub fn parse_recipient(r: &str) -> Result<Box<dyn Recipient + Send + Sync>, ProviderError> {
    let bad = || ProviderError::BadRecipient { recipient: r.to_string() };
    let r = r.trim();
    if r.starts_with("age1") {
        age::x25519::Recipient::from_str(r).map(|x| Box::new(x) as _).map_err(|_| bad())
    } else if r.starts_with("ssh-") {
        age::ssh::Recipient::from_str(r).map(|x| Box::new(x) as _).map_err(|_| bad())
    } else {
        Err(bad())
    }
}

/// Parses identities from the text of an identity file or SSH private key;
/// a plugin identity's questions go to `callbacks`.
fn parse_identities(
    text: &str,
    source_name: &str,
    callbacks: PluginCallbacks,
) -> Result<Identities, ProviderError> {
    let list = parse_identity_list(text, source_name, &callbacks)?;
    Ok(Identities { list, plugins: has_plugin_identity(text), callbacks })
}

fn parse_identity_list(
    text: &str,
    source_name: &str,
    callbacks: &PluginCallbacks,
) -> Result<Vec<Box<dyn Identity + Send + Sync>>, ProviderError> {
    let bad = |reason: String| ProviderError::BadIdentity {
        source_name: source_name.to_string(),
        reason,
    };
    if text.contains("-----BEGIN") {
        let id = age::ssh::Identity::from_buffer(
            BufReader::new(text.as_bytes()),
            Some(source_name.to_string()),
        )
        .map_err(|e| bad(format!("not a usable SSH private key ({e})")))?;
        return match id {
            age::ssh::Identity::Unencrypted(_) => Ok(vec![Box::new(id) as _]),
            age::ssh::Identity::Encrypted(_) => Err(bad(
                "passphrase-protected SSH keys are not supported; use an age identity (age-keygen) or an unencrypted key".into(),
            )),
            age::ssh::Identity::Unsupported(_) => Err(bad("this SSH key type is not supported by age".into())),
        };
    }
    let file = age::IdentityFile::from_buffer(BufReader::new(text.as_bytes()))
        .map_err(|_| bad("not an age identity file (expected AGE-SECRET-KEY-1... lines)".into()))?;
    let ids = file.with_callbacks(callbacks.clone()).into_identities().map_err(|e| {
        super::age_plugin::decrypt_failure(e, callbacks)
            .unwrap_or_else(|e| bad(format!("unusable identity ({e})")))
    })?;
    if ids.is_empty() {
        return Err(bad("the file holds no identity".into()));
    }
    // X25519 identities only (the usual file): each with its public key
    // computed once (age_x25519.rs), read from the lines age read them from.
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    if lines.len() == ids.len() {
        let native: Option<Vec<_>> =
            lines.iter().map(|l| super::age_x25519::X25519::parse(l)).collect();
        if let Some(native) = native {
            return Ok(native.into_iter().map(|i| Box::new(i) as _).collect());
        }
    }
    Ok(ids)
}

impl AgeProvider {
    pub(super) fn new(
        ctx: &Context,
        config: &AgeConfig,
        base_dir: &Path,
        registry: RegistryRef,
    ) -> Result<Self, ProviderError> {
        let recipients = Recipients::parse(&config.recipients)?;
        let key_file = config.key_file.as_deref().map(|p| ctx.env.resolve_path(base_dir, p));
        let default = ctx.config_dir.join("age.txt");
        let identity_source = if let Some(key) = ctx.env.var("FNOX_AGE_KEY") {
            IdentitySource::Env(Zeroizing::new(key.to_string()))
        } else if let Some(id) = &config.identity {
            IdentitySource::Provider(id.clone(), registry)
        } else if let Some(p) = key_file.clone().filter(|p| p.exists()) {
            IdentitySource::File(p)
        } else if let Some(p) = ctx.env.var("FNOX_AGE_KEY_FILE") {
            IdentitySource::File(ctx.env.cwd().join(p))
        } else if default.exists() {
            IdentitySource::File(default)
        } else {
            IdentitySource::Missing { key_file, default }
        };
        Ok(Self {
            envelope: config.envelope,
            recipients,
            identity_source,
            identities: tokio::sync::OnceCell::new(),
            notify: ctx.notify.clone(),
            callbacks: PluginCallbacks::new(ctx.prompter.clone()),
            agent: ctx.agent.clone(),
        })
    }

    fn source_name(&self) -> String {
        match &self.identity_source {
            IdentitySource::Env(_) => "FNOX_AGE_KEY".into(),
            IdentitySource::Provider(id, _) => {
                format!("the identity of provider `{}`", id.provider)
            }
            IdentitySource::File(p) => p.display().to_string(),
            IdentitySource::Missing { default, .. } => default.display().to_string(),
        }
    }

    /// The identities, read once.
    async fn identities(&self) -> Result<Arc<Identities>, ProviderError> {
        self.identities.get_or_try_init(|| self.read_identities()).await.cloned()
    }

    async fn read_identities(&self) -> Result<Arc<Identities>, ProviderError> {
        let text = match &self.identity_source {
            IdentitySource::Env(key) => key.clone(),
            IdentitySource::Provider(id, registry) => held_identity(id, registry).await?,
            IdentitySource::File(p) => {
                let bytes = super::keyring::read_key_bytes(p, &self.notify)?.ok_or_else(|| {
                    ProviderError::KeyFile {
                        path: p.clone(),
                        source: std::io::ErrorKind::NotFound.into(),
                    }
                })?;
                self.file_identity(p, bytes)?
            }
            IdentitySource::Missing { key_file, default } => {
                return Err(ProviderError::NoAgeIdentity {
                    key_file: key_file.clone(),
                    default: default.clone(),
                });
            }
        };
        Ok(Arc::new(parse_identities(&text, &self.source_name(), self.callbacks.clone())?))
    }
}

impl AgeProvider {
    /// The identity text of identity file `path` with `bytes`; one encrypted
    /// with a passphrase is asked of the agent first, and handed to it once
    /// the user's passphrase opened it (keyed by the file's bytes).
    fn file_identity(
        &self,
        path: &Path,
        bytes: Zeroizing<Vec<u8>>,
    ) -> Result<Zeroizing<String>, ProviderError> {
        if !is_age_file(&bytes) {
            return identity_text(bytes, &self.source_name(), &self.callbacks);
        }
        let key = crate::agent::entry_key(b"fnox age identity", &path.to_string_lossy(), &bytes);
        if let Some(Some(text)) = self.agent.get_now(vec![key]).and_then(|mut v| v.pop())
            && let Ok(text) = std::str::from_utf8(text.expose())
        {
            return Ok(Zeroizing::new(text.to_string()));
        }
        let text = identity_text(bytes, &self.source_name(), &self.callbacks)?;
        self.agent.put_now(vec![crate::agent::protocol::PutEntry {
            key,
            provider: "age identity".into(),
            secret: path.display().to_string(),
            value: SecretBytes::new(text.as_bytes().to_vec()),
        }]);
        Ok(text)
    }
}

/// The identity text of an identity file's `bytes`: the text itself, or,
/// for a file encrypted with a passphrase (`age -p`, binary or armored),
/// its plaintext, with the passphrase asked of the user through
/// `callbacks` (once per process: identities are read once).
fn identity_text(
    bytes: Zeroizing<Vec<u8>>,
    source_name: &str,
    callbacks: &PluginCallbacks,
) -> Result<Zeroizing<String>, ProviderError> {
    let bad = |reason: String| ProviderError::BadIdentity {
        source_name: source_name.to_string(),
        reason,
    };
    let plain =
        if is_age_file(&bytes) { with_passphrase(&bytes, source_name, callbacks)? } else { bytes };
    match std::str::from_utf8(&plain) {
        Ok(text) => Ok(Zeroizing::new(text.to_string())),
        Err(_) => Err(bad(
            "not text: neither an identity file nor one encrypted with a passphrase".into(),
        )),
    }
}

/// True when `bytes` are an age file (binary or armored): an identity
/// file encrypted with a passphrase, not the identity itself.
fn is_age_file(bytes: &[u8]) -> bool {
    super::passphrase::is_age_file(bytes)
}

/// The plaintext of passphrase-encrypted identity file `bytes`.
fn with_passphrase(
    bytes: &[u8],
    source_name: &str,
    callbacks: &PluginCallbacks,
) -> Result<Zeroizing<Vec<u8>>, ProviderError> {
    use age::secrecy::ExposeSecret as _;

    use super::passphrase::{self, PassphraseError};
    let failed = |e: PassphraseError| match e {
        PassphraseError::Wrong => {
            ProviderError::AgeWrongPassphrase { source_name: source_name.to_string() }
        }
        PassphraseError::NotPassphrase => ProviderError::BadIdentity {
            source_name: source_name.to_string(),
            reason: "an age file encrypted to recipients, not with a passphrase: not an identity"
                .into(),
        },
        PassphraseError::Damaged(reason) => ProviderError::BadIdentity {
            source_name: source_name.to_string(),
            reason: format!("the passphrase-encrypted file: {reason}"),
        },
    };
    passphrase::check(bytes).map_err(failed)?;
    let question = format!("Passphrase of the age identity {source_name}");
    let typed = callbacks.ask_secret(&question).ok_or_else(|| {
        ProviderError::AgePassphraseNeedsTerminal { source_name: source_name.to_string() }
    })?;
    passphrase::decrypt(bytes, typed.expose_secret()).map_err(failed)
}

/// The identity text that provider `id.provider` holds: its stored
/// `id.value`, opened as the value of a secret named [`IDENTITY_NAME`].
async fn held_identity(
    id: &IdentityRef,
    registry: &RegistryRef,
) -> Result<Zeroizing<String>, ProviderError> {
    let provider = registry.get(&id.provider).await.map_err(|e| {
        ProviderError::IdentityProvider { provider: id.provider.clone(), source: Box::new(e) }
    })?;
    let opened = crate::value::open(provider.as_ref(), IDENTITY_NAME, &id.value).await;
    let bytes = opened.map_err(|e| ProviderError::IdentityDecrypt {
        provider: id.provider.clone(),
        source: Box::new(e),
    })?;
    let text =
        String::from_utf8(bytes.expose().to_vec()).map_err(|_| ProviderError::BadIdentity {
            source_name: format!("the identity of provider `{}`", id.provider),
            reason: "not text".into(),
        })?;
    Ok(Zeroizing::new(text))
}

/// The identity file `init` uses: `FNOX_AGE_KEY_FILE`, else `age.txt` in
/// the config directory.
pub fn identity_file(ctx: &Context) -> PathBuf {
    match ctx.env.var("FNOX_AGE_KEY_FILE") {
        Some(p) => ctx.env.cwd().join(p),
        None => ctx.config_dir.join("age.txt"),
    }
}

/// An X25519 identity file: read, or created (mode 0600 in a 0700
/// directory) when it does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityFile {
    /// The file was there; its first X25519 identity's recipient.
    Found(String),
    /// The file was created with a new identity; its recipient.
    Created(String),
}

/// Reads the first X25519 identity of the file at `path` (which must be
/// private), or creates the file with a new one (never where git would see
/// it).
pub fn load_or_create_identity(
    path: &Path,
    notify: &crate::notice::Notify,
) -> Result<IdentityFile, ProviderError> {
    let file_err = |source| ProviderError::KeyFile { path: path.to_path_buf(), source };
    match super::keyring::read_key_bytes(path, notify) {
        Ok(Some(bytes)) => {
            if is_age_file(&bytes) {
                return Err(ProviderError::BadIdentity {
                    source_name: path.display().to_string(),
                    reason: "it is encrypted with a passphrase, so fnox cannot read its public key"
                        .into(),
                });
            }
            let text = std::str::from_utf8(&bytes).map_err(|_| {
                file_err(std::io::Error::new(std::io::ErrorKind::InvalidData, "not text"))
            })?;
            let id = text
                .lines()
                .map(str::trim)
                .find(|l| l.starts_with("AGE-SECRET-KEY-"))
                .and_then(|l| l.parse::<age::x25519::Identity>().ok())
                .ok_or_else(|| ProviderError::BadIdentity {
                    source_name: path.display().to_string(),
                    reason: "the file holds no age X25519 identity".into(),
                })?;
            Ok(IdentityFile::Found(id.to_public().to_string()))
        }
        Ok(None) => {
            use age::secrecy::ExposeSecret as _;
            let id = age::x25519::Identity::generate();
            let public = id.to_public().to_string();
            super::keyring::prepare_key_file(path)?;
            let text = Zeroizing::new(format!(
                "# created by fnox init\n# public key: {public}\n{}\n",
                id.to_string().expose_secret()
            ));
            crate::config::write::create_new(path, text.as_bytes(), 0o600).map_err(file_err)?;
            Ok(IdentityFile::Created(public))
        }
        Err(e) => Err(e),
    }
}

/// Encrypts `plaintext` to `recipients` as a binary age file (each
/// plugin's binary started once).
fn encrypt_to(
    recipients: &Recipients,
    callbacks: &PluginCallbacks,
    plaintext: &[u8],
) -> Result<Vec<u8>, ProviderError> {
    if recipients.is_empty() {
        return Err(ProviderError::NoRecipients);
    }
    let plugins = recipients.plugin_recipients(callbacks)?;
    let all = recipients.native.iter().chain(&plugins).map(|r| r.as_ref() as &dyn Recipient);
    let encryptor = age::Encryptor::with_recipients(all)
        .map_err(|e| super::age_plugin::encrypt_failure(e, callbacks))?;
    let mut out = Vec::with_capacity(plaintext.len() + 256);
    let mut w = encryptor.wrap_output(&mut out).map_err(ProviderError::Io)?;
    w.write_all(plaintext).map_err(ProviderError::Io)?;
    w.finish().map_err(ProviderError::Io)?;
    Ok(out)
}

/// Decrypts an age file (binary or armored) with `identities`. The whole
/// payload is read and authenticated before anything is returned.
fn decrypt_with(
    identities: &Identities,
    file: &[u8],
    source_name: &str,
) -> Result<SecretBytes, ProviderError> {
    let no_match = |e| match e {
        age::DecryptError::NoMatchingKeys => {
            ProviderError::AgeNoMatchingKey { source_name: source_name.to_string() }
        }
        e => super::age_plugin::decrypt_failure(e, &identities.callbacks)
            .unwrap_or_else(ProviderError::AgeDecrypt),
    };
    let ids = || identities.list.iter().map(|i| i.as_ref() as &dyn Identity);
    let mut plain = Zeroizing::new(Vec::with_capacity(file.len()));
    let read = if file.starts_with(b"-----BEGIN") {
        let reader = age::armor::ArmoredReader::new(file);
        let decryptor = age::Decryptor::new(reader).map_err(ProviderError::AgeDecrypt)?;
        decryptor.decrypt(ids()).map_err(no_match)?.read_to_end(&mut plain)
    } else {
        // The buffered parser reads the header in one pass (the unbuffered
        // one re-parses it byte by byte).
        let decryptor = age::Decryptor::new_buffered(file).map_err(ProviderError::AgeDecrypt)?;
        decryptor.decrypt(ids()).map_err(no_match)?.read_to_end(&mut plain)
    };
    read.map_err(|_| ProviderError::AgeTampered)?;
    Ok(SecretBytes::new(std::mem::take(&mut *plain)))
}

#[async_trait]
impl Provider for AgeProvider {
    async fn encrypt(
        &self,
        _name: &str,
        plaintext: &SecretBytes,
    ) -> Result<Vec<u8>, ProviderError> {
        encrypt_to(&self.recipients, &self.callbacks, plaintext.expose())
    }

    async fn decrypt(&self, _name: &str, ciphertext: &[u8]) -> Result<SecretBytes, ProviderError> {
        decrypt_with(&*self.identities().await?, ciphertext, &self.source_name())
    }

    fn always_envelope(&self) -> bool {
        self.envelope
    }

    /// X25519 work is CPU-bound (tens of µs per file): many files are split
    /// across the machine's cores. With a plugin identity, one file at a
    /// time: each starts the plugin, which may ask the user something.
    async fn decrypt_many(
        &self,
        items: &[(String, Vec<u8>)],
    ) -> Vec<Result<SecretBytes, ProviderError>> {
        let ids = match self.identities().await {
            Ok(ids) => ids,
            Err(first) => {
                // Each item gets the identity error of its own.
                let mut out = vec![Err(first)];
                for _ in 1..items.len() {
                    out.push(self.identities().await.map(|_| SecretBytes::new(Vec::new())));
                }
                out.truncate(items.len());
                return out;
            }
        };
        let source = self.source_name();
        // One file (`get`) needs no count of the cores (a few system calls).
        let threads = match items.len() {
            0 | 1 => 1,
            n => std::thread::available_parallelism().map_or(1, |c| c.get()).min(n),
        };
        let threads = if ids.plugins { 1 } else { threads };
        if threads <= 1 {
            return items.iter().map(|(_, ct)| decrypt_with(&ids, ct, &source)).collect();
        }
        let chunk = items.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = items
                .chunks(chunk)
                .map(|part| {
                    let (ids, source) = (&ids, &source);
                    scope.spawn(move || {
                        part.iter().map(|(_, ct)| decrypt_with(ids, ct, source)).collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use age::secrecy::ExposeSecret;

    use super::*;

    fn recipients(id: &age::x25519::Identity) -> Recipients {
        Recipients::parse(&[id.to_public().to_string()]).unwrap()
    }

    fn identities(id: &age::x25519::Identity, name: &str) -> Identities {
        parse_identities(id.to_string().expose_secret(), name, callbacks()).unwrap()
    }

    fn callbacks() -> PluginCallbacks {
        PluginCallbacks::new(crate::prompt::none())
    }

    #[test]
    fn round_trip_and_wrong_identity() {
        let id = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let file = encrypt_to(&recipients(&id), &callbacks(), b"s3cret").unwrap();
        assert!(file.starts_with(b"age-encryption.org/v1\n"));
        let ids = identities(&id, "k");
        assert_eq!(decrypt_with(&ids, &file, "k").unwrap().expose(), b"s3cret");
        let wrong = identities(&other, "o");
        assert!(matches!(
            decrypt_with(&wrong, &file, "o"),
            Err(ProviderError::AgeNoMatchingKey { .. })
        ));
    }

    #[test]
    fn tampered_payload_fails_without_output() {
        let id = age::x25519::Identity::generate();
        let mut file = encrypt_to(&recipients(&id), &callbacks(), &[7u8; 100_000]).unwrap();
        let n = file.len();
        file[n - 20] ^= 1;
        let ids = identities(&id, "k");
        assert!(decrypt_with(&ids, &file, "k").is_err());
    }

    #[test]
    fn bad_recipient() {
        assert!(matches!(parse_recipient("nope"), Err(ProviderError::BadRecipient { .. })));
        let parsed = Recipients::parse(&["age1nope1qqqq".into()]);
        assert!(matches!(parsed, Err(ProviderError::BadRecipient { .. })));
    }
}
