//! [`LockedBytes`]: a value the agent keeps, in pages of its own that are
//! locked in RAM (never swapped) where the system allows, left out of core
//! dumps, and wiped before they are unmapped.

use std::{ffi::c_void, ptr::NonNull};

use rustix::mm::{self, Advice, MapFlags, ProtFlags};
use zeroize::Zeroize as _;

/// Bytes in an anonymous private mapping of their own.
pub(crate) struct LockedBytes {
    ptr: NonNull<u8>,
    /// The mapping's length (whole pages).
    cap: usize,
    len: usize,
    locked: bool,
}

// SAFETY: the mapping is owned by this value alone, like a Box<[u8]>.
unsafe impl Send for LockedBytes {}
// SAFETY: shared access only reads.
unsafe impl Sync for LockedBytes {}

impl std::fmt::Debug for LockedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl LockedBytes {
    /// A copy of `bytes` in a new mapping. Fails only when no memory can be
    /// mapped; a refused `mlock` (e.g. `RLIMIT_MEMLOCK`) is reported by
    /// [`LockedBytes::is_locked`].
    pub(crate) fn new(bytes: &[u8]) -> std::io::Result<Self> {
        let page = rustix::param::page_size();
        let cap = bytes.len().max(1).div_ceil(page) * page;
        // SAFETY: a new anonymous mapping that aliases nothing.
        let raw = unsafe {
            mm::mmap_anonymous(
                std::ptr::null_mut(),
                cap,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::PRIVATE,
            )?
        };
        let ptr = NonNull::new(raw.cast::<u8>()).ok_or(std::io::ErrorKind::OutOfMemory)?;
        // SAFETY: `raw..raw+cap` is the mapping made above, owned here.
        let locked = unsafe {
            // Best effort: not in core dumps (the agent turns them off too).
            let _ = mm::madvise(raw, cap, Advice::LinuxDontDump);
            mm::mlock(raw, cap).is_ok()
        };
        // SAFETY: the mapping is `cap >= bytes.len()` writable bytes.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr.as_ptr(), bytes.len()) };
        Ok(Self { ptr, cap, len: bytes.len(), locked })
    }

    /// The bytes.
    pub(crate) fn expose(&self) -> &[u8] {
        // SAFETY: `len` initialised bytes of the mapping this value owns.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// True when the pages are locked in RAM.
    pub(crate) fn is_locked(&self) -> bool {
        self.locked
    }
}

impl Drop for LockedBytes {
    fn drop(&mut self) {
        // SAFETY: the whole mapping, owned by this value, is writable.
        let all = unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.cap) };
        all.zeroize();
        let raw = self.ptr.as_ptr().cast::<c_void>();
        // SAFETY: the mapping made in `new`, not used after this.
        unsafe {
            if self.locked {
                let _ = mm::munlock(raw, self.cap);
            }
            let _ = mm::munmap(raw, self.cap);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LockedBytes;

    #[test]
    fn keeps_the_bytes_it_was_given() {
        for value in [&b""[..], b"x", &[7u8; 5000]] {
            let kept = LockedBytes::new(value).unwrap();
            assert_eq!(kept.expose(), value);
        }
    }
}
