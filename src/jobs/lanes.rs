//! The two lanes and their workers: remuxes (`--workers` of them) and
//! transcodes (`--transcode-workers`), so a long transcode never holds up
//! the quick remux of a new upload. A worker claims its lane's next due
//! job, runs it (`convert.rs`), records how it ended and says so; it waits
//! for a wake-up, the next retry's time or the stop. At the signal no
//! worker claims again and every running ffmpeg is stopped.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::queue::Claim;
use super::{convert, hook, shows, Job, JobKind, Jobs, State};
use crate::fsutil::now;
use crate::media::ffmpeg::Control;
use crate::media::versions::Version;
use crate::media::Conversion;
use crate::sync::Locked;

/// Sleeps for `d`, or forever when there is nothing to wait for.
async fn sleep_for(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

impl Jobs {
    /// Takes the lane's next due queued job, marking it running; or says
    /// when the next one (a retry waiting out its backoff) is due.
    pub(super) fn claim(&self, lane: Conversion) -> Claim {
        if self.shutting_down.load(Ordering::SeqCst) {
            return Claim::Idle;
        }
        if lane == Conversion::Transcode && self.paused().is_some() {
            return Claim::Idle;
        }
        // What the runners take, decided before the queue's lock is taken
        // (it asks the library and the target): no two locks at once.
        let left: std::collections::HashSet<u64> = match lane {
            Conversion::Transcode => {
                let queued: Vec<Job> = self
                    .saved
                    .get()
                    .jobs
                    .iter()
                    .filter(|j| j.kind.conversion().lane() == lane && j.state.is_queued())
                    .cloned()
                    .collect();
                queued
                    .iter()
                    .filter(|j| self.left_to_runners(j))
                    .map(|j| j.id)
                    .collect()
            }
            Conversion::Remux | Conversion::Version | Conversion::Subtitles => Default::default(),
        };
        // Looked at often; written only when a job is claimed.
        let mut saved = self.saved.transient();
        let may_take = |j: &Job| !left.contains(&j.id);
        let mut claim = saved.claim_where(lane, now(), may_take);
        // Subtitles, then versions, wait until no TV version is waiting or
        // being made.
        for after in [Conversion::Subtitles, Conversion::Version] {
            if lane != Conversion::Transcode || saved.tv_pending() || matches!(claim, Claim::Job(_))
            {
                break;
            }
            claim = match (claim, saved.claim_where(after, now(), may_take)) {
                (_, job @ Claim::Job(_)) => job,
                (Claim::WaitSecs(a), Claim::WaitSecs(b)) => Claim::WaitSecs(a.min(b)),
                (Claim::WaitSecs(a), _) | (_, Claim::WaitSecs(a)) => Claim::WaitSecs(a),
                _ => Claim::Idle,
            };
        }
        drop(saved);
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
            jobs.encoder.get(&jobs.tools).await;
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
                _ = self.wake[lane.lane() as usize].notified() => {}
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
        if let JobKind::Version(version) = job.kind {
            return self.run_versions(job, version).await;
        }
        let control = Arc::new(Control::default());
        self.controls
            .locked()
            .insert(job.id, (job.kind.conversion(), control.clone()));
        tracing::info!(
            "job {} running ({}, attempt {}): {}",
            job.id,
            job.kind.name(),
            job.attempts,
            job.source
        );
        let result = match job.kind {
            JobKind::Subtitles => super::subtitles::run(self, &job, control.clone()).await,
            _ => convert::run(self.clone(), &job, control.clone()).await,
        };
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

    /// A version job, with the others of its video that are due.
    async fn run_versions(self: &Arc<Self>, lead: Job, version: Version) {
        tracing::info!("job {} running (versions of {})", lead.id, lead.source);
        let ended = super::version::run(self, (lead, version)).await;
        let shutting_down = self.shutting_down.load(Ordering::SeqCst);
        let finished: Vec<Job> = {
            let mut saved = self.saved.edit();
            ended
                .into_iter()
                .filter_map(|(id, e)| saved.finish(id, e, shutting_down, now()))
                .collect()
        };
        self.save().await;
        for j in &finished {
            self.announce(j);
        }
    }

    /// Says how a job ended: the log, the library (a source without an MP4
    /// stays as it is), the `--on-job-done` hook.
    pub(super) fn announce(&self, j: &Job) {
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
        shows::show(&self.library, j);
        if !j.state.is_live() {
            // The subtitles and versions waiting behind a TV version may
            // go now: on the Pi, or to a runner.
            if j.kind.makes_tv_version() {
                self.wake(Conversion::Transcode);
            }
            self.offer_news();
            if let Some(cmd) = &self.settings.on_job_done {
                hook::run(cmd, j);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::testing;

    /// Waits for `f` to hold, for at most 10 s.
    async fn until(what: &str, f: impl Fn() -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !f() {
            assert!(tokio::time::Instant::now() < deadline, "{what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn a_worker_takes_a_job_records_how_it_ended_and_stops_at_the_signal() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = testing::jobs(dir.path());
        let stop = CancellationToken::new();
        let handles = jobs.start(stop.clone());
        // The file is not there: the run ends at once, failed, with why.
        let id = jobs
            .enqueue("gone.mkv", JobKind::Remux, None)
            .await
            .unwrap();
        until("the job ends", || {
            jobs.get(id).is_some_and(|j| !j.state.is_live())
        })
        .await;
        let j = jobs.get(id).unwrap();
        assert_eq!(j.state, State::Failed);
        assert!(j.error.is_some_and(|e| !e.is_empty()));
        stop.cancel();
        for h in handles {
            tokio::time::timeout(Duration::from_secs(10), h)
                .await
                .expect("every worker and the writer stop")
                .unwrap();
        }
        // What it recorded is on disk.
        let saved = std::fs::read_to_string(dir.path().join("jobs.json")).unwrap();
        assert!(
            saved.contains("gone.mkv") && saved.contains("\"failed\""),
            "{saved}"
        );
    }

    #[tokio::test]
    async fn at_the_signal_no_job_is_claimed_and_running_ffmpeg_is_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = testing::jobs(dir.path());
        let id = jobs
            .enqueue("a.mkv", JobKind::Transcode { made_for: None }, None)
            .await
            .unwrap();
        jobs.enqueue("b.mkv", JobKind::Remux, None).await;
        let control = Arc::new(Control::default());
        jobs.controls
            .locked()
            .insert(id, (Conversion::Transcode, control.clone()));
        jobs.begin_shutdown();
        assert!(control.cancelled.load(Ordering::SeqCst));
        for lane in [Conversion::Remux, Conversion::Transcode] {
            assert!(matches!(jobs.claim(lane), Claim::Idle), "{lane:?}");
        }
        assert_eq!(jobs.get(id).unwrap().state, State::Queued);
    }
}
