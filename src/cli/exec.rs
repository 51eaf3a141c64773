//! `fnox exec -- CMD ARGS...`.

use std::{
    ffi::{OsStr, OsString},
    os::unix::{ffi::OsStrExt, process::CommandExt},
};

use super::App;
use crate::{config::IfMissing, error::Error, exit_codes, secret::SecretBytes};

/// Run a command with the secrets of the active profile in its environment.
///
/// All secrets are decrypted concurrently, then fnox replaces itself with
/// the command (execvp): signals reach the command directly and its exit
/// status is fnox's. A command that is not found exits 127, one that cannot
/// be executed 126, as in a shell. A secret without a value is skipped with
/// a warning (see --if-missing).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  fnox exec -- cargo run
  fnox exec --only DATABASE_URL -- sh -c 'psql \"$DATABASE_URL\"'
  fnox -P ci exec -- ./deploy.sh
  fnox exec --redact -- ./ci-job.sh           secret values never reach the log")]
pub struct Args {
    /// Pass the command's stdout and stderr through a filter that replaces
    /// every secret value (of 4 bytes or more) with `[redacted:NAME]`. fnox
    /// then stays as the parent: it forwards INT, TERM and HUP to the
    /// command and exits with its status.
    #[arg(long)]
    pub redact: bool,

    /// Only these secrets (comma-separated names).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub only: Vec<String>,

    /// The command and its arguments (after `--`).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<OsString>,
}

pub(super) fn run(app: &App, args: Args) -> Result<(), Error> {
    let env = app.resolve_selected(&args.only, IfMissing::Warn, "running without it")?;
    if let Some((name, _)) = env.iter().find(|(_, v)| v.expose().contains(&0)) {
        return Err(Error::Failed(format!(
            "secret `{name}` contains a NUL byte, which an environment variable cannot hold; use `fnox get {name}` to write it to a file"
        )));
    }
    let runtime = super::runtime()?;
    if args.redact {
        let status = runtime.block_on(run_redacted(&args.command, &env))?;
        return Err(Error::Exit(status));
    }
    drop(runtime);
    Err(exec(&args.command, &env))
}

/// `--redact`: runs `command` as a child with filtered output; returns the
/// exit status to use.
async fn run_redacted(command: &[OsString], env: &[(String, SecretBytes)]) -> Result<i32, Error> {
    // Before the command starts, so that no signal can end fnox and leave
    // the command running unwatched (the command gets default handlers).
    let mut signals =
        forward::install().map_err(|e| Error::io("cannot install signal handlers", e))?;
    let redactor = crate::redact::Redactor::new(env.iter().map(|(n, v)| (n.as_str(), v.expose())));
    let mut cmd = tokio::process::Command::new(&command[0]);
    cmd.args(&command[1..])
        .stdin(std::process::Stdio::inherit())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (name, value) in env {
        cmd.env(name, OsStr::from_bytes(value.expose()));
    }
    for key in KEY_VARIABLES {
        cmd.env_remove(key);
    }
    crate::hygiene::restore_for_child();
    let spawned = cmd.spawn();
    crate::hygiene::harden_process();
    let mut child = spawned.map_err(|e| spawn_error(&command[0], e, env))?;
    let pid = child.id().map(|p| p as libc::pid_t);
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let redactor = redactor.as_ref();
    let copy_out = pump(stdout, tokio::io::stdout(), redactor);
    let copy_err = pump(stderr, tokio::io::stderr(), redactor);
    let forward = async {
        while let Some(sig) = signals.recv().await {
            if let Some(pid) = pid {
                // SAFETY: sends a signal to our own child process.
                unsafe {
                    libc::kill(pid, sig);
                }
            }
        }
        std::future::pending::<()>().await
    };
    let work = async {
        let (a, b) = tokio::join!(copy_out, copy_err);
        a.and(b).map_err(|e| Error::io("cannot pass on the command's output", e))?;
        child.wait().await.map_err(|e| Error::io("cannot wait for the command", e))
    };
    let status = tokio::select! {
        status = work => status?,
        () = forward => unreachable!("the signal loop never ends"),
    };
    use std::os::unix::process::ExitStatusExt;
    Ok(match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => exit_codes::SIGNAL_BASE + sig,
        _ => exit_codes::FAILURE,
    })
}

/// Copies `from` to `to` through the redaction filter, flushing after each
/// read so interactive output is not held longer than needed.
async fn pump<R, W>(
    from: Option<R>,
    mut to: W,
    redactor: Option<&crate::redact::Redactor>,
) -> std::io::Result<()>
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(mut from) = from else { return Ok(()) };
    let mut filter = redactor.map(|r| r.stream());
    let mut buf = vec![0u8; 64 * 1024];
    let mut out = Vec::with_capacity(buf.len());
    loop {
        let n = from.read(&mut buf).await?;
        out.clear();
        match (&mut filter, n) {
            (Some(f), 0) => f.finish(&mut out),
            (Some(f), n) => f.feed(&buf[..n], &mut out),
            (None, n) => out.extend_from_slice(&buf[..n]),
        }
        if !out.is_empty() {
            match to.write_all(&out).await.and(to.flush().await) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other?,
            }
        }
        if n == 0 {
            return Ok(());
        }
    }
}

