//! The agent's entries: values by key, each with its creation and last-use
//! times; an entry idle for longer than the idle timeout, or older than the
//! maximum lifetime, is wiped and never served.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use super::{
    Settings,
    locked::LockedBytes,
    protocol::{EntryStatus, Key, PutEntry},
};
use crate::secret::SecretBytes;

/// The largest value the agent keeps (larger ones are decrypted each time).
pub const MAX_VALUE: usize = 1 << 20;

struct Entry {
    value: LockedBytes,
    provider: String,
    secret: String,
    created: Instant,
    used: Instant,
}

/// The entries, and the timeouts that apply to them.
pub(crate) struct Store {
    entries: HashMap<Key, Entry>,
    settings: Settings,
}

impl Store {
    pub(crate) fn new(settings: Settings) -> Self {
        Self { entries: HashMap::new(), settings }
    }

    fn expired(&self, e: &Entry, now: Instant) -> bool {
        now.saturating_duration_since(e.used) >= self.settings.idle_timeout
            || now.saturating_duration_since(e.created) >= self.settings.max_lifetime
    }

    /// The value of `key`, unless absent or expired (then it is wiped).
    pub(crate) fn get(&mut self, key: &Key, now: Instant) -> Option<SecretBytes> {
        let expired = self.entries.get(key).map(|e| self.expired(e, now))?;
        if expired {
            self.entries.remove(key);
            return None;
        }
        let e = self.entries.get_mut(key)?;
        e.used = now;
        Some(SecretBytes::from_slice(e.value.expose()))
    }

    /// Keeps `entry` (replacing an entry of the same key); false when the
    /// value is too large or no memory could be mapped for it.
    pub(crate) fn put(&mut self, entry: &PutEntry, now: Instant) -> bool {
        if entry.value.len() > MAX_VALUE {
            return false;
        }
        let Ok(value) = LockedBytes::new(entry.value.expose()) else { return false };
        let (provider, secret) = (entry.provider.clone(), entry.secret.clone());
        self.entries.insert(entry.key, Entry { value, provider, secret, created: now, used: now });
        true
    }

    /// Wipes the expired entries; returns how long until the next one
    /// expires (at most the idle timeout).
    pub(crate) fn sweep(&mut self, now: Instant) -> Duration {
        let settings = self.settings;
        self.entries.retain(|_, e| {
            now.saturating_duration_since(e.used) < settings.idle_timeout
                && now.saturating_duration_since(e.created) < settings.max_lifetime
        });
        let next = self.entries.values().map(|e| {
            let idle = (e.used + settings.idle_timeout).saturating_duration_since(now);
            let life = (e.created + settings.max_lifetime).saturating_duration_since(now);
            idle.min(life)
        });
        next.min().unwrap_or(settings.idle_timeout).min(settings.idle_timeout)
    }

    /// Wipes every entry; returns how many there were.
    pub(crate) fn clear(&mut self) -> u32 {
        let n = self.entries.len();
        self.entries.clear();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// One line per live entry (oldest first), with names when asked.
    pub(crate) fn status(&mut self, now: Instant, names: bool) -> (Vec<EntryStatus>, bool) {
        self.sweep(now);
        let locked = self.entries.values().all(|e| e.value.is_locked());
        let mut lines: Vec<EntryStatus> = self
            .entries
            .values()
            .map(|e| EntryStatus {
                age: now.saturating_duration_since(e.created).as_secs(),
                idle: now.saturating_duration_since(e.used).as_secs(),
                names: names.then(|| (e.provider.clone(), e.secret.clone())),
            })
            .collect();
        lines.sort_by(|a, b| b.age.cmp(&a.age).then_with(|| a.names.cmp(&b.names)));
        (lines, locked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: u8, value: &[u8]) -> PutEntry {
        PutEntry {
            key: [key; 32],
            provider: "p".into(),
            secret: format!("S{key}"),
            value: SecretBytes::from_slice(value),
        }
    }

    #[test]
    fn entries_expire_when_idle_and_when_old() {
        let settings = Settings {
            idle_timeout: Duration::from_secs(10),
            max_lifetime: Duration::from_secs(25),
        };
        let mut store = Store::new(settings);
        let t0 = Instant::now();
        assert!(store.put(&entry(1, b"one"), t0));
        let at = |s| t0 + Duration::from_secs(s);
        // Used every 9 s: never idle for 10 s, but gone at 25 s.
        for s in [9, 18] {
            assert_eq!(store.get(&[1; 32], at(s)).unwrap().expose(), b"one");
        }
        assert!(store.get(&[1; 32], at(25)).is_none());
        assert!(store.put(&entry(2, b"two"), at(30)));
        assert!(store.get(&[2; 32], at(40)).is_none(), "idle for 10 s");
        assert_eq!(store.clear(), 0);
    }

    #[test]
    fn sweep_wipes_and_says_when_to_look_again() {
        let settings = Settings {
            idle_timeout: Duration::from_secs(10),
            max_lifetime: Duration::from_secs(60),
        };
        let mut store = Store::new(settings);
        let t0 = Instant::now();
        store.put(&entry(1, b"one"), t0);
        store.put(&entry(2, b"two"), t0 + Duration::from_secs(4));
        assert_eq!(store.sweep(t0 + Duration::from_secs(5)), Duration::from_secs(5));
        assert_eq!(store.sweep(t0 + Duration::from_secs(11)), Duration::from_secs(3));
        let (lines, _) = store.status(t0 + Duration::from_secs(11), true);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].names, Some(("p".to_string(), "S2".to_string())));
    }
}
