//! Small file-system helpers shared by every module that writes state.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A dot-prefixed temp name beside `target`, unique per process and call.
pub fn temp_path_for(target: &Path, tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // The target may already use all 255 bytes a name can have.
    let mut keep = name.len().min(100);
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    name.truncate(keep);
    let dir = target.parent().unwrap_or(Path::new("."));
    dir.join(format!(
        "{TEMP_PREFIX}{tag}-{}-{n}-{name}",
        std::process::id()
    ))
}

/// Every temp file pimedia writes starts with this, so start-up can sweep them.
pub const TEMP_PREFIX: &str = ".pimedia-tmp-";

/// Writes `bytes` to `path` so that a crash leaves the old file or the new
/// one, never half of either: temp file, fsync, rename, fsync the folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_path_for(path, "state");
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_dir(path.parent().unwrap_or(Path::new(".")))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Makes a rename durable across a power cut.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Free bytes for unprivileged writers on the file system holding `path`.
pub fn free_space(path: &Path) -> Option<u64> {
    let st = nix::sys::statvfs::statvfs(path).ok()?;
    Some(st.blocks_available() as u64 * st.fragment_size() as u64)
}

/// Total bytes of the file system holding `path`.
pub fn disk_size(path: &Path) -> Option<u64> {
    let st = nix::sys::statvfs::statvfs(path).ok()?;
    Some(st.blocks() as u64 * st.fragment_size() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(free_space(dir.path()).unwrap() > 0);
    }
}
