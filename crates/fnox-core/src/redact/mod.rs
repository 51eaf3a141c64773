//! Streaming redaction for `exec --redact`: every secret value (of at least
//! [`MIN_LEN`] bytes) in a byte stream is replaced by `[redacted:NAME]`,
//! also when a value arrives split across reads, and also where values
//! overlap (`abcd1234` and `1234wxyz` in `abcd1234wxyz`): every byte that
//! belongs to any value is replaced, and the replacement names each value
//! found there, so no byte of a value gets through.
//!
//! Time is linear in the output whatever the values look like: one pass of
//! an Aho-Corasick automaton ([`automaton`]), whose state also says how many
//! of the last bytes can still be the start of a value: only those wait for
//! the next read (so a prompt or a progress line is not held).
//!
//! One stream is one filter: a value split between stdout and stderr (half
//! on each) is not recognised.

mod automaton;

use std::collections::VecDeque;

use zeroize::Zeroizing;

use automaton::{Automaton, ROOT};

/// Values shorter than this are not redacted (too likely to hit by chance).
pub const MIN_LEN: usize = 4;

/// At most this many names in one replacement (overlapping values).
const MAX_NAMES: usize = 8;

/// The values to replace.
#[derive(Debug)]
pub struct Redactor {
    automaton: Automaton,
    lengths: Vec<usize>,
    replacements: Vec<Vec<u8>>,
}

impl Redactor {
    /// A redactor for `(name, value)` pairs; `None` when no value is long
    /// enough. The same value under two names is shown with the first name.
    pub fn new<'a>(secrets: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Option<Self> {
        let mut patterns: Vec<&[u8]> = Vec::new();
        let mut replacements = Vec::new();
        for (name, value) in secrets {
            if value.len() >= MIN_LEN && !patterns.contains(&value) {
                patterns.push(value);
                replacements.push(format!("[redacted:{name}]").into_bytes());
            }
        }
        if patterns.is_empty() {
            return None;
        }
        let lengths = patterns.iter().map(|p| p.len()).collect();
        Some(Self { automaton: Automaton::new(&patterns), lengths, replacements })
    }

    /// A filter for one stream.
    pub fn stream(&self) -> Filter<'_> {
        Filter {
            redactor: self,
            state: ROOT,
            pending: Zeroizing::new(Vec::new()),
            head: 0,
            base: 0,
            pos: 0,
            regions: VecDeque::new(),
        }
    }
}

/// Bytes covered by overlapping values: they become the replacements of
/// the values found there.
#[derive(Debug)]
struct Region {
    start: u64,
    end: u64,
    /// The values not inside another one, by where they start.
    names: Vec<(u64, usize)>,
}

/// The state of one stream: the automaton's state, and the bytes held back
/// because a value may still cover them.
#[derive(Debug)]
pub struct Filter<'a> {
    redactor: &'a Redactor,
    state: u32,
    /// Bytes not yet written, from `pending[head]` on (at stream position
    /// `base`).
    pending: Zeroizing<Vec<u8>>,
    head: usize,
    base: u64,
    /// Bytes read so far.
    pos: u64,
    /// Regions not yet written, in stream order, not overlapping.
    regions: VecDeque<Region>,
}

