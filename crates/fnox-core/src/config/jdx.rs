//! What jdx/fnox's config schema defines that fnox does not act on: the
//! provider types fnox does not implement (loaded, and refused only when a
//! secret needs one) and the keys that have no effect here (loaded, and
//! named in one note). A key that neither tool knows stays an error.

use super::{Config, ConfigError, Fields, Location};
use crate::notice::{JdxItem, Notice};

/// Top-level keys of jdx/fnox with no effect in fnox: its daemon, MCP
/// server, HTTP proxy and leases are features fnox does not have;
/// `prompt_auth` goes with `auth_command`; `age_key_file` is a legacy key
/// that jdx/fnox itself does not read.
pub const TOP_NO_EFFECT: &[&str] =
    &["daemon", "mcp", "proxy", "leases", "prompt_auth", "age_key_file"];
/// `[profiles.NAME]` keys of jdx/fnox with no effect in fnox.
pub const PROFILE_NO_EFFECT: &[&str] = &["leases"];
/// Secret keys of jdx/fnox with no effect in fnox: `sync` (a cache that
/// `jdx fnox sync` writes) and `daemon_cache`.
pub const SECRET_NO_EFFECT: &[&str] = &["sync", "daemon_cache"];
/// Keys every jdx/fnox provider may have, with no effect in fnox.
pub const PROVIDER_NO_EFFECT: &[&str] = &["auth_command", "daemon_cache"];

/// The provider types of jdx/fnox that fnox does not implement, each with
/// the keys jdx/fnox's schema gives it, `type` first (`None`: not known,
/// any key loads).
pub const UNSUPPORTED_TYPES: &[(&str, Option<&[&str]>)] = &[
    ("1password", Some(&["type", "vault", "account", "token"])),
    ("bitwarden", Some(&["type", "collection", "organization_id", "profile", "backend"])),
    ("bitwarden-sm", Some(&["type", "project_id", "profile"])),
    ("keychain", Some(&["type", "service", "prefix"])),
    ("vault", Some(&["type", "address", "path", "token", "namespace"])),
    ("aws-sm", Some(&["type", "region", "prefix", "profile", "endpoint"])),
    ("aws-ps", Some(&["type", "region", "prefix", "profile", "endpoint"])),
    ("azure-sm", Some(&["type", "vault_url", "prefix"])),
    ("azure-kms", Some(&["type", "vault_url", "key_name"])),
    ("azure-ac", Some(&["type", "endpoint", "label", "prefix"])),
    ("gcp-sm", Some(&["type", "project", "prefix"])),
    ("gcp-kms", Some(&["type", "project", "location", "keyring", "key"])),
    ("keepass", Some(&["type", "database", "keyfile", "password"])),
    ("password-store", Some(&["type", "store_dir", "prefix", "gpg_opts"])),
    ("passwordstate", Some(&["type", "base_url", "password_list_id", "api_key", "verify_ssl"])),
    ("proton-pass", Some(&["type", "vault"])),
    ("infisical", Some(&["type", "project_id", "environment", "path"])),
    ("doppler", Some(&["type", "project", "config", "token"])),
    ("pulumi-esc", Some(&["type", "organization", "environment", "project", "token"])),
    ("enpass", Some(&["type", "vault", "keyfile", "password"])),
    ("foks", Some(&["type", "prefix", "team", "home", "host", "bot_token"])),
    ("keeper-sm", Some(&["type", "config_file", "token"])),
    ("kubernetes", Some(&["type", "context", "namespace", "kubeconfig", "prefix"])),
    ("fido2", Some(&["type", "credential_id", "salt", "rp_id", "pin"])),
    ("yubikey", Some(&["type", "challenge", "slot"])),
    ("age-2fa", None),
];

/// A provider of a jdx/fnox type that fnox does not implement. It loads;
/// a secret that needs it fails when it is read.
#[derive(Debug, Clone, PartialEq)]
pub struct UnsupportedConfig {
    /// The `type`, one of [`UNSUPPORTED_TYPES`].
    pub kind: &'static str,
}

impl UnsupportedConfig {
    /// Reads a provider of type `kind` when it is one of jdx/fnox's types
    /// that fnox does not implement; `None` for any other type.
    pub(crate) fn parse(kind: &str, f: &Fields<'_>) -> Option<Result<Self, ConfigError>> {
        let (kind, keys) = UNSUPPORTED_TYPES.iter().find(|(t, _)| *t == kind)?;
        let checked = match keys {
            Some(keys) => f.only(keys),
            None => Ok(()),
        };
        Some(checked.map(|()| Self { kind }))
    }
}

/// A jdx/fnox key that fnox loads and does not act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredKey {
    /// Its dotted path, e.g. `providers.op.auth_command`.
    pub path: String,
    /// Where it is.
    pub at: Location,
}

/// The no-effect keys present in `f`, named under `prefix` (the dotted
/// path of the table, empty for the top level).
pub(crate) fn ignored_in(f: &Fields<'_>, prefix: &[&str]) -> Vec<IgnoredKey> {
    ignored_under(f, || prefix.to_vec())
}

