//! The words for the core's hints: each [`Hint`] becomes one line that
//! names the command to type.

use std::path::Path;

use fnox_core::{
    Damage, Hint,
    config::Distrust,
    failure::{Call, KmsErrorKind, TransitErrorKind},
};

/// The line shown after `hint: ` for `hint`; `None` when there is nothing
/// useful to say.
pub fn render(hint: &Hint) -> Option<String> {
    Some(match hint {
        Hint::SetAgain { secret, damage } => set_again(secret.as_deref(), *damage),
        Hint::SetValue { secret } => format!("set it with `fnox set {secret}`"),
        Hint::ListOrAdd { secret } => {
            format!("run `fnox list` to see the secrets, or `fnox set {secret}` to add it")
        }
        Hint::CreateConfig => "run `fnox init` to create one, or pass `-c PATH`".into(),
        Hint::AllowedKeys(keys) => format!(
            "allowed keys here: {}",
            keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
        ),
        Hint::DefinedProviders(defined) => defined_providers(defined),
        Hint::ChooseProvider { defined } => format!(
            "pass `--provider NAME` or set `default_provider` in fnox.toml; {}",
            defined_providers(defined)
        ),
        Hint::KnownTypes(types) => format!("known types: {}", types.join(", ")),
        Hint::EnableFeature { feature } => format!(
            "use a build of fnox with the `{feature}` feature (the default build has it)"
        ),
        Hint::SecretNameForm => {
            "secret names are environment-variable names: [A-Za-z_][A-Za-z0-9_]*".into()
        }
        Hint::ProfileNameForm => "profile names use letters, digits, `-` and `_`".into(),
        Hint::SetConfigDir => "set FNOX_CONFIG_DIR".into(),
        Hint::BringLocalKey { key_ids } => bring_local_key(key_ids),
        Hint::LocalKeyFormat => {
            "FNOX_LOCAL_KEY must be the base64 of 32 bytes, as in the keyring file".into()
        }
        Hint::CreateAgeIdentity => "set FNOX_AGE_KEY_FILE to your age identity file, or run `fnox init --provider age` to create one".into(),
        Hint::AddRecipientAndRotate => "ask a teammate whose key can read it to add your recipient and run `fnox rotate`, or point FNOX_AGE_KEY_FILE at the right identity".into(),
        Hint::AgeRecipients => {
            "list recipients as `recipients = [\"age1...\"]` in the provider".into()
        }
        Hint::KmsRegion => "set `region = \"...\"` in the provider, or AWS_REGION".into(),
        Hint::Kms { kind, action } => return kms(*kind, action),
        Hint::TransitAddress => {
            "set `address = \"https://vault.example.com:8200\"` in the provider, or VAULT_ADDR".into()
        }
        Hint::TransitToken => "log in with `bao login` or `vault login` (it writes ~/.vault-token), or set FNOX_VAULT_TOKEN or VAULT_TOKEN".into(),
        Hint::TransitCaCert => "`ca_cert` must be a PEM file with one or more CA certificates, among them the one that signed the server's certificate".into(),
        Hint::Transit { kind, call, secret } => return transit(*kind, call, secret.as_deref()),
        Hint::RotateFirst { provider } => {
            format!("run `fnox rotate --provider {provider} --all-profiles` first")
        }
        Hint::TryAgain => "run the command again".into(),
        Hint::FixConfigFile { path, problem } => fix_config_file(path, *problem),
        Hint::TrustDir { dir, global } => trust_dir(dir, global.as_deref()),
        Hint::ChmodKeyFile { path } => format!("run `chmod 600 {}`", path.display()),
        Hint::IgnoreKeyFile { path } => format!(
            "add `{}` to .gitignore, or set `key_file` to a path outside the repository",
            path.display()
        ),
        Hint::LocalKeyOnFirstSet => "no value uses it yet: `fnox set NAME` creates it; if teammates already have this project's key, import it with `fnox keys import`".into(),
        Hint::NewKeyOk => "if a value under another key is intended (every reader then needs both keys), pass --new-key-ok".into(),
        Hint::AllowExecControl { secret } => format!(
            "if this entry is meant to set {secret}, add `allow_exec_control = true` to it"
        ),
        Hint::BreakHardLink => "give the file one name first: copy it, then move the copy over it (the other names keep the old file)".into(),
        Hint::RunAsOwner { uid } => format!(
            "run fnox as uid {uid}, or give the file an owner and group this user may give it (`chown`)"
        ),
        Hint::WaitLonger => {
            "run the command again when the other fnox is done, or set FNOX_LOCK_TIMEOUT=SECONDS to wait longer".into()
        }
        Hint::DidYouMean(near) => format!("did you mean {}?", one_of(near)),
        Hint::DefinedProfiles { profile, defined } => format!(
            "defined profiles: {}; to create `{profile}`, set a secret in it: `fnox -P {profile} set NAME`",
            defined.join(", ")
        ),
        Hint::RemoveNotSensitive { secret } => format!(
            "remove `sensitive = false` from {secret}: a value fnox decrypts is always redacted and masked; `sensitive` is about a plain `default` only"
        ),
        // T6
        Hint::EmptyDefault { secret } => {
            format!("or give {secret} `default = \"\"` if it may be empty")
        }
        Hint::LiteralDollarBrace => "write `$${` for a literal `${` in a default".into(),
        _ => return env_modes(hint),
    })
}

