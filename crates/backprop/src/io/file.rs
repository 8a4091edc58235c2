//! Writing output files (models, checkpoints, pictures, downloads) without harming what a path
//! points to.
//!
//! [`write_atomically`] is the one way this project writes a file:
//! - a symbolic link is followed, and the file it points to is replaced (the link stays a link);
//! - a regular file (or a new one) is replaced atomically: the bytes go to a temporary file in
//!   the target's own directory, flushed, then renamed over it, so a crash never leaves a
//!   half-written file; an existing file keeps its permissions;
//! - a character device (`/dev/null`, a terminal) is written through, never replaced: renaming
//!   a file over `/dev/null` would destroy the system's device for everyone;
//! - anything else that exists (a directory, a FIFO, a socket, a block device) is refused;
//! - the temporary name is short (`.backprop-PID-N.tmp`), so a target whose name is at the file
//!   system's limit still works, and it is removed whatever fails; one that a killed process
//!   left behind (SIGKILL cannot be caught) is removed by the next write beside it, on Linux.
//!
//! [`check_writable`] makes the same decisions before any work (and creates and removes a
//! temporary file to prove the directory takes one), so a long training run does not end in a
//! write error. Out of scope: keeping an existing file's owner or extended attributes.

use crate::error::{Error, Result};
use std::fs::{self, Metadata};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many symbolic links are followed before giving up (as the kernel's `ELOOP`).
const MAX_LINKS: usize = 40;

/// `path` with every symbolic link of its last component followed (the target need not exist).
pub fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// Opens `path` for reading, refusing what would block or mislead a reader: a directory (the
/// OS error `IsADirectory`), and a named pipe or socket, which would wait for a writer forever.
/// Regular files and character devices (read only as far as the caller's limit) are opened.
pub fn open_for_reading(path: &Path) -> Result<std::fs::File> {
    let kind = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if kind.is_dir() {
        return Err(Error::io(path, io::ErrorKind::IsADirectory.into()));
    }
    if !kind.is_file() && !is_char_device(&kind) {
        return Err(Error::io(
            path,
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file (a named pipe or socket would make the read wait for a writer)",
            ),
        ));
    }
    std::fs::File::open(path).map_err(|e| Error::io(path, e))
}

/// What an existing target is, as far as writing it is concerned.
enum Target {
    /// Absent or a regular file (with its metadata): replaced atomically.
    Replace(Option<Metadata>),
    /// A character device: written through.
    WriteThrough,
}

#[cfg(unix)]
pub(crate) fn is_char_device(m: &Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    m.file_type().is_char_device()
}
#[cfg(not(unix))]
pub(crate) fn is_char_device(_: &Metadata) -> bool {
    false
}

/// The name of a kind of file that is refused as a target.
fn kind_name(m: &Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = m.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    if m.is_dir() {
        "a directory"
    } else {
        "of another kind"
    }
}

/// Decides how `target` (already resolved) is written; refuses what must not be replaced.
fn classify(target: &Path) -> io::Result<Target> {
    match fs::metadata(target) {
        Ok(m) if m.is_file() => Ok(Target::Replace(Some(m))),
        Ok(m) if is_char_device(&m) => Ok(Target::WriteThrough),
        Ok(m) => Err(io::Error::other(format!(
            "it is {}, not a regular file; refusing to replace it",
            kind_name(&m)
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Target::Replace(None)),
        Err(e) => Err(e),
    }
}

/// A temporary name beside `target`: `.backprop-PID-N.tmp`, short whatever the target's name.
fn temporary_beside(target: &Path) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = format!(".backprop-{}-{n}.tmp", std::process::id());
    match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(name),
        _ => PathBuf::from(name),
    }
}

