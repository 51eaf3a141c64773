//! After `init` added a provider: which one `fnox set NAME` uses, and the
//! `next:` line that says what to type.

use std::path::Path;

use fnox_core::{LoadOptions, config::edit, plan};

use super::{CommandError, Env, Ui};

/// Makes sure `fnox set NAME` still has a provider to use once `name` is
/// added to `path`. With a second provider and no `default_provider`,
/// `set` would refuse; so `default_provider` is set to the one `set` used
/// until now (`before`), or, in a file `init` just created, to `name`.
/// Returns the provider `fnox set NAME` now uses, if any.
pub(super) fn settle(
    ui: &Ui,
    env: &Env,
    load: &LoadOptions,
    path: &Path,
    name: &str,
    created: bool,
    before: Option<String>,
) -> Result<Option<String>, CommandError> {
    let Ok(project) = env.fnox.load(load) else { return Ok(Some(name.to_string())) };
    let config = project.config();
    if config.default_provider.is_some() || config.providers.len() < 2 {
        return Ok(config.default_provider.clone());
    }
    let Some(chosen) = (if created { Some(name.to_string()) } else { before }) else {
        return Ok(None);
    };
    let wait = env.fnox.lock_wait()?;
    if !plan::edit_file(path, &wait, |text| edit::set_default_provider(text, &chosen))? {
        return Ok(None);
    }
    let still = if chosen == name { "" } else { "still " };
    ui.note(&format!(
        "set default_provider = \"{chosen}\" in {}: `fnox set NAME` {still}encrypts with `{chosen}`",
        ui.path(path)
    ));
    Ok(Some(chosen))
}

/// The `next:` line after provider `name` was added, when `fnox set NAME`
/// uses `default`; `global`: the provider is in the global config file.
pub(super) fn next(name: &str, default: Option<&str>, global: bool) -> String {
    let set = if global { "fnox set --global" } else { "fnox set" };
    if default == Some(name) {
        format!("next: `{set} NAME` to add a secret, `fnox get NAME` to read it")
    } else {
        format!(
            "next: `{set} --provider {name} NAME` to add a secret with `{name}`, `fnox get NAME` to read it"
        )
    }
}
