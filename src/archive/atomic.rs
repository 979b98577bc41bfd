//! Atomic file writes: temp file in the destination folder, fsync, rename, fsync the folder.
//! A reader (or a crash) sees either the old state or the complete new file, never a part.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::crashpoint;

/// Prefix of temporary files; anything with it is never an archive file.
pub const TEMP_PREFIX: &str = ".hozon-tmp-";

/// Write `bytes` to `path` atomically. Creates missing parent folders (fsyncing each new one's
/// parent so the new entry itself is durable).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let synced = write_temp(path, bytes)?.sync()?;
    let dir = synced.dir().to_path_buf();
    synced.persist()?;
    sync_dir(&dir)
}

/// `write_atomic` for output made piece by piece (a batch's JSON report): `fill` writes into a
/// buffered temporary file, so a large report never sits in memory whole.
pub fn write_atomic_with(path: &Path, fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> std::io::Result<()> {
    let mut temp = create_temp(path)?;
    {
        let mut w = std::io::BufWriter::with_capacity(64 * 1024, temp.tmp.as_file_mut());
        fill(&mut w)?;
        w.flush()?;
    }
    let synced = temp.sync()?;
    let dir = synced.dir().to_path_buf();
    synced.persist()?;
    sync_dir(&dir)
}

/// Like `write_atomic`, but fails with `AlreadyExists` instead of replacing an existing file.
pub fn write_new_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let synced = write_temp(path, bytes)?.sync()?;
    let dir = synced.dir().to_path_buf();
    synced.persist_noclobber()?;
    sync_dir(&dir)
}

/// A file's bytes under a temporary name in its destination folder, not yet fsynced. Dropped, it
/// is removed; an interrupted process leaves it for `remove_stale_temps`.
pub struct TempFile {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

/// A temporary file whose bytes are on disk (fsynced): only these take their final name.
pub struct SyncedTemp {
    tmp: tempfile::NamedTempFile,
    path: PathBuf,
}

/// Write `bytes` to a temporary file beside `path` (creating missing folders durably), without
/// fsyncing it yet: several can be synced at once (`sync_all`).
pub fn write_temp(path: &Path, bytes: &[u8]) -> std::io::Result<TempFile> {
    let mut temp = create_temp(path)?;
    temp.tmp.write_all(bytes)?;
    Ok(temp)
}

/// An empty temporary file in `path`'s folder (created, with its parents, when missing).
fn create_temp(path: &Path) -> std::io::Result<TempFile> {
    let dir = parent_of(path);
    create_dir_all_durable(dir)?;
    let tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(".part")
        .tempfile_in(dir)?;
    Ok(TempFile {
        tmp,
        path: path.to_path_buf(),
    })
}

fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
}

impl TempFile {
    /// The final name.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// fsync the bytes.
    pub fn sync(self) -> std::io::Result<SyncedTemp> {
        self.tmp.as_file().sync_all()?;
        crashpoint::hit("temp-written");
        Ok(SyncedTemp {
            tmp: self.tmp,
            path: self.path,
        })
    }
}

impl SyncedTemp {
    /// The final name.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The folder to fsync after the rename.
    pub fn dir(&self) -> &Path {
        parent_of(&self.path)
    }
    /// Rename over the final name. The folder is not fsynced here (`sync_dir`, once per folder).
    pub fn persist(self) -> std::io::Result<()> {
        self.tmp.persist(&self.path).map(drop).map_err(|e| e.error)?;
        crashpoint::hit("renamed");
        Ok(())
    }
    /// Rename to the final name, failing with `AlreadyExists` rather than replacing a file there.
    /// The folder is not fsynced here.
    pub fn persist_noclobber(self) -> std::io::Result<()> {
        self.tmp.persist_noclobber(&self.path).map(drop).map_err(|e| e.error)?;
        crashpoint::hit("renamed");
        Ok(())
    }
}

