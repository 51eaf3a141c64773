//! The agent process's work: hold the directory's lock, listen on its
//! socket (mode 0600), answer requests from this user only, wipe entries
//! as they expire, and everything on `lock`, `stop` and [`Stopper::stop`].

use std::{
    fs::File,
    io,
    os::unix::{
        fs::{OpenOptionsExt as _, PermissionsExt as _},
        net::{UnixListener, UnixStream},
    },
    path::{Path, PathBuf},
    sync::{
        Arc, Condvar, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use rustix::fs::FlockOperation;

use super::{
    Settings,
    dir::{self, DirError},
    protocol::{Request, Response, Status},
    store::Store,
};

/// How long the agent waits for a client's request or for it to read the
/// answer.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the agent cannot run.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// Its directory is unusable.
    #[error("the agent's directory is unusable")]
    Dir(#[from] DirError),
    /// Another agent holds the directory.
    #[error("an agent is already running in {}", .0.display())]
    Running(PathBuf),
    /// Core dumps cannot be turned off.
    #[error("cannot turn core dumps off for the agent")]
    Hygiene(#[source] io::Error),
    /// The lock file or the socket failed.
    #[error("cannot set up {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// What the connection threads, the sweeper and [`Stopper`]s share.
struct Shared {
    store: Mutex<Store>,
    /// Woken when an entry is stored or the agent stops.
    changed: Condvar,
    stop: AtomicBool,
    refused: AtomicU64,
    started: Instant,
    settings: Settings,
}

impl Shared {
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A bound agent, ready to [`Agent::run`].
#[derive(Debug)]
pub struct Agent {
    listener: UnixListener,
    socket: PathBuf,
    /// Held (flock) while the agent lives.
    _lock: File,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// Stops a running agent from another thread (e.g. on a signal).
#[derive(Debug, Clone)]
pub struct Stopper {
    shared: Arc<Shared>,
    socket: PathBuf,
}

impl Stopper {
    /// Wipes every entry and makes [`Agent::run`] return.
    pub fn stop(&self) {
        self.shared.store().clear();
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.changed.notify_all();
        // Wakes the accept loop; it sees the flag and ends.
        let _ = UnixStream::connect(&self.socket);
    }
}

/// Turns core dumps off for this process: `RLIMIT_CORE` 0 and (on Linux)
/// not dumpable, which also keeps other processes of the user from
/// attaching to it with ptrace.
pub fn harden() -> io::Result<()> {
    use rustix::process::{Resource, Rlimit, setrlimit};
    setrlimit(Resource::Core, Rlimit { current: Some(0), maximum: Some(0) })?;
    #[cfg(target_os = "linux")]
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)?;
    Ok(())
}

impl Agent {
    /// Hardens the process ([`harden`]), creates `dir` (0700) or checks it,
    /// takes its lock (another live agent there: [`AgentError::Running`]),
    /// replaces a stale socket and listens (mode 0600).
    pub fn bind(dir: &Path, settings: Settings) -> Result<Self, AgentError> {
        harden().map_err(AgentError::Hygiene)?;
        dir::create(dir)?;
        let lock_path = dir.join(dir::LOCK);
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| AgentError::Io { path, source }
        };
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        if rustix::fs::flock(&lock, FlockOperation::NonBlockingLockExclusive).is_err() {
            return Err(AgentError::Running(dir.to_path_buf()));
        }
        // We hold the lock, so a socket here is a dead agent's: replace it.
        let socket = dir.join(dir::SOCKET);
        match std::fs::remove_file(&socket) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_err(&socket)(e)),
            _ => {}
        }
        let listener = UnixListener::bind(&socket).map_err(io_err(&socket))?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
            .map_err(io_err(&socket))?;
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new(settings)),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
            refused: AtomicU64::new(0),
            started: Instant::now(),
            settings,
        });
        Ok(Self { listener, socket, _lock: lock, shared })
    }

    /// The socket's path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// A handle that stops this agent.
    pub fn stopper(&self) -> Stopper {
        Stopper { shared: self.shared.clone(), socket: self.socket.clone() }
    }

    /// Answers clients until stopped (a `stop` request or [`Stopper::stop`]);
    /// then every entry is wiped and the socket removed.
    pub fn run(self) {
        let sweeper = {
            let shared = self.shared.clone();
            std::thread::spawn(move || sweep(&shared))
        };
        for conn in self.listener.incoming() {
            if self.shared.stop.load(Ordering::SeqCst) {
                break;
            }
            let Ok(conn) = conn else { continue };
            if !same_user(&conn) {
                self.shared.refused.fetch_add(1, Ordering::Relaxed);
                continue; // dropped: the other user reads nothing
            }
            let stopper = self.stopper();
            std::thread::spawn(move || serve(conn, &stopper));
        }
        self.stopper().stop();
        let _ = sweeper.join();
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// True when the peer runs as this process's user (SO_PEERCRED).
fn same_user(conn: &UnixStream) -> bool {
    rustix::net::sockopt::socket_peercred(conn).is_ok_and(|c| c.uid.as_raw() == dir::me())
}

/// Wipes entries as they expire, until the agent stops.
fn sweep(shared: &Shared) {
    let mut store = shared.store();
    while !shared.stop.load(Ordering::SeqCst) {
        let next = store.sweep(Instant::now()).max(Duration::from_millis(5));
        store = shared.changed.wait_timeout(store, next).unwrap_or_else(|e| e.into_inner()).0;
    }
}

/// One connection: one request, one answer.
fn serve(mut conn: UnixStream, stopper: &Stopper) {
    let _ = conn.set_read_timeout(Some(CLIENT_TIMEOUT));
    let _ = conn.set_write_timeout(Some(CLIENT_TIMEOUT));
    let Ok(request) = Request::read(&mut conn) else { return };
    let shared = &stopper.shared;
    let now = Instant::now();
    let response = match request {
        Request::Get(keys) => {
            let mut store = shared.store();
            Response::Values(keys.iter().map(|k| store.get(k, now)).collect())
        }
        Request::Put(entries) => {
            let mut store = shared.store();
            let stored = entries.iter().filter(|e| store.put(e, now)).count();
            shared.changed.notify_all();
            Response::Stored(u32::try_from(stored).unwrap_or(u32::MAX))
        }
        Request::Status { names } => Response::Status(status(shared, now, names)),
        Request::Lock => Response::Wiped(shared.store().clear()),
        Request::Stop => {
            let wiped = shared.store().clear();
            let _ = Response::Wiped(wiped).write(&mut conn);
            stopper.stop();
            return;
        }
    };
    let _ = response.write(&mut conn);
}

fn status(shared: &Shared, now: Instant, names: bool) -> Status {
    let (entries, memory_locked) = shared.store().status(now, names);
    Status {
        pid: std::process::id(),
        uptime: now.saturating_duration_since(shared.started).as_secs(),
        idle_timeout: shared.settings.idle_timeout.as_secs(),
        max_lifetime: shared.settings.max_lifetime.as_secs(),
        memory_locked,
        refused: shared.refused.load(Ordering::Relaxed),
        entries,
    }
}