/// Key material fnox reads from the environment; the command does not get
/// it (pass it on explicitly if a nested fnox needs it).
const KEY_VARIABLES: &[&str] = &["FNOX_LOCAL_KEY", "FNOX_AGE_KEY", "FNOX_VAULT_TOKEN"];

/// Replaces this process with `command`; returns only on failure.
fn exec(command: &[OsString], env: &[(String, SecretBytes)]) -> Error {
    let program = &command[0];
    let mut cmd = std::process::Command::new(program);
    cmd.args(&command[1..]);
    for (name, value) in env {
        cmd.env(name, OsStr::from_bytes(value.expose()));
    }
    for key in KEY_VARIABLES {
        cmd.env_remove(key);
    }
    crate::hygiene::restore_for_child();
    let err = cmd.exec();
    crate::hygiene::harden_process();
    spawn_error(program, err, env)
}

/// The error for a command that could not be started.
fn spawn_error(program: &OsStr, err: std::io::Error, env: &[(String, SecretBytes)]) -> Error {
    let shown = program.to_string_lossy().into_owned();
    let (status, detail) = match err.kind() {
        std::io::ErrorKind::NotFound => {
            (exit_codes::NOT_FOUND, Some("check the command name and PATH".to_string()))
        }
        std::io::ErrorKind::PermissionDenied => {
            (exit_codes::NOT_EXECUTABLE, Some("the file is not executable".to_string()))
        }
        _ if err.raw_os_error() == Some(libc::E2BIG) => (exit_codes::FAILURE, Some(too_big(env))),
        _ => (exit_codes::FAILURE, None),
    };
    Error::Spawn { program: shown, status, detail, source: err }
}

/// Explains E2BIG: Linux limits one environment string to 128 KiB.
fn too_big(env: &[(String, SecretBytes)]) -> String {
    let largest = env.iter().max_by_key(|(_, v)| v.len());
    match largest {
        Some((name, v)) if v.len() >= 128 * 1024 => format!(
            "secret `{name}` is {} bytes; the system limits one environment variable to 128 KiB: have the program read it from a file made with `fnox get -n {name}`",
            v.len()
        ),
        _ => "the environment is larger than the system allows".into(),
    }
}

/// Signal forwarding for `exec --redact`: INT, TERM and HUP sent to fnox
/// go on to the command, except those a terminal generated (Ctrl-C, a
/// hangup): the terminal sends them to its whole foreground process group,
/// which the command shares, so it has them already, and a second Ctrl-C
/// means "stop at once" to many programs. The kernel marks those with
/// `si_code == SI_KERNEL`; `kill` (a CI runner, a supervisor) does not.
mod forward {
    use std::{
        io,
        sync::atomic::{AtomicI32, Ordering},
    };

    /// The signals passed on.
    const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

    /// The write end of the pipe from the handler to the forwarding thread.
    static PIPE: AtomicI32 = AtomicI32::new(-1);

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn from_terminal(info: *const libc::siginfo_t) -> bool {
        // SAFETY: the kernel passes a valid siginfo_t with SA_SIGINFO.
        !info.is_null() && unsafe { (*info).si_code } == libc::SI_KERNEL
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn from_terminal(_info: *const libc::siginfo_t) -> bool {
        false
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn errno() -> *mut libc::c_int {
        // SAFETY: returns this thread's errno location.
        unsafe { libc::__errno_location() }
    }

    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    fn errno() -> *mut libc::c_int {
        // SAFETY: returns this thread's errno location.
        unsafe { libc::__error() }
    }

    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd"
    )))]
    fn errno() -> *mut libc::c_int {
        std::ptr::null_mut()
    }

    /// The handler: only async-signal-safe work (one `write`), and errno
    /// left as it was.
    extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
        let message = [sig as u8, u8::from(from_terminal(info))];
        // SAFETY: writes two bytes from a live buffer to our own pipe, and
        // puts back this thread's errno.
        unsafe {
            let errno = errno();
            let saved = if errno.is_null() { 0 } else { *errno };
            libc::write(PIPE.load(Ordering::Relaxed), message.as_ptr().cast(), 2);
            if !errno.is_null() {
                *errno = saved;
            }
        }
    }

    /// Installs the handlers; the receiver yields each signal to pass on.
    pub(super) fn install() -> io::Result<tokio::sync::mpsc::UnboundedReceiver<libc::c_int>> {
        let mut fds = [-1; 2];
        // SAFETY: `fds` has room for the two descriptors.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        for fd in fds {
            // SAFETY: our own new descriptors; the command must not inherit them.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        PIPE.store(fds[1], Ordering::Relaxed);
        let (send, receive) = tokio::sync::mpsc::unbounded_channel();
        std::thread::Builder::new().name("fnox-signals".into()).spawn(move || {
            let mut message = [0u8; 2];
            loop {
                // SAFETY: reads into a live two-byte buffer.
                let n = unsafe { libc::read(fds[0], message.as_mut_ptr().cast(), 2) };
                if n == 2 && message[1] == 0 && send.send(libc::c_int::from(message[0])).is_err() {
                    return;
                }
                if n <= 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                    return;
                }
            }
        })?;
        for sig in SIGNALS {
            // SAFETY: a zeroed sigaction is valid; the handler has the
            // SA_SIGINFO signature.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                if libc::sigaction(sig, &action, std::ptr::null_mut()) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
        }
        Ok(receive)
    }
}
