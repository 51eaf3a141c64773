//! Streaming redaction for `exec --redact`: every secret value (of at least
//! [`MIN_LEN`] bytes) in a byte stream becomes `[redacted:NAME]`, also when
//! a value arrives split across reads.

use aho_corasick::{AhoCorasick, MatchKind};
use zeroize::Zeroizing;

/// Values shorter than this are not redacted (too likely to hit by chance).
pub const MIN_LEN: usize = 4;

/// The patterns to replace.
#[derive(Debug)]
pub struct Redactor {
    search: AhoCorasick,
    patterns: Vec<Zeroizing<Vec<u8>>>,
    replacements: Vec<Vec<u8>>,
    longest: usize,
}

impl Redactor {
    /// A redactor for `(name, value)` pairs; `Ok(None)` when no value is
    /// long enough. The same value under two names is shown with the first
    /// name. An error when the matcher cannot be built: the caller must not
    /// let output through unfiltered then.
    pub fn new<'a>(
        secrets: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Result<Option<Self>, aho_corasick::BuildError> {
        let mut patterns: Vec<&[u8]> = Vec::new();
        let mut replacements = Vec::new();
        for (name, value) in secrets {
            if value.len() >= MIN_LEN && !patterns.contains(&value) {
                patterns.push(value);
                replacements.push(format!("[redacted:{name}]").into_bytes());
            }
        }
        if patterns.is_empty() {
            return Ok(None);
        }
        let longest = patterns.iter().map(|p| p.len()).max().unwrap_or(0);
        let search =
            AhoCorasick::builder().match_kind(MatchKind::LeftmostLongest).build(&patterns)?;
        let patterns = patterns.into_iter().map(|p| Zeroizing::new(p.to_vec())).collect();
        Ok(Some(Self { search, patterns, replacements, longest }))
    }

    /// Where the bytes that may be the start of a value begin: the first
    /// position whose rest of `buf` is a proper prefix of some value, or
    /// `buf.len()`. Only those bytes need to wait for the next read; all
    /// others can be written now (so a prompt or a progress line is not held).
    fn open_from(&self, buf: &[u8]) -> usize {
        let start = buf.len().saturating_sub(self.longest - 1);
        (start..buf.len())
            .find(|&i| {
                let rest = &buf[i..];
                self.patterns.iter().any(|p| p.len() > rest.len() && p.starts_with(rest))
            })
            .unwrap_or(buf.len())
    }

    /// A filter for one stream.
    pub fn stream(&self) -> Filter<'_> {
        Filter { redactor: self, pending: Vec::new() }
    }
}

/// The state of one stream: bytes held back because they might be the
/// start of a value.
#[derive(Debug)]
pub struct Filter<'a> {
    redactor: &'a Redactor,
    pending: Vec<u8>,
}

impl Filter<'_> {
    /// Takes `data`, appends what can safely be written to `out`.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<u8>) {
        self.pending.extend_from_slice(data);
        self.drain(out, false);
    }

    /// End of stream: writes everything still held.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.drain(out, true);
    }

    fn drain(&mut self, out: &mut Vec<u8>, eof: bool) {
        let buf = std::mem::take(&mut self.pending);
        // At a position before `safe`, no value can continue past the end
        // of `buf`, so what matches there is final; bytes from `safe` on
        // may be the start of a value that the next read completes.
        let safe = if eof { buf.len() } else { self.redactor.open_from(&buf) };
        let mut pos = 0;
        for m in self.redactor.search.find_iter(&buf) {
            if m.start() >= safe {
                break;
            }
            out.extend_from_slice(&buf[pos..m.start()]);
            out.extend_from_slice(&self.redactor.replacements[m.pattern().as_usize()]);
            pos = m.end();
        }
        let keep_from = pos.max(safe);
        out.extend_from_slice(&buf[pos..keep_from]);
        self.pending = buf[keep_from..].to_vec();
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn run(r: &Redactor, chunks: &[&[u8]]) -> Vec<u8> {
        let mut f = r.stream();
        let mut out = Vec::new();
        for c in chunks {
            f.feed(c, &mut out);
        }
        f.finish(&mut out);
        out
    }

    #[test]
    fn whole_and_split_values() {
        let r = Redactor::new([("TOKEN", &b"s3cr3t"[..]), ("PIN", &b"12"[..])]).unwrap().unwrap();
        assert_eq!(run(&r, &[b"a s3cr3t b 12"]), b"a [redacted:TOKEN] b 12");
        let one_by_one: Vec<&[u8]> = b"xs3cr3ty".chunks(1).collect();
        assert_eq!(run(&r, &one_by_one), b"x[redacted:TOKEN]y");
        assert_eq!(run(&r, &[b"s3cr", b"3"]), b"s3cr3");
    }

    #[test]
    fn longest_value_wins() {
        let r =
            Redactor::new([("SHORT", &b"abcd"[..]), ("LONG", &b"abcdefgh"[..])]).unwrap().unwrap();
        assert_eq!(run(&r, &[b"abcdefgh abcd"]), b"[redacted:LONG] [redacted:SHORT]");
        assert_eq!(run(&r, &[b"abcd", b"efgh"]), b"[redacted:LONG]");
    }

    #[test]
    fn output_that_cannot_start_a_value_is_written_at_once() {
        let r = Redactor::new([("TOKEN", &b"s3cr3t-token"[..])]).unwrap().unwrap();
        let mut f = r.stream();
        let mut out = Vec::new();
        f.feed(b"ready\n", &mut out);
        assert_eq!(out, b"ready\n");
        out.clear();
        f.feed(b"x s3cr", &mut out);
        assert_eq!(out, b"x ");
        out.clear();
        f.feed(b"3t-token!", &mut out);
        assert_eq!(out, b"[redacted:TOKEN]!");
        out.clear();
        f.feed(b"s3cr3t-toke", &mut out);
        f.finish(&mut out);
        assert_eq!(out, b"s3cr3t-toke");
    }

    #[test]
    fn short_values_are_not_redacted() {
        assert!(Redactor::new([("A", &b"abc"[..])]).unwrap().is_none());
    }

    proptest! {
        #[test]
        fn chunking_never_changes_the_output(
            text in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b'c')], 0..200),
            cuts in proptest::collection::vec(any::<usize>(), 0..20),
        ) {
            let values = [("X", &b"abca"[..]), ("Y", &b"bcbcb"[..]), ("Z", &b"abcaab"[..])];
            let r = Redactor::new(values).unwrap().unwrap();
            let whole = run(&r, &[&text]);
            let mut points: Vec<usize> = cuts.iter().map(|c| c % (text.len() + 1)).collect();
            points.sort();
            let mut chunks = Vec::new();
            let mut last = 0;
            for p in points {
                chunks.push(&text[last..p]);
                last = p;
            }
            chunks.push(&text[last..]);
            prop_assert_eq!(run(&r, &chunks), whole.clone());
            let whole_str = String::from_utf8_lossy(&whole).into_owned();
            prop_assert!(!whole_str.contains("abca") && !whole_str.contains("bcbcb"));
        }
    }
}
