//! [`WriteError`]: a failed write, naming the file it failed on.

use std::{io, path::PathBuf, time::Duration};

/// Why a write failed. Each names the file it failed on: the file being
/// locked, the temporary file, the directory, or the target.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file could not be opened (to lock and read it).
    #[error("cannot open {}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file's lock could not be taken.
    #[error("cannot lock {}", path.display())]
    Lock {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// Another process held the lock longer than the timeout.
    #[error("gave up after {} s waiting for {} (locked by another fnox)", waited.as_secs(), path.display())]
    LockTimeout {
        /// The file.
        path: PathBuf,
        /// How long fnox waited.
        waited: Duration,
    },
    /// The file could not be read under its lock.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// No temporary file could be created next to the target.
    #[error("cannot create a temporary file in {} (to replace {})", dir.display(), path.display())]
    CreateTemp {
        /// The directory.
        dir: PathBuf,
        /// The target.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The temporary file could not be written, synced or given its mode.
    #[error("cannot write the temporary file {} (to replace {})", tmp.display(), path.display())]
    Temp {
        /// The temporary file.
        tmp: PathBuf,
        /// The target.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The temporary file could not be renamed over the target.
    #[error("cannot rename {} over {}", tmp.display(), path.display())]
    Rename {
        /// The temporary file.
        tmp: PathBuf,
        /// The target.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The directory could not be synced after the rename.
    #[error("cannot sync the directory {}", dir.display())]
    SyncDir {
        /// The directory.
        dir: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file belongs to another owner or group, which this process
    /// cannot give to the rewritten file; fnox refuses rather than change
    /// who owns it.
    #[error(
        "{} belongs to uid {uid} gid {gid}, and fnox (uid {me}) cannot give the rewritten file that owner; nothing was written",
        path.display()
    )]
    Owner {
        /// The file.
        path: PathBuf,
        /// Its owner.
        uid: u32,
        /// Its group.
        gid: u32,
        /// Who fnox runs as.
        me: u32,
        /// The error of `fchown`.
        #[source]
        source: io::Error,
    },
    /// The file has several names: replacing it would leave the others
    /// with the old content.
    #[error(
        "{} has {links} hard links, and replacing it would split them (the other names would keep the old content); nothing was written",
        path.display()
    )]
    HardLinks {
        /// The file.
        path: PathBuf,
        /// Its number of links.
        links: u64,
    },
}

impl WriteError {
    /// The I/O error behind it, if there is one.
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            Self::Open { source, .. }
            | Self::Lock { source, .. }
            | Self::Read { source, .. }
            | Self::CreateTemp { source, .. }
            | Self::Temp { source, .. }
            | Self::Rename { source, .. }
            | Self::SyncDir { source, .. }
            | Self::Owner { source, .. } => Some(source),
            Self::LockTimeout { .. } | Self::HardLinks { .. } => None,
        }
    }
}
