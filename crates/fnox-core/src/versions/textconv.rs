//! One version of a config file as text that git's line diff compares well
//! (git's textconv, which `git log -p` and `git show` use): git converts
//! each version alone, so the words of [`super::compare`] cannot appear;
//! instead each secret gets a line for its value and a line for its
//! ciphertext, so that a re-encryption changes only the second.

use std::{
    fs,
    io::{self, Write},
    path::Path,
};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{Entry, opened};
use crate::Project;

/// The name of the file, in fnox's config directory, that keys the value
/// ids: they are comparable on this machine and say nothing elsewhere.
pub const ID_KEY_FILE: &str = "git-diff.key";

/// A key for value ids: 32 random bytes kept in `config_dir`, made (0600,
/// never replaced) on first use.
pub fn id_key(config_dir: &Path) -> io::Result<[u8; 32]> {
    let path = config_dir.join(ID_KEY_FILE);
    if let Ok(bytes) = fs::read(&path) {
        return bytes.try_into().map_err(|_| {
            io::Error::other(format!("{} is not 32 bytes; remove it", path.display()))
        });
    }
    fs::create_dir_all(config_dir)?;
    let key: [u8; 32] = rand::random();
    let mut tmp = tempfile::NamedTempFile::new_in(config_dir)?;
    tmp.write_all(&key)?;
    tmp.as_file().sync_all()?;
    match tmp.persist_noclobber(&path) {
        Ok(_) => Ok(key),
        // Another fnox made it first: use that one.
        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {
            fs::read(&path)?.try_into().map_err(|_| io::Error::other("short key"))
        }
        Err(e) => Err(e.error),
    }
}

/// `text` (the version, `entries` its secrets) as git's textconv shows it:
/// per secret `NAME: value #ID` (an id of the plaintext, keyed by `id_key`;
/// `cannot be decrypted here` without the keys) and `NAME: sealed #ID
/// (PROVIDER)` (an id of the ciphertext), then the file with every stored
/// value elided, so that changes to settings and providers show too.
pub fn textconv(
    project: Option<&Project>,
    text: &str,
    entries: &[Entry],
    id_key: Option<&[u8; 32]>,
) -> String {
    let mut out = String::new();
    for e in entries {
        let Some(stored) = &e.value else {
            out.push_str(&format!("{}: no stored value\n", e.label));
            continue;
        };
        let value = match (id_key, opened(project, e, true)) {
            (Some(key), Some(plain)) => format!("value #{}", value_id(key, plain.expose())),
            _ => "value cannot be decrypted here".to_string(),
        };
        let provider = e.provider.as_deref().unwrap_or("the default provider");
        out.push_str(&format!("{}: {value}\n", e.label));
        out.push_str(&format!("{}: sealed #{} ({provider})\n", e.label, sealed_id(stored)));
    }
    out.push_str("\n# the file, stored values elided:\n");
    out.push_str(&elided(text, entries));
    out
}

/// An id of a plaintext: the first 4 bytes of HMAC-SHA-256 under `key`, in
/// hex. Without the key it tells nothing about the value.
pub fn value_id(key: &[u8; 32], plaintext: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(plaintext);
    hex::encode(&mac.finalize().into_bytes()[..4])
}

/// An id of a stored value: the first 4 bytes of its SHA-256, in hex.
pub fn sealed_id(stored: &str) -> String {
    hex::encode(&Sha256::digest(stored.as_bytes())[..4])
}

/// `text` with each stored value's string replaced by `"…"`.
fn elided(text: &str, entries: &[Entry]) -> String {
    let mut spans: Vec<_> = entries.iter().filter_map(|e| e.span.clone()).collect();
    spans.sort_by_key(|s| s.start);
    let (mut out, mut at) = (String::with_capacity(text.len()), 0);
    for span in spans {
        if span.start < at || span.end > text.len() {
            continue;
        }
        out.push_str(&text[at..span.start]);
        out.push_str("\"…\"");
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_keys_each_secret_has_its_ciphertext_id_and_the_file_elided() {
        let text = "[secrets]\nA = { value = \"c2VhbGVk\" } # note\nB = { default = \"x\" }\n";
        let entries = super::super::entries(Path::new("fnox.toml"), text).unwrap();
        let id = sealed_id("c2VhbGVk");
        assert_eq!(
            textconv(None, text, &entries, Some(&[7; 32])),
            format!(
                "A: value cannot be decrypted here\nA: sealed #{id} (the default provider)\n\
                 B: no stored value\n\n# the file, stored values elided:\n\
                 [secrets]\nA = {{ value = \"…\" }} # note\nB = {{ default = \"x\" }}\n"
            )
        );
    }

    #[test]
    fn value_ids_depend_on_the_key_and_the_value_only() {
        let (k1, k2) = ([1; 32], [2; 32]);
        assert_eq!(value_id(&k1, b"v"), value_id(&k1, b"v"));
        assert_ne!(value_id(&k1, b"v"), value_id(&k1, b"w"));
        assert_ne!(value_id(&k1, b"v"), value_id(&k2, b"v"));
        assert_eq!(value_id(&k1, b"v").len(), 8);
    }

    #[test]
    fn the_id_key_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = id_key(&dir.path().join("cfg")).unwrap();
        assert_eq!(id_key(&dir.path().join("cfg")).unwrap(), first);
        fs::write(dir.path().join("cfg").join(ID_KEY_FILE), b"short").unwrap();
        assert!(id_key(&dir.path().join("cfg")).is_err());
    }
}
