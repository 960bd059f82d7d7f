//! The one door request handlers go through ([`App`]): its fields are the
//! modules that own the answers (made and stopped by `startup`), reached
//! directly where one call to the owner says it (`app.jobs.cancel(id)`);
//! a method here only where an answer needs more than one owner or the
//! config.

mod versions;
mod viewer;

pub use versions::{FolderVersions, VersionInfo, VersionJobs, VersionState};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Config;
use crate::devices::Devices;
use crate::error::{Error, Result};
use crate::fsutil::blocking;
use crate::intake::Intake;
use crate::jobs::{Job, Jobs};
use crate::library::Library;
use crate::media::Tools;
use crate::upload::tus::Tus;
use crate::upload::{Auth, Uploads};

/// What request handlers can ask of the server: the owners themselves,
/// and the few answers that take more than one of them.
pub struct App {
    pub(crate) config: Config,
    pub(crate) tools: Tools,
    pub(crate) library: Arc<Library>,
    pub(crate) uploads: Arc<Uploads>,
    pub(crate) tus: Tus,
    pub(crate) auth: Auth,
    pub(crate) jobs: Arc<Jobs>,
    pub(crate) positions: Arc<crate::positions::Positions>,
    pub(crate) profiles: Arc<crate::profiles::Profiles>,
    pub(crate) versions: Arc<crate::versions::Versions>,
    pub(crate) devices: Arc<Devices>,
    pub(crate) manage: crate::manage::Manage,
    pub(crate) allowed_hosts: crate::lan::AllowedHosts,
    pub(crate) runners: Arc<crate::runners::Runners>,
    pub(crate) intake: Arc<Intake>,
    /// `/listen` streams running now, at most `--listen-streams`.
    pub(crate) listen_slots: Arc<tokio::sync::Semaphore>,
}

impl App {
    /// The media dir's file or folder for a percent-encoded URL tail, or
    /// `None` for anything outside it or hidden: what `/videos/` serves to
    /// anyone on the LAN, as nginx does in production. Every other route
    /// asks [`App::file_of`] for a path its viewer may see.
    pub async fn household_file(&self, encoded: &str) -> Option<PathBuf> {
        let (root, encoded) = (self.library.root().to_path_buf(), encoded.to_string());
        // It asks the disk (symlinks), so off the async workers.
        blocking(move || crate::paths::resolve(&root, &encoded))
            .await
            .flatten()
    }

    /// Where a page points `<video src>` for a library path.
    pub fn video_url(&self, rel: &str) -> String {
        // nginx opens the name the disk has, so a URL carries its bytes.
        let path = match self.library.disk_spelling(rel) {
            Some(disk) => crate::paths::encode_url_bytes(&disk),
            None => crate::paths::encode_url_path(rel),
        };
        format!("{}{path}", self.config.videos_url)
    }

    /// The library MP4 `rel` (on disk at `file`, as [`App::resolve`]
    /// found it) with its audio track `track` first, made now if it is
    /// not there yet and the disk keeps its reserve.
    pub async fn audio_first(&self, rel: &str, file: PathBuf, track: usize) -> Result<PathBuf> {
        use crate::media::versions::{self, NotMade};
        let tracks = self.library.mp4_audio_tracks(rel).len();
        if track == 0 || track >= tracks {
            return Err(Error::NotFound);
        }
        let (tools, reserve) = (self.tools.clone(), self.uploads.limits.reserve);
        blocking(move || versions::make_audio_first(&tools, &file, track, tracks, reserve))
            .await
            .ok_or_else(|| Error::Internal("making the version stopped unexpectedly".into()))?
            .map_err(|e| match e {
                NotMade::NoRoom { need } => Error::InsufficientStorage(format!(
                    "Not enough free disk space for this language's version: it needs {} beside the {} kept free. The original plays as it is.",
                    crate::format::human_size(need),
                    crate::format::human_size(reserve)
                )),
                NotMade::Failed(why) => Error::Unavailable(format!(
                    "The version with another language first could not be made: {why}. The original plays as it is."
                )),
            })
    }

    /// What `/healthz` reports.
    pub async fn health(&self) -> Health {
        let root = self.library.root().to_path_buf();
        let free = blocking(move || crate::fsutil::free_space(&root))
            .await
            .flatten();
        let problem = self.tools.problem();
        Health {
            version: env!("CARGO_PKG_VERSION"),
            ffmpeg: self.tools.ffmpeg.is_some(),
            ffprobe: self.tools.ffprobe.is_some(),
            ffmpeg_starts: problem.is_none(),
            ffmpeg_error: problem,
            free_disk_bytes: free,
            queue_depth: self.jobs.depth(),
            videos: self.library.len(),
            transcode: self.config.transcode,
            encoder: self.jobs.encoder_found().map(|e| e.name()),
            tv_codecs: self.devices.target().names(),
            tv_codecs_learned: self.devices.learning(),
            transcodes_paused: self.jobs.paused(),
        }
    }

