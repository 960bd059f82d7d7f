//! Moving a group of files as one: each is a rename on one file system
//! (never a copy), an existing file is never replaced, and the list of
//! renames is written down first. If one fails the others go back; if
//! pimedia dies half-way, start-up puts every file back where it was.

use std::io;
use std::path::{Path, PathBuf};

use crate::fsutil::{load_json, sync_dir, write_atomic};

/// `<state>/moving.json`, present only while a move is under way.
pub struct Journal {
    file: PathBuf,
}

/// One rename: absolute paths.
pub type Move = (PathBuf, PathBuf);

impl Journal {
    pub fn new(state_dir: &Path) -> Journal {
        Journal {
            file: state_dir.join("moving.json"),
        }
    }

    /// Renames every `from` to its `to`, creating folders as needed, or
    /// none of them. Blocking.
    pub fn move_all(&self, moves: &[Move]) -> io::Result<()> {
        if let Some((_, to)) = moves.iter().find(|(_, to)| to.symlink_metadata().is_ok()) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} already exists", to.display()),
            ));
        }
        let written: Vec<(Spelled, Spelled)> = moves
            .iter()
            .map(|(a, b)| (Spelled::of(a), Spelled::of(b)))
            .collect();
        write_atomic(&self.file, &serde_json::to_vec(&written)?)?;
        let mut done: Vec<&Move> = Vec::new();
        let mut result = Ok(());
        for m in moves {
            test_pause();
            let step =
                m.1.parent()
                    .map_or(Ok(()), std::fs::create_dir_all)
                    .and_then(|()| rename_noreplace(&m.0, &m.1));
            if let Err(e) = step {
                result = Err(e);
                break;
            }
            done.push(m);
        }
        if result.is_err() {
            for (from, to) in done.into_iter().rev() {
                if let Err(e) = std::fs::rename(to, from) {
                    tracing::error!("could not put {} back: {e}", from.display());
                }
            }
        }
        let dirs: std::collections::BTreeSet<&Path> = moves
            .iter()
            .flat_map(|(a, b)| [a.parent(), b.parent()])
            .flatten()
            .collect();
        for d in dirs {
            let _ = sync_dir(d);
        }
        let _ = std::fs::remove_file(&self.file);
        result
    }

    /// At start-up, before the library is read: a move pimedia did not
    /// finish is undone, so each file is where it was before. Blocking.
    pub fn roll_back(&self) {
        let Some(written) = load_json::<Vec<(Spelled, Spelled)>>(&self.file, "move journal") else {
            return;
        };
        let moves: Vec<Move> = written
            .into_iter()
            .map(|(a, b)| (a.path(), b.path()))
            .collect();
        for (from, to) in moves.iter().rev() {
            if to.symlink_metadata().is_ok() && from.symlink_metadata().is_err() {
                match std::fs::rename(to, from) {
                    Ok(()) => tracing::info!(
                        "put {} back where it was: pimedia stopped while moving it",
                        from.display()
                    ),
                    Err(e) => tracing::error!("could not put {} back: {e}", from.display()),
                }
            }
        }
        let _ = std::fs::remove_file(&self.file);
    }
}

/// A path as the journal writes it: text, or its bytes when it is not
/// UTF-8 (a name from an old disk).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum Spelled {
    Text(String),
    Bytes(Vec<u8>),
}

impl Spelled {
    fn of(p: &Path) -> Spelled {
        use std::os::unix::ffi::OsStrExt;
        match p.to_str() {
            Some(s) => Spelled::Text(s.to_string()),
            None => Spelled::Bytes(p.as_os_str().as_bytes().to_vec()),
        }
    }

    fn path(self) -> PathBuf {
        use std::os::unix::ffi::OsStringExt;
        match self {
            Spelled::Text(s) => PathBuf::from(s),
            Spelled::Bytes(b) => PathBuf::from(std::ffi::OsString::from_vec(b)),
        }
    }
}

/// A rename that fails rather than replace what is at `to`.
pub fn rename_noreplace(from: &Path, to: &Path) -> io::Result<()> {
    use nix::fcntl::{renameat2, RenameFlags, AT_FDCWD};
    match renameat2(AT_FDCWD, from, AT_FDCWD, to, RenameFlags::RENAME_NOREPLACE) {
        Ok(()) => Ok(()),
        // A file system without the flag: check, then rename.
        Err(nix::errno::Errno::EINVAL) if to.symlink_metadata().is_err() => {
            std::fs::rename(from, to)
        }
        Err(e) => Err(io::Error::from(e)),
    }
}

/// Tests stop pimedia half-way through a move: debug builds wait this
/// long before each rename when `PIMEDIA_TEST_MOVE_PAUSE_MS` is set.
fn test_pause() {
    #[cfg(debug_assertions)]
    if let Some(ms) = std::env::var("PIMEDIA_TEST_MOVE_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_all_or_none_and_never_replaces() {
        let d = tempfile::tempdir().unwrap();
        let (a, b, c) = (d.path().join("a"), d.path().join("b"), d.path().join("c"));
        std::fs::write(&a, "a").unwrap();
        std::fs::write(&b, "b").unwrap();
        std::fs::write(&c, "c").unwrap();
        let j = Journal::new(d.path());
        let into = d.path().join("new/folder");
        // The second target exists: nothing moves.
        let err = j
            .move_all(&[(a.clone(), into.join("a")), (b.clone(), c.clone())])
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert!(a.exists() && b.exists());
        // A source that is gone half-way: the first goes back.
        let err = j.move_all(&[
            (a.clone(), into.join("a")),
            (d.path().join("gone"), into.join("g")),
        ]);
        assert!(err.is_err());
        assert_eq!(std::fs::read(&a).unwrap(), b"a");
        j.move_all(&[(a.clone(), into.join("a")), (b.clone(), into.join("b"))])
            .unwrap();
        assert!(!a.exists() && into.join("b").exists());
        assert!(!d.path().join("moving.json").exists());
    }

    #[test]
    fn a_move_cut_short_is_undone_at_start_up() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a"), d.path().join("b"));
        std::fs::write(&b, "moved before the crash").unwrap();
        let j = Journal::new(d.path());
        write_atomic(
            &j.file,
            &serde_json::to_vec(&vec![(a.clone(), b.clone())]).unwrap(),
        )
        .unwrap();
        j.roll_back();
        assert_eq!(std::fs::read(&a).unwrap(), b"moved before the crash");
        assert!(!b.exists() && !j.file.exists());
    }

    #[test]
    fn a_name_that_is_not_utf8_is_journalled_and_put_back() {
        use std::os::unix::ffi::OsStrExt;
        let d = tempfile::tempdir().unwrap();
        let a = d
            .path()
            .join(std::ffi::OsStr::from_bytes(b"M\xe4dchen.avi"));
        let b = d.path().join("moved.avi");
        std::fs::write(&b, "bytes").unwrap();
        let j = Journal::new(d.path());
        let written = vec![(Spelled::of(&a), Spelled::of(&b))];
        write_atomic(&j.file, &serde_json::to_vec(&written).unwrap()).unwrap();
        j.roll_back();
        assert_eq!(std::fs::read(&a).unwrap(), b"bytes");
        // And a whole move of one works, as every other.
        j.move_all(&[(a.clone(), b.clone())]).unwrap();
        assert!(b.is_file() && !a.exists() && !j.file.exists());
    }
}
