//! Tidying the library: delete to the trash, restore, rename, move into
//! another folder, new folders. A video is never one file alone: its
//! source, the versions made of it, their subtitles, poster, position,
//! metadata and jobs go together, so nothing is probed again and resume
//! still works. Every change of place is a rename on the media dir's file
//! system, all or nothing (see `journal`).

mod journal;
pub mod trash;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::Context;
use crate::error::{Error, Result};
use crate::fsutil::{blocking, now};
use crate::jobs::Jobs;
use crate::library::{found_file, Library};
use crate::media::made;
use crate::paths::{on_disk, renamed};
use crate::positions::Positions;
use crate::profiles::Profiles;
use crate::versions::Versions;
pub use journal::Journal;
use journal::Move;
pub use trash::{Entry, Trash};

pub struct Manage {
    root: PathBuf,
    library: Arc<Library>,
    jobs: Arc<Jobs>,
    positions: Arc<Positions>,
    versions: Arc<Versions>,
    /// A limited profile's folders follow their renames.
    profiles: Arc<Profiles>,
    trash: Arc<Trash>,
    journal: Arc<Journal>,
    /// One change at a time: two never pick the same name or interleave
    /// their journals.
    one_at_a_time: tokio::sync::Mutex<()>,
}

/// A video's files: the videos of its group, then their subtitles.
struct Files {
    videos: Vec<String>,
    subtitles: Vec<String>,
}

impl Files {
    fn all(&self) -> Vec<String> {
        self.videos.iter().chain(&self.subtitles).cloned().collect()
    }
}

impl Manage {
    pub fn new(
        root: PathBuf,
        state_dir: &Path,
        library: Arc<Library>,
        jobs: Arc<Jobs>,
        positions: Arc<Positions>,
        versions: Arc<Versions>,
        profiles: Arc<Profiles>,
    ) -> Manage {
        Manage {
            trash: Arc::new(Trash::new(&root)),
            journal: Arc::new(Journal::new(state_dir)),
            root,
            library,
            jobs,
            positions,
            versions,
            profiles,
            one_at_a_time: tokio::sync::Mutex::new(()),
        }
    }

    /// The files of the video at `path`, none of them being converted now.
    async fn files_of(&self, path: &str) -> Result<Files> {
        let videos = self.library.group_of(path);
        if videos.is_empty() {
            return Err(Error::NotFound);
        }
        if self.jobs.running_for(&videos) {
            return Err(Error::Conflict(format!(
                "'{}' is being converted right now: cancel its conversion on the Conversions page, or try again when it is done.",
                crate::library::title_of(path)
            )));
        }
        let (root, all) = (self.root.clone(), videos.clone());
        let subtitles = blocking(move || made::companions(&root, &all))
            .await
            .unwrap_or_default();
        Ok(Files { videos, subtitles })
    }

    /// Moves a video, with everything made of it, to the trash.
    pub async fn delete(&self, path: &str) -> Result<Entry> {
        let _one = self.one_at_a_time.lock().await;
        let files = self.files_of(path).await?;
        let id = Trash::new_id().at("a new trash id")?;
        let entry = Entry {
            id: id.clone(),
            path: path.to_string(),
            title: crate::library::title_of(path),
            deleted: now(),
            files: files.all(),
            probes: files
                .videos
                .iter()
                .filter_map(|v| Some((v.clone(), self.library.probe_of(v)?)))
                .collect(),
            positions: self.positions.snapshot(&files.videos),
            people_positions: self.positions.snapshot_people(&files.videos),
            jobs: self.jobs.snapshot_for(&files.videos),
            versions: self.versions.snapshot(&files.videos),
            back_to: None,
        };
        let moves: Vec<(String, PathBuf)> = entry
            .files
            .iter()
            .map(|f| (f.clone(), self.trash.file_in(&id, f)))
            .collect();
        let (trash, journal, record) = (self.trash.clone(), self.journal.clone(), entry.clone());
        let root = self.root.clone();
        blocking(move || -> std::io::Result<()> {
            let moves: Vec<Move> = moves
                .into_iter()
                .map(|(from, to)| (on_disk(&root, &from), to))
                .collect();
            trash.save(&record)?;
            journal.move_all(&moves).inspect_err(|_| {
                let _ = trash.remove(&record.id);
            })
        })
        .await
        .ok_or_else(stopped)?
        .map_err(|e| move_error(e, path))?;
        for v in &files.videos {
            self.library.remove(v);
        }
        self.positions.take(&files.videos).await;
        self.jobs.take_for(&files.videos).await;
        self.versions.take(&files.videos).await;
        tracing::info!("{path} went to the trash ({} files)", entry.files.len());
        Ok(entry)
    }

