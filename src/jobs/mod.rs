//! The conversion queue: persistent jobs in two lanes (remuxes, a pool of
//! `--workers`; transcodes, `--transcode-workers`, so a long transcode
//! never holds up the quick remux of a new upload), retries, progress,
//! cancel and retry, and the pause while the Pi is too hot. The queue's
//! rules are plain data in `queue.rs`; one job's run is `convert.rs`.

mod convert;
mod hook;
mod queue;
mod store;
pub mod thermal;

use crate::fsutil::now;
use crate::sync::Locked;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::library::Library;
use crate::media::ffmpeg::Control;
use crate::media::{Conversion, Encoder, Target, Tools};
pub use queue::MAX_ATTEMPTS;
use queue::{Claim, NewJob};
use store::Saved;
pub use store::{Job, State, Wait};

/// Sleeps for `d`, or forever when there is nothing to wait for.
async fn sleep_for(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

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
}

/// Progress and the like reach `jobs.json` at most this often; a job's
/// change of state is written before the job goes on.
const WRITE_EVERY: Duration = Duration::from_secs(5);

/// The queue's owner: its data (`queue.rs`, kept in `jobs.json`), the
/// lanes' workers, the ffmpeg controls of running jobs, the heat pause and
/// the encoder. Lock order: there is none to keep, because no method holds
/// two of these locks at once (`saved`, `controls`, `paused` are each taken,
/// used and let go; nothing awaits while holding one).
pub struct Jobs {
    /// The queue and its history, `jobs.json` in the state dir.
    saved: Arc<crate::store::Store<Saved>>,
    /// One per lane, so a wake-up reaches a worker that can take the job.
    wake: [Notify; 2],
    controls: Mutex<HashMap<u64, (Conversion, Arc<Control>)>>,
    /// Why transcodes are paused now (the Pi is hot), if they are.
    paused: Mutex<Option<String>>,
    /// The encoder transcodes use, found by trial encodes in the background
    /// after start-up (they take a few hundred ms, which the first page
    /// need not wait for).
    encoder: tokio::sync::OnceCell<Encoder>,
    shutting_down: AtomicBool,
    library: Arc<Library>,
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
        for j in saved.jobs.iter() {
            match j.state {
                State::Done => match &j.output {
                    Some(out) => library.set_remuxed(&j.source, out),
                    None => library.source_stays(&j.source),
                },
                State::Failed | State::NeedsTranscode | State::Cancelled => {
                    library.source_stays(&j.source)
                }
                _ => {}
            }
        }
        drop(saved);
        Arc::new(Jobs {
            saved: Arc::new(store),
            wake: [Notify::new(), Notify::new()],
            controls: Mutex::new(HashMap::new()),
            paused: Mutex::new(None),
            encoder: tokio::sync::OnceCell::new(),
            shutting_down: AtomicBool::new(false),
            library,
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

    fn wake(&self, lane: Conversion) {
        self.wake[lane as usize].notify_one();
    }

    /// The encoder transcodes use, once found (`None` for the moment
    /// after start-up while the trial encodes run).
    pub fn encoder_found(&self) -> Option<Encoder> {
        self.encoder.get().copied()
    }

    /// The encoder transcodes use: `--encoder`, else the first that
    /// encodes a trial frame (found once, off the async workers).
    pub async fn encoder(&self) -> Encoder {
        let s = &self.settings;
        *self
            .encoder
            .get_or_init(|| async {
                if !s.transcode || self.tools.problem().is_some() {
                    return s.forced_encoder.unwrap_or_default();
                }
                let (tools, forced) = (self.tools.clone(), s.forced_encoder);
                crate::fsutil::blocking(move || crate::media::encoder::choose(&tools, forced))
                    .await
                    .unwrap_or_default()
            })
            .await
    }

    /// Queues a conversion of `source` unless it already has a live job.
    /// Returns the job's id. `owner` is the browser to tell when it is
    /// ready; `made_for`, who needs it.
    pub async fn enqueue(
        &self,
        source: &str,
        kind: Conversion,
        owner: Option<String>,
        made_for: Option<String>,
    ) -> Option<u64> {
        // Without ffmpeg nothing can be converted; the log said so at start.
        self.tools.ffmpeg.as_ref()?;
        let encoder = self
            .encoder_found()
            .filter(|_| kind == Conversion::Transcode);
        let new = NewJob {
            source,
            kind,
            owner,
            made_for,
            encoder,
        };
        let id = self.saved.edit().add(new, now())?;
        tracing::info!("job {id} queued ({}): {source}", kind.name());
        self.save().await;
        self.wake(kind);
        Some(id)
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

    /// Why transcodes are paused now, if they are.
    pub fn paused(&self) -> Option<String> {
        self.paused.locked().clone()
    }

    /// Pauses running transcodes and holds back new ones (`Some(why)`), or
    /// lets them go on (`None`). Said again while the reason holds, so a
    /// transcode that started in between is stopped too.
    pub fn set_paused(&self, why: Option<String>) {
        let was = std::mem::replace(&mut *self.paused.locked(), why.clone());
        let transcodes: Vec<(u64, Arc<Control>)> = self
            .controls
            .locked()
            .iter()
            .filter(|(_, (kind, _))| *kind == Conversion::Transcode)
            .map(|(id, (_, c))| (*id, c.clone()))
            .collect();
        for (id, c) in &transcodes {
            c.pause(why.is_some());
            self.update_quietly(*id, |j| j.paused = why.clone());
        }
        match (&was, &why) {
            (None, Some(w)) => tracing::warn!("transcodes paused: {w}"),
            (Some(_), None) => {
                tracing::info!("transcodes go on: the Pi is cool again");
                self.wake(Conversion::Transcode);
            }
            _ => {}
        }
    }

    pub fn get(&self, id: u64) -> Option<Job> {
        self.saved.get().jobs.iter().find(|j| j.id == id).cloned()
    }

    /// The newest job for a source.
    pub fn for_source(&self, source: &str) -> Option<Job> {
        self.saved
            .get()
            .jobs
            .iter()
            .rev()
            .find(|j| j.source == source)
            .cloned()
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

    /// Who a live job is for, as decided again now.
    pub async fn set_made_for(&self, id: u64, made_for: String) {
        let changed = self.update(id, |j| {
            let changed = j.state.is_live() && j.made_for.as_ref() != Some(&made_for);
            if changed {
                j.made_for = Some(made_for);
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
                self.library.source_stays(&job.source);
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

    /// Whether any of these files is being converted right now.
    pub fn running_for(&self, paths: &[String]) -> bool {
        let s = self.saved.get();
        s.jobs.iter().any(|j| {
            j.state == State::Running
                && (paths.contains(&j.source)
                    || j.output.as_ref().is_some_and(|o| paths.contains(o)))
        })
    }

    /// Renamed files keep their jobs (`from` -> `to`, each a file or a
    /// folder ending in `/`).
    pub async fn moved(&self, moves: &[(String, String)]) {
        {
            let mut s = self.saved.edit();
            for j in s.jobs.iter_mut() {
                if let Some(to) = crate::paths::renamed(&j.source, moves) {
                    j.source = to;
                }
                if let Some(to) = j
                    .output
                    .as_deref()
                    .and_then(|o| crate::paths::renamed(o, moves))
                {
                    j.output = Some(to);
                }
            }
        }
        self.save().await;
    }

    /// The jobs of these files, as they are now.
    pub fn snapshot_for(&self, paths: &[String]) -> Vec<Job> {
        let s = self.saved.get();
        s.jobs
            .iter()
            .filter(|j| {
                paths.contains(&j.source) || j.output.as_ref().is_some_and(|o| paths.contains(o))
            })
            .cloned()
            .collect()
    }

    /// Takes out the jobs of these files (they go to the trash; none runs).
    pub async fn take_for(&self, paths: &[String]) -> Vec<Job> {
        let taken = {
            let mut s = self.saved.edit();
            let (taken, kept) = std::mem::take(&mut s.jobs)
                .into_iter()
                .partition(|j: &Job| {
                    paths.contains(&j.source)
                        || j.output.as_ref().is_some_and(|o| paths.contains(o))
                });
            s.jobs = kept;
            taken
        };
        self.save().await;
        taken
    }

    /// Puts jobs back (their files came back from the trash).
    pub async fn put_back(&self, jobs: Vec<Job>) {
        let lanes: Vec<Conversion> = jobs
            .iter()
            .filter(|j| j.state.is_queued())
            .map(|j| j.kind)
            .collect();
        {
            let mut s = self.saved.edit();
            s.jobs.extend(jobs);
            s.jobs.sort_by_key(|j| j.id);
        }
        self.save().await;
        for lane in lanes {
            self.wake(lane);
        }
    }

    /// Queues a failed or cancelled job again, with fresh attempts.
    pub async fn retry(&self, id: u64) -> Result<Job> {
        let job = self.saved.edit().retry(id)?;
        self.save().await;
        self.wake(job.kind);
        Ok(job)
    }

    /// Takes the lane's next due queued job, marking it running; or says
    /// when the next one (a retry waiting out its backoff) is due.
    fn claim(&self, lane: Conversion) -> Claim {
        if self.shutting_down.load(Ordering::SeqCst) {
            return Claim::Idle;
        }
        if lane == Conversion::Transcode && self.paused().is_some() {
            return Claim::Idle;
        }
        // Looked at often; written only when a job is claimed.
        let claim = self.saved.transient().claim(lane, now());
        if matches!(claim, Claim::Job(_)) {
            self.saved.changed();
        }
        claim
    }

    /// Starts both lanes' workers. Each takes one job at a time. Without a
    /// working ffmpeg there are none: queued jobs wait for one rather than
    /// fail (the log and the jobs page say why).
    pub fn start(self: &Arc<Self>, stop: CancellationToken) -> Vec<tokio::task::JoinHandle<()>> {
        let lanes = [
            (Conversion::Remux, self.settings.workers),
            (Conversion::Transcode, self.settings.transcode_workers),
        ];
        let writer = tokio::spawn(self.saved.clone().run(stop.clone()));
        if self.tools.problem().is_some() {
            return vec![writer];
        }
        let jobs = self.clone();
        let find = tokio::spawn(async move {
            jobs.encoder().await;
        });
        lanes
            .into_iter()
            .flat_map(|(lane, n)| std::iter::repeat_n(lane, n))
            .map(|lane| {
                let jobs = self.clone();
                let stop = stop.clone();
                tokio::spawn(async move { jobs.worker(lane, stop).await })
            })
            .chain([find, writer])
            .collect()
    }

    async fn worker(self: Arc<Self>, lane: Conversion, stop: CancellationToken) {
        loop {
            if stop.is_cancelled() {
                break;
            }
            // A wake-up sent while no worker waits is kept (notify_one), so
            // none is lost between the claim and the wait.
            let wait = match self.claim(lane) {
                Claim::Job(job) => {
                    self.save().await;
                    self.run(*job).await;
                    continue;
                }
                Claim::WaitSecs(secs) => Some(Duration::from_secs(secs)),
                Claim::Idle => None,
            };
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = self.wake[lane as usize].notified() => {}
                _ = sleep_for(wait) => {}
            }
        }
    }

    /// On SIGTERM: take no more jobs, stop every ffmpeg; the interrupted
    /// jobs are queued again and run at the next start.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        for (_, c) in self.controls.locked().values() {
            c.cancel();
        }
    }

    /// Saves the queue; called once the workers have stopped.
    pub async fn finish_shutdown(&self) {
        self.save().await;
    }

    async fn run(self: &Arc<Self>, job: Job) {
        let control = Arc::new(Control::default());
        self.controls
            .locked()
            .insert(job.id, (job.kind, control.clone()));
        tracing::info!(
            "job {} running ({}, attempt {}): {}",
            job.id,
            job.kind.name(),
            job.attempts,
            job.source
        );
        let result = convert::run(self.clone(), &job, control.clone()).await;
        self.controls.locked().remove(&job.id);
        let shutting_down = self.shutting_down.load(Ordering::SeqCst);
        let finished = self
            .saved
            .edit()
            .finish(job.id, result, shutting_down, now());
        self.save().await;
        if let Some(j) = finished {
            self.announce(&j);
        }
    }

    /// Says how a job ended: the log, the library (a source without an MP4
    /// stays as it is), the `--on-job-done` hook.
    fn announce(&self, j: &Job) {
        match j.state {
            State::Done => tracing::info!(
                "job {} done: {} -> {}",
                j.id,
                j.source,
                j.output.as_deref().unwrap_or("")
            ),
            State::Failed | State::NeedsTranscode => tracing::warn!(
                "job {} failed: {}: {}",
                j.id,
                j.source,
                j.error.as_deref().unwrap_or("")
            ),
            _ => {}
        }
        if j.state.is_failed() || j.state == State::Cancelled {
            self.library.source_stays(&j.source);
        }
        if !j.state.is_live() {
            if let Some(cmd) = &self.settings.on_job_done {
                hook::run(cmd, j);
            }
        }
    }

    fn set_progress(&self, id: u64, p: crate::media::ffmpeg::Progress) {
        self.update_quietly(id, |j| {
            j.progress = (p.percent * 10.0).round() / 10.0;
            j.speed = p.speed;
            j.eta_secs = p.eta_secs;
        });
    }

    fn set_plan(&self, id: u64, plan: Vec<String>) {
        self.update(id, |j| j.plan = plan);
    }

    fn set_encoder(&self, id: u64, encoder: Encoder) {
        self.update(id, |j| j.encoder = Some(encoder));
    }
}
