//! The conversion queue, as the rest of the server sees it: queue a
//! conversion, list, cancel, retry, dismiss, follow files that move or go
//! to the trash. In parts, each with its own tests:
//!
//! - `store.rs`: a job and its state as data, as `jobs.json` saves it;
//! - `follow.rs`: jobs follow their files (renames, the trash);
//! - `queue.rs`: the queue's rules (claim, finish, retry with back-off,
//!   cancel, drop, recover after a restart), with no locks and no files;
//! - `lanes.rs`: the two lanes' workers, and shutdown;
//! - `convert.rs`: one job's run (ffmpeg, checks, placing the MP4);
//! - `remote.rs`: transcodes a runner (a PC in the house) takes;
//! - `shows.rs`: which entry a source shows as, from its job;
//! - `encoder.rs`: which H.264 encoder transcodes use;
//! - `thermal.rs`: the pause while the Pi is too hot;
//! - `hook.rs`: `--on-job-done`.

mod convert;
mod encoder;
mod follow;
mod hook;
mod lanes;
mod queue;
mod remote;
mod shows;
mod store;
pub mod subtitles;
pub mod thermal;
mod version;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::fsutil::now;
use crate::sync::Locked;

use crate::error::{Error, Result};
use crate::library::Library;
use crate::media::ffmpeg::Control;
use crate::media::versions::Version;
use crate::media::{Conversion, Encoder, Target, Tools};
use queue::NewJob;
pub use queue::{MAX_ATTEMPTS, RUNNER_FAILURES};
pub use remote::{Offer, TranscodeOn};
use store::Saved;
pub use store::{Job, JobKind, State, Wait};

pub struct Settings {
    /// Remuxes at a time.
    pub workers: usize,
    /// Transcodes at a time.
    pub transcode_workers: usize,
    /// Off: video no TV plays is marked "needs transcode", not encoded.
    pub transcode: bool,
    /// What the TVs play, as it changes (see `devices`).
    pub target: tokio::sync::watch::Receiver<Target>,
    /// `--encoder`: the one transcodes use, instead of the best found.
    pub forced_encoder: Option<Encoder>,
    pub delete_originals: bool,
    pub on_job_done: Option<Vec<String>>,
    /// Bytes kept free on the disk (as for uploads).
    pub disk_reserve: u64,
    /// `--transcode-on`.
    pub transcode_on: TranscodeOn,
}

/// Progress and the like reach `jobs.json` at most this often; a job's
/// change of state is written before the job goes on.
const WRITE_EVERY: Duration = Duration::from_secs(5);

/// The queue's owner: its data (`queue.rs`, kept in `jobs.json`), the
/// lanes' workers, the ffmpeg controls of running jobs, the heat pause and
/// the encoder.
///
/// Lock order: there is none to keep, because no method holds two of
/// these locks at once. `saved`, `controls` and `paused` are each taken in
/// one statement or block, used and let go before another is taken, and
/// nothing awaits while holding one. `rename_lock` is held across the
/// rename of a finished job's files only, which takes none of the others.
pub struct Jobs {
    /// The queue and its history, `jobs.json` in the state dir.
    saved: Arc<crate::store::Store<Saved>>,
    /// One per lane, so a wake-up reaches a worker that can take the job.
    wake: [Notify; 2],
    controls: Mutex<HashMap<u64, (Conversion, Arc<Control>)>>,
    /// Why transcodes are paused now (the Pi is hot), if they are.
    paused: Mutex<Option<String>>,
    /// The encoder transcodes use, found in the background after start-up.
    encoder: encoder::Discovery,
    shutting_down: AtomicBool,
    /// Runners connected now (`runners/` says).
    runners_connected: AtomicUsize,
    /// See [`Jobs::offers_changed`].
    offers: tokio::sync::watch::Sender<u64>,
    library: Arc<Library>,
    /// The versions made, recorded as each is.
    versions: Arc<crate::versions::Versions>,
    tools: Tools,
    settings: Settings,
    /// One rename at a time, so two jobs never pick the same free name.
    rename_lock: tokio::sync::Mutex<()>,
}