    /// Renames or moves a video (with its companions) or a folder to `to`,
    /// a path relative to the media dir made safe as upload names are.
    /// Returns the new path.
    pub async fn rename(&self, path: &str, to: &str) -> Result<String> {
        let to = safe_relative(to)?;
        let _one = self.one_at_a_time.lock().await;
        if self.library.get(path).is_some() {
            self.rename_video(path, &to).await
        } else if !path.is_empty() && self.library.has_folder(path) {
            self.rename_folder(path, &to).await
        } else {
            Err(Error::NotFound)
        }
    }

    async fn rename_video(&self, path: &str, to: &str) -> Result<String> {
        let files = self.files_of(path).await?;
        let (new_dir, new_name) = split(to);
        let new_stem = made::stem_of(new_name);
        let pairs = restemmed(&files.all(), new_dir, new_stem);
        let new_path = renamed(path, &pairs).unwrap_or_else(|| path.to_string());
        if pairs.iter().all(|(a, b)| a == b) {
            return Ok(new_path);
        }
        self.move_and_record(&pairs, &new_path).await?;
        let library = self.library.clone();
        let videos: Vec<(String, String)> = pairs
            .iter()
            .filter(|(a, _)| files.videos.contains(a))
            .cloned()
            .collect();
        blocking(move || {
            for (from, to) in &videos {
                library.moved(from, to);
            }
        })
        .await;
        self.follow(&pairs).await;
        tracing::info!("{path} is now {new_path}");
        Ok(new_path)
    }

    async fn rename_folder(&self, path: &str, to: &str) -> Result<String> {
        if to == path || to.starts_with(&format!("{path}/")) {
            return Err(Error::BadRequest(format!(
                "'{path}' can't be moved into itself."
            )));
        }
        let inside: Vec<String> = self
            .library
            .all_paths()
            .into_iter()
            .filter(|p| p.starts_with(&format!("{path}/")))
            .collect();
        if self.jobs.running_for(&inside) {
            return Err(Error::Conflict(format!(
                "A video in '{path}' is being converted right now: try again when it is done."
            )));
        }
        let pairs = vec![(path.to_string(), to.to_string())];
        self.move_and_record(&pairs, to).await?;
        let (library, from, into) = (self.library.clone(), path.to_string(), to.to_string());
        blocking(move || library.folder_moved(&from, &into)).await;
        let prefixes = vec![(format!("{path}/"), format!("{to}/"))];
        self.follow(&prefixes).await;
        let (trash, moves) = (self.trash.clone(), prefixes.clone());
        if let Some(Err(e)) = blocking(move || trash.folders_moved(&moves)).await {
            tracing::warn!("the trash could not follow {path} to {to}: {e}");
        }
        tracing::info!("folder {path} is now {to}");
        Ok(to.to_string())
    }

    /// What is kept by path follows renames made on disk (each a file,
    /// or a folder ending in `/`): places, jobs, versions, and the
    /// folders profiles are limited to.
    async fn follow(&self, moves: &[(String, String)]) {
        self.positions.moved(moves).await;
        self.jobs.moved(moves).await;
        self.versions.moved(moves).await;
        self.profiles.moved(moves).await;
    }

    /// The renames on disk, all or none.
    async fn move_and_record(&self, pairs: &[(String, String)], shown: &str) -> Result<()> {
        let moves: Vec<(String, String)> = pairs.iter().filter(|(a, b)| a != b).cloned().collect();
        let (journal, root) = (self.journal.clone(), self.root.clone());
        blocking(move || {
            let moves: Vec<Move> = moves
                .iter()
                .map(|(a, b)| (on_disk(&root, a), on_disk(&root, b)))
                .collect();
            journal.move_all(&moves)
        })
        .await
        .ok_or_else(stopped)?
        .map_err(|e| move_error(e, shown))
    }

