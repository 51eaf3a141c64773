//! `as_file = true`: the command gets the path of a file that holds the
//! value, byte for byte, instead of the value.
//!
//! On Linux the file is a memfd: memory, never on a disk, with no name in
//! any directory. fnox writes the value, seals it (no write, no growing or
//! shrinking, no new seals), makes it 0400 and leaves it open without
//! close-on-exec, so the command inherits it; the variable is `/dev/fd/N`,
//! which opens it afresh from the start in the command and in every process
//! it starts (they inherit N). Other processes reach it only through
//! `/proc/PID/fd/N` of a process that holds it, which needs the rights to
//! read that process's memory (the same user, or root), like its
//! environment. The kernel frees it when the last process holding it ends:
//! for plain `exec`, the command and its children; for `exec --redact`,
//! fnox closes its own copy as soon as the command has started.
//!
//! Elsewhere, `as_file` is refused: without a parent that outlives the
//! command, a file on disk could not be removed on every way it ends.

use std::os::fd::{AsRawFd, OwnedFd};

use crate::cli::error::CommandError;

/// A sealed in-memory file that the command inherits.
#[derive(Debug)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code, reason = "refused outside Linux"))]
pub(super) struct SealedFile {
    fd: OwnedFd,
}

impl SealedFile {
    /// The path the command opens: `/dev/fd/N`.
    pub(super) fn path(&self) -> String {
        format!("/dev/fd/{}", self.fd.as_raw_fd())
    }
}

#[cfg(target_os = "linux")]
impl SealedFile {
    /// A file holding exactly `bytes`, for secret `name`.
    pub(super) fn new(name: &str, bytes: &[u8]) -> Result<Self, CommandError> {
        use std::io::{Seek, Write};
        let failed = |e| CommandError::io(format!("cannot make the file for secret `{name}`"), e);
        let mut file = std::fs::File::from(memfd(name).map_err(failed)?);
        file.write_all(bytes).map_err(failed)?;
        file.rewind().map_err(failed)?;
        let fd = OwnedFd::from(file);
        seal(&fd).map_err(failed)?;
        Ok(Self { fd })
    }
}

/// A new memfd that survives `execve` (no `MFD_CLOEXEC`), never one of the
/// standard descriptors 0, 1 and 2.
#[cfg(target_os = "linux")]
fn memfd(name: &str) -> std::io::Result<OwnedFd> {
    use std::os::fd::FromRawFd;
    // The kernel shows the name in /proc/PID/fd (`/memfd:fnox:NAME`); it
    // allows 249 bytes. Secret names are ASCII, so any cut is a boundary.
    let label = format!("fnox:{}", &name[..name.len().min(240)]);
    let label = std::ffi::CString::new(label).map_err(std::io::Error::other)?;
    // SAFETY: `label` is a valid NUL-terminated string; the result is a new
    // descriptor that nothing else owns, or -1.
    let fd = unsafe { libc::memfd_create(label.as_ptr(), libc::MFD_ALLOW_SEALING) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by memfd_create and is owned here only.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    // SAFETY: F_DUPFD returns a new descriptor (>= 3) that nothing else owns.
    let moved = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD, 3) };
    if moved < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above; the low descriptor is closed when `fd` drops.
    Ok(unsafe { OwnedFd::from_raw_fd(moved) })
}

/// Seals the file as it is and makes it readable by its owner only.
#[cfg(target_os = "linux")]
fn seal(fd: &OwnedFd) -> std::io::Result<()> {
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: plain fcntl/fchmod calls on a descriptor we own.
    unsafe {
        if libc::fchmod(fd.as_raw_fd(), 0o400) != 0
            || libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
impl SealedFile {
    /// Refused: see the module's documentation.
    pub(super) fn new(name: &str, _bytes: &[u8]) -> Result<Self, CommandError> {
        Err(CommandError::user(format!(
            "secret `{name}` has `as_file = true`, which fnox supports on Linux only (an in-memory file the command inherits)"
        ))
        .hint(format!("pass it in the environment instead: remove `as_file = true` from {name}")))
    }
}
