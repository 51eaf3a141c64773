//! An Aho-Corasick automaton over the secret values, built for streaming:
//! besides the longest value that ends at each position, it tells how many
//! of the last bytes may still be the start of a value (the depth of its
//! state), which bounds what redaction must hold back in constant time.

use std::collections::VecDeque;

use zeroize::{Zeroize, Zeroizing};

/// The root state.
pub(super) const ROOT: u32 = 0;

/// The trie of the values with failure links. Edges are stored per state
/// as sorted byte labels beside their targets; the root's are a table.
/// The labels spell the values, so they are wiped on drop.
pub(super) struct Automaton {
    /// The root's transitions (`ROOT` where there is none).
    root: [u32; 256],
    /// Where each state's edges begin in `labels`/`targets` (one more entry
    /// than there are states).
    edge_start: Vec<u32>,
    labels: Zeroizing<Vec<u8>>,
    targets: Vec<u32>,
    fail: Vec<u32>,
    depth: Vec<u32>,
    /// Per state: 1 + the index of the longest value that ends there (as
    /// the state itself or through its failure links), 0 for none.
    longest: Vec<u32>,
}

impl std::fmt::Debug for Automaton {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Automaton").field("states", &self.fail.len()).finish_non_exhaustive()
    }
}

impl Drop for Automaton {
    fn drop(&mut self) {
        self.root.zeroize();
    }
}

impl Automaton {
    /// Builds the automaton of `patterns` (distinct, non-empty). Time and
    /// memory are linear in their total length.
    pub(super) fn new(patterns: &[&[u8]]) -> Self {
        // The trie, with each state's edges in a list of its own.
        let mut edges: Vec<Zeroizing<Vec<(u8, u32)>>> = vec![Zeroizing::new(Vec::new())];
        let mut depth = vec![0u32];
        let mut own = vec![0u32];
        for (index, pattern) in patterns.iter().enumerate() {
            let mut state = ROOT as usize;
            for &b in *pattern {
                state = match edges[state].iter().find(|(l, _)| *l == b) {
                    Some(&(_, t)) => t as usize,
                    None => {
                        let next = edges.len() as u32;
                        edges[state].push((b, next));
                        edges.push(Zeroizing::new(Vec::new()));
                        depth.push(depth[state] + 1);
                        own.push(0);
                        next as usize
                    }
                };
            }
            if own[state] == 0 {
                own[state] = index as u32 + 1;
            }
        }
        let states = edges.len();
        let mut automaton = Self {
            root: [ROOT; 256],
            edge_start: Vec::with_capacity(states + 1),
            labels: Zeroizing::new(Vec::new()),
            targets: Vec::new(),
            fail: vec![ROOT; states],
            depth,
            longest: vec![0; states],
        };
        for list in &mut edges {
            list.sort_unstable_by_key(|(l, _)| *l);
            automaton.edge_start.push(automaton.targets.len() as u32);
            for &(l, t) in list.iter() {
                automaton.labels.push(l);
                automaton.targets.push(t);
            }
        }
        automaton.edge_start.push(automaton.targets.len() as u32);
        for &(l, t) in edges[ROOT as usize].iter() {
            automaton.root[l as usize] = t;
        }
        automaton.link(&edges, &own);
        automaton
    }

    /// Failure links and longest matches, breadth first (a state's failure
    /// link is shallower, so it is done before the state).
    fn link(&mut self, edges: &[Zeroizing<Vec<(u8, u32)>>], own: &[u32]) {
        let mut queue: VecDeque<u32> = VecDeque::new();
        for &(_, t) in edges[ROOT as usize].iter() {
            self.fail[t as usize] = ROOT;
            queue.push_back(t);
        }
        while let Some(state) = queue.pop_front() {
            let s = state as usize;
            self.longest[s] =
                if own[s] != 0 { own[s] } else { self.longest[self.fail[s] as usize] };
            for &(l, t) in edges[s].iter() {
                self.fail[t as usize] = self.next(self.fail[s], l);
                queue.push_back(t);
            }
        }
    }

    /// The state after reading `byte` in `state`. Amortized constant time:
    /// each failure step makes the state shallower, and each byte makes it
    /// at most one deeper.
    pub(super) fn next(&self, mut state: u32, byte: u8) -> u32 {
        loop {
            if state == ROOT {
                return self.root[byte as usize];
            }
            let s = state as usize;
            let (from, to) = (self.edge_start[s] as usize, self.edge_start[s + 1] as usize);
            if let Ok(i) = self.labels[from..to].binary_search(&byte) {
                return self.targets[from + i];
            }
            state = self.fail[s];
        }
    }

    /// How many of the last bytes read are the start of some value (the
    /// longest such suffix): no value found later can begin earlier.
    pub(super) fn depth(&self, state: u32) -> u64 {
        u64::from(self.depth[state as usize])
    }

    /// The longest value that ends in `state`: its index and length.
    pub(super) fn longest(&self, state: u32, lengths: &[usize]) -> Option<(usize, usize)> {
        match self.longest[state as usize] {
            0 => None,
            n => Some((n as usize - 1, lengths[n as usize - 1])),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (end, index) of the longest value ending at each position.
    type Ends = Vec<(usize, usize)>;

    /// [`Ends`] by the automaton and by brute force; checks the depth too.
    fn ends(patterns: &[&[u8]], text: &[u8]) -> (Ends, Ends) {
        let a = Automaton::new(patterns);
        let lengths: Vec<usize> = patterns.iter().map(|p| p.len()).collect();
        let mut state = ROOT;
        let mut got = Vec::new();
        let mut want = Vec::new();
        for end in 1..=text.len() {
            state = a.next(state, text[end - 1]);
            if let Some((i, _)) = a.longest(state, &lengths) {
                got.push((end, i));
            }
            let best = patterns
                .iter()
                .enumerate()
                .filter(|(_, p)| text[..end].ends_with(p))
                .max_by_key(|(i, p)| (p.len(), std::cmp::Reverse(*i)));
            if let Some((i, _)) = best {
                want.push((end, i));
            }
            // The depth is the longest suffix that starts a value.
            let longest_prefix = (0..=end.min(64))
                .rev()
                .find(|&k| patterns.iter().any(|p| p.starts_with(&text[end - k..end])))
                .unwrap();
            assert_eq!(a.depth(state), longest_prefix as u64, "depth at {end}");
        }
        (got, want)
    }

    #[test]
    fn longest_match_and_depth_agree_with_brute_force() {
        let patterns: &[&[u8]] = &[b"he", b"she", b"his", b"hers", b"abcd1234", b"1234wxyz"];
        let (got, want) = ends(patterns, b"ushers his abcd1234wxyz sherhe");
        assert_eq!(got, want);
    }
}