    /// Makes a folder (its parents too), named as upload folders are.
    pub async fn new_folder(&self, path: &str) -> Result<String> {
        let rel = safe_relative(path)?;
        let dir = self.root.join(&rel);
        if tokio::fs::symlink_metadata(&dir).await.is_ok() {
            return Err(Error::Conflict(format!("'{rel}' already exists.")));
        }
        let (root, folder) = (self.root.clone(), rel.clone());
        blocking(move || crate::paths::make_dirs_inside(&root, &folder))
            .await
            .ok_or_else(stopped)?
            .at(format!("new folder '{rel}'"))?;
        self.library.add_folder(&rel);
        Ok(rel)
    }

    /// What is in the trash, newest first.
    pub async fn trash(&self) -> Vec<Entry> {
        let trash = self.trash.clone();
        blocking(move || trash.list()).await.unwrap_or_default()
    }

    /// Brings a video back where it was, or as `name (1)` when that name
    /// is taken now. Returns its path.
    pub async fn restore(&self, id: &str) -> Result<String> {
        let _one = self.one_at_a_time.lock().await;
        let trash = self.trash.clone();
        let key = id.to_string();
        let entry = blocking(move || trash.get(&key))
            .await
            .flatten()
            .ok_or(Error::NotFound)?;
        let (dir, name) = (entry.folder(), split(&entry.files[0]).1);
        let stem = made::stem_of(name);
        let root = self.root.clone();
        let pairs = (0..10_000)
            .map(|n| {
                let stem = if n == 0 {
                    stem.to_string()
                } else {
                    format!("{stem} ({n})")
                };
                restemmed(&entry.files, dir, &stem)
            })
            .find(|pairs| {
                pairs
                    .iter()
                    .all(|(_, to)| root.join(to).symlink_metadata().is_err())
            })
            .ok_or_else(|| {
                Error::Conflict(format!(
                    "'{}' and its numbered names are all taken.",
                    entry.path
                ))
            })?;
        let moves: Vec<Move> = pairs
            .iter()
            .map(|(from, to)| (self.trash.file_in(id, from), self.root.join(to)))
            .collect();
        let (journal, trash, key) = (self.journal.clone(), self.trash.clone(), id.to_string());
        blocking(move || -> std::io::Result<()> {
            journal.move_all(&moves)?;
            trash.remove(&key)
        })
        .await
        .ok_or_else(stopped)?
        .map_err(|e| move_error(e, &entry.path))?;
        for (from, to) in &pairs {
            let Some(probe) = entry.probes.get(from) else {
                continue;
            };
            let (file, rel) = (self.root.join(to), to.clone());
            if let Some(found) = blocking(move || found_file(&file, rel)).await.flatten() {
                self.library.add(found, Some(probe.clone()));
            }
        }
        let positions = entry
            .positions
            .iter()
            .filter_map(|(p, pos)| Some((renamed(p, &pairs)?, *pos)))
            .collect();
        let people = entry
            .people_positions
            .iter()
            .filter_map(|(id, p, pos)| Some((*id, renamed(p, &pairs)?, *pos)))
            .collect();
        self.positions.put_back(positions, people).await;
        let versions = entry
            .versions
            .iter()
            .filter_map(|(p, m)| Some((renamed(p, &pairs)?, m.clone())))
            .collect();
        self.versions.put_back(versions).await;
        let mut jobs = entry.jobs.clone();
        for j in jobs.iter_mut() {
            j.source = renamed(&j.source, &pairs).unwrap_or(j.source.clone());
            j.output = j
                .output
                .as_deref()
                .map(|o| renamed(o, &pairs).unwrap_or(o.to_string()));
        }
        self.jobs.put_back(jobs).await;
        let back = renamed(&entry.path, &pairs).unwrap_or(entry.path.clone());
        tracing::info!("{back} is back from the trash");
        Ok(back)
    }

