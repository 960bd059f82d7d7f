//! The metadata cache: ffprobe results keyed by path + size + mtime, kept in
//! the state dir so a restart probes nothing that has not changed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::media::{Meta, Probe};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cached {
    pub size: u64,
    pub modified: i64,
    /// `None` when ffprobe could not read the file; `error` says why.
    pub meta: Option<std::sync::Arc<Meta>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Every stream, so a remux needs no second ffprobe run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<Probe>,
    /// ffmpeg could not make a poster; don't try again until the file changes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub poster_failed: bool,
    /// What ffprobe was asked for: entries from an older pimedia, which
    /// read fewer details of each stream, are probed again.
    #[serde(default)]
    pub version: u32,
}

/// Bumped whenever a probe reads more than before.
const VERSION: u32 = 3;

pub struct MetaCache {
    file: PathBuf,
    entries: HashMap<String, Cached>,
    dirty: bool,
}

impl MetaCache {
    /// Loads the cache; a missing file is empty, a corrupt one is moved
    /// aside with a warning (it is only a cache).
    pub fn load(state_dir: &Path) -> MetaCache {
        let file = state_dir.join("metadata.json");
        let entries = crate::fsutil::load_json(&file, "metadata cache").unwrap_or_default();
        MetaCache {
            file,
            entries,
            dirty: false,
        }
    }

    /// The cached entry, only if the file has not changed since.
    pub fn get(&self, path: &str, size: u64, modified: i64) -> Option<&Cached> {
        self.entries
            .get(path)
            .filter(|c| c.size == size && c.modified == modified && c.version == VERSION)
    }

    pub fn put(&mut self, path: String, mut cached: Cached) {
        cached.version = VERSION;
        self.entries.insert(path, cached);
        self.dirty = true;
    }

    pub fn get_mut(&mut self, path: &str, size: u64, modified: i64) -> Option<&mut Cached> {
        self.dirty = true;
        self.entries
            .get_mut(path)
            .filter(|c| c.size == size && c.modified == modified && c.version == VERSION)
    }

    /// Takes a file's entry out (it is being renamed).
    pub fn take(&mut self, path: &str) -> Option<Cached> {
        let c = self.entries.remove(path);
        self.dirty |= c.is_some();
        c
    }

    pub fn remove(&mut self, path: &str) {
        if self.entries.remove(path).is_some() {
            self.dirty = true;
        }
    }

    /// Drops entries for files that no longer exist.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        let before = self.entries.len();
        self.entries.retain(|k, _| keep(k));
        self.dirty |= self.entries.len() != before;
    }

    /// The bytes to write when something changed since the last save.
    pub fn take_snapshot(&mut self) -> Option<(PathBuf, Vec<u8>)> {
        if !self.dirty {
            return None;
        }
        self.dirty = false;
        let bytes = serde_json::to_vec(&self.entries).ok()?;
        Some((self.file.clone(), bytes))
    }
}
