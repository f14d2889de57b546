//! Writing a file so that a crash never leaves a partial file under its real name.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically: into `<path>.tmp`, flushed to disk, renamed over
/// `path`. The error names the file it concerns.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let named = |p: &Path, e: std::io::Error| {
        std::io::Error::new(e.kind(), format!("{}: {e}", p.display()))
    };
    {
        let mut f = std::fs::File::create(&tmp).map_err(|e| named(&tmp, e))?;
        f.write_all(bytes).map_err(|e| named(&tmp, e))?;
        f.sync_all().map_err(|e| named(&tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| named(path, e))
}
