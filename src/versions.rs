//! Smaller versions: which each video should have (its folder's own list,
//! inherited by subfolders, else `--versions`) and which it has (each
//! made file's size, picture and bitrate, as checked when it was made).
//! Kept in the state dir (`versions.json`); the files themselves are on
//! the media dir's disk beside their video (see `media::versions`). The
//! record follows its video on rename, move, trash and restore.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

pub use crate::media::versions::Version;
use crate::store::Store;

/// A version made, as its check found it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Made {
    pub size: u64,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Bits per second, both streams.
    pub bitrate: u64,
}

/// A video's versions, by name.
pub type MadeOf = BTreeMap<Version, Made>;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Saved {
    /// A folder (`""` for the library's root) -> its own list.
    #[serde(default)]
    folders: BTreeMap<String, Vec<Version>>,
    /// A video's path -> the versions made of it.
    #[serde(default)]
    made: BTreeMap<String, MadeOf>,
    /// A video's path -> the versions removed from it by hand: not made
    /// again for its folder's list until asked for again.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    removed: BTreeMap<String, BTreeSet<Version>>,
}

pub struct Versions {
    saved: Arc<Store<Saved>>,
    /// The media dir: what is made is what is on its disk.
    root: PathBuf,
    /// `--versions`: for every folder without a list of its own.
    default: Vec<Version>,
}

impl Versions {
    /// Loads `versions.json`, for the videos under `root`. Blocking.
    pub fn load(state_dir: &Path, root: &Path, default: Vec<Version>) -> Versions {
        Versions {
            saved: Arc::new(Store::load(
                state_dir.join("versions.json"),
                "versions file",
                Duration::from_secs(2),
            )),
            root: root.to_path_buf(),
            default,
        }
    }

    /// Writes the file behind the changes until `stop`, and once more then.
    pub fn writer(&self, stop: CancellationToken) -> impl std::future::Future<Output = ()> {
        self.saved.clone().run(stop)
    }

    pub async fn flush(&self) {
        self.saved.save().await;
    }

    /// The versions a video at `path` should have, but for those removed
    /// from it by hand.
    pub fn due(&self, path: &str) -> Vec<Version> {
        let mut list = self.wanted(path);
        if let Some(removed) = self.saved.get().removed.get(path) {
            list.retain(|v| !removed.contains(v));
        }
        list
    }

    /// The versions a video at `path` should have: the nearest folder's
    /// own list above it, else `--versions`.
    pub fn wanted(&self, path: &str) -> Vec<Version> {
        let saved = self.saved.get();
        let mut dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        loop {
            if let Some(list) = saved.folders.get(dir) {
                return list.clone();
            }
            if dir.is_empty() {
                return self.default.clone();
            }
            dir = dir.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        }
    }

    /// The list a folder has of its own, if it has one.
    pub fn folder_list(&self, folder: &str) -> Option<Vec<Version>> {
        self.saved.get().folders.get(folder).cloned()
    }

    /// Gives a folder its own list (empty: none, whatever is above it);
    /// what was removed by hand under it is due again.
    pub async fn set_folder(&self, folder: &str, list: Vec<Version>) {
        let prefix = format!("{folder}/");
        self.saved.change(|s| {
            s.folders.insert(folder.to_string(), list);
            s.removed
                .retain(|path, _| !folder.is_empty() && !path.starts_with(&prefix));
        });
        self.saved.save().await;
    }

    /// The versions made of the video at `path` that are on disk now: one
    /// removed by hand or lost to the disk is not made (and its record,
    /// kept, is taken over when it is made again).
    pub fn made(&self, path: &str) -> MadeOf {
        self.on_disk(path).0
    }

    /// The versions recorded as made of the video at `path`, split by one
    /// look at the disk: those there now, and those gone from it.
    pub fn on_disk(&self, path: &str) -> (MadeOf, Vec<Version>) {
        let mut made = self.saved.get().made.get(path).cloned().unwrap_or_default();
        let mut lost = Vec::new();
        made.retain(|v, _| {
            let there = self.file(path, *v).is_file();
            if !there {
                lost.push(*v);
            }
            there
        });
        (made, lost)
    }

    /// Where `version` of the video at `path` is, made or not.
    pub fn file(&self, path: &str, version: Version) -> PathBuf {
        crate::paths::on_disk(&self.root, &version.file_name(path))
    }

    pub async fn record(&self, path: &str, version: Version, made: Made) {
        self.saved.change(|s| {
            s.made
                .entry(path.to_string())
                .or_default()
                .insert(version, made);
            unmark_removed(s, path, version);
        });
        self.saved.save().await;
    }

    /// Asked for by hand: due again even where it was removed.
    pub async fn asked(&self, path: &str, version: Version) {
        if self.saved.get().removed.contains_key(path) {
            self.saved.change(|s| unmark_removed(s, path, version));
            self.saved.save().await;
        }
    }