/// T5: the hints about `env` and `as_file`.
fn env_modes(hint: &Hint) -> Option<String> {
    Some(match hint {
        Hint::ExportAll => "`fnox export --all` includes it".into(),
        Hint::GetAnyway { secret } => {
            format!("`fnox get {secret}` reads it whatever `env` says")
        }
        Hint::AsFileWithExec { secret } => format!(
            "run the program with `fnox exec -- PROGRAM`: ${secret} is then the path of a file that holds the value"
        ),
        _ => return jdx(hint),
    })
}

/// The words for the hints about what jdx/fnox has and fnox does not.
fn jdx(hint: &Hint) -> Option<String> {
    Some(match hint {
        Hint::UnsupportedType { kind } => format!(
            "keep reading the secrets of `{kind}` providers with jdx/fnox, or set them again with a provider type fnox implements ({}): `fnox set NAME --provider PROVIDER`",
            fnox_core::config::KNOWN_TYPES.join(", ")
        ),
        Hint::IdentityValue { provider } => format!(
            "the identity's `value` is what provider `{provider}` stores for a secret named FNOX_AGE_IDENTITY: make one with `fnox set FNOX_AGE_IDENTITY --provider {provider} < IDENTITY_FILE`, move its `value` into `identity`, then `fnox remove FNOX_AGE_IDENTITY`"
        ),
        Hint::RestoreDataKey { provider } => format!(
            "the values of provider `{provider}` in this file need its `[data_keys]` entry `{provider}` as it was written: restore it from git (`git diff` shows what changed)"
        ),
        _ => return keys(hint),
    })
}

/// The words for the hints about where keys live (age plugins, the OS
/// keychain).
fn keys(hint: &Hint) -> Option<String> {
    Some(match hint {
        Hint::InstallAgePlugin { binary } => format!(
            "install `{binary}` and put it on PATH (fnox and the age CLI look for it there), or decrypt with an identity that needs no plugin"
        ),
        Hint::AgePassphraseTerminal => "run fnox in a terminal so it can ask for the passphrase; where there is none (CI), give the identity unencrypted in FNOX_AGE_KEY (`age -d` of the file, by hand)".into(),
        Hint::LocalKeyringTerminal => "run fnox in a terminal so it can ask for the passphrase (with `fnox agent start`, once per session); where there is none (CI), give the key in FNOX_LOCAL_KEY (`fnox keys export --env` prints it)".into(),
        Hint::ChangePassphrase => "`fnox keys passphrase` changes its passphrase; `fnox keys unprotect` removes it".into(),
        Hint::ProtectKeyring => "`fnox keys protect` gives it one".into(),
        Hint::AgePluginTerminal => "run fnox in a terminal so the plugin can ask; where there is none (CI), use an identity that needs no plugin (FNOX_AGE_KEY)".into(),
        Hint::Keychain => "the keyring is in the OS keychain (`key_store = \"keychain\"`): unlock it (on Linux a Secret Service such as GNOME Keyring must run on the session bus); where there is none (CI), set FNOX_LOCAL_KEY (`fnox keys export --env`)".into(),
        _ => return None,
    })
}

