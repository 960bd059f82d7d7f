//! Small file-system helpers shared by every module that writes state.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Runs blocking work (file-system calls, fsync, ffmpeg) on the blocking
/// pool: the one rule for it, so the async workers only ever wait.
/// `None` if the work panicked; the log says with what message and where.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => Some(v),
        Err(e) if e.is_panic() => {
            tracing::error!(
                "blocking work panicked: {}",
                panic_message(&*e.into_panic())
            );
            None
        }
        Err(e) => {
            tracing::warn!("blocking work did not finish: {e}");
            None
        }
    }
}

/// What a panic said (`panic!("…")` carries a `&str` or a `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Reads a JSON state file. `None` when it is missing; one that does not
/// parse is moved aside to `<name>.corrupt` with a warning (so it can be
/// looked at, and is never read again) and `None` is returned. Blocking.
pub fn load_json<T: serde::de::DeserializeOwned>(file: &Path, what: &str) -> Option<T> {
    let bytes = std::fs::read(file).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(v) => Some(v),
        Err(e) => {
            let mut aside = file.as_os_str().to_owned();
            aside.push(".corrupt");
            tracing::warn!(
                "{what} {} is unreadable ({e}); moved to {} and starting afresh",
                file.display(),
                Path::new(&aside).display()
            );
            let _ = std::fs::rename(file, &aside);
            None
        }
    }
}

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

const MAX_NAME: usize = 255;

/// `name.ext` with `suffix` before the extension, cut to 255 bytes on a
/// character boundary without losing the extension.
pub fn cap_name(name: &str, suffix: &str) -> String {
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && e.len() <= 16 => (s, format!(".{e}")),
        _ => (name, String::new()),
    };
    let room = MAX_NAME.saturating_sub(ext.len() + suffix.len());
    let mut end = stem.len().min(room);
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{suffix}{ext}", stem[..end].trim_end())
}

/// The n-th alternative for a taken name: `name (n).ext`.
pub fn numbered(name: &str, n: u32) -> String {
    if n == 0 {
        name.to_string()
    } else {
        cap_name(name, &format!(" ({n})"))
    }
}

/// `name` as one visible file name in a folder, or an error: no separator
/// (either slash), no NUL, not empty, no leading dot (so neither `..` nor
/// a hidden file). Whatever a caller was told, an output never lands
/// outside its folder or out of sight. (A `..` inside a name, as in
/// `Film...mkv`, climbs nowhere without a separator.)
pub fn checked_name(name: &str) -> std::io::Result<&str> {
    let bad = name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\', '\0'])
        || name.len() > MAX_NAME;
    if bad {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("refused to place a file named {name:?}: not a plain, visible file name"),
        ));
    }
    Ok(name)
}

/// Renames `tmp` to the first free `name`, `name (1)`, ... in `dir` and
/// makes the rename durable. Blocking. Never overwrites; callers hold a
/// lock so two of pimedia's own writers never race for a name. A name
/// that is not [`checked_name`] is refused.
pub fn place_unique(tmp: &Path, dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    checked_name(name)?;
    for n in 0..10_000 {
        let candidate = dir.join(numbered(name, n));
        if candidate.symlink_metadata().is_ok() {
            continue;
        }
        std::fs::rename(tmp, &candidate)?;
        sync_dir(dir)?;
        return Ok(candidate);
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("'{name}' and 10,000 numbered copies of it already exist"),
    ))
}

/// Flushes a finished file to disk. Blocking.
pub fn sync_file(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_says_its_message() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let got = rt.block_on(blocking(|| -> u32 { panic!("the disk said {}", "no") }));
        assert_eq!(got, None);
        let p = std::panic::catch_unwind(|| panic!("plain")).unwrap_err();
        assert_eq!(panic_message(&*p), "plain");
        let p = std::panic::catch_unwind(|| panic!("{} {}", "with", 2)).unwrap_err();
        assert_eq!(panic_message(&*p), "with 2");
    }

    #[test]
    fn outputs_are_placed_only_under_plain_visible_names() {
        let dir = tempfile::tempdir().unwrap();
        let inner = dir.path().join("in");
        std::fs::create_dir(&inner).unwrap();
        for bad in [
            "",
            ".",
            "..",
            "../x.vtt",
            "a/../../x.vtt",
            "a\\b.vtt",
            "a\0b.vtt",
            ".hidden.vtt",
            "x/y",
        ] {
            let tmp = inner.join(".tmp");
            std::fs::write(&tmp, b"x").unwrap();
            let e = place_unique(&tmp, &inner, bad).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
            assert!(
                tmp.exists(),
                "{bad:?}: the temp file is the caller's to remove"
            );
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let tmp = inner.join(".tmp");
        let placed = place_unique(&tmp, &inner, "Film...en.vtt").unwrap();
        assert_eq!(placed, inner.join("Film...en.vtt"));
    }

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

/// A temp file removed on drop unless [`TempFile::keep`] was called: every
/// error path, a client gone and a dropped request future clean up alike.
#[derive(Debug)]
pub struct TempFile {
    path: PathBuf,
    armed: bool,
}

impl TempFile {
    pub fn new(path: PathBuf) -> TempFile {
        TempFile { path, armed: true }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file has been renamed away or must survive (a resumable upload).
    pub fn keep(mut self) -> PathBuf {
        self.armed = false;
        std::mem::take(&mut self.path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
