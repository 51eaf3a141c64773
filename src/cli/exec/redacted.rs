//! `exec --redact`: fnox stays as the parent, runs the command with its
//! output piped through the redaction filter, forwards signals, and exits
//! with the command's status.
//!
//! INT, TERM and HUP sent to fnox go on to the command, except those a
//! terminal generated (Ctrl-C, a hangup): the terminal sends them to its
//! whole foreground process group, which the command shares, so it has them
//! already, and a second Ctrl-C means "stop at once" to many programs. The
//! kernel marks those as its own (`SI_KERNEL`); `kill` (a CI runner, a
//! supervisor) does not.

use std::{
    ffi::{OsStr, OsString},
    os::unix::{ffi::OsStrExt, process::ExitStatusExt},
};

use fnox_core::{KEY_VARIABLES, SecretBytes, redact::Redactor};
use signal_hook::{
    consts::{SIGHUP, SIGINT, SIGTERM},
    iterator::{SignalsInfo, exfiltrator::WithOrigin},
    low_level::siginfo::Cause,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::{
    cli::error::CommandError,
    exit_codes::{self, ExitStatus},
};

/// Runs `command` with `values` in its environment and its output filtered
/// by `redactor` (none: no value is long enough to redact).
pub(super) fn run(
    command: &[OsString],
    values: &[(String, SecretBytes)],
    redactor: Option<&Redactor>,
) -> Result<ExitStatus, CommandError> {
    // Before the command starts, so that no signal can end fnox and leave
    // the command running unwatched (the command gets default handlers).
    let mut signals = SignalsInfo::<WithOrigin>::new([SIGINT, SIGTERM, SIGHUP])
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
    let status = runtime.block_on(supervise(command, values, redactor, &mut receive));
    handle.close();
    let _ = listener.join();
    status
}

async fn supervise(
    command: &[OsString],
    values: &[(String, SecretBytes)],
    redactor: Option<&Redactor>,
    signals: &mut tokio::sync::mpsc::UnboundedReceiver<libc::c_int>,
) -> Result<ExitStatus, CommandError> {
    let mut cmd = tokio::process::Command::new(&command[0]);
    cmd.args(&command[1..])
        .stdin(std::process::Stdio::inherit())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (name, value) in values {
        cmd.env(name, OsStr::from_bytes(value.expose()));
    }
    for key in KEY_VARIABLES {
        cmd.env_remove(key);
    }
    crate::hygiene::core_dumps_for_child(cmd.as_std_mut());
    let mut child = cmd.spawn().map_err(|e| super::spawn_error(&command[0], e, values))?;
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
/// read so interactive output is not held longer than needed.
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
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other?,
            }
        }
        if n == 0 {
            return Ok(());
        }
    }
}
