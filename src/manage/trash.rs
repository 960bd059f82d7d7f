//! The trash: `<media>/.trash-pimedia/<id>/`, one folder per deleted
//! video holding its files at their library paths (`files/…`) and what is
//! needed to bring it back (`entry.json`). It is on the media dir's file
//! system, so a delete and a restore are renames, never copies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::fsutil::{load_json, now, write_atomic};
use crate::jobs::Job;
use crate::media::Probe;
use crate::positions::Position;

/// Deleted videos are kept this long.
pub const KEEP_DAYS: u64 = 30;

/// One deleted video and everything pimedia had made of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    /// The video as the library showed it.
    pub path: String,
    pub title: String,
    /// Unix seconds.
    pub deleted: u64,
    /// Every file, relative to the media dir, as it was.
    pub files: Vec<String>,
    /// What ffprobe said of each video file, so a restore probes nothing.
    #[serde(default)]
    pub probes: BTreeMap<String, Probe>,
    #[serde(default)]
    pub positions: Vec<(String, Position)>,
    /// Each profile's own positions of them: (profile, file, position).
    #[serde(default)]
    pub people_positions: Vec<(u64, String, Position)>,
    #[serde(default)]
    pub jobs: Vec<Job>,
    /// The versions made of each video, as `versions.json` had them.
    #[serde(default)]
    pub versions: Vec<(String, crate::versions::MadeOf)>,
    /// The folder it goes back to, when its own was renamed or moved
    /// since (so it comes back where its folder is, and to whoever may
    /// see that folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_to: Option<String>,
}

impl Entry {
    /// The folder a restore puts it back in.
    pub fn folder(&self) -> &str {
        match &self.back_to {
            Some(f) => f,
            None => super::split(&self.files[0]).0,
        }
    }

    /// Unix seconds when it is removed for good.
    pub fn expires(&self) -> u64 {
        self.deleted + KEEP_DAYS * 86400
    }
}

pub struct Trash {
    dir: PathBuf,
}

impl Trash {
    pub const FOLDER: &str = ".trash-pimedia";

    pub fn new(media_root: &Path) -> Trash {
        Trash {
            dir: media_root.join(Self::FOLDER),
        }
    }

