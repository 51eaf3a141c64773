//! `age-plugin-fnoxtest`: a real age plugin, for fnox's tests only.
//!
//! It wraps each file key with ChaCha20-Poly1305 under a 32-byte key that
//! both the recipient (`age1fnoxtest1...`) and the identity
//! (`AGE-PLUGIN-FNOXTEST-1...`) hold, so anyone with the recipient can
//! decrypt: it is NOT secure and exists only to drive the plugin protocol
//! from fnox and from the `age` CLI.
//!
//! - `age-plugin-fnoxtest --generate [--pin]` prints a new identity (and
//!   its recipient in a comment).
//! - Unwrapping always sends the message `fnoxtest: touch your key`; an
//!   identity made with `--pin` also asks for a secret (the PIN
//!   [`PIN`]) and fails without the right one.
//! - `age-plugin-fnoxtest --age-plugin=STATE_MACHINE` is how age clients
//!   start it.

use std::{
    collections::{HashMap, HashSet},
    io,
};

use age_core::{
    format::{FILE_KEY_BYTES, FileKey, Stanza},
    primitives::{aead_decrypt, aead_encrypt},
    secrecy::ExposeSecret,
};
use age_plugin::{
    Callbacks, PluginHandler,
    identity::{self, IdentityPluginV1},
    recipient::{self, RecipientPluginV1},
};
use rand::RngCore;

const NAME: &str = "fnoxtest";
/// The stanza tag of a wrapped file key.
const TAG: &str = "fnoxtest";
/// The PIN an identity made with `--pin` asks for.
const PIN: &str = "fnox-test-pin";
/// What every unwrap says to the user.
const TOUCH: &str = "fnoxtest: touch your key";

struct Handler;

impl PluginHandler for Handler {
    type RecipientV1 = Wrapper;
    type IdentityV1 = Unwrapper;

    fn recipient_v1(self) -> io::Result<Self::RecipientV1> {
        Ok(Wrapper { keys: Vec::new() })
    }

    fn identity_v1(self) -> io::Result<Self::IdentityV1> {
        Ok(Unwrapper { ids: Vec::new() })
    }
}

fn key_of(bytes: &[u8]) -> Option<[u8; 32]> {
    bytes.try_into().ok()
}

/// Wraps file keys to the keys of the recipients (or identities) given.
struct Wrapper {
    keys: Vec<[u8; 32]>,
}

impl RecipientPluginV1 for Wrapper {
    fn add_recipient(
        &mut self,
        index: usize,
        _: &str,
        bytes: &[u8],
    ) -> Result<(), recipient::Error> {
        let key = key_of(bytes).ok_or(recipient::Error::Recipient {
            index,
            message: "a fnoxtest recipient holds 32 bytes".into(),
        })?;
        self.keys.push(key);
        Ok(())
    }

    fn add_identity(
        &mut self,
        index: usize,
        _: &str,
        bytes: &[u8],
    ) -> Result<(), recipient::Error> {
        let key = bytes.get(1..).and_then(key_of).ok_or(recipient::Error::Identity {
            index,
            message: "a fnoxtest identity holds 33 bytes".into(),
        })?;
        self.keys.push(key);
        Ok(())
    }

    fn labels(&mut self) -> HashSet<String> {
        HashSet::new()
    }

    fn wrap_file_keys(
        &mut self,
        file_keys: Vec<FileKey>,
        _: impl Callbacks<recipient::Error>,
    ) -> io::Result<Result<Vec<Vec<Stanza>>, Vec<recipient::Error>>> {
        let wrap = |fk: &FileKey| {
            self.keys
                .iter()
                .map(|key| Stanza {
                    tag: TAG.into(),
                    args: Vec::new(),
                    body: aead_encrypt(key, fk.expose_secret()),
                })
                .collect()
        };
        Ok(Ok(file_keys.iter().map(wrap).collect()))
    }
}

/// One identity: its key, and whether it asks for the PIN.
struct Id {
    key: [u8; 32],
    pin: bool,
}

/// Unwraps file keys with the identities given.
struct Unwrapper {
    ids: Vec<Id>,
}

impl IdentityPluginV1 for Unwrapper {
    fn add_identity(&mut self, index: usize, _: &str, bytes: &[u8]) -> Result<(), identity::Error> {
        let bad = || identity::Error::Identity {
            index,
            message: "a fnoxtest identity holds 33 bytes".into(),
        };
        let (&flags, rest) = bytes.split_first().ok_or_else(bad)?;
        let key = key_of(rest).ok_or_else(bad)?;
        self.ids.push(Id { key, pin: flags == 1 });
        Ok(())
    }

    fn unwrap_file_keys(
        &mut self,
        files: Vec<Vec<Stanza>>,
        mut callbacks: impl Callbacks<identity::Error>,
    ) -> io::Result<HashMap<usize, Result<FileKey, Vec<identity::Error>>>> {
        let mut out = HashMap::new();
        for (file, stanzas) in files.iter().enumerate() {
            // A client that cannot show messages still gets the file key.
            let _shown = callbacks.message(TOUCH)?;
            for (index, id) in self.ids.iter().enumerate() {
                let Some(fk) = stanzas
                    .iter()
                    .filter(|s| s.tag == TAG)
                    .find_map(|s| aead_decrypt(&id.key, FILE_KEY_BYTES, &s.body).ok())
                else {
                    continue;
                };
                let fail =
                    |message: &str| identity::Error::Identity { index, message: message.into() };
                let result = match id.pin.then(|| callbacks.request_secret("fnoxtest PIN")) {
                    Some(Ok(Ok(pin))) if pin.expose_secret() == PIN => Ok(file_key(&fk)),
                    Some(Ok(Ok(_))) => Err(vec![fail("wrong PIN")]),
                    Some(Ok(Err(_))) => Err(vec![fail("no PIN was given")]),
                    Some(Err(e)) => return Err(e),
                    None => Ok(file_key(&fk)),
                };
                out.insert(file, result);
                break;
            }
        }
        Ok(out)
    }
}

fn file_key(bytes: &[u8]) -> FileKey {
    FileKey::init_with_mut(|fk| fk.copy_from_slice(bytes))
}

fn generate(pin: bool) {
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let identity = [&[u8::from(pin)][..], &key].concat();
    age_plugin::print_new_identity(NAME, &identity, &key);
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(machine) = args.iter().find_map(|a| a.strip_prefix("--age-plugin=")) {
        return age_plugin::run_state_machine(machine, Handler);
    }
    match args.first().map(String::as_str) {
        Some("--generate") => {
            generate(args.get(1).is_some_and(|a| a == "--pin"));
            Ok(())
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "usage: age-plugin-fnoxtest --generate [--pin] (a test plugin; not secure)",
        )),
    }
}