    /// Removed by hand: no longer made, nor made again for its folder.
    pub async fn removed(&self, path: &str, version: Version) {
        self.saved.change(|s| {
            if let Some(m) = s.made.get_mut(path) {
                m.remove(&version);
                if m.is_empty() {
                    s.made.remove(path);
                }
            }
            s.removed
                .entry(path.to_string())
                .or_default()
                .insert(version);
        });
        self.saved.save().await;
    }

    /// Bytes the versions of the videos under `folder` take (`""`: all).
    pub fn total_under(&self, folder: &str) -> (u64, Vec<(String, Version)>) {
        let paths: Vec<String> = {
            let saved = self.saved.get();
            let under = |p: &&String| folder.is_empty() || p.starts_with(&format!("{folder}/"));
            saved.made.keys().filter(under).cloned().collect()
        };
        let mut bytes = 0;
        let mut which = Vec::new();
        for path in paths {
            for (v, m) in self.made(&path) {
                bytes += m.size;
                which.push((path.clone(), v));
            }
        }
        (bytes, which)
    }

    /// Records of renamed videos and folders follow them (`from` -> `to`,
    /// each a file or a folder's prefix ending in `/`).
    pub async fn moved(&self, moves: &[(String, String)]) {
        self.saved.change(|s| {
            rename_keys(&mut s.made, moves);
            rename_keys(&mut s.removed, moves);
            let folders: Vec<String> = s.folders.keys().cloned().collect();
            for key in folders {
                let as_prefix = format!("{key}/");
                if let Some(to) = crate::paths::renamed(&as_prefix, moves) {
                    let list = s.folders.remove(&key).expect("listed");
                    s.folders.insert(to.trim_end_matches('/').to_string(), list);
                }
            }
        });
        self.saved.save().await;
    }

    /// The records of these videos, as they are now.
    pub fn snapshot(&self, paths: &[String]) -> Vec<(String, MadeOf)> {
        let saved = self.saved.get();
        paths
            .iter()
            .filter_map(|p| Some((p.clone(), saved.made.get(p)?.clone())))
            .collect()
    }

    /// Takes the records of these videos out (they go to the trash).
    pub async fn take(&self, paths: &[String]) -> Vec<(String, MadeOf)> {
        let taken = self.saved.change(|s| {
            paths
                .iter()
                .filter_map(|p| s.made.remove(p).map(|m| (p.clone(), m)))
                .collect()
        });
        self.saved.save().await;
        taken
    }

    /// Puts records back (their videos came back from the trash).
    pub async fn put_back(&self, made: Vec<(String, MadeOf)>) {
        self.saved.change(|s| s.made.extend(made));
        self.saved.save().await;
    }
}

/// `version` of the video at `path` is no longer marked removed by hand.
fn unmark_removed(s: &mut Saved, path: &str, version: Version) {
    if let Some(r) = s.removed.get_mut(path) {
        r.remove(&version);
        if r.is_empty() {
            s.removed.remove(path);
        }
    }
}

/// Keys of renamed videos follow them.
fn rename_keys<T>(by_path: &mut BTreeMap<String, T>, moves: &[(String, String)]) {
    let keys: Vec<String> = by_path.keys().cloned().collect();
    for key in keys {
        if let Some(to) = crate::paths::renamed(&key, moves) {
            let m = by_path.remove(&key).expect("listed");
            by_path.insert(to, m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn folders_lists_are_inherited_and_follow_moves() {
        let d = tempfile::tempdir().unwrap();
        let v = Versions::load(d.path(), d.path(), vec![Version::P480]);
        assert_eq!(v.wanted("Films/a.mp4"), [Version::P480]);
        v.set_folder("Films", vec![Version::P720, Version::Audio])
            .await;
        v.set_folder("Films/Kids", vec![]).await;
        assert_eq!(v.wanted("Films/b/a.mp4"), [Version::P720, Version::Audio]);
        assert_eq!(v.wanted("Films/Kids/a.mp4"), []);
        assert_eq!(v.wanted("a.mp4"), [Version::P480]);
        let made = Made {
            size: 10,
            width: Some(1280),
            height: Some(720),
            bitrate: 3_000_000,
        };
        v.record("Films/b/a.mp4", Version::P720, made).await;
        // Made is what is on disk.
        assert!(v.made("Films/b/a.mp4").is_empty());
        std::fs::create_dir_all(d.path().join("Movies/b")).unwrap();
        std::fs::write(d.path().join("Movies/b/a.mp4.720p"), b"made").unwrap();
        v.moved(&[("Films/".into(), "Movies/".into())]).await;
        assert_eq!(v.made("Movies/b/a.mp4").len(), 1);
        assert_eq!(v.wanted("Movies/x.mp4"), [Version::P720, Version::Audio]);
        assert_eq!(v.total_under("Movies").0, 10);
        assert_eq!(v.total_under("Mov").0, 0);
        let taken = v.take(&["Movies/b/a.mp4".into()]).await;
        assert!(v.made("Movies/b/a.mp4").is_empty());
        v.put_back(taken).await;
        v.flush().await;
        let again = Versions::load(d.path(), d.path(), vec![]);
        assert_eq!(again.made("Movies/b/a.mp4")[&Version::P720], made);
    }
}
