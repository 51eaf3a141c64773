//! The merge driver's secret-by-secret merge. Stored values are masked
//! (each replaced by a marker that names its secret) so that git's line
//! merge sees only the structure: two branches that change two neighbouring
//! secrets do not conflict. Each secret's value is then chosen from its
//! three versions, the plaintexts deciding where both branches changed it.

use std::{collections::BTreeMap, ops::Range, path::Path};

use super::{Entry, entries, opened};
use crate::{Project, config::ConfigError};

/// Why a secret's value was chosen although both branches changed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Both sides hold the same plaintext: ours' ciphertext is kept.
    SameValue,
    /// Our side only re-encrypted the base's value: their change wins.
    OursReencrypted,
    /// Their side only re-encrypted the base's value: our change wins.
    TheirsReencrypted,
}

/// One secret's value in the merge.
#[derive(Debug, Clone)]
enum Choice {
    /// This stored value (the string token as written).
    Take(String),
    /// Both branches changed it to different plaintexts (or one of them
    /// does not decrypt here): ours and theirs, `None` where removed.
    Conflict(Option<String>, Option<String>),
}

/// A merge, prepared: the three texts with their values masked, and each
/// secret's value.
#[derive(Debug)]
pub struct MergePlan {
    /// Base, ours and theirs, each stored value replaced by its marker.
    pub masked: [String; 3],
    /// Secrets whose value the plaintexts decided, and why.
    pub resolved: Vec<(String, Resolution)>,
    choices: BTreeMap<String, (String, Choice)>,
    sides: BTreeMap<String, (Option<String>, Option<String>)>,
}

/// The conflict markers' form: length and labels (ours, theirs).
#[derive(Debug, Clone)]
pub struct Markers {
    /// How many `<`, `=`, `>` characters.
    pub size: usize,
    /// Our side's label.
    pub ours: String,
    /// Their side's label.
    pub theirs: String,
}

/// Prepares the merge of `texts` (base, ours, theirs: three versions of
/// `path`); `project` decrypts where both branches changed a value.
pub fn plan_merge(
    project: Option<&Project>,
    path: &Path,
    texts: [&str; 3],
) -> Result<MergePlan, ConfigError> {
    let versions = [entries(path, texts[0])?, entries(path, texts[1])?, entries(path, texts[2])?];
    let mut labels: Vec<&String> = versions.iter().flatten().map(|e| &e.label).collect();
    labels.sort();
    labels.dedup();
    let (mut choices, mut sides, mut resolved) = (BTreeMap::new(), BTreeMap::new(), Vec::new());
    for label in labels {
        let find = |i: usize| versions[i].iter().find(|e| &e.label == label);
        let [b, o, t] = [find(0), find(1), find(2)];
        let lit = |e: Option<&Entry>, i: usize| literal(e, texts[i]);
        let [bl, ol, tl] = [lit(b, 0), lit(o, 1), lit(t, 2)];
        let choice = if ol == tl || bl == tl {
            Choice::Take(ol.clone().unwrap_or_default())
        } else if bl == ol {
            Choice::Take(tl.clone().unwrap_or_default())
        } else {
            match decide(project, [b, o, t]) {
                Some(why) => {
                    resolved.push((label.clone(), why));
                    let take = if why == Resolution::OursReencrypted { &tl } else { &ol };
                    Choice::Take(take.clone().unwrap_or_default())
                }
                None => Choice::Conflict(ol.clone(), tl.clone()),
            }
        };
        choices.insert(marker(label), (label.clone(), choice));
        sides.insert(marker(label), (ol, tl));
    }
    let masked = [0, 1, 2].map(|i| masked(texts[i], &versions[i]));
    Ok(MergePlan { masked, resolved, choices, sides })
}

/// Which side's change wins when both changed a value, from the
/// plaintexts; `None` for a real conflict or a value that does not decrypt.
fn decide(project: Option<&Project>, [b, o, t]: [Option<&Entry>; 3]) -> Option<Resolution> {
    let open = |e: Option<&Entry>| opened(project, e?, true);
    let (op, tp) = (open(o)?, open(t)?);
    if op.expose() == tp.expose() {
        return Some(Resolution::SameValue);
    }
    let bp = open(b)?;
    if bp.expose() == op.expose() {
        Some(Resolution::OursReencrypted)
    } else if bp.expose() == tp.expose() {
        Some(Resolution::TheirsReencrypted)
    } else {
        None
    }
}

/// The stored value's string token in `text`, as written.
fn literal(e: Option<&Entry>, text: &str) -> Option<String> {
    e?.span.clone().map(|s| text[s].to_string())
}

/// The marker that stands for secret `label`'s value in the masked texts.
fn marker(label: &str) -> String {
    format!("\"@fnox-merge-value {label}@\"")
}

fn masked(text: &str, entries: &[Entry]) -> String {
    let mut edits: Vec<(Range<usize>, String)> =
        entries.iter().filter_map(|e| e.span.clone().map(|s| (s, marker(&e.label)))).collect();
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = text.to_string();
    for (range, with) in edits {
        out.replace_range(range, &with);
    }
    out
}

impl MergePlan {
    /// The merged text from git's line merge of the masked texts, with
    /// each secret's value put back: inside a line conflict, each side's
    /// own; elsewhere the chosen one, or a conflict of that line when both
    /// branches changed the value to different plaintexts. Also the
    /// secrets left in conflict. `None` when a secret in conflict has no
    /// line left to show it (one branch removed it, the other changed it).
    pub fn finish(&self, merged: &str, markers: &Markers) -> Option<(String, Vec<String>)> {
        let [open, mid, close] = ["<", "=", ">"].map(|c| c.repeat(markers.size));
        let (mut out, mut side, mut conflicts) = (String::new(), 0u8, Vec::new());
        let mut seen = Vec::new();
        for line in merged.split_inclusive('\n') {
            if line.starts_with(&open) {
                side = 1;
            } else if line.starts_with(&mid) && side > 0 {
                side = 2;
            } else if line.starts_with(&close) && side > 0 {
                side = 0;
            }
            let Some(key) = self.choices.keys().find(|k| line.contains(k.as_str())) else {
                out.push_str(line);
                continue;
            };
            seen.push(key.clone());
            let (ours, theirs) = &self.sides[key];
            let (label, choice) = &self.choices[key];
            let put = |v: &Option<String>| {
                v.as_ref().map_or(String::new(), |v| with_newline(line.replace(key, v)))
            };
            match (side, choice) {
                (1, _) => out.push_str(&put(ours)),
                (2, _) => out.push_str(&put(theirs)),
                (_, Choice::Take(v)) => out.push_str(&line.replace(key, v)),
                (_, Choice::Conflict(o, t)) => {
                    conflicts.push(label.clone());
                    out.push_str(&format!(
                        "{open} {}\n{}{mid}\n{}{close} {}\n",
                        markers.ours,
                        put(o),
                        put(t),
                        markers.theirs
                    ));
                }
            }
        }
        let lost = self
            .choices
            .iter()
            .any(|(k, (_, c))| matches!(c, Choice::Conflict(..)) && !seen.contains(k));
        (!lost).then_some((out, conflicts))
    }
}

fn with_newline(mut line: String) -> String {
    if !line.ends_with('\n') {
        line.push('\n');
    }
    line
}
