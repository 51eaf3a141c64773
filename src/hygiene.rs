//! Process-level protections: no core dumps of a process that holds plaintext.

use std::sync::Mutex;

static SAVED_CORE_LIMIT: Mutex<Option<libc::rlimit>> = Mutex::new(None);

/// Disables core dumps and (on Linux) ptrace attachment by other processes of
/// the same user. Called first thing in `main`.
pub fn harden_process() {
    // SAFETY: plain syscalls on this process with valid pointers.
    unsafe {
        let mut old = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_CORE, &mut old) == 0 {
            let zero = libc::rlimit { rlim_cur: 0, rlim_max: old.rlim_max };
            if libc::setrlimit(libc::RLIMIT_CORE, &zero) == 0
                && let Ok(mut saved) = SAVED_CORE_LIMIT.lock()
            {
                *saved = Some(old);
            }
        }
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// Gives back the core-dump limit the user had, so a program started by
/// `exec` behaves as it would without fnox. (The kernel resets the
/// "dumpable" flag itself on `execve`.)
pub fn restore_for_child() {
    let saved = SAVED_CORE_LIMIT.lock().ok().and_then(|s| *s);
    if let Some(old) = saved {
        // SAFETY: a valid pointer to an rlimit value we read earlier.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &old);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn core_dumps_are_disabled_then_restored() {
        super::harden_process();
        let mut now = libc::rlimit { rlim_cur: 1, rlim_max: 0 };
        // SAFETY: valid pointer.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut now) }, 0);
        assert_eq!(now.rlim_cur, 0);
        super::restore_for_child();
    }
}
