//! age's passphrase encryption (scrypt, a memory-hard key derivation): what
//! protects an age identity file made with `age -p` and a `local` keyring
//! after `fnox keys protect`, so that the age CLI (`age -d FILE`) opens
//! either by hand.

use std::io::{BufReader, Read as _, Write as _};

use age::secrecy::SecretString;
use zeroize::Zeroizing;

/// Why a passphrase-encrypted file could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum PassphraseError {
    /// The passphrase does not open it.
    #[error("wrong passphrase")]
    Wrong,
    /// An age file encrypted to recipients, not with a passphrase.
    #[error("an age file encrypted to recipients, not with a passphrase")]
    NotPassphrase,
    /// Not a readable age file, or one whose body is damaged.
    #[error("{0}")]
    Damaged(String),
}

/// True when `bytes` are an age file, binary or armored.
pub fn is_age_file(bytes: &[u8]) -> bool {
    bytes.starts_with(b"age-encryption.org/v1\n")
        || bytes.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----")
}

/// The decryptor of age file `bytes` when it is encrypted with a
/// passphrase.
fn decryptor(bytes: &[u8]) -> Result<age::Decryptor<impl std::io::BufRead + '_>, PassphraseError> {
    let reader = age::armor::ArmoredReader::new(BufReader::new(bytes));
    let decryptor = age::Decryptor::new_buffered(reader)
        .map_err(|e| PassphraseError::Damaged(format!("an age file that cannot be read ({e})")))?;
    if !decryptor.is_scrypt() {
        return Err(PassphraseError::NotPassphrase);
    }
    Ok(decryptor)
}

/// Checks that `bytes` are an age file encrypted with a passphrase (before
/// the passphrase is asked for).
pub fn check(bytes: &[u8]) -> Result<(), PassphraseError> {
    decryptor(bytes).map(|_| ())
}

/// The plaintext of age file `bytes`, encrypted with `passphrase`.
pub fn decrypt(bytes: &[u8], passphrase: &str) -> Result<Zeroizing<Vec<u8>>, PassphraseError> {
    let identity = age::scrypt::Identity::new(SecretString::from(passphrase.to_string()));
    let mut reader = decryptor(bytes)?
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed
            | age::DecryptError::KeyDecryptionFailed
            | age::DecryptError::NoMatchingKeys => PassphraseError::Wrong,
            other => PassphraseError::Damaged(format!("it cannot be opened ({other})")),
        })?;
    let mut out = Zeroizing::new(Vec::new());
    reader
        .read_to_end(&mut out)
        .map_err(|e| PassphraseError::Damaged(format!("its body is damaged ({e})")))?;
    Ok(out)
}

/// `plaintext` encrypted with `passphrase` as an armored age file (the
/// scrypt work factor age picks for about a second of work here).
pub fn encrypt(plaintext: &[u8], passphrase: &str) -> Result<String, PassphraseError> {
    let failed = |e: std::io::Error| PassphraseError::Damaged(format!("cannot encrypt ({e})"));
    let encryptor =
        age::Encryptor::with_user_passphrase(SecretString::from(passphrase.to_string()));
    let mut out = Vec::new();
    let armor = age::armor::ArmoredWriter::wrap_output(&mut out, age::armor::Format::AsciiArmor)
        .map_err(failed)?;
    let mut writer = encryptor
        .wrap_output(armor)
        .map_err(|e| PassphraseError::Damaged(format!("cannot encrypt ({e})")))?;
    writer.write_all(plaintext).map_err(failed)?;
    writer.finish().and_then(|armor| armor.finish()).map_err(failed)?;
    String::from_utf8(out).map_err(|_| PassphraseError::Damaged("armor is not text".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_wrong_passphrase() {
        let sealed = encrypt(b"keyring text\n", "correct horse").unwrap();
        assert!(sealed.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"), "{sealed}");
        assert!(is_age_file(sealed.as_bytes()));
        check(sealed.as_bytes()).unwrap();
        assert_eq!(&*decrypt(sealed.as_bytes(), "correct horse").unwrap(), b"keyring text\n");
        assert!(matches!(decrypt(sealed.as_bytes(), "wrong"), Err(PassphraseError::Wrong)));
        assert!(!is_age_file(b"3f2a91c0 AAAA primary\n"));
    }
}
