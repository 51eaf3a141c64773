//! `set` when only the entry's settings change (`--default`,
//! `--if-missing`, `-d` on a terminal), and what `--dry-run` says.

use fnox_core::{Project, config::edit, plan};

use super::{Args, CommandError, Env, Ui, entry_place, place};
use crate::exit_codes::ExitStatus;

/// The entry's string settings that `args` write, in file order:
/// `description` (when `with_description`), `default`, `if_missing`.
pub(super) fn of(args: &Args, with_description: bool) -> Vec<(&'static str, &str)> {
    let description = args.description.as_deref().filter(|_| with_description);
    [
        ("description", description),
        ("default", args.default.as_deref()),
        ("if_missing", args.if_missing.as_deref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect()
}

/// The options that only apply to a value, which is not read here.
fn value_options(args: &Args) -> Option<&'static str> {
    [
        (args.provider.is_some(), "--provider"),
        (args.envelope, "--envelope"),
        (args.base64_encode, "--base64-encode"),
        (args.raw, "--raw"),
        (args.allow_empty, "--allow-empty"),
        (args.new_key_ok, "--new-key-ok"),
    ]
    .into_iter()
    .find_map(|(given, name)| given.then_some(name))
}

/// Writes the entry's settings (creating the entry, without a value, when
/// there is none); its value stays as it is.
pub(super) fn run(
    ui: &Ui,
    env: &Env,
    project: &Project,
    args: &Args,
    new_profile: &str,
) -> Result<ExitStatus, CommandError> {
    if let Some(option) = value_options(args) {
        return Err(CommandError::usage(format!(
            "{option} applies to a value, and `fnox set {}` reads none here: with --default or --if-missing (or -d alone on a terminal) only the entry's settings change",
            args.name
        ))
        .hint("give the value as well, as VALUE or with --from-file PATH")
        .hint(format!("or store the value first: `fnox set {}` reads it from stdin", args.name)));
    }
    let (file, table, existing) = entry_place(project, &args.name)?;
    let settings = of(args, true);
    let names: Vec<&str> = settings.iter().map(|(k, _)| *k).collect();
    let value =
        if existing.is_some_and(|d| d.value.is_some()) { "value unchanged" } else { "no value" };
    let what = format!("{} of {} ({value})", names.join(", "), args.name);
    let shown = place(ui, &file, &table);
    if args.dry_run {
        return dry_run(ui, &what, &shown, new_profile);
    }
    let wait = env.fnox.lock_wait()?;
    let changed = plan::edit_file(&file, &wait, |text| {
        edit::set_settings(text, &table, &args.name, &settings)
    })?;
    if changed {
        ui.note(&format!("set {what} in {shown}{new_profile}"));
    } else {
        ui.note(&format!(
            "{} in {shown} already has this {}; nothing changed",
            args.name,
            names.join(", ")
        ));
    }
    Ok(ExitStatus::SUCCESS)
}

/// `--dry-run`: what would be written, on stdout; nothing is.
pub(super) fn dry_run(
    ui: &Ui,
    what: &str,
    place: &str,
    new_profile: &str,
) -> Result<ExitStatus, CommandError> {
    ui.report(&format!(
        "dry run: would set {what} in {place}{new_profile}; nothing was changed\n"
    ))?;
    Ok(ExitStatus::SUCCESS)
}
