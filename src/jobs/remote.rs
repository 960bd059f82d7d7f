//! Transcodes on a PC in the house: which queued transcodes a runner may
//! take (SDR, progressive: the PeerTube runner neither tone-maps nor
//! deinterlaces), what it is asked to make, handing a job over, and what
//! becomes of the job when the runner reports, stops or goes quiet.
//! `runners/` speaks the protocol; this is the queue's side of it.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::convert::{self, Ended};
use super::{Job, JobKind, Jobs};
use crate::fsutil::{now, TempFile};
use crate::media::versions::Version;
use crate::media::{self, Conversion, VideoAction};

/// Where transcodes run (`--transcode-on`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TranscodeOn {
    /// On a runner while one is connected, else on the Pi.
    #[default]
    Auto,
    Pi,
    /// Only on runners: those they can take wait for one.
    Runners,
    /// Whichever is free first.
    Both,
}

impl TranscodeOn {
    pub fn parse(s: &str) -> Option<TranscodeOn> {
        match s.trim() {
            "pi" => Some(TranscodeOn::Pi),
            "runners" => Some(TranscodeOn::Runners),
            "both" => Some(TranscodeOn::Both),
            _ => None,
        }
    }
}

/// A transcode a runner may take, and what it is asked to make: the
/// picture's smaller side (`resolution`, as the runner scales: the height
/// of a landscape source, the width of a portrait one) and frame rate,
/// as a transcode on the Pi would choose them.
#[derive(Debug, Clone)]
pub struct Offer {
    pub job: Job,
    pub resolution: u32,
    pub fps: f64,
}

/// The `resolution` that makes the runner scale a source of `coded` size
/// and `rotation` to `shown` (the upright output a transcode on the Pi
/// would make; `None`: the source's own size). The runner's ffmpeg turns a
/// rotated source upright first, then scales the height to `resolution`,
/// or the width when the *coded* picture is portrait.
fn resolution(coded: (u32, u32), rotation: i32, shown: Option<(u32, u32)>) -> u32 {
    let (w, h) = coded;
    let turned = rotation.rem_euclid(180) == 90;
    let (sw, sh) = shown.unwrap_or(if turned { (h, w) } else { (w, h) });
    if h > w {
        sw
    } else {
        sh
    }
}

impl Jobs {
    /// What a runner would make of `job`, if a runner may take it.
    pub(super) fn offer_for(&self, job: &Job) -> Option<Offer> {
        if !job.state.is_queued() {
            return None;
        }
        if let JobKind::Version(version) = job.kind {
            return self.version_offer(job, version);
        }
        if job.kind.conversion() != Conversion::Transcode {
            return None;
        }
        let probe = self.library.probe_of(&job.source)?;
        let target = *self.settings.target.borrow();
        let plan = media::plan(&probe, &target, true).ok()?;
        let VideoAction::Encode(e) = &plan.video_action else {
            return None;
        };
        if e.tonemap.is_some() || e.deinterlace {
            return None;
        }
        let v = probe.video()?;
        let resolution = resolution((v.width?, v.height?), v.format.rotation, e.size);
        let fps = e.fps.or(v.format.frame_rate).unwrap_or(30.0);
        Some(Offer {
            job: job.clone(),
            resolution,
            fps: (fps * 1000.0).round() / 1000.0,
        })
    }

    /// A smaller version a runner may make: its picture and frame rate as
    /// the ladder says, once no TV version waits (they come first). The
    /// sound-only version, and one that would not be smaller, stay on the
    /// Pi (which says why).
    fn version_offer(&self, job: &Job, version: Version) -> Option<Offer> {
        if self.tv_versions_pending() {
            return None;
        }
        let probe = self.library.probe_of(&job.source)?;
        let v = probe.video()?;
        let size = self.library.get(&job.source)?.size;
        let spec = media::versions::spec(version, media::versions::picture(&probe, size)?).ok()?;
        let resolution = resolution(
            (v.width?, v.height?),
            v.format.rotation,
            Some((spec.width, spec.height)),
        );
        let fps = spec.fps.or(v.format.frame_rate).unwrap_or(30.0);
        Some(Offer {
            job: job.clone(),
            resolution,
            fps: (fps * 1000.0).round() / 1000.0,
        })
    }

    /// Whether any TV version waits or is being made.
    pub(super) fn tv_versions_pending(&self) -> bool {
        self.saved.get().tv_pending()
    }

    /// Whether the Pi leaves `job` to the runners.
    pub(super) fn left_to_runners(&self, job: &Job) -> bool {
        let wanted = match self.settings.transcode_on {
            TranscodeOn::Pi | TranscodeOn::Both => false,
            TranscodeOn::Runners => true,
            TranscodeOn::Auto => self.runners_connected.load(Ordering::SeqCst) > 0,
        };
        wanted && self.offer_for(job).is_some()
    }

