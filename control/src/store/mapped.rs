//! Keeps the daemon's resident set from growing with its history. LMDB reads through a
//! shared, read-only mapping of `data.mdb`; every page a transaction touches stays mapped
//! in the process, so VmRSS grows with the database (about 32 kB a stored run, 11 kB a
//! second of a live run's ticks) although those pages are clean page cache the kernel could
//! drop at any time. Every [`INTERVAL`], the writer thread drops the mapping's page-table
//! entries with `madvise(MADV_DONTNEED)`: the data stays in the page cache, and the next
//! read of a page maps it again with a minor fault.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often the mapped pages are released: often enough that a long run's ticks do not
/// pile up, rarely enough that hot pages re-fault only a few times a minute.
const INTERVAL: Duration = Duration::from_secs(10);

/// The data file's mapping, released now and then.
pub struct MappedPages {
    data_file: PathBuf,
    last_release: Instant,
}

impl MappedPages {
    /// For the environment in `dir` (its `data.mdb`).
    pub fn new(dir: &Path) -> MappedPages {
        let data_file = dir.join("data.mdb");
        MappedPages {
            data_file: data_file.canonicalize().unwrap_or(data_file),
            last_release: Instant::now(),
        }
    }

    /// Releases the mapped pages when [`INTERVAL`] has passed since the last release.
    pub fn release_if_due(&mut self) {
        if self.last_release.elapsed() < INTERVAL {
            return;
        }
        self.last_release = Instant::now();
        if let Err(err) = self.release() {
            tracing::debug!("could not release the database's mapped pages: {err}");
        }
    }

    /// Drops the page-table entries of every mapping of the data file.
    fn release(&self) -> std::io::Result<()> {
        let maps = std::fs::read_to_string("/proc/self/maps")?;
        for (start, end) in mappings_of(&maps, &self.data_file) {
            // Safety: the range is LMDB's shared, read-only mapping of the data file (the
            // environment is opened without MDB_WRITEMAP, so nothing writes through it).
            // MADV_DONTNEED on a shared file mapping only unmaps the pages: their contents
            // stay in the page cache and a later read faults the same bytes back in, so a
            // reader in another thread sees no change.
            let status = unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED)
            };
            if status != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }
}

/// The address ranges `/proc/self/maps` lists for `file`.
fn mappings_of(maps: &str, file: &Path) -> Vec<(usize, usize)> {
    let Some(file) = file.to_str() else {
        return Vec::new();
    };
    maps.lines()
        .filter(|line| path_field(line) == Some(file))
        .filter_map(|line| {
            let (start, end) = line.split_whitespace().next()?.split_once('-')?;
            Some((
                usize::from_str_radix(start, 16).ok()?,
                usize::from_str_radix(end, 16).ok()?,
            ))
        })
        .collect()
}

/// The pathname of a `/proc/self/maps` line: everything after the first five fields (it
/// may hold spaces).
fn path_field(line: &str) -> Option<&str> {
    let mut rest = line;
    for _ in 0..5 {
        let field_end = rest.trim_start().find(' ')?;
        rest = &rest.trim_start()[field_end..];
    }
    Some(rest.trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_data_files_ranges_only() {
        let maps = "\
55d0c0a00000-55d0c0a21000 r--p 00000000 fd:01 123 /usr/bin/vayu
7f0000000000-7f0400000000 r--s 00000000 fd:01 456 /data/vayu/data.mdb
7f0500000000-7f0500001000 rw-p 00000000 00:00 0
7f0600000000-7f0600002000 r--s 00000000 fd:01 789 /data/other/data.mdb
";
        assert_eq!(
            mappings_of(maps, Path::new("/data/vayu/data.mdb")),
            vec![(0x7f00_0000_0000, 0x7f04_0000_0000)]
        );
    }

    #[test]
    fn a_path_with_spaces_is_read_whole() {
        let maps = "7f0000000000-7f0000001000 r--s 00000000 fd:01 456     /data/my dir/data.mdb\n";
        assert!(mappings_of(maps, Path::new("/data/my")).is_empty());
        assert_eq!(
            mappings_of(maps, Path::new("/data/my dir/data.mdb")),
            vec![(0x7f00_0000_0000, 0x7f00_0000_1000)]
        );
    }
}