    /// Ids are made here, so anything else in a URL is refused.
    fn entry_dir(&self, id: &str) -> Option<PathBuf> {
        let ok = !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| self.dir.join(id))
    }

    pub fn new_id() -> std::io::Result<String> {
        Ok(crate::upload::random_id()?[..12].to_string())
    }

    /// Where file `rel` of entry `id` is kept.
    pub fn file_in(&self, id: &str, rel: &str) -> PathBuf {
        self.dir.join(id).join("files").join(rel)
    }

    /// Every entry, newest first. A folder whose files are not there (a
    /// delete cut short and undone at start-up) is cleared away. Blocking.
    pub fn list(&self) -> Vec<Entry> {
        let Ok(dirs) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut out: Vec<Entry> = dirs
            .flatten()
            .filter_map(|d| d.file_name().into_string().ok())
            .filter_map(|id| {
                let entry = self.get(&id);
                if entry.is_none() {
                    tracing::info!("clearing trash folder {id}: its files are not in it");
                    let _ = self.remove(&id);
                }
                entry
            })
            .collect();
        out.sort_by(|a, b| b.deleted.cmp(&a.deleted).then(a.id.cmp(&b.id)));
        out
    }

    /// An entry whose files are all in the trash. Blocking.
    pub fn get(&self, id: &str) -> Option<Entry> {
        let dir = self.entry_dir(id)?;
        let entry: Entry = load_json(&dir.join("entry.json"), "trash entry")?;
        entry
            .files
            .iter()
            .all(|f| self.file_in(id, f).symlink_metadata().is_ok())
            .then_some(entry)
    }

    /// Writes an entry's record (before its files move in). Blocking.
    pub fn save(&self, entry: &Entry) -> std::io::Result<()> {
        let dir = self
            .entry_dir(&entry.id)
            .ok_or_else(|| std::io::Error::other("bad trash id"))?;
        std::fs::create_dir_all(&dir)?;
        write_atomic(&dir.join("entry.json"), &serde_json::to_vec_pretty(entry)?)
    }

    /// Follows folder renames (`from/`, `to/`): an entry whose folder
    /// moved goes back to the folder's new place. Blocking.
    pub fn folders_moved(&self, moves: &[(String, String)]) -> std::io::Result<()> {
        for mut entry in self.list() {
            let Some(to) = crate::paths::renamed(&format!("{}/", entry.folder()), moves) else {
                continue;
            };
            entry.back_to = Some(to.trim_end_matches('/').to_string());
            self.save(&entry)?;
        }
        Ok(())
    }

    /// Removes an entry and its files for good. Blocking.
    pub fn remove(&self, id: &str) -> std::io::Result<()> {
        match self.entry_dir(id) {
            Some(dir) => std::fs::remove_dir_all(dir),
            None => Ok(()),
        }
    }

    /// Removes the entries older than 30 days; how many. Blocking.
    pub fn expire(&self) -> usize {
        let t = now();
        let old: Vec<Entry> = self
            .list()
            .into_iter()
            .filter(|e| e.expires() <= t)
            .collect();
        for e in &old {
            match self.remove(&e.id) {
                Ok(()) => tracing::info!("{} left the trash after {KEEP_DAYS} days", e.path),
                Err(err) => tracing::warn!("could not empty {} from the trash: {err}", e.path),
            }
        }
        old.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(trash: &Trash, root: &Path, name: &str, days_ago: u64) -> Entry {
        let e = Entry {
            id: Trash::new_id().unwrap(),
            path: name.into(),
            title: name.into(),
            deleted: now() - days_ago * 86400,
            files: vec![name.into()],
            probes: BTreeMap::new(),
            positions: Vec::new(),
            people_positions: Vec::new(),
            jobs: Vec::new(),
            versions: Vec::new(),
            back_to: None,
        };
        trash.save(&e).unwrap();
        let kept = trash.file_in(&e.id, name);
        std::fs::create_dir_all(kept.parent().unwrap()).unwrap();
        std::fs::write(root.join("x"), "bytes").unwrap();
        std::fs::rename(root.join("x"), kept).unwrap();
        e
    }

    #[test]
    fn keeps_30_days_then_lets_go() {
        let d = tempfile::tempdir().unwrap();
        let trash = Trash::new(d.path());
        let old = entry(&trash, d.path(), "old.mp4", 31);
        let young = entry(&trash, d.path(), "young.mp4", 29);
        assert_eq!(trash.list().len(), 2);
        assert_eq!(trash.expire(), 1);
        let left: Vec<String> = trash.list().into_iter().map(|e| e.id).collect();
        assert_eq!(left, [young.id]);
        assert!(!d.path().join(Trash::FOLDER).join(&old.id).exists());
    }

    #[test]
    fn a_record_without_its_files_is_cleared_and_ids_stay_inside() {
        let d = tempfile::tempdir().unwrap();
        let trash = Trash::new(d.path());
        let e = entry(&trash, d.path(), "a.mp4", 0);
        std::fs::remove_file(trash.file_in(&e.id, "a.mp4")).unwrap();
        assert!(trash.list().is_empty());
        assert!(!d.path().join(Trash::FOLDER).join(&e.id).exists());
        assert!(trash.get("../../etc").is_none());
    }

    #[test]
    fn a_deleted_video_goes_back_where_its_folder_went() {
        let d = tempfile::tempdir().unwrap();
        let trash = Trash::new(d.path());
        let kids = entry(&trash, d.path(), "Kids/a.mp4", 0);
        let films = entry(&trash, d.path(), "Films/b.mp4", 0);
        let moved = |from: &str, to: &str| vec![(format!("{from}/"), format!("{to}/"))];
        trash.folders_moved(&moved("Kids", "Children")).unwrap();
        trash
            .folders_moved(&moved("Children", "Family/Children"))
            .unwrap();
        assert_eq!(trash.get(&kids.id).unwrap().folder(), "Family/Children");
        assert_eq!(trash.get(&films.id).unwrap().folder(), "Films");
        // Its files stay where the trash keeps them.
        assert_eq!(trash.get(&kids.id).unwrap().files, ["Kids/a.mp4"]);
    }
}
