//! What happens to a video file that arrives, however it came: a form
//! upload, a tus upload, the watch folder or the start-up scan. It goes
//! into the library (which probes it, unless the upload already did, and
//! makes its poster); once what it holds is known, it gets a remux or a
//! transcode job when the TVs can't play it as it is and no playable
//! version of it exists yet. This is the one place that rule lives.
//!
//! When the household's target changes (a TV reported, failed, or was
//! unticked), the whole library is judged again: queued jobs no longer
//! needed as they are are dropped, and what the TVs can no longer play
//! gets a job. Versions already made stay.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::devices::Devices;
use crate::devices::{Device, Report};
use crate::error::Result;
use crate::jobs::{Job, JobKind, Jobs, State};
use crate::library::{Found, Library, Video};
use crate::media::{self, Conversion, Kind, Probe};

pub struct Intake {
    library: Arc<Library>,
    jobs: Arc<Jobs>,
    /// What the household's TVs play, and who they are.
    devices: Arc<Devices>,
    /// Which smaller versions each video should have, and has.
    versions: Arc<crate::versions::Versions>,
    /// `--transcode`: off, video no TV plays is marked, not encoded.
    transcode: bool,
}

impl Intake {
    pub fn new(
        library: Arc<Library>,
        jobs: Arc<Jobs>,
        devices: Arc<Devices>,
        versions: Arc<crate::versions::Versions>,
        transcode: bool,
    ) -> Intake {
        Intake {
            library,
            jobs,
            devices,
            versions,
            transcode,
        }
    }

    /// A file that is new or changed on disk. `probe` is what ffprobe said
    /// of it, when the caller already asked; `owner` is the browser to tell
    /// when its conversion is ready.
    pub async fn arrived(&self, found: Found, probe: Option<Probe>, owner: Option<String>) {
        let path = found.path.clone();
        self.library.add(found, probe);
        self.convert_if_needed(&path, owner).await;
    }

