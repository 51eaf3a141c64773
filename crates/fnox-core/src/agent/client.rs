//! Talking to the agent: [`Client`] sends one request and reads the answer
//! within a bounded wait; [`Link`] is what decryption uses, once per
//! process: absent or dead, the agent is passed by in silence; slow or
//! answering garbage, it is passed by with a warning, and not asked again
//! by this process.

use std::{
    io,
    os::unix::net::UnixStream,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use super::{
    OFF_VAR,
    dir::{self, DirError},
    protocol::{Key, ProtocolError, PutEntry, Request, Response},
};
use crate::{env::Environment, notice::Notice, notice::Notify, secret::SecretBytes};

/// How long a command waits for the agent's answer before it decrypts
/// directly.
pub const WAIT: Duration = Duration::from_millis(500);

/// Why a request to the agent got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No agent runs for this user (no socket, or nothing listening).
    #[error("no agent is running")]
    NotRunning,
    /// The agent's directory failed its checks.
    #[error(transparent)]
    Dir(DirError),
    /// No answer within the wait.
    #[error("the agent did not answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The agent closed the connection before answering.
    #[error("the agent closed the connection without an answer")]
    Closed,
    /// The connection failed.
    #[error("cannot talk to the agent")]
    Io(#[source] io::Error),
    /// The answer does not follow the protocol, or does not fit the request.
    #[error("the agent's answer is not valid ({0})")]
    Garbage(String),
}

/// A client of the agent in one directory.
#[derive(Debug, Clone)]
pub struct Client {
    dir: PathBuf,
    wait: Duration,
}

impl Client {
    /// A client of the agent in `dir`, waiting at most `wait` for an answer.
    pub fn new(dir: impl Into<PathBuf>, wait: Duration) -> Self {
        Self { dir: dir.into(), wait }
    }

    /// The agent's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Sends `request` and reads the answer.
    pub fn call(&self, request: &Request) -> Result<Response, ClientError> {
        match dir::check(&self.dir) {
            Err(DirError::Missing(_)) => return Err(ClientError::NotRunning),
            Err(e) => return Err(ClientError::Dir(e)),
            Ok(()) => {}
        }
        let mut conn = match UnixStream::connect(self.dir.join(dir::SOCKET)) {
            Ok(c) => c,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
                ) =>
            {
                return Err(ClientError::NotRunning);
            }
            Err(e) => return Err(ClientError::Io(e)),
        };
        conn.set_read_timeout(Some(self.wait)).map_err(ClientError::Io)?;
        conn.set_write_timeout(Some(self.wait)).map_err(ClientError::Io)?;
        request.write(&mut conn).map_err(|e| self.failure(e))?;
        Response::read(&mut conn).map_err(|e| self.failure(e))
    }

    fn failure(&self, e: ProtocolError) -> ClientError {
        match e {
            ProtocolError::Io(e) => match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                    ClientError::Timeout(self.wait)
                }
                io::ErrorKind::UnexpectedEof
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::BrokenPipe => ClientError::Closed,
                _ => ClientError::Io(e),
            },
            ProtocolError::Malformed(what) => ClientError::Garbage(what.to_string()),
        }
    }
}

/// The agent as decryption sees it: asked first, handed what was decrypted
/// without it. One per [`crate::providers::Context`].
pub struct Link {
    client: Option<Client>,
    /// Set once the agent is found absent or failed: not asked again.
    down: AtomicBool,
    notify: Notify,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link").field("client", &self.client).finish_non_exhaustive()
    }
}

impl Link {
    /// The link for `env`: none when `FNOX_AGENT` is `off` (or `0`,
    /// `false`, `no`).
    pub fn new(env: &Environment, notify: Notify) -> Self {
        let setting = env.var(OFF_VAR).map(|v| v.trim().to_ascii_lowercase());
        let off = matches!(setting.as_deref(), Some("off" | "0" | "false" | "no"));
        if let Some(value) = setting.filter(|v| {
            !matches!(v.as_str(), "off" | "0" | "false" | "no" | "on" | "1" | "true" | "yes" | "")
        }) {
            notify(crate::notice::Notice::AgentSetting { value });
        }
        let client = (!off).then(|| Client::new(dir::agent_dir(env), WAIT));
        Self { client, down: AtomicBool::new(false), notify }
    }

    /// False when the agent is off for this process.
    pub fn enabled(&self) -> bool {
        self.client.is_some()
    }

    /// The values the agent has for `keys` (same order); `None` when it
    /// was not asked or gave no usable answer.
    pub async fn get(self: &Arc<Self>, keys: Vec<Key>) -> Option<Vec<Option<SecretBytes>>> {
        let this = self.clone();
        self.blocking(move || this.get_now(keys)).await.flatten()
    }

    /// [`Link::get`] on the calling thread (bounded by the agent's wait).
    pub fn get_now(&self, keys: Vec<Key>) -> Option<Vec<Option<SecretBytes>>> {
        let n = keys.len();
        match self.call_now(Request::Get(keys))? {
            Response::Values(values) if values.len() == n => Some(values),
            _ => {
                self.fail(&ClientError::Garbage("an answer that does not fit the request".into()));
                None
            }
        }
    }

    /// Hands values decrypted without the agent to it.
    pub async fn put(self: &Arc<Self>, entries: Vec<PutEntry>) {
        let this = self.clone();
        self.blocking(move || this.put_now(entries)).await;
    }

    /// [`Link::put`] on the calling thread (bounded by the agent's wait).
    pub fn put_now(&self, entries: Vec<PutEntry>) {
        if entries.is_empty() {
            return;
        }
        if !matches!(self.call_now(Request::Put(entries)), None | Some(Response::Stored(_))) {
            self.fail(&ClientError::Garbage("an answer that does not fit the request".into()));
        }
    }

    /// Runs `call` off the async threads (it blocks on the socket).
    async fn blocking<T: Send + 'static>(
        &self,
        call: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        match tokio::task::spawn_blocking(call).await {
            Ok(answer) => Some(answer),
            Err(e) => {
                self.fail(&ClientError::Io(io::Error::other(e.to_string())));
                None
            }
        }
    }

    fn call_now(&self, request: Request) -> Option<Response> {
        let client = self.client.as_ref()?;
        if self.down.load(Ordering::Relaxed) {
            return None;
        }
        match client.call(&request) {
            Ok(response) => Some(response),
            Err(e) => {
                self.fail(&e);
                None
            }
        }
    }

    /// Stops asking the agent; says why unless it is simply not running.
    fn fail(&self, e: &ClientError) {
        let first = !self.down.swap(true, Ordering::Relaxed);
        if first && !matches!(e, ClientError::NotRunning) {
            let reason = crate::error_chain::chain(e).join(": ");
            (self.notify)(Notice::AgentPassedBy { reason });
        }
    }
}
