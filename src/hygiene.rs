//! Process-level protections: no core dumps of a process that holds
//! plaintext, and the user's own core-dump limit given back to the programs
//! `exec` runs, in those programs only.

use std::{io, sync::OnceLock};

/// The core-dump limit the user had, before fnox set it to zero.
static SAVED_CORE_LIMIT: OnceLock<libc::rlimit> = OnceLock::new();

/// Disables core dumps and (on Linux) ptrace attachment by other processes
/// of the same user. Called first thing in `main`.
pub fn harden_process() -> io::Result<()> {
    let mut old = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain syscalls on this process with valid pointers.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_CORE, &mut old) != 0 {
            return Err(io::Error::last_os_error());
        }
        let zero = libc::rlimit { rlim_cur: 0, rlim_max: old.rlim_max };
        if libc::setrlimit(libc::RLIMIT_CORE, &zero) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    let _ = SAVED_CORE_LIMIT.set(old);
    #[cfg(target_os = "linux")]
    // SAFETY: a plain syscall on this process.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Has glibc map every buffer of 1 MiB or more on its own and give it
/// back to the system when it is freed. By default glibc raises that
/// threshold after the first such buffer is freed (up to 32 MiB), so the
/// next ones (a file holding a 10 MiB value, read twice; the parser's
/// buffers over it) stay in the heap, resident, until the process ends.
/// Called first thing in `main`, before any other thread starts.
pub fn return_large_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: sets one malloc parameter; no other thread runs yet.
        let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20) };
        // It fails only for a value out of range, which this is not.
        debug_assert_eq!(set, 1);
    }
}

/// Gives the program that `cmd` starts the user's core-dump limit back: it
/// is set in the child, between fork and exec (or, for a `Command::exec`
/// that replaces fnox, just before `execve`, while this process is still
/// not dumpable). The kernel resets the "dumpable" flag itself on `execve`.
pub fn core_dumps_for_child(cmd: &mut impl std::os::unix::process::CommandExt) {
    if SAVED_CORE_LIMIT.get().is_none() {
        return;
    }
    // SAFETY: the hook reads a value set before the fork and makes one
    // async-signal-safe syscall; it allocates nothing.
    unsafe {
        cmd.pre_exec(give_back_core_limit);
    }
}

/// Gives this process back the soft core limit it had before
/// [`harden_process`]: in a child between fork and exec
/// ([`core_dumps_for_child`]), or just before fnox replaces itself with a
/// command (`exec`), so that the command gets the limit the user set.
pub fn give_back_core_limit() -> io::Result<()> {
    let Some(&old) = SAVED_CORE_LIMIT.get() else { return Ok(()) };
    // SAFETY: a plain syscall on this process with a valid pointer.
    if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &old) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    /// The soft core limit of a new child process, as the kernel reports it.
    fn child_core_limit(give_back: bool) -> String {
        let mut child = Command::new("grep");
        child.args(["Max core file size", "/proc/self/limits"]);
        if give_back {
            super::core_dumps_for_child(&mut child);
        }
        let out = child.output().unwrap();
        let line = String::from_utf8_lossy(&out.stdout).to_string();
        line.split_whitespace().nth(4).unwrap_or_default().to_string()
    }

    #[test]
    fn core_dumps_are_disabled_here_and_given_back_to_children() {
        // A known soft limit to give back (1 MiB, or what the hard limit allows).
        let mut now = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: valid pointers to rlimit values.
        unsafe {
            assert_eq!(libc::getrlimit(libc::RLIMIT_CORE, &mut now), 0);
            let soft = now.rlim_max.min(1 << 20);
            let set = libc::rlimit { rlim_cur: soft, rlim_max: now.rlim_max };
            assert_eq!(libc::setrlimit(libc::RLIMIT_CORE, &set), 0);
        }
        let soft = now.rlim_max.min(1 << 20);
        super::harden_process().unwrap();
        // SAFETY: valid pointer.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut now) }, 0);
        assert_eq!(now.rlim_cur, 0);
        assert_eq!(child_core_limit(false), "0", "a plain child inherits the guard");
        assert_eq!(child_core_limit(true), soft.to_string(), "the exec'd program gets it back");
        // This process keeps its guard.
        // SAFETY: valid pointer.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut now) }, 0);
        assert_eq!(now.rlim_cur, 0);
    }
}