/// `a`, `a` or `b`, `a`, `b` or `c`: names in backquotes.
pub fn one_of(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

fn fix_config_file(path: &Path, problem: Distrust) -> String {
    let fix = match problem {
        Distrust::Owner { uid } => format!("make it yours: `chown {uid} {}`", path.display()),
        _ => format!("let only its owner write it: `chmod go-w {}`", path.display()),
    };
    format!("if you trust this file, {fix}; if you do not, remove it")
}

fn trust_dir(dir: &Path, global: Option<&Path>) -> String {
    let dir = dir.display();
    match global {
        Some(global) => format!(
            "or trust its directory: add \"{dir}\" to `trusted_dirs = [...]` in {}, or to FNOX_TRUSTED_DIRS (colon-separated)",
            global.display()
        ),
        None => format!("or trust its directory: add {dir} to FNOX_TRUSTED_DIRS (colon-separated)"),
    }
}

fn bring_local_key(key_ids: &[String]) -> String {
    let which = match key_ids {
        [] => "the project's local key".to_string(),
        [one] => format!("local key {one}"),
        many => format!("local keys {}", many.join(", ")),
    };
    format!(
        "this machine does not have {which}: on a machine that has it run `fnox keys export -o FILE`, then `fnox keys import FILE` here; in CI set FNOX_LOCAL_KEY (`fnox keys export --env`). A new key would not decrypt these values"
    )
}

fn set_again_words(secret: Option<&str>) -> String {
    match secret {
        Some(name) => format!("set the value again with `fnox set {name}`"),
        None => "set the value again".into(),
    }
}

fn set_again(secret: Option<&str>, damage: Damage) -> String {
    let words = set_again_words(secret);
    match damage {
        Damage::Damaged => format!("the value in the file is damaged: {words}"),
        Damage::Moved => format!("values cannot be copied between secret names; {words}"),
        Damage::DamagedOrMoved => format!("the value in the file is damaged or was moved: {words}"),
    }
}

fn defined_providers(defined: &[String]) -> String {
    if defined.is_empty() {
        "no provider is defined: add one under [providers], or run `fnox init`".into()
    } else {
        format!("defined providers: {}", defined.join(", "))
    }
}

fn kms(kind: KmsErrorKind, action: &str) -> Option<String> {
    use KmsErrorKind::*;
    Some(match kind {
        AccessDenied => format!("grant `{action}` on this key to your IAM role or user (docs/providers/aws-kms.md lists the policy)"),
        NotFound => "check `key_id` and `region` of the provider; an alias must be written `alias/NAME`".into(),
        Disabled => "enable the key: aws kms enable-key --key-id KEY".into(),
        InvalidState => "if the key is pending deletion: aws kms cancel-key-deletion --key-id KEY".into(),
        IncorrectKey => "decrypt without pinning a key, or run `fnox rotate` to move the value to the current key".into(),
        InvalidCiphertext => "values cannot be copied between secret names; set the value again with `fnox set`".into(),
        Throttled => "lower the request rate or ask AWS for a higher KMS request quota".into(),
        Unavailable => "try again in a moment".into(),
        Unreachable => "check the provider's `endpoint` (or AWS_ENDPOINT_URL_KMS) and the network".into(),
        NoCredentials => "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, run `aws sso login`, or use an instance/task role".into(),
        BadCredentials => "check that the credentials are current and meant for this account and endpoint".into(),
        Other => return None,
    })
}

fn transit(kind: TransitErrorKind, call: &Call, secret: Option<&str>) -> Option<String> {
    use TransitErrorKind::*;
    let Call { path, capability, mount, key, .. } = call;
    Some(match kind {
        PermissionDenied => format!(
            "add `path \"{path}\" {{ capabilities = [\"{capability}\"] }}` to the token's policy (docs/providers/vault-transit.md lists the minimal policy)"
        ),
        BadToken => "log in again (`bao login` or `vault login`), or set FNOX_VAULT_TOKEN or VAULT_TOKEN to a valid token".into(),
        KeyNotFound => format!(
            "create it with `bao write -f {mount}/keys/{key} derived=true`, or fix the provider's `key` and `mount`"
        ),
        NoRoute => "check the provider's `mount` and `namespace`; enable the engine with `bao secrets enable -path=MOUNT transit`".into(),
        Sealed => "unseal it (`bao operator unseal`), or check `bao status`".into(),
        RateLimited | ServerError => "try again in a moment".into(),
        BadCiphertext => set_again(secret, Damage::Damaged),
        VersionTooOld => format!(
            "lower min_decryption_version with `bao write {mount}/keys/{key}/config min_decryption_version=N`, then run `fnox rotate` before raising it again"
        ),
        KeyCannotEncrypt => "use an aes256-gcm96 or chacha20-poly1305 key created with derived=true".into(),
        Unreachable => "check the provider's `address` (or VAULT_ADDR / BAO_ADDR) and that the server is running".into(),
        Tls => "set `ca_cert` to the PEM file of the CA that signed the server's certificate, and check the host name in `address`; a plain-HTTP server needs an http:// address".into(),
        NotVault => "check the scheme (http:// or https://) and the port of `address`".into(),
        Other => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(endpoint: &str, capability: &'static str) -> Call {
        Call {
            path: format!("transit/{endpoint}/app"),
            capability,
            address: "https://vault.example:8200".into(),
            mount: "transit".into(),
            key: "app".into(),
            namespace: None,
        }
    }

    #[test]
    fn transit_hints_name_the_policy_path_and_the_command() {
        let hint = Hint::Transit {
            kind: TransitErrorKind::PermissionDenied,
            call: Box::new(call("encrypt", "update")),
            secret: Some("DB".into()),
        };
        assert_eq!(
            render(&hint).unwrap(),
            "add `path \"transit/encrypt/app\" { capabilities = [\"update\"] }` to the token's policy (docs/providers/vault-transit.md lists the minimal policy)"
        );
        let c = call("decrypt", "update");
        assert_eq!(
            transit(TransitErrorKind::VersionTooOld, &c, None).unwrap(),
            "lower min_decryption_version with `bao write transit/keys/app/config min_decryption_version=N`, then run `fnox rotate` before raising it again"
        );
        use TransitErrorKind::*;
        for kind in [
            PermissionDenied,
            BadToken,
            KeyNotFound,
            NoRoute,
            Sealed,
            RateLimited,
            ServerError,
            BadCiphertext,
            VersionTooOld,
            KeyCannotEncrypt,
            Unreachable,
            Tls,
            NotVault,
            Other,
        ] {
            assert_eq!(transit(kind, &c, None).is_some(), kind != Other, "{kind:?}");
        }
    }

    #[test]
    fn did_you_mean_lists_one_two_or_three_names() {
        let names = |n: &[&str]| Hint::DidYouMean(n.iter().map(|s| s.to_string()).collect());
        assert_eq!(render(&names(&["API_TOKEN"])).unwrap(), "did you mean `API_TOKEN`?");
        assert_eq!(render(&names(&["A", "B"])).unwrap(), "did you mean `A` or `B`?");
        assert_eq!(render(&names(&["A", "B", "C"])).unwrap(), "did you mean `A`, `B` or `C`?");
    }

    #[test]
    fn set_again_names_the_secret_when_known() {
        assert_eq!(
            render(&Hint::SetAgain { secret: Some("DB".into()), damage: Damage::Damaged }).unwrap(),
            "the value in the file is damaged: set the value again with `fnox set DB`"
        );
        assert_eq!(
            render(&Hint::SetAgain { secret: None, damage: Damage::Moved }).unwrap(),
            "values cannot be copied between secret names; set the value again"
        );
        assert!(render(&Hint::TransitToken).unwrap().contains("bao login"));
        assert!(render(&Hint::TransitAddress).unwrap().contains("VAULT_ADDR"));
    }
}
