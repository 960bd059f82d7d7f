//! Smaller versions as pages and the API ask for them: where each stands
//! (made, queued, being made, not needed, failed), make one now, remove one, a
//! folder's own list, and a file to download under the name people read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::App;
use crate::error::{Error, Result};
use crate::fsutil::blocking;
use crate::jobs::{Job, JobKind, State};
use crate::versions::Version;

/// Where a version stands, as `/api/videos` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionState {
    Ready,
    Queued,
    Making,
    /// Not made, and nothing wrong: `error` says why (no smaller).
    NotNeeded,
    Failed,
}

/// One version of a video, as `/api/videos` and the player page say it.
#[derive(Debug, Clone, Serialize)]
pub struct VersionInfo {
    pub name: Version,
    pub state: VersionState,
    pub size: Option<u64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Bits per second, both streams.
    pub bitrate: Option<u64>,
    /// Percent made, while running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<f64>,
    /// Why it failed or is not needed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<u64>,
}

impl VersionInfo {
    pub fn label(&self) -> String {
        self.name.label()
    }
}

/// A folder's versions: its own list (or what it inherits) and what they
/// take on disk.
#[derive(Debug, Serialize)]
pub struct FolderVersions {
    pub path: String,
    /// The list its videos get.
    pub versions: Vec<Version>,
    /// Whether that list is the folder's own (not inherited).
    pub own: bool,
    /// Bytes the versions made of its videos take.
    pub size: u64,
    /// How many versions are made there.
    pub count: usize,
}

/// The newest version job of each (video, version), read once for a page.
pub type VersionJobs = HashMap<(String, Version), Job>;

impl App {
    /// Every video's newest version jobs, for [`App::versions_of`].
    pub fn version_jobs(&self) -> VersionJobs {
        let mut out: VersionJobs = HashMap::new();
        for j in self.jobs.list().into_iter().rev() {
            if let Some(v) = j.kind.version() {
                out.insert((j.source.clone(), v), j);
            }
        }
        out
    }

    /// The versions of the video at `rel` that are made, or being made,
    /// or failed, largest first.
    pub fn versions_of(&self, rel: &str, jobs: &VersionJobs) -> Vec<VersionInfo> {
        let (made, lost) = self.versions.on_disk(rel);
        if !lost.is_empty() {
            self.version_lost(rel, &lost, jobs);
        }
        let mut out = Vec::new();
        for v in Version::ALL {
            let job = jobs.get(&(rel.to_string(), v));
            let live = job.filter(|j| j.state.is_live());
            let info = |state, m: Option<&crate::versions::Made>, j: Option<&Job>| VersionInfo {
                name: v,
                state,
                size: m.map(|m| m.size),
                width: m.and_then(|m| m.width),
                height: m.and_then(|m| m.height),
                bitrate: m.map(|m| m.bitrate),
                progress: j.filter(|j| j.state == State::Running).map(|j| j.progress),
                error: j.and_then(|j| j.error.clone()),
                job: j.map(|j| j.id),
            };
            if let Some(j) = live {
                let state = if j.state == State::Running {
                    VersionState::Making
                } else {
                    VersionState::Queued
                };
                out.push(info(state, None, Some(j)));
            } else if let Some(m) = made.get(&v) {
                out.push(info(VersionState::Ready, Some(m), None));
            } else if let Some(j) = job.filter(|j| matches!(j.state, State::NotNeeded(_))) {
                out.push(info(VersionState::NotNeeded, None, Some(j)));
            } else if let Some(j) = job.filter(|j| j.state.is_failed()) {
                out.push(info(VersionState::Failed, None, Some(j)));
            }
        }
        out
    }

    /// Versions of the video at `rel` found gone from disk (the watcher
    /// may not have heard them go): intake makes them again where its
    /// folder still wants them and none is under way.
    fn version_lost(&self, rel: &str, lost: &[Version], jobs: &VersionJobs) {
        let due = self.versions.due(rel);
        let live = |v: &Version| {
            jobs.get(&(rel.to_string(), *v))
                .is_some_and(|j| j.state.is_live())
        };
        if lost.iter().any(|v| due.contains(v) && !live(v)) {
            let (intake, rel) = (self.intake.clone(), rel.to_string());
            tokio::spawn(async move { intake.convert_if_needed(&rel, None).await });
        }
    }

