//! The rules of `fnox scan`: files never to commit, and credential shapes.

use regex::Regex;

use super::Finding;

/// A rule of `fnox scan`, by its name in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// The decrypted value of a secret of the project.
    SecretValue,
    /// `fnox.local.toml` (personal overrides, often plaintext).
    LocalConfig,
    /// A key file (`*.key`, anything in `.fnox/`).
    KeyFile,
    /// A `.env` file with an assignment.
    DotenvFile,
    /// A `-----BEGIN ... PRIVATE KEY-----` block.
    PrivateKey,
    /// An age identity (`AGE-SECRET-KEY-1...`).
    AgeIdentity,
    /// An AWS access key id.
    AwsAccessKey,
    /// A GitHub token.
    GithubToken,
    /// A GitLab token.
    GitlabToken,
    /// A Slack token.
    SlackToken,
    /// A random-looking value assigned to a name such as `*_TOKEN`.
    HighEntropy,
}

impl Rule {
    /// Its name, as the output and `[scan] allow` show it.
    pub fn name(self) -> &'static str {
        match self {
            Rule::SecretValue => "secret-value",
            Rule::LocalConfig => "local-config",
            Rule::KeyFile => "key-file",
            Rule::DotenvFile => "dotenv-file",
            Rule::PrivateKey => "private-key",
            Rule::AgeIdentity => "age-identity",
            Rule::AwsAccessKey => "aws-access-key",
            Rule::GithubToken => "github-token",
            Rule::GitlabToken => "gitlab-token",
            Rule::SlackToken => "slack-token",
            Rule::HighEntropy => "high-entropy",
        }
    }
}

/// Names of `.env` files that hold examples, not values.
const DOTENV_EXAMPLES: &[&str] = &[".example", ".sample", ".template", ".dist"];

/// The finding about the file itself, when it is one never to commit.
pub(super) fn file_rule(path: &str, content: &[u8]) -> Option<Finding> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let whole = |rule, detail: &str| Some(Finding { line: 1, rule, detail: detail.into() });
    if name == "fnox.local.toml" || name == ".fnox.local.toml" {
        return whole(
            Rule::LocalConfig,
            "fnox.local.toml holds personal settings; never commit it",
        );
    }
    let in_fnox_dir = path.starts_with(".fnox/") || path.contains("/.fnox/");
    if name.ends_with(".key") || in_fnox_dir {
        return whole(Rule::KeyFile, "a key file; never commit it");
    }
    if name.starts_with(".env") && !DOTENV_EXAMPLES.iter().any(|e| name.ends_with(e)) {
        let text = String::from_utf8_lossy(content);
        let line = text.lines().position(is_assignment)?;
        return Some(Finding {
            line: line + 1,
            rule: Rule::DotenvFile,
            detail: "a .env file with values; keep them in fnox.toml (`fnox import`)".into(),
        });
    }
    None
}

/// `NAME=value` (or `export NAME=value`) with a value that is not empty.
fn is_assignment(line: &str) -> bool {
    let line = line.trim_start();
    let line = line.strip_prefix("export ").map_or(line, str::trim_start);
    let Some((name, value)) = line.split_once('=') else { return false };
    let name = name.trim_end();
    let valid = name.chars().next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric());
    let value = value.trim();
    valid && !value.is_empty() && value != "\"\"" && value != "''"
}

/// The compiled credential shapes.
pub(super) struct Shapes {
    shapes: Vec<(Rule, Regex, &'static str)>,
    assignment: Regex,
}

/// Bits per character above which an assigned value looks random.
const ENTROPY_BITS: f64 = 3.5;

impl Shapes {
    pub(super) fn new() -> Self {
        let shapes: [(Rule, &str, &str); 7] = [
            (Rule::PrivateKey, r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----", "a private key"),
            (Rule::AgeIdentity, r"AGE-SECRET-KEY-1[0-9A-Z]{58}", "an age identity"),
            (Rule::AwsAccessKey, r"\b(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b", "an AWS access key id"),
            (
                Rule::GithubToken,
                r"\b(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{40,255})\b",
                "a GitHub token",
            ),
            (Rule::GitlabToken, r"\bglpat-[A-Za-z0-9_-]{20,}", "a GitLab token"),
            (Rule::SlackToken, r"\bxox[abposr]-[A-Za-z0-9-]{10,}", "a Slack token"),
            (
                Rule::SlackToken,
                r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+",
                "a Slack webhook URL",
            ),
        ];
        let shapes = shapes
            .into_iter()
            .map(|(rule, re, what)| (rule, Regex::new(re).expect("valid pattern"), what))
            .collect();
        let assignment = Regex::new(
            r#"(?i)([A-Za-z0-9_.-]*(?:secret|token|passw(?:or)?d|pwd|api_?key|apikey|private_?key|access_?key|auth|credential)[A-Za-z0-9_.-]*)["']?\s*(?::=|=>|[:=])\s*["']?([A-Za-z0-9+/=_.~-]{16,})"#,
        )
        .expect("valid pattern");
        Self { shapes, assignment }
    }

    /// Adds the findings of `line` (number `n`) to `found`.
    pub(super) fn scan_line(&self, line: &str, n: usize, found: &mut Vec<Finding>) {
        let before = found.len();
        for (rule, re, what) in &self.shapes {
            if re.is_match(line) {
                found.push(Finding { line: n, rule: *rule, detail: (*what).to_string() });
            }
        }
        if found.len() > before {
            return;
        }
        for caps in self.assignment.captures_iter(line) {
            let value = &caps[2];
            if looks_random(value) {
                found.push(Finding {
                    line: n,
                    rule: Rule::HighEntropy,
                    detail: format!("a random-looking value assigned to `{}`", &caps[1]),
                });
                return;
            }
        }
    }
}

/// A value with letters and digits whose characters carry at least
/// [`ENTROPY_BITS`] bits each.
fn looks_random(value: &str) -> bool {
    let letters = value.chars().any(|c| c.is_ascii_alphabetic());
    let digits = value.chars().any(|c| c.is_ascii_digit());
    letters && digits && entropy(value) >= ENTROPY_BITS
}

/// Shannon entropy of `s`, in bits per character.
fn entropy(s: &str) -> f64 {
    let mut counts = [0usize; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    #[allow(clippy::cast_precision_loss)]
    let len = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            #[allow(clippy::cast_precision_loss)]
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}
