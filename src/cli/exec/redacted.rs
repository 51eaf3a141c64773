//! `exec --redact`: fnox stays as the parent, runs the command with its
//! output piped through the redaction filter, forwards signals, and exits
//! with the command's status.
//!
//! INT, TERM and HUP sent to fnox go on to the command, except those a
//! terminal generated (Ctrl-C, a hangup): the terminal sends them to its
//! whole foreground process group, which the command shares, so it has them
//! already, and a second Ctrl-C means "stop at once" to many programs. The
//! kernel marks those as its own (`SI_KERNEL`); `kill` (a CI runner, a
//! supervisor) does not. A signal that was ignored when fnox started (under
//! `nohup`, or INT in a background job of a script) stays ignored, in fnox
//! and in the command, as plain `exec` leaves it: no handler is installed
//! for it, so the command inherits the ignored disposition.
//!
//! When fnox's own stdout or stderr is closed (`| head -1`), fnox stops
//! reading that stream of the command and closes its end of the pipe, so
//! the command gets EPIPE or SIGPIPE on its next write, as without fnox.

use std::{ffi::OsString, os::unix::process::ExitStatusExt};

use fnox_core::redact::Redactor;
use signal_hook::{
    consts::{SIGHUP, SIGINT, SIGTERM},
    iterator::{SignalsInfo, exfiltrator::WithOrigin},
    low_level::siginfo::Cause,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::ChildEnv;
use crate::{
    cli::error::CommandError,
    exit_codes::{self, ExitStatus},
};

/// Runs `command` with `child` as its environment and its output filtered
/// by `redactor` (none: no secret value is long enough to redact).
pub(super) fn run(
    command: &[OsString],
    child: ChildEnv<'_>,
    redactor: Option<&Redactor>,
) -> Result<ExitStatus, CommandError> {
    // Before the command starts, so that no signal can end fnox and leave
    // the command running unwatched (the command gets default handlers).
    let forwarded: Vec<libc::c_int> =
        [SIGINT, SIGTERM, SIGHUP].into_iter().filter(|&s| !ignored(s)).collect();
    let mut signals = SignalsInfo::<WithOrigin>::new(&forwarded)
        .map_err(|e| CommandError::io("cannot install signal handlers", e))?;
    let handle = signals.handle();
    let (send, mut receive) = tokio::sync::mpsc::unbounded_channel();
    let listener = std::thread::Builder::new()
        .name("fnox-signals".into())
        .spawn(move || {
            for origin in signals.forever() {
                if origin.cause != Cause::Kernel && send.send(origin.signal).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| CommandError::io("cannot start the signal thread", e))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| CommandError::io("cannot start the async runtime", e))?;
    let status = runtime.block_on(supervise(command, child, redactor, &mut receive));
    handle.close();
    let _ = listener.join();
    status
}

/// True when `signal` is ignored in this process (inherited from whoever
/// started fnox).
fn ignored(signal: libc::c_int) -> bool {
    // SAFETY: reads the disposition only (no new action); `old` is a valid,
    // zeroed sigaction.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut old) == 0
            && old.sa_sigaction == libc::SIG_IGN
    }
}

/// Starts the command the way plain `exec` does, with execvp after a fork:
/// std would otherwise use posix_spawnp, which (unlike execvp) does not run
/// a script without a `#!` line through /bin/sh. Any pre-exec hook makes
/// std fork and call execvp; this one does nothing else.
fn like_execvp(cmd: &mut std::process::Command) {
    // SAFETY: the hook does nothing, so it is async-signal-safe.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(cmd, || Ok(()));
    }
}

async fn supervise(
    command: &[OsString],
    mut env: ChildEnv<'_>,
    redactor: Option<&Redactor>,
    signals: &mut tokio::sync::mpsc::UnboundedReceiver<libc::c_int>,
) -> Result<ExitStatus, CommandError> {
    let mut cmd = tokio::process::Command::new(&command[0]);
    cmd.args(&command[1..])
        .stdin(std::process::Stdio::inherit())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    env.apply(cmd.as_std_mut());
    crate::hygiene::core_dumps_for_child(cmd.as_std_mut());
    like_execvp(cmd.as_std_mut());
    let mut child = cmd.spawn().map_err(|e| super::spawn_error(&command[0], e, &env))?;
    // The command has its own copies: the files go when it and its
    // children end, whatever fnox does meanwhile.
    env.close_files();
    let pid = child.id().map(|p| p as libc::pid_t);
    let copy_out = pump(child.stdout.take(), tokio::io::stdout(), redactor);
    let copy_err = pump(child.stderr.take(), tokio::io::stderr(), redactor);
    let forward = async {
        while let Some(sig) = signals.recv().await {
            if let Some(pid) = pid {
                // SAFETY: sends a signal to our own child process. It can
                // only fail when the child is gone, which `wait` reports.
                unsafe {
                    libc::kill(pid, sig);
                }
            }
        }
        std::future::pending::<()>().await
    };
    let work = async {
        let (a, b) = tokio::join!(copy_out, copy_err);
        a.and(b).map_err(|e| CommandError::io("cannot pass on the command's output", e))?;
        child.wait().await.map_err(|e| CommandError::io("cannot wait for the command", e))
    };
    let status = tokio::select! {
        status = work => status?,
        () = forward => unreachable!("the signal loop never ends"),
    };
    Ok(ExitStatus(match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => exit_codes::SIGNAL_BASE + sig,
        _ => exit_codes::FAILURE,
    }))
}

/// Copies `from` to `to` through the redaction filter, flushing after each
/// read so interactive output is not held longer than needed. When `to` is
/// closed, returns at once: `from` is dropped, which closes the command's
/// pipe, so the command learns of it on its next write.
async fn pump<R, W>(from: Option<R>, mut to: W, redactor: Option<&Redactor>) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
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
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                other => other?,
            }
        }
        if n == 0 {
            return Ok(());
        }
    }
}
