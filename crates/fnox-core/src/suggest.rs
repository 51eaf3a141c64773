//! Did-you-mean: the defined names nearest to a mistyped one (a secret, a
//! profile), for the hint under "not defined" errors.

/// At most this many suggestions.
pub const MAX_SUGGESTIONS: usize = 3;

/// The names among `candidates` that `typed` most likely meant, best first.
///
/// Names equal to `typed` but for case come alone, when there are any.
/// Otherwise: names within a small edit distance (insertions, deletions,
/// substitutions and swaps of two neighbours, ignoring case), about one
/// edit per three characters typed, and names that `typed` begins (three
/// characters or more: `prod` for `production`); nearest first, then by
/// name. At most [`MAX_SUGGESTIONS`]; empty when nothing is near.
pub fn nearest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let lower = typed.to_lowercase();
    let typed_len = lower.chars().count();
    let mut names: Vec<&str> = candidates.into_iter().filter(|c| *c != typed).collect();
    names.sort_unstable();
    names.dedup();
    let same_but_case: Vec<String> = names
        .iter()
        .filter(|c| c.to_lowercase() == lower)
        .take(MAX_SUGGESTIONS)
        .map(|c| c.to_string())
        .collect();
    if !same_but_case.is_empty() {
        return same_but_case;
    }
    let threshold = (typed_len / 3).max(1);
    let mut near: Vec<(usize, &str)> = names
        .into_iter()
        .filter_map(|c| {
            let candidate = c.to_lowercase();
            let distance = strsim::damerau_levenshtein(&lower, &candidate);
            // A distance as long as the shorter name is a different name
            // (`A` for `B`), however short.
            let shorter = typed_len.min(candidate.chars().count());
            let close = distance <= threshold && distance < shorter;
            let begun = typed_len >= 3 && candidate.starts_with(&lower);
            (close || begun).then_some((distance, c))
        })
        .collect();
    near.sort_unstable();
    near.into_iter().take(MAX_SUGGESTIONS).map(|(_, c)| c.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn near(typed: &str, candidates: &[&str]) -> Vec<String> {
        nearest(typed, candidates.iter().copied())
    }

    #[test]
    fn one_edit_away() {
        let names = ["API_TOKEN", "DATABASE_URL", "LOG_LEVEL"];
        assert_eq!(near("API_TOKE", &names), ["API_TOKEN"]);
        assert_eq!(near("API_TOKENS", &names), ["API_TOKEN"]);
        assert_eq!(near("API_TOKNE", &names), ["API_TOKEN"]);
        assert_eq!(near("DATABSAE_URL", &names), ["DATABASE_URL"]);
        assert_eq!(near("prodcution", &["default", "production", "staging"]), ["production"]);
    }

    #[test]
    fn case_alone_wins_over_edits() {
        let names = ["API_TOKEN", "API_TOKEM", "Api_Token"];
        assert_eq!(near("api_token", &names), ["API_TOKEN", "Api_Token"]);
    }

    #[test]
    fn nearest_first_then_by_name_and_at_most_three() {
        let names = ["KEY_B", "KEY_A", "KEY_AB", "KEY_C", "KEY_D"];
        assert_eq!(near("KEY_", &names), ["KEY_A", "KEY_B", "KEY_C"]);
        assert_eq!(near("KEY_AC", &names), ["KEY_A", "KEY_AB", "KEY_C"]);
    }

    #[test]
    fn a_begun_name_is_suggested() {
        assert_eq!(near("prod", &["default", "production", "staging"]), ["production"]);
        // Two characters begin too many names to mean one.
        assert!(near("pr", &["default", "production"]).is_empty());
    }

    #[test]
    fn nothing_far_and_nothing_that_is_only_short() {
        let names = ["API_TOKEN", "DATABASE_URL"];
        assert!(near("SENTRY_DSN", &names).is_empty());
        assert!(near("API", &["DB"]).is_empty());
        // One edit, but every character differs.
        assert!(near("A", &["B"]).is_empty());
        assert_eq!(near("ci", &["cd", "default"]), ["cd"]);
        assert!(near("X", &[]).is_empty());
    }

    #[test]
    fn the_typed_name_itself_and_duplicates_are_not_repeated() {
        assert_eq!(near("staging", &["staging", "stagin", "stagin"]), ["stagin"]);
    }
}