/// [`ignored_in`], with the prefix built only when some key is there (a
/// secret's entry seldom has one).
pub(crate) fn ignored_under<'p>(
    f: &Fields<'_>,
    prefix: impl FnOnce() -> Vec<&'p str>,
) -> Vec<IgnoredKey> {
    let present = f.no_effect_present();
    if present.is_empty() {
        return Vec::new();
    }
    let prefix = prefix();
    present
        .into_iter()
        .map(|(key, at)| {
            let path = prefix.iter().copied().chain([key]).collect::<Vec<_>>().join(".");
            IgnoredKey { path, at }
        })
        .collect()
}

/// The one note about what `config` has of jdx/fnox that fnox does not act
/// on (keys with no effect, providers of types fnox does not implement);
/// `None` when there is nothing.
pub fn notice(config: &Config) -> Option<Notice> {
    let item = |name: &str, kind: Option<&str>, at: &Location| JdxItem {
        name: name.to_string(),
        kind: kind.map(str::to_string),
        file: at.file.to_path_buf(),
        line: at.line,
    };
    let ignored: Vec<JdxItem> = config.ignored.iter().map(|k| item(&k.path, None, &k.at)).collect();
    let unsupported: Vec<JdxItem> =
        config.unsupported_providers().map(|(p, kind)| item(&p.name, Some(kind), &p.at)).collect();
    if ignored.is_empty() && unsupported.is_empty() {
        return None;
    }
    Some(Notice::JdxSettings { ignored, unsupported })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::{ProviderConfig, parse::parse_file};
    use super::*;

    fn parse(text: &str) -> Result<super::super::model::ParsedFile, ConfigError> {
        parse_file(Path::new("fnox.toml"), text)
    }

    #[test]
    fn no_effect_keys_are_read_with_their_paths_in_file_order() {
        let f = parse(
            "[providers.op]\ntype = \"1password\"\nauth_command = \"op signin\"\n\
             [secrets]\nA = { default = \"a\", sync = { provider = \"op\", value = \"x\" } }\n\
             [profiles.ci]\nleases = {}\n[daemon]\nenabled = true\n",
        )
        .unwrap();
        let paths: Vec<(&str, usize)> =
            f.ignored.iter().map(|k| (k.path.as_str(), k.at.line)).collect();
        assert_eq!(
            paths,
            [
                ("providers.op.auth_command", 3),
                ("secrets.A.sync", 5),
                ("profiles.ci.leases", 7),
                ("daemon", 8)
            ]
        );
        let op = &f.base.providers[0];
        assert_eq!(op.config, ProviderConfig::Unsupported(UnsupportedConfig { kind: "1password" }));
        assert_eq!(op.config.kind(), "1password");
    }

    #[test]
    fn a_no_effect_key_is_accepted_only_where_jdx_fnox_has_it() {
        let err = parse("[secrets]\nA = { default = \"a\", leases = {} }\n").unwrap_err();
        assert_eq!(err.to_string(), "fnox.toml:2: unknown key `leases` in secret `A`");
        let err = parse("[providers.op]\ntype = \"1password\"\nkey_file = \"k\"\n").unwrap_err();
        assert_eq!(err.to_string(), "fnox.toml:3: unknown key `key_file` in provider `op`");
    }

    #[test]
    fn every_unsupported_type_is_unknown_to_fnox_itself() {
        for (kind, keys) in UNSUPPORTED_TYPES {
            assert!(!super::super::KNOWN_TYPES.contains(kind), "{kind}");
            assert!(keys.is_none_or(|k| k.first() == Some(&"type")), "{kind}");
        }
    }

    #[test]
    fn age_identity_and_kms_bind_name_are_read() {
        let f = parse(
            "[providers.age]\ntype = \"age\"\nrecipients = []\n\
             identity = { provider = \"kms\", value = \"AQID\" }\n",
        )
        .unwrap();
        let ProviderConfig::Age(age) = &f.base.providers[0].config else { panic!("age") };
        let id = age.identity.as_ref().unwrap();
        assert_eq!((id.provider.as_str(), id.value.as_str()), ("kms", "AQID"));
        let err = parse("[providers.age]\ntype = \"age\"\nidentity = { provider = \"kms\" }\n")
            .unwrap_err();
        assert_eq!(err.to_string(), "fnox.toml:3: the `identity` of provider `age` needs `value`");
        #[cfg(feature = "aws-kms")]
        {
            let f = parse("[providers.k]\ntype = \"aws-kms\"\nkey_id = \"k\"\nbind_name = false\n")
                .unwrap();
            let ProviderConfig::AwsKms(kms) = &f.base.providers[0].config else { panic!("kms") };
            assert!(!kms.bind_name);
            let f = parse("[providers.k]\ntype = \"aws-kms\"\nkey_id = \"k\"\n").unwrap();
            let ProviderConfig::AwsKms(kms) = &f.base.providers[0].config else { panic!("kms") };
            assert!(kms.bind_name);
        }
    }

    #[test]
    fn a_plain_format_must_be_one_jdx_fnox_reads() {
        let err =
            parse("[providers.p]\ntype = \"plain\"\nfile = \"a\"\nformat = \"ini\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "fnox.toml:4: in provider `p`: `format` must be one of \"env\", \"shell\", \"json\", \"yaml\", \"toml\""
        );
    }
}