impl Filter<'_> {
    /// Takes `data`, appends what can safely be written to `out`.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let r = self.redactor;
        self.pending.extend_from_slice(data);
        for &b in data {
            self.state = r.automaton.next(self.state, b);
            self.pos += 1;
            if let Some((index, len)) = r.automaton.longest(self.state, &r.lengths) {
                self.found(self.pos - len as u64, self.pos, index);
            }
        }
        // No value found later can start before `safe`.
        let safe = self.pos - r.automaton.depth(self.state);
        self.write(safe, out);
    }

    /// End of stream: writes everything still held.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        self.write(self.pos, out);
    }

    /// Value `index` covers `start..end` (`end` is the current position).
    fn found(&mut self, start: u64, end: u64, index: usize) {
        debug_assert!(start >= self.base, "a value starts in bytes already written");
        let mut region_start = start;
        let mut names: Vec<(u64, usize)> = Vec::new();
        // Regions it overlaps (they end at or before `end`) merge into one.
        while let Some(last) = self.regions.back()
            && last.end > start
        {
            let last = self.regions.pop_back().expect("checked above");
            region_start = region_start.min(last.start);
            let mut merged = last.names;
            merged.extend(names);
            merged.truncate(MAX_NAMES);
            names = merged;
        }
        // Values that start inside this one also end inside it.
        while names.last().is_some_and(|&(s, _)| s >= start) {
            names.pop();
        }
        if names.last().map(|&(_, i)| i) != Some(index) && names.len() < MAX_NAMES {
            names.push((start, index));
        }
        self.regions.push_back(Region { start: region_start, end, names });
    }

    /// Writes everything before `safe`: plain bytes as they are, regions
    /// that end there as their replacements; stops at a region that may
    /// still grow.
    fn write(&mut self, safe: u64, out: &mut Vec<u8>) {
        while let Some(region) = self.regions.front()
            && region.end <= safe
        {
            let region = self.regions.pop_front().expect("checked above");
            self.plain_up_to(region.start, out);
            for &(_, index) in &region.names {
                out.extend_from_slice(&self.redactor.replacements[index]);
            }
            self.skip_to(region.end);
        }
        let limit = self.regions.front().map_or(safe, |r| r.start.min(safe));
        self.plain_up_to(limit, out);
        // Drop written bytes once they are half of the buffer: linear overall.
        if self.head > 0 && self.head * 2 >= self.pending.len() {
            self.pending.drain(..self.head);
            self.head = 0;
        }
    }

    fn plain_up_to(&mut self, to: u64, out: &mut Vec<u8>) {
        let n = (to - self.base) as usize;
        out.extend_from_slice(&self.pending[self.head..self.head + n]);
        self.skip_to(to);
    }

    fn skip_to(&mut self, to: u64) {
        self.head += (to - self.base) as usize;
        self.base = to;
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
        let r = Redactor::new([("TOKEN", &b"s3cr3t"[..]), ("PIN", &b"12"[..])]).unwrap();
        assert_eq!(run(&r, &[b"a s3cr3t b 12"]), b"a [redacted:TOKEN] b 12");
        let one_by_one: Vec<&[u8]> = b"xs3cr3ty".chunks(1).collect();
        assert_eq!(run(&r, &one_by_one), b"x[redacted:TOKEN]y");
        assert_eq!(run(&r, &[b"s3cr", b"3"]), b"s3cr3");
    }

    #[test]
    fn longest_value_wins() {
        let r = Redactor::new([("SHORT", &b"abcd"[..]), ("LONG", &b"abcdefgh"[..])]).unwrap();
        assert_eq!(run(&r, &[b"abcdefgh abcd"]), b"[redacted:LONG] [redacted:SHORT]");
        assert_eq!(run(&r, &[b"abcd", b"efgh"]), b"[redacted:LONG]");
    }

    #[test]
    fn output_that_cannot_start_a_value_is_written_at_once() {
        let r = Redactor::new([("TOKEN", &b"s3cr3t-token"[..])]).unwrap();
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
        assert!(Redactor::new([("A", &b"abc"[..])]).is_none());
    }

    #[test]
    fn overlapping_values_are_both_redacted() {
        let r = Redactor::new([("A", &b"abcd1234"[..]), ("B", &b"1234wxyz"[..])]).unwrap();
        assert_eq!(run(&r, &[b"x abcd1234wxyz y"]), b"x [redacted:A][redacted:B] y");
        let one_by_one: Vec<&[u8]> = b"abcd1234wxyz".chunks(1).collect();
        assert_eq!(run(&r, &one_by_one), b"[redacted:A][redacted:B]");
        // Side by side, each is itself; one inside another is the outer one.
        assert_eq!(run(&r, &[b"abcd12341234wxyz"]), b"[redacted:A][redacted:B]");
        let r = Redactor::new([("IN", &b"cdef"[..]), ("OUT", &b"abcdefgh"[..])]).unwrap();
        assert_eq!(
            run(&r, &[b"abcdefgh cdef abcdef"]),
            b"[redacted:OUT] [redacted:IN] ab[redacted:IN]"
        );
        // A value that overlaps itself: one replacement for the run.
        let r = Redactor::new([("R", &b"abab"[..])]).unwrap();
        assert_eq!(run(&r, &[b"-ababababa-"]), b"-[redacted:R]a-");
    }

    #[test]
    fn a_long_run_of_one_byte_is_linear() {
        // 100 KB of `a` as a value over 2 MB of `a` (quadratic before).
        let value = vec![b'a'; 100_000];
        let r = Redactor::new([("A", &value[..])]).unwrap();
        let mut text = vec![b'a'; 2_000_000];
        text.extend_from_slice(b"b");
        text.extend_from_slice(&value[..99_999]);
        let chunks: Vec<&[u8]> = text.chunks(64 * 1024).collect();
        let out = run(&r, &chunks);
        assert_eq!(&out[..13], b"[redacted:A]b");
        assert_eq!(out.len(), 13 + 99_999);
    }

    /// `out` with each run of `[redacted:NAME]` replacements as one `#`.
    fn runs_of_names(out: &[u8]) -> Vec<u8> {
        let mut shown = Vec::new();
        let mut i = 0;
        while i < out.len() {
            if out[i] == b'[' {
                let close = out[i..].iter().position(|&b| b == b']').unwrap();
                if shown.last() != Some(&b'#') || !out[..i].ends_with(b"]") {
                    shown.push(b'#');
                }
                i += close + 1;
            } else {
                shown.push(out[i]);
                i += 1;
            }
        }
        shown
    }

    proptest! {
        #[test]
        fn exactly_the_bytes_of_values_are_replaced(
            values in proptest::collection::vec(
                proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b')], 4..8), 1..5),
            text in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b'c')], 0..300),
            cut in any::<usize>(),
        ) {
            let names: Vec<String> = (0..values.len()).map(|i| format!("V{i}")).collect();
            let r = Redactor::new(names.iter().map(String::as_str).zip(values.iter().map(Vec::as_slice)))
                .unwrap();
            // Brute force: which bytes does some value cover?
            let mut covered = vec![false; text.len()];
            for v in &values {
                for start in 0..text.len() {
                    if text[start..].starts_with(v) {
                        covered[start..start + v.len()].iter_mut().for_each(|c| *c = true);
                    }
                }
            }
            let mut want = Vec::new();
            for (i, &b) in text.iter().enumerate() {
                if !covered[i] {
                    want.push(b);
                } else if i == 0 || !covered[i - 1] {
                    want.push(b'#');
                }
            }
            let cut = cut % (text.len() + 1);
            let got = run(&r, &[&text[..cut], &text[cut..]]);
            prop_assert_eq!(&got, &run(&r, &[&text]));
            prop_assert_eq!(String::from_utf8(runs_of_names(&got)).unwrap(), String::from_utf8(want).unwrap());
        }
        #[test]
        fn chunking_never_changes_the_output(
            text in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), Just(b'c')], 0..200),
            cuts in proptest::collection::vec(any::<usize>(), 0..20),
        ) {
            let values = [("X", &b"abca"[..]), ("Y", &b"bcbcb"[..]), ("Z", &b"abcaab"[..])];
            let r = Redactor::new(values).unwrap();
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