    /// How many runners are connected now; the Pi's transcode lane looks
    /// again (it may take what none is left to take).
    pub fn set_runners_connected(&self, n: usize) {
        self.runners_connected.store(n, Ordering::SeqCst);
        self.wake(Conversion::Transcode);
    }

    /// Bumped whenever a transcode a runner could take may be waiting,
    /// for the runners to be told.
    pub fn offers_changed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.offers.subscribe()
    }

    pub(super) fn offer_news(&self) {
        self.offers.send_modify(|n| *n += 1);
    }

    /// The transcodes runners may take now, oldest first.
    pub fn offers(&self) -> Vec<Offer> {
        if self.settings.transcode_on == TranscodeOn::Pi || !self.settings.transcode {
            return Vec::new();
        }
        let at = now();
        let due: Vec<Job> = self
            .saved
            .get()
            .jobs
            .iter()
            .filter(|j| match j.state {
                super::State::Queued => true,
                super::State::Waiting { until, .. } => until <= at,
                _ => false,
            })
            .cloned()
            .collect();
        due.iter().filter_map(|j| self.offer_for(j)).collect()
    }

    /// Hands job `id` to the runner `name`, if it is still an offer.
    pub async fn hand_to_runner(&self, id: u64, name: &str) -> Option<Offer> {
        let offer = self.get(id).and_then(|j| self.offer_for(&j))?;
        let job = self.saved.edit().hand_to_runner(id, name, now())?;
        tracing::info!("job {id} handed to the PC {name}: {}", job.source);
        self.save().await;
        Some(Offer { job, ..offer })
    }

    /// A runner's progress, 0 to 100.
    pub fn runner_progress(&self, id: u64, percent: f64) {
        self.update_quietly(id, |j| {
            if j.runner.is_some() {
                j.progress = percent.clamp(0.0, 100.0);
            }
        });
    }

    /// A runner gave job `id` back (see `Saved::runner_gave_back`); the
    /// runners hear of it after a moment, the Pi's lane at once.
    pub async fn runner_gave_back(&self, id: u64, failed: Option<&str>) -> Option<Job> {
        let job = self.saved.edit().runner_gave_back(id, failed, now())?;
        match &job.error {
            Some(e) if failed.is_some() => tracing::warn!("job {id}: {e}"),
            _ => tracing::info!("job {id} is queued again: its PC let it go"),
        }
        self.save().await;
        self.wake(Conversion::Transcode);
        self.offer_news();
        if !job.state.is_live() {
            self.announce(&job);
        }
        Some(job)
    }

    /// A runner's MP4 for job `id`, streamed to `video` beside its source:
    /// checked and completed as the Pi's own (see `convert::finish_remote`).
    /// One that fails the checks counts as the runner's failure, and the
    /// job is offered again. `Err` says why it was refused.
    pub async fn runner_finished(self: &Arc<Self>, id: u64, video: TempFile) -> Result<(), String> {
        let Some(job) = self.get(id).filter(|j| j.runner.is_some()) else {
            return Err("this job is no longer on a PC".into());
        };
        let ended = match job.kind {
            JobKind::Version(_) => super::version::finish_remote(self, &job, video).await,
            _ => convert::finish_remote(self.clone(), &job, video).await,
        };
        match ended {
            Ended::Failed { reason, .. } => {
                self.runner_gave_back(id, Some(&reason)).await;
                Err(reason)
            }
            ended => {
                let finished = self.saved.edit().finish(id, ended, false, now());
                self.save().await;
                if let Some(j) = finished {
                    self.announce(&j);
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::resolution;

    #[test]
    fn the_runner_is_asked_for_the_size_the_pi_would_make() {
        // 4K landscape, scaled to 1080 lines.
        assert_eq!(resolution((3840, 2160), 0, Some((1920, 1080))), 1080);
        // A phone's portrait clip, stored landscape and turned 90°: shown
        // 1080×1920, and the runner scales its (turned) height.
        assert_eq!(resolution((1920, 1080), 90, None), 1920);
        assert_eq!(resolution((3840, 2160), -90, Some((1080, 1920))), 1920);
        // Stored portrait: the runner scales the width.
        assert_eq!(resolution((1080, 1920), 0, None), 1080);
        assert_eq!(resolution((2160, 3840), 0, Some((1080, 1920))), 1080);
        // As it is.
        assert_eq!(resolution((640, 480), 180, None), 480);
    }
}
