//! An age X25519 identity that computes its public key once. age's own
//! (`age::x25519::Identity`) derives it from the secret for every stanza it
//! tries (a scalar multiplication of the base point, a fifth of the work of
//! opening a value), and `exec` opens a hundred values with one identity.
//! The unwrap follows the age specification's X25519 recipient stanza
//! (<https://c2sp.org/age#x25519-recipient-stanza>) on age's primitives
//! (`age_core`), and a test checks it against age's identity stanza by
//! stanza: the same file key, the same refusal of a malformed stanza.
//!
//! The exchange itself multiplies the Edwards form of the ephemeral share
//! where it has one (see [`X25519::shared_secret`]): curve25519-dalek does
//! that on its vector backend (AVX2 where the CPU has it), about a quarter
//! faster here than the Montgomery ladder that `x25519-dalek` runs.

use age::{DecryptError, Identity};
use age_core::{
    format::{FILE_KEY_BYTES, FileKey, Stanza},
    primitives::{aead_decrypt, hkdf},
};
use base64::{Engine, prelude::BASE64_STANDARD_NO_PAD};
use curve25519_dalek::{montgomery::MontgomeryPoint, traits::IsIdentity};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

const TAG: &str = "X25519";
const KEY_LABEL: &[u8] = b"age-encryption.org/v1/X25519";
const SECRET_KEY_HRP: &str = "age-secret-key-";

/// An X25519 identity and its public key.
pub(super) struct X25519 {
    /// The secret scalar as written (clamped where it is used).
    secret: Zeroizing<[u8; 32]>,
    public: PublicKey,
}

impl X25519 {
    /// The identity of `line` (`AGE-SECRET-KEY-1...`), as age reads it;
    /// `None` for anything else.
    pub(super) fn parse(line: &str) -> Option<Self> {
        // age's parser checks the line (checksum, prefix, length) first.
        line.parse::<age::x25519::Identity>().ok()?;
        let (hrp, data) = bech32::decode(line).ok()?;
        let data = Zeroizing::new(data);
        if !hrp.as_str().eq_ignore_ascii_case(SECRET_KEY_HRP) {
            return None;
        }
        let secret: Zeroizing<[u8; 32]> = Zeroizing::new(data.as_slice().try_into().ok()?);
        let public = PublicKey::from(&StaticSecret::from(*secret));
        Some(Self { secret, public })
    }

    /// The X25519 function (RFC 7748) of the secret and `share`: the
    /// u-coordinate of the share's point times the clamped secret. A share
    /// on the curve (every honest one) is multiplied in its Edwards form,
    /// on curve25519-dalek's vector backend; one on the curve's twist
    /// (which has no Edwards form) by the Montgomery ladder. Both give the
    /// ladder's answer (a proptest checks it against `x25519-dalek`); the
    /// time depends only on the share, which is public.
    fn shared_secret(&self, share: [u8; 32]) -> MontgomeryPoint {
        let point = MontgomeryPoint(share);
        match point.to_edwards(0) {
            Some(edwards) => edwards.mul_clamped(*self.secret).to_montgomery(),
            None => point.mul_clamped(*self.secret),
        }
    }
}

impl Identity for X25519 {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, DecryptError>> {
        if stanza.tag != TAG {
            return None;
        }
        // A canonical stanza: one argument, the 32-byte ephemeral share in
        // unpadded base64, and a 32-byte body.
        let [arg] = &stanza.args[..] else { return Some(Err(DecryptError::InvalidHeader)) };
        let mut share = [0u8; 33];
        let epk: [u8; 32] = match BASE64_STANDARD_NO_PAD.decode_slice(arg, &mut share) {
            Ok(32) => share[..32].try_into().expect("32 bytes"),
            _ => return Some(Err(DecryptError::InvalidHeader)),
        };
        let Ok(body) = <[u8; FILE_KEY_BYTES + 16]>::try_from(&stanza.body[..]) else {
            return Some(Err(DecryptError::InvalidHeader));
        };
        let shared = Zeroizing::new(self.shared_secret(epk));
        // A low-order share gives an all-zero secret: refused.
        if shared.is_identity() {
            return Some(Err(DecryptError::InvalidHeader));
        }
        let mut salt = [0u8; 64];
        salt[..32].copy_from_slice(&epk);
        salt[32..].copy_from_slice(self.public.as_bytes());
        let key = Zeroizing::new(hkdf(&salt, KEY_LABEL, shared.as_bytes()));
        // Not ours (another X25519 identity may open it).
        let plain = Zeroizing::new(aead_decrypt(&key, FILE_KEY_BYTES, &body).ok()?);
        Some(Ok(FileKey::init_with_mut(|k| k.copy_from_slice(&plain))))
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use age::secrecy::ExposeSecret;
    use proptest::prelude::*;

