//! The start-up walk of the media dir. Blocking: run it off the async workers.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::Path;
use std::time::UNIX_EPOCH;

use crate::media::{kind_of, Kind};
use crate::paths::{is_aliased, is_hidden, readable};

/// A video file found on disk, before any probing.
#[derive(Debug, Clone)]
pub struct Found {
    pub path: String,
    pub size: u64,
    pub modified: i64,
    pub kind: Kind,
    /// Its path as the disk spells it, when a name in it is not UTF-8
    /// (`path` is then how it reads).
    pub disk: Option<OsString>,
}

#[derive(Debug, Default)]
pub struct ScanResult {
    pub videos: Vec<Found>,
    pub folders: Vec<String>,
    /// pimedia's own temp and partial files (`.pimedia-*`), for start-up to sweep.
    pub leftovers: Vec<std::path::PathBuf>,
}

/// Walks `root` recursively, skipping dot entries, symlinks and `skip`
/// (the state dir when it lives inside the media dir).
pub fn scan(root: &Path, skip: &Path) -> ScanResult {
    let mut out = ScanResult::default();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let dir = if rel.is_empty() {
            root.to_path_buf()
        } else {
            crate::paths::on_disk(root, &rel)
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!("cannot read folder {}: {e}", dir.display());
                continue;
            }
        };
        let entries: Vec<_> = entries.flatten().collect();
        // A name that is not UTF-8 is listed as it reads (paths::readable),
        // unless a sibling already has that name.
        let mut taken: HashSet<String> = entries
            .iter()
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .collect();
        for entry in entries {
            let name = entry.file_name();
            if is_hidden(&name) {
                if name.as_encoded_bytes().starts_with(b".pimedia-") {
                    out.leftovers.push(entry.path());
                }
                continue;
            }
            let name = if is_aliased(&name) {
                let shown = readable(&name).into_owned();
                if !taken.insert(shown.clone()) {
                    tracing::warn!(
                        "skipping {}: its name is not UTF-8 and reads as {shown}, which another file has",
                        entry.path().display()
                    );
                    continue;
                }
                tracing::info!(
                    "{}: its name is not UTF-8; listed as {shown}",
                    entry.path().display()
                );
                shown
            } else {
                name.to_string_lossy().into_owned()
            };
            let child_rel = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                if entry.path() != skip {
                    out.folders.push(child_rel.clone());
                    stack.push(child_rel);
                }
            } else if ft.is_file() {
                if let Some(found) = found_file(&entry.path(), child_rel) {
                    out.videos.push(found);
                }
            }
        }
    }
    out
}

/// Stats one file; `None` unless it is a video pimedia lists.
pub fn found_file(path: &Path, rel: String) -> Option<Found> {
    let kind = kind_of(path)?;
    let md = std::fs::metadata(path).ok()?;
    if !md.is_file() {
        return None;
    }
    Some(Found {
        disk: disk_spelling(path, &rel),
        path: rel,
        size: md.len(),
        modified: md
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
        kind,
    })
}

/// The last segments of `path` (as many as `rel` has) when one of them is
/// not UTF-8.
fn disk_spelling(path: &Path, rel: &str) -> Option<OsString> {
    let n = rel.split('/').count();
    let mut tail: Vec<&std::ffi::OsStr> = path.iter().rev().take(n).collect();
    if !tail.iter().any(|s| is_aliased(s)) {
        return None;
    }
    tail.reverse();
    Some(tail.iter().collect::<std::path::PathBuf>().into_os_string())
}