/// fsync several temporary files, concurrently (one thread each, a few at a time): the disk
/// serves overlapping flushes faster than the same flushes one after another. Results in order.
pub fn sync_all(files: Vec<TempFile>) -> Vec<std::io::Result<SyncedTemp>> {
    const AT_ONCE: usize = 8;
    if files.len() <= 1 {
        return files.into_iter().map(TempFile::sync).collect();
    }
    let mut out = Vec::with_capacity(files.len());
    let mut rest = files.into_iter().peekable();
    while rest.peek().is_some() {
        let chunk: Vec<TempFile> = rest.by_ref().take(AT_ONCE).collect();
        std::thread::scope(|s| {
            let mut handles = Vec::with_capacity(chunk.len());
            for f in chunk {
                // A thread that cannot be started fails its file (the temp file is removed).
                handles.push(std::thread::Builder::new().spawn_scoped(s, move || f.sync()));
            }
            for h in handles {
                out.push(match h {
                    Ok(h) => h
                        .join()
                        .unwrap_or_else(|_| Err(std::io::Error::other("fsync thread panicked"))),
                    Err(e) => Err(e),
                });
            }
        });
    }
    out
}

/// fsync a folder so that renames and new entries in it survive a crash.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

fn create_dir_all_durable(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_all_durable(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(e),
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Remove temp files left by an interrupted run below `root` (they were never archive files).
pub fn remove_stale_temps(root: &Path) -> std::io::Result<usize> {
    let temps = temp_files_under(root);
    for p in &temps {
        fs::remove_file(p)?;
    }
    Ok(temps.len())
}

/// Every temporary file (`TEMP_PREFIX`) below `root`, sorted: a killed run's leftovers, or the
/// work in progress of a live one.
pub fn temp_files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for entry in rd.flatten() {
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                stack.push(entry.path());
            } else if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

/// Reason code of an I/O failure. By kind, not only raw errno: tempfile wraps its errors (adding
/// the temp path), which keeps the kind but hides the errno, so ENOSPC used to read `archive-io`.
pub fn io_code(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind;
    match (e.raw_os_error(), e.kind()) {
        (Some(28), _) | (_, ErrorKind::StorageFull) | (_, ErrorKind::QuotaExceeded) => "disk-full",
        (Some(13) | Some(30), _) | (_, ErrorKind::PermissionDenied) | (_, ErrorKind::ReadOnlyFilesystem) => {
            "archive-not-writable"
        }
        _ => "archive-io",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A streamed write appears whole, in one rename; a writer that fails leaves the old file
    /// as it was and no temporary file behind.
    #[test]
    fn streamed_writes_appear_whole_or_not_at_all() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("報告/report.json");
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        write_atomic_with(&p, |w| {
            for chunk in big.chunks(1000) {
                w.write_all(chunk)?;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(fs::read(&p).unwrap(), big);
        let err = write_atomic_with(&p, |w| {
            w.write_all(b"half of a new report")?;
            Err(std::io::Error::other("the serializer failed"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "the serializer failed");
        assert_eq!(fs::read(&p).unwrap(), big, "the old file is untouched");
        let names: Vec<String> = fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["report.json".to_string()], "no temporary file is left");
    }

    #[test]
    fn writes_whole_file_and_creates_folders() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("2026/11/27/文書.pdf");
        write_atomic(&p, b"hello").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"hello");
        write_atomic(&p, b"bye").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"bye");
        // no temp files left behind
        let names: Vec<_> = fs::read_dir(p.parent().unwrap())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn new_atomic_refuses_to_replace() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.pdf");
        write_new_atomic(&p, b"one").unwrap();
        let e = write_new_atomic(&p, b"two").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&p).unwrap(), b"one");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn stale_temps_are_removed_but_nothing_else() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("x/y")).unwrap();
        fs::write(d.path().join("x/y").join(format!("{TEMP_PREFIX}abc.part")), b"partial").unwrap();
        fs::write(d.path().join("x/y/keep.pdf"), b"pdf").unwrap();
        assert_eq!(
            temp_files_under(d.path()),
            vec![d.path().join("x/y").join(format!("{TEMP_PREFIX}abc.part"))]
        );
        assert_eq!(remove_stale_temps(d.path()).unwrap(), 1);
        assert!(temp_files_under(d.path()).is_empty());
        assert!(d.path().join("x/y/keep.pdf").exists());
    }
}
