//! Writing a file so that a crash never leaves a partial file under its real name: the bytes go
//! to `<path>.tmp`, are synced to disk, and the file is renamed over `path` (a rename within one
//! directory is atomic on POSIX file systems). Models, tables, extraction chunks and evolution
//! checkpoints are all written this way.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `<path>.tmp`, beside `path`.
pub fn tmp_path(path: &Path) -> PathBuf {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    PathBuf::from(tmp)
}

/// Writes `path` atomically with `write`, which fills the temporary file; `io` turns an I/O
/// error into the caller's error, given the file it concerns (the temporary file while writing
/// and syncing, `path` when renaming). On failure the temporary file is removed and `path` is
/// untouched.
pub fn write_atomic_with<E>(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<(), E>,
    io: impl Fn(&Path, std::io::Error) -> E,
) -> Result<(), E> {
    let tmp = tmp_path(path);
    let result = (|| {
        let mut f = File::create(&tmp).map_err(|e| io(&tmp, e))?;
        write(&mut f)?;
        f.sync_all().map_err(|e| io(&tmp, e))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(|e| io(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to `path` atomically ([`write_atomic_with`]); the error names the file it
/// concerns.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let named = |p: &Path, e: std::io::Error| {
        std::io::Error::new(e.kind(), format!("{}: {e}", p.display()))
    };
    write_atomic_with(
        path,
        |f| f.write_all(bytes).map_err(|e| named(&tmp_path(path), e)),
        named,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = std::env::temp_dir().join(format!("gf-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.bin");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic_with(
            &path,
            |f| {
                f.write_all(b"half").unwrap();
                Err("the writer failed")
            },
            |_, _| "io",
        );
        assert_eq!(err, Err("the writer failed"));
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert!(!tmp_path(&path).exists());
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        // A rename into a folder that does not exist names the target and leaves no temporary.
        let missing = dir.join("no-such-folder").join("f.bin");
        let e = write_atomic(&missing, b"x").unwrap_err();
        assert!(e.to_string().contains("no-such-folder"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