    // The library.

    /// The WebVTT files beside a video, as (path, language): a subtitle
    /// file that came after the video (named after it, or after the file
    /// it was made from) becomes one first.
    pub async fn subtitles_for(&self, rel: &str) -> Vec<crate::library::SubtitleFile> {
        let (library, tools, rel) = (self.library.clone(), self.tools.clone(), rel.to_string());
        blocking(move || {
            let root = library.root();
            let source = library
                .source_of(&rel)
                .map(|s| crate::paths::on_disk(root, &s));
            let video = crate::paths::on_disk(root, &rel);
            crate::media::sidecar::convert_beside(&tools, &video, source.as_deref());
            library.subtitles_for(&rel)
        })
        .await
        .unwrap_or_default()
    }

    /// Removes a profile, its positions with it; its devices are kept to
    /// no one.
    pub async fn remove_profile(&self, id: u64) -> crate::error::Result<crate::profiles::Profile> {
        let gone = self.profiles.remove(id).await?;
        self.positions.forget(id).await;
        self.devices.unpin(id);
        Ok(gone)
    }

    // Conversions.

    /// Hides a "ready to play" notice from the browser that was shown it.
    pub async fn dismiss_job(&self, id: u64, viewer: &str) -> Result<Job> {
        self.jobs.dismiss(id, viewer).await?;
        self.jobs.get(id).ok_or(Error::NotFound)
    }

    /// The ffmpeg that streams a video's sound as MP3, with the slot it
    /// holds while it runs (`--listen-streams` at once; one more is told
    /// to come back). Dropping the slot frees it.
    pub fn audio_as_mp3(
        &self,
        file: &Path,
    ) -> Result<(std::process::Command, tokio::sync::OwnedSemaphorePermit)> {
        let cmd = crate::media::ffmpeg::audio_as_mp3(&self.tools, file).ok_or_else(|| {
            Error::Unavailable(format!(
                "Audio can't be streamed: {}.",
                self.tools.ffmpeg_unavailable()
            ))
        })?;
        let slot = self.listen_slots.clone().try_acquire_owned().map_err(|_| {
            let n = self.config.listen_streams;
            Error::Busy {
                retry_after: 10,
                message: format!(
                    "{n} sound stream{} already playing, as many as this server runs at once (--listen-streams); try again when one ends.",
                    if n == 1 { " is" } else { "s are" }
                ),
            }
        })?;
        Ok((cmd, slot))
    }

    // The upload password.

    /// A password typed in a form: whether it is right, or `429` while
    /// this client must wait after too many wrong ones.
    pub fn check_password(&self, given: &str, client: Option<std::net::IpAddr>) -> Result<bool> {
        self.auth
            .attempt(given, client)
            .map_err(Error::TooManyAttempts)
    }

    /// Whether a request with this cookie or password header may write.
    pub fn allows(
        &self,
        cookie: Option<&str>,
        password: Option<&str>,
        client: Option<std::net::IpAddr>,
    ) -> Result<bool> {
        self.auth
            .allows(cookie, password, client)
            .map_err(Error::TooManyAttempts)
    }
}

/// What `/healthz` says.
#[derive(Debug, serde::Serialize)]
pub struct Health {
    pub version: &'static str,
    pub ffmpeg: bool,
    pub ffprobe: bool,
    /// Both found and shown to start the way jobs start them.
    pub ffmpeg_starts: bool,
    /// "ffmpeg cannot start: …" (from the start-up check) or "… not installed".
    pub ffmpeg_error: Option<String>,
    pub free_disk_bytes: Option<u64>,
    pub queue_depth: usize,
    pub videos: usize,
    /// `--transcode`.
    pub transcode: bool,
    /// The encoder transcodes use (`h264_v4l2m2m`, `h264_vaapi`,
    /// `libx264`); `null` for the moment after start-up while it is found.
    pub encoder: Option<&'static str>,
    /// What the TVs play: `--tv-codecs`, or learned from the devices.
    pub tv_codecs: String,
    /// Whether `tv_codecs` is learned (no `--tv-codecs`).
    pub tv_codecs_learned: bool,
    /// Why transcodes are paused now ("the Pi is at 82 °C"), if they are.
    pub transcodes_paused: Option<String>,
}