    use super::*;

    /// What an identity makes of a stanza, comparable.
    fn outcome(id: &dyn Identity, stanza: &Stanza) -> String {
        match id.unwrap_stanza(stanza) {
            None => "none".into(),
            Some(Ok(key)) => format!("key {:?}", key.expose_secret()),
            Some(Err(e)) => format!("error {e:?}"),
        }
    }

    fn copy(s: &Stanza) -> Stanza {
        Stanza { tag: s.tag.clone(), args: s.args.clone(), body: s.body.clone() }
    }

    /// The stanzas of an age file encrypted to `to`.
    fn stanzas(to: &age::x25519::Recipient) -> Vec<Stanza> {
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(to as &dyn age::Recipient)).unwrap();
        let mut file = Vec::new();
        let mut w = encryptor.wrap_output(&mut file).unwrap();
        w.write_all(b"value").unwrap();
        w.finish().unwrap();
        // The header: "-> X25519 ARG\nBODY\n" after the version line.
        let text = String::from_utf8_lossy(&file).to_string();
        let mut out = Vec::new();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if let Some(rest) = line.strip_prefix("-> ") {
                let mut words = rest.split(' ');
                let tag = words.next().unwrap().to_string();
                let args = words.map(str::to_string).collect();
                let body = lines.next().unwrap_or_default();
                // age adds a random "grease" stanza now and then.
                if tag == TAG {
                    let body = BASE64_STANDARD_NO_PAD.decode(body).unwrap();
                    out.push(Stanza { tag, args, body });
                }
            }
        }
        assert_eq!(out.len(), 1, "{text}");
        out
    }

    #[test]
    fn opens_what_age_opens_and_refuses_what_it_refuses() {
        let id = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate();
        let ours = X25519::parse(id.to_string().expose_secret()).unwrap();
        assert_eq!(ours.public.as_bytes(), &{
            let r = id.to_public().to_string();
            let (_, data) = bech32::decode(&r).unwrap();
            <[u8; 32]>::try_from(data).unwrap()
        });
        let mine = stanzas(&id.to_public()).remove(0);
        let theirs = stanzas(&other.to_public()).remove(0);
        let mut cases = vec![copy(&mine), theirs];
        let mut with = |f: &dyn Fn(&mut Stanza)| {
            let mut s = copy(&mine);
            f(&mut s);
            cases.push(s);
        };
        with(&|s| s.tag = "scrypt".into());
        with(&|s| s.args.push("x".into()));
        with(&|s| s.args.clear());
        with(&|s| s.args[0].push('A'));
        with(&|s| s.args[0] = s.args[0][..42].to_string() + "=");
        with(&|s| s.args[0] = BASE64_STANDARD_NO_PAD.encode([0u8; 32]));
        with(&|s| {
            s.body.pop();
        });
        with(&|s| s.body[0] ^= 1);
        for stanza in &cases {
            assert_eq!(outcome(&ours, stanza), outcome(&id, stanza), "{stanza:?}");
        }
        assert!(outcome(&ours, &mine).starts_with("key "));
    }

    #[test]
    fn a_file_opens_with_it() {
        let id = age::x25519::Identity::generate();
        let ours = X25519::parse(id.to_string().expose_secret()).unwrap();
        let encryptor = age::Encryptor::with_recipients(std::iter::once(
            &id.to_public() as &dyn age::Recipient
        ))
        .unwrap();
        let mut file = Vec::new();
        let mut w = encryptor.wrap_output(&mut file).unwrap();
        w.write_all(b"the value").unwrap();
        w.finish().unwrap();
        let decryptor = age::Decryptor::new_buffered(&file[..]).unwrap();
        let mut plain = Vec::new();
        decryptor
            .decrypt(std::iter::once(&ours as &dyn Identity))
            .unwrap()
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, b"the value");
    }

    #[test]
    fn only_identity_lines_parse() {
        assert!(X25519::parse("age1qqqq").is_none());
        assert!(X25519::parse("AGE-SECRET-KEY-1").is_none());
        assert!(X25519::parse("# comment").is_none());
        let id = age::x25519::Identity::generate();
        let line = id.to_string().expose_secret().to_string();
        assert!(X25519::parse(&line).is_some());
        assert!(
            X25519::parse(&line.to_lowercase()).is_some()
                == line.to_lowercase().parse::<age::x25519::Identity>().is_ok()
        );
    }

    /// The exchange of `secret` and `share` as x25519-dalek computes it
    /// (the Montgomery ladder).
    fn ladder(secret: [u8; 32], share: [u8; 32]) -> [u8; 32] {
        StaticSecret::from(secret).diffie_hellman(&PublicKey::from(share)).to_bytes()
    }

    fn identity_of(secret: [u8; 32]) -> X25519 {
        let public = PublicKey::from(&StaticSecret::from(secret));
        X25519 { secret: Zeroizing::new(secret), public }
    }

    #[test]
    fn the_exchange_is_the_ladder_s_for_points_of_the_curve_its_twist_and_low_order() {
        let secret = [0x5a; 32];
        let id = identity_of(secret);
        let on_curve = curve25519_dalek::constants::X25519_BASEPOINT.to_bytes();
        let mut shares = vec![
            on_curve,
            curve25519_dalek::constants::X25519_BASEPOINT.mul_clamped([3; 32]).to_bytes(),
            // u = 2 is on the twist (no Edwards form): the ladder's path.
            {
                let mut u = [0; 32];
                u[0] = 2;
                u
            },
            // u = -1 (p - 1): its Edwards form would divide by zero.
            {
                let mut u = [0xff; 32];
                u[0] = 0xec;
                u[31] = 0x7f;
                u
            },
            // The top bit set, and u >= p: both readings mask and reduce.
            [0xff; 32],
        ];
        // The points of low order (RFC 7748's list, with u = 0 and 1).
        for hex in [
            "0000000000000000000000000000000000000000000000000000000000000000",
            "0100000000000000000000000000000000000000000000000000000000000000",
            "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
            "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        ] {
            let bytes: Vec<u8> =
                (0..32).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect();
            shares.push(bytes.try_into().unwrap());
        }
        assert!(MontgomeryPoint(shares[2]).to_edwards(0).is_none());
        assert!(MontgomeryPoint(on_curve).to_edwards(0).is_some());
        for share in shares {
            assert_eq!(id.shared_secret(share).to_bytes(), ladder(secret, share), "{share:?}");
        }
        // A low-order share gives the all-zero secret, which unwrap refuses.
        assert!(id.shared_secret([0; 32]).is_identity());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// Any share and secret: the ladder's answer, whichever path the
        /// share takes (about half of random shares are on the twist).
        #[test]
        fn any_share_gets_the_ladder_s_answer(secret in any::<[u8; 32]>(), share in any::<[u8; 32]>()) {
            prop_assert_eq!(identity_of(secret).shared_secret(share).to_bytes(), ladder(secret, share));
        }

        /// Any change to a stanza: the same outcome as age's identity.
        #[test]
        fn any_stanza_gets_age_s_outcome(
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            in_arg in any::<bool>(),
        ) {
            let id = age::x25519::Identity::generate();
            let ours = X25519::parse(id.to_string().expose_secret()).unwrap();
            let mut stanza = stanzas(&id.to_public()).remove(0);
            if in_arg {
                let mut arg = stanza.args[0].clone().into_bytes();
                let i = at.index(arg.len());
                arg[i] = byte;
                stanza.args[0] = String::from_utf8_lossy(&arg).to_string();
            } else {
                let i = at.index(stanza.body.len());
                stanza.body[i] = byte;
            }
            prop_assert_eq!(outcome(&ours, &stanza), outcome(&id, &stanza));
        }
    }
}
