//! One daemon per data directory: an exclusive `flock(2)` on `vayu.lock`, taken before the
//! LMDB environment is opened and held for the life of the process.
//!
//! LMDB itself happily lets two processes share an environment; two daemons on one data dir
//! would then both mark each other's running runs `interrupted` and hand out the same ids.
//! The lock file holds the holder's pid so the refusal can say who has the directory. The
//! kernel drops a `flock` when its last descriptor closes, so a killed daemon (even
//! `kill -9`) leaves no stale lock behind; the pid in the file is informative only.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

use super::StoreError;

/// Name of the lock file inside the data directory.
pub const LOCK_FILE: &str = "vayu.lock";

/// The held lock; dropping it (or exiting) releases it.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock of `dir` without waiting. Another holder: [`StoreError::Locked`] with its
    /// pid, and nothing in the directory is changed.
    pub fn acquire(dir: &Path) -> Result<DirLock, StoreError> {
        let path = dir.join(LOCK_FILE);
        let open_error = |err: std::io::Error| StoreError::Open {
            path: path.display().to_string(),
            reason: err.to_string(),
        };
        // No truncation here: the file may belong to a live holder whose pid we want to read.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(open_error)?;
        // Safety: flock(2) takes a descriptor we own (kept open by `file` for this call) and
        // plain integer flags; it has no memory-safety preconditions.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Err(StoreError::Locked {
                    path: dir.display().to_string(),
                    pid: holder_pid(&mut file),
                });
            }
            return Err(open_error(err));
        }
        // Ours now: record our pid for the next one who tries.
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .and_then(|()| file.flush())
            .map_err(open_error)?;
        Ok(DirLock { _file: file })
    }
}

/// The pid the holder wrote, if it wrote one we can read.
fn holder_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_dir_names_the_holder() {
        let dir = std::env::temp_dir().join(format!("vayu-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let held = DirLock::acquire(&dir).expect("first lock");
        match DirLock::acquire(&dir) {
            Err(StoreError::Locked { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Locked, got {other:?}"),
        }
        drop(held);
        DirLock::acquire(&dir).expect("free again once the holder is gone");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