    /// Queues `version` of the video at `rel` now (for the browser
    /// `owner`, told when it is ready); what it is then.
    pub async fn make_version(
        &self,
        rel: &str,
        version: Version,
        owner: Option<String>,
    ) -> Result<VersionInfo> {
        let rel = &self.entry_of(rel);
        let video = self.library.get(rel).ok_or(Error::NotFound)?;
        if self.intake.state_of(&video) != crate::VideoState::Ready {
            return Err(Error::Conflict(format!(
                "'{}' is not playable yet: its versions are made once its TV version is.",
                video.title()
            )));
        }
        self.versions.asked(rel, version).await;
        let file = self.version_file(rel, version).await;
        if file.is_none() {
            if self.tools.ffmpeg.is_none() {
                return Err(Error::Unavailable(format!(
                    "Versions can't be made: {}.",
                    self.tools.ffmpeg_unavailable()
                )));
            }
            self.jobs
                .enqueue(rel, JobKind::Version(version), owner)
                .await;
        }
        let jobs = self.version_jobs();
        self.versions_of(rel, &jobs)
            .into_iter()
            .find(|i| i.name == version)
            .ok_or_else(|| Error::Internal("the version was queued and then lost".into()))
    }

    /// Removes `version` of the video at `rel`: its job stops, its file
    /// goes (for good: it can be made again).
    pub async fn remove_version(&self, rel: &str, version: Version) -> Result<()> {
        let rel = &self.entry_of(rel);
        self.library.get(rel).ok_or(Error::NotFound)?;
        if let Some(j) = self.jobs.for_version(rel, version) {
            if j.state.is_live() {
                self.jobs.cancel(j.id).await?;
            }
        }
        let file = self.versions.file(rel, version);
        blocking(move || -> std::io::Result<()> {
            match std::fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => crate::fsutil::sync_dir(file.parent().unwrap_or(Path::new("."))),
            }
        })
        .await
        .ok_or_else(|| Error::Internal("removing the version stopped unexpectedly".into()))?
        .map_err(|e| Error::Internal(format!("removing the {} version: {e}", version.name())))?;
        self.versions.removed(rel, version).await;
        Ok(())
    }

    /// A folder's own list of versions (empty: none there), and, with
    /// `remove`, every version made under it removed. What it then has.
    pub async fn set_folder_versions(
        &self,
        folder: &str,
        list: Vec<Version>,
        remove: bool,
    ) -> Result<FolderVersions> {
        if !folder.is_empty() && !self.library.has_folder(folder) {
            return Err(Error::NotFound);
        }
        self.versions.set_folder(folder, list).await;
        if remove {
            for (path, v) in self.versions.total_under(folder).1 {
                self.remove_version(&path, v).await.or_else(|e| match e {
                    // A record of a video no longer there: let it go.
                    Error::NotFound => Ok(()),
                    e => Err(e),
                })?;
            }
        }
        self.intake.versions_changed(folder).await;
        Ok(self.folder_versions(folder))
    }

    pub fn folder_versions(&self, folder: &str) -> FolderVersions {
        let own = self.versions.folder_list(folder);
        let (size, which) = self.versions.total_under(folder);
        FolderVersions {
            path: folder.to_string(),
            versions: own
                .clone()
                .unwrap_or_else(|| self.versions.wanted(&format!("{folder}/x"))),
            own: own.is_some(),
            size,
            count: which.len(),
        }
    }

    /// The file of a made version, if it is there.
    pub async fn version_file(&self, rel: &str, version: Version) -> Option<PathBuf> {
        let rel = &self.entry_of(rel);
        let made = self.versions.made(rel).contains_key(&version);
        made.then(|| self.versions.file(rel, version))
    }

    /// The entry a path stands for: a source whose TV version is made
    /// (`Film.mkv`) has its versions under that entry (`Film.mp4`).
    fn entry_of(&self, rel: &str) -> String {
        self.library
            .shown_as(rel)
            .unwrap_or_else(|| rel.to_string())
    }

    /// The name a download of `rel` (or its `version`) gets: the title
    /// people read ("The Matrix (1999) - 720p.mp4").
    pub fn download_name(&self, rel: &str, version: Option<Version>) -> String {
        let title = match self.library.get(rel) {
            Some(v) => v.title(),
            None => crate::library::title_of(rel),
        };
        match version {
            Some(v) => format!("{title} - {}.{}", v.name(), v.extension()),
            None => {
                let ext = rel.rsplit_once('.').map(|(_, e)| e).unwrap_or("mp4");
                format!("{title}.{}", ext.to_ascii_lowercase())
            }
        }
    }
}