    /// Runs until `stop`: first every file already in the library (the
    /// start-up scan), then each file as soon as ffprobe has read it, and
    /// the whole library again whenever the target changes.
    pub async fn run(
        self: Arc<Self>,
        mut probed: mpsc::UnboundedReceiver<String>,
        stop: CancellationToken,
    ) {
        let mut target = self.devices.subscribe();
        target.mark_unchanged();
        self.judge_all().await;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                p = probed.recv() => match p {
                    Some(p) => self.convert_if_needed(&p, None).await,
                    None => return,
                },
                changed = target.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    target.mark_unchanged();
                    self.drop_unneeded().await;
                    self.judge_all().await;
                }
            }
        }
    }

    async fn judge_all(&self) {
        for v in self.library.all() {
            self.convert_if_needed(&v.path, None).await;
        }
    }

    /// Queued jobs the TVs no longer need as they are (a transcode where
    /// they now play the video, so a remux or nothing is enough; a remux
    /// where the video must now be encoded) are dropped, to be replaced
    /// by what is needed now. Running ones finish.
    async fn drop_unneeded(&self) {
        let queued = self
            .jobs
            .list()
            .into_iter()
            .filter(|j| j.state.is_queued() && j.kind.makes_tv_version());
        for job in queued {
            let Some(probe) = self.library.probe_of(&job.source) else {
                continue;
            };
            let why = match self.needed(&job.source, &probe) {
                Some(kind) if kind == job.kind.conversion() => continue,
                Some(Conversion::Remux | Conversion::Version | Conversion::Subtitles) => {
                    "not needed any more: the TVs here now play its video, so a remux is enough"
                }
                Some(Conversion::Transcode) => {
                    "the TVs here no longer play its video, so it is transcoded instead"
                }
                None => "not needed any more: the TVs here now play it as it is",
            };
            self.jobs.drop_queued(job.id, why).await;
        }
    }

    /// What `probe` of the file at `path` needs: nothing when the TVs play
    /// it as it is; a transcode when its video must be encoded again; else
    /// a remux (which, with `--transcode off`, ends as "needs transcode").
    fn needed(&self, path: &str, probe: &Probe) -> Option<Conversion> {
        let target = self.devices.target();
        let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        if target.plays_as_is(ext, probe) {
            return None;
        }
        Some(
            media::plan(probe, &target, self.transcode)
                .map(|p| p.conversion())
                .unwrap_or(Conversion::Remux),
        )
    }

    /// The file at `path` as it is now: a job for it, if it needs one.
    pub async fn convert_if_needed(&self, path: &str, owner: Option<String>) {
        let Some(v) = self.library.get(path) else {
            return;
        };
        // Not read yet: the indexer says when it is.
        let Some(probe) = self.library.probe_of(path) else {
            return;
        };
        self.subtitles_if_needed(&v, &probe).await;
        if self.library.is_superseded(path) {
            return;
        }
        let Some(kind) = self.needed(path, &probe) else {
            self.versions_if_needed(&v).await;
            return;
        };
        // Tried already, the same way, and the file has not changed since
        // (a failed or cancelled job is retried from the jobs page, not at
        // each start).
        if let Some(last) = self.jobs.for_source(path) {
            if last.state.is_live() {
                // Whoever asked first (a player's failure, the target
                // changing), who a transcode is for is decided here, from
                // the devices as they are now: the order of arrival does
                // not change it.
                if last.kind.conversion() == Conversion::Transcode && kind == Conversion::Transcode
                {
                    self.jobs.set_made_for(last.id, self.made_for(&probe)).await;
                }
                return;
            }
            let ended_since = last.finished.is_some_and(|f| f as i64 >= v.modified);
            if ended_since && last.kind.conversion() == kind {
                return;
            }
        }
        // A version pimedia made is never remuxed again; it is transcoded
        // only when the TVs changed and no longer play it. Asked last: it
        // looks through every job's record, and most files stop above.
        if kind == Conversion::Remux && self.library.is_output(path) {
            // It is the TV version, as pimedia made it: its versions are due.
            self.versions_if_needed(&v).await;
            return;
        }
        let kind = match kind {
            Conversion::Transcode => JobKind::Transcode {
                made_for: Some(self.made_for(&probe)),
            },
            _ => JobKind::Remux,
        };
        self.jobs.enqueue(path, kind, owner).await;
    }

    /// A video with picture subtitles not read yet: a job reading them,
    /// unless one was tried since the video last changed (a failed one is
    /// retried by hand). Its MP4, made or not, is where the text goes.
    async fn subtitles_if_needed(&self, v: &Video, probe: &Probe) {
        if media::picture_tracks(probe).is_empty() {
            return;
        }
        if let Some(last) = self.jobs.for_subtitles(&v.path) {
            let tried_since = last.finished.is_some_and(|f| f as i64 >= v.modified);
            if last.state.is_live() || tried_since {
                return;
            }
        }
        let name = v.path.rsplit('/').next().unwrap_or(&v.path);
        let dir = v.path.rsplit_once('/').map_or("", |(d, _)| d);
        let output =
            crate::paths::on_disk(self.library.root(), dir).join(media::made::tv_version(name));
        let p = probe.clone();
        let unread = crate::fsutil::blocking(move || crate::jobs::subtitles::unread(&output, &p))
            .await
            .unwrap_or_default();
        if !unread.is_empty() {
            self.jobs.enqueue(&v.path, JobKind::Subtitles, None).await;
        }
    }

    /// A TV version: a job for each smaller version its folder (or
    /// `--versions`) wants and does not have on disk, unless one is under
    /// way or ended without it since the video last changed (a failed one
    /// is retried by hand; a made one whose file is gone is made again).
    async fn versions_if_needed(&self, v: &Video) {
        let made = self.versions.made(&v.path);
        for version in self.versions.due(&v.path) {
            if made.contains_key(&version) {
                continue;
            }
            let last = self.jobs.for_version(&v.path, version);
            if last.is_some_and(|j| !version_due_again(&j, v.modified)) {
                continue;
            }
            self.jobs
                .enqueue(&v.path, JobKind::Version(version), None)
                .await;
        }
    }

    /// A folder's list of versions changed: what is in it now gets what
    /// the list asks for.
    pub async fn versions_changed(&self, folder: &str) {
        let prefix = format!("{folder}/");
        for v in self.library.all() {
            if folder.is_empty() || v.path.starts_with(&prefix) {
                self.convert_if_needed(&v.path, None).await;
            }
        }
    }

    /// Where a video stands, from its job and, without one, from what it
    /// needs (a WMV that needs a transcode says so, not "needs remux").
    pub fn state_of(&self, v: &Video) -> VideoState {
        if v.error.is_some() {
            return VideoState::Unreadable;
        }
        // An extension no TV plays; anything else plays unless its job
        // (decided by probing) says otherwise.
        let unplayable = if v.kind != Kind::Convert {
            VideoState::Ready
        } else {
            match self
                .library
                .probe_of(&v.path)
                .and_then(|p| self.needed(&v.path, &p))
            {
                Some(Conversion::Transcode) => VideoState::NeedsTranscode,
                _ => VideoState::NeedsConversion,
            }
        };
        match self.jobs.for_source(&v.path) {
            Some(j) => match j.state {
                State::Queued | State::Waiting { .. } => VideoState::Queued,
                State::Running => VideoState::Converting(j.progress),
                State::NeedsTranscode => VideoState::NeedsTranscode,
                State::Failed => VideoState::ConversionFailed,
                State::Done | State::NotNeeded(_) | State::Cancelled => unplayable,
            },
            None => unplayable,
        }
    }

    /// What a page says of its browser. When its player could not play a
    /// file, the device is marked as not playing that kind of video and,
    /// if that changes what the TVs need, a TV version is queued at once.
    pub async fn player_report(
        &self,
        id: &str,
        client: Option<std::net::IpAddr>,
        user_agent: &str,
        report: &Report,
    ) -> Result<Reported> {
        let Some(path) = report.failed.as_deref() else {
            let device = self
                .devices
                .report(id, client, user_agent, report, None)
                .await?;
            return Ok(Reported::new(&device, None, None, String::new()));
        };
        let probe = self.library.probe_of(path);
        let key = probe
            .as_ref()
            .and_then(|p| p.video())
            .and_then(crate::devices::key_of);
        let device = self
            .devices
            .report(id, client, user_agent, report, key)
            .await?;
        if probe.is_some() {
            self.convert_if_needed(path, Some(id.to_string())).await;
        }
        let job = self.jobs.for_source(path).filter(|j| j.state.is_live());
        let message = if probe.is_none() {
            "This video is not in the library.".to_string()
        } else if let Some(j) = &job {
            let what = if matches!(j.kind, JobKind::Transcode { .. }) {
                "a TV version"
            } else {
                "a version this TV plays"
            };
            format!("This TV can't play this video, so {what} is being made.")
        } else if !device.counted(crate::fsutil::now()) {
            "This TV can't play this video. It is not one pimedia converts for: tick \"Convert for this device\" on the Devices page.".into()
        } else if !self.devices.learning() {
            format!(
                "This TV can't play this video. pimedia converts for what --tv-codecs says ({}), so it did not learn from this.",
                self.devices.target().names()
            )
        } else if key == Some("h264") {
            "This TV can't play this video, and it is already in the simplest form pimedia makes."
                .into()
        } else {
            "This TV can't play this video.".into()
        };
        Ok(Reported::new(&device, key, job, message))
    }

    /// Who a transcode is for: the devices that can't play the video, or
    /// what the target stands on when no device has told.
    fn made_for(&self, probe: &Probe) -> String {
        let who = probe
            .video()
            .map(|v| self.devices.who_cannot_play(v))
            .unwrap_or_default();
        if !who.is_empty() {
            who.join(", ")
        } else if self.devices.learning() {
            "every TV (none has opened the player yet, so H.264 is assumed)".into()
        } else {
            format!("--tv-codecs {}", self.devices.target().names())
        }
    }
}

