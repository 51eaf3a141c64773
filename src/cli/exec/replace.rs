//! Replaces fnox with the command: what `std::process::Command::exec` does
//! for it (the same environment, in the same order; `execvp`, so the
//! command is looked up in the new environment's PATH and a script without
//! a shebang runs under /bin/sh; SIGPIPE and the signal mask as a new
//! program expects them), without copying fnox's whole environment into a
//! map of owned strings first: the new environment points at fnox's own
//! entries, and only the secrets' variables are made.

use std::{
    ffi::{CStr, CString, OsStr, OsString, c_char},
    io,
    os::unix::ffi::OsStrExt,
};

unsafe extern "C" {
    /// The C library's environment (POSIX).
    static mut environ: *const *const c_char;
}

/// A variable of the new environment: one of fnox's (`NAME=VALUE` as it
/// is), or one made here.
enum Var<'a> {
    Inherited(&'a CStr),
    Made(CString),
}

impl Var<'_> {
    fn entry(&self) -> &CStr {
        match self {
            Self::Inherited(c) => c,
            Self::Made(c) => c,
        }
    }
}

/// The name of environment entry `entry` (`NAME=VALUE`): up to the first
/// `=` after the first byte, as the standard library reads it; `None` for
/// an entry without one (left out, as the standard library does).
fn name_of(entry: &[u8]) -> Option<&[u8]> {
    let eq = entry.iter().skip(1).position(|&b| b == b'=')? + 1;
    Some(&entry[..eq])
}

/// Runs `program` with `args` in place of this process, in fnox's
/// environment without the variables `remove` names, plus `set` (which
/// wins over fnox's own); returns only on failure. `before_exec` runs
/// last, just before `execvp`.
pub(super) fn exec(
    program: &OsStr,
    args: &[OsString],
    set: &[(&str, &[u8])],
    remove: impl Fn(&[u8]) -> bool,
    before_exec: impl FnOnce() -> io::Result<()>,
) -> io::Error {
    let nul = || io::Error::new(io::ErrorKind::InvalidInput, "nul byte found in provided data");
    let argv: Result<Vec<CString>, _> = std::iter::once(program)
        .chain(args.iter().map(OsString::as_os_str))
        .map(|a| CString::new(a.as_bytes()))
        .collect();
    let Ok(argv) = argv else { return nul() };
    let mut vars: Vec<(&[u8], Var<'_>)> = Vec::with_capacity(set.len() + 64);
    // SAFETY: `environ` is the C library's null-terminated array of
    // null-terminated strings; nothing changes it while fnox reads it
    // (only this thread runs fnox's code now).
    unsafe {
        let mut at = environ;
        while !at.is_null() && !(*at).is_null() {
            let entry = CStr::from_ptr(*at);
            if let Some(name) = name_of(entry.to_bytes())
                && !remove(name)
            {
                vars.push((name, Var::Inherited(entry)));
            }
            at = at.add(1);
        }
    }
    for (name, value) in set {
        let mut entry = Vec::with_capacity(name.len() + 1 + value.len() + 1);
        entry.extend_from_slice(name.as_bytes());
        entry.push(b'=');
        entry.extend_from_slice(value);
        let Ok(entry) = CString::new(entry) else { return nul() };
        vars.push((name.as_bytes(), Var::Made(entry)));
    }
    // Sorted by name, the last of each name kept (fnox's variables come
    // first, so a secret wins): the order `Command` gives.
    vars.sort_by(|a, b| a.0.cmp(b.0));
    let mut envp: Vec<*const c_char> = Vec::with_capacity(vars.len() + 1);
    for (i, (name, var)) in vars.iter().enumerate() {
        if vars.get(i + 1).is_some_and(|(next, _)| next == name) {
            continue;
        }
        envp.push(var.entry().as_ptr());
    }
    envp.push(std::ptr::null());
    let mut argp: Vec<*const c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argp.push(std::ptr::null());
    if let Err(e) = before_exec() {
        return e;
    }
    // SAFETY: `envp` and `argp` are null-terminated arrays of pointers to
    // null-terminated strings that outlive the call; `environ` is set to
    // the new environment only for `execvp`'s lookup of PATH, and set back
    // when it returns.
    unsafe {
        reset_signals();
        let saved = environ;
        environ = envp.as_ptr();
        libc::execvp(argp[0], argp.as_ptr());
        let err = io::Error::last_os_error();
        environ = saved;
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        err
    }
}

/// A new program starts with SIGPIPE at its default action (the standard
/// library ignores it in fnox) and no signal blocked.
unsafe fn reset_signals() {
    // SAFETY: plain calls on this process with valid pointers.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigemptyset(set.as_mut_ptr());
        libc::pthread_sigmask(libc::SIG_SETMASK, set.as_ptr(), std::ptr::null_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::name_of;

    #[test]
    fn names_as_the_standard_library_reads_them() {
        assert_eq!(name_of(b"A=1"), Some(&b"A"[..]));
        assert_eq!(name_of(b"A=1=2"), Some(&b"A"[..]));
        assert_eq!(name_of(b"=A=1"), Some(&b"=A"[..]));
        assert_eq!(name_of(b"A="), Some(&b"A"[..]));
        assert_eq!(name_of(b"A"), None);
        assert_eq!(name_of(b"="), None);
    }
}
