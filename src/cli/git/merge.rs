//! `fnox git merge`: git's merge driver for config files.

use std::path::{Path, PathBuf};

use fnox_core::versions::{self, Markers, Resolution};

use super::{project_for, read};
use crate::{
    cli::{Env, error::CommandError, ui::Ui},
    exit_codes::ExitStatus,
};

/// Merge three versions of a config file (git's merge driver).
#[derive(Debug, clap::Args)]
#[command(after_help = "git runs it as `fnox git merge %O %A %B %P %L %S %X %Y` and reads the
result from OURS. Secrets are merged one by one: two branches that change
different secrets never conflict, even on neighbouring lines. Where both
branches changed one secret's value, the plaintexts decide: the same value on
both sides keeps ours' ciphertext; a branch that only re-encrypted the old
value gives way to the other's change. A real conflict (two different new
values, or a value that cannot be decrypted here) is left with conflict
markers around that secret's line, and the exit status is 1.")]
pub struct Args {
    /// The common ancestor's version (%O).
    base: PathBuf,
    /// Our version (%A); the result is written here.
    ours: PathBuf,
    /// Their version (%B).
    theirs: PathBuf,
    /// The file's path in the repository (%P).
    path: PathBuf,
    /// The conflict markers' length (%L).
    #[arg(default_value_t = 7)]
    marker_size: usize,
    /// The labels of the conflict markers: base, ours, theirs (%S %X %Y).
    #[arg(num_args = 0..=3)]
    labels: Vec<String>,
}

pub(super) fn run(ui: &Ui, env: &Env, args: Args) -> Result<ExitStatus, CommandError> {
    let texts = [read(&args.base)?, read(&args.ours)?, read(&args.theirs)?];
    let shown = ui.path(&args.path);
    let markers = Markers {
        size: args.marker_size,
        ours: args.labels.get(1).cloned().unwrap_or_else(|| "ours".into()),
        theirs: args.labels.get(2).cloned().unwrap_or_else(|| "theirs".into()),
    };
    let base_label = args.labels.first().cloned().unwrap_or_else(|| "base".into());
    let labels = [markers.ours.as_str(), base_label.as_str(), markers.theirs.as_str()];
    let project = project_for(env, &env.cwd().join(&args.path));
    let plan =
        versions::plan_merge(project.as_ref(), &args.path, [&texts[0], &texts[1], &texts[2]]);
    let plan = match plan {
        Ok(plan) => plan,
        Err(e) => {
            ui.warn(&format!("{shown}: merged line by line: a version is not a valid config: {e}"));
            return line_merge(ui, &args, &texts, labels, &shown);
        }
    };
    let (merged, lines) = merge_file(&args, &plan.masked, labels)?;
    let Some((text, conflicts)) = plan.finish(&merged, &markers) else {
        return line_merge(ui, &args, &texts, labels, &shown);
    };
    write(&args.ours, &text)?;
    for (label, why) in &plan.resolved {
        ui.note(&format!("{shown}: {label}: {}", said(*why)));
    }
    for label in &conflicts {
        ui.note(&format!(
            "{shown}: {label}: changed on both branches: a conflict for you to resolve"
        ));
    }
    if lines + conflicts.len() > 0 {
        return Ok(ExitStatus(1));
    }
    Ok(ExitStatus::SUCCESS)
}

/// git's plain line merge of the three versions into OURS.
fn line_merge(
    ui: &Ui,
    args: &Args,
    texts: &[String; 3],
    labels: [&str; 3],
    shown: &str,
) -> Result<ExitStatus, CommandError> {
    let (merged, conflicts) = merge_file(args, texts, labels)?;
    write(&args.ours, &merged)?;
    if conflicts > 0 {
        let n = fnox_core::words::count(conflicts, "conflict", "conflicts");
        ui.note(&format!("{shown}: {n} for you to resolve"));
        return Ok(ExitStatus(1));
    }
    Ok(ExitStatus::SUCCESS)
}

fn said(why: Resolution) -> &'static str {
    match why {
        Resolution::SameValue => "the same value on both branches, kept ours' ciphertext",
        Resolution::OursReencrypted => "only re-encrypted on our branch, took their change",
        Resolution::TheirsReencrypted => "only re-encrypted on their branch, kept our change",
    }
}

fn write(path: &Path, text: &str) -> Result<(), CommandError> {
    std::fs::write(path, text)
        .map_err(|e| CommandError::io(format!("cannot write {}", path.display()), e))
}

/// `git merge-file -p` of `texts` (base, ours, theirs), written over git's
/// own files of the three versions: the merged text and the number of
/// conflicts.
fn merge_file(
    args: &Args,
    texts: &[String; 3],
    labels: [&str; 3],
) -> Result<(String, usize), CommandError> {
    let files = [&args.ours, &args.base, &args.theirs];
    for (file, text) in files.iter().zip([&texts[1], &texts[0], &texts[2]]) {
        write(file, text)?;
    }
    let out = std::process::Command::new("git")
        .arg("merge-file")
        .arg("-p")
        .arg(format!("--marker-size={}", args.marker_size))
        .args(["-L", labels[0], "-L", labels[1], "-L", labels[2]])
        .args(files)
        .output()
        .map_err(|e| CommandError::io("cannot run git merge-file", e))?;
    let merged = String::from_utf8(out.stdout)
        .map_err(|_| CommandError::user("`git merge-file` gave text that is not UTF-8"))?;
    match out.status.code() {
        Some(n) if (0..128).contains(&n) => Ok((merged, n as usize)),
        _ => Err(CommandError::user("`git merge-file` failed")),
    }
}