impl Jobs {
    /// Loads the queue. Jobs that were running when the server died run
    /// again (their temp files were swept at start-up).
    pub fn load(
        state_dir: &std::path::Path,
        library: Arc<Library>,
        versions: Arc<crate::versions::Versions>,
        tools: Tools,
        settings: Settings,
    ) -> Arc<Jobs> {
        let store = crate::store::Store::<Saved>::load(
            state_dir.join("jobs.json"),
            "job queue",
            WRITE_EVERY,
        );
        // Written again only when a job was running: start-up writes nothing.
        let mut saved = store.transient();
        let again = saved.recover();
        for j in &again {
            tracing::info!(
                "job {} ({}) was running when pimedia stopped; it runs again",
                j.id,
                j.source
            );
        }
        if !again.is_empty() {
            store.changed();
        }
        shows::show_newest(&library, &saved.jobs);
        drop(saved);
        Arc::new(Jobs {
            saved: Arc::new(store),
            wake: [Notify::new(), Notify::new()],
            controls: Mutex::new(HashMap::new()),
            paused: Mutex::new(None),
            encoder: encoder::Discovery::new(settings.forced_encoder, settings.transcode, &tools),
            shutting_down: AtomicBool::new(false),
            runners_connected: AtomicUsize::new(0),
            offers: tokio::sync::watch::Sender::new(0),
            library,
            versions,
            tools,
            settings,
            rename_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// Writes the queue now (a change of state is on disk before the job
    /// goes on); one write at a time, the newest.
    async fn save(&self) {
        self.saved.save().await;
    }

    fn wake(&self, kind: Conversion) {
        self.wake[kind.lane() as usize].notify_one();
    }

    /// The encoder transcodes use, once found (`None` for the moment
    /// after start-up while the trial encodes run).
    pub fn encoder_found(&self) -> Option<Encoder> {
        self.encoder.found()
    }

    /// Queues `kind` of `source` unless it has a live job making the same
    /// (the first to ask wins). Its id. `owner` is the browser to tell
    /// when it is ready.
    pub async fn enqueue(&self, source: &str, kind: JobKind, owner: Option<String>) -> Option<u64> {
        // Without ffmpeg nothing can be converted; the log said so at start.
        self.tools.ffmpeg.as_ref()?;
        let conversion = kind.conversion();
        let encoder = self
            .encoder_found()
            .filter(|_| conversion == Conversion::Transcode);
        let what = kind.to_string();
        let new = NewJob {
            source,
            kind,
            owner,
            encoder,
        };
        let id = self.saved.edit().add(new, now())?;
        if let Some(job) = self.get(id).filter(|j| j.kind.makes_tv_version()) {
            shows::show(&self.library, &job);
        }
        tracing::info!("job {id} queued ({what}): {source}");
        self.save().await;
        self.wake(conversion);
        if matches!(conversion, Conversion::Transcode | Conversion::Version) {
            self.offer_news();
        }
        Some(id)
    }

    /// The newest job of `source` that `is` picks.
    fn newest(&self, source: &str, is: impl Fn(&JobKind) -> bool) -> Option<Job> {
        self.saved
            .get()
            .jobs
            .iter()
            .rev()
            .find(|j| j.source == source && is(&j.kind))
            .cloned()
    }

    /// The newest job reading the picture subtitles of `source`.
    pub fn for_subtitles(&self, source: &str) -> Option<Job> {
        self.newest(source, |k| *k == JobKind::Subtitles)
    }

    /// The newest job making `version` of `source`.
    pub fn for_version(&self, source: &str, version: Version) -> Option<Job> {
        self.newest(source, |k| *k == JobKind::Version(version))
    }

    /// The newest job making a TV version of a source.
    pub fn for_source(&self, source: &str) -> Option<Job> {
        self.newest(source, JobKind::makes_tv_version)
    }

    /// Every source that has or had a job.
    pub fn sources(&self) -> std::collections::HashSet<String> {
        let s = self.saved.get();
        s.jobs.iter().map(|j| j.source.clone()).collect()
    }

    pub fn list(&self) -> Vec<Job> {
        let mut jobs = self.saved.get().jobs.clone();
        jobs.reverse();
        jobs
    }

    pub fn get(&self, id: u64) -> Option<Job> {
        self.saved.get().jobs.iter().find(|j| j.id == id).cloned()
    }

    /// Jobs waiting or running.
    pub fn depth(&self) -> usize {
        self.saved
            .get()
            .jobs
            .iter()
            .filter(|j| j.state.is_live())
            .count()
    }

    /// Finished jobs this browser started and has not dismissed.
    pub fn notices_for(&self, owner: &str) -> Vec<Job> {
        self.saved
            .get()
            .jobs
            .iter()
            .filter(|j| j.state == State::Done && !j.dismissed && j.owner.as_deref() == Some(owner))
            .cloned()
            .collect()
    }

    fn update<T>(&self, id: u64, f: impl FnOnce(&mut Job) -> T) -> Option<T> {
        let mut s = self.saved.edit();
        s.jobs.iter_mut().find(|j| j.id == id).map(f)
    }

    /// As `update`, for what is of the moment (progress): written with the
    /// next change of state, not for itself.
    fn update_quietly(&self, id: u64, f: impl FnOnce(&mut Job)) {
        let mut s = self.saved.transient();
        if let Some(j) = s.jobs.iter_mut().find(|j| j.id == id) {
            f(j);
        }
    }

    /// Who a live transcode is for, as decided again now.
    pub async fn set_made_for(&self, id: u64, made_for: String) {
        let changed = self.update(id, |j| {
            let changed = j.state.is_live()
                && matches!(j.kind, JobKind::Transcode { .. })
                && j.kind.made_for() != Some(made_for.as_str());
            if changed {
                j.kind = JobKind::Transcode {
                    made_for: Some(made_for),
                };
            }
            changed
        });
        if changed == Some(true) {
            self.save().await;
        }
    }

    pub async fn dismiss(&self, id: u64, owner: &str) -> Result<()> {
        self.update(id, |j| {
            if j.owner.as_deref() == Some(owner) {
                j.dismissed = true;
            }
        })
        .ok_or(Error::NotFound)?;
        self.save().await;
        Ok(())
    }

    /// Stops a queued or running job; ffmpeg is killed and its temp removed.
    pub async fn cancel(&self, id: u64) -> Result<Job> {
        let job = self
            .saved
            .edit()
            .cancel_queued(id, now())
            .ok_or(Error::NotFound)?;
        match job.state {
            State::Running => {
                if let Some((_, c)) = self.controls.locked().get(&id) {
                    c.cancel();
                }
            }
            State::Cancelled => {
                shows::show(&self.library, &job);
                self.save().await
            }
            _ => {
                return Err(Error::Conflict(format!(
                    "Job {id} has already ended; only queued or running jobs can be cancelled."
                )))
            }
        }
        tracing::info!("job {id} cancelled: {}", job.source);
        Ok(self.get(id).unwrap_or(job))
    }

    /// Drops a job that is still queued (the TVs changed and no longer
    /// need it): it leaves the list, so it never stands in the way of the
    /// job the file needs now. One that started meanwhile finishes.
    pub async fn drop_queued(&self, id: u64, why: &str) {
        let dropped = self.saved.edit().drop_queued(id);
        if let Some(job) = dropped {
            tracing::info!("job {id} dropped ({}): {why}", job.source);
            self.save().await;
        }
    }

    /// Queues a failed or cancelled job again, with fresh attempts.
    pub async fn retry(&self, id: u64) -> Result<Job> {
        let job = self.saved.edit().retry(id)?;
        self.save().await;
        self.wake(job.kind.conversion());
        self.offer_news();
        Ok(job)
    }

    fn set_progress(&self, id: u64, p: crate::media::ffmpeg::Progress) {
        self.update_quietly(id, |j| {
            j.progress = (p.percent * 10.0).round() / 10.0;
            j.speed = p.speed;
            j.eta_secs = p.eta_secs;
        });
    }

    /// How many of a subtitles job's pictures are read, of all.
    fn set_pictures(&self, id: u64, done: usize, all: usize) {
        self.update_quietly(id, |j| {
            j.pictures = Some([done as u64, all as u64]);
            j.progress = if all == 0 {
                0.0
            } else {
                (done as f64 * 1000.0 / all as f64).round() / 10.0
            };
        });
    }

    /// What became of the file, on the job's plan and for its page.
    fn set_note(&self, id: u64, plan_line: String, note: String) {
        self.update(id, |j| {
            j.plan.push(plan_line);
            j.note = Some(note);
        });
    }

    fn set_plan(&self, id: u64, plan: Vec<String>) {
        self.update(id, |j| j.plan = plan);
    }

    fn set_encoder(&self, id: u64, encoder: Encoder) {
        self.update(id, |j| j.encoder = Some(encoder));
    }
}

#[cfg(test)]
pub(crate) mod testing;