/// Where a video stands, as pages and the API show it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VideoState {
    Ready,
    /// Not converted yet: a remux, or a transcode once the probe says so.
    /// The API calls it `needs_remux`, as it always has.
    NeedsConversion,
    Queued,
    Converting(f64),
    NeedsTranscode,
    ConversionFailed,
    Unreadable,
}

impl VideoState {
    pub fn name(self) -> &'static str {
        match self {
            VideoState::Ready => "ready",
            VideoState::NeedsConversion => "needs_remux",
            VideoState::Queued => "queued",
            VideoState::Converting(_) => "converting",
            VideoState::NeedsTranscode => "needs_transcode",
            VideoState::ConversionFailed => "failed",
            VideoState::Unreadable => "unreadable",
        }
    }
}

/// The answer to a device's report.
#[derive(Debug, serde::Serialize)]
pub struct Reported {
    /// The device's number on `/devices`.
    pub device: u64,
    pub name: String,
    /// The codec its player failed on, now marked as not played.
    pub marked: Option<&'static str>,
    /// The job making a version it plays, when one is queued or running.
    pub job: Option<Job>,
    /// What the player page tells the viewer.
    pub message: String,
}

impl Reported {
    fn new(
        device: &Device,
        marked: Option<&'static str>,
        job: Option<Job>,
        message: String,
    ) -> Self {
        Reported {
            device: device.number,
            name: device.name(),
            marked,
            job,
            message,
        }
    }
}

/// Whether a version whose newest job is `last` is made again, for a
/// video last changed at `modified` that lacks it on disk.
fn version_due_again(last: &Job, modified: i64) -> bool {
    let since = last.finished.is_some_and(|f| f as i64 >= modified);
    match last.state {
        State::Queued | State::Waiting { .. } | State::Running => false,
        // Made, and the file is gone since (by hand, a disk error).
        State::Done => true,
        _ => !since,
    }
}