    /// Empties the trash now; how many videos went for good.
    pub async fn empty_trash(&self) -> Result<usize> {
        let _one = self.one_at_a_time.lock().await;
        let trash = self.trash.clone();
        blocking(move || -> std::io::Result<usize> {
            let all = trash.list();
            for e in &all {
                trash.remove(&e.id)?;
            }
            Ok(all.len())
        })
        .await
        .ok_or_else(stopped)?
        .at("emptying the trash")
    }

    /// Removes what has been in the trash for 30 days (called hourly).
    pub async fn expire_trash(&self) {
        let _one = self.one_at_a_time.lock().await;
        let trash = self.trash.clone();
        blocking(move || trash.expire()).await;
    }
}

fn stopped() -> Error {
    Error::Internal("a file operation stopped unexpectedly".into())
}

/// A failed move in words: nothing moved.
fn move_error(e: std::io::Error, what: &str) -> Error {
    match e.kind() {
        std::io::ErrorKind::AlreadyExists => Error::Conflict(format!(
            "A file with that name is already there ({}); choose another name. Nothing was moved.",
            e.to_string().replace(" already exists", "")
        )),
        std::io::ErrorKind::CrossesDevices => Error::Conflict(format!(
            "'{what}' is on another disk than the place it would go, and pimedia only renames, never copies: nothing was moved."
        )),
        _ => Error::Internal(format!("moving '{what}' failed, so nothing was moved: {e}")),
    }
}

/// A path from a person: each part made safe as upload names are; `..`
/// refused.
pub fn safe_relative(raw: &str) -> Result<String> {
    let mut parts = Vec::new();
    for part in raw.split(['/', '\\']).map(str::trim) {
        match part {
            "" | "." => continue,
            ".." => {
                return Err(Error::BadRequest(format!(
                    "'{raw}' leaves the media folder; use a path inside it."
                )))
            }
            p => parts.push(crate::upload::safe_name(p)),
        }
    }
    if parts.is_empty() {
        return Err(Error::BadRequest("The new name is empty.".into()));
    }
    Ok(parts.join("/"))
}

/// `(folder, name)` of a relative path.
fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

/// Where each of a group's files goes when the group's first file, whose
/// name gives the shared stem, becomes `dir/stem`: names that start with
/// the old stem ("x.mp4", "x.tv.mp4", "x (1).mp4", "x.en.vtt") take the
/// new one; the rest keep their name.
fn restemmed(files: &[String], dir: &str, stem: &str) -> Vec<(String, String)> {
    let old_stem = made::stem_of(split(&files[0]).1).to_string();
    files
        .iter()
        .map(|f| {
            let name = split(f).1;
            let new_name = match name.strip_prefix(old_stem.as_str()) {
                Some(rest) => format!("{stem}{rest}"),
                None => name.to_string(),
            };
            let to = if dir.is_empty() {
                new_name
            } else {
                format!("{dir}/{new_name}")
            };
            (f.clone(), to)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_from_people_are_made_safe() {
        assert_eq!(
            safe_relative(" Summer 2026 / .Cake.mp4").unwrap(),
            "Summer 2026/Cake.mp4"
        );
        assert!(safe_relative("../etc/passwd").is_err());
        assert!(safe_relative("//").is_err());
    }

    #[test]
    fn companions_take_the_new_stem() {
        let files: Vec<String> = [
            "Kids/IMG_0042.MOV",
            "Kids/IMG_0042.mp4",
            "Kids/IMG_0042.tv.mp4",
            "Kids/IMG_0042.en.vtt",
        ]
        .map(String::from)
        .to_vec();
        let pairs = restemmed(&files, "Summer", "Birthday cake");
        let to: Vec<&str> = pairs.iter().map(|(_, b)| b.as_str()).collect();
        assert_eq!(
            to,
            [
                "Summer/Birthday cake.MOV",
                "Summer/Birthday cake.mp4",
                "Summer/Birthday cake.tv.mp4",
                "Summer/Birthday cake.en.vtt"
            ]
        );
        assert_eq!(made::stem_of("Cake.mp4"), "Cake");
        assert_eq!(made::stem_of("Cake v1.2"), "Cake v1.2");
    }
}
