//! Where the plaintext is while the editor has it: a 0600 file in a 0700
//! directory on a RAM-backed filesystem, overwritten and removed on every
//! way out (the editor's exit, an error, SIGINT, SIGTERM, SIGHUP).

use std::{
    fs,
    io::Write,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt},
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicI32, Ordering},
    },
};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use zeroize::Zeroizing;

use super::super::error::CommandError;

/// tmpfs and ramfs, as statfs(2) names them.
const RAM_FILESYSTEMS: [i64; 2] = [0x0102_1994, 0x8584_58f6];

/// The directory and file the editor edits.
#[derive(Debug)]
struct Place {
    dir: PathBuf,
}

impl Place {
    /// Overwrites the file (and any other file the editor left in the
    /// directory) with zeros, then removes them and the directory.
    fn wipe(&self) {
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                if let Ok(meta) = fs::symlink_metadata(&path)
                    && meta.is_file()
                    && let Ok(mut f) = fs::OpenOptions::new().write(true).open(&path)
                {
                    let zeros = vec![0u8; usize::try_from(meta.len()).unwrap_or(0)];
                    let _ = f.write_all(&zeros).and_then(|()| f.sync_all());
                }
                let _ = fs::remove_file(&path);
            }
        }
        let _ = fs::remove_dir(&self.dir);
    }
}

/// The scratch file, wiped when dropped and when a signal ends fnox. The
/// signal thread stays for the rest of the run (a signal then ends fnox as
/// it would have without it).
pub struct Scratch {
    place: Arc<Mutex<Option<Place>>>,
    editor: Arc<AtomicI32>,
    path: PathBuf,
}

/// The editor's pid while it is being started (not known yet).
const STARTING: i32 = -1;

impl Scratch {
    /// A new scratch directory in `base` (which must be RAM-backed unless
    /// `allow_disk`), with the handlers that wipe it on a signal.
    pub fn create(base: &Path) -> Result<Self, CommandError> {
        let name = format!("fnox-edit-{}-{:016x}", std::process::id(), random());
        let dir = base.join(name);
        fs::DirBuilder::new().mode(0o700).create(&dir).map_err(|e| {
            CommandError::io(format!("cannot create the directory {}", dir.display()), e)
        })?;
        let file = dir.join("secrets.env");
        let place = Arc::new(Mutex::new(Some(Place { dir })));
        let editor = Arc::new(AtomicI32::new(0));
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            .map_err(|e| CommandError::io("cannot install signal handlers", e))?;
        // Whether a SIGINT came while the editor ran, decided when it
        // arrives: the thread below may see it only after the editor has
        // ended (a Ctrl-C ends the editor and reaches fnox at once).
        let during_editor = Arc::new(AtomicBool::new(false));
        let (at_arrival, flag) = (editor.clone(), during_editor.clone());
        // SAFETY: the action only loads and stores atomics, which is
        // async-signal-safe.
        unsafe {
            signal_hook::low_level::register(SIGINT, move || {
                if at_arrival.load(Ordering::SeqCst) != 0 {
                    flag.store(true, Ordering::SeqCst);
                }
            })
        }
        .map_err(|e| CommandError::io("cannot install signal handlers", e))?;
        let (on_signal, running) = (place.clone(), editor.clone());
        std::thread::Builder::new()
            .name("fnox-edit-signals".into())
            .spawn(move || {
                for signal in signals.forever() {
                    let pid = running.load(Ordering::SeqCst);
                    // Ctrl-C while the editor runs is the editor's (vim uses
                    // it); the editor's exit wipes the file.
                    if signal == SIGINT && (pid != 0 || during_editor.swap(false, Ordering::SeqCst))
                    {
                        continue;
                    }
                    if pid > 0 {
                        // SAFETY: sends a signal to our own child process.
                        unsafe { libc::kill(pid, signal) };
                    }
                    if let Some(place) = on_signal.lock().unwrap_or_else(|e| e.into_inner()).take()
                    {
                        place.wipe();
                    }
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                    std::process::exit(128 + signal);
                }
            })
            .map_err(|e| CommandError::io("cannot start the signal thread", e))?;
        let scratch = Self { place, editor, path: file };
        scratch.write(b"")?;
        Ok(scratch)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Replaces the file's text with `text` (mode 0600).
    pub fn write(&self, text: &[u8]) -> Result<(), CommandError> {
        let _guard = self.place.lock().unwrap_or_else(|e| e.into_inner());
        let _ = fs::remove_file(&self.path);
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&self.path)
            .and_then(|mut f| f.write_all(text).map(|()| f))
            .map_err(|e| CommandError::io("cannot write the file to edit", e))?;
        f.flush().map_err(|e| CommandError::io("cannot write the file to edit", e))
    }

    /// The file's text now (`None` when the editor removed it).
    pub fn read(&self) -> Result<Option<Zeroizing<Vec<u8>>>, CommandError> {
        let _guard = self.place.lock().unwrap_or_else(|e| e.into_inner());
        match fs::read(&self.path) {
            Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CommandError::io("cannot read the edited file", e)),
        }
    }

    /// Runs `editor` on the file and waits for it; a SIGTERM or SIGHUP to
    /// fnox meanwhile goes to the editor too.
    pub fn run_editor(
        &self,
        mut editor: std::process::Command,
    ) -> Result<std::process::ExitStatus, CommandError> {
        // Before the spawn: a Ctrl-C from the moment the editor may run is
        // the editor's, even before its pid is known here.
        self.editor.store(STARTING, Ordering::SeqCst);
        let spawned = editor.spawn();
        let mut child = spawned.map_err(|e| {
            self.editor.store(0, Ordering::SeqCst);
            CommandError::io("cannot start the editor", e)
        })?;
        self.editor.store(i32::try_from(child.id()).unwrap_or(STARTING), Ordering::SeqCst);
        let status = child.wait();
        self.editor.store(0, Ordering::SeqCst);
        status.map_err(|e| CommandError::io("cannot wait for the editor", e))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(place) = self.place.lock().unwrap_or_else(|e| e.into_inner()).take() {
            place.wipe();
        }
    }
}

/// True when `dir` is on a RAM-backed filesystem (tmpfs, ramfs).
// `f_type`'s type differs between targets (i64 on x86_64, u32 elsewhere).
#[allow(clippy::useless_conversion)]
pub fn ram_backed(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else { return false };
    // SAFETY: statfs writes into the zeroed struct we own; the path is a
    // valid C string.
    unsafe {
        let mut st: libc::statfs = std::mem::zeroed();
        libc::statfs(path.as_ptr(), &raw mut st) == 0
            && RAM_FILESYSTEMS.contains(&i64::from(st.f_type))
    }
}

fn random() -> u64 {
    let mut bytes = [0u8; 8];
    // SAFETY: getrandom writes at most 8 bytes into the buffer.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), 8, 0) };
    if n != 8 {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        return t.map_or(0, |d| d.as_nanos() as u64);
    }
    u64::from_ne_bytes(bytes)
}