/// Removes the temporary files beside `target` that processes which no longer run left behind
/// (killed by SIGKILL or SIGTERM in the middle of a write). A process is known to run when
/// `/proc/PID` exists, so this is done only where `/proc` is mounted (Linux); elsewhere such
/// files stay. Failures are ignored: this is tidying, not the write.
fn remove_stale_temporaries(target: &Path) {
    let proc = Path::new("/proc/self");
    if !proc.exists() {
        return;
    }
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(".backprop-")?.strip_suffix(".tmp"))
            .and_then(|rest| rest.split_once('-'))
            .filter(|(_, n)| n.parse::<usize>().is_ok())
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists();
        if !alive && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Writes `bytes` to a new temporary file beside `target` and renames it over `target`, keeping
/// the permissions of `existing`; the temporary file is removed whatever fails, and those that
/// dead processes left beside it are removed first.
fn replace(target: &Path, bytes: &[u8], existing: Option<&Metadata>) -> io::Result<()> {
    remove_stale_temporaries(target);
    let tmp = temporary_beside(target);
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        if let Some(m) = existing {
            file.set_permissions(m.permissions())?;
        }
        file.sync_all()?;
        fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to `path` as described in the [module documentation](self): symlinks
/// followed, regular files replaced atomically with their permissions kept, character devices
/// written through, other kinds of file refused.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let write = || -> io::Result<()> {
        let target = resolve(path)?;
        match classify(&target)? {
            Target::Replace(existing) => replace(&target, bytes, existing.as_ref()),
            Target::WriteThrough => {
                let mut file = fs::OpenOptions::new().write(true).open(&target)?;
                file.write_all(bytes)?;
                file.flush()
            }
        }
    };
    write().map_err(|e| Error::write(path, e))
}

/// Refuses, before any work, a `path` that [`write_atomically`] could not write: a kind of file
/// it does not replace, or a directory that does not exist or takes no new file.
pub fn check_writable(path: &Path) -> Result<()> {
    let check = || -> io::Result<()> {
        let target = resolve(path)?;
        if let Target::Replace(_) = classify(&target)? {
            let tmp = temporary_beside(&target);
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            fs::remove_file(&tmp)?;
        }
        Ok(())
    };
    check().map_err(|e| Error::write(path, e))
}

/// Whether `a` and `b` name the same file (after symbolic links), existing or not. Character
/// devices are never "the same output": writing `/dev/null` twice harms nothing.
pub fn same_file(a: &Path, b: &Path) -> bool {
    let (ra, rb) = (
        resolve(a).unwrap_or_else(|_| a.into()),
        resolve(b).unwrap_or_else(|_| b.into()),
    );
    if let (Ok(ma), Ok(mb)) = (fs::metadata(&ra), fs::metadata(&rb)) {
        if is_char_device(&ma) {
            return false;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            return ma.dev() == mb.dev() && ma.ino() == mb.ino();
        }
    }
    absolute(&ra) == absolute(&rb)
}

/// The absolute form of a path that may not exist yet: its directory canonicalised.
fn absolute(p: &Path) -> Option<PathBuf> {
    if let Ok(c) = fs::canonicalize(p) {
        return Some(c);
    }
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(fs::canonicalize(dir).ok()?.join(p.file_name()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("backprop-file-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[cfg(unix)]
    #[test]
    fn links_are_followed_and_permissions_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("links");
        let real = dir.join("real.st");
        fs::write(&real, b"old").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.join("link.st");
        std::os::unix::fs::symlink("real.st", &link).unwrap();
        write_atomically(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new");
        let mode = fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(same_file(&link, &real) && !same_file(&link, &dir.join("other")));
        assert!(same_file(&dir.join("new"), &dir.join("./new")));
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            2,
            "no temporary file left"
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn directories_are_refused_and_long_names_work() {
        let dir = scratch("kinds");
        let err = write_atomically(&dir, b"x").unwrap_err().to_string();
        assert!(
            err.contains("a directory") && err.contains("refusing"),
            "{err}"
        );
        assert!(check_writable(&dir.join("missing/x.st")).is_err());
        let long = dir.join("n".repeat(250) + ".st"); // 253 bytes: legal on every Linux fs
        check_writable(&long).unwrap();
        write_atomically(&long, b"x").unwrap();
        assert_eq!(fs::read(&long).unwrap(), b"x");
        fs::remove_dir_all(dir).unwrap();
    }
}
